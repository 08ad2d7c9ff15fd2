// The app tier: a launch template (Amazon Linux 2023, IMDSv2, encrypted gp3, no public IP, a user data loader
// for the boot bundle), the boot bundle's bucket, the timed jobs' slot table, a least-privilege instance role,
// the app security group, and an Auto Scaling group with a boot-gate launch hook, a draining terminate hook,
// target tracking, optional schedules and warm pool, and rolling instance refresh. It creates no data store
// of the app's: it consumes the data and edge modules' refs.
import { Fn, TerraformResource, Token } from "cdktf";
import { Construct } from "constructs";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingLifecycleHook } from "@cdktf/provider-aws/lib/autoscaling-lifecycle-hook";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Connectable, Connections, ownSecurityGroup } from "../primitives/connections";
import { EncryptionKey } from "../primitives/encryption-key";
import { checkLogRetention } from "../primitives/logs";
import { policyDocument, serviceTrustPolicy, Statement } from "../primitives/policy";
import { EC2_INSTANCE_TYPES } from "../rules/aws-catalogue.generated";
import { timeZoneProblem } from "../rules/aws-rules";
import { assertValid, catalogueMessage, Problems } from "../primitives/validation";
import { addWarning, type Warning } from "../primitives/warnings";
import { BootBundle } from "./boot-bundle";
import { cronProblem } from "./cron";
import { checkInterruptionDrain, checkPurchaseMix, launchesSpot, launchSource, PurchaseMixSettings, resolvePurchaseMix } from "./purchase-mix";
import { renderBootBundle, renderUserData } from "./boot-script";
import { checkCronJobs, CronJobSettings, CronJobTiming, DEFAULT_RECORD_RETENTION_DAYS, JobTable, JobTableSettings, jobsConfig, jobsDrainTimeoutSeconds, resolveCronJob, timedJobsParameterName } from "./jobs";

export { cronFirings, cronPeriod, cronProblem } from "./cron";
export * from "./purchase-mix";
export { renderBootBundle, renderBootScript, renderUserData, expandUserData, shellQuote, scriptPath, projectRoot } from "./boot-script";
export { BootBundle, bootBucketName } from "./boot-bundle";
export {
  checkCronJobs,
  CLOCK_SKEW_MARGIN_SECONDS,
  JOBS_CONFIG_PATH,
  JOBS_STATE_DIR,
  jobsConfig,
  jobsDrainTimeoutSeconds,
  JobTable,
  KILL_GRACE_SECONDS,
  resolveCronJob,
  retrySpanSeconds,
  slotsRead,
  timedJobsParameterName,
} from "./jobs";
export type { CronJobSettings, CronJobTiming, JobTableSettings, ResolvedCronJob } from "./jobs";

/** The app's source: where it lives, which ref to run, and how to authenticate. */
export interface RepositorySettings {
  /** Clone URL: `https://...` for a token, `ssh://...` or `git@host:path` for a deploy key. */
  readonly url: string;
  /**
   * What to run: a full 40-character commit SHA, `refs/tags/<tag>`, or `refs/heads/<branch>` (only with
   * `allowBranchRef`). Changing it changes the launch template, and the instance refresh rolls the fleet.
   */
  readonly ref: string;
  /**
   * Folder of the app inside the repository (for example `examples/app`): only it is kept, and the build,
   * the app and its cron jobs run there. @default "" (the repository's root)
   */
  readonly directory?: string;
  /** Allow a branch ref (its newest commit is fetched at each boot, so instances may differ). @default false */
  readonly allowBranchRef?: boolean;
  /**
   * What the repository credential secret (`<project>-<env>/repository-credential`) holds: an SSH deploy key or
   * an HTTPS token, read-only on the repository. `"none"` for a public repository cloned over HTTPS: the boot
   * reads no credential, and the secret stays empty.
   */
  readonly credentialType: "ssh-key" | "https-token" | "none";
  /** User name sent with an HTTPS token. @default "x-access-token" */
  readonly httpsUsername?: string;
  /** known_hosts lines for the SSH host. @default [] (the host key is accepted on first use and logged) */
  readonly sshKnownHosts?: readonly string[];
}

/** The Amazon Linux 2023 runtimes a preset names: the packages it installs and the commands it provides. */
export const RUNTIME_PRESETS = {
  nodejs20: { packages: ["nodejs20", "nodejs20-npm"], commands: ["node", "npm", "npx"] },
  nodejs22: { packages: ["nodejs22", "nodejs22-npm"], commands: ["node", "npm", "npx"] },
  nodejs24: { packages: ["nodejs24", "nodejs24-npm"], commands: ["node", "npm", "npx"] },
} as const satisfies Readonly<Record<string, { readonly packages: readonly string[]; readonly commands: readonly string[] }>>;

export type RuntimePreset = keyof typeof RUNTIME_PRESETS;

/**
 * What the app needs from the OS beyond what the boot installs for itself (git, jq, the EFS client, the
 * Redis CLI, cron, logrotate, the CloudWatch agent, the AWS CLI): Amazon Linux 2023 ships no language
 * runtime. Installed in the boot's own package step, in the same `dnf install`.
 */
export interface RuntimeSettings {
  /** A named runtime; `nodejs22` installs `nodejs22 nodejs22-npm` (node, npm and npx on PATH). @default none */
  readonly preset?: RuntimePreset;
  /** More Amazon Linux 2023 packages (for example `ImageMagick`), by their dnf names. @default [] */
  readonly packages?: readonly string[];
}

/** The packages a runtime setting installs, preset first, without repeats. */
export function runtimePackages(runtime: RuntimeSettings | undefined): string[] {
  const preset = runtime?.preset !== undefined && runtime.preset in RUNTIME_PRESETS ? RUNTIME_PRESETS[runtime.preset].packages : [];
  return [...new Set([...preset, ...(runtime?.packages ?? [])])];
}

