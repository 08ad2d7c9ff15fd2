// The instance scripts: shellcheck on every file and on the rendered user data, the env renderer with
// hostile values, the clone step against a local bare repository, the user data's loader (shape, resolved
// size, checksum) and the boot bundle it fetches.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  BOOT_FAILURE_PATTERN,
  expandUserData,
  jobsConfig,
  renderBootBundle,
  renderUserData,
  resolveCronJob,
  scriptPath,
  shellQuote,
} from "../modules/compute";
import type { BootBundleLocation, BootInfrastructure, BootSettings } from "../modules/compute/boot-script";
import { requireTool } from "./support/tools";

const SCRIPTS = ["boot.sh", "fetch-code.sh", "lifecycle.sh", "render-env.sh", "restart-app.sh", "webapp-env.sh"];
const HOSTILE = 'it\'s "quoted" $HOME ${PATH} `id` $(id) a=b=c  spaced \\ back\nsecond line\n\ttab; rm -rf / #';

const infrastructure: BootInfrastructure = {
  databaseHost: "webapp-dev-db.abc123.eu-west-2.rds.amazonaws.com",
  databasePort: "5432",
  databaseName: "app",
  databaseEngine: "postgres",
  databaseSecretArn: "arn:aws:secretsmanager:eu-west-2:111111111111:secret:rds!db-1234-AbCdEf",
  cacheHost: "master.webapp-dev-cache.abc123.euw2.cache.amazonaws.com",
  cachePort: "6379",
  cacheTls: "true",
  cacheTokenSecretArn: "arn:aws:secretsmanager:eu-west-2:111111111111:secret:webapp-dev/cache-auth-AbCdEf",
  fileSystemId: "fs-0123456789abcdef0",
  accessPointId: "fsap-0123456789abcdef0",
  appEnvSecretArn: "arn:aws:secretsmanager:eu-west-2:111111111111:secret:webapp-dev/app-env-AbCdEf",
  repositoryCredentialSecretArn: "arn:aws:secretsmanager:eu-west-2:111111111111:secret:webapp-dev/repository-AbCdEf",
  targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/8080-abc/0123456789abcdef",
};

const settings: BootSettings = {
  environmentName: "dev",
  region: "eu-west-2",
  autoScalingGroupName: "webapp-dev-app",
  launchHookName: "boot",
  terminateHookName: "drain",
  logGroupName: "/webapp-dev/app",
  appUser: "webapp",
  appPort: 8080,
  uploadsPath: "/mnt/uploads",
  healthCheckPath: "/healthz",
  databaseCaBundleUrl: "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
  healthCheckWaitSeconds: 300,
  bootTimeoutSeconds: 900,
  bootStepTimeoutSeconds: 600,
  repositoryUrl: "https://github.com/example-org/webapp.git",
  repositoryRef: "refs/tags/v1.4.2",
  repositoryDirectory: "",
  allowBranchRef: false,
  credentialType: "https-token",
  httpsUsername: "x-access-token",
  sshKnownHosts: ["github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"],
  runtimePackages: ["nodejs22", "nodejs22-npm"],
  buildCommands: ["npm ci --omit=dev", "npm run build -- --mode \"production\" && echo '$done'"],
  startCommand: HOSTILE,
  cronJobs: [
    { name: "nightly-report", command: "node jobs/report.js > /dev/null" },
    { name: "purge", command: "node jobs/purge.js --older-than '30 days'" },
  ],
  jobsConfig: jobsConfig(
    [
      resolveCronJob({ name: "nightly-report", schedule: "15 2 * * *", command: "node jobs/report.js > /dev/null", maxRunSeconds: 1800 }),
      resolveCronJob({ name: "purge", schedule: "*/10 * * * *", command: "node jobs/purge.js --older-than '30 days'", maxRunSeconds: 120 }),
    ],
    {
      table: "webapp-dev-jobs",
      region: "eu-west-2",
      namespace: "webapp-dev/app",
      recordRetentionDays: 30,
      logDir: "/var/log/webapp",
      switchParameter: "/webapp-dev/timed-jobs",
    },
    "/etc/webapp/cron",
  ),
  jobsDrainTimeoutSeconds: 15,
  deregistrationDelaySeconds: 30,
  loadBalancerIdleTimeoutSeconds: 60,
  targetHealthySeconds: 35,
};

/** Where a bundle would be stored: what BootBundle passes to the loader. */
function location(bundle: Buffer, patch: Partial<BootBundleLocation> = {}): BootBundleLocation {
  const sha256 = createHash("sha256").update(bundle).digest("hex");
  return {
    region: "eu-west-2",
    bucket: "webapp-dev-boot-111111111111",
    key: `boot/${sha256}.sh.gz`,
    versionId: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
    sha256,
    ...patch,
  };
}

const bundle = renderBootBundle(settings);
const userData = renderUserData(infrastructure, location(bundle));
const expanded = expandUserData(userData, bundle);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "boot-script-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function shellcheck(file: string): { status: number | null; output: string } {
  requireTool("shellcheck", "shellcheck");
  const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--external-sources", file], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("shellcheck", () => {
  test.each(SCRIPTS)("%s is clean", (name) => {
    expect(shellcheck(scriptPath(name))).toEqual({ status: 0, output: "" });
  });

  test.each([
    "scripts/rehearse-boot.sh",
    "scripts/rehearse-fleet.sh",
    "scripts/rehearse-jobs.sh",
    "rehearsals/instances/packages-layer.sh",
    "rehearsals/instances/operator/aws",
    "rehearsals/instances/operator/terraform",
    "rehearsals/instances/build-rootfs.sh",
    "rehearsals/instances/dnf",
    "rehearsals/instances/stand-ins/awscli",
    "rehearsals/instances/stand-ins/crond",
    "rehearsals/instances/stand-ins/efs",
    "rehearsals/instances/stand-ins/cloudwatch-agent",
  ])("the boot rehearsal's %s is clean", (file) => {
    expect(shellcheck(join(__dirname, "..", file))).toEqual({ status: 0, output: "" });
  });

  test("the end-to-end sandbox runner is clean", () => {
    expect(shellcheck(join(__dirname, "support", "boot-sandbox.sh"))).toEqual({ status: 0, output: "" });
  });

  test("the user data and the script an instance runs (header + unpacked boot script) are clean", () => {
    for (const [name, text] of [
      ["user-data.sh", userData],
      ["expanded.sh", expanded],
    ]) {
      const file = join(work, name!);
      writeFileSync(file, text!);
      expect(shellcheck(file)).toEqual({ status: 0, output: "" });
    }
  });
});

