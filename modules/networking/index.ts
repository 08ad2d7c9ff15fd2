// The network: a VPC with three subnet tiers per availability zone (public for the load balancer and NAT,
// private app for instances, private data with no route out), NAT per the chosen mode, flow logs, the
// default security group stripped, S3 and DynamoDB gateway endpoints and optional interface endpoints.
// It does not create the application's security groups: each module owns its own.
import { Construct } from "constructs";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { allocate, Cidr, contains, formatCidr, overlaps, parseCidr } from "../primitives/cidr";
import { Connectable, Connections } from "../primitives/connections";
import { EncryptedLogGroup } from "../primitives/log-group";
import { checkLogRetention } from "../primitives/logs";
import { policyDocument, serviceTrustPolicy } from "../primitives/policy";
import { AVAILABILITY_ZONES } from "../rules/aws-catalogue.generated";
import { assertValid, Problems } from "../primitives/validation";
import { addWarning, type Warning } from "../primitives/warnings";

/** How instances in private subnets reach the Internet. */
export type NatMode = "none" | "single" | "per-az";

/** AWS services reachable from the app subnets through interface endpoints, without NAT. */
export type InterfaceEndpointService = "secretsmanager" | "ssm" | "ssmmessages" | "ec2messages" | "logs" | "kms" | "sts";

export const INTERFACE_ENDPOINT_SERVICES: readonly InterfaceEndpointService[] = [
  "secretsmanager",
  "ssm",
  "ssmmessages",
  "ec2messages",
  "logs",
  "kms",
  "sts",
];

/** Prefix lengths of the three subnet tiers. */
export interface SubnetSizes {
  /** @default VPC prefix + 8 (a /24 in a /16) */
  readonly publicPrefixLength?: number;
  /** @default VPC prefix + 4 (a /20 in a /16): instances live here, so it is the largest tier */
  readonly appPrefixLength?: number;
  /** @default VPC prefix + 8 (a /24 in a /16) */
  readonly dataPrefixLength?: number;
}

/** Explicit subnet CIDRs, one per availability zone in zone order, overriding the computed plan per tier. */
export interface SubnetCidrs {
  readonly public?: readonly string[];
  readonly app?: readonly string[];
  readonly data?: readonly string[];
}

/** The network settings an environment chooses. */
export interface NetworkSettings {
  /** IPv4 CIDR of the VPC, for example `10.10.0.0/16`. */
  readonly vpcCidr: string;
  /** Availability zone names, 2 to 4, all in the region, for example `["eu-west-2a", "eu-west-2b"]`. */
  readonly availabilityZones: readonly string[];
  /** NAT gateways: none, one shared by every zone, or one per zone (survives the loss of a zone). */
  readonly natGateways: NatMode;
  /** Tier sizes used when subnet CIDRs are computed. @default see `SubnetSizes` */
  readonly subnetSizes?: SubnetSizes;
  /** Explicit subnet CIDRs, where an existing address plan must be kept. @default computed */
  readonly subnetCidrs?: SubnetCidrs;
  /** Interface endpoints in the app subnets. @default [] (AWS API traffic goes through NAT) */
  readonly interfaceEndpoints?: readonly InterfaceEndpointService[];
  /** Retention of the VPC flow-log group, in days (a value CloudWatch Logs accepts). */
  readonly flowLogRetentionDays: number;
  /** Which traffic the flow log records. @default "ALL" */
  readonly flowLogTrafficType?: "ACCEPT" | "REJECT" | "ALL";
}

export interface NetworkingProps extends NetworkSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  /** KMS key that encrypts the flow-log group; its policy must allow CloudWatch Logs. */
  readonly logsKeyArn: string;
}

/** Subnets per tier are planned for this many zones, so adding a zone later never renumbers a subnet. */
export const ZONE_SLOTS = 4;
export const MIN_ZONES = 2;
const SMALLEST_SUBNET = 28;
/** An Application Load Balancer's subnets need at least a /27 (and 8 free addresses). */
const LARGEST_ALB_SUBNET_PREFIX = 27;

