// The sample app against real services: PostgreSQL that accepts only TLS (SCRAM passwords) and
// redis-server with TLS and AUTH, both with certificates from a test CA, and a real uploads directory.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { after, before, describe, test } = require("node:test");
const { certificates, freePort, startPostgres, startRedis } = require("./services");

const APP = path.join(__dirname, "..");
const PASSWORD = 'app\'s p@ss "word" $x';
const TOKEN = "redis-token-0123456789";

let work;
let tls;
let postgres;
let redis;
const children = new Set();

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "webapp-sample-"));
  fs.chmodSync(work, 0o755);
  tls = certificates(path.join(work, "tls"), ["localhost"]);
  fs.chmodSync(path.join(work, "tls"), 0o755);
  postgres = await startPostgres({ tls });
  postgres.psql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
  postgres.psql("CREATE DATABASE app OWNER app");
  redis = await startRedis({ tls, password: TOKEN });
  execFileSync(process.execPath, ["build.mjs"], { cwd: APP, stdio: "ignore" });
});

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  redis?.stop();
  postgres?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function environment(patch = {}) {
  const uploads = path.join(work, "uploads");
  fs.mkdirSync(uploads, { recursive: true });
  return {
    PATH: process.env.PATH,
    APP_ENV: "test",
    UPLOADS_PATH: uploads,
    DATABASE_HOST: "localhost",
    DATABASE_PORT: String(postgres.port),
    DATABASE_NAME: "app",
    DATABASE_USERNAME: "app",
    DATABASE_PASSWORD: PASSWORD,
    DATABASE_SSL_CA: tls.ca,
    REDIS_HOST: "localhost",
    REDIS_PORT: String(redis.port),
    REDIS_TLS: "true",
    REDIS_AUTH_TOKEN: TOKEN,
    REDIS_CACERT: tls.ca,
    ...patch,
  };
}

/** Starts the built server; resolves once it listens, or with its exit code and output if it stops. */
async function start(patch = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ["dist/server.js"], {
    cwd: APP,
    env: environment({ APP_PORT: String(port), ...patch }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const result = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), 15_000);
    child.stdout.on("data", () => {
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve({ listening: true });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code });
    });
  });
  return { ...result, child, port, output: () => output, url: (p) => `http://127.0.0.1:${port}${p}` };
}

