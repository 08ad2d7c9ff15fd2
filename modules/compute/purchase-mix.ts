// The fleet's purchase mix: several interchangeable instance types (or attribute-based requirements) launched
// from the one launch template, an On-Demand base and Spot Instances above it. The settings, their checks and
// the Auto Scaling group's `mixed_instances_policy` block; it creates no resource (the compute module puts the
// block on its group). Off unless set: without it the group launches the template's one type, On-Demand.
import type { AutoscalingGroupMixedInstancesPolicy } from "@cdktf/provider-aws/lib/autoscaling-group";
import { EC2_INSTANCE_TYPE_FACTS, EC2_INSTANCE_TYPES } from "../rules/aws-catalogue.generated";
import { catalogueMessage, Problems } from "../primitives/validation";

export type SpotAllocationStrategy = "price-capacity-optimized" | "capacity-optimized" | "capacity-optimized-prioritized" | "lowest-price";
export type OnDemandAllocationStrategy = "prioritized" | "lowest-price";
/** The AMI families this platform boots: Amazon Linux 2023 for arm64 (Graviton) or x86_64. */
export type Architecture = "arm64" | "x86_64";

/** An inclusive range of whole numbers. */
export interface WholeRange {
  readonly min: number;
  readonly max: number;
}

/** Attribute-based instance type selection: AWS launches any current-generation type that fits. */
export interface InstanceRequirementsSettings {
  /** vCPUs per instance, inclusive. */
  readonly vcpuCount: WholeRange;
  /** Memory per instance, MiB, inclusive. */
  readonly memoryMiB: WholeRange;
  /**
   * The launch template's architecture (compute.instanceType's): the AMI is per architecture, so AWS only picks
   * types of the AMI's. Stated here so the config says it; a different value is rejected. @default the template's
   */
  readonly architecture?: Architecture;
  /** Burstable types (t4g, t3...): AWS leaves them out unless included. @default "excluded" */
  readonly burstablePerformance?: "included" | "excluded" | "required";
}

/**
 * How the group buys its capacity. Model: terraform-aws-modules/autoscaling's `mixed_instances_policy` and AWS
 * CDK's `mixedInstancesPolicy`, with the same names as the API's `InstancesDistribution`.
 */
export interface PurchaseMixSettings {
  /**
   * Interchangeable instance types, in priority order (the On-Demand `prioritized` strategy launches the first
   * that has capacity). Must include compute.instanceType and share its architecture. At most 40.
   * Give this or `instanceRequirements`. @default none
   */
  readonly instanceTypes?: readonly string[];
  /** Attribute-based selection instead of a list. @default none */
  readonly instanceRequirements?: InstanceRequirementsSettings;
  /** Instances launched On-Demand before any Spot Instance: the first ones the group has. @default 0 */
  readonly onDemandBaseCapacity?: number;
  /** Percentage of the capacity above the base launched On-Demand; the rest is Spot. 100 = no Spot. @default 100 */
  readonly onDemandPercentageAboveBaseCapacity?: number;
  /** How Spot capacity picks its pools. @default "price-capacity-optimized" (AWS's recommendation) */
  readonly spotAllocationStrategy?: SpotAllocationStrategy;
  /**
   * How On-Demand capacity picks its types. @default "prioritized" with `instanceTypes`, "lowest-price" with
   * `instanceRequirements` (AWS accepts only that there)
   */
  readonly onDemandAllocationStrategy?: OnDemandAllocationStrategy;
}

/** What the mix's checks read from the compute settings. */
export interface PurchaseMixContext {
  /** The launch template's instance type: its architecture picks the AMI. */
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly scheduledActions?: readonly { readonly minCapacity: number }[];
  readonly warmPool?: unknown;
  readonly purchaseMix?: PurchaseMixSettings;
}

