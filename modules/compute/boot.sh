#!/bin/bash
# shellcheck disable=SC2154  # the rendered header above this line sets the configuration variables
# Boot script of an app instance. Rendered by modules/compute/boot-script.ts into the boot bundle: a header of
# shell variables (values known at synth time, never a secret) and the helper scripts go in front of this
# file; the user data fetches the bundle from S3, checks it and sources it after its infrastructure values.
# Runs from cloud-init on first boot and from webapp-boot.service on every later start (a reboot, or a
# warm-pool instance entering service), so each start fetches the configured ref and the current secrets.
# `webapp-boot refresh-env` (a timer, every 15 minutes) re-reads the secrets and, only if the app's
# environment changed, restarts it out of service, one instance at a time (restart-app), so a rotated
# database password or cache token reaches running instances without a failed request.
# The app step also starts the lifecycle watcher (lifecycle.sh), which drains the instance when its group
# terminates it and then completes the terminate lifecycle action.
# Every step logs to /var/log/webapp-boot/<step>.log, shipped to CloudWatch Logs as stream
# <instance-id>/<step>. Any failure abandons the launch lifecycle action, so the group replaces the instance.
# Between steps (and between build commands) the boot records a lifecycle heartbeat, so the launch hook's
# timeout (BOOT_STEP_TIMEOUT_SECONDS) bounds one step; the whole boot is bounded by BOOT_TIMEOUT_SECONDS,
# checked before every heartbeat and passed to the build commands and the health wait as their time limit.
set -Eeuo pipefail
umask 022

readonly APP_DIR=/opt/webapp/app
readonly LOG_DIR=/var/log/webapp-boot
readonly APP_LOG_DIR=/var/log/webapp
readonly DB_CA_BUNDLE=/etc/webapp/rds-ca-bundle.pem
readonly MODE="${1:-boot}"
readonly WORK_DIR="/run/webapp-$MODE"
readonly STEPS=(install logging mount code env build app cron health complete)
CURRENT_STEP=start
INSTANCE_ID=""
LAUNCH_PENDING=true

mkdir -p "$LOG_DIR" "$APP_LOG_DIR"
rm -rf "$WORK_DIR"
install -d -m 0700 "$WORK_DIR"

log() { printf '%s webapp-boot[%s]: %s\n' "$(date -u +%FT%TZ)" "$CURRENT_STEP" "$*" | tee -a "$LOG_DIR/$CURRENT_STEP.log" >&2; }