describe("rendered user data", () => {
  test("settings round-trip through the header's quoting, whatever they hold", () => {
    const script = `${shellQuote(HOSTILE)}`;
    const out = execFileSync("bash", ["-c", `X=${script}; printf '%s' "$X"`], { encoding: "utf8" });
    expect(out).toBe(HOSTILE);
    const probe = join(work, "probe.sh");
    // The settings header, sourced alone, yields the exact values.
    const header = expanded.split("\n# Helper scripts")[0];
    writeFileSync(probe, `${header}\nprintf '%s\\0' "$START_COMMAND" "\${BUILD_COMMANDS[@]}" "\${CRON_COMMANDS[@]}" "$DB_HOST"\n`);
    const values = execFileSync("bash", [probe], { encoding: "utf8" }).split("\0").slice(0, -1);
    expect(values).toEqual([HOSTILE, ...settings.buildCommands, ...settings.cronJobs.map((j) => j.command), infrastructure.databaseHost]);
  });

  test("is a small loader: resolved with the longest names and ARNs AWS allows, it stays far under the 16 KB limit", () => {
    // Secret names up to 512 characters (Secrets Manager), RDS identifiers and ElastiCache group ids at
    // their limits, a 63-character bucket and a 1024-byte S3 version id: the header grows, the loader does not.
    const long = (n: number) => "a".repeat(n);
    const secret = (name: string) => `arn:aws:secretsmanager:ap-southeast-4:111111111111:secret:${name}-AbCdEf`;
    const longest: BootInfrastructure = {
      databaseHost: `${long(63)}.${long(12)}.ap-southeast-4.rds.amazonaws.com`,
      databasePort: "65535",
      databaseName: long(63),
      databaseEngine: "postgres",
      databaseSecretArn: secret(long(512)),
      cacheHost: `master.${long(40)}.${long(6)}.apse4.cache.amazonaws.com`,
      cachePort: "65535",
      cacheTls: "true",
      cacheTokenSecretArn: secret(long(512)),
      fileSystemId: "fs-0123456789abcdef0",
      accessPointId: "fsap-0123456789abcdef0",
      appEnvSecretArn: secret(long(512)),
      repositoryCredentialSecretArn: secret(long(512)),
      // A target group's name is at most 32 characters.
      targetGroupArn: `arn:aws:elasticloadbalancing:ap-southeast-4:111111111111:targetgroup/${long(32)}/0123456789abcdef`,
    };
    const resolved = renderUserData(longest, location(bundle, { region: "ap-southeast-4", bucket: long(63), versionId: long(1024) }));
    expect(Buffer.byteLength(resolved)).toBeLessThan(6 * 1024);
    // The bundle carries what the user data used to: it may grow without nearing the limit.
    expect(Buffer.byteLength(userData)).toBeLessThan(2.5 * 1024);
  });

  test("fetches the bundle by key and version with the AWS CLI, checks its SHA-256, then unpacks and runs it", () => {
    const sha = createHash("sha256").update(bundle).digest("hex");
    expect(userData).toContain(`BOOT_BUNDLE_SHA256='${sha}'`);
    expect(userData).toContain(`BOOT_BUNDLE_OBJECT='boot/${sha}.sh.gz'`);
    expect(userData).toMatch(
      /aws s3api get-object --region eu-west-2 --bucket \$BOOT_BUNDLE_BUCKET --key \$BOOT_BUNDLE_OBJECT --version-id \$BOOT_BUNDLE_VERSION \/usr\/local\/lib\/webapp\/boot\.sh\.gz/,
    );
    const lines = userData.split("\n");
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/sha256sum --check/)).toBeGreaterThan(at(/get-object/));
    expect(at(/^gunzip -c/)).toBeGreaterThan(at(/sha256sum --check/));
    expect(at(/^\. \/usr\/local\/lib\/webapp\/boot\.sh$/)).toBe(lines.length - 2);
    // A Terraform string template: no double quotes, backslashes or ${ other than references.
    expect(userData.replace(/\$\{aws_[^}]*\}/g, "")).not.toMatch(/["\\]|\$\{|%\{/);
    expect(() => renderUserData(infrastructure, location(bundle, { sha256: "not-a-sha" }))).toThrow(/is not a hex SHA-256/);
  });

  test("the bundle is deterministic: the same settings give the same bytes", () => {
    expect(renderBootBundle(settings).equals(bundle)).toBe(true);
    expect(bundle[9]).toBe(255);
  });

  test("holds secret references, never secret values", () => {
    const text = expanded;
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
    expect(text).not.toMatch(/(PASSWORD|TOKEN|SECRET)=['"]?[^'"$\s(]/);
    for (const arn of [
      infrastructure.databaseSecretArn,
      infrastructure.cacheTokenSecretArn,
      infrastructure.appEnvSecretArn,
      infrastructure.repositoryCredentialSecretArn,
    ]) {
      expect(text).toContain(`'${arn}'`);
    }
    // Every secret is fetched at boot into a file, not into the user data.
    expect(text.match(/secret "\$[A-Z_]+_ARN"/g)).toHaveLength(4);
  });

  test("runs the steps in order, each logged under its name", () => {
    const calls = [...expanded.matchAll(/^step (\w+) \w+$/gm)].map((m) => m[1]);
    expect(calls).toEqual(["install", "logging", "mount", "code", "env", "build", "app", "cron", "health", "complete"]);
    expect(expanded).toContain(`readonly STEPS=(${calls.join(" ")})`);
    expect(expanded).toMatch(/log_stream_name: "\{instance_id\}\/\\\(\.\)"/);
  });

  test("abandons the launch on any failure and completes it with CONTINUE only after the local health check", () => {
    expect(expanded).toMatch(/^set -Eeuo pipefail$/m);
    expect(expanded).toContain("trap 'on_error $LINENO' ERR");
    expect(expanded).toMatch(/on_error\(\) \{[\s\S]*complete_launch ABANDON/);
    expect(expanded).toMatch(/complete_continue\(\) \{\n  LAUNCH_PENDING=false\n  complete_launch CONTINUE/);
    expect(expanded.indexOf("step health wait_healthy")).toBeLessThan(expanded.indexOf("step complete complete_continue"));
  });

  test("mounts EFS with TLS, IAM and the access point, with an fstab entry and retries", () => {
    expect(expanded).toContain('mount -t efs -o "tls,iam,accesspoint=$EFS_ACCESS_POINT_ID" "$EFS_FILE_SYSTEM_ID:/" "$UPLOADS_PATH"');
    expect(expanded).toContain("efs _netdev,noresvport,tls,iam,accesspoint=$EFS_ACCESS_POINT_ID 0 0");
    expect(expanded).toMatch(/for attempt in \$\(seq 1 30\)/);
  });

  test("timed jobs: one cron line runs the job runner every minute with the app's environment; the runner's configuration is the rendered JSON", () => {
    expect(expanded).toContain(
      "'* * * * * %s /usr/local/bin/webapp-env /usr/local/bin/webapp-jobs tick >>%s/cron-webapp-jobs.log 2>&1\\n'",
    );
    expect(expanded).toContain(`write_jobs_config() {\n  cat <<'WEBAPP_HELPER_EOF'\n${settings.jobsConfig}\nWEBAPP_HELPER_EOF\n}`);
    expect(expanded).toContain(
      `write_helper_webapp_jobs() {\n  cat <<'WEBAPP_HELPER_EOF'\n${readFileSync(scriptPath("webapp-jobs.py"), "utf8").replace(/\n$/, "")}\nWEBAPP_HELPER_EOF`,
    );
    // The gate opens in the complete step, after the health check, and not for a warm-pool instance.
    expect(expanded).toMatch(/complete_continue\(\) \{\n  LAUNCH_PENDING=false\n  complete_launch CONTINUE[^\n]*\n  open_job_gate\n/);
    expect(expanded).toMatch(/open_job_gate\(\) \{[\s\S]*imds autoscaling\/target-lifecycle-state[\s\S]*Warmed:\*\)/);
  });

  test("the app runs under systemd, restarted on failure, as the app user", () => {
    expect(expanded).toMatch(
      /User=\$APP_USER\nExecStart=\/usr\/local\/bin\/webapp-env \/usr\/local\/lib\/webapp\/start\nRestart=on-failure/,
    );
  });

  test("the failure line matches the filter pattern the boot-failures alarm uses", () => {
    const terms = (pattern: string) => [...pattern.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    for (const term of terms(BOOT_FAILURE_PATTERN)) expect(readFileSync(scriptPath("boot.sh"), "utf8")).toContain(term);
  });

  test("an infrastructure value that could break out of its quotes is refused", () => {
    expect(() => renderUserData({ ...infrastructure, databaseName: "app'; reboot; '" }, location(bundle))).toThrow(/databaseName/);
    expect(() => renderUserData(infrastructure, location(bundle, { versionId: "v'; reboot; '" }))).toThrow(/bundle\.versionId/);
  });
});

describe("render-env", () => {
  const renderer = scriptPath("render-env.sh");
  const owner = userInfo().username;

  beforeAll(() => requireTool("jq", "jq"));

  function render(objects: unknown[]): { status: number | null; stderr: string; file: string } {
    const dir = mkdtempSync(join(work, "env-"));
    const inputs = objects.map((object, i) => {
      const file = join(dir, `${i}.json`);
      writeFileSync(file, typeof object === "string" ? object : JSON.stringify(object));
      return file;
    });
    const file = join(dir, "app.env");
    const result = spawnSync("bash", [renderer, file, owner, ...inputs], { encoding: "utf8" });
    return { status: result.status, stderr: result.stderr, file };
  }

  /** What the consumer (webapp-env, which sources the file with bash) sees. */
  function sourced(file: string, keys: string[]): Record<string, string> {
    const out = execFileSync("bash", ["-c", `. '${file}'; for k in ${keys.join(" ")}; do printf '%s\\0' "\${!k}"; done`], {
      encoding: "utf8",
    });
    const values = out.split("\0").slice(0, -1);
    return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? "(missing)"]));
  }

  const hostile: Record<string, string> = {
    QUOTES: `single ' double " both '"'"`,
    DOLLARS: "$HOME ${PATH} $(id) $$ $1",
    EQUALS: "a=b==c=",
    SPACES: "  leading and trailing  ",
    NEWLINES: "line one\nline two\n\nline four\n",
    BACKTICKS: "`id` `uname -a`",
    BACKSLASHES: "C:\\path\\n\\t\\\\",
    EMPTY: "",
    UNICODE: "naïve café ✓",
    ALL: HOSTILE,
  };

  test("hostile values round-trip exactly when the file is sourced", () => {
    const result = render([hostile]);
    expect(result.status).toBe(0);
    expect(sourced(result.file, Object.keys(hostile))).toEqual(hostile);
  });

  test("later objects win (infrastructure values over the app-env secret); non-strings become JSON text", () => {
    const result = render([
      { DATABASE_HOST: "from-secret", PORT: 8080, DEBUG: false, NOTHING: null, LIST: [1, "a"] },
      { DATABASE_HOST: "db.internal" },
    ]);
    expect(result.status).toBe(0);
    expect(sourced(result.file, ["DATABASE_HOST", "PORT", "DEBUG", "NOTHING", "LIST"])).toEqual({
      DATABASE_HOST: "db.internal",
      PORT: "8080",
      DEBUG: "false",
      NOTHING: "",
      LIST: '[1,"a"]',
    });
  });

  test("the file is 0600", () => {
    const result = render([{ A: "b" }]);
    expect(statSync(result.file).mode & 0o777).toBe(0o600);
  });

  test("webapp-env runs a command with those values", () => {
    const result = render([hostile]);
    const out = execFileSync("bash", [scriptPath("webapp-env.sh"), "bash", "-c", 'printf "%s" "$ALL"'], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, WEBAPP_ENV_FILE: result.file, WEBAPP_DIR: work },
    });
    expect(out).toBe(HOSTILE);
  });

  test.each<[string, unknown[], RegExp]>([
    ["a key that is not a variable name", [{ "BAD-KEY": "x", "1X": "y" }], /not valid environment variable names: 1X BAD-KEY/],
    ["a secret that is not a JSON object", ['["a"]'], /is not a JSON object/],
    ["a secret that is not JSON", ["KEY=value"], /is not a JSON object/],
  ])("rejects %s, writing nothing", (_, objects, message) => {
    const result = render(objects);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(() => statSync(result.file)).toThrow();
  });
});

