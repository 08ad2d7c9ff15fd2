// The purchase mix: its defaults, the Spot arithmetic, every check (one line each, naming the field and the
// type that breaks it), the group's mixed_instances_policy over the one launch template, and the shipped mixes.
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { ENVIRONMENTS } from "../environments";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { dev } from "../environments/dev";
import type { EnvironmentConfig } from "../environments/schema/types";
import { validateEnvironments } from "../environments/schema/validate";
import { EC2_INSTANCE_TYPE_FACTS, EC2_INSTANCE_TYPES } from "../modules/rules/aws-catalogue.generated";
import {
  checkComputeSettings,
  instanceArchitecture,
  isGraviton,
  launchesSpot,
  matchingInstanceTypes,
  maxSpotInstances,
  PurchaseMixSettings,
  resolvePurchaseMix,
} from "../modules/compute";
import { Problems } from "../modules/primitives/validation";
import { Json, resourceList, synthEnvironment } from "./support/synth";

/** `base` with its compute settings patched and its purchase mix replaced whole. */
function withMix(
  base: EnvironmentConfig,
  mix: PurchaseMixSettings | undefined,
  compute: Partial<EnvironmentConfig["compute"]> = {},
  rest: Partial<EnvironmentConfig> = {},
): EnvironmentConfig {
  return { ...base, ...rest, compute: { ...base.compute, ...compute, purchaseMix: mix } };
}

function problems(config: EnvironmentConfig): string[] {
  return validateEnvironments(
    [config],
    ENVIRONMENTS.map((e) => (e.name === config.name ? config : e)),
  );
}

const spotTypes: PurchaseMixSettings = {
  instanceTypes: ["t4g.medium", "c7g.large"],
  onDemandBaseCapacity: 2,
  onDemandPercentageAboveBaseCapacity: 0,
};
const requirements = { vcpuCount: { min: 2, max: 2 }, memoryMiB: { min: 2048, max: 4096 } };

describe("defaults", () => {
  it("is off unless set", () => {
    expect(resolvePurchaseMix(undefined, "t4g.small")).toBeUndefined();
  });

  it("a list: no Spot, prioritized On-Demand, price-capacity-optimized Spot", () => {
    expect(resolvePurchaseMix({ instanceTypes: ["t4g.small"] }, "t4g.small")).toEqual({
      instanceTypes: ["t4g.small"],
      instanceRequirements: undefined,
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: 100,
      spotAllocationStrategy: "price-capacity-optimized",
      onDemandAllocationStrategy: "prioritized",
    });
  });

  it("requirements: lowest-price On-Demand (AWS's only choice there), the template's architecture, no burstable types", () => {
    const mix = resolvePurchaseMix({ instanceRequirements: requirements }, "c7i.large");
    expect(mix?.onDemandAllocationStrategy).toBe("lowest-price");
    expect(mix?.instanceRequirements).toEqual({ ...requirements, architecture: "x86_64", burstablePerformance: "excluded" });
  });
});

describe("the Spot share", () => {
  it.each([
    // base, percentage On-Demand above it, max -> most Spot Instances (AWS rounds the On-Demand share up)
    [0, 100, 4, 0],
    [0, 0, 2, 2],
    [2, 0, 4, 2],
    [2, 0, 2, 0],
    [0, 50, 5, 2],
    [1, 25, 10, 6],
  ])("base %i, %i%% On-Demand above, max %i: at most %i Spot", (base, percent, max, spot) => {
    const mix = resolvePurchaseMix(
      { instanceTypes: ["t4g.small"], onDemandBaseCapacity: base, onDemandPercentageAboveBaseCapacity: percent },
      "t4g.small",
    );
    expect(maxSpotInstances(mix, max)).toBe(spot);
    expect(launchesSpot(mix, max)).toBe(spot > 0);
  });
});

