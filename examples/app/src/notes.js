// The sample app's own table, so a migration has writes to carry over: `POST /notes` stores the request body
// as a note and answers 201 with its id; `GET /notes/<id>` serves it. The schema is created at start (the
// app's migration), except on a read-only database (a migration's write freeze), where it serves reads only.
"use strict";
const pg = require("./pg");

const MAX_NOTE_BYTES = 10_000;

/** The app's schema: created if missing, never changed on a read-only database. */
async function migrate(db) {
  const [{ transaction_read_only: readOnly }] = await db.query("SHOW transaction_read_only");
  if (readOnly === "on") return { readOnly: true };
  await db.query(
    "CREATE TABLE IF NOT EXISTS cron_runs (id bigserial PRIMARY KEY, job text NOT NULL, instance text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now())",
  );
  await db.query(
    "CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, body text NOT NULL CHECK (octet_length(body) <= 10000), instance text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
  );
  return { readOnly: false };
}

function send(res, code, body) {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(`${JSON.stringify(body)}\n`);
}

/** Handles /notes and /notes/<id>; a database that refuses (read-only, unreachable) is a 503. */
function handle(req, res, url, config) {
  const one = /^\/notes\/(\d{1,18})$/.exec(url.pathname);
  if (url.pathname === "/notes" && req.method === "POST") {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_NOTE_BYTES) chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_NOTE_BYTES) return send(res, 413, { error: `a note holds at most ${MAX_NOTE_BYTES} bytes` });
      const body = Buffer.concat(chunks).toString("utf8");
      return query(
        config,
        `INSERT INTO notes (body, instance) VALUES (${pg.literal(body)}, ${pg.literal(config.instance)}) RETURNING id`,
      ).then(
        ([row]) => send(res, 201, { id: row.id, instance: config.instance }),
        (err) => send(res, 503, { error: err.message }),
      );
    });
    return;
  }
  if (one && req.method === "GET") {
    query(config, `SELECT body FROM notes WHERE id = ${one[1]}`).then(
      ([row]) => (row ? send(res, 200, { id: one[1], body: row.body }) : send(res, 404, { error: "no such note" })),
      (err) => send(res, 503, { error: err.message }),
    );
    return;
  }
  send(res, 405, { error: "POST /notes or GET /notes/<id>" });
}

async function query(config, sql) {
  const db = await pg.connect(config.database);
  try {
    return await db.query(sql);
  } finally {
    db.close();
  }
}

module.exports = { handle, migrate };
