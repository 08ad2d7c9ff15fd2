// Timed jobs once per scheduled slot: their settings and checks, the runner's configuration (webapp-jobs,
// installed by the boot), and the environment's slot table (DynamoDB, on demand, its own KMS key, TTL on old
// records) with the statements the instance role needs for it. The runner itself is webapp-jobs.py.
import { Construct } from "constructs";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { EncryptionKey } from "../primitives/encryption-key";
import { Statement } from "../primitives/policy";
import { Problems } from "../primitives/validation";
import { cronPeriod, cronProblem } from "./cron";

/** How a timed job is run across the fleet: per job, or for every job in `compute.cronDefaults`. */
export interface CronJobTiming {
  /**
   * Seconds a claim on a slot lasts unless its holder renews it (every quarter of it, while the job runs).
   * A holder that dies is replaced within this plus a minute. @default 120
   */
  readonly leaseSeconds?: number;
  /**
   * The job is stopped (TERM, then KILL after 10 s) after this long; that attempt counts as failed.
   * @default the schedule's shortest period minus the 10 s kill grace, at most 3600
   */
  readonly maxRunSeconds?: number;
  /** Attempts after the first when a run fails, times out or its holder dies. @default 2 */
  readonly retries?: number;
  /** Seconds before the first retry; each further retry waits twice as long. @default 30 */
  readonly retryBackoffSeconds?: number;
  /**
   * How late a slot may still start (a slot missed while no instance ran is caught up within it); a slot
   * nobody claimed within it is recorded missed and alarms. @default the schedule's period, 120 to 3600
   */
  readonly backfillWindowSeconds?: number;
}

/** A timed job: run at each of its slots (job, scheduled minute) by exactly one instance. */
export interface CronJobSettings extends CronJobTiming {
  /** Lowercase letters, digits and `-`; also the Redis lock key (`lock:<name>`) and the log file name. */
  readonly name: string;
  /** Five-field cron expression, in UTC. */
  readonly schedule: string;
  /**
   * Shell command, run in the app's directory with the app's environment, as the app user, plus JOB_NAME,
   * JOB_SLOT, JOB_ATTEMPT and JOB_FENCING_TOKEN: it must be idempotent per JOB_SLOT (docs/timed-jobs.md).
   */
  readonly command: string;
}

/** The environment's slot table. */
export interface JobTableSettings {
  /** Refuse to delete the table (its records say which slots ran). @default true */
  readonly deletionProtection?: boolean;
  /** Days a slot's record is kept after its retries are over (DynamoDB TTL removes it). @default 30 */
  readonly recordRetentionDays?: number;
}

/** Seconds between TERM and KILL when a job is stopped. */
export const KILL_GRACE_SECONDS = 10;
/** How far apart two instances' clocks may be while leases still exclude each other. */
export const CLOCK_SKEW_MARGIN_SECONDS = 30;
/** The runner's tick: cron runs `webapp-jobs tick` every minute. */
export const TICK_SECONDS = 60;
/** Slots of one job a tick reads at most (one BatchGetItem takes 100 keys). */
export const MAX_SLOTS_READ = 60;
/** Slots behind a job's read span each tick also reads (webapp-jobs.py TAIL_SLOTS). */
export const TAIL_SLOTS = 4;
/** A job name the runner's own log file takes (cron-webapp-jobs.log). */
export const RUNNER_NAME = "webapp-jobs";
export const DEFAULT_LEASE_SECONDS = 120;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_BACKOFF_SECONDS = 30;
export const DEFAULT_RECORD_RETENTION_DAYS = 30;
/** Where the runner keeps its gate and running records (tmpfs: gone at reboot, so the gate is too). */
export const JOBS_STATE_DIR = "/run/webapp-jobs";
/** Where the boot writes the runner's configuration. */
export const JOBS_CONFIG_PATH = "/etc/webapp/jobs.json";
/**
 * The SSM parameter that holds or releases the environment's timed jobs at run time: `off` holds them (their
 * slots are recorded `held`, never run), `on` or no parameter lets them run, anything else (or no answer from
 * the API) runs nothing. An operator's switch, not created by the stack (docs/runbooks.md 10); the runner
 * reads it once a minute.
 */