describe("architectures", () => {
  it("agree with the rule the AMI is chosen by, for every arm64 and x86_64 type AWS recorded", () => {
    const recorded = Object.entries(EC2_INSTANCE_TYPE_FACTS).filter(([, [arch]]) => arch === "arm64" || arch === "x86_64");
    expect(recorded.length).toBeGreaterThan(1000);
    for (const [type, [arch]] of recorded) expect([type, isGraviton(type)]).toEqual([type, arch === "arm64"]);
  });

  it("fall back to that rule for types the record lacks", () => {
    const unrecorded = EC2_INSTANCE_TYPES.filter((t) => !(t in EC2_INSTANCE_TYPE_FACTS));
    expect(unrecorded.length).toBeGreaterThan(0);
    for (const type of unrecorded) expect(instanceArchitecture(type)).toBe(isGraviton(type) ? "arm64" : "x86_64");
  });

  it("match requirements against the recorded facts", () => {
    const arm = resolvePurchaseMix(
      { instanceRequirements: { ...requirements, burstablePerformance: "included" } },
      "t4g.small",
    )!.instanceRequirements!;
    expect(matchingInstanceTypes(arm, true)).toEqual(expect.arrayContaining(["t4g.small", "t4g.medium", "c7g.large", "c6g.large"]));
    expect(matchingInstanceTypes(arm, true)).not.toContain("c7i.large");
    expect(matchingInstanceTypes({ ...arm, burstablePerformance: "excluded" }, true)).not.toContain("t4g.small");
    expect(matchingInstanceTypes({ ...arm, burstablePerformance: "required" }, true)).toEqual(["t4g.medium", "t4g.small"]);
  });
});

