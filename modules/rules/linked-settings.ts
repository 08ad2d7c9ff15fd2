// Rules that link settings of different modules, or a setting to the region: what AWS refuses, or what
// deploys broken, only because of how two settings combine. Pure: the environment validator runs them after
// each module's own check; the warnings are raised on the stack's preflight construct (docs/environments.md:
// "Acknowledged warnings").
import type { EnvironmentConfig } from "../../environments/schema/types";
import { cacheNodeTypesIn, isKnownCacheNodeType, isKnownRdsClass, rdsClassesAtVersion, rdsClassesIn } from "./aws-rules";
import { parseCidr } from "../primitives/cidr";
import { resolveSubnets } from "../networking";
import { resolveComputeSettings } from "../compute/settings";
import type { Problems } from "../primitives/validation";

/** Addresses AWS keeps in every subnet: network, VPC router, DNS, future use, broadcast. */
export const AWS_RESERVED_ADDRESSES = 5;

/**
 * Classes on which RDS for MySQL (and MariaDB) has no Performance Insights, which the database module always
 * turns on: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.Overview.Engines.html
 * (RDS for PostgreSQL has it on every class).
 */
export const NO_PERFORMANCE_INSIGHTS: Readonly<Record<string, readonly string[]>> = {
  mysql: ["db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"],
};

/** The engine version prefix RDS groups classes by: `8.0` for MySQL, `16` for PostgreSQL. */
export function majorVersion(engine: string, version: string): string {
  return version
    .split(".")
    .slice(0, engine === "mysql" ? 2 : 1)
    .join(".");
}

/** How many instances of the group can hold an address at once, and why. */
export function peakInstances(config: EnvironmentConfig): { count: number; detail: string } {
  const compute = resolveComputeSettings(config.compute);
  const max = Math.max(compute.maxCapacity, ...compute.scheduledActions.map((a) => a.maxCapacity));
  // An instance refresh launches replacements before it stops old instances, up to maxHealthyPercentage.
  const maxHealthy = compute.instanceRefreshMaxHealthyPercent;
  const running = Math.ceil((max * maxHealthy) / 100);
  // Stopped warm instances keep their network interfaces: the pool holds what maxPreparedCapacity leaves above the group, at least minSize.
  const pool = compute.warmPool;
  const warm = pool ? Math.max(pool.minSize, (pool.maxPreparedCapacity ?? max) - max) : 0;
  const detail = `maxCapacity ${max} x ${maxHealthy} % during an instance refresh${warm > 0 ? ` + ${warm} warm` : ""}`;
  return { count: running + warm, detail };
}

/** One line per problem: `<field> = <value>: <reason>`, recorded in `problems`. */
export function checkLinkedSettings(config: EnvironmentConfig, problems: Problems): void {
  checkDatabaseClass(config, problems);
  checkCacheNodeType(config, problems);
  checkAppSubnets(config, problems);
  checkSchedules(config, problems);
}

function checkDatabaseClass(config: EnvironmentConfig, problems: Problems): void {
  const { engine, engineVersion, instanceClass } = config.database;
  // A class newer than the pinned data is left to AWS; the catalogue check already refuses classes that do not exist.
  if (!isKnownRdsClass(instanceClass)) return;
  const inRegion = rdsClassesIn(config.region, engine);
  if (inRegion && !inRegion.has(instanceClass)) {
    problems.add(
      "database.instanceClass",
      instanceClass,
      `RDS does not offer ${engine} on ${instanceClass} in ${config.region} (modules/rules/aws-rules.generated.ts, cfn-lint's data from the AWS pricing API)`,
    );
    return;
  }
  const major = majorVersion(engine, engineVersion);
  const atVersion = rdsClassesAtVersion(major);
  if (atVersion && !atVersion.has(instanceClass)) {
    problems.add(
      "database.instanceClass",
      instanceClass,
      `RDS offers no engine at version ${major} on ${instanceClass} (database.engineVersion ${engineVersion}; modules/rules/aws-rules.generated.ts, cfn-lint's orderable-options data): choose a current class`,
    );
    return;
  }
  if ((NO_PERFORMANCE_INSIGHTS[engine] ?? []).includes(instanceClass)) {
    problems.add(
      "database.instanceClass",
      instanceClass,
      `RDS for ${engine} has no Performance Insights on ${instanceClass}, and the database module turns it on: use a medium class or larger`,
    );
  }
}

function checkCacheNodeType(config: EnvironmentConfig, problems: Problems): void {
  const nodeType = config.cache.nodeType;
  if (!isKnownCacheNodeType(nodeType)) return;
  const inRegion = cacheNodeTypesIn(config.region);
  if (inRegion && !inRegion.has(nodeType)) {
    problems.add(
      "cache.nodeType",
      nodeType,
      `ElastiCache does not offer ${nodeType} in ${config.region} (modules/rules/aws-rules.generated.ts, cfn-lint's data from the AWS pricing API)`,
    );
  }
}