export function timedJobsParameterName(namePrefix: string): string {
  return `/${namePrefix}/timed-jobs`;
}
/** What a drain needs, after its timeout, to stop a job still running and give its slot back: the kill grace and one write. */
export const GIVE_BACK_SECONDS = KILL_GRACE_SECONDS + 5;

/**
 * The `--timeout` of the drain the lifecycle watcher runs when the group terminates an instance. The drain
 * runs while the watcher waits out the balancer's drain (the deregistration delay, at least 10 s), and must
 * be over by then, so the terminate hook (and a Spot notice) is not kept waiting: jobs running here get the
 * wait less the give-back, then are stopped and their slots given back (0: given back at once).
 */
export function jobsDrainTimeoutSeconds(deregistrationDelaySeconds: number): number {
  return Math.max(0, Math.max(deregistrationDelaySeconds, 10) - GIVE_BACK_SECONDS);
}

/** A job with every timing resolved. */
export interface ResolvedCronJob {
  readonly name: string;
  readonly schedule: string;
  readonly command: string;
  readonly leaseSeconds: number;
  readonly maxRunSeconds: number;
  readonly retries: number;
  readonly retryBackoffSeconds: number;
  readonly backfillWindowSeconds: number;
  /** Shortest time between two slots; undefined when the schedule fires at most once in eight years. */
  readonly periodSeconds?: number;
}

/** The timing of `job`: its own values, else the compute-wide defaults, else the built-in ones. */
export function resolveCronJob(job: CronJobSettings, defaults: CronJobTiming = {}): ResolvedCronJob {
  const period = cronProblem(job.schedule) === undefined ? cronPeriod(job.schedule).shortestSeconds : undefined;
  const span = period ?? 86400;
  const leaseSeconds = job.leaseSeconds ?? defaults.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  return {
    name: job.name,
    schedule: job.schedule,
    command: job.command,
    leaseSeconds,
    maxRunSeconds: job.maxRunSeconds ?? defaults.maxRunSeconds ?? Math.max(1, Math.min(span - KILL_GRACE_SECONDS, 3600)),
    retries: job.retries ?? defaults.retries ?? DEFAULT_RETRIES,
    retryBackoffSeconds: job.retryBackoffSeconds ?? defaults.retryBackoffSeconds ?? DEFAULT_RETRY_BACKOFF_SECONDS,
    backfillWindowSeconds:
      job.backfillWindowSeconds ?? defaults.backfillWindowSeconds ?? Math.min(Math.max(span, 120, lostHolderSeconds(leaseSeconds)), 3600),
    periodSeconds: period,
  };
}

/**
 * How late the slot after a lost holder's can be claimed: the holder's Redis lock and lease keep the job for
 * up to leaseSeconds after it died, then the next tick (and clocks up to the skew margin apart) claims it.
 * A backfill window shorter than this loses that slot whenever a holder dies.
 */
export function lostHolderSeconds(leaseSeconds: number): number {
  return leaseSeconds + TICK_SECONDS + CLOCK_SKEW_MARGIN_SECONDS;
}

/** How long after its time a slot may still be retried (webapp-jobs.py Job.retry_span). */
export function retrySpanSeconds(job: ResolvedCronJob): number {
  let backoffs = 0;
  for (let i = 0; i < job.retries; i++) backoffs += job.retryBackoffSeconds * 2 ** i;
  return (job.retries + 1) * (job.maxRunSeconds + job.leaseSeconds + TICK_SECONDS) + backoffs;
}

