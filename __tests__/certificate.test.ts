import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Certificate, CertificateProps, checkCertificateSettings, dnsNameProblem, isUnderZone } from "../modules/certificate";
import { Problems } from "../modules/primitives/validation";
import { validateEnvironments } from "../environments/schema/validate";
import { ENVIRONMENTS } from "../environments";
import { environment } from "./support/fixtures";
import { Json, resourceList, resources, synthConstruct, synthEnvironment } from "./support/synth";

const zone = { id: "Z0EXAMPLE00000000TEST", name: "example.com" };
const props: CertificateProps = { namePrefix: "webapp-test", domainName: "app.example.com" };
const target = { dnsName: "alb-123.eu-west-2.elb.amazonaws.com", zoneId: "ZHURV8PSTC4K8" };

const build = (overrides: Partial<CertificateProps> = {}) =>
  synthConstruct((scope) => {
    const certificate = new Certificate(scope, "certificate", { ...props, ...overrides });
    certificate.routeTo(target);
  });

function problemsOf(settings: Partial<CertificateProps>): string[] {
  const problems = Problems.create();
  checkCertificateSettings({ ...props, ...settings }, problems);
  return problems.list.map((p) => `${p.path}: ${p.message}`);
}

const envs = Object.fromEntries(ENVIRONMENTS.map((e) => [e.name, synthEnvironment(e).json]));

describe("certificate, external DNS", () => {
  const { text, json } = build({ alternativeNames: ["www.app.example.com", "*.app.example.com"] });

  it("requests a DNS-validated certificate for the domain and its alternative names", () => {
    expect(text).toHaveResourceWithProperties(AcmCertificate, {
      domain_name: "app.example.com",
      subject_alternative_names: ["www.app.example.com", "*.app.example.com"],
      validation_method: "DNS",
      key_algorithm: "RSA_2048",
      lifecycle: { create_before_destroy: true },
    });
  });

  it("creates no Route 53 resource", () => {
    expect(resourceList(json, "aws_route53_record")).toHaveLength(0);
  });

  it("still waits for issuance, with no record FQDNs of its own", () => {
    const validation = resourceList(json, "aws_acm_certificate_validation");
    expect(validation).toHaveLength(1);
    expect(validation[0]?.certificate_arn).toMatch(/^\$\{aws_acm_certificate\.\S+\.arn\}$/);
    expect(validation[0]?.validation_record_fqdns).toBeUndefined();
  });
});

describe("certificate, Route 53 hosted zone", () => {
  const { text, json } = build({ alternativeNames: ["www.app.example.com", "*.app.example.com"], hostedZone: zone });

  it("publishes one validation record per name on the certificate, overwriting the shared wildcard record", () => {
    const [record] = resourceList(json, "aws_route53_record").filter((r) => r.for_each);
    expect(record).toMatchObject({ zone_id: zone.id, allow_overwrite: true });
    for (const [attribute, value] of [
      ["name", record?.name],
      ["type", record?.type],
      ["records", (record?.records as string[])[0]],
    ]) {
      expect(value).toMatch(
        new RegExp(
          `domain_validation_options.*val\\.domain_name => val.*\\[each\\.value\\]\\.resource_record_${attribute === "records" ? "value" : attribute}\\}$`,
        ),
      );
    }
  });

  it("keys the validation records by the names, known before the certificate exists (a for_each over its validation options is not)", () => {
    const [record] = resourceList(json, "aws_route53_record").filter((r) => r.for_each);
    expect(record?.for_each).toBe('${toset(["app.example.com", "www.app.example.com", "*.app.example.com"])}');
  });

  it("waits for issuance on exactly those records", () => {
    expect(text).toHaveResourceWithProperties(AcmCertificateValidation, {
      validation_record_fqdns: expect.stringMatching(/aws_route53_record\.\S*validation-record\S*: val\.fqdn\]/),
    });
  });

  it("aliases the domain and its non-wildcard names to the load balancer (A records)", () => {
    expect(text).toHaveResourceWithProperties(Route53Record, {
      zone_id: zone.id,
      name: "app.example.com",
      type: "A",
      alias: { name: target.dnsName, zone_id: target.zoneId, evaluate_target_health: true },
    });
    const aliases = resourceList(json, "aws_route53_record").filter((r) => r.alias);
    expect(aliases.map((r) => r.name).sort()).toEqual(["app.example.com", "www.app.example.com"]);
    for (const alias of aliases) {
      expect(alias).toMatchObject({
        type: "A",
        zone_id: zone.id,
        alias: { name: target.dnsName, zone_id: target.zoneId, evaluate_target_health: true },
      });
    }
  });

  it("replaces a name's existing A record at the cut-over instead of failing on it", () => {
    for (const alias of resourceList(json, "aws_route53_record").filter((r) => r.alias)) expect(alias.allow_overwrite).toBe(true);
  });
});

