// Rules that link settings (modules/rules/linked-settings.ts), the risky combinations that warn, and how a warning
// reaches synth's output and its acknowledgement.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { validateEnvironments } from "../environments/schema/validate";
import { linkedWarnings, peakInstances } from "../modules/rules/linked-settings";
import { run } from "../main";
import { environment } from "./support/fixtures";

function problems(patch: Parameters<typeof environment>[0], base = dev): string[] {
  const config = environment(patch, base);
  return validateEnvironments(
    [config],
    ENVIRONMENTS.map((e) => (e.name === config.name ? config : e)),
  );
}

describe("the database", () => {
  it("needs a storage ceiling at least 10 % above the allocated storage", () => {
    expect(problems({ database: { allocatedStorageGib: 100, maxAllocatedStorageGib: 105 } })).toEqual([
      "dev: database.maxAllocatedStorageGib = 105: must be at least 10 % above allocatedStorageGib (100), so at least 110, and at most 65536 for storage autoscaling",
    ]);
    expect(problems({ database: { allocatedStorageGib: 100, maxAllocatedStorageGib: 110 } })).toEqual([]);
  });

  it("needs a class its engine is offered on in the region", () => {
    const london = { region: "eu-west-2", state: { region: "eu-west-2" }, network: { availabilityZones: ["eu-west-2a", "eu-west-2b"] } };
    expect(problems({ ...london, database: { instanceClass: "db.x2g.xlarge" } })).toEqual([
      'dev: database.instanceClass = "db.x2g.xlarge": RDS does not offer postgres on db.x2g.xlarge in eu-west-2 (modules/rules/aws-rules.generated.ts, cfn-lint\'s data from the AWS pricing API)',
    ]);
  });

  it("needs a class offered at its engine version", () => {
    expect(problems({ database: { instanceClass: "db.t2.micro" } })).toEqual([
      'dev: database.instanceClass = "db.t2.micro": RDS offers no engine at version 16 on db.t2.micro (database.engineVersion 16; modules/rules/aws-rules.generated.ts, cfn-lint\'s orderable-options data): choose a current class',
    ]);
  });

  it("needs Performance Insights on its class: MySQL has none on micro and small burstable classes", () => {
    const mysql = { engine: "mysql", engineVersion: "8.0" } as const;
    expect(problems({ database: { ...mysql, instanceClass: "db.t4g.small" } })).toEqual([
      'dev: database.instanceClass = "db.t4g.small": RDS for mysql has no Performance Insights on db.t4g.small, and the database module turns it on: use a medium class or larger',
    ]);
    expect(problems({ database: { ...mysql, instanceClass: "db.t4g.medium" } })).toEqual([]);
    expect(problems({ database: { instanceClass: "db.t4g.micro" } })).toEqual([]);
  });
});

describe("the cache", () => {
  it("needs a node type offered in the region", () => {
    const south = { region: "eu-south-1", state: { region: "eu-south-1" }, network: { availabilityZones: ["eu-south-1a", "eu-south-1b"] } };
    expect(problems({ ...south, cache: { nodeType: "cache.m7g.2xlarge" } })).toEqual([
      'dev: cache.nodeType = "cache.m7g.2xlarge": ElastiCache does not offer cache.m7g.2xlarge in eu-south-1 (modules/rules/aws-rules.generated.ts, cfn-lint\'s data from the AWS pricing API)',
    ]);
  });
});

describe("the app subnets", () => {
  // A /24 VPC: /28 app subnets (16 addresses, 11 free), /27 public ones for the load balancer.
  const small = { vpcCidr: "10.10.0.0/24", subnetSizes: { publicPrefixLength: 27 } };

  it("must hold the group at its maximum during an instance refresh", () => {
    expect(problems({ network: small, compute: { maxCapacity: 11 } })).toEqual([]);
    expect(problems({ network: small, compute: { maxCapacity: 12 } })).toEqual([
      "dev: compute.maxCapacity = 12: needs 12 addresses in each of 2 app subnets (maxCapacity 12 x 200 % during an instance refresh = 24), but 10.10.0.128/28 has 11 free (5 reserved by AWS): give the app tier larger subnets (network.subnetSizes.appPrefixLength) or lower the maximum",
    ]);
  });

  it("count interface endpoints and warm instances", () => {
    const endpoints = { ...small, interfaceEndpoints: ["ssm", "ssmmessages", "ec2messages"] } as const;
    expect(problems({ network: endpoints, compute: { maxCapacity: 9 } })).toEqual([
      "dev: compute.maxCapacity = 9: needs 9 addresses in each of 2 app subnets (maxCapacity 9 x 200 % during an instance refresh = 18), but 10.10.0.128/28 has 8 free (5 reserved by AWS, 3 for interface endpoints): give the app tier larger subnets (network.subnetSizes.appPrefixLength) or lower the maximum",
    ]);
    const config = environment({ compute: { maxCapacity: 4, warmPool: { minSize: 3 } } });
    expect(peakInstances(config)).toEqual({ count: 11, detail: "maxCapacity 4 x 200 % during an instance refresh + 3 warm" });
  });

  it("warn where a zone outage leaves the others too small", () => {
    const config = environment({ network: small, compute: { maxCapacity: 8 } });
    expect(validateEnvironments([config], [config, staging, prod])).toEqual([]);
    expect(linkedWarnings(config)).toEqual([
      {
        id: "compute.maxCapacity",
        message:
          "with one zone lost, the other 1 app subnets need 16 addresses each (maxCapacity 8 x 200 % during an instance refresh = 16) but 10.10.0.128/28 has 11 free: the group cannot reach its maximum during a zone outage",
      },
    ]);
    expect(linkedWarnings(dev)).toEqual([]);
  });
});