/** A recurring change of the group's size (for example dev scaled to zero at night). */
export interface ScheduledActionSettings {
  /** Lowercase letters, digits and `-`. */
  readonly name: string;
  /** Five-field cron expression, in `timeZone`. */
  readonly recurrence: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** @default left to scaling */
  readonly desiredCapacity?: number;
  /** IANA time zone of `recurrence`. @default "UTC" */
  readonly timeZone?: string;
}

/** Pre-initialized stopped instances that join faster than a cold launch. */
export interface WarmPoolSettings {
  /** @default 0 */
  readonly minSize?: number;
  /** Cap on running plus warm instances. @default the group's max capacity */
  readonly maxPreparedCapacity?: number;
  /** @default "Stopped" */
  readonly poolState?: "Stopped" | "Hibernated" | "Running";
}

/** When the group adds or removes instances. */
export interface ScalingSettings {
  /** Target average CPU utilization, percent. */
  readonly targetCpuPercent: number;
  /** Target ALB requests per instance per minute. @default no request-count policy */
  readonly requestsPerTarget?: number;
}

/** The compute settings an environment chooses. */
export interface ComputeSettings {
  /** EC2 instance type; a Graviton type (t4g, m7g, c7g...) selects the arm64 AMI. */
  readonly instanceType: string;
  /** Pin an AMI instead of the newest Amazon Linux 2023 from the public SSM parameter. @default newest AL2023 */
  readonly amiId?: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Seconds after an instance is in service before ELB health checks can replace it. @default 120 */
  readonly healthCheckGraceSeconds?: number;
  /** Seconds a new instance's metrics are left out of scaling decisions and refresh pacing. @default 120 */
  readonly defaultInstanceWarmupSeconds?: number;
  /** Port the app listens on (the target group's port). */
  readonly appPort: number;
  /** Unprivileged user the app, its build and its cron jobs run as. @default "webapp" */
  readonly appUser?: string;
  readonly repository: RepositorySettings;
  /** The OS packages the app's build, start and cron commands need (its language runtime). @default none */
  readonly runtime?: RuntimeSettings;
  /** Commands run in order in the app's directory, as the app user, with the app's environment. */
  readonly buildCommands: readonly string[];
  /** Command that runs the app in the foreground (systemd restarts it on failure); `exec` it. */
  readonly startCommand: string;
  /** Path the instance checks locally before it joins, and the target group checks afterwards. */
  readonly healthCheckPath: string;
  /** Where the EFS access point is mounted. @default "/mnt/uploads" */
  readonly uploadsPath?: string;
  /** Timed jobs, each run once per scheduled slot across the fleet (docs/timed-jobs.md). @default [] */
  readonly cronJobs?: readonly CronJobSettings[];
  /** Timing every cron job takes unless it sets its own. @default the built-in defaults (CronJobTiming) */
  readonly cronDefaults?: CronJobTiming;
  /** The slot table of the timed jobs. @default deletion protection on, records kept 30 days */
  readonly jobTable?: JobTableSettings;
  readonly scaling: ScalingSettings;
  /** @default [] */
  readonly scheduledActions?: readonly ScheduledActionSettings[];
  /** @default no warm pool */
  readonly warmPool?: WarmPoolSettings;
  /** Several instance types, an On-Demand base and Spot above it (./purchase-mix.ts). @default the template's type, On-Demand */
  readonly purchaseMix?: PurchaseMixSettings;
  /** Share of capacity kept healthy while an instance refresh replaces instances, percent. @default 100 */
  readonly instanceRefreshMinHealthyPercent?: number;
  /** Root volume size, GiB. @default 20 */
  readonly rootVolumeGiB?: number;
  /**
   * The whole boot's budget, seconds: checked between steps and given to the build commands and the health
   * wait as their time limit; once spent, the boot abandons the launch. @default 1200
   */
  readonly bootTimeoutSeconds?: number;
  /**
   * The launch hook's heartbeat timeout, seconds: the boot records a heartbeat after every step and build
   * command, so this bounds one of them, not the whole boot. At most bootTimeoutSeconds. @default 600
   */
  readonly bootStepTimeoutSeconds?: number;
  /** Seconds the boot script waits for the local health check. @default 300 */
  readonly healthCheckWaitSeconds?: number;
}

/** The app's target group, as the compute layer consumes it. */
export interface ComputeTargetGroup {
  readonly arn: string;
  readonly arnSuffix: string;
}

/** The load balancer, for the request-count policy's resource label. */
export interface ComputeLoadBalancer {
  readonly arnSuffix: string;
}

export interface ComputeDatabase {
  readonly address: string;
  readonly port: number;
  readonly databaseName: string;
  readonly engine: string;
  /** Secret holding the app's own database user's `username` and `password` (never the master's). */
  readonly appUserSecretArn: string;
}

export interface ComputeCache {
  readonly primaryEndpointAddress: string;
  readonly port: number;
  readonly tls: boolean;
  readonly authTokenSecretArn: string;
}

export interface ComputeFileSystem {
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPointId: string;
  readonly accessPointArn: string;
}

export interface ComputeSecrets {
  readonly appEnvSecretArn: string;
  readonly repositoryCredentialSecretArn: string;
}