describe("certificate per environment", () => {
  const records = (json: Json) => Object.values(resources(json, "aws_route53_record"));

  it.each(ENVIRONMENTS.filter((e) => !e.edge.hostedZone).map((e) => [e.name, e] as const))(
    "%s (external DNS) has no Route 53 record and outputs the exact validation records and the CNAME target",
    (name, config) => {
      const json = envs[name]!;
      expect(records(json)).toHaveLength(0);
      const certificate = Object.keys(resources(json, "aws_acm_certificate"))[0];
      expect(json.output.certificate_validation_records.value).toBe(
        `\${distinct([ for key, val in { for key, val in tolist(aws_acm_certificate.${certificate}.domain_validation_options): val.domain_name => val }: ` +
          "{ name = val.resource_record_name, type = val.resource_record_type, value = val.resource_record_value }])}",
      );
      expect(json.output.alb_dns_name.value).toMatch(/^\$\{aws_lb\.\S+\.dns_name\}$/);
      expect(json.output.app_url.value).toBe(`https://${config.edge.domainName}`);
    },
  );

  it.each(ENVIRONMENTS.filter((e) => e.edge.hostedZone).map((e) => [e.name, e] as const))(
    "%s (hosted zone) validates in Route 53 and aliases its names, with no validation-record output",
    (name, config) => {
      const json = envs[name]!;
      const all = records(json);
      expect(all.filter((r) => r.for_each)).toHaveLength(1);
      const aliased = [config.edge.domainName, ...(config.edge.alternativeNames ?? [])].filter((n) => !n.startsWith("*.")).sort();
      expect(
        all
          .filter((r) => r.alias)
          .map((r) => r.name)
          .sort(),
      ).toEqual(aliased);
      expect(json.output.certificate_validation_records).toBeUndefined();
      expect(json.output.app_url.value).toBe(`https://${config.edge.domainName}`);
    },
  );

  it("the HTTPS listener uses the validated certificate, so it waits for issuance", () => {
    for (const json of Object.values(envs)) {
      const [listener] = resourceList(json, "aws_lb_listener").filter((l) => l.protocol === "HTTPS");
      expect(listener?.certificate_arn).toMatch(/^\$\{aws_acm_certificate_validation\.\S+\.certificate_arn\}$/);
    }
  });
});

