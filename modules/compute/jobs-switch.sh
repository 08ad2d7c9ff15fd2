#!/bin/bash
# Runs a timed job only while the environment's timed jobs are switched on: `jobs-switch <job> -- <command...>`.
# The switch is the SSM parameter TIMED_JOBS_PARAMETER names (/<project>-<env>/timed-jobs, in
# /etc/webapp/fleet.conf), read at every run, so it reaches every instance, new ones included, within a minute:
# an operator sets it to `off` to hold the fleet's timed jobs (a migrated app until its cut-over, while its old
# server still runs them: docs/runbooks.md 10), and to `on` (or deletes it) to let them run. No parameter: the
# jobs run, as they always have. Any other value, or no answer from the API: the job does not run and the
# helper exits 75, like cron-lock when Redis does not answer (never run blind).
set -euo pipefail

readonly EX_USAGE=64 EX_UNAVAILABLE=75
if [ "$#" -lt 3 ] || [ "$2" != "--" ]; then
  echo "usage: jobs-switch <job> -- <command...>" >&2
  exit "$EX_USAGE"
fi
job="$1"
shift 2
conf="${WEBAPP_FLEET_CONF:-/etc/webapp/fleet.conf}"
# shellcheck source=/dev/null
. "$conf"
[ -n "${TIMED_JOBS_PARAMETER:-}" ] || { echo "jobs-switch: no TIMED_JOBS_PARAMETER in $conf; not running $job" >&2; exit "$EX_UNAVAILABLE"; }

if ! value="$(timeout 20 aws ssm get-parameter --region "$AWS_REGION_NAME" --name "$TIMED_JOBS_PARAMETER" \
  --query Parameter.Value --output text 2>&1)"; then
  if grep -q ParameterNotFound <<<"$value"; then
    value=on
  else
    echo "jobs-switch: cannot read $TIMED_JOBS_PARAMETER ($value); not running $job" >&2
    exit "$EX_UNAVAILABLE"
  fi
fi
case "$value" in
  on) exec "$@" ;;
  off)
    echo "jobs-switch: timed jobs are off ($TIMED_JOBS_PARAMETER); not running $job"
    exit 0
    ;;
  *)
    echo "jobs-switch: $TIMED_JOBS_PARAMETER is \"$value\", neither on nor off; not running $job" >&2
    exit "$EX_UNAVAILABLE"
    ;;
esac
