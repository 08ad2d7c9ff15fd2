// The compute settings an environment chooses: their types, their defaults resolved once
// (resolveComputeSettings, which both the check below and the construct read), and the pure check, one line
// per problem, on the resolved value.
import { EC2_INSTANCE_TYPES } from "../rules/aws-catalogue.generated";
import { timeZoneProblem } from "../rules/aws-rules";
import { catalogueMessage, Problems } from "../primitives/validation";
import { cronProblem } from "./cron";
import { checkCronJobs, CronJobSettings, CronJobTiming, JobTableSettings } from "./jobs";
import { checkPurchaseMix, PurchaseMixSettings } from "./purchase-mix";
import { checkRepository, RepositorySettings, ResolvedRepositorySettings, resolveRepository } from "./repository";
import { checkRuntime, RuntimeSettings } from "./runtime";

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

export const DEFAULT_APP_USER = "webapp";
export const DEFAULT_UPLOADS_PATH = "/mnt/uploads";
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 1200;
export const DEFAULT_BOOT_STEP_TIMEOUT_SECONDS = 600;
/** The lowest CPU target accepted: below it target tracking only ever scales out. */
export const MIN_TARGET_CPU_PERCENT = 10;

/** A scheduled action with its time zone filled in. */
export interface ResolvedScheduledAction extends ScheduledActionSettings {
  readonly timeZone: string;
}

/** A warm pool with its defaults filled in (the prepared capacity stays unset: AWS then takes the group's maximum). */
export interface ResolvedWarmPool extends WarmPoolSettings {
  readonly minSize: number;
  readonly poolState: "Stopped" | "Hibernated" | "Running";
}

/** The compute settings with every default filled in, and the figures derived from them. */
export interface ResolvedComputeSettings extends ComputeSettings {
  readonly healthCheckGraceSeconds: number;
  readonly defaultInstanceWarmupSeconds: number;
  readonly appUser: string;
  readonly repository: ResolvedRepositorySettings;
  readonly uploadsPath: string;
  readonly cronJobs: readonly CronJobSettings[];
  readonly scheduledActions: readonly ResolvedScheduledAction[];
  readonly warmPool?: ResolvedWarmPool;
  readonly instanceRefreshMinHealthyPercent: number;
  readonly rootVolumeGiB: number;
  readonly bootTimeoutSeconds: number;
  readonly bootStepTimeoutSeconds: number;
  readonly healthCheckWaitSeconds: number;
  /** Share of capacity an instance refresh may run above the desired capacity: min healthy + 100, at most 200. */
  readonly instanceRefreshMaxHealthyPercent: number;
  /** The longest an instance may take from launch to in service: the boot budget plus one step. */
  readonly launchWindowSeconds: number;
}

/** The settings' defaults, written once: the check and the construct both read what this returns. */
export function resolveComputeSettings<S extends ComputeSettings>(settings: S): S & ResolvedComputeSettings {
  const bootTimeoutSeconds = settings.bootTimeoutSeconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS;
  const bootStepTimeoutSeconds = settings.bootStepTimeoutSeconds ?? Math.min(DEFAULT_BOOT_STEP_TIMEOUT_SECONDS, bootTimeoutSeconds);
  const instanceRefreshMinHealthyPercent = settings.instanceRefreshMinHealthyPercent ?? 100;
  const warmPool = settings.warmPool;
  return {
    ...settings,
    healthCheckGraceSeconds: settings.healthCheckGraceSeconds ?? 120,
    defaultInstanceWarmupSeconds: settings.defaultInstanceWarmupSeconds ?? 120,
    appUser: settings.appUser ?? DEFAULT_APP_USER,
    repository: resolveRepository(settings.repository),
    uploadsPath: settings.uploadsPath ?? DEFAULT_UPLOADS_PATH,
    cronJobs: settings.cronJobs ?? [],
    scheduledActions: (settings.scheduledActions ?? []).map((action) => ({ ...action, timeZone: action.timeZone ?? "UTC" })),
    warmPool: warmPool && { ...warmPool, minSize: warmPool.minSize ?? 0, poolState: warmPool.poolState ?? "Stopped" },
    instanceRefreshMinHealthyPercent,
    rootVolumeGiB: settings.rootVolumeGiB ?? 20,
    bootTimeoutSeconds,
    bootStepTimeoutSeconds,
    healthCheckWaitSeconds: settings.healthCheckWaitSeconds ?? 300,
    instanceRefreshMaxHealthyPercent: Math.min(200, instanceRefreshMinHealthyPercent + 100),
    launchWindowSeconds: bootTimeoutSeconds + bootStepTimeoutSeconds,
  };
}

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const UPLOADS_PATH = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;
const TIME_ZONE = /^(UTC|[A-Z][A-Za-z_]+(\/[A-Za-z0-9_+-]+){1,2})$/;