export interface ComputeProps extends ComputeSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  /** Written to the app's environment as APP_ENV. */
  readonly environmentName: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Private app subnets. */
  readonly subnetIds: readonly string[];
  /** KMS key of the instances' log group (its policy allows CloudWatch Logs). */
  readonly logsKeyArn: string;
  readonly logRetentionDays: number;
  readonly targetGroup: ComputeTargetGroup;
  readonly loadBalancer: ComputeLoadBalancer;
  /** The target group's deregistration delay: the terminate hook waits at least this long. */
  readonly deregistrationDelaySeconds: number;
  /** The load balancer's idle timeout, written into the app's environment (its keep-alive must outlast it). @default 60 */
  readonly loadBalancerIdleTimeoutSeconds?: number;
  /**
   * The longest the target group takes to find a registered instance healthy (health-check interval x healthy
   * threshold + timeout): an instance that restarts its app for new secrets waits this long after rejoining
   * before the next one may leave. @default 35 (the ALB defaults: 15 s x 2 + 5 s)
   */
  readonly targetHealthySeconds?: number;
  readonly database: ComputeDatabase;
  readonly cache: ComputeCache;
  readonly fileSystem: ComputeFileSystem;
  readonly secrets: ComputeSecrets;
  /**
   * Statements the data modules' grant helpers return (read the secrets, decrypt them, mount the file
   * system through its access point). Each must name its resources: a `*` resource is rejected.
   */
  readonly grants: readonly Statement[];
  /** Tags for the group itself (not propagated) and for the instances, volumes and interfaces it launches: provider default tags reach neither. @default {} */
  readonly instanceTags?: Readonly<Record<string, string>>;
}

export const DEFAULT_APP_USER = "webapp";
export const DEFAULT_UPLOADS_PATH = "/mnt/uploads";
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 1200;
/**
 * The certificate authorities of every RDS region (the commercial partition), which the app verifies the
 * database's TLS certificate against (DATABASE_SSL_CA); downloaded at boot, since the AMI has none.
 */
export const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";
export const DEFAULT_BOOT_STEP_TIMEOUT_SECONDS = 600;
/** The lowest CPU target accepted: below it target tracking only ever scales out. */
export const MIN_TARGET_CPU_PERCENT = 10;