/** The mix with every default applied. */
export interface ResolvedPurchaseMix {
  readonly instanceTypes?: readonly string[];
  readonly instanceRequirements?: Required<InstanceRequirementsSettings>;
  readonly onDemandBaseCapacity: number;
  readonly onDemandPercentageAboveBaseCapacity: number;
  readonly spotAllocationStrategy: SpotAllocationStrategy;
  readonly onDemandAllocationStrategy: OnDemandAllocationStrategy;
}

export const SPOT_ALLOCATION_STRATEGIES: readonly SpotAllocationStrategy[] = [
  "price-capacity-optimized",
  "capacity-optimized",
  "capacity-optimized-prioritized",
  "lowest-price",
];
export const ON_DEMAND_ALLOCATION_STRATEGIES: readonly OnDemandAllocationStrategy[] = ["prioritized", "lowest-price"];
/** AWS: up to 40 instance types per Auto Scaling group (LaunchTemplateOverrides). */
export const MAX_INSTANCE_TYPES = 40;
/** The Spot interruption notice: EC2 reclaims the instance this long after it. */
export const SPOT_NOTICE_SECONDS = 120;
/**
 * What the drain needs after the instance has left the target group (the group deregisters it before the
 * terminate hook runs): stop the app cleanly and complete the hook. The terminate hook waits as long.
 */
export const DRAIN_AFTER_DEREGISTRATION_SECONDS = 30;
/** CPU makers per architecture, as instance requirements name them. */
const CPU_MANUFACTURERS: Readonly<Record<Architecture, readonly string[]>> = { arm64: ["amazon-web-services"], x86_64: ["intel", "amd"] };
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;

/**
 * The architecture of an instance type: what AWS recorded (modules/rules/aws-catalogue.generated.ts), else the
 * naming rule the compute module picks the AMI by (a family letter `a`, or a `g` among the attributes, is
 * Graviton). A Mac type answers its own (`arm64_mac`, `x86_64_mac`), which no AMI here boots.
 */
export function instanceArchitecture(instanceType: string): string {
  const recorded = EC2_INSTANCE_TYPE_FACTS[instanceType];
  if (recorded) return recorded[0];
  const match = /^([a-z]+)(\d+)([a-z-]*)\./.exec(instanceType);
  return match && (match[1] === "a" || (match[3] ?? "").includes("g")) ? "arm64" : "x86_64";
}

export function resolvePurchaseMix(mix: PurchaseMixSettings | undefined, instanceType: string): ResolvedPurchaseMix | undefined {
  if (!mix) return undefined;
  const requirements = mix.instanceRequirements;
  return {
    instanceTypes: mix.instanceTypes,
    instanceRequirements: requirements && {
      vcpuCount: requirements.vcpuCount,
      memoryMiB: requirements.memoryMiB,
      architecture: requirements.architecture ?? (instanceArchitecture(instanceType) === "arm64" ? "arm64" : "x86_64"),
      burstablePerformance: requirements.burstablePerformance ?? "excluded",
    },
    onDemandBaseCapacity: mix.onDemandBaseCapacity ?? 0,
    onDemandPercentageAboveBaseCapacity: mix.onDemandPercentageAboveBaseCapacity ?? 100,
    spotAllocationStrategy: mix.spotAllocationStrategy ?? "price-capacity-optimized",
    onDemandAllocationStrategy: mix.onDemandAllocationStrategy ?? (requirements ? "lowest-price" : "prioritized"),
  };
}

/** Spot Instances in a group of `capacity` instances with this base and On-Demand percentage above it. */
export function spotInstancesAt(onDemandBaseCapacity: number, onDemandPercentageAboveBaseCapacity: number, capacity: number): number {
  const above = Math.max(0, capacity - onDemandBaseCapacity);
  // AWS rounds the On-Demand share of the capacity above the base up.
  return above - Math.ceil((above * onDemandPercentageAboveBaseCapacity) / 100);
}

/** The most Spot Instances the group can hold at `maxCapacity` (0: the mix never buys Spot). */
export function maxSpotInstances(mix: ResolvedPurchaseMix | undefined, maxCapacity: number): number {
  return mix ? spotInstancesAt(mix.onDemandBaseCapacity, mix.onDemandPercentageAboveBaseCapacity, maxCapacity) : 0;
}

