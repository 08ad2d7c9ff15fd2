// The app's settings, all from the environment the platform renders (/etc/webapp/app.env).
"use strict";
const fs = require("node:fs");
const os = require("node:os");

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

function load() {
  const caFile = required("DATABASE_SSL_CA");
  return {
    environment: process.env.APP_ENV || "local",
    instance: os.hostname(),
    port: Number(process.env.APP_PORT || 8080),
    uploads: required("UPLOADS_PATH"),
    database: {
      host: required("DATABASE_HOST"),
      port: Number(process.env.DATABASE_PORT || 5432),
      database: required("DATABASE_NAME"),
      user: required("DATABASE_USERNAME"),
      password: required("DATABASE_PASSWORD"),
      // The database forces TLS; its certificate is verified against this bundle, never skipped.
      ca: fs.readFileSync(caFile),
    },
    redis: {
      host: required("REDIS_HOST"),
      port: Number(process.env.REDIS_PORT || 6379),
      tls: process.env.REDIS_TLS !== "false",
      password: process.env.REDIS_AUTH_TOKEN || undefined,
      // ElastiCache's certificates chain to public roots; REDIS_CACERT adds a private CA where one is used.
      ca: process.env.REDIS_CACERT ? fs.readFileSync(process.env.REDIS_CACERT) : undefined,
    },
  };
}

module.exports = { load };
