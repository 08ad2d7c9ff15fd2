// The sample cron job: records one run in the database (table cron_runs), so "exactly once across the
// fleet" can be counted. The platform runs it through cron-lock.
"use strict";
const { load } = require("../config");
const pg = require("../pg");

async function main() {
  const config = load();
  const db = await pg.connect(config.database);
  try {
    await db.query("CREATE TABLE IF NOT EXISTS cron_runs (id bigserial PRIMARY KEY, job text NOT NULL, instance text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now())");
    const [row] = await db.query(`INSERT INTO cron_runs (job, instance) VALUES ('record-run', ${pg.literal(config.instance)}) RETURNING id, ran_at`);
    console.log(`record-run: run ${row.id} on ${config.instance} at ${row.ran_at}`);
  } finally {
    db.close();
  }
}

main().catch((err) => {
  console.error(`record-run: failed: ${err.message}`);
  process.exit(1);
});
