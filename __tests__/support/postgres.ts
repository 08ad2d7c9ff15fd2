// A throwaway PostgreSQL cluster on a free loopback port (Debian's `postgresql` package, installed by
// `npm run setup:tools`): initdb into a temp directory, pg_ctl start, password (SCRAM) auth over TCP only,
// stopped and removed by stop() on every exit path. Run as root, it runs the server as `postgres`.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, requireTool } from "./tools";

export interface TestPostgres {
  readonly port: number;
  /** The bootstrap superuser and its password. */
  readonly admin: { readonly user: string; readonly password: string };
  /** Runs psql as `user`/`password` against `database`; returns status, stdout and stderr (never throws). */
  psql(
    user: string,
    password: string,
    database: string,
    args: readonly string[],
    env?: Record<string, string>,
  ): { status: number; stdout: string; stderr: string };
  stop(): void;
}

function binDir(): string {
  const versions = (() => {
    try {
      return readdirSync("/usr/lib/postgresql")
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a));
    } catch {
      return [];
    }
  })();
  if (versions.length === 0)
    throw new Error("PostgreSQL server binaries are not installed (Debian package postgresql); run `npm run setup:tools`");
  return join("/usr/lib/postgresql", versions[0]!, "bin");
}

export async function startPostgres(): Promise<TestPostgres> {
  requireTool("psql", "postgresql-client");
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  // Run as root, the server runs as `postgres`, which must reach its directory: the run's own temp folder
  // (and a private TMPDIR above it) is root's alone, so the cluster goes straight under /tmp (its own
  // mode-0700 folder, given to postgres, removed by stop()).
  const dir = mkdtempSync(join(asRoot ? "/tmp" : tmpdir(), "pg-"));
  const port = await freePort();
  const admin = { user: "admin", password: `pw-${Math.random().toString(36).slice(2)}` };
  const run = (command: string, args: string[]) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", join(bin, command), ...args], { stdio: "pipe" })
      : execFileSync(join(bin, command), args, { stdio: "pipe" });
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, `${admin.password}\n`, { mode: 0o600 });
  if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const data = join(dir, "data");
  let started = false;
  const stop = () => {
    if (started) {
      const args = [join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"];
      spawnSync(asRoot ? "runuser" : args[0]!, asRoot ? ["-u", "postgres", "--", ...args] : args.slice(1), {
        stdio: "ignore",
        timeout: 30_000,
      });
    }
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run("initdb", [
      "-D",
      data,
      "-U",
      admin.user,
      "--pwfile",
      pwfile,
      "--auth-local=reject",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
    ]);
    run("pg_ctl", [
      "-D",
      data,
      "-l",
      join(dir, "server.log"),
      "-w",
      "-t",
      "30",
      "-o",
      `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='${dir}' -c fsync=off`,
      "start",
    ]);
    started = true;
  } catch (error) {
    stop();
    throw error;
  }
  return {
    port,
    admin,
    psql(user, password, database, args, env = {}) {
      const result = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", ...args], {
        encoding: "utf8",
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          PGHOST: "127.0.0.1",
          PGPORT: String(port),
          PGUSER: user,
          PGPASSWORD: password,
          PGDATABASE: database,
          PGCONNECT_TIMEOUT: "5",
          ...env,
        },
      });
      return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    stop,
  };
}
