// The pure validator: checks every selected environment before any construct is built and reports
// every problem, one line each: `<environment>: <field path> = <value>: <what is wrong>`.
import { overlaps, parseCidr } from "../../modules/primitives/cidr";
import { checkCiSettings } from "../../modules/bootstrap/ci-roles";
import { checkCertificateSettings } from "../../modules/certificate";
import { checkLoadBalancerSettings, resolveLoadBalancerSettings } from "../../modules/load-balancer";
import { checkLogRetention } from "../../modules/primitives/logs";
import { checkNetworkSettings } from "../../modules/networking";
import { checkSecretsSettings } from "../../modules/secrets";
import { checkDatabaseSettings } from "../../modules/database";
import { boundarySizes, MANAGED_POLICY_MAX_CHARS } from "../../modules/stacks/bootstrap-stack";
import { checkFileSystemSettings } from "../../modules/file-system";
import { checkCacheSettings } from "../../modules/cache";
import { checkComputeSettings, refKind } from "../../modules/compute";
import { checkDerivedNames } from "../../modules/rules/aws-names";
import { checkLinkedSettings } from "../../modules/rules/linked-settings";
import { checkInterruptionDrain, largestMinimum, launchesSpot, resolvePurchaseMix } from "../../modules/compute/purchase-mix";
import { checkMonitoringSettings } from "../../modules/monitoring";
import {
  checkRemoteStateSettings,
  checkStateAuditSettings,
  resolveStateStorageProps,
  S3_BUCKET_NAME,
} from "../../modules/bootstrap/state-backend";
import { checkWafSettings } from "../../modules/waf";
import { formatProblem, Problems } from "../../modules/primitives/validation";
import { bootstrapSchema, environmentSchema } from "./schema";
import { checkShape } from "./shape";
import type { BootstrapConfig, EnvironmentConfig, ProductionSafeguard } from "./types";

/**
 * An environment's name: what `npm run new-env` accepts. No hyphen: the environment fence and the key and
 * bucket policies match roles by `<project>-<env>-*`, which for `prod` would also match a `prod-eu`'s roles;
 * the name is also part of GitHub variable names (`AWS_PLAN_ROLE_ARN_<NAME>`).
 */
const NAME = /^[a-z][a-z0-9]{0,19}$/;
const PROJECT = /^[a-z][a-z0-9-]{1,19}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const MIN_WAIVER_REASON = 10;
/** Days of database backups a production environment keeps unless waived. */
const PRODUCTION_BACKUP_DAYS = 14;

/**
 * One setting a safeguard watches: `off` returns the offending value, or undefined when the setting is safe;
 * `field` may name a list (`compute.scheduledActions`), whose offending entries `each` returns by index.
 */
interface SafeguardRule {
  readonly field: string;
  readonly off: (c: EnvironmentConfig) => unknown;
  /** The list's offending entries, each with its path under `field` (`[0].minCapacity`). */
  readonly each?: (c: EnvironmentConfig) => readonly [path: string, value: unknown][];
  /** What production needs, when more than the safeguard's name says it. @default the safeguard's name */
  readonly need?: string;
}

/** Tag keys the platform sets on every resource itself (modules/primitives/naming.ts). */
const STANDARD_TAGS = ["Project", "Environment", "ManagedBy", "Repository"];

/** Extra tags: what AWS accepts as user tags (not `aws:`, 128-character keys, 256-character values), none of the standard ones. */
function checkTags(tags: Readonly<Record<string, string>>, problems: Problems): void {
  for (const [key, value] of Object.entries(tags)) {
    problems.check(!/^aws:/i.test(key), key, value, "tag keys starting with aws: are reserved for AWS");
    problems.check(key.length >= 1 && key.length <= 128, key, value, "tag keys are 1-128 characters");
    problems.check(value.length <= 256, key, value, "tag values are at most 256 characters");
    problems.check(
      !STANDARD_TAGS.includes(key),
      key,
      value,
      `set by the platform on every resource (${STANDARD_TAGS.join(", ")}); choose another key`,
    );
  }
}