describe("scheduled actions", () => {
  it("stay within the group's maximum and AWS's 125 per group", () => {
    const night = { name: "night", recurrence: "0 20 * * *", minCapacity: 0, maxCapacity: 3 };
    expect(problems({ compute: { scheduledActions: [night] } })).toEqual([
      "dev: compute.scheduledActions[0].maxCapacity = 3: above compute.maxCapacity (2), the ceiling the app subnets, the warm pool and the account's quotas are sized for: raise compute.maxCapacity instead",
    ]);
    const many = Array.from({ length: 126 }, (_, i) => ({
      name: `at-${i}`,
      recurrence: `${i % 60} ${i % 24} * * *`,
      minCapacity: 1,
      maxCapacity: 2,
    }));
    expect(problems({ compute: { scheduledActions: many } })).toEqual([
      'dev: compute.scheduledActions = "126 actions": an Auto Scaling group takes at most 125 scheduled actions (a fixed quota)',
    ]);
  });

  it("name a canonical IANA time zone", () => {
    const at = (timeZone: string) => ({
      compute: { scheduledActions: [{ name: "night", recurrence: "0 20 * * *", minCapacity: 0, maxCapacity: 0, timeZone }] },
    });
    expect(problems(at("US/Eastern"))).toEqual([
      'dev: compute.scheduledActions[0].timeZone = "US/Eastern": a legacy alias in the IANA time zone database; write the zone it names, America/New_York',
    ]);
    expect(problems(at("Europe/Londn"))).toEqual([
      'dev: compute.scheduledActions[0].timeZone = "Europe/Londn": not an IANA time zone (modules/rules/aws-rules.generated.ts, tzdata) (for example Europe/London)',
    ]);
    expect(problems(at("America/Sao_Paulo"))).toEqual([]);
  });
});

describe("the database's storage ceiling", () => {
  it("warns below AWS's recommended 26 % headroom", () => {
    expect(linkedWarnings(environment({ database: { allocatedStorageGib: 100, maxAllocatedStorageGib: 120 } }))).toEqual([
      {
        id: "database.maxAllocatedStorageGib",
        message:
          "is less than 26 % above allocatedStorageGib (100): one autoscaling step can reach the ceiling; AWS recommends at least 126",
      },
    ]);
  });
});

describe("synth", () => {
  it("prints a linked or quota warning on the stack's preflight, and counts it once acknowledged", () => {
    const names = Array.from({ length: 10 }, (_, i) => `n${i}.app.example.com`);
    const busy = environment({ edge: { alternativeNames: names } }, dev);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "linked-warnings-"));
    try {
      const lines: string[] = [];
      expect(
        run({
          spec: "dev",
          environments: [busy, staging, prod],
          bootstrap: { ...bootstrap, ci: undefined },
          outdir,
          log: (l) => lines.push(l),
          printSummary: false,
        }),
      ).toBe(0);
      expect(lines).toContain(
        'warning: dev/preflight: edge.alternativeNames give the certificate 11 names with domainName, above the default quota "Domain names per ACM certificate" (AWS Certificate Manager) of 10: request an increase in Service Quotas before the apply, then acknowledge this warning',
      );
      const acknowledged = environment(
        {
          acknowledgements: { ...dev.acknowledgements, "preflight.edge.alternativeNames": "raised to 25 in this account, case 1234567890" },
        },
        busy,
      );
      const quiet: string[] = [];
      expect(
        run({
          spec: "dev",
          environments: [acknowledged, staging, prod],
          bootstrap: { ...bootstrap, ci: undefined },
          outdir,
          log: (l) => quiet.push(l),
          printSummary: false,
        }),
      ).toBe(0);
      expect(quiet).toEqual(["2 acknowledged warning(s) not shown (acknowledgements in environments/<env>.ts)"]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
