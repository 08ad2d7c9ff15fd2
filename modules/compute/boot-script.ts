// Renders an app instance's boot: the boot bundle (the boot script with its settings and helper scripts,
// gzipped; stored in S3 by BootBundle, since together they outgrow the 16 KB user-data limit) and the user
// data, a small loader: a header of infrastructure values (Terraform references, resolved at apply) and the
// bundle's bucket, key, version and SHA-256; it fetches the bundle with the AWS CLI, checks it, unpacks and
// runs it. No settings text passes through Terraform's string templating. Holds no secret value.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";

/** Values known only at apply time (references to other resources), plus the secret ARNs. */
export interface BootInfrastructure {
  readonly databaseHost: string;
  readonly databasePort: string;
  readonly databaseName: string;
  readonly databaseEngine: string;
  /** The app's own database user's secret (JSON with `username` and `password`); never the master user's. */
  readonly databaseSecretArn: string;
  readonly cacheHost: string;
  readonly cachePort: string;
  /** `true` or `false`. */
  readonly cacheTls: string;
  readonly cacheTokenSecretArn: string;
  readonly fileSystemId: string;
  readonly accessPointId: string;
  readonly appEnvSecretArn: string;
  readonly repositoryCredentialSecretArn: string;
  /** The app's target group: an instance leaves it before its app restarts for new secrets, and rejoins. */
  readonly targetGroupArn: string;
}

/** A timed job as the boot installs it: its command goes to /etc/webapp/cron/<name>.sh. */
export interface BootCronJob {
  readonly name: string;
  readonly command: string;
}

/** Values known at synth time. */
export interface BootSettings {
  readonly environmentName: string;
  readonly region: string;
  readonly autoScalingGroupName: string;
  readonly launchHookName: string;
  /** The terminate hook the instance's lifecycle watcher completes once it has drained. */
  readonly terminateHookName: string;
  readonly logGroupName: string;
  readonly appUser: string;
  readonly appPort: number;
  readonly uploadsPath: string;
  readonly healthCheckPath: string;
  /** Where the boot downloads the database's certificate authorities (PEM) from, over HTTPS. */
  readonly databaseCaBundleUrl: string;
  readonly healthCheckWaitSeconds: number;
  /** The whole boot's budget. */
  readonly bootTimeoutSeconds: number;
  /** The launch hook's heartbeat timeout: the longest one step may take. */
  readonly bootStepTimeoutSeconds: number;
  readonly repositoryUrl: string;
  readonly repositoryRef: string;
  /** Folder of the app inside the repository; "" for its root. */
  readonly repositoryDirectory: string;
  readonly allowBranchRef: boolean;
  readonly credentialType: "ssh-key" | "https-token" | "none";
  readonly httpsUsername: string;
  readonly sshKnownHosts: readonly string[];
  /** Amazon Linux 2023 packages the app needs (its runtime), installed with the boot's own. */
  readonly runtimePackages: readonly string[];
  readonly buildCommands: readonly string[];
  readonly startCommand: string;
  readonly cronJobs: readonly BootCronJob[];
  /** The job runner's configuration (JSON text, `jobsConfig()`), written to /etc/webapp/jobs.json. */
  readonly jobsConfig: string;
  /** The `--timeout` of the timed jobs' drain when the group terminates the instance (`jobsDrainTimeoutSeconds()`). */
  readonly jobsDrainTimeoutSeconds: number;
  /** The target group's deregistration delay: how long the balancer drains a leaving instance. */
  readonly deregistrationDelaySeconds: number;
  /** How long the balancer keeps an idle connection to an instance (the app's keep-alive must be longer). */
  readonly loadBalancerIdleTimeoutSeconds: number;
  /** The longest the balancer takes to find a registered instance healthy (interval x healthy threshold + timeout). */
  readonly targetHealthySeconds: number;
}

/** Shell scripts installed on instances, by the function name that writes each in the boot script. */
export const HELPER_SCRIPTS: Readonly<Record<string, string>> = {
  write_helper_webapp_jobs: "webapp-jobs.py",
  write_helper_fetch_code: "fetch-code.sh",
  write_helper_lifecycle: "lifecycle.sh",
  write_helper_render_env: "render-env.sh",
  write_helper_restart_app: "restart-app.sh",
  write_helper_webapp_env: "webapp-env.sh",
};

/** The folder holding package.json, found by walking up (the build copies no assets into dist/). */
export function projectRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** Absolute path of a script in modules/compute. */
export function scriptPath(name: string): string {
  return join(projectRoot(), "modules", "compute", name);
}

export function readScript(name: string): string {
  return readFileSync(scriptPath(name), "utf8");
}