/**
 * Which production safeguards an environment turns off: each safeguard lists the settings it watches, and
 * one waiver covers all of them. The data and edge settings add theirs here as they are introduced.
 */
const SAFEGUARDS: Readonly<Record<ProductionSafeguard, readonly SafeguardRule[]>> = {
  multiAz: [
    { field: "network.natGateways", off: (c) => (c.network.natGateways === "per-az" ? undefined : c.network.natGateways) },
    { field: "database.multiAz", off: (c) => (c.database.multiAz ? undefined : c.database.multiAz) },
    { field: "cache.multiAz", off: (c) => (c.cache.multiAz ? undefined : c.cache.multiAz) },
  ],
  deletionProtection: [
    { field: "edge.deletionProtection", off: (c) => (c.edge.deletionProtection ? undefined : c.edge.deletionProtection) },
    { field: "database.deletionProtection", off: (c) => (c.database.deletionProtection ? undefined : c.database.deletionProtection) },
    {
      field: "database.finalSnapshot",
      off: (c) => (c.database.finalSnapshot ? undefined : c.database.finalSnapshot),
      need: "a final snapshot",
    },
    { field: "compute.jobTable.deletionProtection", off: (c) => ((c.compute.jobTable?.deletionProtection ?? true) ? undefined : false) },
    {
      field: "secrets.recoveryWindowDays",
      off: (c) => (c.secrets.recoveryWindowDays > 0 ? undefined : c.secrets.recoveryWindowDays),
      need: "a recovery window for deleted secrets",
    },
  ],
  backupRetention: [
    {
      field: "database.backupRetentionDays",
      off: (c) => (c.database.backupRetentionDays >= PRODUCTION_BACKUP_DAYS ? undefined : c.database.backupRetentionDays),
      need: `database backups kept at least ${PRODUCTION_BACKUP_DAYS} days`,
    },
  ],
  pinnedRef: [
    {
      field: "compute.repository.ref",
      off: (c) => (refKind(c.compute.repository.ref) === "branch" ? c.compute.repository.ref : undefined),
      need: "a pinned commit or tag (a branch's newest commit is fetched at each boot, so instances may run different code)",
    },
  ],
  alwaysOn: [
    {
      field: "compute.minCapacity",
      off: (c) => (c.compute.minCapacity > 0 ? undefined : c.compute.minCapacity),
      need: "at least one instance serving at all times",
    },
    {
      field: "compute.scheduledActions",
      off: () => undefined,
      each: (c) =>
        (c.compute.scheduledActions ?? []).flatMap((a, i) =>
          (["minCapacity", "maxCapacity", "desiredCapacity"] as const)
            .filter((k) => a[k] === 0)
            .map((k) => [`[${i}].${k}`, a[k]] as [string, unknown]),
        ),
      need: "at least one instance serving at all times (this schedule scales the group to zero)",
    },
  ],
  onDemandBase: [
    {
      field: "compute.purchaseMix.onDemandBaseCapacity",
      off: (c) => {
        const mix = resolvePurchaseMix(c.compute.purchaseMix, c.compute.instanceType);
        if (!mix || !launchesSpot(mix, c.compute.maxCapacity)) return undefined;
        return mix.onDemandBaseCapacity >= largestMinimum(c.compute) ? undefined : mix.onDemandBaseCapacity;
      },
      need: "an On-Demand base of at least its minimum size (compute.minCapacity, and any scheduled action's), since Spot Instances can all be reclaimed at once",
    },
  ],
};

/** Marks a value `npm run new-env` could not know (scripts/new-env.mjs); any string holding it is rejected. */
export const PLACEHOLDER = "fill-me-in";

