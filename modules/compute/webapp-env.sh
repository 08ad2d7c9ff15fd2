#!/bin/bash
# Runs a command in the app's directory with the app's environment: `webapp-env <command...>`.
# The env file holds `export KEY='value'` lines written by render-env; sourcing it is its only reader.
set -euo pipefail
env_file="${WEBAPP_ENV_FILE:-/etc/webapp/app.env}"
app_dir="${WEBAPP_DIR:-/opt/webapp/app}"
[ -r "$env_file" ] || { echo "webapp-env: cannot read $env_file" >&2; exit 78; }
# shellcheck source=/dev/null
. "$env_file"
cd "$app_dir"
exec "$@"
