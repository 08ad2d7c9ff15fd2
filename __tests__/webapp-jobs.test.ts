// The timed jobs' runner (modules/compute/webapp-jobs.py) on its own: Python 3.9 syntax (Amazon Linux 2023's
// python3), its slots against the validator's cron reading, its view of the configuration the stacks render,
// its command line, the gate and an idle drain, and the metrics it records against the alarms that read them.
// The claims, leases and faults are proven against DynamoDB (moto) and real Redis by `npm run rehearse:jobs`.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cronFirings, jobsConfig, resolveCronJob, retrySpanSeconds, scriptPath, slotsRead } from "../modules/compute";
import { JOB_ALARMS } from "../modules/compute/alarms";
import { startRedis, TestRedis } from "./support/tools";

const RUNNER = scriptPath("webapp-jobs.py");
const SOURCE = readFileSync(RUNNER, "utf8");
/** The interpreter instances run it with (its shebang), never a version manager's shim on PATH. */
const PYTHON = "/usr/bin/python3";

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "webapp-jobs-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runner(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(PYTHON, [RUNNER, ...args], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("is Python 3.9 (Amazon Linux 2023's python3) and standard library only", () => {
  const check = spawnSync(
    PYTHON,
    [
      "-c",
      "import ast, sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 9)); compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
      RUNNER,
    ],
    { encoding: "utf8" },
  );
  expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: "" });
  const imports = [...SOURCE.matchAll(/^(?:from (\S+) import|import (\S+))/gm)].map((m) => (m[1] ?? m[2] ?? "").split(".")[0]);
  const stdlib = [
    "__future__",
    "argparse",
    "calendar",
    "datetime",
    "errno",
    "fcntl",
    "json",
    "os",
    "random",
    "re",
    "shutil",
    "signal",
    "socket",
    "subprocess",
    "sys",
    "time",
    "typing",
  ];
  expect(imports.filter((name) => !stdlib.includes(name!))).toEqual([]);
  expect(SOURCE.startsWith("#!/usr/bin/python3\n")).toBe(true);
});

describe("slots", () => {
  const after = Date.UTC(2027, 1, 26, 22, 0) / 1000; // a Friday evening before a month end
  const until = after + 5 * 86400;
  test.each([
    "* * * * *",
    "*/5 * * * *",
    "15 2 * * *",
    "0 9 * * 1-5",
    "0 0 1,15 * 5", // both day fields restricted: either matches (cronie)
    "*/20 8-10 * feb,mar sun",
    "30 23 28-31 * *",
    "0 0 * * 7",
    "5-10/2 * * * *",
  ])("%s: the runner's slots are the validator's", (schedule) => {
    const python = runner(["slots", schedule, String(after), String(until)]);
    expect(python.status).toBe(0);
    const expected = cronFirings(schedule, after, until).map((t) => new Date(t * 1000).toISOString().replace(/:00\.000Z$/, "Z"));
    expect(python.stdout.split("\n").filter(Boolean)).toEqual(expected);
  });

  test("a leap day slot", () => {
    const python = runner(["slots", "0 12 29 2 *", String(Date.UTC(2028, 0, 1) / 1000), String(Date.UTC(2028, 11, 31) / 1000)]);
    expect(python.stdout).toBe("2028-02-29T12:00Z\n");
  });
});

