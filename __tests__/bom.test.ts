// The bill of materials: read from each shipped environment's synthesized stack, it must say what the
// environment's config asks for (counts and sizes), and print no price.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { billOfMaterials, formatBom } from "../bom";
import { ENVIRONMENTS } from "../environments";
import { maxSpotInstances, resolvePurchaseMix } from "../modules/compute/purchase-mix";
import { synthEnvironment } from "./support/synth";

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the bill of materials of %s", (_name, config) => {
  const bill = Object.fromEntries(billOfMaterials(synthEnvironment(config).json).map((l) => [l.item, l.detail]));
  const zones = config.network.availabilityZones.length;

  it("counts the NAT gateways and interface endpoints per zone", () => {
    const nat = { "per-az": zones, single: 1, none: 0 }[config.network.natGateways ?? "single"];
    expect(bill["NAT gateways"]).toMatch(new RegExp(`^${nat}\\b`));
    const endpoints = config.network.interfaceEndpoints ?? [];
    expect(bill["interface endpoints"]).toBe(
      endpoints.length === 0
        ? "none"
        : `${endpoints.length} x ${zones} zones = ${endpoints.length * zones} endpoint-zones (${[...endpoints].sort().join(", ")})`,
    );
  });

  it("names the instance type and the group's bounds, the database class and Multi-AZ, the cache nodes", () => {
    const { compute, database, cache } = config;
    expect(bill["app instances"]).toMatch(new RegExp(`^${compute.instanceType}, min ${compute.minCapacity} max ${compute.maxCapacity}\\b`));
    expect(bill["database"]).toMatch(new RegExp(`^${database.instanceClass}, ${database.multiAz ? "Multi-AZ" : "single-AZ"}`));
    expect(bill["cache"]).toMatch(new RegExp(`^${cache.nodeCount} x ${cache.nodeType}\\b`));
  });

  it("shows the purchase mix: the On-Demand base, the Spot share and the types", () => {
    const mix = resolvePurchaseMix(config.compute.purchaseMix, config.compute.instanceType);
    const line = bill["purchase mix"]!;
    if (!mix) return expect(line).toBe("On-Demand only, the launch template's type");
    const spot = maxSpotInstances(mix, config.compute.maxCapacity);
    expect(line).toMatch(
      spot === 0
        ? new RegExp(`^On-Demand only \\(base ${mix.onDemandBaseCapacity}\\); `)
        : new RegExp(
            `^On-Demand base ${mix.onDemandBaseCapacity}, Spot ${100 - mix.onDemandPercentageAboveBaseCapacity}% above it \\(at most ${spot} of ${config.compute.maxCapacity} instances, ${mix.spotAllocationStrategy}\\); `,
          ),
    );
    if (mix.instanceTypes) expect(line).toMatch(new RegExp(`; types ${mix.instanceTypes.join(", ").replace(/\./g, "\\.")}$`));
    else expect(line).toContain(`; any current ${mix.instanceRequirements!.architecture} type of `);
  });

  it("shows WAF where it is on and how long logs are kept", () => {
    expect(bill["WAF"] === "none").toBe(!config.edge.waf.enabled);
    expect(bill["log groups"]).toContain(`kept ${config.logRetentionDays} days`);
  });
});

describe("the purchase mix line", () => {
  const config = ENVIRONMENTS.find((e) => e.compute.purchaseMix?.instanceTypes) ?? ENVIRONMENTS[0]!;
  const bill = (mix: unknown) => {
    const json = synthEnvironment(config).json;
    const asg = Object.values(json.resource.aws_autoscaling_group as Record<string, unknown>)[0] as Record<string, unknown>;
    const patched = { ...json, resource: { ...json.resource, aws_autoscaling_group: { g: { ...asg, mixed_instances_policy: mix } } } };
    return Object.fromEntries(billOfMaterials(patched).map((l) => [l.item, l.detail]))["purchase mix"];
  };

  it("says when the group has no mix", () => {
    expect(bill(undefined)).toBe("On-Demand only, the launch template's type");
  });

  it("counts the Spot Instances at the group's maximum as AWS rounds (the On-Demand share up)", () => {
    const policy = {
      instances_distribution: {
        on_demand_base_capacity: 1,
        on_demand_percentage_above_base_capacity: 50,
        spot_allocation_strategy: "capacity-optimized",
      },
      launch_template: { override: [{ instance_type: "a.b" }, { instance_type: "c.d" }] },
    };
    const above = config.compute.maxCapacity - 1;
    expect(bill(policy)).toBe(
      `On-Demand base 1, Spot 50% above it (at most ${above - Math.ceil(above / 2)} of ${config.compute.maxCapacity} instances, capacity-optimized); types a.b, c.d`,
    );
  });
});

describe("npm run bom", () => {
  it("prints a heading per environment and an aligned line per item, and no price", () => {
    const name = ENVIRONMENTS[0]!.name;
    const result = spawnSync(process.execPath, ["dist/bom.js"], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      env: { ...process.env, ENVIRONMENTS: name, CHECKPOINT_DISABLE: "1" },
    });
    expect(result.status).toBe(0);
    const expected = formatBom(name, billOfMaterials(synthEnvironment(ENVIRONMENTS[0]!).json));
    expect(result.stdout.split("\n").slice(0, expected.length)).toEqual(expected);
    expect(result.stdout).not.toMatch(/[$€£]|USD|per hour|\/month/);
  });
});