describe("the validator refuses, one line per problem", () => {
  const mix = (patch: PurchaseMixSettings, compute: Partial<EnvironmentConfig["compute"]> = {}) =>
    problems(withMix(staging, { ...spotTypes, ...patch }, compute));

  it.each([
    [{ instanceTypes: [] }, "staging: compute.purchaseMix.instanceTypes = []: must list 1 to 40 instance types (AWS's limit per group)"],
    [
      { instanceTypes: Array.from({ length: 41 }, (_, i) => EC2_INSTANCE_TYPES.filter((t) => isGraviton(t))[i]!) },
      expect.stringMatching(/^staging: compute\.purchaseMix\.instanceTypes = \[.*\]: must list 1 to 40 instance types/),
    ],
    [
      { instanceTypes: ["c7g.large", "c6g.large"] },
      'staging: compute.purchaseMix.instanceTypes = ["c7g.large","c6g.large"]: must include compute.instanceType ("t4g.medium"), the launch template\'s own type, whose architecture picks the AMI; list it first to prefer it',
    ],
    [
      { instanceTypes: ["t4g.medium", "t4g.medium"] },
      'staging: compute.purchaseMix.instanceTypes[1] = "t4g.medium": repeats instanceTypes[0]',
    ],
    [
      { instanceTypes: ["t4g.medium", "c7g.lrage"] },
      'staging: compute.purchaseMix.instanceTypes[1] = "c7g.lrage": no such EC2 instance type (modules/rules/aws-catalogue.generated.ts); did you mean c7g.large?',
    ],
    [
      { instanceTypes: ["t4g.medium", "C7G large"] },
      'staging: compute.purchaseMix.instanceTypes[1] = "C7G large": not an EC2 instance type (for example t4g.small)',
    ],
    [
      { instanceTypes: ["t4g.medium", "c7i.large"] },
      'staging: compute.purchaseMix.instanceTypes[1] = "c7i.large": is x86_64, but the launch template\'s AMI is arm64 (compute.instanceType "t4g.medium"): every listed type must share it',
    ],
    [
      { instanceTypes: ["t4g.medium", "hpc7g.4xlarge"] },
      'staging: compute.purchaseMix.instanceTypes[1] = "hpc7g.4xlarge": is not offered as Spot (DescribeInstanceTypes, modules/rules/aws-catalogue.generated.ts), and the mix buys Spot above the On-Demand base',
    ],
    [
      { onDemandBaseCapacity: 5 },
      "staging: compute.purchaseMix.onDemandBaseCapacity = 5: must be a whole number from 0 to maxCapacity (4): the group never holds more",
    ],
    [
      { onDemandBaseCapacity: 1.5 },
      "staging: compute.purchaseMix.onDemandBaseCapacity = 1.5: must be a whole number from 0 to maxCapacity (4): the group never holds more",
    ],
    [
      { onDemandPercentageAboveBaseCapacity: 101 },
      "staging: compute.purchaseMix.onDemandPercentageAboveBaseCapacity = 101: must be a whole percentage, 0 to 100",
    ],
    [
      { onDemandPercentageAboveBaseCapacity: -1 },
      "staging: compute.purchaseMix.onDemandPercentageAboveBaseCapacity = -1: must be a whole percentage, 0 to 100",
    ],
    [
      { instanceRequirements: requirements },
      'staging: compute.purchaseMix.instanceRequirements = {"vcpuCount":{"min":2,"max":2},"memoryMiB":{"min":2048,"max":4096}}: give instanceTypes or instanceRequirements, not both: the group launches either a list of types or any type that fits',
    ],
  ] as const)("%j", (patch, line) => {
    expect(mix(patch as PurchaseMixSettings)).toEqual([line]);
  });

  it("a Mac type: another architecture, and no Spot (two problems, two lines)", () => {
    expect(mix({ instanceTypes: ["t4g.medium", "mac2.metal"] })).toEqual([
      'staging: compute.purchaseMix.instanceTypes[1] = "mac2.metal": is arm64_mac, but the launch template\'s AMI is arm64 (compute.instanceType "t4g.medium"): every listed type must share it',
      'staging: compute.purchaseMix.instanceTypes[1] = "mac2.metal": is not offered as Spot (DescribeInstanceTypes, modules/rules/aws-catalogue.generated.ts), and the mix buys Spot above the On-Demand base',
    ]);
  });

  it("a mix with neither a list nor requirements", () => {
    expect(problems(withMix(staging, { onDemandBaseCapacity: 2 }))).toEqual([
      'staging: compute.purchaseMix = {"onDemandBaseCapacity":2}: needs instanceTypes (a list of interchangeable types) or instanceRequirements (vCPU and memory ranges)',
    ]);
  });

  const byRequirements = (patch: Partial<NonNullable<PurchaseMixSettings["instanceRequirements"]>>, mixPatch: PurchaseMixSettings = {}) =>
    problems(
      withMix(staging, {
        instanceRequirements: { ...requirements, burstablePerformance: "included", ...patch },
        onDemandBaseCapacity: 2,
        onDemandPercentageAboveBaseCapacity: 0,
        ...mixPatch,
      }),
    );

  it.each([
    [
      { vcpuCount: { min: 0, max: 2 } },
      "staging: compute.purchaseMix.instanceRequirements.vcpuCount.min = 0: must be a whole number of vCPUs, 1 or more",
    ],
    [
      { vcpuCount: { min: 4, max: 2 } },
      "staging: compute.purchaseMix.instanceRequirements.vcpuCount.min = 4: min (4) should be <= max (2)",
    ],
    [
      { memoryMiB: { min: 256, max: 4096 } },
      "staging: compute.purchaseMix.instanceRequirements.memoryMiB.min = 256: must be a whole number of MiB, 512 or more",
    ],
    [
      { memoryMiB: { min: 2048, max: 1.5e3 + 0.5 } },
      "staging: compute.purchaseMix.instanceRequirements.memoryMiB.max = 1500.5: must be a whole number of MiB, 512 or more (an upper bound keeps the price bounded)",
    ],
    [
      { architecture: "x86_64" },
      'staging: compute.purchaseMix.instanceRequirements.architecture = "x86_64": the launch template\'s AMI is arm64 (compute.instanceType "t4g.medium"): AWS picks only types the AMI runs on, so the requirements must say arm64',
    ],
    [
      { vcpuCount: { min: 1, max: 1 }, memoryMiB: { min: 65536, max: 65536 } },
      'staging: compute.purchaseMix.instanceRequirements = {"vcpuCount":{"min":1,"max":1},"memoryMiB":{"min":65536,"max":65536},"burstablePerformance":"included"}: no current-generation arm64 instance type offered as Spot has 1-1 vCPUs and 65536-65536 MiB (burstable included; modules/rules/aws-catalogue.generated.ts)',
    ],
  ] as const)("requirements %j", (patch, line) => {
    expect(byRequirements(patch as never)).toEqual([line]);
  });

  it.each([
    [
      { onDemandAllocationStrategy: "prioritized" },
      'staging: compute.purchaseMix.onDemandAllocationStrategy = "prioritized": AWS accepts only "lowest-price" with instanceRequirements (there is no list to prioritize)',
    ],
    [
      { spotAllocationStrategy: "capacity-optimized-prioritized" },
      'staging: compute.purchaseMix.spotAllocationStrategy = "capacity-optimized-prioritized": AWS refuses capacity-optimized-prioritized with instanceRequirements (there is no list to prioritize)',
    ],
  ] as const)("requirements with %j", (mixPatch, line) => {
    expect(byRequirements({}, mixPatch as PurchaseMixSettings)).toEqual([line]);
  });

  it("a warm pool on a mixed group, which AWS cannot add", () => {
    expect(problems(withMix(staging, spotTypes, { warmPool: { minSize: 1 } }))).toEqual([
      'staging: compute.warmPool = {"minSize":1}: AWS cannot add a warm pool to a group with a mixed instances policy (EC2 Auto Scaling User Guide, warm pools, Limitations); remove warmPool or purchaseMix',
    ]);
    expect(problems(withMix(staging, undefined, { warmPool: { minSize: 1 } }))).toEqual([]);
  });

  it("Spot behind a deregistration delay the two-minute notice cannot hold with the drain", () => {
    const slow = withMix(staging, spotTypes, {}, { edge: { ...staging.edge, deregistrationDelaySeconds: 91 } });
    expect(problems(slow)).toEqual([
      "staging: edge.deregistrationDelaySeconds = 91: compute.purchaseMix buys Spot Instances, which get 120 s notice; the group deregisters an interrupted instance (this delay) before its terminate hook drains it (30 s): at most 90 s, or keep onDemandPercentageAboveBaseCapacity at 100",
    ]);
    expect(problems({ ...slow, edge: { ...slow.edge, deregistrationDelaySeconds: 90 } })).toEqual([]);
    expect(problems(withMix(slow, { ...spotTypes, onDemandPercentageAboveBaseCapacity: 100 }))).toEqual([]);
  });

  it("strategies outside AWS's vocabulary, where no shape check runs first (a construct's own check)", () => {
    const found = Problems.create();
    checkComputeSettings(
      {
        ...staging.compute,
        purchaseMix: { ...spotTypes, spotAllocationStrategy: "cheapest" as never, onDemandAllocationStrategy: "first" as never },
      },
      found,
    );
    expect(found.list.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "purchaseMix.spotAllocationStrategy: must be one of price-capacity-optimized, capacity-optimized, capacity-optimized-prioritized, lowest-price",
      "purchaseMix.onDemandAllocationStrategy: must be one of prioritized, lowest-price",
    ]);
  });

  it("reports a misspelt template type once, not again for every listed type", () => {
    expect(problems(withMix(staging, spotTypes, { instanceType: "t4g.mediun" }))).toEqual([
      'staging: compute.instanceType = "t4g.mediun": no such EC2 instance type (modules/rules/aws-catalogue.generated.ts); did you mean t4g.medium?',
    ]);
  });
});

