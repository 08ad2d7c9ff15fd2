// Real tools the script tests need (Debian packages installed by `npm run setup:tools`), and a throwaway
// redis-server with TLS and a password on a free loopback port.
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Throws (failing the test, never skipping it) when `command` is not on PATH. */
export function requireTool(command: string, packageName: string): void {
  const found = spawnSync("bash", ["-c", `command -v ${command}`], { encoding: "utf8" });
  if (found.status !== 0) {
    throw new Error(`${command} is not installed (Debian package ${packageName}); run \`npm run setup:tools\``);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface TestRedis {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly tls: boolean;
  /** CA certificate that signed the server certificate (TLS only). */
  readonly caFile?: string;
  /** Environment for the job runner and redis-cli. */
  readonly env: Record<string, string>;
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  const cert = join(dir, "server.crt");
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const ext = join(dir, "server.ext");
  const quiet = { stdio: "pipe" as const };
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "1", "-subj", "/CN=webapp-jobs test CA"],
    quiet,
  );
  execFileSync("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost"], quiet);
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  execFileSync(
    "openssl",
    ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext],
    quiet,
  );
  return { ca, cert, key };
}

/** Starts redis-server with `args`; undefined when it exits within half a second (a rejected option). */
async function launch(args: string[]): Promise<ChildProcess | undefined> {
  const server = spawn("redis-server", args, { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  return server.exitCode === null && server.signalCode === null ? server : undefined;
}

/** Starts redis-server on a free loopback port, with TLS when the build supports it, and AUTH. */
export async function startRedis(): Promise<TestRedis> {
  requireTool("redis-server", "redis-server");
  requireTool("redis-cli", "redis-tools");
  requireTool("openssl", "openssl");
  const dir = mkdtempSync(join(tmpdir(), "webapp-jobs-redis-"));
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const certs = makeCertificates(dir);
  const base = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--requirepass", password];
  const tlsArgs = [
    "--port",
    "0",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    certs.cert,
    "--tls-key-file",
    certs.key,
    "--tls-ca-cert-file",
    certs.ca,
    "--tls-auth-clients",
    "no",
  ];
  // TLS when the build supports it (Debian's does); a build without it exits at once on the tls-port option.
  let tls = true;
  let server = await launch([...base, ...tlsArgs]);
  if (!server) {
    tls = false;
    server = await launch([...base, "--port", String(port)]);
  }
  if (!server) throw new Error("redis-server did not start");
  const caFile = tls ? certs.ca : undefined;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    REDIS_HOST: "127.0.0.1",
    REDIS_PORT: String(port),
    REDIS_AUTH_TOKEN: password,
    REDIS_TLS: tls ? "true" : "false",
    ...(caFile ? { REDIS_CACERT: caFile } : {}),
  };
  const cliArgs = ["-h", "127.0.0.1", "-p", String(port), ...(caFile ? ["--tls", "--cacert", caFile] : [])];
  const cli = (...command: string[]): string =>
    execFileSync("redis-cli", [...cliArgs, ...command], { env: { ...env, REDISCLI_AUTH: password }, encoding: "utf8" }).trim();

  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (cli("PING") === "PONG") break;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null) throw new Error(`redis-server exited with ${server.exitCode}`);
    if (Date.now() > deadline) throw new Error("redis-server did not answer within 10 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  const running: ChildProcess = server;

  return {
    host: "127.0.0.1",
    port,
    password,
    tls,
    caFile,
    env,
    cli,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (running.exitCode !== null) return done();
        running.once("exit", done);
        running.kill("SIGTERM");
      }),
  };
}
