#!/bin/bash
# Runs a timed job at most once across the fleet: `cron-lock <job> <ttl-seconds> -- <command...>`.
# Takes `SET lock:<job> <token> NX PX <ttl>` on Redis (TLS unless REDIS_TLS=false, AUTH from REDIS_AUTH_TOKEN
# passed to redis-cli through REDISCLI_AUTH, never argv), runs the command only if it got the lock, and
# releases only its own lock with a compare-and-delete. Held elsewhere: exits 0 without running.
# Redis unreachable or answering an error: exits 75 without running (never run blind).
# The lock is kept at least LOCK_MIN_HOLD_SECONDS (default 55) after acquiring it, so an instance whose
# cron fires a few seconds late in the same minute does not run the job a second time.
set -euo pipefail

readonly EX_USAGE=64 EX_UNAVAILABLE=75

usage() {
  echo "usage: cron-lock <job> <ttl-seconds> -- <command...>" >&2
  exit "$EX_USAGE"
}

[ "$#" -ge 4 ] || usage
job="$1"
ttl="$2"
[ "$3" = "--" ] || usage
shift 3
[[ "$job" =~ ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$ ]] || { echo "cron-lock: invalid job name: $job" >&2; exit "$EX_USAGE"; }
[[ "$ttl" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "cron-lock: ttl must be a whole number of seconds: $ttl" >&2; exit "$EX_USAGE"; }
min_hold="${LOCK_MIN_HOLD_SECONDS:-55}"
[[ "$min_hold" =~ ^[0-9]{1,7}$ ]] || { echo "cron-lock: LOCK_MIN_HOLD_SECONDS must be a whole number: $min_hold" >&2; exit "$EX_USAGE"; }

host="${REDIS_HOST:-}"
port="${REDIS_PORT:-6379}"
[ -n "$host" ] || { echo "cron-lock: REDIS_HOST is not set; not running $job" >&2; exit "$EX_UNAVAILABLE"; }

cli="$(command -v redis-cli || command -v redis6-cli || command -v valkey-cli || true)"
[ -n "$cli" ] || { echo "cron-lock: no redis-cli on PATH; not running $job" >&2; exit "$EX_UNAVAILABLE"; }

args=(-h "$host" -p "$port")
if [ "${REDIS_TLS:-true}" != "false" ]; then
  args+=(--tls)
  if [ -n "${REDIS_CACERT:-}" ]; then
    args+=(--cacert "$REDIS_CACERT")
  fi
fi
if [ -n "${REDIS_AUTH_TOKEN:-}" ]; then
  export REDISCLI_AUTH="$REDIS_AUTH_TOKEN"
fi

redis() {
  timeout 10 "$cli" "${args[@]}" "$@" 2>&1
}

key="lock:$job"
token="$(uname -n)-$$-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
started="$(date +%s)"

if ! reply="$(redis SET "$key" "$token" NX PX "$((ttl * 1000))")"; then
  echo "cron-lock: Redis at $host:$port is unreachable ($reply); not running $job" >&2
  exit "$EX_UNAVAILABLE"
fi
case "$reply" in
  OK) ;;
  "")
    echo "cron-lock: $job is running elsewhere; skipping"
    exit 0
    ;;
  *)
    echo "cron-lock: Redis at $host:$port refused the lock ($reply); not running $job" >&2
    exit "$EX_UNAVAILABLE"
    ;;
esac

# Deletes the lock only if it still holds our token; inside the minimum hold it shortens the expiry instead.
# shellcheck disable=SC2016  # Lua source, not shell
release_script='
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
local hold = tonumber(ARGV[2])
if hold <= 0 then return redis.call("DEL", KEYS[1]) end
if redis.call("PTTL", KEYS[1]) > hold then redis.call("PEXPIRE", KEYS[1], hold) end
return 2'

release() {
  local held=$(( $(date +%s) - started ))
  local remaining=$(( (min_hold - held) * 1000 ))
  local result
  if ! result="$(redis EVAL "$release_script" 1 "$key" "$token" "$remaining")"; then
    echo "cron-lock: could not release $key ($result); it expires by itself within ${ttl}s" >&2
    return
  fi
  if [ "$result" = "0" ]; then
    echo "cron-lock: $key had expired or was taken by another holder before $job finished; left it alone" >&2
  fi
}

status=0
"$@" || status=$?
release
exit "$status"
