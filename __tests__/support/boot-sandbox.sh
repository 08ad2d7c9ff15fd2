#!/bin/bash
# shellcheck disable=SC2016  # the stubs' sources are written literally
# Runs an app instance's user data end to end inside a private mount namespace (`unshare -m`), with
# copy-on-write overlays over every directory it writes, and stubs for what only an EC2 instance has
# (dnf, systemd, the EFS mount, the AWS CLI, instance metadata, the CloudWatch agent); the AWS CLI's S3
# stand-in serves <work-dir>/bundle as the boot bundle.
#   boot-sandbox.sh <work-dir> <user-data-file>
# Stubs record their calls in <work-dir>/calls; results are copied to <work-dir>/out before the overlays go.
# When <work-dir>/secrets-rotated exists, it then replaces the secrets and runs `webapp-boot refresh-env`.
set -euo pipefail
work="$1" user_data="$2"
stubs="$work/stubs"
mkdir -p "$stubs" "$work/out"
export CALLS="$work/calls" SANDBOX="$work"
: >"$CALLS"

for dir in /etc /usr/local /var/log /opt /run /mnt; do
  layer="$work/layers/${dir//\//_}"
  mkdir -p "$layer/upper" "$layer/work"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
done

stub() {
  printf '#!/bin/bash\necho "%s $*" >>"$CALLS"\n%s\n' "$1" "${2:-exit 0}" >"$stubs/$1"
  chmod 0755 "$stubs/$1"
}
stub dnf
stub useradd
stub sleep
stub mount 'touch /run/sandbox-mounted'
stub mountpoint '[ -e /run/sandbox-mounted ]'
# The app "starts" when systemd is asked to restart it: its start script runs once, as the app user.
stub systemctl 'if [ "$*" = "restart webapp.service" ]; then runuser -u "$(stat -c %U /opt/webapp/app)" -- /usr/local/bin/webapp-env /usr/local/lib/webapp/start; fi'
stub logrotate
stub curl 'case "$*" in
  *api/token*) echo token ;;
  *truststore.pki.rds.amazonaws.com*)
    while [ "$#" -gt 0 ]; do if [ "$1" = -o ]; then out="$2"; fi; shift; done
    printf -- "-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n" >"$out" ;;
  *meta-data/instance-id*) echo i-0123456789abcdef0 ;;
  *meta-data/autoscaling/target-lifecycle-state*) echo InService ;;
  *127.0.0.1*) [ -e /opt/webapp/app/started ] ;;
  *) exit 7 ;;
esac'
# A secret file named <name>.later has no value at the first read, and has one from the next read on.
stub aws 'case "$*" in
  *"s3api get-object"*) for out; do :; done; cp "$SANDBOX/bundle" "$out" ;;
  *get-secret-value*)
    f="$SANDBOX/secrets/$(printf "%s" "$*" | sed -n "s/.*--secret-id \([^ ]*\).*/\1/p" | tr -c "A-Za-z0-9\n" _)"
    if [ -e "$f" ]; then cat "$f"; exit 0; fi
    [ -e "$f.later" ] && mv "$f.later" "$f"
    echo "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can'"'"'t find the specified secret value for staging label: AWSCURRENT" >&2
    exit 254 ;;
  *) exit 0 ;;
esac'
# The restart turn: always free.
stub redis-cli 'case "$*" in *" SET "*) echo OK ;; *) echo 1 ;; esac'
mkdir -p /opt/aws/amazon-cloudwatch-agent/bin /opt/aws/amazon-cloudwatch-agent/etc
printf '#!/bin/bash\necho "amazon-cloudwatch-agent-ctl $*" >>"$CALLS"\n' >/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
chmod 0755 /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl

status=0
PATH="$stubs:$PATH" bash "$user_data" >"$work/out/console.log" 2>&1 || status=$?
echo "$status" >"$work/out/status"

# Optionally, a secret rotation: new secret values, then the refresh the timer runs.
if [ "$status" = 0 ] && [ -d "$work/secrets-rotated" ]; then
  rm -rf "$work/secrets" && mv "$work/secrets-rotated" "$work/secrets"
  echo "--- refresh-env" >>"$CALLS"
  refreshed=0
  PATH="$stubs:$PATH" bash /usr/local/sbin/webapp-boot refresh-env >>"$work/out/console.log" 2>&1 || refreshed=$?
  echo "$refreshed" >"$work/out/refresh-status"
fi

copy() { if [ -e "$1" ]; then cp -a "$1" "$work/out/$2"; fi; }
copy /etc/webapp/app.env app.env
copy /etc/webapp/rds-ca-bundle.pem rds-ca-bundle.pem
copy /etc/logrotate.d/webapp logrotate
copy /etc/systemd/system/logrotate.timer.d/webapp.conf logrotate-timer.conf
copy /etc/cron.d/webapp crontab
copy /etc/fstab fstab
copy /etc/systemd/system/webapp.service webapp.service
copy /etc/systemd/system/webapp-boot.service webapp-boot.service
copy /var/log/webapp-boot logs
copy /opt/aws/amazon-cloudwatch-agent/etc/webapp.json agent.json
copy /opt/webapp/app app
copy /usr/local/sbin/webapp-boot webapp-boot
copy /etc/webapp/cron cron
copy /etc/systemd/system/webapp-env-refresh.timer webapp-env-refresh.timer
copy /etc/systemd/system/webapp-env-refresh.service webapp-env-refresh.service
copy /etc/systemd/system/webapp-lifecycle.service webapp-lifecycle.service
copy /etc/webapp/fleet.conf fleet.conf
copy /usr/local/lib/webapp/lifecycle lifecycle
copy /usr/local/lib/webapp/restart-app restart-app
copy /var/log/webapp app-logs
copy /etc/webapp/jobs.json jobs.json
copy /usr/local/bin/webapp-jobs webapp-jobs
copy /etc/systemd/system/webapp-jobs-drain.service webapp-jobs-drain.service
copy /run/webapp-jobs jobs-state
if [ -e /run/webapp-boot ]; then touch "$work/out/work-dir-left"; fi
exit 0