function isIntegerBetween(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkScheduledActions(actions: readonly ResolvedScheduledAction[], problems: Problems): void {
  actions.forEach((action, i) => {
    const at = problems.at(`scheduledActions[${i}]`);
    at.check(NAME.test(action.name), "name", action.name, "must be 1-63 of a-z, 0-9 and -");
    at.check(actions.findIndex((a) => a.name === action.name) === i, "name", action.name, "another scheduled action has the same name");
    const problem = cronProblem(action.recurrence);
    at.check(problem === undefined, "recurrence", action.recurrence, `not a valid cron schedule: ${problem}`);
    at.check(isIntegerBetween(action.minCapacity, 0, 1000), "minCapacity", action.minCapacity, "must be a whole number, 0 or more");
    at.check(isIntegerBetween(action.maxCapacity, 0, 1000), "maxCapacity", action.maxCapacity, "must be a whole number, 0 or more");
    at.check(
      action.minCapacity <= action.maxCapacity,
      "minCapacity",
      action.minCapacity,
      `minCapacity (${action.minCapacity}) should be <= maxCapacity (${action.maxCapacity})`,
    );
    if (action.desiredCapacity !== undefined) {
      at.check(
        isIntegerBetween(action.desiredCapacity, action.minCapacity, action.maxCapacity),
        "desiredCapacity",
        action.desiredCapacity,
        `must be between minCapacity (${action.minCapacity}) and maxCapacity (${action.maxCapacity})`,
      );
    }
    const zoneProblem = TIME_ZONE.test(action.timeZone)
      ? timeZoneProblem(action.timeZone)
      : "not an IANA time zone name (for example Europe/London)";
    at.check(zoneProblem === undefined, "timeZone", action.timeZone, zoneProblem ?? "");
  });
}

/** One line per problem of an environment's compute settings, checked with their defaults resolved. */
export function checkComputeSettings(settings: ComputeSettings, problems: Problems): void {
  const props = resolveComputeSettings(settings);
  if (
    problems.check(
      INSTANCE_TYPE.test(props.instanceType),
      "instanceType",
      props.instanceType,
      "not an EC2 instance type (for example t4g.small)",
    )
  ) {
    const known = EC2_INSTANCE_TYPES.includes(props.instanceType);
    if (!known)
      problems.add(
        "instanceType",
        props.instanceType,
        catalogueMessage(props.instanceType, EC2_INSTANCE_TYPES, "no such EC2 instance type (modules/rules/aws-catalogue.generated.ts)"),
      );
  }
  if (props.amiId !== undefined)
    problems.check(AMI_ID.test(props.amiId), "amiId", props.amiId, "not an AMI id (ami- and 8 or 17 hex digits)");

  const sizesOk =
    problems.check(isIntegerBetween(props.minCapacity, 0, 1000), "minCapacity", props.minCapacity, "must be a whole number, 0 or more") &&
    problems.check(isIntegerBetween(props.maxCapacity, 1, 1000), "maxCapacity", props.maxCapacity, "must be a whole number, 1 or more");
  if (sizesOk) {
    problems.check(
      props.minCapacity <= props.maxCapacity,
      "minCapacity",
      props.minCapacity,
      `minCapacity (${props.minCapacity}) should be <= maxCapacity (${props.maxCapacity})`,
    );
  }
  const grace = props.healthCheckGraceSeconds;
  problems.check(isIntegerBetween(grace, 0, 7200), "healthCheckGraceSeconds", grace, "must be 0 to 7200 seconds");
  const warmup = props.defaultInstanceWarmupSeconds;
  problems.check(isIntegerBetween(warmup, 0, 3600), "defaultInstanceWarmupSeconds", warmup, "must be 0 to 3600 seconds");
  problems.check(
    isIntegerBetween(props.appPort, 1024, 65535),
    "appPort",
    props.appPort,
    "must be 1024 to 65535: the app runs as an unprivileged user",
  );
  const user = props.appUser;
  problems.check(USER.test(user) && user !== "root", "appUser", user, "must be a Linux user name other than root");

  checkRepository(props.repository, problems.at("repository"));
  checkRuntime(props, problems);

  if (
    problems.check(
      props.buildCommands.length > 0,
      "buildCommands",
      props.buildCommands,
      "needs at least one build command (for example installing dependencies)",
    )
  ) {
    props.buildCommands.forEach((command, i) =>
      problems.check(command.trim().length > 0, `buildCommands[${i}]`, command, "must not be empty"),
    );
  }
  problems.check(props.startCommand.trim().length > 0, "startCommand", props.startCommand, "must start the app");
  problems.check(
    /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(props.healthCheckPath) && props.healthCheckPath.length <= 1024,
    "healthCheckPath",
    props.healthCheckPath,
    "must be a URL path starting with / (at most 1024 characters, no spaces or query)",
  );
  const uploads = props.uploadsPath;
  problems.check(
    UPLOADS_PATH.test(uploads) && !uploads.split("/").includes(".."),
    "uploadsPath",
    uploads,
    "must be an absolute directory path other than /",
  );

  checkCronJobs(props.cronJobs, props.cronDefaults, props.jobTable, problems);

  problems.check(
    props.scaling.targetCpuPercent >= MIN_TARGET_CPU_PERCENT && props.scaling.targetCpuPercent <= 100,
    "scaling.targetCpuPercent",
    props.scaling.targetCpuPercent,
    `must be a percentage from ${MIN_TARGET_CPU_PERCENT} to 100: a fleet rarely averages below ${MIN_TARGET_CPU_PERCENT}% even idle, so a lower target keeps the group at its maximum`,
  );
  if (props.scaling.requestsPerTarget !== undefined) {
    problems.check(props.scaling.requestsPerTarget > 0, "scaling.requestsPerTarget", props.scaling.requestsPerTarget, "must be above 0");
  }
  checkScheduledActions(props.scheduledActions, problems);
  // The mix resolves its own defaults; its messages quote the settings as written (warmPool among them).
  checkPurchaseMix(settings, problems);

  if (props.warmPool) {
    const min = props.warmPool.minSize;
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
  const healthy = props.instanceRefreshMinHealthyPercent;
  problems.check(isIntegerBetween(healthy, 0, 100), "instanceRefreshMinHealthyPercent", healthy, "must be 0 to 100");
  const root = props.rootVolumeGiB;
  problems.check(isIntegerBetween(root, 8, 16384), "rootVolumeGiB", root, "must be 8 to 16384 GiB");
  const boot = props.bootTimeoutSeconds;
  const bootOk = problems.check(isIntegerBetween(boot, 30, 7200), "bootTimeoutSeconds", boot, "must be 30 to 7200 seconds");
  const stepTimeout = props.bootStepTimeoutSeconds;
  if (
    problems.check(
      isIntegerBetween(stepTimeout, 30, 7200),
      "bootStepTimeoutSeconds",
      stepTimeout,
      "a lifecycle hook waits 30 to 7200 seconds between heartbeats",
    ) &&
    bootOk
  ) {
    problems.check(
      stepTimeout <= boot,
      "bootStepTimeoutSeconds",
      stepTimeout,
      `must be at most bootTimeoutSeconds (${boot}): one step cannot outlast the whole boot`,
    );
  }
  const wait = props.healthCheckWaitSeconds;
  problems.check(
    isIntegerBetween(wait, 10, 7200) && wait < stepTimeout,
    "healthCheckWaitSeconds",
    wait,
    `must be at least 10 seconds and shorter than bootStepTimeoutSeconds (${stepTimeout}): the health wait is one step`,
  );
}