/** One problem per string value that still holds the placeholder, at its field path. */
function checkPlaceholders(value: unknown, path: string, problems: Problems): void {
  if (typeof value === "string") {
    if (value.toLowerCase().includes(PLACEHOLDER.replace(/-/g, "")) || value.includes(PLACEHOLDER)) {
      problems.add(path, value, "a placeholder from npm run new-env: set the real value");
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkPlaceholders(item, `${path}[${i}]`, problems));
  } else if (value && typeof value === "object") {
    // A key that is itself a field path (acknowledgements["network.natGateways"]) is quoted, as elsewhere.
    for (const [key, item] of Object.entries(value))
      checkPlaceholders(item, !path ? key : /^\w+$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, problems);
  }
}

function checkEnvironment(config: EnvironmentConfig, problems: Problems): void {
  checkPlaceholders(config, "", problems);
  problems.check(
    NAME.test(config.name),
    "name",
    config.name,
    `must be 1-20 lowercase letters and digits, starting with a letter (no hyphen: roles are fenced by the pattern ${config.project}-<env>-*, so one environment's pattern would match another's roles)`,
  );
  problems.check(
    config.name !== "ci",
    "name",
    config.name,
    `reserved: the CI roles are named ${config.project}-ci-<env>-*, which an environment named ci would own`,
  );
  problems.check(PROJECT.test(config.project), "project", config.project, "must be 2-20 of a-z, 0-9 and -, starting with a letter");
  problems.check(REGION.test(config.region), "region", config.region, "not an AWS region name (for example eu-west-2)");
  problems.check(ACCOUNT_ID.test(config.accountId), "accountId", config.accountId, "must be 12 digits");
  if (config.assumeRoleArn !== undefined) {
    problems.check(ROLE_ARN.test(config.assumeRoleArn), "assumeRoleArn", config.assumeRoleArn, "not an IAM role ARN");
  }
  problems.check(config.repository.trim().length > 0, "repository", config.repository, "must name the repository of this code");
  checkTags(config.tags ?? {}, problems.at("tags"));
  // The boot clones the app from its git host on the Internet and completes its lifecycle hook through the
  // Auto Scaling API, which has no interface endpoint here: without a NAT gateway no instance comes up.
  problems.check(
    config.network.natGateways !== "none",
    "network.natGateways",
    config.network.natGateways,
    'app instances need a NAT gateway: the boot clones the app from its git host on the Internet (no route without NAT) and calls the Auto Scaling API (no interface endpoint); use "single" or "per-az"',
  );
  checkLogRetention(problems, "logRetentionDays", config.logRetentionDays);
  checkRemoteStateSettings(config.state, problems.at("state"));
  if (config.state.accountId !== undefined)
    problems.check(ACCOUNT_ID.test(config.state.accountId), "state.accountId", config.state.accountId, "must be 12 digits");
  problems.check(REGION.test(config.state.region), "state.region", config.state.region, "not an AWS region name");
  checkNetworkSettings({ ...config.network, region: config.region }, problems.at("network"));
  checkSecretsSettings(config.secrets, problems.at("secrets"));
  checkDatabaseSettings(config.database, problems.at("database"));
  checkFileSystemSettings(config.fileSystem, problems.at("fileSystem"));
  checkCacheSettings(config.cache, problems.at("cache"));
  checkCertificateSettings(config.edge, problems.at("edge"));
  checkLoadBalancerSettings(config.edge, problems.at("edge"));
  checkWafSettings(config.edge.waf, problems.at("edge.waf"));
  checkComputeSettings(config.compute, problems.at("compute"));
  // A Spot interruption takes the scale-in path: deregistration, then the drain, within the notice.
  const edge = resolveLoadBalancerSettings(config.edge);
  checkInterruptionDrain(config.compute, edge.deregistrationDelaySeconds, "edge.deregistrationDelaySeconds", problems);
  checkMonitoringSettings(config.monitoring, problems.at("monitoring"));
  checkLinkedSettings(config, problems);
  // Names made from the project and environment names: only once those are well formed (reported above otherwise).
  if (NAME.test(config.name) && PROJECT.test(config.project)) checkDerivedNames(config, problems);

  for (const [field, reason] of Object.entries(config.acknowledgements ?? {})) {
    problems.check(
      typeof reason === "string" && reason.trim().length >= MIN_WAIVER_REASON,
      `acknowledgements["${field}"]`,
      reason,
      `an acknowledgement needs a written reason of at least ${MIN_WAIVER_REASON} characters`,
    );
  }
  const waivers = config.waivers ?? {};
  // Unknown safeguards are unknown keys of waivers, rejected with the shape.
  for (const [safeguard, reason] of Object.entries(waivers)) {
    problems.check(
      typeof reason === "string" && reason.trim().length >= MIN_WAIVER_REASON,
      `waivers.${safeguard}`,
      reason,
      `a waiver needs a written reason of at least ${MIN_WAIVER_REASON} characters`,
    );
  }
  if (config.production) {
    for (const [safeguard, rules] of Object.entries(SAFEGUARDS) as [ProductionSafeguard, readonly SafeguardRule[]][]) {
      if (waivers[safeguard]) continue;
      for (const rule of rules) {
        const message = `a production environment needs ${rule.need ?? safeguard}; fix it or add waivers.${safeguard} with a written reason`;
        for (const [path, value] of rule.each?.(config) ?? []) problems.add(`${rule.field}${path}`, value, message);
        const value = rule.off(config);
        if (value === undefined) continue;
        problems.add(rule.field, value, message);
      }
    }
  }
}

