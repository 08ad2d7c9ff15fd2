// Security-group wiring: each module owns one security group and exposes `connections`; the composing
// stack calls `allowFrom`/`allowDefaultPortFrom`, which writes a pair of rules (ingress on this group,
// egress on the peer's) that reference groups, never CIDRs. Modules never import one another for this.
import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";

/** Anything that owns a security group and can be connected to. */
export interface Connectable {
  readonly connections: Connections;
}

export class Connections {
  /**
   * @param owner construct under which this group's rules are created
   * @param name short, stable name used in rule ids and descriptions (for example `app`, `database`)
   * @param securityGroupId the owner's security group
   * @param defaultPort the port peers normally use, if there is one
   */
  constructor(
    private readonly owner: Construct,
    readonly name: string,
    readonly securityGroupId: string,
    readonly defaultPort?: number,
  ) {}

  /** Lets `peer` reach this group on `port` (TCP): ingress here, egress on the peer. */
  allowFrom(peer: Connectable, port: number, description?: string): void {
    const from = peer.connections;
    const text = description ?? `${from.name} to ${this.name} on ${port}`;
    new VpcSecurityGroupIngressRule(this.owner, `from-${from.name}-${port}`, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: from.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description: text,
    });
    new VpcSecurityGroupEgressRule(this.owner, `to-${this.name}-from-${from.name}-${port}`, {
      securityGroupId: from.securityGroupId,
      referencedSecurityGroupId: this.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description: text,
    });
  }

  /** Lets `peer` reach this group on its default port. */
  allowDefaultPortFrom(peer: Connectable, description?: string): void {
    if (this.defaultPort === undefined) {
      throw new Error(`${this.owner.node.path}: ${this.name} has no default port; use allowFrom(peer, port)`);
    }
    this.allowFrom(peer, this.defaultPort, description);
  }
}

export interface OwnSecurityGroupProps {
  /** Short name used in rule ids and descriptions (for example `database`). */
  readonly name: string;
  /** The group's resource name, for example `webapp-dev-database`. */
  readonly groupName: string;
  readonly description: string;
  readonly vpcId: string;
  readonly defaultPort?: number;
  /** Revoke the group's rules before deleting it (groups that other groups reference). @default false */
  readonly revokeRulesOnDelete?: boolean;
}

/** A module's own security group (construct id `sg`, no inline rules) and the `Connections` over it. */
export function ownSecurityGroup(
  owner: Construct,
  props: OwnSecurityGroupProps,
): { securityGroup: SecurityGroup; connections: Connections } {
  const securityGroup = new SecurityGroup(owner, "sg", {
    name: props.groupName,
    description: props.description,
    vpcId: props.vpcId,
    revokeRulesOnDelete: props.revokeRulesOnDelete,
    tags: { Name: props.groupName },
  });
  return { securityGroup, connections: new Connections(owner, props.name, securityGroup.id, props.defaultPort) };
}