export type Tier = "public" | "app" | "data";
export const TIERS: readonly Tier[] = ["app", "public", "data"];

export type SubnetPlan = Readonly<Record<Tier, readonly string[]>>;

/** Resolved prefix length per tier for a VPC of the given prefix length. */
export function tierPrefixLengths(vpcPrefixLength: number, sizes: SubnetSizes = {}): Record<Tier, number> {
  return {
    app: sizes.appPrefixLength ?? Math.min(vpcPrefixLength + 4, SMALLEST_SUBNET),
    public: sizes.publicPrefixLength ?? Math.min(vpcPrefixLength + 8, SMALLEST_SUBNET),
    data: sizes.dataPrefixLength ?? Math.min(vpcPrefixLength + 8, SMALLEST_SUBNET),
  };
}

/**
 * Computes each tier's subnets for `zoneCount` zones. Space is reserved for `ZONE_SLOTS` zones per tier,
 * largest tier first, so the plan for two zones is a prefix of the plan for four.
 * Returns undefined if the tiers do not fit in the VPC.
 */
export function planSubnets(vpcCidr: string, zoneCount: number, sizes: SubnetSizes = {}): SubnetPlan | undefined {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) return undefined;
  const lengths = tierPrefixLengths(vpc.prefixLength, sizes);
  const slots = Math.max(ZONE_SLOTS, zoneCount);
  const requests = TIERS.flatMap((tier) => Array<number>(slots).fill(lengths[tier]));
  const blocks = allocate(vpc, requests);
  if (!blocks) return undefined;
  const plan = {} as Record<Tier, string[]>;
  TIERS.forEach((tier, t) => {
    plan[tier] = blocks.slice(t * slots, t * slots + zoneCount).map(formatCidr);
  });
  return plan;
}

/** The plan with explicit CIDRs applied per tier. */
export function resolveSubnets(settings: NetworkSettings): SubnetPlan | undefined {
  const computed = planSubnets(settings.vpcCidr, settings.availabilityZones.length, settings.subnetSizes);
  const explicit = settings.subnetCidrs ?? {};
  if (TIERS.every((tier) => explicit[tier])) {
    return { public: explicit.public ?? [], app: explicit.app ?? [], data: explicit.data ?? [] };
  }
  if (!computed) return undefined;
  return {
    public: explicit.public ?? computed.public,
    app: explicit.app ?? computed.app,
    data: explicit.data ?? computed.data,
  };
}

const ZONE_PATTERN = /^([a-z]{2}(-gov)?-[a-z]+-\d)([a-z])$/;

