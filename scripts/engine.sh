#!/usr/bin/env bash
# engine.sh — a real Docker engine (and registries) for nbdocker's tests and demos.
#
#   scripts/engine.sh up        reuse an engine that answers, else install and start one (root, Debian);
#                               make the local base image busybox:latest if it is missing
#   scripts/engine.sh registry  start two registries on 127.0.0.1: :5000 open, :5001 with htpasswd
#   scripts/engine.sh down      stop only what this script started (dockerd, registries)
#   scripts/engine.sh status    say what answers
#   scripts/engine.sh podman    Podman's Docker-compatible service on its own socket (prints its URL)
#   scripts/engine.sh tls       a second dockerd on tcp://127.0.0.1:23760 with --tlsverify (prints URL, cert dir)
#   scripts/engine.sh ssh       an sshd on 127.0.0.1:22220 reaching this engine as root (prints URL, state dir)
#   scripts/engine.sh X-down    stop one of those three (`down` stops them all)
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
  local out
  out=$(mktemp)
  # debconf's and needrestart's chatter goes to a log, shown only when apt fails
  if [[ ! -f $STATE/apt-updated ]]; then
    apt-get update -q >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; return 1; }
    touch "$STATE/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a NEEDRESTART_SUSPEND=1 \
    apt-get install -y -q "${missing[@]}" >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; return 1; }
  rm -f "$out"
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
  cmd_podman_down
  cmd_tls_down
  cmd_ssh_down
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

# ------------------------------------------------------------------ other engines (issue 10)
# Each leg lives in a state dir of its own and listens on 127.0.0.1 only; `X-down` stops it and
# `down` stops all of them. All are idempotent: a leg that answers is reused.
PODMAN_DIR=$STATE/podman
TLS_DIR=$STATE/tls
TLS_PORT=${NBDOCKER_TLS_PORT:-23760}
SSH_DIR=$STATE/ssh
SSH_PORT=${NBDOCKER_SSH_PORT:-22220}

podman_env() {
  export CONTAINERS_CONF=$PODMAN_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$PODMAN_DIR/registries.conf
  export BUILDAH_ISOLATION=chroot  # no user namespaces or nested isolation inside this container
}

