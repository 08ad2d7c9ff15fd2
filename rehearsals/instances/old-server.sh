#!/bin/bash
# The migration rehearsal's old server, set up the way a single server runs an app: nginx terminating TLS for
# the app's name in front of the app (the sample app, built in /var/www/app, as www-data under systemd), its own
# PostgreSQL (TLS, the app's role owns the app's database) and Redis on localhost, uploads on local disk, the
# app's timed job in /etc/cron.d, and an admin user with sudo, the AWS CLI and jq for the operator. Runs once
# inside the booted container, as root; the rehearsal has put the app's source in /var/www/app, the
# certificate and key for the app's name (and localhost) in /etc/ssl/rehearsal, the CA in the trust store.
#   old-server.sh <app's name> <database password>
set -euo pipefail
name="$1" password="$2"
export DEBIAN_FRONTEND=noninteractive

useradd --create-home --shell /bin/bash admin
echo 'admin ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/admin
chmod 0440 /etc/sudoers.d/admin
# The AWS CLI, installed as AWS documents it (on PATH); the rootfs has it in /opt/awscli.
ln -sf /opt/awscli/bin/aws /usr/local/bin/aws

# PostgreSQL: TLS with the server's certificate; the app's role and database.
conf=/etc/postgresql/15/main
install -o postgres -g postgres -m 0600 /etc/ssl/rehearsal/server.key "$conf/server.key"
install -o postgres -g postgres -m 0644 /etc/ssl/rehearsal/server.pem "$conf/server.pem"
printf "ssl = on\nssl_cert_file = '%s/server.pem'\nssl_key_file = '%s/server.key'\nlisten_addresses = 'localhost'\n" "$conf" "$conf" >"$conf/conf.d/rehearsal.conf"
systemctl restart postgresql@15-main
for _ in $(seq 1 30); do runuser -u postgres -- pg_isready -q && break; sleep 1; done
runuser -u postgres -- psql -q --set=ON_ERROR_STOP=1 -c "CREATE ROLE app LOGIN PASSWORD '$password'" -c "CREATE DATABASE app OWNER app"
systemctl is-active redis-server >/dev/null

# The app: built where it runs, its settings in an env file only it reads.
chown -R www-data:www-data /var/www/app
install -d -o www-data -g www-data /var/www/app/storage/uploads /var/log/app
(cd /var/www/app && runuser -u www-data -- node build.mjs)
cat >/etc/app.env <<ENV
export APP_ENV=production APP_PORT=8080 UPLOADS_PATH=/var/www/app/storage/uploads
export DATABASE_HOST=localhost DATABASE_PORT=5432 DATABASE_NAME=app DATABASE_USERNAME=app DATABASE_PASSWORD='$password'
export DATABASE_SSL_CA=/etc/ssl/rehearsal/ca.pem REDIS_HOST=127.0.0.1 REDIS_PORT=6379 REDIS_TLS=false
ENV
chown root:www-data /etc/app.env
chmod 0640 /etc/app.env
cat >/etc/systemd/system/app.service <<'UNIT'
[Unit]
Description=The app
After=network-online.target postgresql.service redis-server.service

[Service]
User=www-data
WorkingDirectory=/var/www/app
ExecStart=/bin/bash -c '. /etc/app.env && exec node dist/server.js'
Restart=on-failure
StandardOutput=append:/var/log/app/app.log
StandardError=inherit

[Install]
WantedBy=multi-user.target
UNIT
cat >/etc/nginx/sites-available/app <<SITE
server {
  listen 443 ssl;
  server_name $name;
  ssl_certificate /etc/ssl/rehearsal/server.pem;
  ssl_certificate_key /etc/ssl/rehearsal/server.key;
  client_max_body_size 20m;
  location / { proxy_pass http://127.0.0.1:8080; proxy_set_header Host \$host; }
}
SITE
ln -sf /etc/nginx/sites-available/app /etc/nginx/sites-enabled/app
rm -f /etc/nginx/sites-enabled/default
# The app's timed job, every minute, as the app's user.
echo '* * * * * www-data cd /var/www/app && . /etc/app.env && node dist/jobs/record-run.js >>/var/log/app/cron.log 2>&1' >/etc/cron.d/app
systemctl daemon-reload
systemctl enable --now app.service cron.service
systemctl restart nginx.service
for _ in $(seq 1 30); do curl -fsS -o /dev/null http://127.0.0.1:8080/health && break; sleep 1; done
curl -fsS --resolve "$name:443:127.0.0.1" "https://$name/health"
