#!/bin/bash
# Restarts the app with a new environment without losing a request: `restart-app <new-env-file>`.
# Called by the secrets refresh when a secret changed. One instance at a time across the fleet: it takes the
# turn (Redis `SET webapp:restart-turn <token> NX PX <ttl>`, over TLS with AUTH from the new environment,
# released by compare-and-delete), leaves the target group, waits out the deregistration delay, moves the
# new env file into place and restarts the app, waits for the local health check, rejoins the target group
# and keeps the turn until the balancer can have found it healthy again. Without the turn within
# RESTART_TURN_WAIT_SECONDS (default 900), or with Redis unreachable, it changes nothing and exits 75 (the
# next refresh tries again). Settings come from /etc/webapp/fleet.conf, written by the boot.
set -euo pipefail

conf="${WEBAPP_FLEET_CONF:-/etc/webapp/fleet.conf}"
# shellcheck source=/dev/null
. "$conf"
readonly EX_TEMPFAIL=75
new_env="${1:?usage: restart-app <new-env-file>}"
env_file="${WEBAPP_ENV_FILE:-/etc/webapp/app.env}"
turn_wait="${RESTART_TURN_WAIT_SECONDS:-900}"

log() { printf '%s restart-app: %s\n' "$(date -u +%FT%TZ)" "$*"; }

imds() {
  local token
  token="$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)" || return 1
  curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# Redis settings from the new environment (a rotated token is the new one), never on a command line.
redis_host="$(bash -c '. "$1" && printf %s "${REDIS_HOST:-}"' _ "$new_env")"
redis_port="$(bash -c '. "$1" && printf %s "${REDIS_PORT:-6379}"' _ "$new_env")"
redis_tls="$(bash -c '. "$1" && printf %s "${REDIS_TLS:-true}"' _ "$new_env")"
redis_ca="$(bash -c '. "$1" && printf %s "${REDIS_CACERT:-}"' _ "$new_env")"
REDISCLI_AUTH="$(bash -c '. "$1" && printf %s "${REDIS_AUTH_TOKEN:-}"' _ "$new_env")"
export REDISCLI_AUTH
[ -n "$REDISCLI_AUTH" ] || unset REDISCLI_AUTH
cli="$(command -v redis-cli || command -v redis6-cli || command -v valkey-cli || true)"
args=(-h "$redis_host" -p "$redis_port")
if [ "$redis_tls" != false ]; then
  args+=(--tls)
  [ -z "$redis_ca" ] || args+=(--cacert "$redis_ca")
fi
redis() { timeout 10 "$cli" "${args[@]}" "$@" 2>&1; }

drain=$((DEREGISTRATION_DELAY_SECONDS > 10 ? DEREGISTRATION_DELAY_SECONDS : 10))
health_wait="${HEALTH_TIMEOUT_SECONDS:-300}"
ttl=$((drain + health_wait + TARGET_HEALTHY_SECONDS + 60))
key=webapp:restart-turn
token="$(uname -n)-$$-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

if [ -z "$redis_host" ] || [ -z "$cli" ]; then
  log "no Redis to take the restart turn with; keeping the current environment"
  exit "$EX_TEMPFAIL"
fi
deadline=$((SECONDS + turn_wait))
while :; do
  reply="$(redis SET "$key" "$token" NX PX "$((ttl * 1000))" || true)"
  [ "$reply" = OK ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "no restart turn within ${turn_wait}s (last answer: ${reply:-none}); keeping the current environment, the next refresh tries again"
    exit "$EX_TEMPFAIL"
  fi
  sleep $((3 + RANDOM % 5))
done
release() {
  redis EVAL "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end" 1 "$key" "$token" >/dev/null || true
}
trap release EXIT
log "took the restart turn (held at most ${ttl}s)"

instance="$(imds instance-id)"
state="$(imds autoscaling/target-lifecycle-state || echo unknown)"
if [ "$state" != InService ]; then
  log "target lifecycle state is $state, not InService: not restarting here"
  exit "$EX_TEMPFAIL"
fi
target=(--target-group-arn "$TARGET_GROUP_ARN" --targets "Id=$instance,Port=$APP_PORT")
aws elbv2 deregister-targets --region "$AWS_REGION_NAME" "${target[@]}"
log "left the target group; waiting ${drain}s for the balancer to drain"
sleep "$drain"

mv -f "$new_env" "$env_file"
systemctl restart webapp.service
url="http://127.0.0.1:$APP_PORT$HEALTH_CHECK_PATH"
healthy=false
for _ in $(seq 1 "$((health_wait / 2))"); do
  if curl -fsS -o /dev/null --max-time 5 "$url"; then
    healthy=true
    break
  fi
  sleep 2
done
# Rejoin either way: the balancer's health check decides, and the group replaces an instance it finds unhealthy.
aws elbv2 register-targets --region "$AWS_REGION_NAME" "${target[@]}"
if [ "$healthy" != true ]; then
  log "the app did not answer $url within ${health_wait}s after the restart; rejoined for the balancer's health check to decide"
  exit 1
fi
log "restarted and rejoined; keeping the turn ${TARGET_HEALTHY_SECONDS}s while the balancer finds it healthy"
sleep "$TARGET_HEALTHY_SECONDS"
log "done"
