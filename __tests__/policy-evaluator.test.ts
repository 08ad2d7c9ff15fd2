// The test-side IAM evaluator the security tests rely on: each rule it implements, checked on its own.
import { allowedBy, evaluate, wildcard } from "./support/policy-evaluator";

const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });
const allow = (extra: object) => ({ Effect: "Allow", Action: "*", Resource: "*", ...extra });

describe("policy evaluator", () => {
  it("matches IAM wildcards: * any run, ? one character, actions case-insensitively", () => {
    expect(wildcard("arn:aws:s3:::b/env/*", "arn:aws:s3:::b/env/x/y")).toBe(true);
    expect(wildcard("arn:aws:s3:::b/env/?", "arn:aws:s3:::b/env/xy")).toBe(false);
    expect(wildcard("arn:aws:s3:::b.c", "arn:aws:s3:::bxc")).toBe(false);
    expect(evaluate([doc({ Effect: "Allow", Action: "s3:Get*", Resource: "*" })], { action: "S3:GETOBJECT", resource: "x" })).toBe("allow");
  });

  it("denies implicitly, allows on a matching Allow, and lets an explicit Deny win", () => {
    const d = doc(allow({ Action: "s3:*" }), { Effect: "Deny", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/*" });
    expect(evaluate([d], { action: "ec2:DescribeVpcs", resource: "*" })).toBe("implicit-deny");
    expect(evaluate([d], { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" })).toBe("allow");
    expect(evaluate([d], { action: "s3:DeleteObject", resource: "arn:aws:s3:::b/k" })).toBe("deny");
  });

  it("honours NotAction and NotResource", () => {
    const d = doc(
      { Effect: "Allow", NotAction: ["iam:*"], Resource: "*" },
      { Effect: "Deny", Action: "s3:GetObject", NotResource: ["arn:aws:s3:::b/mine"] },
    );
    expect(evaluate([d], { action: "iam:CreateUser", resource: "*" })).toBe("implicit-deny");
    expect(evaluate([d], { action: "s3:GetObject", resource: "arn:aws:s3:::b/mine" })).toBe("allow");
    expect(evaluate([d], { action: "s3:GetObject", resource: "arn:aws:s3:::b/other" })).toBe("deny");
  });

  it("treats a missing key as false for positive operators and true for negated ones", () => {
    const eq = doc(allow({ Condition: { StringEquals: { k: "v" } } }));
    const ne = doc(allow({ Condition: { StringNotEquals: { k: "v" } } }));
    expect(evaluate([eq], { action: "a:b", resource: "*" })).toBe("implicit-deny");
    expect(evaluate([ne], { action: "a:b", resource: "*" })).toBe("allow");
    expect(evaluate([ne], { action: "a:b", resource: "*", context: { k: "v" } })).toBe("implicit-deny");
    expect(evaluate([ne], { action: "a:b", resource: "*", context: { k: "w" } })).toBe("allow");
  });

  it("ORs the values of one key, ANDs keys and operators", () => {
    const d = doc(allow({ Condition: { StringLike: { a: ["x*", "y*"] }, StringEquals: { b: "1" } } }));
    expect(evaluate([d], { action: "a:b", resource: "*", context: { a: "yes", b: "1" } })).toBe("allow");
    expect(evaluate([d], { action: "a:b", resource: "*", context: { a: "yes", b: "2" } })).toBe("implicit-deny");
    expect(evaluate([d], { action: "a:b", resource: "*", context: { a: "no", b: "1" } })).toBe("implicit-deny");
    const notLike = doc(allow({ Condition: { StringNotLike: { a: ["x*", "y*"] } } }));
    expect(evaluate([notLike], { action: "a:b", resource: "*", context: { a: "yes" } })).toBe("implicit-deny");
  });

  it("evaluates Null, Bool, ArnLike and the set qualifiers", () => {
    const nul = doc(allow({ Condition: { Null: { "aws:ResourceTag/Environment": "false" } } }));
    expect(evaluate([nul], { action: "a:b", resource: "*" })).toBe("implicit-deny");
    expect(evaluate([nul], { action: "a:b", resource: "*", context: { "aws:ResourceTag/Environment": "dev" } })).toBe("allow");
    const bool = doc(allow({ Condition: { Bool: { "aws:SecureTransport": "false" } } }));
    expect(evaluate([bool], { action: "a:b", resource: "*", context: { "aws:SecureTransport": "false" } })).toBe("allow");
    const arn = doc(allow({ Condition: { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::1:role/ci-*" } } }));
    expect(evaluate([arn], { action: "a:b", resource: "*", context: { "aws:PrincipalArn": "arn:aws:iam::1:role/ci-x" } })).toBe("allow");
    const all = doc(allow({ Condition: { "ForAllValues:StringLike": { keys: ["env/*"] } } }));
    expect(evaluate([all], { action: "a:b", resource: "*", context: { keys: ["env/a", "env/b"] } })).toBe("allow");
    expect(evaluate([all], { action: "a:b", resource: "*", context: { keys: ["env/a", "other"] } })).toBe("implicit-deny");
    const any = doc(allow({ Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["Environment"] } } }));
    expect(evaluate([any], { action: "a:b", resource: "*", context: { "aws:TagKeys": ["Name", "Environment"] } })).toBe("allow");
    expect(evaluate([any], { action: "a:b", resource: "*", context: { "aws:TagKeys": ["Name"] } })).toBe("implicit-deny");
    expect(() =>
      evaluate([doc(allow({ Condition: { DateGreaterThan: { k: "1" } } }))], { action: "a:b", resource: "*", context: { k: "1" } }),
    ).toThrow(/unsupported/);
  });

  it("intersects policy sets, as a permissions boundary does", () => {
    const identity = [doc(allow({}))];
    const boundary = [doc({ Effect: "Allow", Action: "s3:*", Resource: "*" })];
    expect(allowedBy({ action: "s3:GetObject", resource: "x" }, identity, boundary)).toBe(true);
    expect(allowedBy({ action: "ec2:RunInstances", resource: "x" }, identity, boundary)).toBe(false);
  });
});