describe("configuration", () => {
  const jobs = [
    resolveCronJob({ name: "every-minute", schedule: "* * * * *", command: "true", maxRunSeconds: 40 }),
    resolveCronJob({ name: "report", schedule: "*/5 * * * *", command: "true", maxRunSeconds: 120, retries: 3, retryBackoffSeconds: 20 }),
    resolveCronJob({ name: "nightly", schedule: "15 2 * * *", command: "true" }),
  ];
  const text = jobsConfig(
    jobs,
    {
      table: "webapp-test-jobs",
      region: "eu-west-2",
      namespace: "webapp-test/app",
      recordRetentionDays: 30,
      logDir: "/var/log/webapp",
      switchParameter: "/webapp-test/timed-jobs",
    },
    "/etc/webapp/cron",
  );

  test("the runner reads what the stacks render: the same retry span, and no more slots than the validator allows for", () => {
    const file = join(work, "jobs.json");
    writeFileSync(file, text);
    const result = runner(["--config", file, "config"]);
    expect(result.status).toBe(0);
    const seen = JSON.parse(result.stdout);
    for (const job of jobs) {
      expect(seen[job.name].retrySpanSeconds).toBe(retrySpanSeconds(job));
      expect(seen[job.name].readSpanSeconds).toBe(job.backfillWindowSeconds + retrySpanSeconds(job));
      expect(seen[job.name].slotsRead).toBeLessThanOrEqual(slotsRead(job));
      expect(seen[job.name].slotsRead).toBeGreaterThanOrEqual(slotsRead(job) - 2);
      expect(seen[job.name].renewEverySeconds).toBe(job.leaseSeconds / 4);
      // Two renewals fit before the holder must stop its job (the validator's lease rule).
      expect(job.leaseSeconds - seen[job.name].stopBeforeLeaseEndSeconds).toBeGreaterThanOrEqual(2 * seen[job.name].renewEverySeconds);
    }
  });

  test("never carries the test-only clock settings", () => {
    expect(JSON.parse(text)).not.toHaveProperty("test");
  });
});

