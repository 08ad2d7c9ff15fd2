import { Testing } from "cdktf";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { validateBootstrap } from "../environments/schema/validate";
import { applyBoundaryName, ciRoleName, planKeyAlias } from "../modules/bootstrap/ci-roles";
import { resolve } from "./support/iam";
import { buildBootstrap } from "../modules/stacks/bootstrap-stack";
import { Json, policy, resourceList, resources, synth } from "./support/synth";

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

  it("names the resources of every statement of every CI policy (IAM rejects a statement without Resource or NotResource)", () => {
    const documents = [...resourceList(json, "aws_iam_policy"), ...resourceList(json, "aws_iam_role_policy")].map((p) =>
      policy(p.policy as string),
    );
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      for (const statement of document.Statement as Json[]) {
        expect([statement.Sid, "Resource" in statement || "NotResource" in statement]).toEqual([statement.Sid, true]);
      }
    }
  });

  it("creates a plan and an apply role per environment, named outside the environments' own prefixes", () => {
    expect(
      Object.values(roles)
        .map((r) => r.name)
        .sort(),
    ).toEqual(ciNames.flatMap((e) => [`${project}-ci-${e}-apply`, `${project}-ci-${e}-plan`]).sort());
  });

  it.each(ciNames)("trusts only the pull-request workflow in the %s-plan GitHub environment for the plan role", (env) => {
    const trust = policy(role(`${project}-ci-${env}-plan`).assume_role_policy);
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: expect.stringMatching(/aws_iam_openid_connect_provider\..*\.arn/) },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: {
            "token.actions.githubusercontent.com:sub": [
              `repo:${repo}:environment:${env}-plan:job_workflow_ref:${repo}/.github/workflows/pull-request.yml@refs/pull/*/merge`,
            ],
          },
        },
      },
    ]);
  });

  it.each(ciNames)("trusts only the apply workflow on main in the %s GitHub environment for the apply role", (env) => {
    const trust = policy(role(`${project}-ci-${env}-apply`).assume_role_policy);
    expect(trust.Statement[0].Condition).toEqual({
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": [
          `repo:${repo}:environment:${env}:job_workflow_ref:${repo}/.github/workflows/apply.yml@refs/heads/main`,
        ],
      },
    });
  });

  it("gives plan roles a curated read policy (no AWS-managed policy) plus their own state object and lock only", () => {
    expect(resourceList(json, "aws_iam_role_policy_attachment").map((a) => a.policy_arn)).not.toContainEqual(
      expect.stringMatching(/^arn:aws:iam::aws:policy\//),
    );
    const doc = inlinePolicy("prod-plan-state");
    const bySid = Object.fromEntries(doc.Statement.map((s: Json) => [s.Sid, s]));
    expect(bySid.ReadOwnState).toEqual(
      expect.objectContaining({ Action: "s3:GetObject", Resource: expect.stringMatching(/\/environments\/prod\/terraform\.tfstate$/) }),
    );
    expect(bySid.LockFile.Resource).toMatch(/\/environments\/prod\/terraform\.tfstate\.tflock$/);
    expect(bySid.LockTable.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["*/environments/prod/terraform.tfstate*"] },
    });
    const others = ciNames.filter((e) => e !== "prod");
    const allows = JSON.stringify(doc.Statement.filter((s: Json) => s.Effect === "Allow"));
    expect(allows).not.toMatch(new RegExp(`environments/(${others.join("|")})/`));
    expect(bySid.DenyOtherEnvironmentsState.Resource).toEqual([
      ...others.map((e) => expect.stringMatching(new RegExp(`/environments/${e}/terraform\\.tfstate\\*$`))),
      expect.stringMatching(/\/bootstrap\*$/),
    ]);
    expect(bySid.PlanTimeRandomPassword).toEqual(expect.objectContaining({ Action: "secretsmanager:GetRandomPassword", Resource: "*" }));
    expect(bySid.RefreshCacheTokenVersion.Resource).toBe(
      `arn:aws:secretsmanager:${bootstrap.region}:${account}:secret:${project}-prod/redis-auth-token-??????`,
    );
    expect(Object.keys(bySid).sort()).toEqual([
      "DecryptCacheTokenViaSecretsManager",
      "DenyOtherEnvironmentsState",
      "DenyOtherLocks",
      "ListOwnState",
      "LockFile",
      "LockTable",
      "PlanTimeRandomPassword",
      "PublicParameters",
      "ReadOwnState",
      "RefreshBootBundle",
      "RefreshCacheTokenVersion",
      "StateKey",
    ]);
    expect(bySid.RefreshBootBundle).toEqual(
      expect.objectContaining({
        Action: ["s3:GetObject", "s3:GetObjectTagging"],
        Resource: `arn:aws:s3:::${project}-prod-boot-${account}/boot/*`,
      }),
    );
    const read = inlinePolicy("prod-plan-read").Statement[0];
    expect(read.Action).not.toContainEqual(
      expect.stringMatching(/^s3:Get\*$|^s3:GetObject|^secretsmanager:GetSecretValue$|^ssm:|^sqs:|^\*/),
    );
  });

  it("gives apply roles a scoped policy and a boundary, each under the managed-policy size limit once resolved", () => {
    const policies = resourceList(json, "aws_iam_policy").filter((p) => String(p.name).startsWith(`${project}-ci-`));
    expect(policies.map((p) => p.name).sort()).toEqual(
      ciNames.flatMap((e) => [ciRoleName(project, e, "apply"), applyBoundaryName(project, e)]).sort(),
    );
    // IAM counts the resolved document without whitespace: references become the ARNs they will be.
    const iam = { json, region: bootstrap.region, accountId: account };
    for (const p of resourceList(json, "aws_iam_policy")) {
      const resolved = resolve(iam, p.policy).replace(/:key\/[A-Za-z0-9_-]+/g, `:key/${"0".repeat(36)}`);
      const size = JSON.stringify(JSON.parse(resolved)).length;
      expect({ policy: p.name, fits: size <= 6144 }).toEqual({ policy: p.name, fits: true });
    }
    const apply = role(ciRoleName(project, "prod", "apply"));
    expect(apply.permissions_boundary).toMatch(/^\$\{aws_iam_policy\.ci_prod-apply-boundary_[A-Z0-9]+\.arn\}$/);
    const attached = resourceList(json, "aws_iam_role_policy_attachment").map((a) => a.policy_arn);
    expect(attached).toContainEqual(expect.stringMatching(/^\$\{aws_iam_policy\.ci_prod-apply-policy_[A-Z0-9]+\.arn\}$/));
    expect(attached).not.toContain(apply.permissions_boundary);
    const doc = policy(policies.find((p) => p.name === ciRoleName(project, "prod", "apply"))!.policy);
    const manage = doc.Statement.find((s: Json) => s.Sid === "ManageOwnRolesAndProfiles");
    expect(manage.Resource).toEqual([
      `arn:aws:iam::${account}:role/${project}-prod-*`,
      `arn:aws:iam::${account}:instance-profile/${project}-prod-*`,
    ]);
    expect(manage.Action).not.toContain("iam:CreateUser");
    const write = doc.Statement.find((s: Json) => s.Sid === "ReadWriteOwnState");
    expect(write.Action).toEqual(["s3:GetObject", "s3:PutObject"]);
    expect(write.Resource).toMatch(/\/environments\/prod\/terraform\.tfstate$/);
  });

  it("seals each environment's plans with its own key that only its apply role may decrypt", () => {
    const keys = resourceList(json, "aws_kms_key").filter((k) => String(k.description).startsWith("Seals"));
    expect(keys.map((k) => k.tags)).toEqual(
      expect.arrayContaining(ciNames.map((e) => ({ Name: planKeyAlias(project, e), Environment: e }))),
    );
    expect(keys).toHaveLength(ciNames.length);
    const prod = policy(keys.find((k) => k.tags.Environment === "prod")!.policy);
    const bySid = Object.fromEntries(prod.Statement.map((s: Json) => [s.Sid, s]));
    expect(bySid.PlanRoleSeals).toEqual(
      expect.objectContaining({
        Action: "kms:GenerateDataKey",
        Condition: { StringEquals: { "kms:EncryptionContext:environment": "prod" } },
      }),
    );
    expect(bySid.PlanRoleSeals.Principal.AWS).toMatch(/aws_iam_role\.ci_prod-plan_/);
    expect(bySid.NobodyElseOpens).toEqual(expect.objectContaining({ Effect: "Deny", Action: "kms:Decrypt", Principal: "*" }));
    expect(bySid.NobodyElseOpens.Condition.ArnNotLike["aws:PrincipalArn"]).toMatch(/aws_iam_role\.ci_prod-apply_/);
    expect(resourceList(json, "aws_kms_alias").map((a) => a.name)).toEqual(
      expect.arrayContaining(ciNames.map((e) => `alias/${planKeyAlias(project, e)}`)),
    );
  });

  it("cannot let an apply role edit itself: CI role names do not match any environment prefix", () => {
    for (const name of Object.values(roles).map((r) => r.name as string)) {
      expect(ENVIRONMENTS.some((e) => name.startsWith(`${e.project}-${e.name}-`))).toBe(false);
    }
  });

  it("outputs the role ARNs the workflows need", () => {
    expect(Object.keys(json.output)).toEqual(
      expect.arrayContaining(["ci_prod_plan_role_arn", "ci_prod_apply_role_arn", "ci_dev_plan_role_arn", "ci_prod_plan_key_alias"]),
    );
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
    [
      { environments: [{ name: "nowhere" }] },
      new RegExp(
        `^bootstrap: ci.environments\\[0\\].name = "nowhere": no such environment; known: ${ENVIRONMENTS.map((e) => e.name).join(", ")}$`,
      ),
    ],
    [
      { environments: [{ name: "dev", githubEnvironment: "bad/env" }] },
      /^bootstrap: ci.environments\[0\].githubEnvironment = "bad\/env": not a GitHub environment name/,
    ],
    [
      { environments: [{ name: "dev", planGithubEnvironment: "staging" }, { name: "staging" }] },
      /^bootstrap: ci.environments\[0\].planGithubEnvironment = "staging": used by another role/,
    ],
    [{ applyWorkflow: "apply" }, /^bootstrap: ci.applyWorkflow = "apply": must be a workflow file name/],
  ])("rejects %j", (patch, message) => {
    expect(validateBootstrap({ ...bootstrap, ci: { ...bootstrap.ci!, ...patch } }, ENVIRONMENTS)).toContainEqual(
      expect.stringMatching(message),
    );
  });

  it("rejects a CI environment whose provider assumes another role: its CI roles may not assume it", () => {
    const envs = ENVIRONMENTS.map((e, i) => (i === 0 ? { ...e, assumeRoleArn: `arn:aws:iam::${e.accountId}:role/deployer` } : e));
    expect(validateBootstrap(bootstrap, envs)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^bootstrap: ci.environments\\[0\\].name = "${ENVIRONMENTS[0]!.name}": sets assumeRoleArn .*: they apply in the environment's own account`,
        ),
      ),
    );
  });
});
