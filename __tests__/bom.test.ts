// The bill of materials: read from each shipped environment's synthesized stack, it must say what the
// environment's config asks for (counts and sizes), and print no price.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { billOfMaterials, formatBom } from "../bom";
import { ENVIRONMENTS } from "../environments";
import { synthEnvironment } from "./support/synth";

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the bill of materials of %s", (_name, config) => {
  const bill = Object.fromEntries(billOfMaterials(synthEnvironment(config).json).map((l) => [l.item, l.detail]));
  const zones = config.network.availabilityZones.length;

  it("counts the NAT gateways and interface endpoints per zone", () => {
    const nat = { "per-az": zones, single: 1, none: 0 }[config.network.natGateways ?? "single"];
    expect(bill["NAT gateways"]).toMatch(new RegExp(`^${nat}\\b`));
    const endpoints = config.network.interfaceEndpoints ?? [];
    expect(bill["interface endpoints"]).toBe(
      endpoints.length === 0 ? "none" : `${endpoints.length} x ${zones} zones = ${endpoints.length * zones} endpoint-zones (${[...endpoints].sort().join(", ")})`,
    );
  });

  it("names the instance type and the group's bounds, the database class and Multi-AZ, the cache nodes", () => {
    const { compute, database, cache } = config;
    expect(bill["app instances"]).toMatch(new RegExp(`^${compute.instanceType}, min ${compute.minCapacity} max ${compute.maxCapacity}\\b`));
    expect(bill["database"]).toMatch(new RegExp(`^${database.instanceClass}, ${database.multiAz ? "Multi-AZ" : "single-AZ"}`));
    expect(bill["cache"]).toMatch(new RegExp(`^${cache.nodeCount} x ${cache.nodeType}\\b`));
  });

  it("shows WAF where it is on and how long logs are kept", () => {
    expect(bill["WAF"] === "none").toBe(!config.edge.waf.enabled);
    expect(bill["log groups"]).toContain(`kept ${config.logRetentionDays} days`);
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