/** Single-quotes a value for bash: every character survives, including quotes, `$`, backticks and newlines. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function assign(name: string, value: string): string {
  return `${name}=${shellQuote(value)}`;
}

function assignArray(name: string, values: readonly string[]): string {
  return `${name}=(${values.map(shellQuote).join(" ")})`;
}

const HEREDOC_END = "WEBAPP_HELPER_EOF";

/** The boot script with its settings header and helper scripts: plain text, no Terraform references. */
export function renderBootScript(settings: BootSettings): string {
  const body = readScript("boot.sh");
  const lines = body.split("\n");
  // The shebang and the file-wide shellcheck directive stay first.
  const head = lines.slice(0, 2);
  const rest = lines.slice(2);
  const jobs = settings.cronJobs;
  const settingsLines = [
    assign("ENVIRONMENT_NAME", settings.environmentName),
    assign("AWS_REGION_NAME", settings.region),
    assign("ASG_NAME", settings.autoScalingGroupName),
    assign("LAUNCH_HOOK_NAME", settings.launchHookName),
    assign("TERMINATE_HOOK_NAME", settings.terminateHookName),
    assign("LOG_GROUP", settings.logGroupName),
    assign("APP_USER", settings.appUser),
    assign("APP_PORT", String(settings.appPort)),
    assign("UPLOADS_PATH", settings.uploadsPath),
    assign("HEALTH_CHECK_PATH", settings.healthCheckPath),
    assign("DB_CA_BUNDLE_URL", settings.databaseCaBundleUrl),
    assign("HEALTH_TIMEOUT_SECONDS", String(settings.healthCheckWaitSeconds)),
    assign("BOOT_TIMEOUT_SECONDS", String(settings.bootTimeoutSeconds)),
    assign("BOOT_STEP_TIMEOUT_SECONDS", String(settings.bootStepTimeoutSeconds)),
    assign("REPO_URL", settings.repositoryUrl),
    assign("REPO_REF", settings.repositoryRef),
    assign("REPO_DIRECTORY", settings.repositoryDirectory),
    assign("REPO_ALLOW_BRANCH", settings.allowBranchRef ? "true" : "false"),
    assign("REPO_CREDENTIAL_TYPE", settings.credentialType),
    assign("REPO_HTTPS_USERNAME", settings.httpsUsername),
    assign("REPO_SSH_KNOWN_HOSTS", settings.sshKnownHosts.join("\n")),
    assignArray("RUNTIME_PACKAGES", settings.runtimePackages),
    assignArray("BUILD_COMMANDS", settings.buildCommands),
    assign("START_COMMAND", settings.startCommand),
    assignArray(
      "CRON_NAMES",
      jobs.map((j) => j.name),
    ),
    assignArray(
      "CRON_COMMANDS",
      jobs.map((j) => j.command),
    ),
    assign("JOBS_DRAIN_TIMEOUT_SECONDS", String(settings.jobsDrainTimeoutSeconds)),
    assign("DEREGISTRATION_DELAY_SECONDS", String(settings.deregistrationDelaySeconds)),
    assign("LB_IDLE_TIMEOUT_SECONDS", String(settings.loadBalancerIdleTimeoutSeconds)),
    assign("TARGET_HEALTHY_SECONDS", String(settings.targetHealthySeconds)),
  ];
  const header = [
    "# Settings, rendered at synth time: literal text, nothing in them expands here.",
    "# shellcheck disable=SC2016",
    "{",
    ...settingsLines.map((line) => `  ${line}`),
    "}",
    "",
    "# Helper scripts installed by the install step (sources in modules/compute).",
  ];
  const heredoc = (fn: string, what: string, text: string) => {
    if (text.split("\n").includes(HEREDOC_END)) throw new Error(`${what} contains the line ${HEREDOC_END}`);
    return [`${fn}() {`, `  cat <<'${HEREDOC_END}'`, text, HEREDOC_END, "}"];
  };
  const helpers = [
    ...Object.entries(HELPER_SCRIPTS).flatMap(([fn, file]) => heredoc(fn, file, readScript(file).replace(/\n$/, ""))),
    ...heredoc("write_jobs_config", "the jobs configuration", settings.jobsConfig),
  ];
  return [...head, ...header, ...helpers, ...rest].join("\n");
}

/** Names and order of the infrastructure variables in the user-data header. */
const INFRASTRUCTURE_VARIABLES: readonly [string, keyof BootInfrastructure][] = [
  ["DB_HOST", "databaseHost"],
  ["DB_PORT", "databasePort"],
  ["DB_NAME", "databaseName"],
  ["DB_ENGINE", "databaseEngine"],
  ["DB_SECRET_ARN", "databaseSecretArn"],
  ["CACHE_HOST", "cacheHost"],
  ["CACHE_PORT", "cachePort"],
  ["CACHE_TLS", "cacheTls"],
  ["CACHE_TOKEN_SECRET_ARN", "cacheTokenSecretArn"],
  ["EFS_FILE_SYSTEM_ID", "fileSystemId"],
  ["EFS_ACCESS_POINT_ID", "accessPointId"],
  ["APP_ENV_SECRET_ARN", "appEnvSecretArn"],
  ["REPO_CREDENTIAL_SECRET_ARN", "repositoryCredentialSecretArn"],
  ["TARGET_GROUP_ARN", "targetGroupArn"],
];

/** Where the user data unpacks the boot script. */
export const BOOT_SCRIPT_PATH = "/usr/local/lib/webapp/boot.sh";