export function checkNetworkSettings(props: NetworkSettings & { readonly region: string }, problems: Problems): void {
  const vpc = parseCidr(props.vpcCidr);
  problems.check(vpc !== undefined, "vpcCidr", props.vpcCidr, "not an IPv4 CIDR with its host bits zero (a.b.c.d/n)");
  if (vpc) {
    problems.check(
      vpc.prefixLength >= 16 && vpc.prefixLength <= 24,
      "vpcCidr",
      props.vpcCidr,
      "AWS accepts VPC prefix lengths /16 to /24 (netmask 255.255.0.0 to 255.255.255.0)",
    );
  }

  const zones = props.availabilityZones;
  problems.check(
    zones.length >= MIN_ZONES && zones.length <= ZONE_SLOTS,
    "availabilityZones",
    zones,
    `needs ${MIN_ZONES} to ${ZONE_SLOTS} availability zones: the load balancer and the database subnet group span at least two` +
      (props.natGateways === "per-az" ? ', and natGateways "per-az" is meant to survive the loss of one' : ""),
  );
  zones.forEach((zone, i) => {
    const match = ZONE_PATTERN.exec(zone);
    if (!problems.check(match !== null, `availabilityZones[${i}]`, zone, "not an availability zone name (for example eu-west-2a)")) return;
    const inRegion = problems.check(
      match?.[1] === props.region,
      `availabilityZones[${i}]`,
      zone,
      `not in the environment's region ${props.region}`,
    );
    problems.check(zones.indexOf(zone) === i, `availabilityZones[${i}]`, zone, "listed twice");
    // A region the catalogue does not know yet is left to the plan, which reads the account's zones.
    const known = AVAILABILITY_ZONES[props.region];
    if (inRegion && known && !known.includes(zone)) {
      problems.add(
        `availabilityZones[${i}]`,
        zone,
        `no such zone in ${props.region}; known: ${known.join(", ")} (modules/rules/aws-catalogue.generated.ts)`,
      );
    }
  });

  checkLogRetention(problems, "flowLogRetentionDays", props.flowLogRetentionDays);

  const endpoints = props.interfaceEndpoints ?? [];
  endpoints.forEach((service, i) => {
    problems.check(
      INTERFACE_ENDPOINT_SERVICES.includes(service),
      `interfaceEndpoints[${i}]`,
      service,
      `unknown service; known: ${INTERFACE_ENDPOINT_SERVICES.join(", ")}`,
    );
    problems.check(endpoints.indexOf(service) === i, `interfaceEndpoints[${i}]`, service, "listed twice");
  });

  if (!vpc) return;
  const lengths = tierPrefixLengths(vpc.prefixLength, props.subnetSizes);
  for (const tier of TIERS) {
    const length = lengths[tier];
    const field = `subnetSizes.${tier}PrefixLength`;
    problems.check(
      Number.isInteger(length) && length >= vpc.prefixLength && length <= SMALLEST_SUBNET,
      field,
      length,
      `must be between the VPC's /${vpc.prefixLength} and /${SMALLEST_SUBNET}`,
    );
  }

  const explicit = props.subnetCidrs ?? {};
  if (!explicit.public && Number.isInteger(lengths.public) && lengths.public > LARGEST_ALB_SUBNET_PREFIX) {
    const sized = props.subnetSizes?.publicPrefixLength !== undefined;
    problems.add(
      sized ? "subnetSizes.publicPrefixLength" : "vpcCidr",
      sized ? lengths.public : props.vpcCidr,
      `${sized ? "makes" : "gives"} /${lengths.public} public subnets; the load balancer needs /${LARGEST_ALB_SUBNET_PREFIX} or larger ` +
        `(at least 8 free addresses per zone): ${sized ? "use a smaller prefix length" : `set subnetSizes.publicPrefixLength to ${LARGEST_ALB_SUBNET_PREFIX} or use a larger VPC`}`,
    );
  }
  const placed: { field: string; cidr: Cidr; text: string }[] = [];
  for (const tier of TIERS) {
    const list = explicit[tier];
    if (!list) continue;
    problems.check(list.length === zones.length, `subnetCidrs.${tier}`, list, `needs one CIDR per availability zone (${zones.length})`);
    list.forEach((text, i) => {
      const field = `subnetCidrs.${tier}[${i}]`;
      const cidr = parseCidr(text);
      if (!problems.check(cidr !== undefined, field, text, "not an IPv4 CIDR with its host bits zero (a.b.c.d/n)")) return;
      if (!cidr) return;
      if (!problems.check(contains(vpc, cidr), field, text, `does not fit in the VPC ${props.vpcCidr}`)) return;
      problems.check(cidr.prefixLength <= SMALLEST_SUBNET, field, text, `AWS subnets are /${SMALLEST_SUBNET} or larger`);
      if (tier === "public") {
        problems.check(
          cidr.prefixLength <= LARGEST_ALB_SUBNET_PREFIX,
          field,
          text,
          `the load balancer needs /${LARGEST_ALB_SUBNET_PREFIX} or larger public subnets`,
        );
      }
      const clash = placed.find((p) => overlaps(p.cidr, cidr));
      if (problems.check(clash === undefined, field, text, `overlaps ${clash?.field} (${clash?.text})`)) {
        placed.push({ field, cidr, text });
      }
    });
  }

  const computedTiers = TIERS.filter((tier) => !explicit[tier]);
  if (computedTiers.length === 0) return;
  const plan = planSubnets(props.vpcCidr, zones.length, props.subnetSizes);
  if (!plan) {
    const need = computedTiers.length === 3 ? "the subnet tiers" : `tiers ${computedTiers.join(", ")}`;
    problems.add(
      "vpcCidr",
      props.vpcCidr,
      `too small for ${need} (${TIERS.map((t) => `${t} /${lengths[t]}`).join(", ")}, ${Math.max(ZONE_SLOTS, zones.length)} zone slots each); use a larger VPC or smaller subnetSizes`,
    );
    return;
  }
  for (const tier of computedTiers) {
    for (const text of plan[tier]) {
      const cidr = parseCidr(text);
      const clash = cidr && placed.find((p) => overlaps(p.cidr, cidr));
      if (clash) {
        problems.add(
          clash.field,
          clash.text,
          `overlaps the computed ${tier} subnet ${text}; give every tier explicitly or choose another range`,
        );
      }
    }
  }
}

