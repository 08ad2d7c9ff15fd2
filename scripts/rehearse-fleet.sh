#!/usr/bin/env bash
# The fleet rehearsal: a day in the life of the staging fleet behind a load balancer, under load (first
# deploy by the runbook, scale out, a rolling deploy, a secret rotation, scale-in, an instance killed, Redis
# and PostgreSQL restarted, log rotation). Built on the boot rehearsal's namespaces, rootfs and services;
# rehearsals/instances/fleet.js does the rest. Needs root, systemd-nspawn, haproxy and vegeta
# (scripts/setup-tools.sh). Usage: rehearse-fleet.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
rootfs="$(cat "$PLATFORM_TOOLS_DIR/rehearsal-rootfs/current" 2>/dev/null || true)"
if [ "$(id -u)" -eq 0 ] && command -v systemd-nspawn >/dev/null && [ -x "$rootfs/lib/systemd/systemd" ]; then
  command -v haproxy >/dev/null || { echo "rehearse-fleet: no haproxy; run scripts/setup-tools.sh" >&2; exit 1; }
  command -v vegeta >/dev/null || { echo "rehearse-fleet: no vegeta in $PLATFORM_TOOLS_BIN; run scripts/setup-tools.sh" >&2; exit 1; }
  start=$SECONDS
  mkdir -p "$PLATFORM_TOOLS_DIR/rehearsal-layers"
  REHEARSAL_PACKAGES_LAYER="$(flock "$PLATFORM_TOOLS_DIR/rehearsal-layers/.lock" bash "$ROOT/rehearsals/instances/packages-layer.sh" "$rootfs" "$PLATFORM_TOOLS_DIR/rehearsal-layers")"
  export REHEARSAL_PACKAGES_LAYER
  echo "rehearse-fleet: packages layer $REHEARSAL_PACKAGES_LAYER ($((SECONDS - start)) s)"
fi
REHEARSAL_NAME=rehearse-fleet REHEARSAL_DRIVER=fleet.js REHEARSAL_INSTANCES=0 exec bash "$ROOT/scripts/rehearse-boot.sh" "$@"
