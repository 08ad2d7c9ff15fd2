import { ENVIRONMENT_FILES, ENVIRONMENTS, selectEnvironments, bootstrap } from "../environments";
import { staging } from "../environments/staging";
import type { EnvironmentConfig } from "../environments/schema/types";
import { validateBootstrap, validateEnvironmentList, validateEnvironments } from "../environments/schema/validate";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { environment } from "./support/fixtures";

/** Problems for one changed environment, checked against the real others. */
function problems(patch: Parameters<typeof environment>[0], base = dev): string[] {
  const config = environment(patch, base);
  return validateEnvironments(
    [config],
    ENVIRONMENTS.map((e) => (e.name === config.name ? config : e)),
  );
}

describe("the shipped environments", () => {
  it("are valid", () => {
    expect(validateEnvironments(ENVIRONMENTS)).toEqual([]);
    expect(validateBootstrap(bootstrap, ENVIRONMENTS)).toEqual([]);
  });

  it("are plain data with distinct names", () => {
    const names = ENVIRONMENTS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(JSON.parse(JSON.stringify(ENVIRONMENTS))).toEqual(ENVIRONMENTS);
  });

  it.each(ENVIRONMENTS.filter((e) => e.production && !e.waivers?.multiAz).map((e) => [e.name, e] as const))(
    "%s serves users: a NAT gateway in each of its zones",
    (_name, config) => {
      expect(config.network.natGateways).toBe("per-az");
      expect(config.network.availabilityZones.length).toBeGreaterThanOrEqual(2);
    },
  );
});

describe("selectEnvironments", () => {
  it("selects all by default", () => {
    expect(selectEnvironments(undefined)).toEqual(ENVIRONMENTS);
    expect(selectEnvironments("")).toEqual(ENVIRONMENTS);
  });

  it("selects by comma- or space-separated names, in promotion order", () => {
    expect(selectEnvironments("prod").map((e) => e.name)).toEqual(["prod"]);
    expect(selectEnvironments("prod, dev").map((e) => e.name)).toEqual(["dev", "prod"]);
  });

  it("rejects an unknown name, listing the known ones", () => {
    expect(() => selectEnvironments("prod,nowhere")).toThrow(
      `ENVIRONMENTS names unknown environment(s) "nowhere"; known: ${ENVIRONMENTS.map((e) => e.name).join(", ")}`,
    );
  });
});

type Patch = Parameters<typeof environment>[0];