describe("production keeps an On-Demand base of at least its minimum", () => {
  const prodSpot = (mix: PurchaseMixSettings, compute: Partial<EnvironmentConfig["compute"]> = {}, rest: Partial<EnvironmentConfig> = {}) =>
    problems(withMix(prod, { instanceTypes: ["m7g.large", "m6g.large"], ...mix }, compute, rest));
  const line = (base: number) =>
    `prod: compute.purchaseMix.onDemandBaseCapacity = ${base}: a production environment needs an On-Demand base of at least its minimum size (compute.minCapacity, and any scheduled action's), since Spot Instances can all be reclaimed at once; fix it or add waivers.onDemandBase with a written reason`;

  it("refuses Spot below the minimum", () => {
    expect(prodSpot({ onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 0 })).toEqual([line(1)]);
    expect(prodSpot({ onDemandPercentageAboveBaseCapacity: 50 })).toEqual([line(0)]);
  });

  it("counts a scheduled action's minimum too", () => {
    const busy = [{ name: "busy", recurrence: "0 8 * * 1-5", minCapacity: 4, maxCapacity: 10 }];
    expect(prodSpot({ onDemandBaseCapacity: 2, onDemandPercentageAboveBaseCapacity: 0 }, { scheduledActions: busy })).toEqual([line(2)]);
    expect(prodSpot({ onDemandBaseCapacity: 4, onDemandPercentageAboveBaseCapacity: 0 }, { scheduledActions: busy })).toEqual([]);
  });

  it("accepts a base at the minimum, an all On-Demand mix, or a written waiver", () => {
    expect(prodSpot({ onDemandBaseCapacity: 2, onDemandPercentageAboveBaseCapacity: 0 })).toEqual([]);
    expect(prodSpot({ onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 100 })).toEqual([]);
    expect(
      prodSpot(
        { onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0 },
        {},
        { waivers: { onDemandBase: "a load test week on Spot, agreed with the product owner" } },
      ),
    ).toEqual([]);
  });

  it("leaves environments that do not serve users alone", () => {
    expect(problems(withMix(dev, { instanceTypes: ["t4g.small"], onDemandPercentageAboveBaseCapacity: 0 }))).toEqual([]);
  });
});