/** Whether the group may launch Spot Instances. */
export function launchesSpot(mix: ResolvedPurchaseMix | undefined, maxCapacity: number): boolean {
  return maxSpotInstances(mix, maxCapacity) > 0;
}

/** The largest minimum the group is ever given: compute.minCapacity or a scheduled action's. */
export function largestMinimum(context: Pick<PurchaseMixContext, "minCapacity" | "scheduledActions">): number {
  return Math.max(context.minCapacity, ...(context.scheduledActions ?? []).map((a) => a.minCapacity));
}

/** Catalogue types that meet the requirements (what AWS could launch, by the recorded facts). */
export function matchingInstanceTypes(requirements: Required<InstanceRequirementsSettings>, spot: boolean): string[] {
  return Object.entries(EC2_INSTANCE_TYPE_FACTS)
    .filter(([, [architecture, vcpus, memory, flags]]) => {
      const burstable = flags.includes("b");
      return (
        architecture === requirements.architecture &&
        flags.includes("c") &&
        (!spot || flags.includes("s")) &&
        vcpus >= requirements.vcpuCount.min &&
        vcpus <= requirements.vcpuCount.max &&
        memory >= requirements.memoryMiB.min &&
        memory <= requirements.memoryMiB.max &&
        (requirements.burstablePerformance === "included" || (requirements.burstablePerformance === "required") === burstable)
      );
    })
    .map(([name]) => name);
}

