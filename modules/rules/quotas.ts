// Where a setting exceeds an AWS account's default quota: a warning naming the quota as Service Quotas names
// it, so the team can raise it before the apply fails halfway. Quotas an account has raised
// are unknown here: acknowledge the warning (`preflight.<id>`) once the quota is raised. Pure.
import type { EnvironmentConfig } from "../../environments/schema/types";
import type { LinkedWarning } from "./linked-settings";

/** A default quota: its name as Service Quotas and the service's quota page give it, its service, its default value. */
export interface Quota {
  readonly service: string;
  readonly name: string;
  readonly default: number;
}

// Defaults from the service quota pages: https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html,
// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html,
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit
export const QUOTAS = {
  certificateNames: { service: "AWS Certificate Manager", name: "Domain names per ACM certificate", default: 10 },
  vpcs: { service: "Amazon VPC", name: "VPCs per Region", default: 5 },
  internetGateways: { service: "Amazon VPC", name: "Internet gateways per Region", default: 5 },
  natGatewaysPerZone: { service: "Amazon VPC", name: "NAT gateways per Availability Zone", default: 5 },
  elasticIps: { service: "Amazon EC2", name: "EC2-VPC Elastic IPs", default: 5 },
} as const satisfies Readonly<Record<string, Quota>>;

/** `<what>, above the default quota "<name>" (<service>) of <n>: ...`; `what` says what and how many. */
function over(quota: Quota, what: string): string {
  return `${what}, above the default quota "${quota.name}" (${quota.service}) of ${quota.default}: request an increase in Service Quotas before the apply, then acknowledge this warning`;
}

/** The settings the quota warnings are about. */
export type QuotaWarningId = "edge.alternativeNames" | "network.vpcCidr" | "network.natGateways";

/** A preflight warning's printed text: its id (the setting), then its message. */
export function warningText(warning: LinkedWarning<string>): string {
  return `${warning.id} ${warning.message}`;
}

/** The NAT gateways (each with an Elastic IP) an environment creates, per zone. */
function natZones(config: EnvironmentConfig): readonly string[] {
  const zones = config.network.availabilityZones;
  return config.network.natGateways === "per-az" ? zones : config.network.natGateways === "single" ? zones.slice(0, 1) : [];
}

/**
 * The quota warnings of `config`; `known` are all environments, since regional quotas are shared by the
 * environments in one account and region. Those count in `known`'s (promotion) order, and an environment
 * warns where the count reaches past the quota with its own share: so dev, first, stays quiet when a later
 * environment pushes the account over, and the environment that does (and every one after it) warns.
 */
export function quotaWarnings(config: EnvironmentConfig, known: readonly EnvironmentConfig[] = [config]): LinkedWarning<QuotaWarningId>[] {
  const warnings: LinkedWarning<QuotaWarningId>[] = [];
  const names = 1 + (config.edge.alternativeNames ?? []).length;
  if (names > QUOTAS.certificateNames.default) {
    warnings.push({
      id: "edge.alternativeNames",
      message: over(QUOTAS.certificateNames, `give the certificate ${names} names with domainName`),
    });
  }
  const listed = known.some((e) => e === config) ? known : [...known.filter((e) => e.name !== config.name), config];
  const neighbours = listed.filter((e) => e.accountId === config.accountId && e.region === config.region);
  // The environments counted up to this one, in order.
  const upTo = neighbours.slice(0, neighbours.indexOf(config) + 1);
  const where = `environments ${upTo.map((e) => e.name).join(", ")} in account ${config.accountId}, ${config.region}`;
  // Most accounts keep their default VPC (and its internet gateway), which counts too.
  const vpcs = upTo.length + 1;
  if (vpcs > QUOTAS.vpcs.default) {
    warnings.push({
      id: "network.vpcCidr",
      message:
        over(QUOTAS.vpcs, `makes ${vpcs} VPCs with the default VPC, for ${where}`) +
        `; the same holds for "${QUOTAS.internetGateways.name}"`,
    });
  }
  const ips = upTo.reduce((n, e) => n + natZones(e).length, 0);
  if (natZones(config).length > 0 && ips > QUOTAS.elasticIps.default) {
    warnings.push({ id: "network.natGateways", message: over(QUOTAS.elasticIps, `make ${ips} NAT gateway Elastic IPs for ${where}`) });
  }
  for (const zone of natZones(config)) {
    const nats = upTo.filter((e) => natZones(e).includes(zone)).length;
    if (nats > QUOTAS.natGatewaysPerZone.default) {
      warnings.push({
        id: "network.natGateways",
        message: over(QUOTAS.natGatewaysPerZone, `make ${nats} NAT gateways in ${zone} for ${where}`),
      });
    }
  }
  return warnings;
}
