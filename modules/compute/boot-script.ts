// Renders an app instance's user data from the shell files in this folder: a short header of
// infrastructure values (Terraform references, resolved at apply), then the boot script with its settings
// and helper scripts, gzipped and base64-encoded so it fits the 16 KB user-data limit and so no settings
// text ever passes through Terraform's string templating. Holds no secret value: secrets are fetched at boot.
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

export interface BootCronJob {
  readonly name: string;
  readonly schedule: string;
  readonly command: string;
  readonly ttlSeconds: number;
  readonly maxRunSeconds: number;
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
  readonly credentialType: "ssh-key" | "https-token";
  readonly httpsUsername: string;
  readonly sshKnownHosts: readonly string[];
  /** Amazon Linux 2023 packages the app needs (its runtime), installed with the boot's own. */
  readonly runtimePackages: readonly string[];
  readonly buildCommands: readonly string[];
  readonly startCommand: string;
  readonly cronJobs: readonly BootCronJob[];
  /** The SSM parameter that switches the fleet's timed jobs on and off at run time (jobs-switch.sh). */
  readonly timedJobsParameter: string;
  /** The target group's deregistration delay: how long the balancer drains a leaving instance. */
  readonly deregistrationDelaySeconds: number;
  /** How long the balancer keeps an idle connection to an instance (the app's keep-alive must be longer). */
  readonly loadBalancerIdleTimeoutSeconds: number;
  /** The longest the balancer takes to find a registered instance healthy (interval x healthy threshold + timeout). */
  readonly targetHealthySeconds: number;
}

/** Shell scripts installed on instances, by the function name that writes each in the boot script. */
export const HELPER_SCRIPTS: Readonly<Record<string, string>> = {
  write_helper_cron_lock: "cron-lock.sh",
  write_helper_fetch_code: "fetch-code.sh",
  write_helper_jobs_switch: "jobs-switch.sh",
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

/**
 * The script without its full-line comments (the shebang and shellcheck directives stay): the sources in
 * this folder carry the explanations, the user data only the code, so it fits the 16 KB user-data limit.
 * A line inside a here-document or a multi-line string that starts with `#` would go too: the scripts have none.
 */
export function stripComments(text: string): string {
  return text
    .split("\n")
    .filter((line, i) => !/^\s*#/.test(line) || (i === 0 && line.startsWith("#!")) || /^\s*# shellcheck /.test(line))
    .join("\n");
}

/** The boot script with its settings header and helper scripts: plain text, no Terraform references. */
export function renderBootScript(settings: BootSettings): string {
  const body = stripComments(readScript("boot.sh"));
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
    assignArray("CRON_NAMES", jobs.map((j) => j.name)),
    assignArray("CRON_SCHEDULES", jobs.map((j) => j.schedule)),
    assignArray("CRON_COMMANDS", jobs.map((j) => j.command)),
    assignArray("CRON_TTLS", jobs.map((j) => String(j.ttlSeconds))),
    assignArray("CRON_MAX_RUN", jobs.map((j) => String(j.maxRunSeconds))),
    assign("TIMED_JOBS_PARAMETER", settings.timedJobsParameter),
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
  const helpers = Object.entries(HELPER_SCRIPTS).flatMap(([fn, file]) => {
    const text = stripComments(readScript(file)).replace(/\n$/, "");
    if (text.split("\n").includes(HEREDOC_END)) throw new Error(`${file} contains the line ${HEREDOC_END}`);
    return [`${fn}() {`, `  cat <<'${HEREDOC_END}'`, text, HEREDOC_END, "}"];
  });
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

function infrastructureHeader(infrastructure: BootInfrastructure): string[] {
  return INFRASTRUCTURE_VARIABLES.map(([name, key]) => {
    const value = infrastructure[key];
    if (!INFRASTRUCTURE_VALUE.test(value)) throw new Error(`boot script: ${key} = ${JSON.stringify(value)} holds characters a header value may not`);
    return `${name}='${value}'`;
  });
}

/**
 * The user data: infrastructure header, then the gzipped boot script unpacked and sourced.
 * Contains Terraform references (as cdktf tokens) when `infrastructure` does.
 */
export function renderUserData(infrastructure: BootInfrastructure, settings: BootSettings): string {
  const packed = gzipSync(Buffer.from(renderBootScript(settings)), { level: 9 }).toString("base64");
  return [
    "#!/bin/bash",
    "# shellcheck disable=SC2034  # the variables are read by the boot script sourced at the end",
    "# App instance boot. The boot script is gzip+base64 below: decode with base64 -d | gunzip.",
    "set -euo pipefail",
    "# Infrastructure values, resolved by Terraform.",
    ...infrastructureHeader(infrastructure),
    `BOOT_SCRIPT='${packed}'`,
    "install -d -m 0755 /usr/local/lib/webapp",
    // No double quotes or backslashes here: this text is a Terraform string template.
    `base64 -d <<<$BOOT_SCRIPT | gunzip >${BOOT_SCRIPT_PATH}`,
    "# shellcheck source=/dev/null  # unpacked above; linted as modules/compute/boot.sh",
    `. ${BOOT_SCRIPT_PATH}`,
    "",
  ].join("\n");
}

/** What an instance runs, as one script: the header followed by the unpacked boot script (for tests and review). */
export function expandUserData(userData: string): string {
  const match = /^BOOT_SCRIPT='([A-Za-z0-9+/=]*)'$/m.exec(userData);
  if (!match?.[1]) throw new Error("user data has no BOOT_SCRIPT line");
  const script = gunzipSync(Buffer.from(match[1], "base64")).toString("utf8");
  const header = userData.slice(0, match.index).split("\n").slice(1);
  const scriptLines = script.split("\n");
  return [...scriptLines.slice(0, 2), ...header, ...scriptLines.slice(2)].join("\n");
}

