import { ENVIRONMENTS } from "../environments";
import { validateEnvironments } from "../environments/schema/validate";
import { environment } from "./support/fixtures";
import { Json, synthEnvironment } from "./support/synth";

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the %s stack", (name, config) => {
  const { json } = synthEnvironment(config);

  it("is valid Terraform JSON by cdktf's own checks", () => {
    expect(json.resource).toBeDefined();
  });

  it("refuses to run against any other account and tags everything", () => {
    expect(json.provider.aws).toEqual([
      expect.objectContaining({
        region: config.region,
        allowed_account_ids: [config.accountId],
        default_tags: [{ tags: { Project: config.project, Environment: name, ManagedBy: "cdktf", Repository: config.repository } }],
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

describe("edge.routeTraffic", () => {
  const zone = { id: "Z0123456789ABCDEFGHIJ", name: "example.com" };
  const aliases = (routeTraffic: boolean) => {
    const { json } = synthEnvironment(environment({ edge: { domainName: "app.example.com", hostedZone: zone, routeTraffic } }));
    return Object.values(
      (json.resource.aws_route53_record ?? {}) as Record<string, { type: string; name: string; alias?: unknown }>,
    ).filter((r) => r.alias);
  };

  it("points the app's names at the load balancer when on", () => {
    expect(aliases(true).map((r) => [r.type, r.name])).toEqual([["A", "app.example.com"]]);
  });

  it("leaves the names' records alone until the cut-over when off (certificate validation records still created)", () => {
    expect(aliases(false)).toEqual([]);
    const { json } = synthEnvironment(environment({ edge: { domainName: "app.example.com", hostedZone: zone, routeTraffic: false } }));
    expect(Object.keys(json.resource.aws_route53_record ?? {}).length).toBeGreaterThan(0);
  });

  it("must be stated", () => {
    const edge: Record<string, unknown> = { ...environment().edge };
    delete edge.routeTraffic;
    expect(validateEnvironments([{ ...environment(), edge: edge as never }])).toEqual(["dev: edge.routeTraffic = (unset): required"]);
  });
});

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("the %s instance refresh", (_name, config) => {
  const { json } = synthEnvironment(config);

  it("rolls back by itself when an app alarm fires during the rollout", () => {
    const [group] = Object.values(json.resource.aws_autoscaling_group as Record<string, Json>);
    const alarms = json.resource.aws_cloudwatch_metric_alarm as Record<string, Json>;
    expect(group?.instance_refresh.preferences.auto_rollback).toBe(true);
    const referenced = (group?.instance_refresh.preferences.alarm_specification.alarms as string[]).map((ref) => {
      const key = /^\$\{aws_cloudwatch_metric_alarm\.([\w-]+)\.alarm_name\}$/.exec(ref)?.[1] ?? "";
      return alarms[key]?.alarm_name;
    });
    expect(referenced).toEqual(
      ["target-5xx-rate", "unhealthy-hosts", "boot-failures", "launch-abandoned"].map((id) => `${config.project}-${config.name}-${id}`),
    );
  });
});