podman_answers() { curl -fsS -o /dev/null --max-time 2 --unix-socket "$PODMAN_DIR/podman.sock" http://d/_ping 2>/dev/null; }

cmd_podman() {
  apt_install podman runc uidmap curl busybox-static
  mkdir -p "$PODMAN_DIR/run" "$PODMAN_DIR/graph" "$PODMAN_DIR/tmp"
  # The recipe of shared/DESIGN.md ("Podman"): this machine is itself a container (cgroup v1
  # hybrid, no CAP_SYS_RESOURCE), so host namespaces, cgroupfs, runc (crun refuses hybrid
  # cgroups), vfs storage and limits no higher than the ones we have.
  cat >"$PODMAN_DIR/containers.conf" <<CONF
[containers]
netns="host"
userns="host"
ipcns="host"
utsns="host"
cgroupns="host"
cgroups="enabled"
log_driver="k8s-file"
default_ulimits=["nofile=1024:1024","nproc=1000:1000"]
[engine]
cgroup_manager="cgroupfs"
events_logger="file"
runtime="runc"
tmp_dir="$PODMAN_DIR/tmp"
CONF
  cat >"$PODMAN_DIR/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$PODMAN_DIR/run"
graphroot = "$PODMAN_DIR/graph"
CONF
  # Like dockerd, which trusts plain HTTP on 127.0.0.0/8: our registries speak HTTP. No search
  # registries: nothing can be pulled here, and a short name must resolve locally or fail at once.
  cat >"$PODMAN_DIR/registries.conf" <<CONF
unqualified-search-registries = []
[[registry]]
location = "127.0.0.1:$REGISTRY_PORT"
insecure = true
[[registry]]
location = "127.0.0.1:$AUTH_REGISTRY_PORT"
insecure = true
CONF
  podman_env
  if ! podman_answers; then
    log "starting podman system service on unix://$PODMAN_DIR/podman.sock"
    rm -f "$PODMAN_DIR/podman.sock"
    nohup podman system service --time=0 "unix://$PODMAN_DIR/podman.sock" >"$PODMAN_DIR/log" 2>&1 &
    echo $! >"$PODMAN_DIR/pid"
    for _ in $(seq 1 80); do podman_answers && break; sleep 0.25; done
    podman_answers || { log "podman did not answer:"; tail -20 "$PODMAN_DIR/log" >&2; exit 1; }
  fi
  if ! podman image exists docker.io/library/busybox:latest; then
    log "making busybox:latest in podman"
    local tarball; tarball=$(busybox_tar)
    # The name Docker would give it, so `FROM busybox` resolves locally with no registry search.
    podman import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["sh"]' "$tarball" docker.io/library/busybox:latest >/dev/null 2>"$PODMAN_DIR/import.log"
    rm -f "$tarball"
  fi
  echo "unix://$PODMAN_DIR/podman.sock"
}

busybox_tar() {  # prints the path of a tar of a busybox root (relative applet links)
  local dir tarball; dir=$(mktemp -d); tarball=$(mktemp --suffix=.tar)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/root"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $(/bin/busybox --list); do [[ $applet == busybox ]] || ln -sf busybox "$dir/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  tar -C "$dir" -cf "$tarball" .
  rm -rf "$dir"
  echo "$tarball"
}

cmd_podman_down() {
  [[ -f $PODMAN_DIR/pid ]] && log "stopping podman system service"
  stop_pidfile "$PODMAN_DIR/pid"
  rm -f "$PODMAN_DIR/podman.sock"
}

make_tls_certs() {  # CA, server cert for 127.0.0.1/localhost, client cert: as docs.docker.com, plus CA keyUsage
  local c=$TLS_DIR/certs
  [[ -f $c/key.pem && -f $c/cert.pem && -f $c/server-cert.pem ]] && return 0
  apt_install openssl
  mkdir -p "$c"; (
    cd "$c"
    # Python >= 3.13 (VERIFY_X509_STRICT) refuses a CA without keyUsage: shared/DESIGN.md.
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 30 \
        -subj "/CN=nbdocker test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
        -out server-cert.pem -extfile server.ext 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -keyout key.pem -out client.csr -subj "/CN=nbdocker-client" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
        -out cert.pem -extfile client.ext 2>/dev/null
    rm -f server.csr client.csr server.ext client.ext
    chmod 600 ./*key.pem
  )
}

tls_docker() { DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$TLS_DIR/certs docker "$@"; }
tls_answers() {
  DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$TLS_DIR/certs \
      timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

cmd_tls() {
  apt_install docker.io
  make_tls_certs
  if ! tls_answers; then
    [[ $(id -u) == 0 ]] || { log "need root to start a second dockerd"; exit 1; }
    log "starting a TLS dockerd on tcp://127.0.0.1:$TLS_PORT"
    mkdir -p "$TLS_DIR/data" "$TLS_DIR/exec"
    local c=$TLS_DIR/certs
    # Its own roots and pidfile (never the system engine's), loopback only, no bridge, no iptables.
    nohup dockerd -H "tcp://127.0.0.1:$TLS_PORT" --tlsverify --tlscacert "$c/ca.pem" \
        --tlscert "$c/server-cert.pem" --tlskey "$c/server-key.pem" \
        --data-root "$TLS_DIR/data" --exec-root "$TLS_DIR/exec" --pidfile "$TLS_DIR/dockerd.pid" \
        --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
        >"$TLS_DIR/dockerd.log" 2>&1 &
    for _ in $(seq 1 120); do tls_answers && break; sleep 0.5; done
    tls_answers || { log "the TLS dockerd did not answer:"; tail -20 "$TLS_DIR/dockerd.log" >&2; exit 1; }
  fi
  if ! tls_docker image inspect busybox:latest >/dev/null 2>&1; then
    log "loading busybox:latest into the TLS engine"
    docker save busybox:latest | tls_docker load >/dev/null
  fi
  echo "tcp://127.0.0.1:$TLS_PORT $TLS_DIR/certs"
}

cmd_tls_down() {
  [[ -f $TLS_DIR/dockerd.pid ]] && log "stopping the TLS dockerd"
  stop_pidfile "$TLS_DIR/dockerd.pid"
}

ssh_answers() { timeout 5 ssh -F "$SSH_DIR/ssh_config" -o BatchMode=yes "root@127.0.0.1" true >/dev/null 2>&1; }

cmd_ssh() {
  apt_install openssh-server openssh-client docker.io
  mkdir -p "$SSH_DIR" /run/sshd
  [[ -f $SSH_DIR/host_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_key"
  [[ -f $SSH_DIR/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C nbdocker-test -f "$SSH_DIR/id_ed25519"
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
  chmod 600 "$SSH_DIR/authorized_keys"
  cat >"$SSH_DIR/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_DIR/host_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")" >"$SSH_DIR/known_hosts"
  # What a user's ~/.ssh/config would say; the tests point HOME at a copy (paramiko reads ~/.ssh).
  cat >"$SSH_DIR/ssh_config" <<CONF
Host 127.0.0.1
  Port $SSH_PORT
  IdentityFile $SSH_DIR/id_ed25519
  UserKnownHostsFile $SSH_DIR/known_hosts
  StrictHostKeyChecking yes
CONF
  if ! ssh_answers; then
    log "starting sshd on 127.0.0.1:$SSH_PORT (key login for root only)"
    /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log"
    for _ in $(seq 1 40); do ssh_answers && break; sleep 0.25; done
    ssh_answers || { log "sshd did not answer:"; tail -20 "$SSH_DIR/sshd.log" >&2; exit 1; }
  fi
  echo "ssh://root@127.0.0.1:$SSH_PORT $SSH_DIR"
}

cmd_ssh_down() {
  [[ -f $SSH_DIR/sshd.pid ]] && log "stopping sshd on 127.0.0.1:$SSH_PORT"
  stop_pidfile "$SSH_DIR/sshd.pid"
}

case ${1:-up} in
  up) cmd_up ;;
  registry) cmd_registry ;;
  down) cmd_down ;;
  status) cmd_status ;;
  podman) cmd_podman ;;
  podman-down) cmd_podman_down ;;
  tls) cmd_tls ;;
  tls-down) cmd_tls_down ;;
  ssh) cmd_ssh ;;
  ssh-down) cmd_ssh_down ;;
  *) echo "usage: $0 up|registry|down|status|podman|podman-down|tls|tls-down|ssh|ssh-down" >&2; exit 2 ;;
esac
