// What every stack starts with: the engine version it needs, its AWS provider, and where an environment's
// state object lives.
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { EnvironmentConfig } from "../../environments/schema/types";

/**
 * The oldest engine every stack works with: the S3 backend takes the state key's alias ARN as `kms_key_id`
 * from Terraform 1.11 (1.10 refuses it at init). OpenTofu checks the same constraint against its own version.
 */
export const REQUIRED_ENGINE_VERSION = ">= 1.11";

/** States the engine version a stack needs, so an older engine stops at init instead of mid-apply. */
export function requireEngine(stack: TerraformStack): void {
  // why: cdktf 0.21's TerraformStack has no prop for terraform.required_version.
  stack.addOverride("terraform.required_version", REQUIRED_ENGINE_VERSION);
}

/** State object key of an environment. */
export function stateKey(config: EnvironmentConfig): string {
  return `${config.state.keyPrefix ?? "environments"}/${config.name}/terraform.tfstate`;
}

export function awsProvider(
  scope: Construct,
  props: {
    region: string;
    accountId: string;
    assumeRoleArn?: string;
    tags: Record<string, string>;
  },
): AwsProvider {
  return new AwsProvider(scope, "aws", {
    region: props.region,
    allowedAccountIds: [props.accountId],
    assumeRole: props.assumeRoleArn ? [{ roleArn: props.assumeRoleArn, sessionName: "cdktf" }] : undefined,
    defaultTags: [{ tags: props.tags }],
  });
}
