#!/usr/bin/env bash
# The migration rehearsal: docs/runbooks.md 10 run as written, moving a running app from an old single server
# (a container running the sample app with nginx, its own PostgreSQL and Redis, uploads on disk, a crontab) into
# the staging environment under load, and back once. Built on the fleet rehearsal's parts (instances under
# systemd, HAProxy as the load balancer, the Auto Scaling group driver, vegeta); rehearsals/instances/migration.js
# does the rest. Needs root, systemd-nspawn, haproxy and vegeta (scripts/setup-tools.sh). Usage: rehearse-migration.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
rootfs="$(cat "$PLATFORM_TOOLS_DIR/rehearsal-rootfs/current" 2>/dev/null || true)"
if [ "$(id -u)" -eq 0 ] && command -v systemd-nspawn >/dev/null && [ -x "$rootfs/lib/systemd/systemd" ]; then
  command -v haproxy >/dev/null || { echo "rehearse-migration: no haproxy; run scripts/setup-tools.sh" >&2; exit 1; }
  command -v vegeta >/dev/null || { echo "rehearse-migration: no vegeta in $PLATFORM_TOOLS_BIN; run scripts/setup-tools.sh" >&2; exit 1; }
  start=$SECONDS
  layers="$PLATFORM_TOOLS_DIR/rehearsal-layers"
  mkdir -p "$layers"
  REHEARSAL_PACKAGES_LAYER="$(flock "$layers/.lock" bash "$ROOT/rehearsals/instances/packages-layer.sh" "$rootfs" "$layers")"
  REHEARSAL_OLD_SERVER_LAYER="$(flock "$layers/.lock" bash "$ROOT/rehearsals/instances/old-server-layer.sh" "$rootfs" "$layers")"
  export REHEARSAL_PACKAGES_LAYER REHEARSAL_OLD_SERVER_LAYER
  echo "rehearse-migration: packages layer $REHEARSAL_PACKAGES_LAYER, old server layer $REHEARSAL_OLD_SERVER_LAYER ($((SECONDS - start)) s)"
fi
REHEARSAL_NAME=rehearse-migration REHEARSAL_DRIVER=migration.js REHEARSAL_INSTANCES=0 exec bash "$ROOT/scripts/rehearse-boot.sh" "$@"
