import { ENVIRONMENTS } from "../environments";
import { environment } from "./support/fixtures";
import { synthEnvironment } from "./support/synth";

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the %s stack", (name, config) => {
  const { json } = synthEnvironment(config);

  it("is valid Terraform JSON by cdktf's own checks", () => {
    expect(json.resource).toBeDefined();
  });

  it("refuses to run against any other account and tags everything", () => {
    expect(json.provider.aws).toEqual([
      expect.objectContaining({
        region: "eu-west-2",
        allowed_account_ids: ["111111111111"],
        default_tags: [{ tags: { Project: "webapp", Environment: name, ManagedBy: "cdktf", Repository: config.repository } }],
      }),
    ]);
  });

  it("pins the AWS provider the bindings were built for", () => {
    expect(json.terraform.required_providers.aws).toEqual({ source: "aws", version: "6.25.0" });
  });
});

describe("provider options", () => {
  it("assumes the environment's role when one is given", () => {
    const roleArn = "arn:aws:iam::222222222222:role/deploy";
    const { json } = synthEnvironment(environment({ assumeRoleArn: roleArn }));
    expect(json.provider.aws[0].assume_role).toEqual([{ role_arn: roleArn, session_name: "cdktf" }]);
  });

  it("keeps the standard tags when extra tags try to override them", () => {
    const { json } = synthEnvironment(environment({ tags: { Environment: "oops", CostCentre: "42" } }));
    expect(json.provider.aws[0].default_tags[0].tags).toEqual(expect.objectContaining({ Environment: "dev", CostCentre: "42" }));
  });
});