// Identifiers, hostnames, ports, ARNs and Terraform references (`${...}`) only: nothing a single-quoted
// bash string or a Terraform template would treat specially.
const INFRASTRUCTURE_VALUE = /^(?:[A-Za-z0-9._:/@+=,!-]|\$\{[^'"\\]*\})*$/;

function headerLine(name: string, what: string, value: string): string {
  if (!INFRASTRUCTURE_VALUE.test(value))
    throw new Error(`boot script: ${what} = ${JSON.stringify(value)} holds characters a header value may not`);
  return `${name}='${value}'`;
}

function infrastructureHeader(infrastructure: BootInfrastructure): string[] {
  return INFRASTRUCTURE_VARIABLES.map(([name, key]) => headerLine(name, key, infrastructure[key]));
}

/** The boot bundle: the boot script with its settings and helpers, gzipped (stored in S3). */
export function renderBootBundle(settings: BootSettings): Buffer {
  const packed = gzipSync(Buffer.from(renderBootScript(settings)), { level: 9 });
  // The same script gives the same bytes (hence key) on every machine: no mtime (Node writes none) and the
  // header's OS byte set to "unknown" (zlib writes the build platform's).
  packed[9] = 255;
  return packed;
}

/** Where the loader fetches the bundle from, and what it must hash to. */
export interface BootBundleLocation {
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  /** The object's version (a rollback to an older template version reads its own bundle). */
  readonly versionId: string;
  /** Hex SHA-256 of the gzipped bundle. */
  readonly sha256: string;
}

/** Attempts to fetch the bundle (IAM and the endpoint may lag a new instance by seconds). */
export const BUNDLE_FETCH_ATTEMPTS = 10;

/**
 * The user data: infrastructure header, the bundle's location and checksum, and a loader that fetches the
 * bundle, checks its SHA-256, unpacks and sources it. Contains Terraform references (as cdktf tokens) when
 * `infrastructure` or `bundle` do.
 */
export function renderUserData(infrastructure: BootInfrastructure, bundle: BootBundleLocation): string {
  if (!/^[0-9a-f]{64}$/.test(bundle.sha256)) throw new Error(`boot bundle: sha256 ${JSON.stringify(bundle.sha256)} is not a hex SHA-256`);
  const packed = "/usr/local/lib/webapp/boot.sh.gz";
  // No double quotes, backslashes or dollar-brace here: this text is a Terraform string template.
  return [
    "#!/bin/bash",
    "# shellcheck disable=SC2034,SC2086  # the variables are read by the boot script; the values hold no spaces",
    "# App instance boot: fetches the boot bundle (the boot script, its settings and helpers, gzipped) from S3,",
    "# checks its SHA-256 against the one below, unpacks and runs it.",
    "set -euo pipefail",
    "# Infrastructure values, resolved by Terraform.",
    ...infrastructureHeader(infrastructure),
    headerLine("BOOT_BUNDLE_BUCKET", "bundle.bucket", bundle.bucket),
    // Not "..._KEY": a long value after KEY= reads as an AWS secret key to secret scanners (checkov CKV_AWS_46).
    headerLine("BOOT_BUNDLE_OBJECT", "bundle.key", bundle.key),
    headerLine("BOOT_BUNDLE_VERSION", "bundle.versionId", bundle.versionId),
    headerLine("BOOT_BUNDLE_SHA256", "bundle.sha256", bundle.sha256),
    "install -d -m 0755 /usr/local/lib/webapp",
    `for attempt in $(seq 1 ${BUNDLE_FETCH_ATTEMPTS}); do`,
    `  aws s3api get-object --region ${headerValue(bundle.region)} --bucket $BOOT_BUNDLE_BUCKET --key $BOOT_BUNDLE_OBJECT --version-id $BOOT_BUNDLE_VERSION ${packed} >/dev/null && break`,
    `  [ $attempt -lt ${BUNDLE_FETCH_ATTEMPTS} ] || { echo 'boot bundle: not readable; the launch hook abandons the launch' >&2; exit 1; }`,
    "  sleep $((attempt * 3))",
    "done",
    `echo $BOOT_BUNDLE_SHA256 ${packed} | sed 's/ /  /' | sha256sum --check --quiet - || { echo 'boot bundle: SHA-256 mismatch' >&2; exit 1; }`,
    `gunzip -c ${packed} >${BOOT_SCRIPT_PATH}`,
    "# shellcheck source=/dev/null  # unpacked above; linted as modules/compute/boot.sh",
    `. ${BOOT_SCRIPT_PATH}`,
    "",
  ].join("\n");
}

function headerValue(value: string): string {
  if (!/^[a-z0-9-]+$/.test(value)) throw new Error(`boot script: region ${JSON.stringify(value)} is not a region name`);
  return value;
}

/** What an instance runs, as one script: the user data's header followed by the unpacked bundle (for tests and review). */
export function expandUserData(userData: string, bundle: Buffer): string {
  const script = gunzipSync(bundle).toString("utf8");
  const lines = userData.split("\n");
  const header = lines.slice(
    1,
    lines.findIndex((l) => l.startsWith("install -d")),
  );
  const scriptLines = script.split("\n");
  return [...scriptLines.slice(0, 2), ...header, ...scriptLines.slice(2)].join("\n");
}