export const LAUNCH_HOOK_NAME = "boot";
/** CloudWatch Logs filter pattern matching the boot script's failure line (`... FAILED with status N at line L ...`). */
export const BOOT_FAILURE_PATTERN = '"FAILED with status"';
export const TERMINATE_HOOK_NAME = "drain";
const AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default";

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SHA = /^[0-9a-f]{40}$/;
const TAG_REF = /^refs\/tags\/[^\s~^:?*[\\]+$/;
const BRANCH_REF = /^refs\/heads\/[^\s~^:?*[\\]+$/;
const UPLOADS_PATH = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;
const TIME_ZONE = /^(UTC|[A-Z][A-Za-z_]+(\/[A-Za-z0-9_+-]+){1,2})$/;

/** True for Graviton (arm64) instance types: a family letter `a` (a1) or a `g` among the attributes (t4g, c7gn, m6gd). */
export function isGraviton(instanceType: string): boolean {
  const match = /^([a-z]+)(\d+)([a-z-]*)\./.exec(instanceType);
  if (!match) return false;
  return match[1] === "a" || (match[3] ?? "").includes("g");
}

/** The public SSM parameter naming the newest Amazon Linux 2023 AMI for the instance type's architecture. */
export function amiParameter(instanceType: string): string {
  return `${AL2023_PARAMETER}-${isGraviton(instanceType) ? "arm64" : "x86_64"}`;
}

/** The kind of a repository ref, or undefined when it is none of the accepted forms. */
export function refKind(ref: string): "commit" | "tag" | "branch" | undefined {
  if (SHA.test(ref)) return "commit";
  if (TAG_REF.test(ref)) return "tag";
  if (BRANCH_REF.test(ref)) return "branch";
  return undefined;
}

/**
 * The refs environments/staging.ts and prod.ts ship with: examples of the two forms, which no repository has
 * (not the template's, not a fork of it). Until an environment pins a tag or commit of the team's own, its
 * instances would fail to fetch the app, so synth warns (README: "Making it yours").
 */
export const TEMPLATE_EXAMPLE_REFS: readonly string[] = ["refs/tags/v1.4.2", "9f2c4e1b7a3d5f60812c4e9b0a7d3f5e6c1b2a40"];

/** The warning for a ref that is still one of the template's examples (raised on the stack's preflight). */
export function templateRefWarning(ref: string): { readonly id: "compute.repository.ref"; readonly message: string } | undefined {
  if (!TEMPLATE_EXAMPLE_REFS.includes(ref)) return undefined;
  const what =
    refKind(ref) === "tag"
      ? "tag a commit of the app's repository (compute.repository.url) and set refs/tags/<your tag> here"
      : "set the full SHA of a commit of the app's repository (compute.repository.url), for a release tag git rev-parse <tag>^{commit}";
  return {
    id: "compute.repository.ref",
    message: `is ${JSON.stringify(ref)}, the template's example, which no repository has: every instance would fail to fetch the app; ${what} (README: "Making it yours")`,
  };
}

function isIntegerBetween(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkRepository(repo: RepositorySettings, problems: Problems): void {
  const url = repo.url.trim();
  if (problems.check(url.length > 0, "url", repo.url, "must name the app's repository")) {
    // App instances reach the Internet on 443 only (their security group), so the git host must answer there.
    const reach443 = "app instances reach the Internet on port 443 only; use the git host's SSH-over-443 endpoint, for example ssh://git@ssh.github.com:443/org/app.git";
    if (repo.credentialType !== "ssh-key") {
      const needs =
        repo.credentialType === "none"
          ? 'credentialType "none" (a public repository) needs an https:// URL without credentials in it; an SSH URL always needs a key ("ssh-key")'
          : `credentialType ${JSON.stringify(repo.credentialType)} needs an https:// URL without credentials in it`;
      if (problems.check(/^https:\/\/[^\s@/]+\/\S+$/.test(url), "url", repo.url, needs)) {
        problems.check(!/^https:\/\/[^\s@/]+:(?!443\/)\d+\//.test(url), "url", repo.url, "app instances reach the Internet on port 443 only; drop the other port");
      }
    } else if (problems.check(/^(ssh:\/\/[^\s/]+\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/.test(url), "url", repo.url, 'credentialType "ssh-key" needs an ssh:// or user@host:path URL')) {
      problems.check(/^ssh:\/\/[^\s/]+:443\/\S+$/.test(url), "url", repo.url, reach443);
    }
  }
  problems.check(["ssh-key", "https-token", "none"].includes(repo.credentialType), "credentialType", repo.credentialType, 'must be "ssh-key", "https-token" or "none" (a public repository)');
  if (!problems.check(repo.ref.trim().length > 0, "ref", repo.ref, "must name the commit, tag or branch to run")) return;
  const kind = refKind(repo.ref);
  if (kind === undefined) {
    const hint = /^[0-9a-f]{7,39}$/.test(repo.ref) ? "an abbreviated SHA is ambiguous; give all 40 characters" : "give a full commit SHA, refs/tags/<tag> or refs/heads/<branch>";
    problems.add("ref", repo.ref, `not a ref this project accepts: ${hint}`);
  } else if (kind === "branch" && !repo.allowBranchRef) {
    problems.add("ref", repo.ref, "is a branch, and this environment demands a pinned commit or tag (set repository.allowBranchRef to allow it)");
  }
  if (repo.directory !== undefined && repo.directory !== "") {
    problems.check(
      /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(repo.directory),
      "directory",
      repo.directory,
      "must be a relative folder path inside the repository (letters, digits, . _ -; no leading /, no . or .. parts)",
    );
  }
  if (repo.httpsUsername !== undefined) {
    problems.check(/^[A-Za-z0-9._-]+$/.test(repo.httpsUsername), "httpsUsername", repo.httpsUsername, "must be letters, digits, '.', '_' or '-'");
  }
  (repo.sshKnownHosts ?? []).forEach((line, i) => {
    problems.check(/^\S+ \S+ \S+/.test(line) && !line.includes("\n"), `sshKnownHosts[${i}]`, line, "not a known_hosts line (host keytype key)");
  });
}

// dnf package names: no option (a leading '-'), no spaces, no version globs.
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const RUNTIME_COMMANDS = [...new Set(Object.values(RUNTIME_PRESETS).flatMap((p) => p.commands))];

function checkRuntime(props: ComputeSettings, problems: Problems): void {
  const runtime = props.runtime;
  const presets = Object.keys(RUNTIME_PRESETS);
  if (runtime?.preset !== undefined) {
    problems.check(presets.includes(runtime.preset), "runtime.preset", runtime.preset, `not a runtime this platform offers: one of ${presets.join(", ")}`);
  }
  const packages = runtime?.packages ?? [];
  packages.forEach((name, i) => {
    problems.check(PACKAGE_NAME.test(name), `runtime.packages[${i}]`, name, "not an Amazon Linux 2023 package name (letters, digits, . _ + -, not starting with -)");
  });
  // A command that runs node or npm needs a runtime that provides it: Amazon Linux 2023 ships none.
  const provided = new Set<string>(runtime?.preset !== undefined && runtime.preset in RUNTIME_PRESETS ? RUNTIME_PRESETS[runtime.preset].commands : []);
  if (packages.some((name) => /^nodejs/.test(name))) RUNTIME_COMMANDS.forEach((c) => provided.add(c));
  const commands = [...props.buildCommands, props.startCommand, ...(props.cronJobs ?? []).map((j) => j.command)];
  const missing = RUNTIME_COMMANDS.filter((c) => !provided.has(c) && commands.some((command) => new RegExp(`(^|[\\s;&|(])${c}(\\s|$)`).test(command)));
  problems.check(
    missing.length === 0,
    "runtime",
    runtime,
    `the build, start or cron commands run ${missing.join(", ")}, which Amazon Linux 2023 does not ship; set runtime.preset (${presets.join(", ")})`,
  );
}

function checkScheduledActions(actions: readonly ScheduledActionSettings[], problems: Problems): void {
  actions.forEach((action, i) => {
    const at = problems.at(`scheduledActions[${i}]`);
    at.check(NAME.test(action.name), "name", action.name, "must be 1-63 of a-z, 0-9 and -");
    at.check(actions.findIndex((a) => a.name === action.name) === i, "name", action.name, "another scheduled action has the same name");
    const problem = cronProblem(action.recurrence);
    at.check(problem === undefined, "recurrence", action.recurrence, `not a valid cron schedule: ${problem}`);
    at.check(isIntegerBetween(action.minCapacity, 0, 1000), "minCapacity", action.minCapacity, "must be a whole number, 0 or more");
    at.check(isIntegerBetween(action.maxCapacity, 0, 1000), "maxCapacity", action.maxCapacity, "must be a whole number, 0 or more");
    at.check(action.minCapacity <= action.maxCapacity, "minCapacity", action.minCapacity, `minCapacity (${action.minCapacity}) should be <= maxCapacity (${action.maxCapacity})`);
    if (action.desiredCapacity !== undefined) {
      at.check(
        isIntegerBetween(action.desiredCapacity, action.minCapacity, action.maxCapacity),
        "desiredCapacity",
        action.desiredCapacity,
        `must be between minCapacity (${action.minCapacity}) and maxCapacity (${action.maxCapacity})`,
      );
    }
    if (action.timeZone !== undefined) {
      const zoneProblem = TIME_ZONE.test(action.timeZone) ? timeZoneProblem(action.timeZone) : "not an IANA time zone name (for example Europe/London)";
      at.check(zoneProblem === undefined, "timeZone", action.timeZone, zoneProblem ?? "");
    }
  });
}

export function checkComputeSettings(props: ComputeSettings, problems: Problems): void {
  if (problems.check(INSTANCE_TYPE.test(props.instanceType), "instanceType", props.instanceType, "not an EC2 instance type (for example t4g.small)")) {
    const known = EC2_INSTANCE_TYPES.includes(props.instanceType);
    if (!known) problems.add("instanceType", props.instanceType, catalogueMessage(props.instanceType, EC2_INSTANCE_TYPES, "no such EC2 instance type (modules/rules/aws-catalogue.generated.ts)"));
  }
  if (props.amiId !== undefined) problems.check(AMI_ID.test(props.amiId), "amiId", props.amiId, "not an AMI id (ami- and 8 or 17 hex digits)");

  const sizesOk =
    problems.check(isIntegerBetween(props.minCapacity, 0, 1000), "minCapacity", props.minCapacity, "must be a whole number, 0 or more") &&
    problems.check(isIntegerBetween(props.maxCapacity, 1, 1000), "maxCapacity", props.maxCapacity, "must be a whole number, 1 or more");
  if (sizesOk) {
    problems.check(props.minCapacity <= props.maxCapacity, "minCapacity", props.minCapacity, `minCapacity (${props.minCapacity}) should be <= maxCapacity (${props.maxCapacity})`);
  }
  const grace = props.healthCheckGraceSeconds ?? 120;
  problems.check(isIntegerBetween(grace, 0, 7200), "healthCheckGraceSeconds", grace, "must be 0 to 7200 seconds");
  const warmup = props.defaultInstanceWarmupSeconds ?? 120;
  problems.check(isIntegerBetween(warmup, 0, 3600), "defaultInstanceWarmupSeconds", warmup, "must be 0 to 3600 seconds");
  problems.check(isIntegerBetween(props.appPort, 1024, 65535), "appPort", props.appPort, "must be 1024 to 65535: the app runs as an unprivileged user");
  const user = props.appUser ?? DEFAULT_APP_USER;
  problems.check(USER.test(user) && user !== "root", "appUser", user, "must be a Linux user name other than root");

  checkRepository(props.repository, problems.at("repository"));
  checkRuntime(props, problems);

  if (problems.check(props.buildCommands.length > 0, "buildCommands", props.buildCommands, "needs at least one build command (for example installing dependencies)")) {
    props.buildCommands.forEach((command, i) => problems.check(command.trim().length > 0, `buildCommands[${i}]`, command, "must not be empty"));
  }
  problems.check(props.startCommand.trim().length > 0, "startCommand", props.startCommand, "must start the app");
  problems.check(
    /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(props.healthCheckPath) && props.healthCheckPath.length <= 1024,
    "healthCheckPath",
    props.healthCheckPath,
    "must be a URL path starting with / (at most 1024 characters, no spaces or query)",
  );
  const uploads = props.uploadsPath ?? DEFAULT_UPLOADS_PATH;
  problems.check(UPLOADS_PATH.test(uploads) && !uploads.split("/").includes(".."), "uploadsPath", uploads, "must be an absolute directory path other than /");

  checkCronJobs(props.cronJobs ?? [], props.cronDefaults, props.jobTable, problems);

  problems.check(
    props.scaling.targetCpuPercent >= MIN_TARGET_CPU_PERCENT && props.scaling.targetCpuPercent <= 100,
    "scaling.targetCpuPercent",
    props.scaling.targetCpuPercent,
    `must be a percentage from ${MIN_TARGET_CPU_PERCENT} to 100: a fleet rarely averages below ${MIN_TARGET_CPU_PERCENT}% even idle, so a lower target keeps the group at its maximum`,
  );
  if (props.scaling.requestsPerTarget !== undefined) {
    problems.check(props.scaling.requestsPerTarget > 0, "scaling.requestsPerTarget", props.scaling.requestsPerTarget, "must be above 0");
  }
  checkScheduledActions(props.scheduledActions ?? [], problems);
  checkPurchaseMix(props, problems);

  if (props.warmPool) {
    const min = props.warmPool.minSize ?? 0;
    problems.check(isIntegerBetween(min, 0, 1000), "warmPool.minSize", min, "must be a whole number, 0 or more");
    const prepared = props.warmPool.maxPreparedCapacity;
    if (prepared !== undefined) {
      problems.check(
        Number.isInteger(prepared) && prepared >= props.maxCapacity,
        "warmPool.maxPreparedCapacity",
        prepared,
        `must be at least maxCapacity (${props.maxCapacity}): it counts running and warm instances together`,
      );
    }
  }
  const healthy = props.instanceRefreshMinHealthyPercent ?? 100;
  problems.check(isIntegerBetween(healthy, 0, 100), "instanceRefreshMinHealthyPercent", healthy, "must be 0 to 100");
  const root = props.rootVolumeGiB ?? 20;
  problems.check(isIntegerBetween(root, 8, 16384), "rootVolumeGiB", root, "must be 8 to 16384 GiB");
  const boot = props.bootTimeoutSeconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS;
  const bootOk = problems.check(isIntegerBetween(boot, 30, 7200), "bootTimeoutSeconds", boot, "must be 30 to 7200 seconds");
  const stepTimeout = props.bootStepTimeoutSeconds ?? Math.min(DEFAULT_BOOT_STEP_TIMEOUT_SECONDS, boot);
  if (problems.check(isIntegerBetween(stepTimeout, 30, 7200), "bootStepTimeoutSeconds", stepTimeout, "a lifecycle hook waits 30 to 7200 seconds between heartbeats") && bootOk) {
    problems.check(stepTimeout <= boot, "bootStepTimeoutSeconds", stepTimeout, `must be at most bootTimeoutSeconds (${boot}): one step cannot outlast the whole boot`);
  }
  const wait = props.healthCheckWaitSeconds ?? 300;
  problems.check(
    isIntegerBetween(wait, 10, 7200) && wait < stepTimeout,
    "healthCheckWaitSeconds",
    wait,
    `must be at least 10 seconds and shorter than bootStepTimeoutSeconds (${stepTimeout}): the health wait is one step`,
  );
}

function checkComputeProps(props: ComputeProps, problems: Problems): void {
  checkComputeSettings(props, problems);
  checkLogRetention(problems, "logRetentionDays", props.logRetentionDays);
  checkInterruptionDrain(props, props.deregistrationDelaySeconds, "deregistrationDelaySeconds", problems);
  problems.check(props.subnetIds.length > 0, "subnetIds", props.subnetIds, "needs at least one private app subnet");
  props.grants.forEach((grant, i) => {
    const resources = grant.Resource === undefined ? [] : typeof grant.Resource === "string" ? [grant.Resource] : grant.Resource;
    problems.check(
      grant.Effect === "Allow" && resources.length > 0 && !resources.includes("*"),
      `grants[${i}]`,
      grant.Sid ?? grant.Action,
      "a grant must allow named resources (no * resource)",
    );
  });
}

/** The app tier as the composing stack consumes it. */
export interface ComputeRefs {
  readonly autoScalingGroupName: string;
  readonly autoScalingGroupArn: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly launchTemplateId: string;
  readonly logGroupName: string;
  readonly securityGroupId: string;
  /** Filter pattern for the boot script's failure line in the log group. */
  readonly bootFailurePattern: string;
  /** CloudWatch namespace of the app's metrics: boot failures, and the timed jobs' (JobFailures, ...). */
  readonly metricsNamespace: string;
}

/** The settings the group's warnings are about (acknowledged as `compute.<id>`). */
export type ComputeWarningId = "repository.sshKnownHosts";

export class Compute extends Construct implements Connectable, ComputeRefs {
  /** The app security group; default port = the app port. */
  readonly connections: Connections;
  readonly securityGroup: SecurityGroup;
  readonly role: IamRole;
  readonly launchTemplate: LaunchTemplate;
  readonly group: AutoscalingGroup;
  readonly logGroup: CloudwatchLogGroup;
  readonly volumeKey: EncryptionKey;
  readonly autoScalingGroupName: string;
  readonly autoScalingGroupArn: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly launchTemplateId: string;
  readonly logGroupName: string;
  readonly securityGroupId: string;
  readonly bootFailurePattern = BOOT_FAILURE_PATTERN;
  readonly metricsNamespace: string;
  /** The rendered user data (before base64), with Terraform references as tokens. */
  readonly userData: string;
  /** Whether the purchase mix may launch Spot Instances (their interruptions are alarmed). */
  readonly launchesSpot: boolean;
  /** The longest an instance may take from launch to in service: the boot budget plus one step. */
  readonly launchWindowSeconds: number;
  readonly bootBundle: BootBundle;
  readonly jobTable: JobTable;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    assertValid(this, props, checkComputeProps);

    const name = `${props.namePrefix}-app`;
    const partition = "aws";
    const warmup = props.defaultInstanceWarmupSeconds ?? 120;
    const bootTimeout = props.bootTimeoutSeconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS;
    const stepTimeout = props.bootStepTimeoutSeconds ?? Math.min(DEFAULT_BOOT_STEP_TIMEOUT_SECONDS, bootTimeout);
    const appUser = props.appUser ?? DEFAULT_APP_USER;
    const uploadsPath = props.uploadsPath ?? DEFAULT_UPLOADS_PATH;
    this.autoScalingGroupName = name;
    this.launchesSpot = launchesSpot(resolvePurchaseMix(props.purchaseMix, props.instanceType), props.maxCapacity);
    this.launchWindowSeconds = bootTimeout + stepTimeout;
    // Built from parts, not from the group, so the role's policy does not depend on the group it launches into.
    this.autoScalingGroupArn = `arn:${partition}:autoscaling:${props.region}:${props.accountId}:autoScalingGroup:*:autoScalingGroupName/${name}`;

    ({ securityGroup: this.securityGroup, connections: this.connections } = ownSecurityGroup(this, {
      name: "app",
      groupName: name,
      description: "App instances: the app port from the load balancer; egress by explicit rules",
      vpcId: props.vpcId,
      defaultPort: props.appPort,
    }));
    this.securityGroupId = this.securityGroup.id;
    new VpcSecurityGroupEgressRule(this, "egress-https", {
      securityGroupId: this.securityGroup.id,
      cidrIpv4: "0.0.0.0/0",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "HTTPS to AWS APIs and the git host",
    });

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/${props.namePrefix}/app`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKeyArn,
    });
    this.logGroupName = this.logGroup.name;
    this.metricsNamespace = `${props.namePrefix}/app`;

    // Timed jobs: the slot table, and the runner's configuration the boot writes.
    this.jobTable = new JobTable(this, "jobs", {
      ...props.jobTable,
      namePrefix: props.namePrefix,
      region: props.region,
      accountId: props.accountId,
    });
    const cronJobs = (props.cronJobs ?? []).map((job) => resolveCronJob(job, props.cronDefaults));
    const runnerConfig = jobsConfig(
      cronJobs,
      {
        // The name, not the resource's attribute: the bundle's content (and key) is known at synth time.
        table: `${props.namePrefix}-jobs`,
        region: props.region,
        namespace: this.metricsNamespace,
        recordRetentionDays: props.jobTable?.recordRetentionDays ?? DEFAULT_RECORD_RETENTION_DAYS,
        logDir: "/var/log/webapp",
        switchParameter: timedJobsParameterName(props.namePrefix),
      },
      "/etc/webapp/cron",
    );

    // The boot bundle: everything the boot needs that is known at synth time, in S3 (user data is 16 KB).
    this.bootBundle = new BootBundle(this, "boot-bundle", {
      namePrefix: props.namePrefix,
      region: props.region,
      accountId: props.accountId,
      content: renderBootBundle({
        environmentName: props.environmentName,
        region: props.region,
        autoScalingGroupName: name,
        launchHookName: LAUNCH_HOOK_NAME,
        terminateHookName: TERMINATE_HOOK_NAME,
        logGroupName: `/${props.namePrefix}/app`,
        appUser,
        appPort: props.appPort,
        uploadsPath,
        healthCheckPath: props.healthCheckPath,
        databaseCaBundleUrl: RDS_CA_BUNDLE_URL,
        healthCheckWaitSeconds: props.healthCheckWaitSeconds ?? 300,
        bootTimeoutSeconds: bootTimeout,
        bootStepTimeoutSeconds: stepTimeout,
        repositoryUrl: props.repository.url,
        repositoryRef: props.repository.ref,
        repositoryDirectory: props.repository.directory ?? "",
        allowBranchRef: props.repository.allowBranchRef ?? false,
        credentialType: props.repository.credentialType,
        httpsUsername: props.repository.httpsUsername ?? "x-access-token",
        sshKnownHosts: props.repository.sshKnownHosts ?? [],
        runtimePackages: runtimePackages(props.runtime),
        buildCommands: props.buildCommands,
        startCommand: props.startCommand,
        cronJobs: cronJobs.map((j) => ({ name: j.name, command: j.command })),
        jobsConfig: runnerConfig,
        jobsDrainTimeoutSeconds: jobsDrainTimeoutSeconds(props.deregistrationDelaySeconds),
        deregistrationDelaySeconds: props.deregistrationDelaySeconds,
        loadBalancerIdleTimeoutSeconds: props.loadBalancerIdleTimeoutSeconds ?? 60,
        targetHealthySeconds: props.targetHealthySeconds ?? 35,
      }),
    });

    this.role = new IamRole(this, "role", {
      name,
      description: "App instances: Session Manager, own logs, own secrets, uploads, own lifecycle action",
      assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com", props.accountId),
    });
    this.roleArn = this.role.arn;
    this.roleName = this.role.name;
    const rolePolicies: TerraformResource[] = [];
    const ssmCore = new IamRolePolicyAttachment(this, "ssm-core", {
      role: this.role.name,
      policyArn: `arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });
    rolePolicies.push(ssmCore);
    const ownResources = new IamRolePolicy(this, "own-resources", {
      name: "own-resources",
      role: this.role.id,
      policy: policyDocument(
        {
          Sid: "WriteOwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [this.logGroup.arn, `${this.logGroup.arn}:*`],
        },
        {
          Sid: "OwnLifecycleActions",
          Effect: "Allow",
          Action: ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
          Resource: this.autoScalingGroupArn,
        },
        {
          // The timed jobs' run-time switch, which the runner reads once a minute (webapp-jobs.py).
          Sid: "ReadTimedJobsSwitch",
          Effect: "Allow",
          Action: ["ssm:GetParameter"],
          Resource: `arn:${partition}:ssm:${props.region}:${props.accountId}:parameter${timedJobsParameterName(props.namePrefix)}`,
        },
        {
          // An instance leaves the target group before its app restarts for new secrets, and rejoins after.
          Sid: "OwnTargetGroupMembership",
          Effect: "Allow",
          Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
          Resource: props.targetGroup.arn,
        },
        ...this.bootBundle.grantRead(),
        ...this.jobTable.grantRunner(),
        {
          // PutMetricData takes no resource; the namespace condition keeps it to the app's own metrics.
          Sid: "OwnMetrics",
          Effect: "Allow",
          Action: "cloudwatch:PutMetricData",
          Resource: "*",
          Condition: { StringEquals: { "cloudwatch:namespace": this.metricsNamespace } },
        },
      ),
    });
    rolePolicies.push(ownResources);
    if (props.grants.length > 0) {
      rolePolicies.push(
        new IamRolePolicy(this, "data-access", {
          name: "data-access",
          role: this.role.id,
          policy: policyDocument(...props.grants),
        }),
      );
    }
    const profile = new IamInstanceProfile(this, "profile", { name, role: this.role.name });

    // The Auto Scaling service-linked role creates the encrypted volumes, so the key policy names it.
    const autoScalingRole = `arn:${partition}:iam::${props.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
    this.volumeKey = new EncryptionKey(this, "volume-key", {
      description: `${props.namePrefix}: app instance volumes`,
      alias: `${props.namePrefix}-app-volumes`,
      accountId: props.accountId,
      principals: [
        { arn: autoScalingRole, actions: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"] },
        { arn: autoScalingRole, actions: ["kms:CreateGrant"], conditions: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
      ],
    });

    // A data source, not `resolve:ssm:`, so the template records a concrete AMI id: instance refresh can
    // only roll back to numbered template versions whose image is not an SSM parameter.
    const imageId =
      props.amiId ??
      new DataAwsSsmParameter(this, "ami", { name: amiParameter(props.instanceType) }).insecureValue;

    this.userData = renderUserData(
      {
        databaseHost: props.database.address,
        databasePort: Token.asString(props.database.port),
        databaseName: props.database.databaseName,
        databaseEngine: props.database.engine,
        databaseSecretArn: props.database.appUserSecretArn,
        cacheHost: props.cache.primaryEndpointAddress,
        cachePort: Token.asString(props.cache.port),
        cacheTls: props.cache.tls ? "true" : "false",
        cacheTokenSecretArn: props.cache.authTokenSecretArn,
        fileSystemId: props.fileSystem.fileSystemId,
        accessPointId: props.fileSystem.accessPointId,
        appEnvSecretArn: props.secrets.appEnvSecretArn,
        repositoryCredentialSecretArn: props.secrets.repositoryCredentialSecretArn,
        targetGroupArn: props.targetGroup.arn,
      },
      {
        region: props.region,
        bucket: this.bootBundle.bucket.bucket,
        key: this.bootBundle.objectKey,
        versionId: this.bootBundle.object.versionId,
        sha256: this.bootBundle.sha256,
      },
    );
    if (props.repository.credentialType === "ssh-key" && (props.repository.sshKnownHosts ?? []).length === 0) {
      addWarning(this, {
        id: "repository.sshKnownHosts",
        message: "repository.sshKnownHosts is empty: the git host's key is accepted on first use",
      } satisfies Warning<ComputeWarningId>);
    }

    const tags = { ...(props.instanceTags ?? {}), Name: name };
    this.launchTemplate = new LaunchTemplate(this, "template", {
      name,
      description: `${props.namePrefix} app instances`,
      imageId,
      instanceType: props.instanceType,
      updateDefaultVersion: true,
      ebsOptimized: "true",
      iamInstanceProfile: { arn: profile.arn },
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      monitoring: { enabled: true },
      networkInterfaces: [
        {
          deviceIndex: 0,
          associatePublicIpAddress: "false",
          deleteOnTermination: "true",
          securityGroups: [this.securityGroup.id],
        },
      ],
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeType: "gp3",
            volumeSize: props.rootVolumeGiB ?? 20,
            encrypted: "true",
            kmsKeyId: this.volumeKey.arn,
            deleteOnTermination: "true",
          },
        },
      ],
      tagSpecifications: [
        { resourceType: "instance", tags },
        { resourceType: "volume", tags },
        { resourceType: "network-interface", tags },
      ],
      userData: Fn.base64encode(this.userData),
      tags: { Name: name },
    });
    this.launchTemplateId = this.launchTemplate.id;

    const healthy = props.instanceRefreshMinHealthyPercent ?? 100;
    const warmPool = props.warmPool;
    const hooks = [
      {
        name: LAUNCH_HOOK_NAME,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        defaultResult: "ABANDON",
        heartbeatTimeout: stepTimeout,
      },
      {
        name: TERMINATE_HOOK_NAME,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        defaultResult: "CONTINUE",
        heartbeatTimeout: Math.min(7200, Math.max(30, props.deregistrationDelaySeconds + 30)),
      },
    ];
    this.group = new AutoscalingGroup(this, "group", {
      name,
      vpcZoneIdentifier: [...props.subnetIds],
      minSize: props.minCapacity,
      maxSize: props.maxCapacity,
      // The template, or the purchase mix over the same template (numbered version: auto rollback needs one).
      ...launchSource(props, { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) }),
      targetGroupArns: [props.targetGroup.arn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: props.healthCheckGraceSeconds ?? 120,
      defaultInstanceWarmup: warmup,
      capacityRebalance: true,
      metricsGranularity: "1Minute",
      enabledMetrics: [
        "GroupMinSize",
        "GroupMaxSize",
        "GroupDesiredCapacity",
        "GroupInServiceInstances",
        "GroupPendingInstances",
        "GroupStandbyInstances",
        "GroupTerminatingInstances",
        "GroupTotalInstances",
        ...(warmPool ? ["WarmPoolDesiredCapacity", "WarmPoolWarmedCapacity", "WarmPoolPendingCapacity", "WarmPoolTotalCapacity"] : []),
      ],
      // Terraform waits for min healthy instances, each held by the boot gate up to its budget, plus one
      // step past it in the worst case (the budget is checked between steps).
      waitForCapacityTimeout: `${Math.ceil((bootTimeout + stepTimeout) / 60) + 5}m`,
      // Only CreateAutoScalingGroup attaches hooks before the first instance launches; the provider
      // never updates this block afterwards, so the hook resources below own every later change.
      initialLifecycleHook: hooks,
      instanceRefresh: {
        strategy: "Rolling",
        preferences: {
          minHealthyPercentage: healthy,
          maxHealthyPercentage: Math.min(200, healthy + 100),
          instanceWarmup: String(warmup),
          autoRollback: true,
          skipMatching: false,
          scaleInProtectedInstances: "Wait",
          standbyInstances: "Wait",
        },
      },
      warmPool: warmPool
        ? {
            minSize: warmPool.minSize ?? 0,
            maxGroupPreparedCapacity: warmPool.maxPreparedCapacity,
            poolState: warmPool.poolState ?? "Stopped",
            instanceReusePolicy: { reuseOnScaleIn: false },
          }
        : undefined,
      // Provider default tags do not reach the group: it carries the standard tags itself, not propagated
      // (the launch template tags what it launches).
      tag: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
      // Instances call AWS at boot: the role's permissions exist before the first launch.
      dependsOn: rolePolicies,
      // The block is read only at creation; a diff on it would promise a change that never happens.
      lifecycle: { ignoreChanges: ["initial_lifecycle_hook"] },
    });
    // The same hooks as their own resources (PutLifecycleHook creates or replaces by name): a new boot
    // timeout or draining delay reaches the existing group. On a new group they rewrite what creation attached.
    for (const hook of hooks) {
      new AutoscalingLifecycleHook(this, `hook-${hook.name}`, { autoscalingGroupName: this.group.name, ...hook });
    }

    new AutoscalingPolicy(this, "cpu", {
      name: `${name}-cpu`,
      autoscalingGroupName: this.group.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
        targetValue: props.scaling.targetCpuPercent,
      },
    });
    if (props.scaling.requestsPerTarget !== undefined) {
      new AutoscalingPolicy(this, "requests", {
        name: `${name}-requests`,
        autoscalingGroupName: this.group.name,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: `${props.loadBalancer.arnSuffix}/${props.targetGroup.arnSuffix}`,
          },
          targetValue: props.scaling.requestsPerTarget,
        },
      });
    }
    for (const action of props.scheduledActions ?? []) {
      new AutoscalingSchedule(this, `schedule-${action.name}`, {
        scheduledActionName: action.name,
        autoscalingGroupName: this.group.name,
        recurrence: action.recurrence,
        timeZone: action.timeZone ?? "UTC",
        minSize: action.minCapacity,
        maxSize: action.maxCapacity,
        // The provider sends an unset desired_capacity as 0 (below a non-zero minimum: AWS rejects it); -1 leaves it out.
        desiredCapacity: action.desiredCapacity ?? -1,
      });
    }
  }
}