describe("DNS name rules", () => {
  it.each(["app.example.com", "a-b.example.co.uk", "x1.example.io"])("accepts %s", (name) => {
    expect(dnsNameProblem(name, false)).toBeUndefined();
  });

  it("accepts a wildcard only as the whole leftmost label, where allowed", () => {
    expect(dnsNameProblem("*.app.example.com", true)).toBeUndefined();
    expect(dnsNameProblem("*.app.example.com", false)).toMatch(/no wildcard here/);
    expect(dnsNameProblem("*app.example.com", true)).toMatch(/whole leftmost label/);
    expect(dnsNameProblem("app.*.example.com", true)).toMatch(/whole leftmost label/);
    expect(dnsNameProblem("*.*.example.com", true)).toMatch(/whole leftmost label/);
    expect(dnsNameProblem("*.com", true)).toMatch(/at least two labels after it/);
  });

  it.each([
    ["", /must not be empty/],
    ["App.example.com", /lowercase/],
    ["app.example.com.", /trailing dot/],
    ["localhost", /at least two labels/],
    ["-app.example.com", /label "-app"/],
    ["app_1.example.com", /label "app_1"/],
    [`${"a".repeat(64)}.example.com`, /1-63/],
    ["app..example.com", /label ""/],
    ["app.example.123", /all digits/],
    [`${"abcdefghi.".repeat(26)}com`, /longer than 253/],
  ])("rejects %j", (name, message) => {
    expect(dnsNameProblem(name, true)).toMatch(message);
  });

  it("knows which names are under a zone", () => {
    expect(isUnderZone("app.example.com", "example.com")).toBe(true);
    expect(isUnderZone("example.com", "example.com.")).toBe(true);
    expect(isUnderZone("*.app.example.com", "example.com")).toBe(true);
    expect(isUnderZone("app.badexample.com", "example.com")).toBe(false);
    expect(isUnderZone("app.example.org", "example.com")).toBe(false);
  });
});

describe("certificate settings rejections", () => {
  it("accepts a zone given with a trailing dot", () => {
    expect(problemsOf({ hostedZone: { id: zone.id, name: "example.com." } })).toEqual([]);
  });

  it("reports duplicates, the domain repeated, and too many names", () => {
    expect(problemsOf({ alternativeNames: ["www.app.example.com", "www.app.example.com"] })).toContainEqual(
      "alternativeNames[1]: listed twice",
    );
    expect(problemsOf({ alternativeNames: ["app.example.com"] })).toContainEqual("alternativeNames[0]: repeats domainName");
    const many = Array.from({ length: 100 }, (_, i) => `n${i}.example.com`);
    expect(problemsOf({ alternativeNames: many })).toContainEqual(expect.stringMatching(/^alternativeNames: ACM allows at most 100 names/));
  });

  it("rejects a bad hosted zone id or name", () => {
    expect(problemsOf({ hostedZone: { id: "zone-1", name: "example.com" } })).toContainEqual(
      expect.stringMatching(/^hostedZone.id: not a Route 53 hosted zone id/),
    );
    expect(problemsOf({ hostedZone: { id: zone.id, name: "*.example.com" } })).toContainEqual(
      expect.stringMatching(/^hostedZone.name: no wildcard/),
    );
  });

  it("rejects, in the validator, an invalid domain, an invalid SAN and names outside the zone", () => {
    const lines = validateEnvironments([
      environment({
        edge: { domainName: "App.example.com", alternativeNames: ["app.*.example.com"] },
      }),
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/^dev: edge\.domainName = "App\.example\.com": use lowercase/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^dev: edge\.alternativeNames\[0\] = "app\.\*\.example\.com": a wildcard may only be the whole leftmost label/),
    );

    const outside = validateEnvironments([
      environment({
        edge: { domainName: "app.example.org", alternativeNames: ["www.example.com", "www.other.net"], hostedZone: zone },
      }),
    ]);
    expect(outside).toContainEqual(
      expect.stringMatching(/^dev: edge\.domainName = "app\.example\.org": not in the hosted zone example\.com$/),
    );
    expect(outside).toContainEqual(
      expect.stringMatching(/^dev: edge\.alternativeNames\[1\] = "www\.other\.net": not in the hosted zone example\.com/),
    );
    expect(outside.filter((l) => l.includes("alternativeNames[0]"))).toEqual([]);
  });

  it("a wildcard app domain is rejected by the construct with the construct path", () => {
    expect(() => build({ domainName: "*.example.com" })).toThrow(/test\/certificate: domainName = "\*\.example\.com": no wildcard here/);
  });

  it("a SAN outside the zone is rejected by the construct", () => {
    expect(() => build({ hostedZone: zone, alternativeNames: ["www.example.net"] })).toThrow(
      /alternativeNames\[0\] = "www\.example\.net": not in the hosted zone example\.com/,
    );
  });

  it("the shipped environments pass", () => {
    expect(validateEnvironments(ENVIRONMENTS).filter((l) => l.includes(": edge."))).toEqual([]);
  });
});
