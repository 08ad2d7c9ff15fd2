// The sample app: checks its database (TLS, verified), Redis (TLS, AUTH) and uploads before it listens,
// then serves the health path, a status page and uploads. Replace it with your app (README).
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { load } = require("./config");
const notes = require("./notes");
const pg = require("./pg");
const redis = require("./redis");

const MAX_UPLOAD_BYTES = 1024 * 1024;

/** Connects and reads who it is; with `migrate`, creates the app's schema first (notes.js). */
async function checkDatabase(config, { migrate = false } = {}) {
  const db = await pg.connect(config.database);
  try {
    const schema = migrate ? await notes.migrate(db) : undefined;
    const [row] = await db.query("SELECT current_user AS user, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl");
    return { ok: true, user: row.user, tls: row.ssl === "t", ...(schema?.readOnly ? { readOnly: true } : {}) };
  } finally {
    db.close();
  }
}

/**
 * The file an upload path names (`/uploads/<a>/<b>/<name>`, percent-encoded UTF-8), or undefined when it is
 * not one: every segment non-empty, not `.` or `..`, without `/`, `\` or control characters, not starting
 * with `.` (the app's own temporary and probe files), at most 255 bytes; at most 16 segments.
 */
function uploadFile(config, encoded) {
  const segments = encoded.split("/");
  if (segments.length > 16) return undefined;
  const names = [];
  for (const segment of segments) {
    let name;
    try {
      name = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    // eslint-disable-next-line no-control-regex -- control characters are what the name must not hold
    if (name === "" || name.startsWith(".") || /[/\\\u0000-\u001f\u007f]/.test(name) || Buffer.byteLength(name) > 255) return undefined;
    names.push(name);
  }
  return path.join(config.uploads, ...names);
}

async function checkRedis(config) {
  const client = await redis.connect(config.redis);
  try {
    const visits = await client.command("INCR", "webapp-sample:checks");
    return { ok: (await client.command("PING")) === "PONG", checks: visits };
  } finally {
    client.close();
  }
}

function checkUploads(config) {
  const probe = path.join(config.uploads, `.probe-${config.instance}-${process.pid}`);
  const token = crypto.randomBytes(8).toString("hex");
  fs.writeFileSync(probe, token);
  const back = fs.readFileSync(probe, "utf8");
  fs.unlinkSync(probe);
  if (back !== token) throw new Error(`uploads: read back ${JSON.stringify(back)} from ${probe}`);
  return { ok: true, path: config.uploads };
}

async function status(config, options) {
  const result = { instance: config.instance, environment: config.environment, pid: process.pid };
  for (const [name, check] of [
    ["database", checkDatabase],
    ["redis", checkRedis],
    ["uploads", checkUploads],
  ]) {
    try {
      result[name] = await check(config, options);
    } catch (err) {
      result[name] = { ok: false, error: err.message };
    }
  }
  return result;
}

function send(res, code, body, type = "application/json") {
  res.writeHead(code, { "content-type": type });
  res.end(type === "application/json" ? `${JSON.stringify(body)}\n` : body);
}

function handler(config) {
  return (req, res) => {
    const url = new URL(req.url, "http://app");
    if (url.pathname === "/health") return send(res, 200, { status: "ok" });
    if (url.pathname === "/status") {
      return status(config).then(
        (s) => send(res, s.database.ok && s.redis.ok && s.uploads.ok ? 200 : 503, s),
        (err) => send(res, 500, { error: err.message }),
      );
    }
    if (url.pathname === "/notes" || url.pathname.startsWith("/notes/")) return notes.handle(req, res, url, config);
    const upload = /^\/uploads\/(.+)$/.exec(url.pathname);
    if (upload) {
      const file = uploadFile(config, upload[1]);
      if (!file) return send(res, 400, { error: "bad upload name" });
      const name = path.relative(config.uploads, file);
      if (req.method === "PUT") {
        const chunks = [];
        let size = 0;
        req.on("data", (c) => {
          size += c.length;
          if (size > MAX_UPLOAD_BYTES) req.destroy();
          else chunks.push(c);
        });
        req.on("end", () => {
          const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
          try {
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(tmp, Buffer.concat(chunks));
            fs.renameSync(tmp, file);
          } catch (err) {
            // A read-only uploads directory (a migration's write freeze) or a full disk: refused, not a crash.
            try {
              fs.rmSync(tmp, { force: true });
            } catch {
              // its folder is not there either
            }
            return send(res, 503, { error: `not stored: ${err.code || err.message}` });
          }
          return send(res, 201, { stored: name, bytes: size, instance: config.instance });
        });
        return undefined;
      }
      if (req.method === "GET") {
        return fs.readFile(file, (err, data) =>
          err ? send(res, 404, { error: "no such upload" }) : send(res, 200, data, "application/octet-stream"),
        );
      }
      return send(res, 405, { error: "PUT or GET" });
    }
    return send(res, 404, { error: "not found" });
  };
}

async function main() {
  const config = load();
  // Refuse to serve unless every dependency works: the boot's health check then never passes, and the
  // launch is abandoned instead of a broken instance joining the load balancer.
  const checked = await status(config, { migrate: true });
  for (const name of ["database", "redis", "uploads"]) {
    if (!checked[name].ok) throw new Error(`${name} check failed: ${checked[name].error}`);
  }
  console.log(
    `webapp-sample: database ${checked.database.user} (TLS ${checked.database.tls}${checked.database.readOnly ? ", read-only: serving reads" : ""}), redis ok, uploads at ${config.uploads}`,
  );
  const { http: timeouts } = config;
  let closing = false;
  const inFlight = new Set();
  const serve = handler(config);
  const server = http.createServer({ requestTimeout: timeouts.requestTimeoutMs }, (req, res) => {
    // Once stopping, every response closes its connection, so no client keeps sending on it.
    if (closing) res.setHeader("connection", "close");
    inFlight.add(res);
    const started = process.hrtime.bigint();
    res.once("close", () => {
      inFlight.delete(res);
      console.log(`${req.method} ${req.url} ${res.statusCode} ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
    });
    serve(req, res);
  });
  // Idle connections outlive the load balancer's idle timeout: the balancer, not the app, closes them.
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.listen(config.port, () =>
    console.log(
      `webapp-sample: listening on ${config.port} (${config.environment}, ${config.instance}); keep-alive ${timeouts.keepAliveTimeoutMs / 1000} s (load balancer idle timeout ${timeouts.idleSeconds} s)`,
    ),
  );
  // systemd stops the app with SIGTERM: stop accepting, close idle connections, finish in-flight requests
  // (their responses close their connections), then exit 0; whatever is still open after the
  // deregistration delay is cut.
  process.on("SIGTERM", () => {
    if (closing) return;
    closing = true;
    console.log("webapp-sample: SIGTERM, closing");
    server.close(() => {
      console.log("webapp-sample: stopped cleanly");
      process.exit(0);
    });
    server.closeIdleConnections();
    for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
    setTimeout(() => {
      console.log(`webapp-sample: requests still open ${timeouts.shutdownMs / 1000} s after SIGTERM; exiting`);
      process.exit(0);
    }, timeouts.shutdownMs).unref();
  });
}

main().catch((err) => {
  console.error(`webapp-sample: not starting: ${err.message}`);
  process.exit(1);
});
