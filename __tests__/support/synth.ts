// Helpers for reading synthesized stacks in tests.
import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { buildEnvironment } from "../../modules/stacks/environment-stack";
import type { EnvironmentConfig } from "../../environments/schema/types";

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Synthesized {
  /** The synthesized JSON text, as `toHaveResourceWithProperties` and friends expect. */
  readonly text: string;
  readonly json: Json;
}

/** Synthesizes a stack with construct validations on. */
export function synth(stack: TerraformStack): Synthesized {
  const text = Testing.synth(stack, true);
  return { text, json: JSON.parse(text) as Json };
}

const sharedSynthDir = process.env.WEBAPP_SHARED_SYNTH_DIR;

/**
 * One environment's whole stack, synthesized. The shipped environments come from the run's shared synth
 * (support/global-setup.js, made by the same code path as `npm run synth`); changed configs are built here.
 */
export function synthEnvironment(config: EnvironmentConfig): Synthesized {
  if (sharedSynthDir && ENVIRONMENTS.includes(config)) {
    const text = fs.readFileSync(path.join(sharedSynthDir, "stacks", config.name, "cdk.tf.json"), "utf8");
    return { text, json: JSON.parse(text) as Json };
  }
  return synth(buildEnvironment(Testing.app(), config));
}

/** A bare stack with an AWS provider, for testing one construct. */
export function synthConstruct(build: (scope: Construct) => void): Synthesized {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "eu-west-2" });
  build(stack);
  return synth(stack);
}

/** Every resource of `type`, keyed by its logical name. */
export function resources(json: Json, type: string): Record<string, Json> {
  return (json.resource?.[type] ?? {}) as Record<string, Json>;
}

/** The resources of `type` as a list. */
export function resourceList(json: Json, type: string): Json[] {
  return Object.values(resources(json, type));
}

/** The single resource of `type` whose logical name ends with `suffix` (throws if not exactly one). */
export function resourceNamed(json: Json, type: string, suffix: string): Json {
  const matches = Object.entries(resources(json, type)).filter(([name]) => name.endsWith(suffix));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} ending in ${suffix}, found ${matches.map(([n]) => n).join(", ") || "none"}`);
  }
  return matches[0]![1];
}

/** Parses a policy document that was rendered to JSON. */
export function policy(text: string): Json {
  return JSON.parse(text) as Json;
}
