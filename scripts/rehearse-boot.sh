#!/usr/bin/env bash
# The boot rehearsal: app instances boot from the dev launch template's user data on a clean Debian system
# under real systemd (systemd-nspawn --boot), each in its own network namespace bridged to a services
# namespace that holds instance metadata, the AWS API emulator, a git server, PostgreSQL and Redis.
# This script builds the namespaces and tears them down on every exit path; rehearsals/instances/boot.js runs
# inside the services namespace and does the rest. Needs root, systemd-nspawn and the cached rootfs
# (scripts/setup-tools.sh). Usage: rehearse-boot.sh [scenario...]  (default: all)
# The fleet rehearsal (scripts/rehearse-fleet.sh) runs through here with REHEARSAL_DRIVER=fleet.js: its
# instances' namespaces are made as it launches them, named like these, and removed here all the same.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"

name="${REHEARSAL_NAME:-rehearse-boot}"
driver="${REHEARSAL_DRIVER:-boot.js}"
die() { echo "$name: $*" >&2; exit 1; }
# REHEARSAL_SKIP_UNAVAILABLE=1 (npm test): a machine that cannot run containers skips, and says so loudly.
cannot() {
  if [ "${REHEARSAL_SKIP_UNAVAILABLE:-0}" = 1 ]; then
    printf '\n!!!!!!!!!!\n!!! %s: SKIPPED, this machine cannot run it: %s\n!!!!!!!!!!\n\n' "$name" "$*" >&2
    exit 0
  fi
  die "$*"
}
[ "$(id -u)" -eq 0 ] || cannot "needs root (network namespaces, overlay mounts, systemd-nspawn)"
command -v systemd-nspawn >/dev/null || cannot "no systemd-nspawn (Debian's systemd-container; scripts/setup-tools.sh installs it)"
rootfs="$(cat "$PLATFORM_TOOLS_DIR/rehearsal-rootfs/current" 2>/dev/null || true)"
if [ -z "$rootfs" ] || [ ! -x "$rootfs/lib/systemd/systemd" ]; then die "no rehearsal rootfs in $PLATFORM_TOOLS_DIR/rehearsal-rootfs; run scripts/setup-tools.sh"; fi
moto="${REHEARSAL_MOTO_SERVER:-$MOTO_VENV/bin/moto_server}"
[ -x "$moto" ] || die "no moto_server at $moto; run scripts/setup-tools.sh"

instances="${REHEARSAL_INSTANCES:-2}"
tag="wbr$$"
svc="$tag-svc"
cleanup() {
  local ns
  for ns in $(ip netns list | awk -v p="$tag-" 'index($1, p) == 1 { print $1 }'); do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$svc"
ip -n "$svc" link set lo up
# A fixed address: a bridge otherwise takes the lowest of its ports' addresses, so a port added later (the
# fleet rehearsal launches instances as it goes) would change it under the other instances' ARP caches.
ip -n "$svc" link add br0 address 02:00:0a:63:00:01 type bridge
ip -n "$svc" link set br0 up
ip -n "$svc" addr add 10.99.0.1/16 dev br0
for a in 10 11 12 20 21 30; do ip -n "$svc" addr add "10.99.0.$a/16" dev br0; done
ip -n "$svc" addr add 169.254.169.254/32 dev br0
for ((i = 1; i <= instances; i++)); do
  ns="$tag-i$i"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$svc" link add "i$i" type veth peer name eth0 netns "$ns"
  ip -n "$svc" link set "i$i" master br0 up
  ip -n "$ns" addr add "10.99.1.$i/16" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add 169.254.169.254/32 dev eth0
done

export REHEARSAL_ROOTFS="$rootfs" REHEARSAL_NETNS_PREFIX="$tag" REHEARSAL_INSTANCES="$instances"
# nsenter, not `ip netns exec`: that also remounts /sys, hiding the cgroup hierarchies systemd-nspawn needs.
nsenter --net="/run/netns/$svc" node "$ROOT/rehearsals/instances/$driver" "$@"
