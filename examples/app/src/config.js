// The app's settings, all from the environment the platform renders (/etc/webapp/app.env).
"use strict";
const fs = require("node:fs");
const os = require("node:os");

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of seconds, not ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The HTTP server's timeouts behind the load balancer. The balancer keeps an idle connection to the app open
 * for its idle timeout and reuses it; an app that closes it first races the next request on it (a 502). So the
 * app keeps idle connections longer than the balancer does, and waits for headers longer still. On SIGTERM it
 * finishes what is in flight within the deregistration delay, the time the balancer gives a leaving target.
 */
function httpTimeouts() {
  const idleSeconds = seconds("LOAD_BALANCER_IDLE_TIMEOUT_SECONDS", 60);
  const keepAliveTimeoutMs = (idleSeconds + 5) * 1000;
  const headersTimeoutMs = keepAliveTimeoutMs + 1000;
  return {
    idleSeconds,
    keepAliveTimeoutMs,
    headersTimeoutMs,
    requestTimeoutMs: Math.max(300_000, headersTimeoutMs + 1000),
    shutdownMs: seconds("LOAD_BALANCER_DEREGISTRATION_DELAY_SECONDS", 30) * 1000,
  };
}

function load() {
  const caFile = required("DATABASE_SSL_CA");
  return {
    environment: process.env.APP_ENV || "local",
    instance: os.hostname(),
    port: Number(process.env.APP_PORT || 8080),
    http: httpTimeouts(),
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

module.exports = { httpTimeouts, load };
