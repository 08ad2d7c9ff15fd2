// Prod in its own account: a second bootstrap stack gives that account its own state bucket, lock table,
// state key, audit trail, permissions boundary and CI roles, and nothing of one account reaches the other.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bootstrap, ENVIRONMENTS } from "../environments";
import type { BootstrapConfig, EnvironmentConfig } from "../environments/schema/types";
import { validateBootstrap, validateBootstrapLayout } from "../environments/schema/validate";
import { applyBoundaryName, ciRoleName } from "../modules/bootstrap/ci-roles";
import { run } from "../main";
import { environment } from "./support/fixtures";
import { policySets, resourcePolicy, StackIam } from "./support/iam";
import { simulate } from "./support/simulator";
import { Json, resourceList } from "./support/synth";

const PROD_ACCOUNT = "222222222222";
// The shipped bootstrap's account, region and project, whatever they are; prod moves to PROD_ACCOUNT.
const { accountId: ACCOUNT, region, project } = bootstrap;
const prodBucket = `${project}-tfstate-${PROD_ACCOUNT}`;
const prodState = { ...bootstrap.state, bucket: prodBucket };
const ciNames = bootstrap.ci!.environments.map((e) => e.name);
const sharedNames = ciNames.filter((n) => n !== "prod");
const environments: EnvironmentConfig[] = ENVIRONMENTS.map((e) =>
  e.name === "prod" ? environment({ accountId: PROD_ACCOUNT, state: prodState }, e) : e,
);
const shared: BootstrapConfig = {
  ...bootstrap,
  ci: { ...bootstrap.ci!, environments: bootstrap.ci!.environments.filter((e) => e.name !== "prod") },
};
const prodAccount: BootstrapConfig = {
  ...bootstrap,
  name: "bootstrap-prod",
  accountId: PROD_ACCOUNT,
  state: prodState,
  ci: { ...bootstrap.ci!, environments: [{ name: "prod" }] },
};

describe("prod in its own account", () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "accounts-"));
  const log: string[] = [];
  const code = run({ outdir, environments, bootstraps: [shared, prodAccount], printWarnings: false, log: (l) => log.push(l) });
  const stack = (name: string): Json => JSON.parse(fs.readFileSync(path.join(outdir, "stacks", name, "cdk.tf.json"), "utf8")) as Json;
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it("synthesizes one bootstrap stack per account", () => {
    expect({ code, log }).toEqual({ code: 0, log: [] });
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(
      ["bootstrap", "bootstrap-prod", ...ENVIRONMENTS.map((e) => e.name)].sort(),
    );
    expect(stack("bootstrap").provider.aws[0].allowed_account_ids).toEqual([ACCOUNT]);
    expect(stack("bootstrap-prod").provider.aws[0].allowed_account_ids).toEqual([PROD_ACCOUNT]);
    expect(stack("bootstrap-prod").terraform.backend).toEqual({ local: { path: "../../../terraform.bootstrap-prod.tfstate" } });
  });

  it("gives each account its own bucket, key, trail, boundaries and CI roles", () => {
    const b = stack("bootstrap");
    const p = stack("bootstrap-prod");
    expect(
      resourceList(p, "aws_s3_bucket")
        .map((x) => x.bucket)
        .sort(),
    ).toEqual([prodBucket, `${prodBucket}-audit`]);
    expect(resourceList(p, "aws_kms_alias").map((x) => x.name)).toContain(`alias/${prodBucket}-state`);
    expect(resourceList(p, "aws_cloudtrail")).toHaveLength(1);
    expect(
      resourceList(p, "aws_iam_policy")
        .map((x) => x.name)
        .sort(),
    ).toEqual([`${project}-boundary-prod`, ciRoleName(project, "prod", "apply"), applyBoundaryName(project, "prod")]);
    expect(
      resourceList(b, "aws_iam_policy")
        .map((x) => x.name)
        .sort(),
    ).toEqual(
      [
        ...sharedNames.map((e) => `${project}-boundary-${e}`),
        ...sharedNames.map((e) => ciRoleName(project, e, "apply")),
        ...sharedNames.map((e) => applyBoundaryName(project, e)),
      ].sort(),
    );
    expect(
      resourceList(p, "aws_iam_role")
        .map((x) => x.name)
        .sort(),
    ).toEqual([ciRoleName(project, "prod", "apply"), ciRoleName(project, "prod", "plan")]);
    expect(resourceList(p, "aws_iam_openid_connect_provider")).toHaveLength(1);
    expect(JSON.stringify(p)).not.toMatch(new RegExp(ACCOUNT));
    expect(JSON.stringify(b)).not.toMatch(new RegExp(PROD_ACCOUNT));
  });

  it("points prod's backend at its own account's bucket and state key", () => {
    expect(stack("prod").terraform.backend.s3).toEqual(
      expect.objectContaining({ bucket: prodBucket, kms_key_id: `arn:aws:kms:${region}:${PROD_ACCOUNT}:alias/${prodBucket}-state` }),
    );
    expect(stack("prod").provider.aws[0].allowed_account_ids).toEqual([PROD_ACCOUNT]);
    expect(JSON.stringify(stack("prod"))).toContain(`arn:aws:iam::${PROD_ACCOUNT}:policy/${project}-boundary-prod`);
  });

  it("lets prod's roles use prod's state only", async () => {
    const iam: StackIam = { json: stack("bootstrap-prod"), region, accountId: PROD_ACCOUNT };
    const object = `arn:aws:s3:::${prodBucket}/environments/prod/terraform.tfstate`;
    const bucketPolicy = resourcePolicy(
      iam,
      resourceList(iam.json, "aws_s3_bucket_policy").find((p) => String(p.bucket).includes("state_bucket"))!.policy,
    );
    const can = async (kind: "plan" | "apply", action: string, resource: string) => {
      const [identity, boundary] = policySets(iam, ciRoleName(project, "prod", kind));
      const principal = `arn:aws:iam::${PROD_ACCOUNT}:role/${ciRoleName(project, "prod", kind)}`;
      const context: Record<string, string> = action === "s3:PutObject" ? { "s3:x-amz-server-side-encryption": "aws:kms" } : {};
      return (
        (await simulate({ principal, action, resource, context }, { identity: identity!, boundary: boundary?.[0] }, bucketPolicy)) ===
        "Allowed"
      );
    };
    expect(await can("plan", "s3:GetObject", object)).toBe(true);
    expect(await can("apply", "s3:PutObject", object)).toBe(true);
    expect(await can("plan", "s3:GetObject", `arn:aws:s3:::${prodBucket}/bootstrap-prod/terraform.tfstate`)).toBe(false);
  });
});

