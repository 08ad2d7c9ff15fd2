import { Testing } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { ciRoleName } from "../modules/bootstrap/ci-roles";
import { buildBootstrap } from "../modules/stacks/bootstrap-stack";
import { StateStorage } from "../modules/bootstrap/state-backend";
import { Json, policy, resourceList, synth, synthConstruct, synthEnvironment } from "./support/synth";

describe("each environment's backend", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s keeps its own encrypted, locked state object", (name, config) => {
    const { json } = synthEnvironment(config);
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: config.state.bucket,
        key: `environments/${name}/terraform.tfstate`,
        region: config.state.region,
        encrypt: true,
        kms_key_id: `arn:aws:kms:${config.state.region}:${config.accountId}:alias/${config.state.bucket}-state`,
        dynamodb_table: config.state.lockTable,
        use_lockfile: true,
      },
    });
  });
});

describe("bootstrap stack", () => {
  const { accountId: account, region, project } = bootstrap;
  const trailArn = `arn:aws:cloudtrail:${region}:${account}:trail/${bootstrap.state.bucket}-reads`;
  const ciNames = bootstrap.ci!.environments.map((e) => e.name);
  const build = (remoteState: boolean) => synth(buildBootstrap(Testing.app(), { ...bootstrap, remoteState }, ENVIRONMENTS));
  const { text, json } = build(false);

  it("starts on local state and moves to its own key in the bucket once migrated", () => {
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.bootstrap.tfstate" } });
    expect(build(true).json.terraform.backend.s3).toEqual(
      expect.objectContaining({
        key: "bootstrap/terraform.tfstate",
        use_lockfile: true,
        encrypt: true,
        kms_key_id: `arn:aws:kms:${region}:${account}:alias/${bootstrap.state.bucket}-state`,
      }),
    );
  });

  it("protects the bucket: versioning, KMS encryption, no public access, owner-enforced, prevent_destroy", () => {
    expect(text).toHaveResourceWithProperties(S3Bucket, { bucket: bootstrap.state.bucket, lifecycle: { prevent_destroy: true } });
    expect(text).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(text).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [
        expect.objectContaining({
          apply_server_side_encryption_by_default: expect.objectContaining({ sse_algorithm: "aws:kms" }),
          bucket_key_enabled: true,
        }),
      ],
    });
    expect(text).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(text).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: "BucketOwnerEnforced" } });
    expect(text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
  });

  const statePolicy = () =>
    policy(resourceList(json, "aws_s3_bucket_policy").find((p) => String(p.bucket).includes("state_bucket"))?.policy);

  it("denies any access to the bucket without TLS, and any object write not encrypted with KMS", () => {
    const doc = statePolicy();
    expect(doc.Statement[0]).toEqual(
      expect.objectContaining({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
    expect(doc.Statement[0].Resource).toHaveLength(2);
    expect(doc.Statement[1]).toEqual(
      expect.objectContaining({
        Sid: "DenyWritesNotEncryptedWithKms",
        Effect: "Deny",
        Action: "s3:PutObject",
        Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
      }),
    );
  });

  it("limits each environment's roles (its CI roles and every role its stack creates) to its own state object in the bucket policy as well", () => {
    const scopes = statePolicy().Statement.filter((s: Json) => String(s.Sid).startsWith("OneStateObjectOnly"));
    expect(scopes.map((s: Json) => s.Condition.ArnLike["aws:PrincipalArn"])).toEqual(
      ciNames.map((e) => [
        `arn:aws:iam::${account}:role/${ciRoleName(project, e, "plan")}`,
        `arn:aws:iam::${account}:role/${ciRoleName(project, e, "apply")}`,
        `arn:aws:iam::${account}:role/${project}-${e}-*`,
      ]),
    );
    const prod = scopes[ciNames.indexOf("prod")];
    expect(prod.NotResource).toEqual([
      expect.stringMatching(/\/environments\/prod\/terraform\.tfstate$/),
      expect.stringMatching(/\/environments\/prod\/terraform\.tfstate\.tflock$/),
    ]);
    expect(prod).toEqual(expect.objectContaining({ Effect: "Deny", Principal: "*", Action: "s3:*Object*" }));
  });

  it("refuses the state key to every role an environment's stack creates (none needs it), in the key's own policy", () => {
    const key = resourceList(json, "aws_kms_key").find((k) => String(k.description).startsWith("Terraform state"))!;
    const denied = (policy(key.policy).Statement as Json[]).find((s) => s.Sid === "DeniedPrincipals");
    expect(denied).toEqual({
      Sid: "DeniedPrincipals",
      Effect: "Deny",
      Principal: "*",
      Action: "kms:*",
      Resource: "*",
      Condition: { ArnLike: { "aws:PrincipalArn": ENVIRONMENTS.map((e) => `arn:aws:iam::${account}:role/${project}-${e.name}-*`) } },
    });
  });

  it("records every state object read and write in a CloudTrail trail, into its own KMS-encrypted bucket", () => {
    const trail = resourceList(json, "aws_cloudtrail")[0];
    expect(trail).toEqual(
      expect.objectContaining({ name: `${bootstrap.state.bucket}-reads`, enable_log_file_validation: true, is_multi_region_trail: true }),
    );
    expect(trail?.kms_key_id).toMatch(/aws_kms_key\.state_key_/);
    expect(trail?.advanced_event_selector).toEqual([
      {
        name: "State object reads and writes",
        field_selector: [
          { field: "eventCategory", equals: ["Data"] },
          { field: "resources.type", equals: ["AWS::S3::Object"] },
          { field: "resources.ARN", starts_with: [expect.stringMatching(/^\$\{aws_s3_bucket\.state_bucket_[A-Z0-9]+\.arn\}\/$/)] },
        ],
      },
    ]);
    expect(resourceList(json, "aws_s3_bucket").map((b) => b.bucket)).toContain(`${bootstrap.state.bucket}-audit`);
    const audit = policy(resourceList(json, "aws_s3_bucket_policy").find((p) => String(p.bucket).includes("audit-bucket"))?.policy);
    const write = audit.Statement.find((s: Json) => s.Sid === "TrailWritesItsLogs");
    expect(write.Condition.StringEquals["aws:SourceArn"]).toBe(trailArn);
    const key = policy(resourceList(json, "aws_kms_key").find((k) => String(k.description).startsWith("Terraform state"))?.policy);
    expect(
      key.Statement.find((s: Json) => s.Principal?.Service === "cloudtrail.amazonaws.com" && s.Action.includes("kms:GenerateDataKey*"))
        .Condition.StringEquals,
    ).toEqual({
      "aws:SourceArn": trailArn,
    });
    expect(json.output.state_audit_trail).toBeDefined();
  });

  it("leaves the trail out when the audit is turned off", () => {
    const off = synth(buildBootstrap(Testing.app(), { ...bootstrap, stateAudit: { enabled: false } }, ENVIRONMENTS)).json;
    expect(resourceList(off, "aws_cloudtrail")).toHaveLength(0);
    expect(resourceList(off, "aws_s3_bucket")).toHaveLength(1);
  });

  it("expires noncurrent state versions after the configured days", () => {
    expect(text).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [expect.objectContaining({ status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 90 }] })],
    });
  });

  it("creates the lock table: LockID string key, on demand, PITR, KMS encryption, protected", () => {
    expect(text).toHaveResourceWithProperties(DynamodbTable, {
      name: bootstrap.state.lockTable,
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: expect.objectContaining({ enabled: true }),
      deletion_protection_enabled: true,
      lifecycle: { prevent_destroy: true },
    });
  });

  it("rejects a bad bucket name at construct time", () => {
    expect(() =>
      synthConstruct((scope) => new StateStorage(scope, "state", { ...bootstrap.state, bucket: "No", accountId: "111111111111" })),
    ).toThrow(/test\/state: bucket = "No": not a valid S3 bucket name/);
  });

  it("rejects an audit bucket name S3 would refuse, and a bad retention", () => {
    const long = `webapp-tfstate-${"x".repeat(45)}`;
    expect(() =>
      synthConstruct((scope) => new StateStorage(scope, "state", { ...bootstrap.state, bucket: long, accountId: "111111111111" })),
    ).toThrow(/test\/state: audit.enabled = true: the audit bucket would be webapp-tfstate-x+-audit, not a valid S3 bucket name/);
    expect(() =>
      synthConstruct(
        (scope) => new StateStorage(scope, "state", { ...bootstrap.state, accountId: "111111111111", audit: { retentionDays: 0 } }),
      ),
    ).toThrow(/test\/state: audit.retentionDays = 0: must be a whole number of days, at least 1/);
  });
});
