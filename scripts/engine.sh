#!/usr/bin/env bash
# engine.sh — a real Docker engine (and registries) for nbdocker's tests and demos.
#
#   scripts/engine.sh up        reuse an engine that answers, else install and start one (root, Debian);
#                               make the local base image busybox:latest if it is missing
#   scripts/engine.sh registry  start two registries on 127.0.0.1: :5000 open, :5001 with htpasswd
#   scripts/engine.sh down      stop only what this script started (dockerd, registries)
#   scripts/engine.sh status    say what answers
#
# dockerd always runs without its default bridge and without touching iptables: containers get no
# network, and nothing is routed to private address ranges (see shared/DESIGN.md).
set -euo pipefail

STATE=${NBDOCKER_ENGINE_STATE:-/run/nbdocker-engine}
REGISTRY_PORT=${NBDOCKER_REGISTRY_PORT:-5000}
AUTH_REGISTRY_PORT=${NBDOCKER_AUTH_REGISTRY_PORT:-5001}
AUTH_USER=${NBDOCKER_REGISTRY_USER:-nbdocker}
AUTH_PASSWORD=${NBDOCKER_REGISTRY_PASSWORD:-nbdocker-test-password}
mkdir -p "$STATE"

log() { printf 'engine: %s\n' "$*" >&2; }

engine_answers() { timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) == 0 ]] || { log "need root to install: ${missing[*]}"; exit 1; }
  log "installing ${missing[*]}"
  if [[ ! -f $STATE/apt-updated ]]; then apt-get update -q >/dev/null; touch "$STATE/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

start_dockerd() {
  [[ $(id -u) == 0 ]] || { log "no engine answers and I am not root: start one or set DOCKER_HOST"; exit 1; }
  apt_install docker.io
  log "starting dockerd (no bridge, no iptables)"
  # Our own pidfile, so `down` stops exactly this dockerd and never a system one.
  nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
      --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 &
  echo started >"$STATE/dockerd.ours"
  for _ in $(seq 1 60); do
    engine_answers && { log "dockerd answers"; return 0; }
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; its log:"; tail -20 "$STATE/dockerd.log" >&2; exit 1
}

make_busybox() {
  local name=${1:-busybox:latest}
  docker image inspect "$name" >/dev/null 2>&1 && return 0
  apt_install busybox-static
  log "making $name from busybox-static"
  local dir; dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/root"
  cp /bin/busybox "$dir/bin/busybox"
  # Relative links: `busybox --install -s` makes absolute ones, which point outside an image.
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  tar -C "$dir" -c . | docker import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c 'CMD ["sh"]' - "$name" >/dev/null
  rm -rf "$dir"
}

registry_answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/v2/" 2>/dev/null || \
                     [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/v2/") == 401 ]]; }

start_registry() {  # port, name, [htpasswd file]
  local port=$1 name=$2 htpasswd=${3:-}
  registry_answers "$port" && { log "registry on 127.0.0.1:$port answers"; return 0; }
  apt_install docker-registry curl
  local dir=$STATE/$name; mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    [[ -n $htpasswd ]] && echo "auth: {htpasswd: {realm: nbdocker-test, path: $htpasswd}}"
  } >"$dir/config.yml"
  nohup docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 40); do registry_answers "$port" && { log "registry on 127.0.0.1:$port started"; return 0; }; sleep 0.25; done
  log "registry on :$port did not start:"; tail -5 "$dir/log" >&2; exit 1
}

cmd_up() {
  if engine_answers; then
    log "reusing the engine that answers ($(docker version --format '{{.Server.Version}}'))"
  else
    if [[ -n ${DOCKER_HOST:-} ]]; then log "DOCKER_HOST=$DOCKER_HOST does not answer"; exit 1; fi
    start_dockerd
  fi
  make_busybox busybox:latest
}

cmd_registry() {
  apt_install apache2-utils
  start_registry "$REGISTRY_PORT" registry
  local pw=$STATE/htpasswd
  htpasswd -Bbc "$pw" "$AUTH_USER" "$AUTH_PASSWORD" >/dev/null 2>&1
  start_registry "$AUTH_REGISTRY_PORT" registry-auth "$pw"
}

stop_pidfile() {
  local file=$1
  [[ -f $file ]] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cmd_down() {
  stop_pidfile "$STATE/registry/pid"
  stop_pidfile "$STATE/registry-auth/pid"
  if [[ -f $STATE/dockerd.ours ]]; then
    log "stopping the dockerd this script started"
    stop_pidfile "$STATE/dockerd.pid"
    rm -f "$STATE/dockerd.ours"
  fi
}

cmd_status() {
  engine_answers && echo "engine: $(docker version --format '{{.Server.Version}}')" || echo "engine: not answering"
  for p in "$REGISTRY_PORT" "$AUTH_REGISTRY_PORT"; do
    registry_answers "$p" && echo "registry 127.0.0.1:$p: answers" || echo "registry 127.0.0.1:$p: not answering"
  done
}

case ${1:-up} in
  up) cmd_up ;;
  registry) cmd_registry ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|registry|down|status" >&2; exit 2 ;;
esac
