// A private S3 bucket (like aws-cdk-lib's `s3.Bucket` with `blockPublicAccess: BLOCK_ALL`, `enforceSSL`,
// `versioned` and `objectOwnership: BUCKET_OWNER_ENFORCED`): public access blocked, ACLs off, versioned,
// encrypted by default (SSE-KMS with a key, or SSE-S3 where the writer supports nothing else), a policy that
// refuses plain HTTP (and optionally any write not SSE-KMS), and lifecycle rules. No replication, no logging.
import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { policyDocument, Statement } from "./policy";

export interface PrivateBucketProps {
  /** The bucket's name. */
  readonly bucketName: string;
  /**
   * Default encryption: SSE-KMS with this key (S3 Bucket Keys on), or `"S3_MANAGED"` for SSE-S3 (AES256),
   * the only kind some AWS writers support (ALB access logs).
   */
  readonly encryption: { readonly kmsKeyArn: string } | "S3_MANAGED";
  /** Refuse every object write that is not SSE-KMS (`DenyWritesNotEncryptedWithKms`); SSE-KMS buckets only. @default false */
  readonly denyWritesNotEncryptedWithKms?: boolean;
  /** Let `terraform destroy` empty the bucket; unset leaves the provider's default (false) unwritten. @default unset */
  readonly forceDestroy?: boolean;
  /** Refuse to plan the bucket's destruction (Terraform `prevent_destroy`). @default false */
  readonly preventDestroy?: boolean;
  /** Tags of the bucket itself. @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /** Statements placed before the bucket's own denies in its policy (policy order is kept as written). @default [] */
  readonly leadingStatements?: (bucket: S3Bucket) => Statement[];
  /** Statements placed after the bucket's own denies in its policy. @default [] */
  readonly statements?: (bucket: S3Bucket) => Statement[];
  /** The policy waits for the ownership controls too, not only for the public access block. @default true */
  readonly policyWaitsForOwnership?: boolean;
  /** Lifecycle rules; none creates no lifecycle configuration. @default [] */
  readonly lifecycleRules?: S3BucketLifecycleConfigurationRule[];
  /** What the lifecycle configuration waits for: versioning (noncurrent-version rules need it), or only the bucket. @default "versioning" */
  readonly lifecycleWaitsFor?: "versioning" | "bucket";
}

/**
 * The bucket and its settings, created as siblings in `scope` (not in a construct of their own, so their
 * Terraform names are the caller's): `id` ends in `bucket`, and each setting's id replaces that word with
 * its own (`audit-bucket`, `audit-versioning`, `audit-encryption`, `audit-public-access`, `audit-ownership`,
 * `audit-policy`, `audit-lifecycle`).
 */
export class PrivateBucket {
  readonly bucket: S3Bucket;
  readonly versioning: S3BucketVersioningA;
  readonly encryption: S3BucketServerSideEncryptionConfigurationA;
  readonly publicAccess: S3BucketPublicAccessBlock;
  readonly ownership: S3BucketOwnershipControls;
  readonly policy: S3BucketPolicy;
  readonly lifecycle?: S3BucketLifecycleConfiguration;

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    if (!id.endsWith("bucket")) throw new Error(`${scope.node.path}: PrivateBucket id = ${JSON.stringify(id)}: must end in "bucket"`);
    const kms = props.encryption === "S3_MANAGED" ? undefined : props.encryption.kmsKeyArn;
    if (props.denyWritesNotEncryptedWithKms && kms === undefined) {
      throw new Error(`${scope.node.path}/${id}: denyWritesNotEncryptedWithKms = true: needs SSE-KMS encryption, not S3_MANAGED`);
    }
    const child = (role: string) => `${id.slice(0, -"bucket".length)}${role}`;

    const bucket = new S3Bucket(scope, id, {
      bucket: props.bucketName,
      forceDestroy: props.forceDestroy,
      tags: props.tags ? { ...props.tags } : undefined,
      lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
    });
    this.bucket = bucket;
    this.versioning = new S3BucketVersioningA(scope, child("versioning"), {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    this.encryption = new S3BucketServerSideEncryptionConfigurationA(scope, child("encryption"), {
      bucket: bucket.id,
      rule: [
        kms === undefined
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kms }, bucketKeyEnabled: true },
      ],
    });
    this.publicAccess = new S3BucketPublicAccessBlock(scope, child("public-access"), {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    this.ownership = new S3BucketOwnershipControls(scope, child("ownership"), {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    const own: Statement[] = [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket.arn, `${bucket.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ];
    if (props.denyWritesNotEncryptedWithKms) {
      // A write without SSE-KMS (SSE-S3, or no header at all) is refused rather than encrypted some other way.
      own.push({
        Sid: "DenyWritesNotEncryptedWithKms",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucket.arn}/*`,
        Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
      });
    }
    this.policy = new S3BucketPolicy(scope, child("policy"), {
      bucket: bucket.id,
      policy: policyDocument(...(props.leadingStatements?.(bucket) ?? []), ...own, ...(props.statements?.(bucket) ?? [])),
      dependsOn: (props.policyWaitsForOwnership ?? true) ? [this.publicAccess, this.ownership] : [this.publicAccess],
    });
    if (props.lifecycleRules && props.lifecycleRules.length > 0) {
      this.lifecycle = new S3BucketLifecycleConfiguration(scope, child("lifecycle"), {
        bucket: bucket.id,
        rule: props.lifecycleRules,
        dependsOn: [(props.lifecycleWaitsFor ?? "versioning") === "versioning" ? this.versioning : bucket],
      });
    }
  }
}
