#!/usr/bin/env bash
# dev.sh — the README's two commands.
#
#   bash scripts/dev.sh quickstart   set everything up, then execute notebooks/quickstart.ipynb
#                                    against the engine (headless) into notebooks/quickstart.executed.ipynb
#                                    and its HTML export
#   bash scripts/dev.sh test         set everything up, then run the whole test suite
#                                    (engine, registries, browser tests included)
#
# "Set everything up": Debian packages when missing (root), a virtualenv in .venv with nbdocker and
# its test extras, a Docker engine (reused when one answers; else installed and started without a
# bridge network), the local base image busybox:latest and two registries on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${NBDOCKER_VENV:-$ROOT/.venv}
PY=$VENV/bin/python

log() { printf 'dev: %s\n' "$*" >&2; }

need_debs() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 ]]; then log "please install: ${missing[*]}"; return 1; fi
  log "installing ${missing[*]}"
  quiet_apt update -q
  quiet_apt install -y -q --no-install-recommends "${missing[@]}"
}

# apt-get with its debconf and needrestart chatter kept in a log, shown only when it fails.
quiet_apt() {
  local out
  out=$(mktemp)
  if ! DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a NEEDRESTART_SUSPEND=1 apt-get "$@" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
}

setup_python() {
  if [[ ! -x $PY ]]; then
    python3 -m venv "$VENV" 2>/dev/null || { need_debs python3-venv; python3 -m venv "$VENV"; }
  fi
  if ! "$PY" -c 'import nbdocker, nbclient, pytest' 2>/dev/null || [[ pyproject.toml -nt $VENV/.nbdocker-installed ]]; then
    log "installing nbdocker and its test extras into $VENV"
    "$PY" -m pip install -q -U pip 2>&1 | grep -v -i "location\|warning" || true
    "$PY" -m pip install -q -e ".[test]" 2>&1 | grep -v -i "location\|warning" || true
    "$PY" -c 'import nbdocker, nbclient, pytest' && touch "$VENV/.nbdocker-installed"
  fi
}

setup_engine() {
  need_debs curl ca-certificates || true
  bash scripts/engine.sh up
  bash scripts/engine.sh registry
}

setup_browser() {
  need_debs chromium fonts-dejavu-core
}

setup_peers() {
  # Peers and other engines the tests use: skopeo (OCI archives), podman (a second engine kind),
  # openssh-server (ssh:// engines), openssl (TLS certificates).
  need_debs skopeo podman crun uidmap fuse-overlayfs openssh-server openssh-client openssl
}

cmd=${1:-}
case $cmd in
  quickstart)
    setup_python
    setup_engine
    log "executing notebooks/quickstart.ipynb"
    "$PY" -m nbdocker.notebooks notebooks/quickstart.ipynb notebooks/quickstart.executed.ipynb
    log "wrote notebooks/quickstart.executed.ipynb and notebooks/quickstart.executed.html"
    ;;
  test)
    setup_python
    setup_engine
    setup_browser
    setup_peers
    shift
    NBDOCKER_REQUIRE_ENGINE=1 NBDOCKER_REQUIRE_BROWSER=1 NBDOCKER_CHECK_CLEAN=1 "$PY" -m pytest -q -p no:cacheprovider "$@"
    ;;
  *)
    echo "usage: bash scripts/dev.sh quickstart|test [pytest args]" >&2
    exit 2
    ;;
esac