/** The network as other modules consume it. */
export interface NetworkRefs {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly availabilityZones: readonly string[];
  readonly publicSubnetIds: readonly string[];
  readonly appSubnetIds: readonly string[];
  readonly dataSubnetIds: readonly string[];
}

/** Interface endpoints and the security group in front of them (HTTPS from the groups allowed in). */
export class InterfaceEndpoints implements Connectable {
  readonly connections: Connections;
  readonly services: readonly InterfaceEndpointService[];

  constructor(owner: Construct, securityGroupId: string, services: readonly InterfaceEndpointService[]) {
    this.connections = new Connections(owner, "endpoints", securityGroupId, 443);
    this.services = services;
  }
}

/** The settings the network's warnings are about (acknowledged as `network.<id>`). */
export type NetworkingWarningId = "natGateways";

export class Networking extends Construct implements NetworkRefs {
  readonly vpc: Vpc;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly availabilityZones: readonly string[];
  readonly publicSubnetIds: string[];
  readonly appSubnetIds: string[];
  readonly dataSubnetIds: string[];
  readonly natGatewayIds: string[];
  /** Present when the settings name at least one interface endpoint. */
  readonly endpoints?: InterfaceEndpoints;

  constructor(scope: Construct, id: string, props: NetworkingProps) {
    super(scope, id);
    assertValid(this, props, checkNetworkSettings);
    const plan = resolveSubnets(props);
    if (!plan) throw new Error(`${this.node.path}: vpcCidr = ${JSON.stringify(props.vpcCidr)}: subnet plan does not fit`);

    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;
    const zones = props.availabilityZones;
    const zoneKey = (zone: string) => zone.slice(-1);

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: name("vpc") },
    });
    this.vpcId = this.vpc.id;
    this.vpcCidr = props.vpcCidr;
    this.availabilityZones = zones;

    new DefaultSecurityGroup(this, "default-sg", {
      vpcId: this.vpc.id,
      ingress: [],
      egress: [],
      tags: { Name: name("default-closed") },
    });

    const subnets = (tier: Tier) =>
      zones.map(
        (zone, i) =>
          new Subnet(this, `${tier}-${zoneKey(zone)}`, {
            vpcId: this.vpc.id,
            availabilityZone: zone,
            cidrBlock: plan[tier][i] ?? "",
            mapPublicIpOnLaunch: false,
            tags: { Name: name(`${tier}-${zone}`), Tier: tier },
          }),
      );
    const publicSubnets = subnets("public");
    const appSubnets = subnets("app");
    const dataSubnets = subnets("data");
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.appSubnetIds = appSubnets.map((s) => s.id);
    this.dataSubnetIds = dataSubnets.map((s) => s.id);

    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: { Name: name("igw") } });
    const publicRoutes = new RouteTable(this, "public-rt", { vpcId: this.vpc.id, tags: { Name: name("public") } });
    new Route(this, "public-default", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    publicSubnets.forEach((subnet, i) => {
      new RouteTableAssociation(this, `public-rta-${zoneKey(zones[i] ?? "")}`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
    });

    const natZones = props.natGateways === "per-az" ? zones : props.natGateways === "single" ? zones.slice(0, 1) : [];
    const nats = natZones.map((zone, i) => {
      const eip = new Eip(this, `nat-eip-${zoneKey(zone)}`, { domain: "vpc", tags: { Name: name(`nat-${zone}`) } });
      return new NatGateway(this, `nat-${zoneKey(zone)}`, {
        allocationId: eip.id,
        subnetId: publicSubnets[i]?.id ?? "",
        tags: { Name: name(`nat-${zone}`) },
        dependsOn: [igw],
      });
    });
    this.natGatewayIds = nats.map((n) => n.id);
    if (props.natGateways === "single" && zones.length > 1) {
      addWarning(this, {
        id: "natGateways",
        message: `natGateways is "single" across ${zones.length} zones: losing ${zones[0]} cuts every app subnet off from the Internet; use "per-az" where that matters`,
      } satisfies Warning<NetworkingWarningId>);
    }
    if (props.natGateways === "none" && (props.interfaceEndpoints ?? []).length === 0) {
      addWarning(this, {
        id: "natGateways",
        message: 'natGateways is "none" and no interface endpoints are configured: instances cannot reach AWS APIs or the git host',
      } satisfies Warning<NetworkingWarningId>);
    }

    const appRouteTables = zones.map((zone, i) => {
      const table = new RouteTable(this, `app-rt-${zoneKey(zone)}`, { vpcId: this.vpc.id, tags: { Name: name(`app-${zone}`) } });
      const nat = nats[props.natGateways === "per-az" ? i : 0];
      if (nat) {
        new Route(this, `app-default-${zoneKey(zone)}`, {
          routeTableId: table.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nat.id,
        });
      }
      new RouteTableAssociation(this, `app-rta-${zoneKey(zone)}`, { subnetId: appSubnets[i]?.id ?? "", routeTableId: table.id });
      return table;
    });

    const dataRoutes = new RouteTable(this, "data-rt", { vpcId: this.vpc.id, tags: { Name: name("data") } });
    dataSubnets.forEach((subnet, i) => {
      new RouteTableAssociation(this, `data-rta-${zoneKey(zones[i] ?? "")}`, { subnetId: subnet.id, routeTableId: dataRoutes.id });
    });

    // Gateway endpoints cost nothing: the boot bundle (S3) and the timed jobs' slot table (DynamoDB) are
    // reached without NAT, from the app subnets' route tables.
    new VpcEndpoint(this, "s3-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: appRouteTables.map((t) => t.id),
      tags: { Name: name("s3") },
    });
    new VpcEndpoint(this, "dynamodb-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.dynamodb`,
      vpcEndpointType: "Gateway",
      routeTableIds: appRouteTables.map((t) => t.id),
      tags: { Name: name("dynamodb") },
    });

    const services = props.interfaceEndpoints ?? [];
    if (services.length > 0) {
      const group = new SecurityGroup(this, "endpoints-sg", {
        name: name("endpoints"),
        description: "Interface endpoints: HTTPS from the groups allowed in",
        vpcId: this.vpc.id,
        tags: { Name: name("endpoints") },
      });
      for (const service of services) {
        new VpcEndpoint(this, `endpoint-${service}`, {
          vpcId: this.vpc.id,
          serviceName: `com.amazonaws.${props.region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: this.appSubnetIds,
          securityGroupIds: [group.id],
          tags: { Name: name(service) },
        });
      }
      this.endpoints = new InterfaceEndpoints(this, group.id, services);
    }

    const flowLogGroup = new EncryptedLogGroup(this, "flow-log-group", {
      name: `/vpc/${props.namePrefix}/flow-logs`,
      retentionDays: props.flowLogRetentionDays,
      kmsKeyArn: props.logsKeyArn,
    });
    const flowLogRole = new IamRole(this, "flow-log-role", {
      name: name("vpc-flow-logs"),
      assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com", props.accountId),
    });
    new IamRolePolicy(this, "flow-log-policy", {
      name: "write-flow-logs",
      role: flowLogRole.id,
      policy: policyDocument({
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [flowLogGroup.arn, `${flowLogGroup.arn}:*`],
      }),
    });
    new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: props.flowLogTrafficType ?? "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
      maxAggregationInterval: 60,
      tags: { Name: name("flow-log") },
    });
  }
}