describe("validateEnvironments rejects, one line per problem naming environment, field and value", () => {
  it.each<[Patch, RegExp]>([
    [{ name: "Dev" }, /^Dev: name = "Dev": must be 1-20 lowercase letters and digits, starting with a letter/],
    [{ project: "x" }, /^dev: project = "x": must be 2-20/],
    [{ name: "ci" }, /^ci: name = "ci": reserved: the CI roles are named [a-z0-9-]+-ci-<env>-\*/],
    [{ region: "europe" }, /^dev: region = "europe": not an AWS region name/],
    [{ accountId: "12345" }, /^dev: accountId = "12345": must be 12 digits/],
    [{ assumeRoleArn: "arn:aws:iam::111111111111:user/me" }, /^dev: assumeRoleArn = .*: not an IAM role ARN/],
    [{ repository: " " }, /^dev: repository = " ": must name the repository/],
    [{ logRetentionDays: 10 }, /^dev: logRetentionDays = 10: CloudWatch Logs accepts only 1, 3, 5, 7/],
    [{ state: { bucket: "Bad_Bucket" } }, /^dev: state.bucket = "Bad_Bucket": not a valid S3 bucket name/],
    [{ state: { lockTable: "x" } }, /^dev: state.lockTable = "x": not a valid DynamoDB table name/],
    [{ network: { vpcCidr: "10.10.0.0/33" } }, /^dev: network.vpcCidr = "10.10.0.0\/33": not an IPv4 CIDR/],
    [{ network: { vpcCidr: "10.10.0.1/16" } }, /^dev: network.vpcCidr = "10.10.0.1\/16": not an IPv4 CIDR with its host bits zero/],
    [{ network: { vpcCidr: "10.0.0.0/8" } }, /^dev: network.vpcCidr = "10.0.0.0\/8": AWS accepts VPC prefix lengths \/16 to \/24/],
    [{ network: { vpcCidr: "10.20.0.0/16" } }, /^dev: network.vpcCidr = "10.20.0.0\/16": overlaps staging's network.vpcCidr 10.20.0.0\/16/],
    [
      { network: { availabilityZones: ["eu-west-2a"] } },
      /^dev: network.availabilityZones = \["eu-west-2a"\]: needs 2 to 4 availability zones/,
    ],
    [{ network: { availabilityZones: ["eu-west-2a"], natGateways: "per-az" } }, /natGateways "per-az" is meant to survive the loss of one/],
    [
      { region: "eu-west-2", network: { availabilityZones: ["eu-west-2a", "us-east-1b"] } },
      /^dev: network.availabilityZones\[1\] = "us-east-1b": not in the environment's region eu-west-2/,
    ],
    [{ network: { availabilityZones: ["eu-west-2a", "eu-west-2a"] } }, /^dev: network.availabilityZones\[1\] = "eu-west-2a": listed twice/],
    [
      { network: { availabilityZones: ["eu-west-2a", "west"] } },
      /^dev: network.availabilityZones\[1\] = "west": not an availability zone name/,
    ],
    [{ network: { flowLogRetentionDays: 0 } }, /^dev: network.flowLogRetentionDays = 0: CloudWatch Logs accepts only/],
    [
      { network: { vpcCidr: "10.10.0.0/24", subnetSizes: { appPrefixLength: 25 } } },
      /^dev: network.vpcCidr = "10.10.0.0\/24": too small for the subnet tiers \(app \/25, public \/28, data \/28, 4 zone slots each\)/,
    ],
    [
      { network: { subnetSizes: { dataPrefixLength: 29 } } },
      /^dev: network.subnetSizes.dataPrefixLength = 29: must be between the VPC's \/16 and \/28/,
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.250.0/24"] } } },
      /^dev: network.subnetCidrs.public = \["10.10.250.0\/24"\]: needs one CIDR per availability zone \(2\)/,
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.250.0/24", "10.99.0.0/24"] } } },
      /^dev: network.subnetCidrs.public\[1\] = "10.99.0.0\/24": does not fit in the VPC 10.10.0.0\/16/,
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.250.0/24", "10.10.250.128/25"] } } },
      /^dev: network.subnetCidrs.public\[1\] = "10.10.250.128\/25": overlaps subnetCidrs.public\[0\] \(10.10.250.0\/24\)/,
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.0.0/24", "10.10.250.0/24"] } } },
      /^dev: network.subnetCidrs.public\[0\] = "10.10.0.0\/24": overlaps the computed app subnet 10.10.0.0\/20/,
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.250.0/24", "10.10.251.0/29"] } } },
      /^dev: network.subnetCidrs.public\[1\] = "10.10.251.0\/29": AWS subnets are \/28 or larger/,
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.250.0/24", "banana"] } } },
      /^dev: network.subnetCidrs.public\[1\] = "banana": not an IPv4 CIDR/,
    ],
    [
      { network: { interfaceEndpoints: ["s3" as never] } },
      /^dev: network.interfaceEndpoints\[0\] = "s3": must be one of "secretsmanager", /,
    ],
    [{ network: { interfaceEndpoints: ["ssm", "ssm"] } }, /^dev: network.interfaceEndpoints\[1\] = "ssm": listed twice/],
    [{ waivers: { multiAz: "because" } }, /^dev: waivers.multiAz = "because": a waiver needs a written reason of at least 10 characters/],
    [
      { waivers: { backups: "we restore from elsewhere" } as never },
      /^dev: waivers.backups = .*: unknown setting; known: deletionProtection, multiAz, backupRetention, pinnedRef, alwaysOn, onDemandBase$/,
    ],
  ])("%j", (patch, message) => {
    expect(problems(patch)).toContainEqual(expect.stringMatching(message));
  });

  it("requires a NAT gateway per zone in production unless waived with a reason", () => {
    expect(problems({ network: { natGateways: "single" } }, prod)).toContainEqual(
      'prod: network.natGateways = "single": a production environment needs multiAz; fix it or add waivers.multiAz with a written reason',
    );
    expect(problems({ network: { natGateways: "single" }, waivers: { multiAz: "single-zone pilot until launch day" } }, prod)).toEqual([]);
  });

  it("requires production to run a pinned commit or tag unless waived with a reason", () => {
    const branch = { compute: { repository: { ...prod.compute.repository, ref: "refs/heads/main", allowBranchRef: true } } };
    expect(problems(branch, prod)).toEqual([
      'prod: compute.repository.ref = "refs/heads/main": a production environment needs a pinned commit or tag (a branch\'s newest commit is fetched at each boot, so instances may run different code); fix it or add waivers.pinnedRef with a written reason',
    ]);
    expect(problems({ ...branch, waivers: { pinnedRef: "launch week: main is deployed on every merge" } }, prod)).toEqual([]);
  });

  it("requires production to keep an instance serving unless waived with a reason", () => {
    const night = { name: "night", recurrence: "0 1 * * *", minCapacity: 0, maxCapacity: 0, desiredCapacity: 0, timeZone: "Europe/London" };
    const message =
      "a production environment needs at least one instance serving at all times (this schedule scales the group to zero); fix it or add waivers.alwaysOn with a written reason";
    expect(problems({ compute: { scheduledActions: [night] } }, prod)).toEqual([
      `prod: compute.scheduledActions[0].minCapacity = 0: ${message}`,
      `prod: compute.scheduledActions[0].maxCapacity = 0: ${message}`,
      `prod: compute.scheduledActions[0].desiredCapacity = 0: ${message}`,
    ]);
    expect(problems({ compute: { minCapacity: 0 } }, prod)).toEqual([
      "prod: compute.minCapacity = 0: a production environment needs at least one instance serving at all times; fix it or add waivers.alwaysOn with a written reason",
    ]);
    expect(
      problems({ compute: { scheduledActions: [night] }, waivers: { alwaysOn: "internal tool, nobody works at night" } }, prod),
    ).toEqual([]);
    // Not production: dev scales to zero every night.
    expect(dev.compute.scheduledActions?.some((a) => a.maxCapacity === 0)).toBe(true);
    expect(problems({}, dev)).toEqual([]);
  });

  it("reports every problem at once, not only the first", () => {
    expect(problems({ accountId: "1", region: "x", logRetentionDays: 2 }).length).toBeGreaterThanOrEqual(3);
  });

  it("refuses a name new-env would refuse: 1-20 lowercase letters and digits, starting with a letter", () => {
    // A hyphen would let one environment's role patterns (<project>-prod-*) match another's roles (<project>-prod-eu-*).
    const rule = "must be 1-20 lowercase letters and digits, starting with a letter";
    for (const name of ["prod-eu", "Prod", "1dev", "a".repeat(21), ""]) {
      expect(
        problems({ name, network: { vpcCidr: "10.98.0.0/16" }, edge: { domainName: "x.app.example.com" } }).filter((l) =>
          l.includes("name = "),
        ),
      ).toContainEqual(expect.stringMatching(new RegExp(`: name = ${JSON.stringify(name)}: ${rule}`)));
    }
    // (A long name may still make AWS names too long with a long project: reported as such, not by this rule.)
    for (const name of ["qa", "prod2", "a".repeat(20)]) {
      expect(
        problems({ name, network: { vpcCidr: "10.98.0.0/16" }, edge: { domainName: "x.app.example.com" } }).filter((l) => l.includes(rule)),
      ).toEqual([]);
    }
    expect(problems({ name: "eu2", network: { vpcCidr: "10.98.0.0/16" }, edge: { domainName: "x.app.example.com" } })).toEqual([]);
  });

  it("rejects two environments with the same name", () => {
    const copy = environment({ network: { vpcCidr: "10.99.0.0/16" } });
    expect(validateEnvironments([dev], [dev, copy])).toContainEqual(
      expect.stringMatching(/^dev: name = "dev": another environment has the same name/),
    );
  });
});

describe("validateBootstrap", () => {
  it("rejects bad state settings and retention", () => {
    expect(
      validateBootstrap(
        { ...bootstrap, accountId: "x", noncurrentVersionRetentionDays: 0, state: { ...bootstrap.state, bucket: "UPPER" } },
        ENVIRONMENTS,
      ),
    ).toEqual([
      'bootstrap: accountId = "x": must be 12 digits',
      'bootstrap: state.bucket = "UPPER": not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)',
      "bootstrap: noncurrentVersionRetentionDays = 0: must be a whole number of days, at least 1",
    ]);
  });
});

describe("cross-environment collisions, naming the files", () => {
  /** The shipped files plus environments/qa.ts holding `qa`. */
  const withQa = (qa: unknown) => {
    const shipped = Object.entries(ENVIRONMENT_FILES).filter(([file]) => file !== "environments/qa.ts");
    const files = { ...Object.fromEntries(shipped), "environments/qa.ts": qa };
    return { files, known: Object.values(files) as EnvironmentConfig[] };
  };
  const qaOf = (patch: Parameters<typeof environment>[0]) =>
    environment(
      patch,
      environment({ name: "qa", network: { vpcCidr: "10.99.0.0/16" }, edge: { domainName: `qa.${staging.edge.domainName}` } }, staging),
    );

  it("a copied file that still exports the old constant leaves a hole in the list: reported, not a TypeError", () => {
    const { files, known } = withQa(undefined);
    const line =
      `environments: ENVIRONMENTS[${known.length - 1}] = (unset): environments/index.ts imports from environments/qa.ts a constant it does not export ` +
      "(a copied file still exporting the name it was copied from?): export the environment under the name index.ts imports";
    expect(validateEnvironmentList(known, files)).toEqual([line]);
    expect(validateEnvironments(known, known, files)).toEqual([line]);
    expect(validateEnvironments([undefined as never])).toEqual([
      "environments: ENVIRONMENTS[0] = (unset): not an environment: does environments/index.ts import a constant its file does not export?",
    ]);
    expect(validateEnvironmentList(ENVIRONMENTS, ENVIRONMENT_FILES)).toEqual([]);
  });

  it("a copied environment whose name was not changed", () => {
    const { files, known } = withQa(qaOf({ name: "staging" }));
    expect(
      validateEnvironments(known, known, files)
        .filter((l) => l.includes("same name"))
        .sort(),
    ).toEqual([
      'staging: name = "staging": another environment has the same name (environments/qa.ts; this one is environments/staging.ts: a copied file whose name was not changed?)',
      'staging: name = "staging": another environment has the same name (environments/staging.ts; this one is environments/qa.ts: a copied file whose name was not changed?)',
    ]);
  });

  it("two environments serving the same domain name, or one's alternative name", () => {
    const domain = staging.edge.domainName;
    const { files, known } = withQa(qaOf({ edge: { domainName: domain } }));
    expect(validateEnvironments(known, known, files).sort()).toEqual([
      `qa: edge.domainName = "${domain}": staging (environments/staging.ts) serves it too (edge.domainName): the second stack's DNS records and certificate validation collide`,
      `staging: edge.domainName = "${domain}": qa (environments/qa.ts) serves it too (edge.domainName): the second stack's DNS records and certificate validation collide`,
    ]);
    const alternative = qaOf({ edge: { alternativeNames: [domain] } });
    expect(validateEnvironments([alternative], [...ENVIRONMENTS.filter((e) => e.name !== "qa"), alternative])).toEqual([
      `qa: edge.alternativeNames[0] = "${domain}": staging serves it too (edge.domainName): the second stack's DNS records and certificate validation collide`,
    ]);
  });

  it("an overlapping VPC names the other environment's file", () => {
    const { files, known } = withQa(qaOf({ network: { vpcCidr: "10.20.0.0/16" } }));
    expect(validateEnvironments(known, known, files)).toContainEqual(
      'qa: network.vpcCidr = "10.20.0.0/16": overlaps staging (environments/staging.ts)\'s network.vpcCidr 10.20.0.0/16',
    );
  });
});

describe("values that build something AWS refuses, or that cannot work", () => {
  it.each([
    [
      { network: { vpcCidr: "10.10.0.0/24" } },
      'dev: network.vpcCidr = "10.10.0.0/24": gives /28 public subnets; the load balancer needs /27 or larger (at least 8 free addresses per zone): set subnetSizes.publicPrefixLength to 27 or use a larger VPC',
    ],
    [
      { network: { vpcCidr: "10.10.0.0/22", subnetSizes: { publicPrefixLength: 28 } } },
      "dev: network.subnetSizes.publicPrefixLength = 28: makes /28 public subnets; the load balancer needs /27 or larger (at least 8 free addresses per zone): use a smaller prefix length",
    ],
    [
      { network: { subnetCidrs: { public: ["10.10.64.0/24", "10.10.65.0/28"] } } },
      'dev: network.subnetCidrs.public[1] = "10.10.65.0/28": the load balancer needs /27 or larger public subnets',
    ],
    [{ tags: { "aws:team": "web" } }, 'dev: tags.aws:team = "web": tag keys starting with aws: are reserved for AWS'],
    [{ tags: { "AWS:cost": "x" } }, 'dev: tags.AWS:cost = "x": tag keys starting with aws: are reserved for AWS'],
    [
      { tags: { Environment: "qa" } },
      'dev: tags.Environment = "qa": set by the platform on every resource (Project, Environment, ManagedBy, Repository); choose another key',
    ],
    [{ tags: { Team: "x".repeat(257) } }, expect.stringMatching(/^dev: tags\.Team = "x+": tag values are at most 256 characters$/)],
    [
      { network: { natGateways: "none", interfaceEndpoints: ["secretsmanager", "ssm", "logs"] } },
      'dev: network.natGateways = "none": app instances need a NAT gateway: the boot clones the app from its git host on the Internet (no route without NAT) and calls the Auto Scaling API (no interface endpoint); use "single" or "per-az"',
    ],
    [
      { compute: { scaling: { targetCpuPercent: 0.7 } } },
      "dev: compute.scaling.targetCpuPercent = 0.7: must be a percentage from 10 to 100: a fleet rarely averages below 10% even idle, so a lower target keeps the group at its maximum",
    ],
  ])("%j", (patch, line) => {
    expect(problems(patch as Parameters<typeof environment>[0])).toEqual([line]);
  });

  it("accepts a small VPC whose public subnets are /27", () => {
    expect(problems({ network: { vpcCidr: "10.10.0.0/23", subnetSizes: { publicPrefixLength: 27 } } })).toEqual([]);
  });
});
