// The configuration's shape, checked at run time: generated from environments/schema/types.ts (so the two cannot
// drift), and rejecting what only the type checker would otherwise have seen.
import * as fs from "node:fs";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { ENVIRONMENT_SHAPE } from "../environments/schema/config-shape.generated";
import { checkShape } from "../environments/schema/shape";
import { validateBootstrap, validateEnvironments } from "../environments/schema/validate";
import { Problems } from "../modules/primitives/validation";
import { dev } from "../environments/dev";
import { environment } from "./support/fixtures";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const generator = require("../scripts/config-shape.js") as { generate: () => string; OUTPUT: string };

/** Problems for one changed environment, checked against the real others. */
function problems(patch: unknown, base = dev): string[] {
  const config = environment(patch as Parameters<typeof environment>[0], base);
  return validateEnvironments([config], ENVIRONMENTS.map((e) => (e.name === config.name ? config : e)));
}

describe("the generated shape", () => {
  it("is what the generator makes from environments/schema/types.ts today (run npm run gen:shape after changing the types)", () => {
    expect(fs.readFileSync(generator.OUTPUT, "utf8")).toBe(generator.generate());
  });

  it("fits every shipped environment and the bootstrap config", () => {
    for (const config of ENVIRONMENTS) {
      const found = Problems.create();
      checkShape(config, ENVIRONMENT_SHAPE, found);
      expect([config.name, found.list]).toEqual([config.name, []]);
    }
    expect(validateBootstrap(bootstrap, ENVIRONMENTS)).toEqual([]);
  });
});

describe("structural mistakes are rejected, one line each, before any value check", () => {
  it.each([
    [{ compute: { rootVolumeGib: 30 } }, 'dev: compute.rootVolumeGib = 30: unknown setting; did you mean rootVolumeGiB?'],
    [{ network: { natGateways: "per_az" } }, 'dev: network.natGateways = "per_az": must be one of "none", "single", "per-az"'],
    [{ network: { flowLogTrafficType: "REJECTED" } }, 'dev: network.flowLogTrafficType = "REJECTED": must be one of "ACCEPT", "REJECT", "ALL"'],
    [{ compute: { warmPool: { poolState: "stopped" } } }, 'dev: compute.warmPool.poolState = "stopped": must be one of "Stopped", "Hibernated", "Running"'],
    [{ compute: { minCapacity: "1" } }, 'dev: compute.minCapacity = "1": must be a number'],
    [{ database: { multiAz: "false" } }, 'dev: database.multiAz = "false": must be a boolean'],
    [{ network: { availabilityZones: "eu-west-2a" } }, 'dev: network.availabilityZones = "eu-west-2a": must be a list'],
    [{ tags: { Team: 7 } }, "dev: tags.Team = 7: must be a string"],
    [{ edge: { waf: { enabeld: true } } }, "dev: edge.waf.enabeld = true: unknown setting; did you mean enabled?"],
    [{ cache: { nodeType: undefined } }, "dev: cache.nodeType = (unset): required"],
    [{ monitoring: { thresholds: { groupCpu: 80 } } }, expect.stringMatching(/^dev: monitoring\.thresholds\.groupCpu = 80: unknown setting; known: loadBalancer5xxPercent, /)],
  ])("%j", (patch, line) => {
    expect(problems(patch)).toEqual([line]);
  });

  it("reports every structural problem of an environment at once", () => {
    expect(problems({ network: { natGateways: "per_az" }, compute: { rootVolumeGib: 30 } })).toHaveLength(2);
  });

  it("in the bootstrap config too", () => {
    expect(validateBootstrap({ ...bootstrap, remoteState: "yes" } as never, ENVIRONMENTS)).toEqual(['bootstrap: remoteState = "yes": must be a boolean']);
    expect(validateBootstrap({ ...bootstrap, noncurrentVersionRetention: 30 } as never, ENVIRONMENTS)).toEqual([
      "bootstrap: noncurrentVersionRetention = 30: unknown setting; did you mean noncurrentVersionRetentionDays?",
    ]);
  });
});
