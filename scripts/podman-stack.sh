#!/usr/bin/env bash
# The compose stack with Podman on a machine without a Docker engine or a registry (Debian, root):
# compose/compose.yaml + compose/compose.test.yaml (the AMI and Odoo peers in place of Asterisk and Odoo),
# images built from a local Debian base. tests/deploy/test_compose_stack_runs.py drives it; by hand:
#
#   scripts/podman-stack.sh base                 # localhost/debian:bookworm-min (debootstrap, cached)
#   scripts/podman-stack.sh build                # the agent image and Redis, from that base
#   scripts/podman-stack.sh compose up -d        # then: compose ps, compose logs odoo_bridge, compose down -v
#   scripts/podman-stack.sh podman healthcheck run <container>
#
# Podman's settings live here, not on the machine: this machine kind's crun cannot set rlimits and refuses
# the hybrid cgroup layout, so runc, no default ulimits and cgroupfs (CONTAINERS_CONF); netavark, whose
# DNS resolves container names. Variables: COMPOSE_PROJECT_NAME (default pbx-agent-test), AGENT_IMAGE,
# REDIS_IMAGE, REDIS_HOST_PORT, CONSOLE_PORT, ASTERISK_CONF_DIR, RECORDINGS_DIR, PEER_RECORD_DIR
# (compose.test.yaml).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PATH="$ROOT/.venv/bin:$PATH"  # podman-compose (dev extras)
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-pbx-agent-test}"
CACHE="${PBX_PODMAN_CACHE:-/var/tmp/pbx-agent-podman}"
BASE_IMAGE=localhost/debian:bookworm-min
export BASE_IMAGE

mkdir -p "$CACHE"
export CONTAINERS_CONF="$CACHE/containers.conf"
cat >"$CONTAINERS_CONF.$$" <<'EOF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
[network]
network_backend = "netavark"
EOF
mv -f "$CONTAINERS_CONF.$$" "$CONTAINERS_CONF"

base() {
  podman image exists "$BASE_IMAGE" && return 0
  # One debootstrap per machine, kept as a tarball: later imports take seconds.
  exec 9>"$CACHE/base.lock"
  flock 9
  podman image exists "$BASE_IMAGE" && return 0
  tarball="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    rootfs="$CACHE/rootfs.$$"
    trap 'rm -rf "${rootfs:-}" "${tarball:-}.$$"' EXIT
    echo "podman-stack: debootstrap --variant=minbase bookworm (once per machine)" >&2
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log"
    cat >"$rootfs/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    # This machine's CA bundle for pip inside the builds (a TLS-inspecting proxy has its own CA in it).
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
      mkdir -p "$rootfs/etc/ssl"
      cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/host-ca-certificates.crt"
      printf '[global]\ncert = /etc/ssl/host-ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.$$" . && mv -f "$tarball.$$" "$tarball"
  fi
  podman import --quiet "$tarball" "$BASE_IMAGE" >/dev/null
}

compose_() {
  cd "$ROOT/compose"
  # --in-pod false: one network namespace per container, as Docker Compose does (the guard is on the host's).
  # --env-file: compose's own variables from .env.example, never a .env of someone's real deployment.
  # --format docker: OCI images have no HEALTHCHECK.
  podman-compose --in-pod false --podman-build-args="--network host --format docker" \
    --env-file .env.example -f compose.yaml -f compose.test.yaml "$@"
}

case "${1:-}" in
  base) base ;;
  build)
    base
    images=("${AGENT_IMAGE:-pbx-agent:latest}" "${REDIS_IMAGE:-localhost/pbx-agent-redis:test}")
    before=$(for i in "${images[@]}"; do podman image inspect --format '{{.Id}}' "$i" 2>/dev/null || true; done)
    # One service each: every agent service shares the agent image (compose would build it five times).
    compose_ build redis
    compose_ build ami_gateway
    # What these tags named before a change of the source is dead weight now (unless a container uses it).
    after=$(for i in "${images[@]}"; do podman image inspect --format '{{.Id}}' "$i" 2>/dev/null || true; done)
    for id in $before; do
      grep -qx "$id" <<<"$after" || podman rmi "$id" >/dev/null 2>&1 || true
    done
    ;;
  compose) shift; compose_ "$@" ;;
  podman) shift; podman "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