/** The fewest free addresses among the app subnets (AWS's 5 and one per interface endpoint taken), with the subnet; undefined if the plan does not resolve. */
export function appSubnetRoom(config: EnvironmentConfig): { free: number; cidr: string; endpoints: number } | undefined {
  const plan = resolveSubnets(config.network);
  if (!plan) return undefined;
  const endpoints = (config.network.interfaceEndpoints ?? []).length;
  let least: { free: number; cidr: string; endpoints: number } | undefined;
  for (const cidr of plan.app) {
    const parsed = parseCidr(cidr);
    if (!parsed) return undefined;
    const free = 2 ** (32 - parsed.prefixLength) - AWS_RESERVED_ADDRESSES - endpoints;
    if (!least || free < least.free) least = { free, cidr, endpoints };
  }
  return least;
}

/**
 * App instances get their addresses in the app subnets, which also hold one interface of every interface
 * endpoint (the load balancer lives in the public subnets). The group spreads evenly across the zones.
 */
function checkAppSubnets(config: EnvironmentConfig, problems: Problems): void {
  const room = appSubnetRoom(config);
  if (!room) return;
  const zones = config.network.availabilityZones.length;
  const peak = peakInstances(config);
  const perZone = Math.ceil(peak.count / zones);
  if (perZone <= room.free) return;
  problems.add(
    "compute.maxCapacity",
    config.compute.maxCapacity,
    `needs ${perZone} addresses in each of ${zones} app subnets (${peak.detail} = ${peak.count}), but ${room.cidr} has ${room.free} free ` +
      `(${AWS_RESERVED_ADDRESSES} reserved by AWS${room.endpoints > 0 ? `, ${room.endpoints} for interface endpoints` : ""}): give the app tier larger subnets (network.subnetSizes.appPrefixLength) or lower the maximum`,
  );
}

/** Scheduled actions one Auto Scaling group may have, a fixed quota: https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html */
export const MAX_SCHEDULED_ACTIONS = 125;

function checkSchedules(config: EnvironmentConfig, problems: Problems): void {
  const max = config.compute.maxCapacity;
  const actions = config.compute.scheduledActions ?? [];
  problems.check(
    actions.length <= MAX_SCHEDULED_ACTIONS,
    "compute.scheduledActions",
    `${actions.length} actions`,
    `an Auto Scaling group takes at most ${MAX_SCHEDULED_ACTIONS} scheduled actions (a fixed quota)`,
  );
  (config.compute.scheduledActions ?? []).forEach((action, i) => {
    problems.check(
      action.maxCapacity <= max,
      `compute.scheduledActions[${i}].maxCapacity`,
      action.maxCapacity,
      `above compute.maxCapacity (${max}), the ceiling the app subnets, the warm pool and the account's quotas are sized for: raise compute.maxCapacity instead`,
    );
  });
}

/** The settings the linked warnings are about. */
export type LinkedWarningId = "compute.maxCapacity" | "database.maxAllocatedStorageGib";

/**
 * A warning raised on the stack's preflight construct (acknowledged as `preflight.<id>`): `id`, the setting it is
 * about, and what to know; the printed text is the id, then the message (warningText).
 */
export interface LinkedWarning<Id extends string = LinkedWarningId> {
  readonly id: Id;
  readonly message: string;
}

/** Warnings from combined settings (raised at synth, acknowledgeable as `preflight.<id>`). */
export function linkedWarnings(config: EnvironmentConfig): LinkedWarning[] {
  const warnings: LinkedWarning[] = [];
  const room = appSubnetRoom(config);
  const zones = config.network.availabilityZones.length;
  const peak = peakInstances(config);
  if (room && zones > 1 && Math.ceil(peak.count / zones) <= room.free && Math.ceil(peak.count / (zones - 1)) > room.free) {
    warnings.push({
      id: "compute.maxCapacity",
      message: `with one zone lost, the other ${zones - 1} app subnets need ${Math.ceil(peak.count / (zones - 1))} addresses each (${peak.detail} = ${peak.count}) but ${room.cidr} has ${room.free} free: the group cannot reach its maximum during a zone outage`,
    });
  }
  const { allocatedStorageGib: allocated, maxAllocatedStorageGib: ceiling } = config.database;
  // RDS sends RDS-EVENT-0225 when storage nears a ceiling less than 26 % above it:
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
  if (ceiling * 10 >= allocated * 11 && ceiling * 100 < allocated * 126) {
    warnings.push({
      id: "database.maxAllocatedStorageGib",
      message: `is less than 26 % above allocatedStorageGib (${allocated}): one autoscaling step can reach the ceiling; AWS recommends at least ${Math.ceil((allocated * 126) / 100)}`,
    });
  }
  return warnings;
}
