import { AnnotationMetadataEntryType, TerraformStack, Testing } from "cdktf";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Networking, NetworkingProps, planSubnets, resolveSubnets } from "../modules/networking";
import { resourceList, resources, policy, synthConstruct } from "./support/synth";

const props: NetworkingProps = {
  namePrefix: "webapp-test",
  region: "eu-west-2",
  accountId: "111111111111",
  logsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/test",
  vpcCidr: "10.10.0.0/16",
  availabilityZones: ["eu-west-2a", "eu-west-2b"],
  natGateways: "single",
  flowLogRetentionDays: 7,
};

function warnings(overrides: Partial<NetworkingProps>): string[] {
  const stack = new TerraformStack(Testing.app(), "warn");
  const network = new Networking(stack, "network", { ...props, ...overrides });
  return network.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
}

const build = (overrides: Partial<NetworkingProps> = {}) =>
  synthConstruct((scope) => new Networking(scope, "network", { ...props, ...overrides }));

describe("planSubnets", () => {
  it("lays out app /20s first, then public and data /24s, reserving four zone slots per tier", () => {
    expect(planSubnets("10.10.0.0/16", 2)).toEqual({
      app: ["10.10.0.0/20", "10.10.16.0/20"],
      public: ["10.10.64.0/24", "10.10.65.0/24"],
      data: ["10.10.68.0/24", "10.10.69.0/24"],
    });
  });

  it("never renumbers existing subnets when a zone is added", () => {
    const two = planSubnets("10.10.0.0/16", 2);
    const three = planSubnets("10.10.0.0/16", 3);
    for (const tier of ["app", "public", "data"] as const) {
      expect(three?.[tier].slice(0, 2)).toEqual(two?.[tier]);
    }
  });

  it("honours explicit sizes and reports a VPC that is too small", () => {
    expect(planSubnets("10.0.0.0/24", 2, { appPrefixLength: 27, publicPrefixLength: 28, dataPrefixLength: 28 })).toEqual({
      app: ["10.0.0.0/27", "10.0.0.32/27"],
      public: ["10.0.0.128/28", "10.0.0.144/28"],
      data: ["10.0.0.192/28", "10.0.0.208/28"],
    });
    expect(planSubnets("10.0.0.0/24", 2, { appPrefixLength: 25 })).toBeUndefined();
    expect(planSubnets("not-a-cidr", 2)).toBeUndefined();
  });

  it("caps default tier sizes at /28 for small VPCs", () => {
    expect(planSubnets("10.0.0.0/24", 2)?.public).toEqual(["10.0.0.64/28", "10.0.0.80/28"]);
  });

  it("takes explicit CIDRs per tier over the computed plan", () => {
    const plan = resolveSubnets({ ...props, subnetCidrs: { public: ["10.10.250.0/24", "10.10.251.0/24"] } });
    expect(plan?.public).toEqual(["10.10.250.0/24", "10.10.251.0/24"]);
    expect(plan?.app).toEqual(["10.10.0.0/20", "10.10.16.0/20"]);
  });
});

