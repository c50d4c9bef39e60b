#!/usr/bin/env bash
# Installs the system packages the tests use when they are missing (Debian; needs root).
# redis-server: the tests' own Redis (also as Sentinel and Cluster, with redis-cli); openssl: a CA for the
# TLS test; nftables/ipset/iproute2: the guard's firewall tests in a network namespace; chromium: the
# console's real-browser test (Playwright drives Debian's build); podman & co: the compose stack in
# containers. Without root, missing ones are reported and their tests skip.
set -u
want=()
command -v redis-server >/dev/null || want+=(redis-server)
if [ "${1:-}" = "test" ]; then
  command -v nft >/dev/null || want+=(nftables)
  command -v ipset >/dev/null || want+=(ipset)
  command -v ip >/dev/null || want+=(iproute2)
  command -v iptables >/dev/null || want+=(iptables)
  command -v openssl >/dev/null || want+=(openssl)
  command -v chromium >/dev/null || want+=(chromium)
  # The compose stack in containers (tests/deploy/test_compose_stack_runs.py, scripts/podman-stack.sh):
  # rootful Podman with runc, netavark + aardvark-dns (container names in DNS), catatonit (`init: true`),
  # debootstrap for the local Debian base image.
  command -v podman >/dev/null || want+=(podman)
  command -v runc >/dev/null || want+=(runc)
  [ -x /usr/lib/podman/netavark ] || want+=(netavark)
  [ -x /usr/lib/podman/aardvark-dns ] || want+=(aardvark-dns)
  command -v catatonit >/dev/null || want+=(catatonit)
  command -v debootstrap >/dev/null || want+=(debootstrap)
fi
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${want[*]} (not root or no apt-get): their tests will skip" >&2
  exit 0
fi
echo "system-deps: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null \
  || echo "system-deps: could not install ${want[*]}: their tests will skip" >&2
exit 0
