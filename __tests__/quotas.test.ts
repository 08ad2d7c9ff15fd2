// Default quotas a configuration exceeds (modules/quotas.ts): warnings naming the quota.
import { ENVIRONMENTS } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { quotaWarnings, warningText } from "../modules/quotas";
import { environment } from "./support/fixtures";

describe("quota warnings", () => {
  it("stay quiet for the shipped environments", () => {
    for (const config of ENVIRONMENTS) expect(quotaWarnings(config, ENVIRONMENTS)).toEqual([]);
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
    const qa = environment({ name: "qa", network: { vpcCidr: "10.40.0.0/16", natGateways: "per-az", availabilityZones: ["eu-west-2a", "eu-west-2b", "eu-west-2c"] } }, staging);
    const known = [dev, staging, prod, qa];
    expect(quotaWarnings(qa, known).map(warningText)).toEqual([
      'network.natGateways make 8 NAT gateway Elastic IPs for environments dev, staging, prod, qa in account 111111111111, eu-west-2, above the default quota "EC2-VPC Elastic IPs" (Amazon EC2) of 5: request an increase in Service Quotas before the apply, then acknowledge this warning',
    ]);
    // Another account's environments do not count.
    expect(quotaWarnings(environment({ accountId: "222222222222" }, qa), known)).toEqual([]);
    // Counted in promotion order: the environment that pushes the account over warns, not those before it.
    expect(quotaWarnings(dev, known)).toEqual([]);
    const more = ["qa", "uat", "perf"].map((name, i) => environment({ name, network: { vpcCidr: `10.${50 + i}.0.0/16`, natGateways: "single" } }, staging));
    const all = [dev, staging, prod, ...more];
    expect(quotaWarnings(all[4]!, all).map((w) => w.field)).toEqual(["network.vpcCidr", "network.natGateways"]);
    expect(quotaWarnings(all[5]!, all).map((w) => w.field)).toEqual(["network.vpcCidr", "network.natGateways", "network.natGateways"]);
    expect(warningText(quotaWarnings(all[5]!, all)[0]!)).toBe(
      'network.vpcCidr makes 7 VPCs with the default VPC, for environments dev, staging, prod, qa, uat, perf in account 111111111111, eu-west-2, above the default quota "VPCs per Region" (Amazon VPC) of 5: request an increase in Service Quotas before the apply, then acknowledge this warning; the same holds for "Internet gateways per Region"',
    );
  });

  it("count NAT gateways per zone", () => {
    const perAz = (name: string, i: number) => environment({ name, network: { vpcCidr: `10.${60 + i}.0.0/16`, natGateways: "per-az" } }, prod);
    const known = ["a", "b", "c", "d", "e", "f"].map(perAz);
    expect(quotaWarnings(known[0]!, known)).toEqual([]);
    expect(quotaWarnings(known[5]!, known).map((w) => w.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^make 6 NAT gateways in eu-west-2a for environments a, b, c, d, e, f .*"NAT gateways per Availability Zone" \(Amazon VPC\) of 5/)]),
    );
  });
});
