import { Testing } from "cdktf";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { validateBootstrap } from "../environments/validate";
import { buildBootstrap } from "../modules/environment-stack";
import { Json, policy, resources, synth } from "./support/synth";

const { text, json } = synth(buildBootstrap(Testing.app(), bootstrap, ENVIRONMENTS));
const roles = resources(json, "aws_iam_role");
const role = (name: string): Json => {
  const found = Object.values(roles).find((r) => r.name === name);
  if (!found) throw new Error(`no role ${name}`);
  return found;
};
const ciNames = bootstrap.ci!.environments.map((e) => e.name);
const repo = bootstrap.ci!.githubRepository;
const account = bootstrap.accountId;
const project = bootstrap.project;
const inlinePolicy = (roleKey: string): Json => {
  const found = Object.entries(resources(json, "aws_iam_role_policy")).find(([key]) => key.includes(roleKey));
  if (!found) throw new Error(`no inline policy for ${roleKey}`);
  return policy(found[1].policy);
};

describe("GitHub OIDC roles in the bootstrap stack", () => {
  it("creates GitHub's OIDC provider for the STS audience", () => {
    expect(text).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      url: "https://token.actions.githubusercontent.com",
      client_id_list: ["sts.amazonaws.com"],
    });
  });

  it("creates a plan and an apply role per environment, named outside the environments' own prefixes", () => {
    expect(Object.values(roles).map((r) => r.name).sort()).toEqual(
      ciNames.flatMap((e) => [`${project}-ci-${e}-apply`, `${project}-ci-${e}-plan`]).sort(),
    );
  });

  it.each(ciNames)("trusts only pull requests of this repository for the %s plan role", (env) => {
    const trust = policy(role(`${project}-ci-${env}-plan`).assume_role_policy);
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: expect.stringMatching(/aws_iam_openid_connect_provider\..*\.arn/) },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: { "token.actions.githubusercontent.com:sub": [`repo:${repo}:pull_request`] },
        },
      },
    ]);
  });

  it.each(ciNames)("trusts only the %s GitHub environment for the apply role", (env) => {
    const trust = policy(role(`${project}-ci-${env}-apply`).assume_role_policy);
    expect(trust.Statement[0].Condition.StringLike).toEqual({
      "token.actions.githubusercontent.com:sub": [`repo:${repo}:environment:${env}`],
    });
  });

  it("gives plan roles read-only access plus their own state object and lock only", () => {
    expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, { policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" });
    const doc = inlinePolicy("prod-plan-state");
    const bySid = Object.fromEntries(doc.Statement.map((s: Json) => [s.Sid, s]));
    expect(bySid.ReadOwnState).toEqual(
      expect.objectContaining({ Action: "s3:GetObject", Resource: expect.stringMatching(/\/environments\/prod\/terraform\.tfstate$/) }),
    );
    expect(bySid.LockFile.Resource).toMatch(/\/environments\/prod\/terraform\.tfstate\.tflock$/);
    expect(bySid.LockTable.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["*/environments/prod/terraform.tfstate*"] } });
    expect(JSON.stringify(doc)).not.toMatch(/environments\/(dev|staging)\//);
    expect(bySid.PlanTimeRandomPassword).toEqual(
      expect.objectContaining({ Action: "secretsmanager:GetRandomPassword", Resource: "*" }),
    );
    expect(Object.keys(bySid).sort()).toEqual(["ListOwnState", "LockFile", "LockTable", "PlanTimeRandomPassword", "ReadOwnState", "StateKey"]);
  });

  it("lets apply roles manage only their environment's IAM roles and profiles, and write only their own state", () => {
    const doc = inlinePolicy("prod-apply-iam");
    const manage = doc.Statement.find((s: Json) => s.Sid === "ManageOwnRolesAndProfiles");
    expect(manage.Resource).toEqual([`arn:aws:iam::${account}:role/${project}-prod-*`, `arn:aws:iam::${account}:instance-profile/${project}-prod-*`]);
    expect(manage.Action).not.toContain("iam:CreateUser");
    const write = doc.Statement.find((s: Json) => s.Sid === "ReadWriteOwnState");
    expect(write.Action).toEqual(["s3:GetObject", "s3:PutObject"]);
    expect(write.Resource).toMatch(/\/environments\/prod\/terraform\.tfstate$/);
    expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, { policy_arn: "arn:aws:iam::aws:policy/PowerUserAccess" });
  });

  it("cannot let an apply role edit itself: CI role names do not match any environment prefix", () => {
    for (const name of Object.values(roles).map((r) => r.name as string)) {
      expect(ENVIRONMENTS.some((e) => name.startsWith(`${e.project}-${e.name}-`))).toBe(false);
    }
  });

  it("outputs the role ARNs the workflows need", () => {
    expect(Object.keys(json.output)).toEqual(expect.arrayContaining(["ci_prod_plan_role_arn", "ci_prod_apply_role_arn", "ci_dev_plan_role_arn"]));
  });

  it("uses an existing OIDC provider when asked", () => {
    const other = synth(buildBootstrap(Testing.app(), { ...bootstrap, ci: { ...bootstrap.ci!, createOidcProvider: false } }, ENVIRONMENTS));
    expect(Object.keys(resources(other.json, "aws_iam_openid_connect_provider"))).toHaveLength(0);
    const trust = policy(Object.values(resources(other.json, "aws_iam_role"))[0]?.assume_role_policy);
    expect(trust.Statement[0].Principal.Federated).toBe(`arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`);
  });
});

describe("CI settings validation", () => {
  it.each([
    [{ githubRepository: "not a repo" }, /^bootstrap: ci.githubRepository = "not a repo": must be owner\/name/],
    [{ environments: [] }, /^bootstrap: ci.environments = \[\]: name at least one environment/],
    [{ environments: [{ name: "dev" }, { name: "dev" }] }, /^bootstrap: ci.environments\[1\].name = "dev": listed twice/],
    [{ environments: [{ name: "nowhere" }] }, new RegExp(`^bootstrap: ci.environments\\[0\\].name = "nowhere": no such environment; known: ${ENVIRONMENTS.map((e) => e.name).join(", ")}$`)],
    [{ environments: [{ name: "dev", githubEnvironment: "bad/env" }] }, /^bootstrap: ci.environments\[0\].githubEnvironment = "bad\/env": not a GitHub environment name/],
  ])("rejects %j", (patch, message) => {
    expect(validateBootstrap({ ...bootstrap, ci: { ...bootstrap.ci!, ...patch } }, ENVIRONMENTS)).toContainEqual(expect.stringMatching(message));
  });
});