describe("command line, gate and drain", () => {
  /**
   * A configuration with its own state directory, and an `aws` on PATH (a stand-in, the thinnest there is)
   * that records each call and answers it from `answers` by operation: its output and exit status (the CLI's
   * own format: JSON on stdout, an `(ErrorCode)` line on stderr). Unanswered operations fail. The runner
   * against the AWS API emulator and real Redis: `npm run rehearse:jobs`.
   */
  function instance(answers: Record<string, { out?: string; err?: string; status: number }> = {}): {
    config: string;
    state: string;
    env: NodeJS.ProcessEnv;
    calls: string;
  } {
    const dir = mkdtempSync(join(work, "instance-"));
    const state = join(dir, "state");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const calls = join(dir, "aws-calls");
    const cases = Object.entries(answers)
      .map(([operation, a]) => `  ${operation}) printf '%s' '${a.out ?? ""}'; printf '%s' '${a.err ?? ""}' >&2; exit ${a.status} ;;`)
      .join("\n");
    writeFileSync(join(bin, "aws"), `#!/bin/sh\necho "$*" >>'${calls}'\ncase "$2" in\n${cases}\nesac\nexit 255\n`);
    chmodSync(join(bin, "aws"), 0o755);
    const config = join(dir, "jobs.json");
    const raw = JSON.parse(
      jobsConfig(
        [resolveCronJob({ name: "x", schedule: "* * * * *", command: "true", maxRunSeconds: 30 })],
        {
          table: "t",
          region: "eu-west-2",
          namespace: "n",
          recordRetentionDays: 1,
          logDir: dir,
          switchParameter: "/webapp-test/timed-jobs",
        },
        dir,
      ),
    );
    // The schedule clock is set to 10 s past a minute, so the slots due in a window do not depend on when
    // the test runs (ages 10, 70, 130, 190 s: four within the default 210 s window, with 20 s to spare).
    const clockOffsetSeconds = 10 - ((Date.now() / 1000) % 60);
    writeFileSync(config, JSON.stringify({ ...raw, stateDir: state, test: { clockOffsetSeconds } }));
    return { config, state, env: { PATH: `${bin}:${process.env.PATH}` }, calls };
  }

  test("usage errors exit 64", () => {
    expect(runner([]).status).toBe(64);
    expect(runner(["frobnicate"]).status).toBe(64);
    const { config } = instance();
    expect(runner(["--config", config, "drain", "--timeout", "-1"]).status).toBe(64);
    expect(runner(["--config", config, "drain", "--timeout", "soon"]).status).toBe(64);
  });

  test("without the gate a tick claims nothing: it does not even read the table", () => {
    const { config, env, calls } = instance();
    const tick = spawnSync(PYTHON, [RUNNER, "--config", config, "tick"], { encoding: "utf8", env });
    expect({ status: tick.status, stdout: tick.stdout, stderr: tick.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(existsSync(calls)).toBe(false);
  });

  test("with the gate a tick reads the switch and the table (and says so when it cannot read the table)", () => {
    const { config, state, env, calls } = instance({
      "get-parameter": { err: "An error occurred (ParameterNotFound) when calling the GetParameter operation: ", status: 254 },
    });
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, "gate"), "");
    const tick = spawnSync(PYTHON, [RUNNER, "--config", config, "tick"], { encoding: "utf8", env });
    expect(tick.status).toBe(1);
    expect(tick.stdout).toMatch(/cannot read the jobs table t; claiming nothing this minute/);
    // The two side by side: in either order.
    const made = readFileSync(calls, "utf8").split("\n").filter(Boolean).sort();
    expect(made).toHaveLength(2);
    expect(made[0]).toMatch(/^dynamodb batch-get-item --region eu-west-2 /);
    expect(made[1]).toMatch(/^ssm get-parameter --region eu-west-2 .*"Name": "\/webapp-test\/timed-jobs"/);
  });

  describe("the timed-jobs switch (the SSM parameter), read once per tick", () => {
    /** One tick with the switch answering `parameter`, over an empty table whose claims fail the condition (no job starts). */
    function tickWith(parameter: { out?: string; err?: string; status: number }) {
      const { config, state, env, calls } = instance({
        "get-parameter": parameter,
        "batch-get-item": { out: '{"Responses": {"t": []}, "UnprocessedKeys": {}}', status: 0 },
        "update-item": {
          err: "An error occurred (ConditionalCheckFailedException) when calling the UpdateItem operation: The conditional request failed",
          status: 254,
        },
      });
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, "gate"), "");
      const tick = spawnSync(PYTHON, [RUNNER, "--config", config, "tick"], { encoding: "utf8", env: { ...env, REDIS_HOST: "" } });
      const made = readFileSync(calls, "utf8").split("\n").filter(Boolean);
      return {
        status: tick.status,
        stdout: tick.stdout,
        reads: made.filter((c) => c.startsWith("ssm get-parameter")).length,
        // Conditional writes of a slot's status (the cursor's are not): claims and holds.
        writes: made
          .filter((c) => c.startsWith("dynamodb update-item"))
          .map((c) => /":a0": \{"S": "(\w+)"\}/.exec(c)?.[1])
          .filter((x) => x !== undefined && x !== "~cursor" && !x.startsWith("20")),
        seen: readFileSync(join(state, "switch"), "utf8"),
      };
    }
    const value = (v: string) => ({
      out: JSON.stringify({ Parameter: { Name: "/webapp-test/timed-jobs", Type: "String", Value: v } }),
      status: 0,
    });

    test("on, or no parameter: the due slot is claimed", () => {
      expect(tickWith(value("on"))).toMatchObject({ reads: 1, writes: ["running"], seen: "on\n" });
      expect(
        tickWith({ err: "An error occurred (ParameterNotFound) when calling the GetParameter operation: ", status: 254 }),
      ).toMatchObject({ reads: 1, writes: ["running"], seen: "on\n" });
    });

    test("off: every due slot (the default backfill window, 210 s, holds four) is recorded held, none claimed", () => {
      expect(tickWith(value("off"))).toMatchObject({ status: 0, reads: 1, writes: ["held", "held", "held", "held"], seen: "off\n" });
    });

    test("any other value, or no answer from the API: nothing is claimed or held (fail closed), and the tick says why", () => {
      const paused = tickWith(value("paused"));
      expect(paused).toMatchObject({ status: 1, reads: 1, writes: [], seen: "unknown\n" });
      expect(paused.stdout).toMatch(
        /timed-jobs switch unknown: \/webapp-test\/timed-jobs is 'paused', neither on nor off; claiming and holding nothing/,
      );
      const down = tickWith({ err: 'Could not connect to the endpoint URL: "https://ssm.eu-west-2.amazonaws.com/"', status: 255 });
      expect(down).toMatchObject({ status: 1, reads: 1, writes: [], seen: "unknown\n" });
      expect(down.stdout).toMatch(/timed-jobs switch unknown: cannot read \/webapp-test\/timed-jobs/);
    });
  });

  test("an idle drain closes the gate and exits 0 at once, and again when repeated", () => {
    const { config, state, env } = instance();
    mkdirSync(join(state, "running"), { recursive: true });
    writeFileSync(join(state, "gate"), "");
    for (let i = 0; i < 2; i++) {
      const drain = spawnSync(PYTHON, [RUNNER, "--config", config, "drain", "--timeout", "5"], { encoding: "utf8", env, timeout: 10_000 });
      expect(drain.status).toBe(0);
      expect(drain.stdout).toMatch(/drain: done \(0 finished, 0 given back, 0 killed\)/);
      expect(existsSync(join(state, "gate"))).toBe(false);
    }
  });

  test("the contract the terminate path relies on is the script's header", () => {
    const header = SOURCE.slice(0, SOURCE.indexOf('"""', SOURCE.indexOf('"""') + 3));
    expect(header).toMatch(/Drain \(the contract the terminate lifecycle path relies on\):/);
    expect(header).toMatch(/Exit status: 0 when no job of this instance runs any more/);
  });
});