/** Which file defines each environment (environments/index.ts's ENVIRONMENT_FILES), for messages. */
export type EnvironmentFiles = Readonly<Record<string, unknown>>;

function isEnvironment(value: unknown): value is EnvironmentConfig {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * One line per entry of the environment list that is not an environment at all, naming its file where
 * `files` says: a copied file whose exported constant was not renamed leaves `undefined` in the list.
 * Run before anything else reads the list.
 */
export function validateEnvironmentList(known: readonly unknown[], files: EnvironmentFiles = {}): string[] {
  const lines: string[] = [];
  const entries = Object.entries(files);
  known.forEach((value, i) => {
    if (isEnvironment(value)) return;
    // The list is the files' values in order (environments/index.ts), so position names the file.
    const entry = entries.length === known.length ? entries[i] : undefined;
    const file = entry && entry[1] === value ? entry[0] : undefined;
    const message = file
      ? `environments/index.ts imports from ${file} a constant it does not export (a copied file still exporting the name it was copied from?): export the environment under the name index.ts imports`
      : "not an environment: does environments/index.ts import a constant its file does not export?";
    lines.push(formatProblem("environments", { path: `ENVIRONMENTS[${i}]`, value, message }));
  });
  return lines;
}

/** The names an environment serves (domain name and alternative names), each with its field. */
function servedNames(config: EnvironmentConfig): [field: string, name: string][] {
  return [
    ["edge.domainName", config.edge.domainName] as [string, string],
    ...(config.edge.alternativeNames ?? []).map((n, i) => [`edge.alternativeNames[${i}]`, n] as [string, string]),
  ];
}

/** DNS names compare case-insensitively and without the root's trailing dot. */
const dnsKey = (name: string) => name.toLowerCase().replace(/\.$/, "");

/**
 * Validates `selected` environments; `known` (all environments) is used for cross-environment rules
 * such as VPC ranges that must not overlap, and `files` names the other environment's file in those
 * messages. Returns one line per problem, empty when all is well.
 */
export function validateEnvironments(
  selected: readonly EnvironmentConfig[],
  known: readonly EnvironmentConfig[] = selected,
  files: EnvironmentFiles = {},
): string[] {
  const listed = validateEnvironmentList(selected, files);
  if (listed.length > 0) return listed;
  const others = known.filter(isEnvironment);
  const fileOf = (config: EnvironmentConfig) => Object.entries(files).find(([, v]) => v === config)?.[0];
  const who = (config: EnvironmentConfig) => {
    const file = fileOf(config);
    return file ? `${config.name} (${file})` : config.name;
  };
  const lines: string[] = [];
  for (const config of selected) {
    const problems = Problems.create();
    // Shape first: the value checks below read fields a misshapen config may not have.
    checkShape(config, environmentSchema, problems);
    if (problems.list.length > 0) {
      lines.push(...problems.list.map((p) => formatProblem(config.name || "(unnamed)", p)));
      continue;
    }
    checkEnvironment(config, problems);

    const mine = parseCidr(config.network.vpcCidr);
    const myNames = servedNames(config);
    for (const other of others) {
      if (other === config) continue;
      const wellFormed = checkedShape(other);
      if (other.name === config.name) {
        const myFile = fileOf(config);
        const theirFile = fileOf(other);
        const where = myFile && theirFile ? ` (${theirFile}; this one is ${myFile}: a copied file whose name was not changed?)` : "";
        problems.add("name", config.name, `another environment has the same name${where}`);
      }
      if (!wellFormed) continue;
      const theirs = parseCidr(other.network.vpcCidr);
      if (mine && theirs && overlaps(mine, theirs)) {
        problems.add("network.vpcCidr", config.network.vpcCidr, `overlaps ${who(other)}'s network.vpcCidr ${other.network.vpcCidr}`);
      }
      const theirNames = new Map(servedNames(other).map(([field, name]) => [dnsKey(name), field]));
      for (const [field, name] of myNames) {
        const theirField = theirNames.get(dnsKey(name));
        if (theirField === undefined) continue;
        problems.add(
          field,
          name,
          `${who(other)} serves it too (${theirField}): the second stack's DNS records and certificate validation collide`,
        );
      }
    }
    lines.push(...problems.list.map((p) => formatProblem(config.name || "(unnamed)", p)));
  }
  return lines;
}

/** Whether `config` fits the configuration's shape, so cross-environment rules may read its fields. */
function checkedShape(config: EnvironmentConfig): boolean {
  const problems = Problems.create();
  checkShape(config, environmentSchema, problems);
  return problems.list.length === 0;
}

const BOOTSTRAP_NAME = /^bootstrap(-[a-z0-9-]{1,30})?$/;

export function validateBootstrap(config: BootstrapConfig, environments: readonly EnvironmentConfig[] = []): string[] {
  const problems = Problems.create();
  checkShape(config, bootstrapSchema, problems);
  if (problems.list.length > 0)
    return problems.list.map((p) => formatProblem(typeof config.name === "string" ? config.name : "bootstrap", p));
  if (config.name !== undefined) {
    problems.check(
      BOOTSTRAP_NAME.test(config.name),
      "name",
      config.name,
      "must be bootstrap or bootstrap-<suffix> (lowercase letters, digits, hyphens)",
    );
  }
  problems.check(ACCOUNT_ID.test(config.accountId), "accountId", config.accountId, "must be 12 digits");
  problems.check(REGION.test(config.region), "region", config.region, "not an AWS region name");
  checkRemoteStateSettings(config.state, problems.at("state"));
  if (config.state.accountId !== undefined) {
    problems.check(
      config.state.accountId === config.accountId,
      "state.accountId",
      config.state.accountId,
      `the bootstrap stack creates its state bucket in its own account ${config.accountId}`,
    );
  }
  const days = resolveStateStorageProps(config).noncurrentVersionRetentionDays;
  problems.check(Number.isInteger(days) && days >= 1, "noncurrentVersionRetentionDays", days, "must be a whole number of days, at least 1");
  if (S3_BUCKET_NAME.test(config.state.bucket)) checkStateAuditSettings(config.state.bucket, config.stateAudit, problems.at("stateAudit"));
  if (config.ci) {
    checkCiSettings(config.ci, problems.at("ci"));
    const known = environments.filter(isEnvironment);
    config.ci.environments.forEach((ci, i) => {
      const env = known.find((e) => e.name === ci.name);
      const field = `ci.environments[${i}].name`;
      if (!problems.check(env !== undefined, field, ci.name, `no such environment; known: ${known.map((e) => e.name).join(", ")}`)) return;
      // A CI role reads and writes its environment's state in this stack's bucket, in this stack's account.
      if (!ACCOUNT_ID.test(config.accountId) || !ACCOUNT_ID.test(env!.accountId)) return;
      if (
        !problems.check(
          env!.accountId === config.accountId,
          field,
          ci.name,
          `is in account ${env!.accountId}, this stack's is ${config.accountId}: list it in the bootstrap stack of its own account`,
        )
      )
        return;
      // The apply role may assume only the environment's own roles (the environment fence); the plan role none.
      if (env!.assumeRoleArn !== undefined) {
        problems.check(
          false,
          field,
          ci.name,
          `sets assumeRoleArn ${env!.assumeRoleArn}, which its CI roles may not assume: they apply in the environment's own account (remove assumeRoleArn, or leave the environment out of ci)`,
        );
      }
      problems.check(
        env!.state.bucket === config.state.bucket && env!.state.lockTable === config.state.lockTable,
        field,
        ci.name,
        `keeps its state in ${env!.state.bucket} (lock table ${env!.state.lockTable}); this stack's CI roles can only reach ${config.state.bucket} (${config.state.lockTable})`,
      );
    });
  }
  if (problems.list.length === 0) {
    // Every boundary carries each environment's fence, which names the other environments' state and names.
    for (const size of boundarySizes(config, environments.filter(isEnvironment))) {
      problems.check(
        size.chars <= MANAGED_POLICY_MAX_CHARS,
        "environments",
        size.environment,
        `${size.policy} would be ${size.chars} characters; IAM allows ${MANAGED_POLICY_MAX_CHARS}: fewer environments in this account (docs/ci-and-state.md: "Prod in its own account"), or shorter names`,
      );
    }
  }
  return problems.list.map((p) => formatProblem(config.name ?? "bootstrap", p));
}

/**
 * The bootstrap stacks together: one per account, distinct names, and every environment's state bucket
 * created by the bootstrap stack of the account it names (so its backend's key alias exists).
 */
export function validateBootstrapLayout(bootstraps: readonly BootstrapConfig[], environments: readonly EnvironmentConfig[]): string[] {
  const lines: string[] = [];
  bootstraps.forEach((b, i) => {
    const where = b.name ?? "bootstrap";
    if (bootstraps.findIndex((o) => (o.name ?? "bootstrap") === where) !== i)
      lines.push(formatProblem(where, { path: "name", value: where, message: "another bootstrap stack has the same name" }));
    const sameAccount = bootstraps.findIndex((o) => o.accountId === b.accountId);
    if (sameAccount !== i) {
      lines.push(
        formatProblem(where, {
          path: "accountId",
          value: b.accountId,
          message: `${bootstraps[sameAccount]!.name ?? "bootstrap"} already bootstraps this account: one bootstrap stack per account`,
        }),
      );
    }
  });
  for (const env of environments) {
    const account = env.state.accountId ?? env.accountId;
    if (!ACCOUNT_ID.test(account)) continue; // reported by the environment's own validation
    const owner = bootstraps.find((b) => b.accountId === account);
    if (!owner) {
      lines.push(
        formatProblem(env.name, {
          path: "state.bucket",
          value: env.state.bucket,
          message: `no bootstrap stack is in account ${account}: add one for it (docs/ci-and-state.md: "Prod in its own account")`,
        }),
      );
    } else if (
      owner.state.bucket !== env.state.bucket ||
      owner.state.region !== env.state.region ||
      owner.state.lockTable !== env.state.lockTable
    ) {
      lines.push(
        formatProblem(env.name, {
          path: "state.bucket",
          value: env.state.bucket,
          message: `account ${account}'s bootstrap stack (${owner.name ?? "bootstrap"}) creates ${owner.state.bucket} and ${owner.state.lockTable} in ${owner.state.region}`,
        }),
      );
    }
  }
  return lines;
}