/** At most how many slots of the job each tick reads: its read span (backfill + retry span) and a tail. */
export function slotsRead(job: ResolvedCronJob): number {
  const span = job.backfillWindowSeconds + retrySpanSeconds(job);
  return (job.periodSeconds === undefined ? 1 : Math.ceil(span / job.periodSeconds) + 1) + TAIL_SLOTS;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function isIntegerBetween(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

const RANGES: Readonly<Record<keyof CronJobTiming, readonly [number, number]>> = {
  leaseSeconds: [1, 3600],
  maxRunSeconds: [1, 86400],
  retries: [0, 10],
  retryBackoffSeconds: [1, 3600],
  backfillWindowSeconds: [1, 7 * 86400],
};

function checkTiming(timing: CronJobTiming, problems: Problems): boolean {
  let ok = true;
  for (const [field, [min, max]] of Object.entries(RANGES) as [keyof CronJobTiming, readonly [number, number]][]) {
    const value = timing[field];
    if (value === undefined) continue;
    ok = problems.check(isIntegerBetween(value, min, max), field, value, `must be a whole number from ${min} to ${max}`) && ok;
  }
  return ok;
}

/** The relations between a job's resolved timings and its schedule; `at` names the job. */
function checkRelations(job: ResolvedCronJob, raw: CronJobSettings, at: Problems): void {
  const from = (field: keyof CronJobTiming) => (raw[field] === undefined ? " (from cronDefaults or the default)" : "");
  const lease = job.leaseSeconds;
  const renewal = lease / 4;
  at.check(
    lease - CLOCK_SKEW_MARGIN_SECONDS - KILL_GRACE_SECONDS >= 2 * renewal,
    "leaseSeconds",
    lease,
    `leaves the holder less than two renewals (every ${renewal} s) before it must stop its job (lease - ${CLOCK_SKEW_MARGIN_SECONDS} s clock-skew margin - ${KILL_GRACE_SECONDS} s kill grace); at least ${2 * (CLOCK_SKEW_MARGIN_SECONDS + KILL_GRACE_SECONDS)}${from("leaseSeconds")}`,
  );
  const period = job.periodSeconds;
  if (period !== undefined) {
    at.check(
      job.maxRunSeconds + KILL_GRACE_SECONDS <= period,
      "maxRunSeconds",
      job.maxRunSeconds,
      `plus the ${KILL_GRACE_SECONDS} s kill grace is longer than the schedule's shortest period (${period} s): a run could still hold the job when its next slot is due${from("maxRunSeconds")}`,
    );
  }
  at.check(
    job.backfillWindowSeconds >= TICK_SECONDS + CLOCK_SKEW_MARGIN_SECONDS,
    "backfillWindowSeconds",
    job.backfillWindowSeconds,
    `is shorter than the runner's tick (${TICK_SECONDS} s) plus the clock-skew margin (${CLOCK_SKEW_MARGIN_SECONDS} s): a healthy fleet could miss a slot${from("backfillWindowSeconds")}`,
  );
  at.check(
    job.backfillWindowSeconds >= lostHolderSeconds(lease),
    "backfillWindowSeconds",
    job.backfillWindowSeconds,
    `is shorter than leaseSeconds (${lease} s) plus the runner's tick (${TICK_SECONDS} s) and the clock-skew margin (${CLOCK_SKEW_MARGIN_SECONDS} s): when a holder dies, its lock and lease keep the job for up to leaseSeconds, so the next slot would be missed; at least ${lostHolderSeconds(lease)} (or a shorter leaseSeconds)${from("backfillWindowSeconds")}`,
  );
  const read = slotsRead(job);
  at.check(
    read <= MAX_SLOTS_READ,
    "backfillWindowSeconds",
    job.backfillWindowSeconds,
    `with the retry span (${retrySpanSeconds(job)} s: ${job.retries + 1} attempts of maxRunSeconds + leaseSeconds + ${TICK_SECONDS} s, plus backoffs) covers ${read} slots of a schedule whose shortest period is ${period} s; each tick reads them all, so keep it at most ${MAX_SLOTS_READ} (a shorter window, fewer retries or a shorter maxRunSeconds)`,
  );
}

/** `compute.cronJobs`, `compute.cronDefaults` and `compute.jobTable`, before anything is written. */
export function checkCronJobs(
  jobs: readonly CronJobSettings[],
  defaults: CronJobTiming | undefined,
  table: JobTableSettings | undefined,
  problems: Problems,
): void {
  const defaultsOk = defaults === undefined || checkTiming(defaults, problems.at("cronDefaults"));
  jobs.forEach((job, i) => {
    const at = problems.at(`cronJobs[${i}]`);
    at.check(NAME.test(job.name), "name", job.name, "must be 1-63 of a-z, 0-9 and -, starting with a letter or digit");
    at.check(job.name !== RUNNER_NAME, "name", job.name, `is the runner's own name (its log is cron-${RUNNER_NAME}.log)`);
    at.check(jobs.findIndex((j) => j.name === job.name) === i, "name", job.name, "another cron job has the same name");
    const problem = cronProblem(job.schedule);
    let scheduleOk = at.check(problem === undefined, "schedule", job.schedule, `not a valid cron schedule: ${problem}`);
    if (scheduleOk)
      scheduleOk = at.check(
        cronPeriod(job.schedule).fires,
        "schedule",
        job.schedule,
        "never fires (no such date in eight years): cron accepts it and never runs it",
      );
    at.check(job.command.trim().length > 0, "command", job.command, "must not be empty");
    if (checkTiming(job, at) && defaultsOk && scheduleOk) checkRelations(resolveCronJob(job, defaults), job, at);
  });
  const retention = table?.recordRetentionDays;
  if (retention !== undefined) {
    problems.check(
      isIntegerBetween(retention, 1, 365),
      "jobTable.recordRetentionDays",
      retention,
      "must be a whole number of days from 1 to 365",
    );
  }
}

/** What the runner reads (/etc/webapp/jobs.json): the table, the metrics namespace and each job's timing. */
export interface JobsRuntime {
  readonly table: string;
  readonly region: string;
  /** CloudWatch namespace of the runner's metrics (the environment's app namespace). */
  readonly namespace: string;
  readonly recordRetentionDays: number;
  /** Where each job's log goes (`cron-<job>.log`). */
  readonly logDir: string;
  /** The timed-jobs switch, an SSM parameter name (`timedJobsParameterName()`). */
  readonly switchParameter: string;
}

/** The runner's configuration, as JSON text (the boot writes it verbatim). No test settings, ever. */
export function jobsConfig(jobs: readonly ResolvedCronJob[], runtime: JobsRuntime, scriptDir: string): string {
  return JSON.stringify(
    {
      table: runtime.table,
      region: runtime.region,
      namespace: runtime.namespace,
      switchParameter: runtime.switchParameter,
      stateDir: JOBS_STATE_DIR,
      logDir: runtime.logDir,
      recordRetentionDays: runtime.recordRetentionDays,
      clockSkewMarginSeconds: CLOCK_SKEW_MARGIN_SECONDS,
      killGraceSeconds: KILL_GRACE_SECONDS,
      jobs: jobs.map((j) => ({
        name: j.name,
        schedule: j.schedule,
        command: ["/bin/bash", `${scriptDir}/${j.name}.sh`],
        leaseSeconds: j.leaseSeconds,
        maxRunSeconds: j.maxRunSeconds,
        retries: j.retries,
        retryBackoffSeconds: j.retryBackoffSeconds,
        backfillWindowSeconds: j.backfillWindowSeconds,
      })),
    },
    null,
    1,
  );
}

export interface JobTableProps extends JobTableSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
}

/**
 * The slot table `<prefix>-jobs`: key (job, slot), on demand, encrypted with its own KMS key, point-in-time
 * recovery, records expiring through the `expiresAt` TTL attribute.
 */
export class JobTable extends Construct {
  readonly table: DynamodbTable;
  readonly key: EncryptionKey;
  readonly tableName: string;
  readonly tableArn: string;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: JobTableProps) {
    super(scope, id);
    this.region = props.region;
    this.key = new EncryptionKey(this, "key", {
      description: `${props.namePrefix}: timed jobs' slot table`,
      alias: `${props.namePrefix}-jobs`,
      accountId: props.accountId,
    });
    this.table = new DynamodbTable(this, "table", {
      name: `${props.namePrefix}-jobs`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "job",
      rangeKey: "slot",
      attribute: [
        { name: "job", type: "S" },
        { name: "slot", type: "S" },
      ],
      ttl: { attributeName: "expiresAt", enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: this.key.arn },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: props.deletionProtection ?? true,
      tags: { Name: `${props.namePrefix}-jobs` },
    });
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
  }

  /** Read and write slot items of this table only (no scan, no table administration), through its key. */
  grantRunner(): Statement[] {
    return [
      {
        Sid: "JobSlots",
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
        Resource: this.tableArn,
      },
      {
        Sid: "JobSlotsKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
        Resource: this.key.arn,
        Condition: { StringEquals: { "kms:ViaService": `dynamodb.${this.region}.amazonaws.com` } },
      },
    ];
  }
}