imds() {
  local token
  token="$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

instance_id() {
  [ -n "$INSTANCE_ID" ] || INSTANCE_ID="$(imds instance-id)"
}

complete_launch() {
  local result="$1"
  instance_id || { log "cannot read the instance id; the hook times out with its default result"; return 1; }
  aws autoscaling complete-lifecycle-action --region "$AWS_REGION_NAME" \
    --auto-scaling-group-name "$ASG_NAME" --lifecycle-hook-name "$LAUNCH_HOOK_NAME" \
    --instance-id "$INSTANCE_ID" --lifecycle-action-result "$result"
}

# Seconds left of the boot budget (at least 1, so it can be used as a time limit).
budget_left() {
  local left=$((BOOT_TIMEOUT_SECONDS - SECONDS))
  echo $((left > 0 ? left : 1))
}

# Called between steps: fails once the boot budget is spent (the ERR trap then abandons the launch);
# otherwise tells the launch hook the boot is making progress, which restarts its timeout.
heartbeat() {
  if [ "$SECONDS" -ge "$BOOT_TIMEOUT_SECONDS" ]; then
    log "boot budget of ${BOOT_TIMEOUT_SECONDS}s spent after ${SECONDS}s"
    return 1
  fi
  if [ "$MODE" != boot ] || [ "$LAUNCH_PENDING" != true ] || ! command -v aws >/dev/null 2>&1; then
    return 0
  fi
  if instance_id && aws autoscaling record-lifecycle-action-heartbeat --region "$AWS_REGION_NAME" \
    --auto-scaling-group-name "$ASG_NAME" --lifecycle-hook-name "$LAUNCH_HOOK_NAME" \
    --instance-id "$INSTANCE_ID" >/dev/null 2>&1; then
    echo "heartbeat at ${SECONDS}s"
  else
    echo "no heartbeat recorded at ${SECONDS}s (no launch lifecycle action is waiting)"
  fi
}

cleanup() { rm -rf "$WORK_DIR"; }

on_error() {
  local status=$? line="$1"
  trap - ERR
  set +e
  log "FAILED with status $status at line $line; abandoning the launch"
  cleanup
  # The instance is being abandoned: its secrets go with the work files (the env file holds them).
  rm -f /etc/webapp/app.env
  # Give the CloudWatch agent time to ship the logs before the group terminates the instance.
  sleep 15
  complete_launch ABANDON || log "no launch lifecycle action to abandon"
  exit 1
}
trap 'on_error $LINENO' ERR
trap cleanup EXIT

# Runs one step with its output in its own log file, then records a heartbeat.
step() {
  CURRENT_STEP="$1"
  shift
  local started=$SECONDS
  log "start"
  "$@" >>"$LOG_DIR/$CURRENT_STEP.log" 2>&1
  log "done in $((SECONDS - started))s (boot at ${SECONDS}s)"
  heartbeat >>"$LOG_DIR/$CURRENT_STEP.log" 2>&1
}

install_packages() {
  # The boot's own tools, then the app's runtime (compute.runtime), in one transaction.
  dnf install -y -q git jq amazon-efs-utils redis6 cronie logrotate amazon-cloudwatch-agent awscli-2 "${RUNTIME_PACKAGES[@]}"
  if [ "${#RUNTIME_PACKAGES[@]}" -gt 0 ]; then
    echo "runtime: ${RUNTIME_PACKAGES[*]}"
    rpm -q "${RUNTIME_PACKAGES[@]}" 2>/dev/null || true
  fi
  id "$APP_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /sbin/nologin "$APP_USER"
  chown "$APP_USER" "$APP_LOG_DIR"
  install -d -m 0755 /usr/local/lib/webapp /etc/webapp
  install -d -m 0750 -o root -g "$(id -gn "$APP_USER")" /etc/webapp/cron
  install_database_ca
  write_helper_webapp_jobs >/usr/local/bin/webapp-jobs
  write_helper_fetch_code >/usr/local/lib/webapp/fetch-code
  write_helper_render_env >/usr/local/lib/webapp/render-env
  write_helper_webapp_env >/usr/local/bin/webapp-env
  write_helper_lifecycle >/usr/local/lib/webapp/lifecycle
  write_helper_restart_app >/usr/local/lib/webapp/restart-app
  chmod 0755 /usr/local/bin/webapp-jobs /usr/local/bin/webapp-env /usr/local/lib/webapp/fetch-code /usr/local/lib/webapp/render-env
  chmod 0700 /usr/local/lib/webapp/lifecycle /usr/local/lib/webapp/restart-app
  # Later starts run this same script from a unit, so a restarted instance fetches code and secrets again.
  if [ ! "$0" -ef /usr/local/sbin/webapp-boot ]; then
    install -m 0700 "$0" /usr/local/sbin/webapp-boot
  fi
  cat >/etc/systemd/system/webapp-boot.service <<UNIT
[Unit]
Description=Fetch, configure and start the app, then complete the launch lifecycle action
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/webapp-boot
TimeoutStartSec=$BOOT_TIMEOUT_SECONDS

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable webapp-boot.service
}

# The database forces TLS: the app verifies it against the RDS certificate authorities (DATABASE_SSL_CA).
install_database_ca() {
  local tmp
  tmp="$(mktemp /etc/webapp/.rds-ca.XXXXXX)"
  curl -fsS --proto =https --retry 5 --retry-connrefused --max-time 60 -o "$tmp" "$DB_CA_BUNDLE_URL" || { rm -f "$tmp"; return 1; }
  if ! grep -q -- '-----BEGIN CERTIFICATE-----' "$tmp"; then
    rm -f "$tmp"
    echo "$DB_CA_BUNDLE_URL did not return PEM certificates"
    return 1
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$DB_CA_BUNDLE"
  echo "database CA bundle: $(grep -c -- '-----BEGIN CERTIFICATE-----' "$DB_CA_BUNDLE") certificates from $DB_CA_BUNDLE_URL"
}

# The root volume is small: the app's, the cron jobs' and the boot's logs are rotated hourly when large,
# daily otherwise, and kept compressed for a week (the CloudWatch agent has shipped them by then).
configure_logrotate() {
  cat >/etc/logrotate.d/webapp <<ROTATE
$APP_LOG_DIR/*.log {
  su $APP_USER $(id -gn "$APP_USER")
  daily
  maxsize 50M
  rotate 7
  compress
  delaycompress
  missingok
  notifempty
  copytruncate
}
$LOG_DIR/*.log {
  daily
  maxsize 10M
  rotate 7
  compress
  delaycompress
  missingok
  notifempty
  copytruncate
}
ROTATE
  mkdir -p /etc/systemd/system/logrotate.timer.d
  printf '[Timer]\nOnCalendar=\nOnCalendar=hourly\n' >/etc/systemd/system/logrotate.timer.d/webapp.conf
  systemctl daemon-reload
  systemctl enable --now logrotate.timer
  logrotate --debug /etc/logrotate.d/webapp 2>&1 | grep -i error && return 1
  echo "log rotation: $APP_LOG_DIR and $LOG_DIR, hourly check"
}

configure_logging() {
  configure_logrotate
  local streams=("${STEPS[@]}")
  jq -n --arg group "$LOG_GROUP" --arg dir "$LOG_DIR" --arg app "$APP_LOG_DIR" \
    --args '{
      agent: { run_as_user: "root" },
      logs: {
        force_flush_interval: 5,
        logs_collected: { files: { collect_list: (
          [ $ARGS.positional[] | { file_path: "\($dir)/\(.).log", log_group_name: $group, log_stream_name: "{instance_id}/\(.)", timezone: "UTC" } ]
          + [ { file_path: "\($dir)/refresh.log", log_group_name: $group, log_stream_name: "{instance_id}/refresh", timezone: "UTC" },
              { file_path: "\($dir)/lifecycle.log", log_group_name: $group, log_stream_name: "{instance_id}/lifecycle", timezone: "UTC" },
              { file_path: "\($app)/app.log", log_group_name: $group, log_stream_name: "{instance_id}/app", timezone: "UTC" },
              { file_path: "\($app)/cron-*.log", log_group_name: $group, log_stream_name: "{instance_id}/cron", timezone: "UTC" } ]
        ) } }
      }
    }' "${streams[@]}" >/opt/aws/amazon-cloudwatch-agent/etc/webapp.json
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
    -c file:/opt/aws/amazon-cloudwatch-agent/etc/webapp.json
}

mount_uploads() {
  mkdir -p "$UPLOADS_PATH"
  if ! grep -qF " $UPLOADS_PATH efs " /etc/fstab; then
    echo "$EFS_FILE_SYSTEM_ID:/ $UPLOADS_PATH efs _netdev,noresvport,tls,iam,accesspoint=$EFS_ACCESS_POINT_ID 0 0" >>/etc/fstab
  fi
  local attempt
  for attempt in $(seq 1 30); do
    if mountpoint -q "$UPLOADS_PATH"; then
      echo "mounted $EFS_FILE_SYSTEM_ID ($EFS_ACCESS_POINT_ID) at $UPLOADS_PATH"
      return 0
    fi
    mount -t efs -o "tls,iam,accesspoint=$EFS_ACCESS_POINT_ID" "$EFS_FILE_SYSTEM_ID:/" "$UPLOADS_PATH" \
      || { echo "mount attempt $attempt failed; mount targets may not answer yet"; sleep 10; }
  done
  mountpoint -q "$UPLOADS_PATH"
}

secret() {
  aws secretsmanager get-secret-value --region "$AWS_REGION_NAME" --secret-id "$1" --query SecretString --output text
}

fetch_code() {
  local credentials="$WORK_DIR/credentials" options=()
  # The credential lives under WORK_DIR, which the EXIT and ERR traps delete whatever happens.
  mkdir -m 0700 "$credentials"
  [ "$REPO_ALLOW_BRANCH" = true ] && options+=(--allow-branch)
  # A public repository (credential type none) is cloned without one: its secret is never read.
  [ "$REPO_CREDENTIAL_TYPE" = none ] || (umask 077 && secret "$REPO_CREDENTIAL_SECRET_ARN" >"$credentials/secret")
  case "$REPO_CREDENTIAL_TYPE" in
    ssh-key)
      options+=(--ssh-key "$credentials/secret")
      if [ -n "$REPO_SSH_KNOWN_HOSTS" ]; then
        printf '%s\n' "$REPO_SSH_KNOWN_HOSTS" >"$credentials/known_hosts"
        options+=(--known-hosts "$credentials/known_hosts")
      fi
      ;;
    https-token) options+=(--token-file "$credentials/secret" --username "$REPO_HTTPS_USERNAME") ;;
    none) ;;
    *) echo "unknown repository credential type $REPO_CREDENTIAL_TYPE"; return 1 ;;
  esac
  /usr/local/lib/webapp/fetch-code "$REPO_URL" "$REPO_REF" "$APP_DIR.new" "${options[@]}"
  rm -rf "$credentials"
  if [ -n "$REPO_DIRECTORY" ]; then
    # Only the app's folder is kept (a symlink could point outside the checkout).
    if [ -L "$APP_DIR.new/$REPO_DIRECTORY" ] || [ ! -d "$APP_DIR.new/$REPO_DIRECTORY" ]; then
      echo "$REPO_URL has no directory $REPO_DIRECTORY at $REPO_REF"
      return 1
    fi
    rm -rf "$APP_DIR.dir"
    mv "$APP_DIR.new/$REPO_DIRECTORY" "$APP_DIR.dir"
    rm -rf "$APP_DIR.new"
    mv "$APP_DIR.dir" "$APP_DIR.new"
    echo "app directory: $REPO_DIRECTORY"
  fi
  chown -R "$APP_USER:" "$APP_DIR.new"
  rm -rf "$APP_DIR"
  mv "$APP_DIR.new" "$APP_DIR"
}

# The app's database user's secret. On an environment's first deploy it has no value until the operator has
# created the role (docs/runbooks.md, "The app's database user", through this booting instance): the boot
# waits for it, recording lifecycle heartbeats, within its budget.
database_user_secret() {
  local error
  while ! secret "$DB_SECRET_ARN" 2>"$WORK_DIR/secret.err"; do
    error="$(cat "$WORK_DIR/secret.err")"
    if [ "$MODE" != boot ] || ! grep -q ResourceNotFoundException <<<"$error"; then
      echo "$error" >&2
      return 1
    fi
    echo "$DB_SECRET_ARN has no value yet: waiting for the app's database user (docs/runbooks.md, The app's database user) ${SECONDS}s into the boot" >&2
    heartbeat >&2
    sleep 15
  done
}

# Writes the env file to $1 (default: the app's env file).
render_env() {
  local output="${1:-/etc/webapp/app.env}" app_env="$WORK_DIR/app-env.json" database="$WORK_DIR/database.json" token="$WORK_DIR/cache-token" infra="$WORK_DIR/infra.json"
  # Secret values go through files, never through a command line another process could read.
  (
    umask 077
    secret "$APP_ENV_SECRET_ARN" >"$app_env"
    # The app's own database user (JSON username, password); the instances cannot read the master's.
    database_user_secret >"$database"
    secret "$CACHE_TOKEN_SECRET_ARN" | jq -Rsj 'rtrimstr("\n") | (fromjson? // .)
      | if type == "object" then (.token // .authToken // .auth_token // .password // "") else tostring end' >"$token"
    jq -n --slurpfile database "$database" --rawfile cache_token "$token" \
      --arg environment "$ENVIRONMENT_NAME" --arg port "$APP_PORT" --arg uploads "$UPLOADS_PATH" \
      --arg db_host "$DB_HOST" --arg db_port "$DB_PORT" --arg db_name "$DB_NAME" --arg db_engine "$DB_ENGINE" --arg db_ca "$DB_CA_BUNDLE" \
      --arg cache_host "$CACHE_HOST" --arg cache_port "$CACHE_PORT" --arg cache_tls "$CACHE_TLS" \
      --arg lb_idle "$LB_IDLE_TIMEOUT_SECONDS" --arg lb_delay "$DEREGISTRATION_DELAY_SECONDS" \
      '{
        APP_ENV: $environment, APP_PORT: $port, UPLOADS_PATH: $uploads,
        DATABASE_HOST: $db_host, DATABASE_PORT: $db_port, DATABASE_NAME: $db_name, DATABASE_ENGINE: $db_engine,
        DATABASE_USERNAME: $database[0].username, DATABASE_PASSWORD: $database[0].password,
        DATABASE_SSL_CA: $db_ca, PGSSLROOTCERT: $db_ca, PGSSLMODE: "verify-full",
        REDIS_HOST: $cache_host, REDIS_PORT: $cache_port, REDIS_TLS: $cache_tls, REDIS_AUTH_TOKEN: $cache_token,
        LOAD_BALANCER_IDLE_TIMEOUT_SECONDS: $lb_idle, LOAD_BALANCER_DEREGISTRATION_DELAY_SECONDS: $lb_delay
      }' >"$infra"
  )
  /usr/local/lib/webapp/render-env "$output" "$APP_USER" "$app_env" "$infra"
  rm -f "$app_env" "$database" "$token" "$infra"
  echo "wrote $output ($(wc -l <"$output") lines)"
}

refresh_env() {
  render_env "$WORK_DIR/app.env"
  if cmp -s "$WORK_DIR/app.env" /etc/webapp/app.env; then
    echo "environment unchanged"
    return 0
  fi
  echo "environment changed (a secret was rotated or edited); restarting the app out of service"
  HEALTH_TIMEOUT_SECONDS="$HEALTH_TIMEOUT_SECONDS" /usr/local/lib/webapp/restart-app "$WORK_DIR/app.env"
}

run_build() {
  local command
  for command in "${BUILD_COMMANDS[@]}"; do
    echo "+ $command"
    # Bounded by what is left of the boot budget; a heartbeat after each command keeps the hook waiting.
    timeout -k 10 "$(budget_left)" runuser -u "$APP_USER" -- /usr/local/bin/webapp-env /bin/bash -c "$command"
    heartbeat
  done
}

start_app() {
  # The app user owns its log (systemd would create it as root), so logrotate, running as that user, can rotate it.
  touch "$APP_LOG_DIR/app.log"
  chown "$APP_USER:$(id -gn "$APP_USER")" "$APP_LOG_DIR/app.log"
  chmod 0640 "$APP_LOG_DIR/app.log"
  printf '#!/bin/bash\nset -euo pipefail\n%s\n' "$START_COMMAND" >/usr/local/lib/webapp/start
  chmod 0755 /usr/local/lib/webapp/start
  # Stopping: SIGTERM, then the deregistration delay for in-flight requests, then 30 s more before KILL.
  cat >/etc/systemd/system/webapp.service <<UNIT
[Unit]
Description=The app
Wants=network-online.target
After=network-online.target
RequiresMountsFor=$UPLOADS_PATH

[Service]
User=$APP_USER
ExecStart=/usr/local/bin/webapp-env /usr/local/lib/webapp/start
Restart=on-failure
RestartSec=5
TimeoutStopSec=$((DEREGISTRATION_DELAY_SECONDS + 30))
StandardOutput=append:$APP_LOG_DIR/app.log
StandardError=inherit
NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=full
UNIT
  cat >/etc/systemd/system/webapp-env-refresh.service <<UNIT
[Unit]
Description=Re-read the app's secrets; restart the app if its environment changed
After=webapp.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/webapp-boot refresh-env
TimeoutStartSec=30min
UNIT
  cat >/etc/systemd/system/webapp-env-refresh.timer <<UNIT
[Unit]
Description=Re-read the app's secrets every 15 minutes

[Timer]
OnBootSec=15min
OnUnitActiveSec=15min
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target
UNIT
  systemctl daemon-reload
  systemctl restart webapp.service
  systemctl enable --now webapp-env-refresh.timer
  install_lifecycle_watcher
}

# The settings the lifecycle watcher and restart-app read, and the watcher's unit.
install_lifecycle_watcher() {
  local name
  for name in AWS_REGION_NAME ASG_NAME TERMINATE_HOOK_NAME TARGET_GROUP_ARN APP_PORT HEALTH_CHECK_PATH DEREGISTRATION_DELAY_SECONDS TARGET_HEALTHY_SECONDS JOBS_DRAIN_TIMEOUT_SECONDS; do
    printf '%s=%q\n' "$name" "${!name}"
  done >/etc/webapp/fleet.conf
  echo "TERMINATE_HOOK_TIMEOUT_SECONDS=$((DEREGISTRATION_DELAY_SECONDS + 30))" >>/etc/webapp/fleet.conf
  cat >/etc/systemd/system/webapp-lifecycle.service <<UNIT
[Unit]
Description=Drain the instance when its Auto Scaling group terminates it, then complete the terminate hook
After=webapp.service

[Service]
ExecStart=/usr/local/lib/webapp/lifecycle
Restart=on-failure
RestartSec=5
StandardOutput=append:$LOG_DIR/lifecycle.log
StandardError=inherit

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable webapp-lifecycle.service
  systemctl restart webapp-lifecycle.service
  echo "lifecycle watcher: webapp-lifecycle.service (drains on termination, completes $TERMINATE_HOOK_NAME)"
}

# Timed jobs: one cron line runs the job runner every minute; it claims each due slot in the jobs table
# (once across the fleet) and runs the job's script. It claims only while its gate exists, which the complete
# step creates once the instance is healthy; /run is empty after a reboot, so a restart waits for health too.
install_cron() {
  local crontab="$WORK_DIR/crontab" state=/run/webapp-jobs i
  printf 'SHELL=/bin/bash\nPATH=/usr/local/bin:/usr/bin:/bin\n' >"$crontab"
  rm -f /etc/webapp/cron/*.sh
  for i in "${!CRON_NAMES[@]}"; do
    printf '%s\n' "${CRON_COMMANDS[$i]}" >"/etc/webapp/cron/${CRON_NAMES[$i]}.sh"
  done
  chmod 0644 /etc/webapp/cron/*.sh 2>/dev/null || true
  write_jobs_config >/etc/webapp/jobs.json
  chmod 0644 /etc/webapp/jobs.json
  install -d -m 0750 -o "$APP_USER" -g "$(id -gn "$APP_USER")" "$state" "$state/running"
  rm -f "$state/gate"
  if [ "${#CRON_NAMES[@]}" -gt 0 ]; then
    printf '* * * * * %s /usr/local/bin/webapp-env /usr/local/bin/webapp-jobs tick >>%s/cron-webapp-jobs.log 2>&1\n' "$APP_USER" "$APP_LOG_DIR" >>"$crontab"
  fi
  install -m 0644 "$crontab" /etc/cron.d/webapp
  # On shutdown (scale-in, a warm-pool stop, a reboot) the runner drains: running jobs get a moment to
  # finish, then give their slots back, so another instance runs them without waiting for the lease.
  cat >/etc/systemd/system/webapp-jobs-drain.service <<UNIT
[Unit]
Description=Give the timed jobs' slots back on shutdown (webapp-jobs drain)
Wants=network-online.target
After=network-online.target crond.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/usr/local/bin/webapp-jobs drain --timeout 20
TimeoutStopSec=90

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now crond.service webapp-jobs-drain.service
  echo "installed ${#CRON_NAMES[@]} timed job(s): webapp-jobs tick every minute, claiming once the instance is healthy"
}

# Opens the timed jobs' gate, unless the instance is going into the warm pool (it opens at its next start).
open_job_gate() {
  local state
  state="$(imds autoscaling/target-lifecycle-state 2>/dev/null || true)"
  case "$state" in
    Warmed:*)
      echo "timed jobs: not claiming while $state"
      return 0
      ;;
  esac
  [ "${#CRON_NAMES[@]}" -gt 0 ] || return 0
  install -m 0644 -o "$APP_USER" /dev/null /run/webapp-jobs/gate
  echo "timed jobs: claiming from now on"
}

wait_healthy() {
  local url="http://127.0.0.1:$APP_PORT$HEALTH_CHECK_PATH" deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
  [ "$deadline" -le "$BOOT_TIMEOUT_SECONDS" ] || deadline=$BOOT_TIMEOUT_SECONDS
  until curl -fsS -o /dev/null --max-time 5 "$url"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$url did not answer ${SECONDS}s into the boot (health wait ${HEALTH_TIMEOUT_SECONDS}s, boot budget ${BOOT_TIMEOUT_SECONDS}s)"
      systemctl status webapp.service --no-pager || true
      return 1
    fi
    sleep 5
  done
  echo "$url answers"
}

complete_continue() {
  LAUNCH_PENDING=false
  complete_launch CONTINUE || echo "no launch lifecycle action is waiting (a restart outside a launch)"
  open_job_gate
  echo "healthy ${SECONDS}s after the boot started"
}

if [ "$MODE" = refresh-env ]; then
  trap - ERR
  trap 'log "FAILED at line $LINENO; the app keeps its current environment"; exit 1' ERR
  step refresh refresh_env
  exit 0
fi
[ "$MODE" = boot ] || { log "unknown mode $MODE"; exit 64; }

step install install_packages
step logging configure_logging
step mount mount_uploads
step code fetch_code
step env render_env
step build run_build
step app start_app
step cron install_cron
step health wait_healthy
step complete complete_continue