test("records exactly the metrics the alarms and the dashboard read", () => {
  const recorded = new Set([...SOURCE.matchAll(/metric\(config, "(\w+)"/g)].map((m) => m[1]));
  expect([...recorded].sort()).toEqual([...JOB_ALARMS.map((a) => a.metric), "JobRetries"].sort());
});

describe("the job's Redis lock (the runner's Lua, on real redis-server with TLS and AUTH)", () => {
  // The scripts as the runner sends them (Python triple-quoted strings without escapes).
  const lua = (name: string) => new RegExp(`^${name} = """([\\s\\S]*?)"""$`, "m").exec(SOURCE)![1]!;
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  test("renewal keeps the holder's key, takes a lost key again, and leaves another holder's alone", () => {
    const renew = lua("RENEW_LOCK");
    expect(redis.cli("SET", "lock:a", "mine", "NX", "PX", "60000")).toBe("OK");
    expect(redis.cli("EVAL", renew, "1", "lock:a", "mine", "120000")).toBe("1");
    expect(Number(redis.cli("PTTL", "lock:a"))).toBeGreaterThan(60000);
    // A restart, a failover or an eviction lost it: the holder takes it again.
    redis.cli("DEL", "lock:a");
    expect(redis.cli("EVAL", renew, "1", "lock:a", "mine", "120000")).toBe("2");
    expect(redis.cli("GET", "lock:a")).toBe("mine");
    // Someone else holds it now (it lapsed meanwhile): nothing changes.
    redis.cli("SET", "lock:a", "theirs", "PX", "5000");
    expect(redis.cli("EVAL", renew, "1", "lock:a", "mine", "120000")).toBe("0");
    expect(redis.cli("GET", "lock:a")).toBe("theirs");
  });

  test("release is a compare-and-delete", () => {
    const release = lua("RELEASE_LOCK");
    redis.cli("SET", "lock:b", "theirs", "PX", "60000");
    expect(redis.cli("EVAL", release, "1", "lock:b", "mine")).toBe("0");
    expect(redis.cli("GET", "lock:b")).toBe("theirs");
    expect(redis.cli("EVAL", release, "1", "lock:b", "theirs")).toBe("1");
    expect(redis.cli("EXISTS", "lock:b")).toBe("0");
  });
});
