// The whole security-group graph of each environment, table-driven: every allowed edge is present as a rule
// pair (ingress on the target, egress on the source) referencing groups, internet edges are the only CIDR
// rules, and nothing else is open: no other rule, no inline rule, the default group closed.
import { dev } from "../environments/dev";
import { ENVIRONMENTS } from "../environments";
import type { EnvironmentConfig } from "../environments/schema/types";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Cache } from "../modules/cache";
import { Connections } from "../modules/primitives/connections";
import { Database } from "../modules/database";
import { FileSystem } from "../modules/file-system";
import { Json, resourceList, resources, synthConstruct, synthEnvironment } from "./support/synth";

const INTERNET = "0.0.0.0/0";

/** One allowed edge: `from` may open connections to `to` on `port` (TCP). "internet" is 0.0.0.0/0. */
interface Edge {
  readonly from: string;
  readonly to: string;
  /** A port number, or how to read it from the synthesized stack. */
  readonly port: number | ((json: Json) => number | undefined);
  readonly why: string;
}

const appPort = (json: Json) => resourceList(json, "aws_lb_target_group")[0]?.port as number | undefined;
const databasePort = (json: Json) => resourceList(json, "aws_db_instance")[0]?.port as number | undefined;

/** The graph every environment must have (architecture: "The security-group graph"). */
const GRAPH: readonly Edge[] = [
  { from: "internet", to: "alb", port: 443, why: "users reach the load balancer over HTTPS" },
  { from: "internet", to: "alb", port: 80, why: "HTTP, answered with a redirect to HTTPS" },
  { from: "alb", to: "app", port: appPort, why: "the load balancer forwards to the app port" },
  { from: "app", to: "database", port: databasePort, why: "the app uses the database on the engine port" },
  { from: "app", to: "cache", port: 6379, why: "locks and sessions over TLS" },
  { from: "app", to: "efs", port: 2049, why: "uploads over NFS with TLS" },
  { from: "app", to: "endpoints", port: 443, why: "AWS APIs through interface endpoints, where the network has them" },
  { from: "app", to: "internet", port: 443, why: "AWS APIs and the git host through NAT" },
];

/** Groups every environment has, by name after `<project>-<env>-`. */
const REQUIRED_GROUPS = ["alb", "app", "database", "cache", "efs"];
/** Groups that exist only with some settings. */
const OPTIONAL_GROUPS: Readonly<Record<string, (config: EnvironmentConfig) => boolean>> = {
  endpoints: (config) => (config.network.interfaceEndpoints ?? []).length > 0,
};

interface Rule {
  readonly owner: string;
  readonly direction: "ingress" | "egress";
  readonly peer: string;
  readonly protocol: string;
  readonly ports: string;
}

function render(rule: Rule): string {
  const arrow = rule.direction === "ingress" ? "<-" : "->";
  return `${rule.owner} ${rule.direction} ${arrow} ${rule.peer} ${rule.protocol}/${rule.ports}`;
}

function ports(from: unknown, to: unknown): string {
  return from === to ? String(from) : `${String(from)}-${String(to)}`;
}