describe("bootstrap layout validation", () => {
  it("rejects a CI environment of another account, and an environment whose state no bootstrap creates", () => {
    expect(validateBootstrap(bootstrap, environments)).toContainEqual(
      `bootstrap: ci.environments[${ciNames.indexOf("prod")}].name = "prod": is in account ${PROD_ACCOUNT}, this stack's is ${ACCOUNT}: list it in the bootstrap stack of its own account`,
    );
    expect(validateBootstrapLayout([shared], environments)).toEqual([
      `prod: state.bucket = "${prodBucket}": no bootstrap stack is in account ${PROD_ACCOUNT}: add one for it (docs/ci-and-state.md: "Prod in its own account")`,
    ]);
    expect(validateBootstrapLayout([shared, { ...prodAccount, state: bootstrap.state }], environments)).toEqual([
      `prod: state.bucket = "${prodBucket}": account ${PROD_ACCOUNT}'s bootstrap stack (bootstrap-prod) creates ${bootstrap.state.bucket} and ${bootstrap.state.lockTable} in ${bootstrap.state.region}`,
    ]);
    expect(validateBootstrapLayout([shared, { ...prodAccount, accountId: ACCOUNT }], ENVIRONMENTS)).toContainEqual(
      `bootstrap-prod: accountId = "${ACCOUNT}": bootstrap already bootstraps this account: one bootstrap stack per account`,
    );
    expect(validateBootstrap({ ...prodAccount, name: "prod-bootstrap" }, environments)).toContainEqual(
      expect.stringMatching(/^prod-bootstrap: name = "prod-bootstrap": must be bootstrap or bootstrap-<suffix>/),
    );
  });

  it("fails the run before anything is written", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "accounts-bad-"));
    const log: string[] = [];
    expect(run({ outdir, environments, bootstraps: [bootstrap], printWarnings: false, log: (l) => log.push(l) })).toBe(1);
    expect(log[0]).toMatch(/^Configuration has 2 problem\(s\); nothing was synthesized:/);
    expect(fs.existsSync(path.join(outdir, "stacks"))).toBe(false);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
