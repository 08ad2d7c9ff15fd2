// Plan-time checks: the data sources and their postconditions, and the conditions evaluated by the real engine
// (`terraform console`) on the answers AWS could give.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENVIRONMENTS } from "../environments";
import { Json, synthEnvironment } from "./support/synth";

/** Evaluates a Terraform expression with the real engine. */
function evaluate(expression: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
  try {
    const result = spawnSync("terraform", ["console"], {
      cwd: dir,
      input: expression,
      encoding: "utf8",
      env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" },
    });
    if (result.error || result.status !== 0)
      throw new Error(`terraform console failed (is the engine installed? npm run setup:tools): ${result.error ?? result.stderr}`);
    return result.stdout.trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const only = (json: Json, type: string): Json => {
  const all = Object.values((json.data?.[type] ?? {}) as Record<string, Json>);
  expect(all).toHaveLength(1);
  return all[0]!;
};

/** The postcondition's expression with `self.<attribute>` replaced by what AWS answered. */
const withAnswer = (condition: string, attribute: string, answer: readonly string[]) =>
  condition.replace(/^\$\{/, "").replace(/\}$/, "").replace(`self.${attribute}`, JSON.stringify(answer));

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s", (_name, config) => {
  const { json } = synthEnvironment(config);
  const zones = [...config.network.availabilityZones];

  it("fails the plan unless every configured zone is available to the account", () => {
    const data = only(json, "aws_availability_zones");
    expect(data.state).toBe("available");
    expect(data.filter).toEqual([{ name: "zone-name", values: zones }]);
    const [check] = data.lifecycle.postcondition;
    expect(check.error_message).toContain(`network.availabilityZones = ${JSON.stringify(zones)}`);
    expect(evaluate(withAnswer(check.condition, "names", [...zones, "eu-west-2z"]))).toBe("true");
    expect(evaluate(withAnswer(check.condition, "names", zones.slice(1)))).toBe("false");
  });

  // compute.instanceType first, then each other type the purchase mix may launch, each with its own message.
  const types = [
    config.compute.instanceType,
    ...(config.compute.purchaseMix?.instanceTypes ?? []).filter((t) => t !== config.compute.instanceType),
  ];
  const offerings = Object.values((json.data?.aws_ec2_instance_type_offerings ?? {}) as Record<string, Json>);

  it("checks one offering per instance type the group may launch", () => {
    expect(offerings.map((o) => o.filter[0].values[0]).sort()).toEqual([...types].sort());
  });

  it.each(types.map((t) => [t]))("fails the plan unless %s is offered in every configured zone", (type) => {
    const data = offerings.find((o) => o.filter[0].values[0] === type)!;
    expect(data.location_type).toBe("availability-zone");
    expect(data.filter).toEqual([
      { name: "instance-type", values: [type] },
      { name: "location", values: zones },
    ]);
    const field =
      type === config.compute.instanceType
        ? "compute\\.instanceType"
        : `compute\\.purchaseMix\\.instanceTypes\\[${config.compute.purchaseMix!.instanceTypes!.indexOf(type)}\\]`;
    const [check] = data.lifecycle.postcondition;
    expect(check.error_message).toMatch(new RegExp(`^${field} = "${type.replace(".", "\\.")}": not offered in every zone`));
    expect(evaluate(withAnswer(check.condition, "locations", zones))).toBe("true");
    expect(evaluate(withAnswer(check.condition, "locations", zones.slice(0, -1)))).toBe("false");
  });
});
