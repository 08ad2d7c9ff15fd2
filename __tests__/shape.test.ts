// The run-time shape check (environments/schema/shape.ts): zod's issues as the validator's lines, one per problem,
// with the field path and the value, before any value check.
import { z } from "zod";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { checkShape } from "../environments/schema/shape";
import { validateBootstrap, validateEnvironments } from "../environments/schema/validate";
import { formatProblem, Problems } from "../modules/primitives/validation";
import { dev } from "../environments/dev";
import { environment } from "./support/fixtures";

/** Problems for one changed environment, checked against the real others. */
function problems(patch: unknown, base = dev): string[] {
  const config = environment(patch as Parameters<typeof environment>[0], base);
  return validateEnvironments(
    [config],
    ENVIRONMENTS.map((e) => (e.name === config.name ? config : e)),
  );
}

/** The shape check's lines for `value` against `schema`. */
function lines(value: unknown, schema: z.ZodType): string[] {
  const found = Problems.create();
  checkShape(value, schema, found);
  return found.list.map((p) => formatProblem("x", p));
}

describe("structural mistakes are rejected, one line each, before any value check", () => {
  it.each([
    [{ compute: { rootVolumeGib: 30 } }, "dev: compute.rootVolumeGib = 30: unknown setting; did you mean rootVolumeGiB?"],
    [{ network: { natGateways: "per_az" } }, 'dev: network.natGateways = "per_az": must be one of "none", "single", "per-az"'],
    [
      { network: { flowLogTrafficType: "REJECTED" } },
      'dev: network.flowLogTrafficType = "REJECTED": must be one of "ACCEPT", "REJECT", "ALL"',
    ],
    [
      { compute: { warmPool: { poolState: "stopped" } } },
      'dev: compute.warmPool.poolState = "stopped": must be one of "Stopped", "Hibernated", "Running"',
    ],
    [{ compute: { minCapacity: "1" } }, 'dev: compute.minCapacity = "1": must be a number'],
    [{ database: { multiAz: "false" } }, 'dev: database.multiAz = "false": must be a boolean'],
    [{ network: { availabilityZones: "eu-west-2a" } }, 'dev: network.availabilityZones = "eu-west-2a": must be a list'],
    [{ network: { availabilityZones: ["eu-west-2a", 2] } }, "dev: network.availabilityZones[1] = 2: must be a string"],
    [{ tags: { Team: 7 } }, "dev: tags.Team = 7: must be a string"],
    [{ tags: ["Team"] }, 'dev: tags = ["Team"]: must be an object'],
    [{ cache: { parameters: "maxmemory-policy" } }, 'dev: cache.parameters = "maxmemory-policy": must be an object'],
    [{ edge: { healthCheck: "/health" } }, 'dev: edge.healthCheck = "/health": must be an object'],
    [{ edge: { waf: { enabeld: true } } }, "dev: edge.waf.enabeld = true: unknown setting; did you mean enabled?"],
    [{ cache: { nodeType: undefined } }, "dev: cache.nodeType = (unset): required"],
    [{ network: { natGateways: undefined } }, "dev: network.natGateways = (unset): required"],
    [{ compute: { cronJobs: [{ name: "report", schedule: "0 * * * *" }] } }, "dev: compute.cronJobs[0].command = (unset): required"],
    [
      { monitoring: { thresholds: { groupCpu: 80 } } },
      expect.stringMatching(/^dev: monitoring\.thresholds\.groupCpu = 80: unknown setting; known: loadBalancer5xxPercent, /),
    ],
  ])("%j", (patch, line) => {
    expect(problems(patch)).toEqual([line]);
  });

  it("reports every structural problem of an environment at once, in the keys' order, an object's unknown keys first", () => {
    expect(
      problems({ network: { natGateways: "per_az", vpcCidr: 10 }, compute: { rootVolumeGib: 30, minCapacity: "1" }, zone: "a" }),
    ).toEqual([
      'dev: zone = "a": unknown setting; known: name, project, region, accountId, assumeRoleArn, repository, tags, production, waivers, acknowledgements, logRetentionDays, state, network, secrets, database, fileSystem, cache, edge, compute, monitoring',
      "dev: network.vpcCidr = 10: must be a string",
      'dev: network.natGateways = "per_az": must be one of "none", "single", "per-az"',
      "dev: compute.rootVolumeGib = 30: unknown setting; did you mean rootVolumeGiB?",
      'dev: compute.minCapacity = "1": must be a number',
    ]);
  });

  it("names a value that is not an object at all", () => {
    expect(lines([], z.strictObject({ a: z.string() }))).toEqual(["x:  = []: must be an object"]);
  });

  it("explains a union by the option the value comes closest to (the first of equals)", () => {
    const schema = z.strictObject({ target: z.union([z.strictObject({ host: z.string(), port: z.number() }), z.string()]) });
    expect(lines({ target: "db:5432" }, schema)).toEqual([]);
    expect(lines({ target: { host: "db", port: "5432" } }, schema)).toEqual(['x: target.port = "5432": must be a number']);
    expect(lines({ target: { host: 1, port: "5432" } }, schema)).toEqual(['x: target = {"host":1,"port":"5432"}: must be a string']);
    expect(lines({ target: 5432 }, schema)).toEqual(["x: target = 5432: must be an object"]);
  });

  it("in the bootstrap config too", () => {
    expect(validateBootstrap({ ...bootstrap, remoteState: "yes" } as never, ENVIRONMENTS)).toEqual([
      'bootstrap: remoteState = "yes": must be a boolean',
    ]);
    expect(validateBootstrap({ ...bootstrap, noncurrentVersionRetention: 30 } as never, ENVIRONMENTS)).toEqual([
      "bootstrap: noncurrentVersionRetention = 30: unknown setting; did you mean noncurrentVersionRetentionDays?",
    ]);
    expect(
      validateBootstrap({ ...bootstrap, ci: { githubRepository: "o/r", environments: [{ nam: "dev" }] } } as never, ENVIRONMENTS),
    ).toEqual([
      'bootstrap: ci.environments[0].nam = "dev": unknown setting; did you mean name?',
      "bootstrap: ci.environments[0].name = (unset): required",
    ]);
  });
});