/** Every rule in the stack, separate resources and inline blocks alike, with groups named by role. */
function actualRules(json: Json, groupNames: ReadonlyMap<string, string>): string[] {
  const role = (ref: unknown) => groupNames.get(String(ref)) ?? `unknown(${String(ref)})`;
  const peer = (r: Json) =>
    r.referenced_security_group_id !== undefined
      ? role(r.referenced_security_group_id)
      : r.source_security_group_id !== undefined
        ? role(r.source_security_group_id)
        : (r.cidr_ipv4 ??
          r.cidr_ipv6 ??
          r.prefix_list_id ??
          JSON.stringify(r.cidr_blocks ?? r.ipv6_cidr_blocks ?? r.prefix_list_ids ?? "?"));
  const protocol = (p: unknown) => (String(p) === "-1" ? "all" : String(p));
  const rules: Rule[] = [];
  for (const r of resourceList(json, "aws_vpc_security_group_ingress_rule")) {
    rules.push({
      owner: role(r.security_group_id),
      direction: "ingress",
      peer: peer(r),
      protocol: protocol(r.ip_protocol),
      ports: ports(r.from_port, r.to_port),
    });
  }
  for (const r of resourceList(json, "aws_vpc_security_group_egress_rule")) {
    rules.push({
      owner: role(r.security_group_id),
      direction: "egress",
      peer: peer(r),
      protocol: protocol(r.ip_protocol),
      ports: ports(r.from_port, r.to_port),
    });
  }
  for (const r of resourceList(json, "aws_security_group_rule")) {
    rules.push({
      owner: role(r.security_group_id),
      direction: r.type,
      peer: peer(r),
      protocol: protocol(r.protocol),
      ports: ports(r.from_port, r.to_port),
    });
  }
  for (const [key, group] of Object.entries(resources(json, "aws_security_group"))) {
    for (const direction of ["ingress", "egress"] as const) {
      for (const r of (group[direction] ?? []) as Json[]) {
        const peers = [...(r.security_groups ?? []).map(role), ...(r.cidr_blocks ?? []), ...(r.ipv6_cidr_blocks ?? [])];
        for (const p of peers.length > 0 ? peers : [r.self ? "self" : "?"]) {
          rules.push({
            owner: role(`\${aws_security_group.${key}.id}`),
            direction,
            peer: p,
            protocol: protocol(r.protocol),
            ports: ports(r.from_port, r.to_port),
          });
        }
      }
    }
  }
  return rules.map(render).sort();
}

/** The rules GRAPH asks for among the groups `present` (an edge to an absent group is not expected). */
function expectedRules(json: Json, present: ReadonlySet<string>): string[] {
  const rules: Rule[] = [];
  for (const edge of GRAPH) {
    const ends = [edge.from, edge.to].filter((end) => end !== "internet");
    if (!ends.every((end) => present.has(end))) continue;
    const port = typeof edge.port === "number" ? edge.port : edge.port(json);
    if (port === undefined) throw new Error(`cannot read the port of ${edge.from} -> ${edge.to} from the stack`);
    const p = String(port);
    if (edge.from === "internet") {
      rules.push({ owner: edge.to, direction: "ingress", peer: INTERNET, protocol: "tcp", ports: p });
    } else if (edge.to === "internet") {
      rules.push({ owner: edge.from, direction: "egress", peer: INTERNET, protocol: "tcp", ports: p });
    } else {
      rules.push({ owner: edge.to, direction: "ingress", peer: edge.from, protocol: "tcp", ports: p });
      rules.push({ owner: edge.from, direction: "egress", peer: edge.to, protocol: "tcp", ports: p });
    }
  }
  return rules.map(render).sort();
}

