// Names made from an environment's settings: the list in modules/rules/aws-names.ts covers every such name the
// stacks synthesize (checked against real synthesized stacks), and the validator refuses each name AWS would.
import { ENVIRONMENTS } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import type { EnvironmentConfig } from "../environments/schema/types";
import { validateEnvironments } from "../environments/schema/validate";
import { derivedNameProblem, derivedNames, hasRule, UNCONSTRAINED_ATTRIBUTES } from "../modules/rules/aws-names";
import { namePrefix } from "../modules/primitives/naming";
import { environment } from "./support/fixtures";
import { Json, synthEnvironment } from "./support/synth";

/** Attributes that hold documents or prose, or repeat a name defined by another resource. */
const NOT_NAMES = [
  /\.(policy|assume_role_policy|description|event_pattern|dashboard_body|user_data|for_each)$/,
  /^aws_route53_record\./, // the served names, checked as the certificate's
  /\.dimensions\.[A-Za-z]+$/, // the group's or a resource's own name, repeated as a metric dimension
  /\.\/\/\./, // cdktf's metadata
];

/** Every string a synthesized stack's resources hold that is made from `config`'s names: `[attribute, value]`. */
function madeFromSettings(json: Json, config: EnvironmentConfig): [string, string][] {
  const prefix = namePrefix(config.project, config.name);
  const served = [config.edge.domainName, ...(config.edge.alternativeNames ?? [])];
  const found: [string, string][] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === "string") {
      if ((value.includes(prefix) || served.includes(value)) && !NOT_NAMES.some((re) => re.test(path))) found.push([path, value]);
    } else if (Array.isArray(value)) {
      value.forEach((item) => walk(item, `${path}.[]`));
    } else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`);
    }
  };
  for (const [type, resources] of Object.entries(json.resource as Record<string, Record<string, unknown>>)) {
    for (const body of Object.values(resources)) walk(body, type);
  }
  return found;
}

// Between them: endpoints, WAF, a request-count policy, schedules, three zones, NAT per zone or single, MySQL.
const variants: [string, EnvironmentConfig][] = [
  ...ENVIRONMENTS.map((e) => [e.name, e] as [string, EnvironmentConfig]),
  [
    "prod on MySQL with six cache nodes",
    environment({ database: { engine: "mysql", engineVersion: "8.0", instanceClass: "db.m7g.large" }, cache: { nodeCount: 6 } }, prod),
  ],
];

describe.each(variants)("every name the %s stack makes from its settings", (_name, config) => {
  const { json } = synthEnvironment(config);
  const listed = new Set(derivedNames(config).map((n) => `${n.attribute}=${n.value}`));

  it("is in the checked list (modules/rules/aws-names.ts)", () => {
    const found = madeFromSettings(json, config);
    expect(found.length).toBeGreaterThan(50);
    expect(found.filter(([attribute, value]) => !listed.has(`${attribute}=${value}`))).toEqual([]);
  });
});

describe("the checked list", () => {
  it("has a rule for every attribute but the few no source constrains", () => {
    const attributes = new Set(variants.flatMap(([, config]) => derivedNames(config).map((n) => n.rulesOf ?? n.attribute)));
    expect([...attributes].filter((a) => !hasRule(a))).toEqual(UNCONSTRAINED_ATTRIBUTES);
  });

  it("passes for the shipped environments", () => {
    for (const config of ENVIRONMENTS) expect(derivedNames(config).filter((n) => derivedNameProblem(n) !== undefined)).toEqual([]);
  });
});

function problems(patch: Parameters<typeof environment>[0], base = dev): string[] {
  const config = environment(patch, base);
  return validateEnvironments(
    [config],
    ENVIRONMENTS.map((e) => (e.name === config.name ? config : e)),
  );
}

describe("names AWS would refuse, made from valid settings, are refused before apply", () => {
  it("a load balancer name beginning with internal-", () => {
    expect(problems({ project: "internal" })).toEqual([
      'dev: project = "internal": makes the load balancer\'s name "internal-dev-alb" (aws_lb.name), which AWS refuses: a load balancer name may not begin with "internal-"',
    ]);
  });

  it("a load balancer name over 32 characters, and a cache id over 40", () => {
    const elsewhere = { network: { vpcCidr: "10.250.0.0/16" }, edge: { domainName: "eu.app.example.com" } };
    expect(problems({ project: "platform-webstore", name: "stagingeu12", ...elsewhere })).toEqual([
      'stagingeu12: name = "stagingeu12": makes the load balancer\'s name "platform-webstore-stagingeu12-alb" (aws_lb.name from project "platform-webstore" and name), which AWS refuses: load balancer names are 1-32 characters (this one has 33)',
    ]);
    expect(problems({ project: "platform-webstore-eu", name: "stagingbluegreen", ...elsewhere })).toEqual(
      expect.arrayContaining([
        'stagingbluegreen: name = "stagingbluegreen": makes the cache\'s replication group id "platform-webstore-eu-stagingbluegreen-cache" (aws_elasticache_replication_group.replication_group_id from project "platform-webstore-eu" and name), which AWS refuses: replication group ids are 1-40 characters (this one has 43)',
      ]),
    );
  });

  it("two hyphens in a row in RDS and ElastiCache identifiers", () => {
    const lines = problems({ project: "shop-" });
    expect(lines).toEqual(
      expect.arrayContaining([
        'dev: project = "shop-": makes the database\'s identifier "shop--dev-db" (aws_db_instance.identifier), which AWS refuses: does not match AWS\'s pattern ^$|^[a-zA-Z]{1}(?:-?[a-zA-Z0-9]){0,62}$ (CloudFormation AWS::RDS::DBInstance.DBInstanceIdentifier)',
        'dev: project = "shop-": makes the cache\'s replication group id "shop--dev-cache" (aws_elasticache_replication_group.replication_group_id), which AWS refuses: contains two consecutive hyphens, which AWS refuses here',
      ]),
    );
    expect(lines.every((l) => l.startsWith('dev: project = "shop-": makes '))).toBe(true);
    // The environment's name holds no hyphen (environments/schema/validate.ts), so only the project can make one of these.
    expect(problems({ name: "dev-", network: { vpcCidr: "10.250.0.0/16" }, edge: { domainName: "x.app.example.com" } })).toEqual([
      expect.stringMatching(/^dev-: name = "dev-": must be 1-20 lowercase letters and digits, starting with a letter/),
    ]);
  });

  it("a security group name beginning with sg-, and a bucket beginning with xn--", () => {
    expect(problems({ project: "sg-shop" })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^dev: project = "sg-shop": makes the alb security group's name "sg-shop-dev-alb" \(aws_security_group.name\), which AWS refuses: a security group name may not begin with "sg-"$/,
        ),
      ]),
    );
    expect(problems({ project: "xn--shop" })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `makes the access-log bucket's name "xn--shop-dev-alb-logs-${dev.accountId}" .*a bucket name may not begin with xn--$`,
          ),
        ),
      ]),
    );
  });

  it("a first certificate name over 64 characters, and a Name tag over 256", () => {
    const long = `${"a".repeat(60)}.example.com`;
    expect(problems({ edge: { domainName: long } })).toEqual([
      `dev: edge.domainName = "${long}": makes the certificate's first name "${long}" (aws_acm_certificate.domain_name), which AWS refuses: ACM's first domain name is at most 64 characters (this one has 72); make a shorter name the domainName and put this one in alternativeNames`,
    ]);
    const longest = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`;
    const tag = `${namePrefix(dev.project, dev.name)}-${longest}`;
    expect(problems({ edge: { domainName: longest } })).toContainEqual(
      `dev: edge.domainName = "${longest}": makes the certificate's Name tag "${tag}" (aws_acm_certificate.tags.Name), which AWS refuses: longer than the 256 characters AWS allows (botocore acm Tag.Value; this one has ${tag.length})`,
    );
  });

  it("tag values outside the character set some services allow", () => {
    expect(problems({ tags: { CostCentre: "R&D" } })).toEqual([
      expect.stringMatching(
        /^dev: tags.CostCentre = "R&D": the tag value "R&D" goes on every resource, and acm, efs, elbv2, iam, logs refuse it: does not match AWS's pattern .*\(botocore acm Tag.Value\)$/,
      ),
    ]);
    expect(problems({ repository: "https://github.com/example-org/infra?ref=main" })).toEqual([
      expect.stringMatching(
        /^dev: repository = "https:\/\/github.com\/example-org\/infra\?ref=main": the tag value .* goes on every resource, and acm, efs, elbv2, iam, logs refuse it/,
      ),
    ]);
    expect(problems({ tags: { "Cost Centre": "R and D: web/app" } })).toEqual([]);
  });
});
