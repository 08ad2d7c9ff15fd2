// The lock helper against a real redis-server (TLS + AUTH) on a loopback port.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptPath } from "../modules/compute";
import { freePort, startRedis, TestRedis } from "./support/tools";

const HELPER = scriptPath("cron-lock.sh");

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runHelper(env: Record<string, string>, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [HELPER, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: TestRedis;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  work = mkdtempSync(join(tmpdir(), "cron-lock-"));
  env = { ...redis.env, LOCK_MIN_HOLD_SECONDS: "0" };
}, 30_000);

afterAll(async () => {
  await redis?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A command that appends one line to `file` per run. */
const record = (file: string, extra = "") => ["--", "bash", "-c", `echo ran >>'${file}'${extra}`];
const runs = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0);

test("the server under test speaks TLS and demands a password", () => {
  expect(redis.tls).toBe(true);
  expect(redis.cli("CONFIG", "GET", "requirepass")).toContain(redis.password);
});

test("takes the lock, runs the command, releases its lock and passes on the exit status", async () => {
  const file = join(work, "single");
  const result = await runHelper(env, ["single", "30", ...record(file, "; exit 3")]);
  expect(result.status).toBe(3);
  expect(runs(file)).toBe(1);
  expect(redis.cli("EXISTS", "lock:single")).toBe("0");
});

test("many concurrent invocations: exactly one runs, the others exit 0 without running", async () => {
  const file = join(work, "concurrent");
  const results = await Promise.all(
    Array.from({ length: 16 }, () => runHelper({ ...env, LOCK_MIN_HOLD_SECONDS: "30" }, ["concurrent", "60", ...record(file, "; sleep 1")])),
  );
  expect(runs(file)).toBe(1);
  expect(results.map((r) => r.status)).toEqual(Array(16).fill(0));
  expect(results.filter((r) => /running elsewhere/.test(r.stdout))).toHaveLength(15);
}, 30_000);

test("a fast job keeps the lock for the minimum hold, so a late cron on another instance does not run it again", async () => {
  const file = join(work, "hold");
  const holdEnv = { ...env, LOCK_MIN_HOLD_SECONDS: "5" };
  expect((await runHelper(holdEnv, ["hold", "60", ...record(file)])).status).toBe(0);
  const ttl = Number(redis.cli("PTTL", "lock:hold"));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(5000);
  expect((await runHelper(holdEnv, ["hold", "60", ...record(file)])).status).toBe(0);
  expect(runs(file)).toBe(1);
});

test("a crashed holder's lock expires after its TTL, and then the job runs again", async () => {
  const file = join(work, "crash");
  // The command kills the helper (its parent) with SIGKILL: no release happens.
  const crashed = await runHelper(env, ["crash", "2", "--", "bash", "-c", `echo ran >>'${file}'; kill -KILL $PPID`]);
  expect(crashed.status).toBeNull();
  expect(redis.cli("EXISTS", "lock:crash")).toBe("1");
  expect((await runHelper(env, ["crash", "2", ...record(file)])).status).toBe(0);
  expect(runs(file)).toBe(1);
  await sleep(2300);
  expect((await runHelper(env, ["crash", "2", ...record(file)])).status).toBe(0);
  expect(runs(file)).toBe(2);
}, 20_000);

test("nobody releases another's lock: a held lock is left alone", async () => {
  redis.cli("SET", "lock:theirs", "another-instance", "PX", "10000");
  const file = join(work, "theirs");
  const result = await runHelper(env, ["theirs", "30", ...record(file)]);
  expect(result.status).toBe(0);
  expect(runs(file)).toBe(0);
  expect(redis.cli("GET", "lock:theirs")).toBe("another-instance");
});

test("nobody releases another's lock: a lock taken over while the job ran survives the release", async () => {
  const cli = ["redis-cli", "-h", "127.0.0.1", "-p", String(redis.port), "--tls", "--cacert", redis.caFile ?? ""].join(" ");
  const takeover = `REDISCLI_AUTH="$REDIS_AUTH_TOKEN" ${cli} SET lock:taken new-holder PX 10000 >/dev/null`;
  const result = await runHelper(env, ["taken", "30", "--", "bash", "-c", takeover]);
  expect(result.status).toBe(0);
  expect(result.stderr).toMatch(/taken by another holder/);
  expect(redis.cli("GET", "lock:taken")).toBe("new-holder");
});

test("Redis down: a clear error, a non-zero exit, and the job does not run", async () => {
  const file = join(work, "down");
  const port = await freePort();
  const result = await runHelper({ ...env, REDIS_PORT: String(port) }, ["down", "30", ...record(file)]);
  expect(result.status).toBe(75);
  expect(result.stderr).toMatch(/cron-lock: Redis at 127\.0\.0\.1:\d+ is unreachable .*; not running down/);
  expect(runs(file)).toBe(0);
});

test("a wrong password is an error, not a run", async () => {
  const file = join(work, "auth");
  const result = await runHelper({ ...env, REDIS_AUTH_TOKEN: "wrong" }, ["auth", "30", ...record(file)]);
  expect(result.status).toBe(75);
  expect(result.stderr).toMatch(/refused the lock/);
  expect(runs(file)).toBe(0);
});

test("an untrusted server certificate is an error, not a run", async () => {
  const file = join(work, "cert");
  const withoutCa = Object.fromEntries(Object.entries(env).filter(([key]) => key !== "REDIS_CACERT"));
  const result = await runHelper(withoutCa, ["cert", "30", ...record(file)]);
  expect(result.status).toBe(75);
  expect(runs(file)).toBe(0);
});

test("the token reaches redis-cli through the environment, never its arguments", () => {
  const text = readFileSync(HELPER, "utf8");
  expect(text).toMatch(/export REDISCLI_AUTH=/);
  expect(text).not.toMatch(/\s-a\s|--pass|--user/);
});

test.each([
  [["job", "30", "echo"], /usage/],
  [["job", "soon", "--", "true"], /ttl must be a whole number/],
  [["bad job", "30", "--", "true"], /invalid job name/],
])("usage errors exit 64: %j", async (args, message) => {
  const result = await runHelper(env, args);
  expect(result.status).toBe(64);
  expect(result.stderr).toMatch(message);
});
