// The configuration's zod schema (environments/schema/schema.ts): it fits what ships, and it cannot drift from the
// documented types, since a difference fails the type check (these tests compile only while `Same` tells drift apart).
import type { z } from "zod";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { bootstrapSchema, environmentSchema, type Same, type SchemaAgreesWithTypes } from "../environments/schema/schema";
import type { BootstrapConfig, EnvironmentConfig } from "../environments/schema/types";
import type { NetworkSettings } from "../modules/networking";

type Network = z.input<typeof environmentSchema>["network"];

describe("the schema", () => {
  it("fits every shipped environment and the bootstrap config", () => {
    for (const config of ENVIRONMENTS)
      expect([config.name, environmentSchema.safeParse(config).error?.issues]).toEqual([config.name, undefined]);
    expect(bootstrapSchema.safeParse(bootstrap).error?.issues).toBeUndefined();
  });

  it("agrees with the types part by part (SchemaAgreesWithTypes compiles)", () => {
    const parts: SchemaAgreesWithTypes["length"] = 14;
    const whole: [Same<z.input<typeof environmentSchema>, EnvironmentConfig>, Same<z.input<typeof bootstrapSchema>, BootstrapConfig>] = [
      true,
      true,
    ];
    expect([parts, whole]).toEqual([14, [true, true]]);
  });

  it("tells a drift from the types apart, so the type check fails on one", () => {
    // Each line compiles only because `Same` is false for the pair: a schema that has drifted this way would fail
    // SchemaAgreesWithTypes.
    const drifts: false[] = [
      // a setting the types have and the schema lacks (optional, so plain assignability would not see it)
      false satisfies Same<Network, NetworkSettings & { readonly flowLogFormat?: string }>,
      // a setting the schema has and the types lack
      false satisfies Same<Network & { flowLogFormat?: string }, NetworkSettings>,
      // optional in one, required in the other
      false satisfies Same<Omit<Network, "flowLogTrafficType"> & { flowLogTrafficType: "ACCEPT" | "REJECT" | "ALL" }, NetworkSettings>,
      // a union with a value more
      false satisfies Same<Omit<Network, "natGateways"> & { natGateways: "none" | "single" | "per-az" | "per-subnet" }, NetworkSettings>,
      // another value type, deep in a list
      false satisfies Same<Omit<Network, "availabilityZones"> & { availabilityZones: number[] }, NetworkSettings>,
    ];
    // What does not count: readonly-ness and how the type is composed.
    const same: true[] = [
      true satisfies Same<Network, NetworkSettings>,
      true satisfies Same<{ a: string[] } & { b?: number }, { readonly a: readonly string[]; readonly b?: number }>,
    ];
    expect([drifts.length, same.length]).toEqual([5, 2]);
  });
});
