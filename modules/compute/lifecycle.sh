#!/bin/bash
# The instance's lifecycle watcher (webapp-lifecycle.service). Polls instance metadata for the state the
# Auto Scaling group is moving the instance to (`autoscaling/target-lifecycle-state`, AWS's documented way
# for an instance to learn it is being terminated) and for a Spot interruption notice
# (`spot/instance-action`, logged). When the target state is Terminated (scale-in, an instance refresh, a
# health replacement), it drains the instance before the group terminates it:
#   1. the timed jobs drain (`webapp-jobs drain --timeout S`: no new claims; jobs running here get S seconds,
#      then are stopped and give their slots back, all within step 2's wait), and the secrets refresh stops
#      (it could put the instance back into the target group);
#   2. it waits out the target group's deregistration delay: the group deregistered the instance when it
#      began terminating, and the balancer sends it nothing new and finishes what is in flight meanwhile;
#   3. it stops the app (SIGTERM: the app finishes what is left and exits);
#   4. it completes the terminate lifecycle action with CONTINUE (retried until the hook's timeout, which
#      continues by default).
# Settings come from /etc/webapp/fleet.conf, written by the boot.
set -uo pipefail

conf="${WEBAPP_FLEET_CONF:-/etc/webapp/fleet.conf}"
# shellcheck source=/dev/null
. "$conf"
poll="${LIFECYCLE_POLL_SECONDS:-5}"

log() { printf '%s webapp-lifecycle: %s\n' "$(date -u +%FT%TZ)" "$*"; }

# Prints a metadata path's value; fails on an error or a 404 (the path does not exist yet).
imds() {
  local token
  token="$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)" || return 1
  curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# At least 10 s: the balancer takes a few seconds to stop routing to a deregistered target even with no delay.
drain_seconds() {
  local delay="${DEREGISTRATION_DELAY_SECONDS:-30}"
  echo $((delay > 10 ? delay : 10))
}

# Exit 0: nothing of this instance runs any more; 1: a job had to be killed, its lease lapses and another
# instance runs its slot again after leaseSeconds.
drain_jobs() {
  local timeout="${JOBS_DRAIN_TIMEOUT_SECONDS:-0}" status=0
  log "timed jobs: webapp-jobs drain --timeout $timeout"
  /usr/local/bin/webapp-jobs drain --timeout "$timeout" || status=$?
  case "$status" in
    0) log "timed jobs: drained (nothing of this instance runs any more)" ;;
    1) log "timed jobs: a job was killed without giving its slot back; its lease lapses and another instance runs the slot" ;;
    *) log "timed jobs: webapp-jobs drain exited $status" ;;
  esac
}

complete_terminate() {
  local instance="$1" deadline=$((SECONDS + ${TERMINATE_HOOK_TIMEOUT_SECONDS:-120}))
  until aws autoscaling complete-lifecycle-action --region "$AWS_REGION_NAME" \
    --auto-scaling-group-name "$ASG_NAME" --lifecycle-hook-name "$TERMINATE_HOOK_NAME" \
    --instance-id "$instance" --lifecycle-action-result CONTINUE; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "could not complete the terminate lifecycle action; the hook's timeout continues it"
      return 1
    fi
    sleep 5
  done
  log "completed the terminate lifecycle action with CONTINUE"
}

drain() {
  local state="$1" instance wait started=$SECONDS jobs_pid
  instance="$(imds instance-id)" || { log "cannot read the instance id"; instance=""; }
  wait="$(drain_seconds)"
  log "target lifecycle state $state: draining (${wait}s for the balancer, then the app)"
  systemctl stop webapp-env-refresh.timer webapp-env-refresh.service 2>/dev/null || true
  drain_jobs &
  jobs_pid=$!
  sleep "$wait"
  wait "$jobs_pid"
  log "balancer drained after $((SECONDS - started))s; stopping the app"
  systemctl stop webapp.service || log "stopping webapp.service failed"
  log "app stopped $((SECONDS - started))s after the termination began"
  [ -n "$instance" ] && complete_terminate "$instance"
}

spot_logged=false
log "watching the target lifecycle state every ${poll}s"
while :; do
  state="$(imds autoscaling/target-lifecycle-state 2>/dev/null || true)"
  if [ "$spot_logged" = false ] && notice="$(imds spot/instance-action 2>/dev/null)" && [ -n "$notice" ]; then
    log "Spot interruption notice: $notice"
    spot_logged=true
  fi
  case "$state" in
    Terminated | Warmed:Terminated)
      drain "$state"
      exit 0
      ;;
  esac
  sleep "$poll"
done