describe("Networking", () => {
  const { text, json } = build();

  it("creates a VPC with DNS support and hostnames", () => {
    expect(text).toHaveResourceWithProperties(Vpc, { cidr_block: "10.10.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
  });

  it("creates three tiers per zone, none mapping public IPs", () => {
    const subnets = resourceList(json, "aws_subnet");
    expect(subnets).toHaveLength(6);
    expect(subnets.every((s) => s.map_public_ip_on_launch === false)).toBe(true);
    expect(text).toHaveResourceWithProperties(Subnet, {
      availability_zone: "eu-west-2b",
      cidr_block: "10.10.16.0/20",
      tags: expect.objectContaining({ Tier: "app" }),
    });
  });

  it("routes public subnets to the internet gateway and app subnets to NAT; data subnets have no route out", () => {
    const routes = resourceList(json, "aws_route");
    expect(routes.filter((r) => r.gateway_id?.includes("aws_internet_gateway"))).toHaveLength(1);
    expect(routes.filter((r) => r.nat_gateway_id)).toHaveLength(2);
    const dataTables = Object.entries(resources(json, "aws_route_table")).filter(([name]) => name.includes("data-rt"));
    expect(dataTables).toHaveLength(1);
    expect(dataTables[0]?.[1].route).toBeUndefined();
    expect(routes.some((r) => String(r.route_table_id).includes("data-rt"))).toBe(false);
  });

  it("builds one NAT gateway in single mode and warns that it is a single point of failure", () => {
    expect(resourceList(json, "aws_nat_gateway")).toHaveLength(1);
    expect(warnings({})).toEqual([expect.stringMatching(/natGateways is "single" across 2 zones/)]);
    expect(warnings({ natGateways: "per-az" })).toEqual([]);
    expect(warnings({ natGateways: "none" })).toEqual([expect.stringMatching(/no interface endpoints/)]);
  });

  it("builds a NAT gateway per zone in per-az mode, each app route table using its own zone's", () => {
    const perAz = build({ natGateways: "per-az", availabilityZones: ["eu-west-2a", "eu-west-2b", "eu-west-2c"] }).json;
    const nats = resources(perAz, "aws_nat_gateway");
    expect(Object.keys(nats)).toHaveLength(3);
    const natRoutes = resourceList(perAz, "aws_route").filter((r) => r.nat_gateway_id);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(3);
  });

  it("builds no NAT gateway and no default route for app subnets in none mode", () => {
    const none = build({ natGateways: "none" }).json;
    expect(resourceList(none, "aws_nat_gateway")).toHaveLength(0);
    expect(resourceList(none, "aws_eip")).toHaveLength(0);
    expect(resourceList(none, "aws_route").filter((r) => r.nat_gateway_id)).toHaveLength(0);
  });

  it("strips every rule from the default security group", () => {
    expect(text).toHaveResourceWithProperties(DefaultSecurityGroup, { ingress: [], egress: [] });
  });

  it("adds S3 and DynamoDB gateway endpoints on the app route tables and no interface endpoints by default", () => {
    expect(text).toHaveResourceWithProperties(VpcEndpoint, { service_name: "com.amazonaws.eu-west-2.s3", vpc_endpoint_type: "Gateway" });
    expect(text).toHaveResourceWithProperties(VpcEndpoint, {
      service_name: "com.amazonaws.eu-west-2.dynamodb",
      vpc_endpoint_type: "Gateway",
    });
    const endpoints = resourceList(json, "aws_vpc_endpoint");
    expect(endpoints).toHaveLength(2);
    for (const endpoint of endpoints)
      expect(endpoint.route_table_ids).toEqual([
        expect.stringMatching(/aws_route_table\.network_app-rt-/),
        expect.stringMatching(/aws_route_table\.network_app-rt-/),
      ]);
  });

  it("adds interface endpoints with private DNS in the app subnets behind their own security group", () => {
    const withEndpoints = build({ interfaceEndpoints: ["secretsmanager", "ssm"] });
    expect(withEndpoints.text).toHaveResourceWithProperties(VpcEndpoint, {
      service_name: "com.amazonaws.eu-west-2.secretsmanager",
      vpc_endpoint_type: "Interface",
      private_dns_enabled: true,
    });
    const group = resourceList(withEndpoints.json, "aws_security_group");
    expect(group).toHaveLength(1);
    expect(group[0]?.ingress).toBeUndefined();
  });

  it("sends flow logs to an encrypted log group with retention through a least-privilege role", () => {
    expect(text).toHaveResourceWithProperties(FlowLog, {
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
      max_aggregation_interval: 60,
    });
    expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: "/vpc/webapp-test/flow-logs",
      retention_in_days: 7,
      kms_key_id: props.logsKeyArn,
    });
    const role = resourceList(json, "aws_iam_role")[0];
    const trust = policy(role?.assume_role_policy);
    expect(trust.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
      }),
    ]);
    const doc = policy(resourceList(json, "aws_iam_role_policy")[0]?.policy);
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0].Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
    expect(doc.Statement[0].Resource).toEqual([
      expect.stringMatching(/aws_cloudwatch_log_group\..*\.arn/),
      expect.stringMatching(/\.arn}:\*$/),
    ]);
  });

  it("rejects bad settings at construct time, naming the construct path", () => {
    expect(() => build({ vpcCidr: "10.10.0.0/33" })).toThrow(/test\/network: vpcCidr = "10.10.0.0\/33": not an IPv4 CIDR/);
    expect(() => build({ availabilityZones: ["eu-west-2a"] })).toThrow(/availabilityZones = \["eu-west-2a"\]: needs 2 to 4/);
  });
});
