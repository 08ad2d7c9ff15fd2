// ARNs built from their parts (like aws-cdk-lib's `Stack.formatArn`), with one source for the partition.
// For ARNs of resources that need not exist yet or live elsewhere (policies written before the resource,
// other stacks' roles); a resource this stack creates is referenced by its own `arn` attribute instead.

/**
 * The partition of every ARN the stacks write: the commercial one (`aws`), where the regional endpoints, the
 * RDS certificate bundle and the service principals they name exist.
 */
export const PARTITION = "aws";

/** The partition a region belongs to: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

export interface ArnParts {
  /** @default PARTITION */
  readonly partition?: string;
  /** Service namespace: `iam`, `s3`, `kms`, `logs`... */
  readonly service: string;
  /** Region, or `*`; empty for global services (IAM, S3, Route 53). @default "" */
  readonly region?: string;
  /** Account id, `aws` for AWS managed policies, or `*`; empty for S3 buckets and global catalogues. @default "" */
  readonly account?: string;
  /** Everything after the account, separators included: `role/name`, `key/*`, `secret:name-??????`, `bucket/key`. */
  readonly resource: string;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export function formatArn(parts: ArnParts): string {
  return `arn:${parts.partition ?? PARTITION}:${parts.service}:${parts.region ?? ""}:${parts.account ?? ""}:${parts.resource}`;
}
