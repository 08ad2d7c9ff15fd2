import { Construct } from "constructs";
import { PrivateBucket, PrivateBucketProps } from "../modules/primitives/private-bucket";
import { Json, policy, resources, synthConstruct } from "./support/synth";

const KEY = "arn:aws:kms:eu-west-2:111111111111:key/test";

function build(props: Partial<PrivateBucketProps> = {}, id = "bucket"): Json {
  return synthConstruct((stack) => {
    new PrivateBucket(new Construct(stack, "owner"), id, { bucketName: "webapp-test-things", encryption: { kmsKeyArn: KEY }, ...props });
  }).json;
}

const only = (json: Json, type: string): [string, Json] => {
  const entries = Object.entries(resources(json, type));
  expect(entries).toHaveLength(1);
  return entries[0]!;
};

describe("PrivateBucket", () => {
  it("creates the bucket's settings as siblings named after its id, in the caller's scope", () => {
    const json = build(
      { lifecycleRules: [{ id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: 30 }] }] },
      "audit-bucket",
    );
    const names = [
      "aws_s3_bucket",
      "aws_s3_bucket_versioning",
      "aws_s3_bucket_server_side_encryption_configuration",
      "aws_s3_bucket_public_access_block",
      "aws_s3_bucket_ownership_controls",
      "aws_s3_bucket_policy",
      "aws_s3_bucket_lifecycle_configuration",
    ].map((type) => only(json, type)[0].replace(/_[0-9A-F]{8}$/, ""));
    expect(names).toEqual(
      [
        "audit-bucket",
        "audit-versioning",
        "audit-encryption",
        "audit-public-access",
        "audit-ownership",
        "audit-policy",
        "audit-lifecycle",
      ].map((id) => `owner_${id}`),
    );
    expect(() => build({}, "logs")).toThrow(/test\/owner: PrivateBucket id = "logs": must end in "bucket"/);
  });

  it("blocks public access, turns ACLs off, versions, and encrypts with the key (bucket keys on)", () => {
    const json = build();
    expect(only(json, "aws_s3_bucket_public_access_block")[1]).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only(json, "aws_s3_bucket_ownership_controls")[1].rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
    expect(only(json, "aws_s3_bucket_versioning")[1].versioning_configuration).toEqual({ status: "Enabled" });
    expect(only(json, "aws_s3_bucket_server_side_encryption_configuration")[1].rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: KEY }, bucket_key_enabled: true },
    ]);
    expect(only(json, "aws_s3_bucket")[1]).toEqual(
      expect.not.objectContaining({ force_destroy: expect.anything(), lifecycle: expect.anything(), tags: expect.anything() }),
    );
    expect(resources(json, "aws_s3_bucket_lifecycle_configuration")).toEqual({});
  });

  it("SSE-S3 where the writer supports nothing else", () => {
    const [, encryption] = only(build({ encryption: "S3_MANAGED" }), "aws_s3_bucket_server_side_encryption_configuration");
    expect(encryption.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }]);
    expect(() => build({ encryption: "S3_MANAGED", denyWritesNotEncryptedWithKms: true })).toThrow(
      /denyWritesNotEncryptedWithKms = true: needs SSE-KMS/,
    );
  });

  it("refuses plain HTTP always, writes without SSE-KMS on request, and keeps the caller's statements where placed", () => {
    const allow = { Effect: "Allow" as const, Principal: { Service: "delivery.example.com" }, Action: "s3:PutObject" };
    const sids = (json: Json) => policy(only(json, "aws_s3_bucket_policy")[1].policy).Statement.map((s: Json) => s.Sid);
    expect(sids(build())).toEqual(["DenyInsecureTransport"]);
    expect(sids(build({ denyWritesNotEncryptedWithKms: true }))).toEqual(["DenyInsecureTransport", "DenyWritesNotEncryptedWithKms"]);
    expect(
      sids(
        build({
          denyWritesNotEncryptedWithKms: true,
          leadingStatements: (b) => [{ ...allow, Sid: "First", Resource: `${b.arn}/*` }],
          statements: (b) => [{ ...allow, Sid: "Last", Resource: `${b.arn}/*` }],
        }),
      ),
    ).toEqual(["First", "DenyInsecureTransport", "DenyWritesNotEncryptedWithKms", "Last"]);
    const plain = build();
    const arn = `\${aws_s3_bucket.${only(plain, "aws_s3_bucket")[0]}.arn}`;
    expect(policy(only(plain, "aws_s3_bucket_policy")[1].policy).Statement[0]).toEqual({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [arn, `${arn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("writes destroy protection, tags and the dependencies it is asked for", () => {
    const json = build({
      preventDestroy: true,
      forceDestroy: false,
      tags: { Name: "things" },
      lifecycleRules: [{ id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: 30 }] }],
    });
    const [bucketName, bucket] = only(json, "aws_s3_bucket");
    expect(bucket).toMatchObject({
      bucket: "webapp-test-things",
      force_destroy: false,
      tags: { Name: "things" },
      lifecycle: { prevent_destroy: true },
    });
    const [publicAccess] = only(json, "aws_s3_bucket_public_access_block");
    const [ownership] = only(json, "aws_s3_bucket_ownership_controls");
    const [versioning] = only(json, "aws_s3_bucket_versioning");
    expect(only(json, "aws_s3_bucket_policy")[1].depends_on).toEqual([
      `aws_s3_bucket_public_access_block.${publicAccess}`,
      `aws_s3_bucket_ownership_controls.${ownership}`,
    ]);
    expect(only(json, "aws_s3_bucket_lifecycle_configuration")[1].depends_on).toEqual([`aws_s3_bucket_versioning.${versioning}`]);

    const loose = build({ policyWaitsForOwnership: false, lifecycleWaitsFor: "bucket", lifecycleRules: [{ id: "x", status: "Enabled" }] });
    expect(only(loose, "aws_s3_bucket_policy")[1].depends_on).toEqual([
      `aws_s3_bucket_public_access_block.${only(loose, "aws_s3_bucket_public_access_block")[0]}`,
    ]);
    expect(only(loose, "aws_s3_bucket_lifecycle_configuration")[1].depends_on).toEqual([`aws_s3_bucket.${bucketName}`]);
  });
});
