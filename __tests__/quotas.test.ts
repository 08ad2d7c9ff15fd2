// Default quotas a configuration exceeds (modules/rules/quotas.ts): warnings naming the quota.
import { ENVIRONMENTS } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { quotaWarnings, warningText } from "../modules/rules/quotas";
import type { EnvironmentConfig } from "../environments/schema/types";
import { environment } from "./support/fixtures";

/** `base` in one account and region with the given NAT layout, whatever the shipped files say. */
function pinned(
  base: EnvironmentConfig,
  name: string,
  natGateways: "single" | "per-az",
  zoneCount: number,
  vpcCidr = base.network.vpcCidr,
): EnvironmentConfig {
  const availabilityZones = ["eu-west-2a", "eu-west-2b", "eu-west-2c"].slice(0, zoneCount);
  return environment({ name, accountId: "111111111111", region: "eu-west-2", network: { vpcCidr, natGateways, availabilityZones } }, base);
}
const shipped = [pinned(dev, "dev", "single", 2), pinned(staging, "staging", "single", 2), pinned(prod, "prod", "per-az", 3)];

describe("quota warnings", () => {
  it("stay quiet for three environments in one account, as shipped (5 NAT gateway addresses, 4 VPCs)", () => {
    for (const config of shipped) expect(quotaWarnings(config, shipped)).toEqual([]);
    for (const config of ENVIRONMENTS)
      expect(quotaWarnings(config, ENVIRONMENTS).filter((w) => w.id === "edge.alternativeNames")).toEqual([]);
  });

  it("name the certificate quota above 10 names", () => {
    const nine = environment({ edge: { alternativeNames: Array.from({ length: 9 }, (_, i) => `n${i}.app.example.com`) } });
    expect(quotaWarnings(nine)).toEqual([]);
    const ten = environment({ edge: { alternativeNames: Array.from({ length: 10 }, (_, i) => `n${i}.app.example.com`) } });
    expect(quotaWarnings(ten).map(warningText)).toEqual([
      'edge.alternativeNames give the certificate 11 names with domainName, above the default quota "Domain names per ACM certificate" (AWS Certificate Manager) of 10: request an increase in Service Quotas before the apply, then acknowledge this warning',
    ]);
  });

  it("add up the Elastic IPs, NAT gateways and VPCs of the environments in one account and region", () => {
    const qa = pinned(staging, "qa", "per-az", 3, "10.40.0.0/16");
    const known = [...shipped, qa];
    expect(quotaWarnings(qa, known).map(warningText)).toEqual([
      'network.natGateways make 8 NAT gateway Elastic IPs for environments dev, staging, prod, qa in account 111111111111, eu-west-2, above the default quota "EC2-VPC Elastic IPs" (Amazon EC2) of 5: request an increase in Service Quotas before the apply, then acknowledge this warning',
    ]);
    // Another account's environments do not count.
    expect(quotaWarnings(environment({ accountId: "222222222222" }, qa), known)).toEqual([]);
    // Counted in promotion order: the environment that pushes the account over warns, not those before it.
    expect(quotaWarnings(known[0]!, known)).toEqual([]);
    const more = ["qa", "uat", "perf"].map((name, i) => pinned(staging, name, "single", 2, `10.${50 + i}.0.0/16`));
    const all = [...shipped, ...more];
    expect(quotaWarnings(all[4]!, all).map((w) => w.id)).toEqual(["network.vpcCidr", "network.natGateways"]);
    expect(quotaWarnings(all[5]!, all).map((w) => w.id)).toEqual(["network.vpcCidr", "network.natGateways", "network.natGateways"]);
    expect(warningText(quotaWarnings(all[5]!, all)[0]!)).toBe(
      'network.vpcCidr makes 7 VPCs with the default VPC, for environments dev, staging, prod, qa, uat, perf in account 111111111111, eu-west-2, above the default quota "VPCs per Region" (Amazon VPC) of 5: request an increase in Service Quotas before the apply, then acknowledge this warning; the same holds for "Internet gateways per Region"',
    );
  });

  it("count NAT gateways per zone", () => {
    const perAz = (name: string, i: number) => pinned(prod, name, "per-az", 3, `10.${60 + i}.0.0/16`);
    const known = ["a", "b", "c", "d", "e", "f"].map(perAz);
    expect(quotaWarnings(known[0]!, known)).toEqual([]);
    expect(quotaWarnings(known[5]!, known).map((w) => w.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^make 6 NAT gateways in eu-west-2a for environments a, b, c, d, e, f .*"NAT gateways per Availability Zone" \(Amazon VPC\) of 5/,
        ),
      ]),
    );
  });
});
