// Prod in its own account: a second bootstrap stack gives that account its own state bucket, lock table,
// state key, audit trail, permissions boundary and CI roles, and nothing of one account reaches the other.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bootstrap, ENVIRONMENTS } from "../environments";
import type { BootstrapConfig, EnvironmentConfig } from "../environments/types";
import { validateBootstrap, validateBootstrapLayout } from "../environments/validate";
import { run } from "../main";
import { environment } from "./support/fixtures";
import { allowedBy } from "./support/policy-evaluator";
import { policySets, StackIam } from "./support/iam";
import { Json, resourceList } from "./support/synth";

const PROD_ACCOUNT = "222222222222";
const prodState = { ...bootstrap.state, bucket: `webapp-tfstate-${PROD_ACCOUNT}` };
const environments: EnvironmentConfig[] = ENVIRONMENTS.map((e) => (e.name === "prod" ? environment({ accountId: PROD_ACCOUNT, state: prodState }, e) : e));
const shared: BootstrapConfig = { ...bootstrap, ci: { ...bootstrap.ci!, environments: [{ name: "dev" }, { name: "staging" }] } };
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
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["bootstrap", "bootstrap-prod", "dev", "prod", "staging"]);
    expect(stack("bootstrap").provider.aws[0].allowed_account_ids).toEqual(["111111111111"]);
    expect(stack("bootstrap-prod").provider.aws[0].allowed_account_ids).toEqual([PROD_ACCOUNT]);
    expect(stack("bootstrap-prod").terraform.backend).toEqual({ local: { path: "../../../terraform.bootstrap-prod.tfstate" } });
  });

  it("gives each account its own bucket, key, trail, boundaries and CI roles", () => {
    const b = stack("bootstrap");
    const p = stack("bootstrap-prod");
    expect(resourceList(p, "aws_s3_bucket").map((x) => x.bucket).sort()).toEqual([`webapp-tfstate-${PROD_ACCOUNT}`, `webapp-tfstate-${PROD_ACCOUNT}-audit`]);
    expect(resourceList(p, "aws_kms_alias").map((x) => x.name)).toContain(`alias/webapp-tfstate-${PROD_ACCOUNT}-state`);
    expect(resourceList(p, "aws_cloudtrail")).toHaveLength(1);
    expect(resourceList(p, "aws_iam_policy").map((x) => x.name).sort()).toEqual(["webapp-boundary-prod", "webapp-ci-prod-apply"]);
    expect(resourceList(b, "aws_iam_policy").map((x) => x.name).sort()).toEqual([
      "webapp-boundary-dev", "webapp-boundary-staging", "webapp-ci-dev-apply", "webapp-ci-staging-apply",
    ]);
    expect(resourceList(p, "aws_iam_role").map((x) => x.name).sort()).toEqual(["webapp-ci-prod-apply", "webapp-ci-prod-plan"]);
    expect(resourceList(p, "aws_iam_openid_connect_provider")).toHaveLength(1);
    expect(JSON.stringify(p)).not.toMatch(/111111111111/);
    expect(JSON.stringify(b)).not.toMatch(new RegExp(PROD_ACCOUNT));
  });

  it("points prod's backend at its own account's bucket and state key", () => {
    expect(stack("prod").terraform.backend.s3).toEqual(
      expect.objectContaining({ bucket: `webapp-tfstate-${PROD_ACCOUNT}`, kms_key_id: `arn:aws:kms:eu-west-2:${PROD_ACCOUNT}:alias/webapp-tfstate-${PROD_ACCOUNT}-state` }),
    );
    expect(stack("prod").provider.aws[0].allowed_account_ids).toEqual([PROD_ACCOUNT]);
    expect(JSON.stringify(stack("prod"))).toContain(`arn:aws:iam::${PROD_ACCOUNT}:policy/webapp-boundary-prod`);
  });

  it("lets prod's roles use prod's state only", () => {
    const iam: StackIam = { json: stack("bootstrap-prod"), region: "eu-west-2", accountId: PROD_ACCOUNT };
    const object = `arn:aws:s3:::webapp-tfstate-${PROD_ACCOUNT}/environments/prod/terraform.tfstate`;
    expect(allowedBy({ action: "s3:GetObject", resource: object }, ...policySets(iam, "webapp-ci-prod-plan"))).toBe(true);
    expect(allowedBy({ action: "s3:PutObject", resource: object }, ...policySets(iam, "webapp-ci-prod-apply"))).toBe(true);
    expect(allowedBy({ action: "s3:GetObject", resource: `arn:aws:s3:::webapp-tfstate-${PROD_ACCOUNT}/bootstrap-prod/terraform.tfstate` }, ...policySets(iam, "webapp-ci-prod-plan"))).toBe(false);
  });
});

describe("bootstrap layout validation", () => {
  it("rejects a CI environment of another account, and an environment whose state no bootstrap creates", () => {
    expect(validateBootstrap(bootstrap, environments)).toContainEqual(
      'bootstrap: ci.environments[2].name = "prod": is in account 222222222222, this stack\'s is 111111111111: list it in the bootstrap stack of its own account',
    );
    expect(validateBootstrapLayout([shared], environments)).toEqual([
      'prod: state.bucket = "webapp-tfstate-222222222222": no bootstrap stack is in account 222222222222: add one for it (README: "Prod in its own account")',
    ]);
    expect(validateBootstrapLayout([shared, { ...prodAccount, state: bootstrap.state }], environments)).toEqual([
      "prod: state.bucket = \"webapp-tfstate-222222222222\": account 222222222222's bootstrap stack (bootstrap-prod) creates webapp-tfstate-111111111111 and webapp-tfstate-locks in eu-west-2",
    ]);
    expect(validateBootstrapLayout([shared, { ...prodAccount, accountId: "111111111111" }], ENVIRONMENTS)).toContainEqual(
      'bootstrap-prod: accountId = "111111111111": bootstrap already bootstraps this account: one bootstrap stack per account',
    );
    expect(validateBootstrap({ ...prodAccount, name: "prod-bootstrap" }, environments)).toContainEqual(expect.stringMatching(/^prod-bootstrap: name = "prod-bootstrap": must be bootstrap or bootstrap-<suffix>/));
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