describe("fetch-code against a local bare repository", () => {
  const fetcher = scriptPath("fetch-code.sh");
  let url: string;
  let first: string;
  let second: string;

  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

  beforeAll(() => {
    requireTool("git", "git");
    const source = join(work, "source");
    execFileSync("git", ["init", "-q", "-b", "main", source]);
    git(source, "config", "user.email", "test@example.com");
    git(source, "config", "user.name", "test");
    writeFileSync(join(source, "version"), "one\n");
    git(source, "add", "version");
    git(source, "commit", "-qm", "one");
    first = git(source, "rev-parse", "HEAD");
    git(source, "tag", "v1");
    git(source, "tag", "-a", "v1-annotated", "-m", "release one");
    writeFileSync(join(source, "version"), "two\n");
    git(source, "commit", "-qam", "two");
    second = git(source, "rev-parse", "HEAD");
    execFileSync("git", ["clone", "-q", "--bare", source, join(work, "app.git")]);
    url = `file://${join(work, "app.git")}`;
  });

  function fetch(ref: string, ...options: string[]): { status: number | null; output: string; dest: string } {
    const dest = join(work, `checkout-${Math.random().toString(36).slice(2)}`);
    const result = spawnSync("bash", [fetcher, url, ref, dest, ...options], { encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}`, dest };
  }

  const version = (dest: string) => readFileSync(join(dest, "version"), "utf8");

  test.each([
    ["refs/tags/v1", "lightweight tag"],
    ["refs/tags/v1-annotated", "annotated tag"],
  ])("%s (%s) checks out the tagged commit, shallow", (ref) => {
    const result = fetch(ref);
    expect(result.status).toBe(0);
    expect(version(result.dest)).toBe("one\n");
    expect(git(result.dest, "rev-parse", "HEAD")).toBe(first);
    expect(git(result.dest, "rev-parse", "--is-shallow-repository")).toBe("true");
    expect(result.output).toContain(`-> ${first}`);
  });

  test("a commit SHA checks out exactly that commit", () => {
    const result = fetch(first);
    expect(result.status).toBe(0);
    expect(git(result.dest, "rev-parse", "HEAD")).toBe(first);
    expect(version(result.dest)).toBe("one\n");
  });

  test("a commit the repository does not have is rejected", () => {
    const result = fetch("0123456789abcdef0123456789abcdef01234567");
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/cannot fetch 0123456789abcdef0123456789abcdef01234567/);
  });

  test("a tag that does not exist is rejected", () => {
    const result = fetch("refs/tags/v9");
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/tag refs\/tags\/v9 does not exist/);
  });

  test("a branch is refused unless allowed, and fetched when allowed", () => {
    const refused = fetch("refs/heads/main");
    expect(refused.status).toBe(1);
    expect(refused.output).toMatch(/is a branch, and this environment demands a pinned commit or tag/);
    const allowed = fetch("refs/heads/main", "--allow-branch");
    expect(allowed.status).toBe(0);
    expect(git(allowed.dest, "rev-parse", "HEAD")).toBe(second);
  });

  test.each(["main", "v1", "0123abc"])("an ambiguous ref %s is refused", (ref) => {
    const result = fetch(ref);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/neither a full commit SHA/);
  });

  test("a token is read from its file by the credential helper, never passed on the command line", () => {
    const token = join(work, "token");
    writeFileSync(token, "not-a-real-token\n", { mode: 0o600 });
    const result = fetch(second, "--token-file", token);
    expect(result.status).toBe(0);
    expect(result.output).not.toContain("not-a-real-token");
    // Nothing about the credential is left in the checkout's configuration.
    expect(spawnSync("git", ["config", "--get-all", "credential.helper"], { cwd: result.dest }).status).toBe(1);
  });
});

// The whole user data, run as root in a private mount namespace with overlays and stubs (support/boot-sandbox.sh).
const canSandbox =
  process.getuid?.() === 0 &&
  spawnSync("unshare", ["-m", "--propagation", "private", "true"]).status === 0 &&
  spawnSync("id", ["nobody"]).status === 0;

(canSandbox ? describe : describe.skip)("the boot, end to end in a sandbox (root and unshare -m only)", () => {
  const sandbox = join(__dirname, "support", "boot-sandbox.sh");
  const secretValues = {
    appEnv: { APP_KEY: HOSTILE, FEATURE_FLAGS: "a=1,b=2", DATABASE_HOST: "overridden-by-infrastructure" },
    database: { username: "app_admin", password: "p@ss'w\"rd $x `y`" },
    cacheToken: "token-with-$-and-'quote'",
    repository: "repository-token",
  };
  let bare: string;
  let tagged: string;

  beforeAll(() => {
    const source = join(work, "sandbox-source");
    const git = (...args: string[]) => execFileSync("git", args, { cwd: source, encoding: "utf8" }).trim();
    execFileSync("git", ["init", "-q", "-b", "main", source]);
    git("config", "user.email", "test@example.com");
    git("config", "user.name", "test");
    writeFileSync(join(source, "README"), "app\n");
    execFileSync("mkdir", ["-p", join(source, "services", "web")]);
    writeFileSync(join(source, "services", "web", "server.sh"), "echo web\n");
    git("add", "README", "services");
    git("commit", "-qm", "release");
    git("tag", "v2.0.0");
    tagged = git("rev-parse", "HEAD");
    bare = join(work, "sandbox-app.git");
    execFileSync("git", ["clone", "-q", "--bare", source, bare]);
  });

  function writeSecrets(secrets: string, values: typeof secretValues): void {
    execFileSync("mkdir", ["-p", secrets]);
    const write = (arn: string, value: string) => writeFileSync(join(secrets, arn.replace(/[^A-Za-z0-9]/g, "_")), value);
    write(infrastructure.appEnvSecretArn, JSON.stringify(values.appEnv));
    write(infrastructure.databaseSecretArn, JSON.stringify(values.database));
    write(infrastructure.cacheTokenSecretArn, `${values.cacheToken}\n`);
    write(infrastructure.repositoryCredentialSecretArn, `${values.repository}\n`);
  }

  function boot(
    ref: string,
    rotated?: typeof secretValues,
    patch: Partial<BootSettings> = {},
    prepare?: (secrets: string) => void,
    served?: Buffer,
  ): { status: number; calls: string[]; out: string } {
    const dir = mkdtempSync(join(work, "sandbox-"));
    writeSecrets(join(dir, "secrets"), secretValues);
    prepare?.(join(dir, "secrets"));
    if (rotated) writeSecrets(join(dir, "secrets-rotated"), rotated);
    const packed = renderBootBundle({
      ...settings,
      appUser: "nobody",
      repositoryUrl: `file://${bare}`,
      repositoryRef: ref,
      buildCommands: ["id -un > built-by", 'printf "%s" "$DATABASE_PASSWORD" > build-saw-password'],
      startCommand: 'printf "%s" "$APP_KEY" > seen-app-key\ntouch started',
      ...patch,
    });
    // What S3 serves: the bundle, or (to show the check) other bytes under the expected SHA-256.
    writeFileSync(join(dir, "bundle"), served ?? packed);
    const file = join(dir, "user-data.sh");
    writeFileSync(file, renderUserData(infrastructure, location(packed)));
    execFileSync("unshare", ["-m", "--propagation", "private", "bash", sandbox, dir, file], { stdio: "pipe" });
    const out = join(dir, "out");
    return {
      status: Number(readFileSync(join(out, "status"), "utf8")),
      calls: readFileSync(join(dir, "calls"), "utf8").split("\n").filter(Boolean),
      out,
    };
  }

  test("boots: code at the tag, env file from the secrets, build as the app user, cron, health, then CONTINUE", () => {
    const { status, calls, out } = boot("refs/tags/v2.0.0");
    expect({ status, console: status === 0 ? "" : readFileSync(join(out, "console.log"), "utf8") }).toEqual({ status: 0, console: "" });

    expect(execFileSync("git", ["-c", "safe.directory=*", "rev-parse", "HEAD"], { cwd: join(out, "app"), encoding: "utf8" }).trim()).toBe(
      tagged,
    );
    expect(readFileSync(join(out, "app", "built-by"), "utf8").trim()).toBe("nobody");
    expect(readFileSync(join(out, "app", "build-saw-password"), "utf8")).toBe(secretValues.database.password);
    expect(readFileSync(join(out, "app", "seen-app-key"), "utf8")).toBe(HOSTILE);

    const env = join(out, "app.env");
    expect(statSync(env).mode & 0o777).toBe(0o600);
    const keys = [
      "APP_KEY",
      "FEATURE_FLAGS",
      "DATABASE_SSL_CA",
      "PGSSLMODE",
      "DATABASE_HOST",
      "DATABASE_USERNAME",
      "DATABASE_PASSWORD",
      "REDIS_HOST",
      "REDIS_TLS",
      "REDIS_AUTH_TOKEN",
      "UPLOADS_PATH",
      "APP_ENV",
      "LOAD_BALANCER_IDLE_TIMEOUT_SECONDS",
      "LOAD_BALANCER_DEREGISTRATION_DELAY_SECONDS",
    ];
    const values = execFileSync("bash", ["-c", `. '${env}'; for k in ${keys.join(" ")}; do printf '%s\\0' "\${!k}"; done`], {
      encoding: "utf8",
    }).split("\0");
    expect(Object.fromEntries(keys.map((k, i) => [k, values[i]]))).toEqual({
      APP_KEY: HOSTILE,
      FEATURE_FLAGS: "a=1,b=2",
      DATABASE_SSL_CA: "/etc/webapp/rds-ca-bundle.pem",
      PGSSLMODE: "verify-full",
      DATABASE_HOST: infrastructure.databaseHost,
      DATABASE_USERNAME: "app_admin",
      DATABASE_PASSWORD: secretValues.database.password,
      REDIS_HOST: infrastructure.cacheHost,
      REDIS_TLS: "true",
      REDIS_AUTH_TOKEN: secretValues.cacheToken,
      UPLOADS_PATH: "/mnt/uploads",
      APP_ENV: "dev",
      LOAD_BALANCER_IDLE_TIMEOUT_SECONDS: "60",
      LOAD_BALANCER_DEREGISTRATION_DELAY_SECONDS: "30",
    });
    // The app's log belongs to the app user, so logrotate (running as that user) can truncate it.
    expect(statSync(join(out, "app-logs", "app.log")).uid).toBe(Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })));
    expect(statSync(join(out, "app-logs", "app.log")).mode & 0o777).toBe(0o640);

    // The database's CA bundle, downloaded over HTTPS only; the app's and the boot's logs rotated.
    expect(calls).toContainEqual(
      expect.stringMatching(
        /^curl -fsS --proto =https --retry 5 --retry-connrefused --max-time 60 -o \/etc\/webapp\/\.rds-ca\.\w+ https:\/\/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem$/,
      ),
    );
    expect(readFileSync(join(out, "rds-ca-bundle.pem"), "utf8")).toContain("-----BEGIN CERTIFICATE-----");
    expect(statSync(join(out, "rds-ca-bundle.pem")).mode & 0o777).toBe(0o644);
    const rotate = readFileSync(join(out, "logrotate"), "utf8");
    expect(rotate).toMatch(
      /^\/var\/log\/webapp\/\*\.log \{\n  su nobody nogroup\n  daily\n  maxsize 50M\n  rotate 7\n[\s\S]*copytruncate\n\}$/m,
    );
    expect(rotate).toMatch(/^\/var\/log\/webapp-boot\/\*\.log \{$/m);
    expect(readFileSync(join(out, "logrotate-timer.conf"), "utf8")).toBe("[Timer]\nOnCalendar=\nOnCalendar=hourly\n");
    expect(calls).toContain("systemctl enable --now logrotate.timer");
    expect(calls).toContainEqual(
      expect.stringMatching(/^mount -t efs -o tls,iam,accesspoint=fsap-0123456789abcdef0 fs-0123456789abcdef0:\/ \/mnt\/uploads$/),
    );
    expect(readFileSync(join(out, "fstab"), "utf8")).toContain(
      "fs-0123456789abcdef0:/ /mnt/uploads efs _netdev,noresvport,tls,iam,accesspoint=fsap-0123456789abcdef0 0 0",
    );
    const crontab = readFileSync(join(out, "crontab"), "utf8");
    expect(crontab).toBe(
      "SHELL=/bin/bash\nPATH=/usr/local/bin:/usr/bin:/bin\n* * * * * nobody /usr/local/bin/webapp-env /usr/local/bin/webapp-jobs tick >>/var/log/webapp/cron-webapp-jobs.log 2>&1\n",
    );
    expect(readFileSync(join(out, "cron", "purge.sh"), "utf8")).toBe(`${settings.cronJobs[1]!.command}\n`);
    expect(readFileSync(join(out, "jobs.json"), "utf8")).toBe(`${settings.jobsConfig}\n`);
    expect(statSync(join(out, "webapp-jobs")).mode & 0o777).toBe(0o755);
    expect(calls).toContain("systemctl enable --now crond.service webapp-jobs-drain.service");
    expect(readFileSync(join(out, "webapp-jobs-drain.service"), "utf8")).toMatch(
      /After=network-online\.target crond\.service\n[\s\S]*ExecStop=\/usr\/local\/bin\/webapp-jobs drain --timeout 20\n/,
    );
    // The gate is open once healthy: the runner may claim; owned by the app user, in /run (gone at reboot).
    expect(statSync(join(out, "jobs-state", "gate")).uid).toBe(Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })));
    expect(readFileSync(join(out, "logs", "complete.log"), "utf8")).toMatch(/timed jobs: claiming from now on/);
    expect(readFileSync(join(out, "webapp.service"), "utf8")).toMatch(
      /User=nobody\nExecStart=\/usr\/local\/bin\/webapp-env \/usr\/local\/lib\/webapp\/start\nRestart=on-failure/,
    );
    // SIGTERM, then the deregistration delay (30 s) plus 30 s before systemd kills the app.
    expect(readFileSync(join(out, "webapp.service"), "utf8")).toMatch(/^TimeoutStopSec=60$/m);
    // The lifecycle watcher: installed, enabled, started, with the settings it reads.
    expect(readFileSync(join(out, "webapp-lifecycle.service"), "utf8")).toMatch(
      /ExecStart=\/usr\/local\/lib\/webapp\/lifecycle\nRestart=on-failure/,
    );
    expect(calls).toContain("systemctl enable webapp-lifecycle.service");
    expect(calls).toContain("systemctl restart webapp-lifecycle.service");
    // The scripts on the instance are the sources, comments included.
    expect(readFileSync(join(out, "lifecycle"), "utf8")).toBe(readFileSync(scriptPath("lifecycle.sh"), "utf8"));
    expect(readFileSync(join(out, "restart-app"), "utf8")).toBe(readFileSync(scriptPath("restart-app.sh"), "utf8"));
    expect(readFileSync(join(out, "webapp-jobs"), "utf8")).toBe(readFileSync(scriptPath("webapp-jobs.py"), "utf8"));
    const fleet = execFileSync(
      "bash",
      [
        "-c",
        `. '${join(out, "fleet.conf")}'; echo "$ASG_NAME|$TERMINATE_HOOK_NAME|$TARGET_GROUP_ARN|$APP_PORT|$HEALTH_CHECK_PATH|$DEREGISTRATION_DELAY_SECONDS|$TARGET_HEALTHY_SECONDS|$TERMINATE_HOOK_TIMEOUT_SECONDS|$JOBS_DRAIN_TIMEOUT_SECONDS"`,
      ],
      { encoding: "utf8" },
    ).trim();
    expect(fleet).toBe(`webapp-dev-app|drain|${infrastructure.targetGroupArn}|8080|/healthz|30|35|60|15`);
    expect(calls).toContain("systemctl enable webapp-boot.service");

    const agent = JSON.parse(readFileSync(join(out, "agent.json"), "utf8"));
    const streams = agent.logs.logs_collected.files.collect_list.map((f: { log_stream_name: string; log_group_name: string }) => [
      f.log_group_name,
      f.log_stream_name,
    ]);
    expect(streams).toContainEqual(["/webapp-dev/app", "{instance_id}/code"]);
    expect(streams).toContainEqual(["/webapp-dev/app", "{instance_id}/lifecycle"]);
    expect(streams).toHaveLength(14);
    for (const step of ["install", "logging", "mount", "code", "env", "build", "app", "cron", "health", "complete"]) {
      expect(readFileSync(join(out, "logs", `${step}.log`), "utf8")).toMatch(/: done in \d+s \(boot at \d+s\)$/m);
    }

    const complete = calls.filter((c) => c.includes("complete-lifecycle-action"));
    expect(complete).toEqual([
      "aws autoscaling complete-lifecycle-action --region eu-west-2 --auto-scaling-group-name webapp-dev-app --lifecycle-hook-name boot --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE",
    ]);
    expect(calls.findIndex((c) => c.includes("127.0.0.1:8080/healthz"))).toBeLessThan(calls.indexOf(complete[0]!));
    // A heartbeat after every step before the last, and after every build command; none after CONTINUE.
    const heartbeat =
      "aws autoscaling record-lifecycle-action-heartbeat --region eu-west-2 --auto-scaling-group-name webapp-dev-app --lifecycle-hook-name boot --instance-id i-0123456789abcdef0";
    const awsCalls = calls.filter((c) => c.startsWith("aws autoscaling"));
    expect(awsCalls).toEqual([...Array<string>(9 + 2).fill(heartbeat), complete[0]]);
    expect(readFileSync(join(out, "logs", "build.log"), "utf8").match(/^heartbeat at \d+s$/gm)).toHaveLength(3);
    // The credential and the secret files are gone; no secret value reached the console or the boot logs.
    expect(() => statSync(join(out, "work-dir-left"))).toThrow();
    const logs = ["install", "logging", "mount", "code", "env", "build", "app", "cron", "health", "complete"]
      .map((s) => readFileSync(join(out, "logs", `${s}.log`), "utf8"))
      .join("\n");
    for (const secret of [secretValues.database.password, secretValues.cacheToken, secretValues.repository]) {
      expect(logs).not.toContain(secret);
      expect(readFileSync(join(out, "console.log"), "utf8")).not.toContain(secret);
    }
  }, 60_000);

  test("a rotated database password reaches the running app: the refresh takes the fleet's restart turn, leaves the target group, restarts the app, rejoins", () => {
    const rotated = { ...secretValues, database: { username: "app_admin", password: "rotated-'$-password" } };
    const { status, calls, out } = boot("refs/tags/v2.0.0", rotated);
    expect(status).toBe(0);
    expect(readFileSync(join(out, "refresh-status"), "utf8").trim()).toBe("0");
    const password = execFileSync("bash", ["-c", `. '${join(out, "app.env")}'; printf '%s' "$DATABASE_PASSWORD"`], { encoding: "utf8" });
    expect(password).toBe(rotated.database.password);
    expect(statSync(join(out, "app.env")).mode & 0o777).toBe(0o600);
    const afterRefresh = calls.slice(calls.indexOf("--- refresh-env"));
    const target = `--target-group-arn ${infrastructure.targetGroupArn} --targets Id=i-0123456789abcdef0,Port=8080`;
    const order = [
      (c: string) => /^redis-cli -h \S+ -p 6379 --tls SET webapp:restart-turn \S+ NX PX \d+$/.test(c),
      (c: string) => c === `aws elbv2 deregister-targets --region eu-west-2 ${target}`,
      (c: string) => c === "sleep 30",
      (c: string) => c === "systemctl restart webapp.service",
      (c: string) => c.includes("127.0.0.1:8080/healthz"),
      (c: string) => c === `aws elbv2 register-targets --region eu-west-2 ${target}`,
      (c: string) => c === "sleep 35",
      (c: string) => /^redis-cli .* EVAL .* webapp:restart-turn /.test(c),
    ].map((match) => afterRefresh.findIndex(match));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The cache token reaches redis-cli through its environment, never its command line.
    expect(afterRefresh.join("\n")).not.toContain(secretValues.cacheToken);
    expect(afterRefresh.filter((c) => c.includes("complete-lifecycle-action"))).toEqual([]);
    expect(readFileSync(join(out, "webapp-env-refresh.timer"), "utf8")).toMatch(/OnUnitActiveSec=15min/);
    expect(readFileSync(join(out, "logs", "refresh.log"), "utf8")).toMatch(/environment changed/);
  }, 60_000);

  test("on a first deploy the boot waits for the app's database user's secret to get a value, then boots", () => {
    const { status, calls, out } = boot("refs/tags/v2.0.0", undefined, {}, (secrets) => {
      const file = join(secrets, infrastructure.databaseSecretArn.replace(/[^A-Za-z0-9]/g, "_"));
      execFileSync("mv", [file, `${file}.later`]);
    });
    expect({ status, console: status === 0 ? "" : readFileSync(join(out, "console.log"), "utf8") }).toEqual({ status: 0, console: "" });
    const env = readFileSync(join(out, "logs", "env.log"), "utf8");
    expect(env).toMatch(/has no value yet: waiting for the app's database user/);
    const password = execFileSync("bash", ["-c", `. '${join(out, "app.env")}'; printf '%s' "$DATABASE_PASSWORD"`], { encoding: "utf8" });
    expect(password).toBe(secretValues.database.password);
    expect(calls.filter((c) => c.includes("complete-lifecycle-action")).map((c) => c.split(" ").pop())).toEqual(["CONTINUE"]);
  }, 60_000);

  test("a public repository (credentialType none) is cloned without its credential secret, which may have no value", () => {
    const noValue = (secrets: string) => rmSync(join(secrets, infrastructure.repositoryCredentialSecretArn.replace(/[^A-Za-z0-9]/g, "_")));
    const { status, calls, out } = boot("refs/tags/v2.0.0", undefined, { credentialType: "none" }, noValue);
    expect({ status, console: status === 0 ? "" : readFileSync(join(out, "console.log"), "utf8") }).toEqual({ status: 0, console: "" });
    expect(execFileSync("git", ["-c", "safe.directory=*", "rev-parse", "HEAD"], { cwd: join(out, "app"), encoding: "utf8" }).trim()).toBe(
      tagged,
    );
    expect(calls.filter((c) => c.includes(infrastructure.repositoryCredentialSecretArn))).toEqual([]);
    // With a credential type, the boot needs the secret's value.
    const token = boot("refs/tags/v2.0.0", undefined, { credentialType: "https-token" }, noValue);
    expect(token.status).toBe(1);
    expect(readFileSync(join(token.out, "logs", "code.log"), "utf8")).toMatch(/ResourceNotFoundException[\s\S]*FAILED/);
  }, 60_000);

  test("an unchanged environment does not restart the app", () => {
    const { calls, out } = boot("refs/tags/v2.0.0", secretValues);
    expect(readFileSync(join(out, "refresh-status"), "utf8").trim()).toBe("0");
    expect(calls.slice(calls.indexOf("--- refresh-env"))).not.toContain("systemctl restart webapp.service");
    expect(readFileSync(join(out, "logs", "refresh.log"), "utf8")).toMatch(/environment unchanged/);
  }, 60_000);

  test("with an app directory, only that folder of the repository becomes the app; a missing one abandons the launch", () => {
    const { status, out } = boot("refs/tags/v2.0.0", undefined, { repositoryDirectory: "services/web" });
    expect(status).toBe(0);
    expect(readFileSync(join(out, "app", "server.sh"), "utf8")).toBe("echo web\n");
    expect(readFileSync(join(out, "app", "built-by"), "utf8").trim()).toBe("nobody");
    expect(() => statSync(join(out, "app", "README"))).toThrow();
    const missing = boot("refs/tags/v2.0.0", undefined, { repositoryDirectory: "services/api" });
    expect(missing.status).toBe(1);
    expect(readFileSync(join(missing.out, "logs", "code.log"), "utf8")).toMatch(
      /has no directory services\/api at refs\/tags\/v2\.0\.0[\s\S]*FAILED with status 1/,
    );
  }, 60_000);

  test("a build that outlasts the boot budget is stopped and the launch abandoned", () => {
    // The sandbox stubs `sleep` on PATH; /bin/sleep is the real one.
    const { status, calls, out } = boot("refs/tags/v2.0.0", undefined, {
      bootTimeoutSeconds: 4,
      buildCommands: ["/bin/sleep 30", "touch never-built"],
    });
    expect(status).toBe(1);
    const log = readFileSync(join(out, "logs", "build.log"), "utf8");
    expect(log).toMatch(/\+ \/bin\/sleep 30[\s\S]*FAILED with status 124/);
    expect(log).not.toContain("touch never-built");
    // The env file was written before the build; an abandoned instance keeps no secret on disk.
    expect(readFileSync(join(out, "logs", "env.log"), "utf8")).toMatch(/wrote \/etc\/webapp\/app\.env/);
    expect(() => statSync(join(out, "app.env"))).toThrow();
    expect(calls.filter((c) => c.includes("complete-lifecycle-action"))).toEqual([
      expect.stringMatching(/--lifecycle-action-result ABANDON$/),
    ]);
  }, 60_000);

  test("a bundle whose SHA-256 differs from the user data's is never run", () => {
    const other = renderBootBundle({ ...settings, startCommand: "echo tampered" });
    const { status, calls, out } = boot("refs/tags/v2.0.0", undefined, {}, undefined, other);
    expect(status).toBe(1);
    expect(readFileSync(join(out, "console.log"), "utf8")).toMatch(/boot bundle: SHA-256 mismatch/);
    expect(calls.filter((c) => !c.startsWith("aws s3api get-object"))).toEqual([]);
  }, 60_000);

  test("a failing step abandons the launch: nothing after it runs, and CONTINUE is never sent", () => {
    const { status, calls, out } = boot("refs/tags/v9.9.9");
    expect(status).toBe(1);
    expect(readFileSync(join(out, "logs", "code.log"), "utf8")).toMatch(
      /tag refs\/tags\/v9\.9\.9 does not exist[\s\S]*FAILED with status 1/,
    );
    expect(calls.filter((c) => c.includes("complete-lifecycle-action"))).toEqual([
      "aws autoscaling complete-lifecycle-action --region eu-west-2 --auto-scaling-group-name webapp-dev-app --lifecycle-hook-name boot --instance-id i-0123456789abcdef0 --lifecycle-action-result ABANDON",
    ]);
    for (const later of ["env", "build", "app", "cron", "health"]) expect(() => statSync(join(out, "logs", `${later}.log`))).toThrow();
    expect(() => statSync(join(out, "work-dir-left"))).toThrow();
  }, 60_000);
});