/** Group reference (`${aws_security_group.<key>.id}`) to role, from the group names `<project>-<env>-<role>`. */
function groupRoles(json: Json, prefix: string): Map<string, string> {
  return new Map(
    Object.entries(resources(json, "aws_security_group")).map(([key, group]) => [
      `\${aws_security_group.${key}.id}`,
      String(group.name).startsWith(prefix) ? String(group.name).slice(prefix.length) : String(group.name),
    ]),
  );
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("security-group graph of %s", (_name, config) => {
  const { json } = synthEnvironment(config);
  const prefix = `${config.project}-${config.name}-`;
  const groupNames = groupRoles(json, prefix);
  const present = new Set(groupNames.values());

  it("has exactly the known groups, one per role", () => {
    const optional = Object.entries(OPTIONAL_GROUPS)
      .filter(([, when]) => when(config))
      .map(([g]) => g);
    const allowed = [...REQUIRED_GROUPS, ...optional];
    expect([...present].filter((g) => !allowed.includes(g))).toEqual([]);
    expect(REQUIRED_GROUPS.filter((g) => !present.has(g))).toEqual([]);
    expect(optional.filter((g) => !present.has(g))).toEqual([]);
    expect(present.size).toBe(groupNames.size);
  });

  it("opens every allowed edge and nothing else", () => {
    expect(actualRules(json, groupNames)).toEqual(expectedRules(json, present));
    expect(actualRules(json, groupNames).length).toBe(config.network.interfaceEndpoints?.length ? 13 : 11);
  });

  it("uses CIDRs only for Internet edges, never for traffic between groups", () => {
    const cidrRules = actualRules(json, groupNames).filter((r) => /\d+\.\d+\.\d+\.\d+\/\d+|::/.test(r));
    expect(cidrRules.every((r) => r.includes(INTERNET) && /^(alb ingress|app egress)/.test(r))).toBe(true);
  });

  it("keeps the default group closed and no group holds inline rules", () => {
    for (const group of resourceList(json, "aws_default_security_group")) {
      expect(group).toMatchObject({ ingress: [], egress: [] });
    }
    for (const group of resourceList(json, "aws_security_group")) {
      expect(group.ingress ?? []).toEqual([]);
      expect(group.egress ?? []).toEqual([]);
    }
  });
});

describe("the graph check itself", () => {
  // The data modules wired to a stand-in app group, plus one stray CIDR rule: the check must report the
  // app tier's missing Internet egress and the stray rule, and accept the app -> data pairs.
  const { json } = synthConstruct((scope) => {
    const shared = {
      namePrefix: "webapp-test",
      region: "eu-west-2",
      accountId: "111111111111",
      vpcId: "vpc-1",
      subnetIds: ["subnet-a", "subnet-b"],
    };
    const keys = {
      secretsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/s",
      logsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/l",
      logRetentionDays: 7,
    };
    const database = new Database(scope, "database", { ...dev.database, ...shared, ...keys });
    const cache = new Cache(scope, "cache", { ...dev.cache, ...shared, ...keys, secretRecoveryWindowDays: 0 });
    const fileSystem = new FileSystem(scope, "file-system", { ...dev.fileSystem, ...shared });
    const group = new SecurityGroup(scope, "app-sg", { name: "webapp-test-app", vpcId: "vpc-1" });
    const app = { connections: new Connections(scope, "app", group.id) };
    for (const target of [database, cache, fileSystem]) target.connections.allowDefaultPortFrom(app);
    new VpcSecurityGroupIngressRule(scope, "stray", {
      securityGroupId: database.securityGroup.id,
      cidrIpv4: "10.0.0.0/8",
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
    });
  });
  const names = groupRoles(json, "webapp-test-");
  const actual = actualRules(json, names);
  const expected = expectedRules(json, new Set(names.values()));

  it("accepts the rule pairs the composing stack writes", () => {
    expect(actual).toEqual(
      expect.arrayContaining([
        "database ingress <- app tcp/5432",
        "app egress -> database tcp/5432",
        "cache ingress <- app tcp/6379",
        "app egress -> cache tcp/6379",
        "efs ingress <- app tcp/2049",
        "app egress -> efs tcp/2049",
      ]),
    );
  });

  it("reports a missing edge and an extra rule", () => {
    expect(expected.filter((r) => !actual.includes(r))).toEqual(["app egress -> 0.0.0.0/0 tcp/443"]);
    expect(actual.filter((r) => !expected.includes(r))).toEqual(["database ingress <- 10.0.0.0/8 tcp/5432"]);
  });
});

describe("the graph table", () => {
  it("names only roles the tests know", () => {
    const roles = new Set(["internet", ...REQUIRED_GROUPS, ...Object.keys(OPTIONAL_GROUPS)]);
    for (const edge of GRAPH) {
      expect(roles.has(edge.from) && roles.has(edge.to)).toBe(true);
    }
  });
});