function stop(app) {
  return new Promise((resolve) => {
    if (app.child.exitCode !== null) return resolve(app.child.exitCode);
    app.child.once("exit", (code) => resolve(code));
    app.child.kill("SIGTERM");
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A raw HTTP/1.1 connection: `send(text)` resolves with the next whole response; `closed` once the server closes it. */
function connection(port) {
  const socket = net.connect(port, "127.0.0.1");
  let buffer = "";
  let waiting = null;
  const state = { closedAt: null };
  const closed = new Promise((resolve) => socket.once("close", () => resolve((state.closedAt = Date.now()))));
  const tryParse = () => {
    const end = buffer.indexOf("\r\n\r\n");
    if (!waiting || end < 0) return;
    const head = buffer.slice(0, end);
    let length;
    if (/transfer-encoding: *chunked/i.test(head)) {
      const last = buffer.indexOf("\r\n0\r\n\r\n", end + 2);
      if (last < 0) return;
      length = last + 7 - (end + 4);
    } else {
      length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
    }
    const body = buffer.slice(end + 4, end + 4 + length);
    buffer = buffer.slice(end + 4 + length);
    const [resolve] = waiting;
    waiting = null;
    resolve({ status: Number(head.split(" ")[1]), head, body });
  };
  socket.on("data", (c) => {
    buffer += c;
    tryParse();
  });
  socket.on("close", () => waiting?.[1](new Error("connection closed by the server")));
  socket.on("error", () => {});
  return {
    state,
    closed,
    write: (text) => socket.write(text),
    send(text) {
      return new Promise((resolve, reject) => {
        waiting = [resolve, reject];
        socket.write(text);
      });
    },
    destroy: () => socket.destroy(),
  };
}

const GET_HEALTH = "GET /health HTTP/1.1\r\nHost: app\r\n\r\n";

describe("the sample app", () => {
  test("checks its dependencies, answers the health path and its status, stores and serves uploads, stops cleanly on SIGTERM", async () => {
    const app = await start();
    try {
      assert.equal(app.listening, true, app.output());
      assert.match(app.output(), /database app \(TLS true\), redis ok/);
      const health = await fetch(app.url("/health"));
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
      const status = await (await fetch(app.url("/status"))).json();
      assert.equal(status.database.ok, true);
      assert.equal(status.database.user, "app");
      assert.equal(status.database.tls, true);
      assert.equal(status.redis.ok, true);
      assert.equal(status.uploads.ok, true);

      const put = await fetch(app.url("/uploads/report.txt"), { method: "PUT", body: "hello uploads\n" });
      assert.equal(put.status, 201);
      assert.equal(fs.readFileSync(path.join(environment().UPLOADS_PATH, "report.txt"), "utf8"), "hello uploads\n");
      const get = await fetch(app.url("/uploads/report.txt"));
      assert.equal(await get.text(), "hello uploads\n");
      assert.equal((await fetch(app.url("/uploads/..%2Fetc"))).status, 400);
      assert.equal((await fetch(app.url("/uploads/missing"))).status, 404);
    } finally {
      assert.equal(await stop(app), 0);
    }
    assert.match(app.output(), /stopped cleanly/);
  });

  test("stores notes and serves uploads under nested paths with spaces and non-ASCII names, refusing paths that leave the uploads", async () => {
    const app = await start();
    try {
      assert.equal(app.listening, true, app.output());
      const created = await fetch(app.url("/notes"), { method: "POST", body: "première note ✓" });
      assert.equal(created.status, 201);
      const { id } = await created.json();
      assert.deepEqual(await (await fetch(app.url(`/notes/${id}`))).json(), { id, body: "première note ✓" });
      assert.equal((await fetch(app.url("/notes/999999999"))).status, 404);
      const name = "quiz 42/Café menu – 東京 🎉.png";
      const encoded = name.split("/").map(encodeURIComponent).join("/");
      assert.equal((await fetch(app.url(`/uploads/${encoded}`), { method: "PUT", body: "picture\n" })).status, 201);
      assert.equal(fs.readFileSync(path.join(environment().UPLOADS_PATH, name), "utf8"), "picture\n");
      assert.equal(await (await fetch(app.url(`/uploads/${encoded}`))).text(), "picture\n");
      for (const bad of ["..%2Fetc", "a%2F..%2F..%2Fetc", "a/..%2F..%2Fetc", ".hidden", "a//b", "%E0%A4%A", "a%00b"]) {
        assert.equal((await fetch(app.url(`/uploads/${bad}`))).status, 400, bad);
      }
    } finally {
      assert.equal(await stop(app), 0);
    }
  });

  test("with the database read-only (a migration's write freeze) it refuses writes with 503, keeps serving reads, keeps running and restarts", async () => {
    const app = await start();
    try {
      assert.equal(app.listening, true, app.output());
      const { id } = await (await fetch(app.url("/notes"), { method: "POST", body: "before the freeze" })).json();
      assert.equal((await fetch(app.url("/uploads/frozen.txt"), { method: "PUT", body: "before\n" })).status, 201);
      postgres.psql("ALTER DATABASE app SET default_transaction_read_only = on");
      const note = await fetch(app.url("/notes"), { method: "POST", body: "during the freeze" });
      assert.equal(note.status, 503);
      assert.match((await note.json()).error, /read-only transaction/);
      // An upload the file system refuses (here: a file where its folder would be; a read-only folder for
      // the app user during a freeze) is a 503, not a crash.
      const refused = await fetch(app.url("/uploads/frozen.txt/inside.txt"), { method: "PUT", body: "no\n" });
      assert.equal(refused.status, 503);
      assert.match((await refused.json()).error, /not stored: (ENOTDIR|EEXIST)/);
      assert.equal((await (await fetch(app.url(`/notes/${id}`))).json()).body, "before the freeze");
      assert.equal(await (await fetch(app.url("/uploads/frozen.txt"))).text(), "before\n");
      assert.equal(app.child.exitCode, null, "the app kept running");
      // A restart during the freeze serves reads: no schema change on a read-only database.
      const reader = await start();
      assert.equal(reader.listening, true, reader.output());
      assert.match(reader.output(), /read-only: serving reads/);
      assert.equal(await stop(reader), 0);
    } finally {
      postgres.psql("ALTER DATABASE app RESET default_transaction_read_only");
      assert.equal(await stop(app), 0, app.output());
    }
  });

  test("keeps an idle connection open longer than the load balancer's idle timeout, so the balancer closes it first", async () => {
    const app = await start({ LOAD_BALANCER_IDLE_TIMEOUT_SECONDS: "6" });
    assert.equal(app.listening, true, app.output());
    const conn = connection(app.port);
    try {
      assert.equal((await conn.send(GET_HEALTH)).status, 200);
      // Idle as long as the balancer may keep it (and past Node's 5 s default), then reused.
      await sleep(6500);
      assert.equal(conn.state.closedAt, null, "the app closed an idle connection the balancer may still reuse");
      assert.equal((await conn.send(GET_HEALTH)).status, 200);
      assert.match(app.output(), /keep-alive 11 s \(load balancer idle timeout 6 s\)/);
    } finally {
      conn.destroy();
      assert.equal(await stop(app), 0);
    }
  });

  test("on SIGTERM stops accepting, closes idle connections, finishes the request in flight with Connection: close, exits 0", async () => {
    const app = await start({ LOAD_BALANCER_DEREGISTRATION_DELAY_SECONDS: "20" });
    assert.equal(app.listening, true, app.output());
    const idle = connection(app.port);
    const busy = connection(app.port);
    assert.equal((await idle.send(GET_HEALTH)).status, 200);
    assert.equal((await busy.send(GET_HEALTH)).status, 200);
    // A request in flight: an upload whose body is half sent when the stop comes.
    const body = "0123456789";
    const response = busy.send(
      `PUT /uploads/in-flight.txt HTTP/1.1\r\nHost: app\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    await sleep(200);
    const signalled = Date.now();
    const exited = new Promise((resolve) => app.child.once("exit", resolve));
    app.child.kill("SIGTERM");
    await idle.closed;
    assert.ok(idle.state.closedAt - signalled < 2000, "the idle keep-alive connection was closed at once");
    const late = connection(app.port);
    const answer = await late.send(GET_HEALTH).then(
      (r) => r.status,
      (err) => err.message,
    );
    assert.equal(answer, "connection closed by the server", "a new connection was served after SIGTERM");
    await sleep(300);
    busy.write(body.slice(5));
    const done = await response;
    assert.equal(done.status, 201, done.head);
    assert.match(done.head, /connection: close/i);
    assert.equal(await exited, 0);
    assert.ok(Date.now() - signalled < 5000, "the app exited once its last request was done, not at the deregistration delay");
    assert.match(app.output(), /SIGTERM, closing[\s\S]*stopped cleanly/);
  });

  test("refuses to start when the database's certificate is not from the configured CA", async () => {
    const other = certificates(path.join(work, "other-ca"), ["localhost"], "some other CA");
    const app = await start({ DATABASE_SSL_CA: other.ca });
    assert.equal(app.code, 1, app.output());
    assert.match(
      app.output(),
      /not starting: database check failed: .*(self-signed certificate|unable to verify|unable to get local issuer)/,
    );
  });

  test("refuses to start when the database's name does not match its certificate", async () => {
    // The server's certificate names localhost only.
    const app = await start({ DATABASE_HOST: "127.0.0.1" });
    assert.equal(app.code, 1, app.output());
    assert.match(app.output(), /database check failed: .*IP: 127\.0\.0\.1 is not in the cert's list/);
  });

  test("refuses to start with a wrong database password or Redis token", async () => {
    const db = await start({ DATABASE_PASSWORD: "wrong" });
    assert.equal(db.code, 1);
    assert.match(db.output(), /database check failed: postgres: password authentication failed for user "app" \(28P01\)/);
    const cache = await start({ REDIS_AUTH_TOKEN: "wrong" });
    assert.equal(cache.code, 1);
    assert.match(cache.output(), /redis check failed: redis: (WRONGPASS|ERR invalid password)/);
  });

  test("refuses to start when Redis demands AUTH and gets none", async () => {
    const app = await start({ REDIS_AUTH_TOKEN: "" });
    assert.equal(app.code, 1);
    assert.match(app.output(), /redis check failed: redis: NOAUTH/);
  });

  test("the timed job records each slot once: a retry or a second run of a slot changes nothing, a stale fencing token is refused", () => {
    const run = (env) => execFileSync(process.execPath, ["dist/jobs/record-run.js"], { cwd: APP, env: environment(env), encoding: "utf8" });
    const row = (slot) =>
      postgres.psql(
        `SELECT attempt || ',' || fencing_token || ',' || count(*) OVER () FROM cron_runs WHERE job = 'record-run' AND slot = '${slot}'`,
        "app",
      );
    const slot = "2027-03-01T10:05Z";
    assert.match(
      run({ JOB_SLOT: slot, JOB_ATTEMPT: "1", JOB_FENCING_TOKEN: "1" }),
      new RegExp(`^record-run: slot ${slot} recorded as run \\d+, attempt 1, on `),
    );
    assert.equal(row(slot), "1,1,1");
    // The same claim again (a duplicate start): nothing changes.
    assert.match(
      run({ JOB_SLOT: slot, JOB_ATTEMPT: "1", JOB_FENCING_TOKEN: "1" }),
      /already recorded by a claim with fencing token 1 or later; nothing to do/,
    );
    assert.equal(row(slot), "1,1,1");
    // Its holder died; another instance runs the slot again under a newer claim: still one row, now attempt 2.
    assert.match(
      run({ JOB_SLOT: slot, JOB_ATTEMPT: "2", JOB_FENCING_TOKEN: "2" }),
      /recorded again \(an earlier attempt was cut short\) as run \d+, attempt 2/,
    );
    assert.equal(row(slot), "2,2,1");
    // The first holder, still alive somewhere, finishes late: its stale token changes nothing.
    assert.match(
      run({ JOB_SLOT: slot, JOB_ATTEMPT: "1", JOB_FENCING_TOKEN: "1" }),
      /already recorded by a claim with fencing token 1 or later/,
    );
    assert.equal(row(slot), "2,2,1");
    // Another slot is its own row; two runs by hand are two rows.
    run({ JOB_SLOT: "2027-03-01T10:10Z", JOB_ATTEMPT: "1", JOB_FENCING_TOKEN: "1" });
    const before = Number(postgres.psql("SELECT count(*) FROM cron_runs WHERE job = 'record-run'", "app"));
    run({});
    run({});
    assert.equal(Number(postgres.psql("SELECT count(*) FROM cron_runs WHERE job = 'record-run'", "app")), before + 2);
    assert.equal(
      Number(postgres.psql("SELECT count(DISTINCT slot) FROM cron_runs WHERE job = 'record-run' AND slot LIKE '2027-03-01T%'", "app")),
      2,
    );
  });

  test("the timed job upgrades a table an older version created (the server creates it at start)", () => {
    postgres.psql("DROP TABLE IF EXISTS cron_runs", "app");
    postgres.psql(
      "CREATE TABLE cron_runs (id bigserial PRIMARY KEY, job text NOT NULL, instance text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now())",
      "app",
    );
    postgres.psql("ALTER TABLE cron_runs OWNER TO app", "app");
    postgres.psql("INSERT INTO cron_runs (job, instance) VALUES ('record-run', 'old')", "app");
    execFileSync(process.execPath, ["dist/jobs/record-run.js"], {
      cwd: APP,
      env: environment({ JOB_SLOT: "2027-03-01T11:00Z", JOB_ATTEMPT: "1", JOB_FENCING_TOKEN: "1" }),
      encoding: "utf8",
    });
    assert.equal(postgres.psql("SELECT count(*) || ',' || count(slot) FROM cron_runs", "app"), "2,1");
  });
});
