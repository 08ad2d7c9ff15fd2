// The sample timed job: records the slot it runs for in the table cron_runs, once per slot whatever happens.
// The platform's runner (webapp-jobs) claims each slot (the job's scheduled minute) once across the fleet and
// runs this with JOB_SLOT, JOB_ATTEMPT and JOB_FENCING_TOKEN. A holder that dies mid-run is retried on another
// instance, so the same slot can run twice: the row is unique per (job, slot), and a write whose fencing token
// is not above the stored one (a holder that lost its claim) changes nothing.
"use strict";
const { load } = require("../config");
const pg = require("../pg");

const JOB = "record-run";

async function main() {
  const config = load();
  // Run by hand (no runner): a slot of its own, so it never collides with a scheduled one.
  const slot = process.env.JOB_SLOT || `manual:${new Date().toISOString()}`;
  const attempt = Number(process.env.JOB_ATTEMPT || 1);
  const token = Number(process.env.JOB_FENCING_TOKEN || 0);
  if (!Number.isInteger(attempt) || attempt < 1 || !Number.isInteger(token) || token < 0)
    throw new Error("JOB_ATTEMPT and JOB_FENCING_TOKEN must be whole numbers");
  const db = await pg.connect(config.database);
  try {
    // One schema change at a time across instances (a table created by an older version gets the columns).
    await db.query(`BEGIN;
      SELECT pg_advisory_xact_lock(7420130);
      CREATE TABLE IF NOT EXISTS cron_runs (id bigserial PRIMARY KEY, job text NOT NULL, instance text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE cron_runs ADD COLUMN IF NOT EXISTS slot text, ADD COLUMN IF NOT EXISTS attempt integer, ADD COLUMN IF NOT EXISTS fencing_token bigint;
      CREATE UNIQUE INDEX IF NOT EXISTS cron_runs_job_slot ON cron_runs (job, slot);
      COMMIT`);
    const rows = await db.query(
      `INSERT INTO cron_runs (job, slot, attempt, fencing_token, instance) VALUES (${pg.literal(JOB)}, ${pg.literal(slot)}, ${attempt}, ${token}, ${pg.literal(config.instance)})
       ON CONFLICT (job, slot) DO UPDATE SET attempt = EXCLUDED.attempt, fencing_token = EXCLUDED.fencing_token, instance = EXCLUDED.instance, ran_at = now()
       WHERE cron_runs.fencing_token < EXCLUDED.fencing_token
       RETURNING id, (xmax = 0) AS inserted`,
    );
    if (rows.length === 0) {
      console.log(`${JOB}: slot ${slot} is already recorded by a claim with fencing token ${token} or later; nothing to do`);
    } else {
      const how = rows[0].inserted === "t" ? "recorded" : "recorded again (an earlier attempt was cut short)";
      console.log(`${JOB}: slot ${slot} ${how} as run ${rows[0].id}, attempt ${attempt}, on ${config.instance}`);
    }
  } finally {
    db.close();
  }
}

main().catch((err) => {
  console.error(`${JOB}: failed: ${err.message}`);
  process.exit(1);
});