const isWhole = (value: number, min: number, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(value) && value >= min && value <= max;

function checkRange(range: WholeRange, field: string, least: number, unit: string, problems: Problems): boolean {
  const minOk = problems.check(isWhole(range.min, least), `${field}.min`, range.min, `must be a whole number of ${unit}, ${least} or more`);
  const maxOk = problems.check(
    isWhole(range.max, least),
    `${field}.max`,
    range.max,
    `must be a whole number of ${unit}, ${least} or more (an upper bound keeps the price bounded)`,
  );
  return (
    minOk &&
    maxOk &&
    problems.check(range.min <= range.max, `${field}.min`, range.min, `min (${range.min}) should be <= max (${range.max})`)
  );
}

/**
 * The mix's checks, one problem per line, under `purchaseMix` (and `warmPool` for the combination AWS
 * refuses). `problems` is the compute settings' view.
 */
export function checkPurchaseMix(context: PurchaseMixContext, problems: Problems): void {
  const settings = context.purchaseMix;
  const mix = resolvePurchaseMix(settings, context.instanceType);
  if (!settings || !mix) return;
  const at = problems.at("purchaseMix");
  // A template type that is no type at all is reported once, by the compute checks; nothing is compared to it.
  const templateKnown = EC2_INSTANCE_TYPES.includes(context.instanceType);
  const templateArchitecture = instanceArchitecture(context.instanceType);
  const template = `the launch template's AMI is ${templateArchitecture} (compute.instanceType "${context.instanceType}")`;
  const base = mix.onDemandBaseCapacity;
  const percent = mix.onDemandPercentageAboveBaseCapacity;
  const percentOk = at.check(
    isWhole(percent, 0, 100),
    "onDemandPercentageAboveBaseCapacity",
    percent,
    "must be a whole percentage, 0 to 100",
  );
  const baseOk = at.check(
    isWhole(base, 0, Math.max(0, context.maxCapacity)),
    "onDemandBaseCapacity",
    base,
    `must be a whole number from 0 to maxCapacity (${context.maxCapacity}): the group never holds more`,
  );
  const spot = percentOk && baseOk && launchesSpot(mix, context.maxCapacity);
  at.check(
    SPOT_ALLOCATION_STRATEGIES.includes(mix.spotAllocationStrategy),
    "spotAllocationStrategy",
    mix.spotAllocationStrategy,
    `must be one of ${SPOT_ALLOCATION_STRATEGIES.join(", ")}`,
  );
  at.check(
    ON_DEMAND_ALLOCATION_STRATEGIES.includes(mix.onDemandAllocationStrategy),
    "onDemandAllocationStrategy",
    mix.onDemandAllocationStrategy,
    `must be one of ${ON_DEMAND_ALLOCATION_STRATEGIES.join(", ")}`,
  );

  const types = settings.instanceTypes;
  const requirements = mix.instanceRequirements;
  if (types !== undefined && requirements !== undefined) {
    at.add(
      "instanceRequirements",
      settings.instanceRequirements,
      "give instanceTypes or instanceRequirements, not both: the group launches either a list of types or any type that fits",
    );
  } else if (types === undefined && requirements === undefined) {
    at.add("", settings, "needs instanceTypes (a list of interchangeable types) or instanceRequirements (vCPU and memory ranges)");
  }

  if (types !== undefined) {
    if (
      at.check(
        types.length > 0 && types.length <= MAX_INSTANCE_TYPES,
        "instanceTypes",
        types,
        `must list 1 to ${MAX_INSTANCE_TYPES} instance types (AWS's limit per group)`,
      )
    ) {
      at.check(
        !templateKnown || types.includes(context.instanceType),
        "instanceTypes",
        types,
        `must include compute.instanceType ("${context.instanceType}"), the launch template's own type, whose architecture picks the AMI; list it first to prefer it`,
      );
    }
    types.forEach((type, i) => {
      const field = `instanceTypes[${i}]`;
      if (!at.check(types.indexOf(type) === i, field, type, `repeats instanceTypes[${types.indexOf(type)}]`)) return;
      if (!at.check(INSTANCE_TYPE.test(type), field, type, "not an EC2 instance type (for example t4g.small)")) return;
      if (!EC2_INSTANCE_TYPES.includes(type)) {
        at.add(
          field,
          type,
          catalogueMessage(type, EC2_INSTANCE_TYPES, "no such EC2 instance type (modules/rules/aws-catalogue.generated.ts)"),
        );
        return;
      }
      const architecture = instanceArchitecture(type);
      at.check(
        !templateKnown || architecture === templateArchitecture,
        field,
        type,
        `is ${architecture}, but ${template}: every listed type must share it`,
      );
      const facts = EC2_INSTANCE_TYPE_FACTS[type];
      if (spot && facts) {
        at.check(
          facts[3].includes("s"),
          field,
          type,
          "is not offered as Spot (DescribeInstanceTypes, modules/rules/aws-catalogue.generated.ts), and the mix buys Spot above the On-Demand base",
        );
      }
    });
  }

  if (requirements !== undefined) {
    const field = "instanceRequirements";
    const vcpuOk = checkRange(requirements.vcpuCount, `${field}.vcpuCount`, 1, "vCPUs", at);
    const memoryOk = checkRange(requirements.memoryMiB, `${field}.memoryMiB`, 512, "MiB", at);
    const architectureOk = at.check(
      !templateKnown || requirements.architecture === templateArchitecture,
      `${field}.architecture`,
      requirements.architecture,
      `${template}: AWS picks only types the AMI runs on, so the requirements must say ${templateArchitecture}`,
    );
    at.check(
      mix.onDemandAllocationStrategy === "lowest-price",
      "onDemandAllocationStrategy",
      mix.onDemandAllocationStrategy,
      'AWS accepts only "lowest-price" with instanceRequirements (there is no list to prioritize)',
    );
    at.check(
      mix.spotAllocationStrategy !== "capacity-optimized-prioritized",
      "spotAllocationStrategy",
      mix.spotAllocationStrategy,
      "AWS refuses capacity-optimized-prioritized with instanceRequirements (there is no list to prioritize)",
    );
    if (vcpuOk && memoryOk && architectureOk) {
      at.check(
        matchingInstanceTypes(requirements, spot).length > 0,
        field,
        settings.instanceRequirements,
        `no current-generation ${requirements.architecture} instance type${spot ? " offered as Spot" : ""} has ${requirements.vcpuCount.min}-${requirements.vcpuCount.max} vCPUs and ${requirements.memoryMiB.min}-${requirements.memoryMiB.max} MiB (burstable ${requirements.burstablePerformance}; modules/rules/aws-catalogue.generated.ts)`,
      );
    }
  }

  problems.check(
    context.warmPool === undefined,
    "warmPool",
    context.warmPool,
    "AWS cannot add a warm pool to a group with a mixed instances policy (EC2 Auto Scaling User Guide, warm pools, Limitations); remove warmPool or purchaseMix",
  );
}

/**
 * The interruption notice leads through the scale-in path: the group deregisters the instance from the target
 * group, then runs the terminate hook; all of it must fit in the notice. `field` names the delay's setting.
 */
export function checkInterruptionDrain(
  context: Pick<PurchaseMixContext, "instanceType" | "maxCapacity" | "purchaseMix">,
  deregistrationDelaySeconds: number,
  field: string,
  problems: Problems,
): void {
  if (!launchesSpot(resolvePurchaseMix(context.purchaseMix, context.instanceType), context.maxCapacity)) return;
  const most = SPOT_NOTICE_SECONDS - DRAIN_AFTER_DEREGISTRATION_SECONDS;
  problems.check(
    deregistrationDelaySeconds <= most,
    field,
    deregistrationDelaySeconds,
    `compute.purchaseMix buys Spot Instances, which get ${SPOT_NOTICE_SECONDS} s notice; the group deregisters an interrupted instance (this delay) before its terminate hook drains it (${DRAIN_AFTER_DEREGISTRATION_SECONDS} s): at most ${most} s, or keep onDemandPercentageAboveBaseCapacity at 100`,
  );
}

/** The group's `mixed_instances_policy`: the one launch template, its overrides, and the distribution. */
export function mixedInstancesPolicy(
  mix: ResolvedPurchaseMix,
  launchTemplate: { readonly id: string; readonly version: string },
): AutoscalingGroupMixedInstancesPolicy {
  const requirements = mix.instanceRequirements;
  return {
    instancesDistribution: {
      onDemandAllocationStrategy: mix.onDemandAllocationStrategy,
      onDemandBaseCapacity: mix.onDemandBaseCapacity,
      onDemandPercentageAboveBaseCapacity: mix.onDemandPercentageAboveBaseCapacity,
      spotAllocationStrategy: mix.spotAllocationStrategy,
    },
    launchTemplate: {
      launchTemplateSpecification: { launchTemplateId: launchTemplate.id, version: launchTemplate.version },
      override: requirements
        ? [
            {
              instanceRequirements: {
                vcpuCount: { min: requirements.vcpuCount.min, max: requirements.vcpuCount.max },
                memoryMib: { min: requirements.memoryMiB.min, max: requirements.memoryMiB.max },
                cpuManufacturers: [...CPU_MANUFACTURERS[requirements.architecture]],
                burstablePerformance: requirements.burstablePerformance,
                instanceGenerations: ["current"],
              },
            },
          ]
        : (mix.instanceTypes ?? []).map((instanceType) => ({ instanceType })),
    },
  };
}

/**
 * What the group launches from: the template itself, or the mix over it (the provider takes one or the other).
 * Either way the boot lives in the one template.
 */
export function launchSource(
  settings: PurchaseMixContext,
  launchTemplate: { readonly id: string; readonly version: string },
): { launchTemplate: { id: string; version: string } } | { mixedInstancesPolicy: AutoscalingGroupMixedInstancesPolicy } {
  const mix = resolvePurchaseMix(settings.purchaseMix, settings.instanceType);
  return mix ? { mixedInstancesPolicy: mixedInstancesPolicy(mix, launchTemplate) } : { launchTemplate: { ...launchTemplate } };
}