const group = (json: Json): Json => resourceList(json, "aws_autoscaling_group")[0]!;

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the shipped group of %s", (_name, config) => {
  const { json, text } = synthEnvironment(config);
  const asg = group(json);
  const mix = resolvePurchaseMix(config.compute.purchaseMix, config.compute.instanceType);
  const templateId = Object.keys(json.resource.aws_launch_template as Json)[0];

  it("launches from the one launch template, at its numbered latest version, directly or through the mix", () => {
    const spec = { id: `\${aws_launch_template.${templateId}.id}`, version: `\${aws_launch_template.${templateId}.latest_version}` };
    if (!mix) {
      expect(asg.launch_template).toEqual(spec);
      expect(asg.mixed_instances_policy).toBeUndefined();
      return;
    }
    expect(asg.launch_template).toBeUndefined();
    expect(asg.mixed_instances_policy.launch_template.launch_template_specification).toEqual({
      launch_template_id: spec.id,
      version: spec.version,
    });
    expect(resourceList(json, "aws_launch_template")).toHaveLength(1);
  });

  it("buys what the config says", () => {
    if (!mix) return;
    expect(text).toHaveResourceWithProperties(AutoscalingGroup, {
      capacity_rebalance: true,
      mixed_instances_policy: expect.objectContaining({
        instances_distribution: {
          on_demand_allocation_strategy: mix.onDemandAllocationStrategy,
          on_demand_base_capacity: mix.onDemandBaseCapacity,
          on_demand_percentage_above_base_capacity: mix.onDemandPercentageAboveBaseCapacity,
          spot_allocation_strategy: mix.spotAllocationStrategy,
        },
      }),
    });
    const overrides = asg.mixed_instances_policy.launch_template.override as Json[];
    if (mix.instanceTypes) expect(overrides).toEqual(mix.instanceTypes.map((instance_type) => ({ instance_type })));
    else expect(overrides).toHaveLength(1);
  });

  it("counts Spot interruptions only where Spot is bought, and failed replacements everywhere", () => {
    const alarms = resourceList(json, "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name as string);
    const prefix = `${config.project}-${config.name}`;
    expect(alarms).toContain(`${prefix}-replacement-shortfall`);
    expect(alarms.includes(`${prefix}-spot-interruptions`)).toBe(launchesSpot(mix, config.compute.maxCapacity));
  });
});

describe("the shipped mixes", () => {
  it("dev is all Spot, staging Spot above an On-Demand minimum, prod On-Demand only", () => {
    const spot = (e: EnvironmentConfig) =>
      maxSpotInstances(resolvePurchaseMix(e.compute.purchaseMix, e.compute.instanceType), e.compute.maxCapacity);
    expect(spot(dev)).toBe(dev.compute.maxCapacity);
    expect(spot(staging)).toBe(staging.compute.maxCapacity - staging.compute.minCapacity);
    expect(spot(prod)).toBe(0);
  });

  it("dev's requirements match several current Graviton types offered as Spot", () => {
    const mix = resolvePurchaseMix(dev.compute.purchaseMix, dev.compute.instanceType)!;
    expect(matchingInstanceTypes(mix.instanceRequirements!, true).length).toBeGreaterThanOrEqual(5);
  });
});

describe("synthesized requirements", () => {
  it("name the architecture's CPU makers and current generations only", () => {
    const asg = group(synthEnvironment(dev).json);
    expect(asg.mixed_instances_policy.launch_template.override).toEqual([
      {
        instance_requirements: {
          vcpu_count: { min: 2, max: 2 },
          memory_mib: { min: 2048, max: 4096 },
          cpu_manufacturers: ["amazon-web-services"],
          burstable_performance: "included",
          instance_generations: ["current"],
        },
      },
    ]);
  });
});
