// The bootstrap stack of an account: the state bucket, lock table and state key behind every environment's
// remote state, its read audit trail, the workload boundary of each environment in the account (its fence),
// and the CI roles; plus the boundaries' sizes, checked before anything is applied.
import { App, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { BootstrapConfig, EnvironmentConfig } from "../../environments/schema/types";
import {
  applyBoundaryDocument,
  applyBoundaryName,
  ciRoleName,
  CiRoles,
  CiStateTarget,
  GRANT_ACTIONS,
  planKeyAlias,
  serviceLinkedRolesArn,
} from "../bootstrap/ci-roles";
import { environmentRolesArn, FenceProps } from "../bootstrap/environment-fence";
import { WorkloadBoundary, workloadBoundaryArn, workloadBoundaryDocument, workloadBoundaryName } from "../bootstrap/permissions-boundary";
import { auditBucketName, resolveStateAuditSettings, StateStorage, stateKeyAlias, useRemoteState } from "../bootstrap/state-backend";
import { authTokenSecretName } from "../cache";
import { formatArn } from "../primitives/arn";
import { namePrefix, standardTags } from "../primitives/naming";
import { awsProvider, requireEngine, stateKey } from "./common";

/** Stack name of the bootstrap stack (of the first account; a further account's is `bootstrap-<suffix>`). */
export const BOOTSTRAP_STACK = "bootstrap";

/** Stack name of a bootstrap config. */
export function bootstrapStackName(config: BootstrapConfig): string {
  return config.name ?? BOOTSTRAP_STACK;
}

export class BootstrapStack extends TerraformStack {
  readonly storage: StateStorage;
  readonly ci?: CiRoles;

  /** `environments`: those in this account get their workload boundary; `ci` picks which get CI roles. */
  constructor(scope: Construct, config: BootstrapConfig, environments: readonly EnvironmentConfig[]) {
    const stackName = bootstrapStackName(config);
    super(scope, stackName);
    requireEngine(this);
    awsProvider(this, {
      region: config.region,
      accountId: config.accountId,
      tags: standardTags({ project: config.project, environment: "shared", repository: config.repository }),
    });
    if (config.remoteState) {
      useRemoteState(this, config.state, `${stackName}/terraform.tfstate`, config.accountId);
    } else {
      // why: outside cdktf.out, so re-synthesizing never touches the only copy of the bootstrap state.
      new LocalBackend(this, { path: `../../../terraform.${stackName}.tfstate` });
    }
    const local = environments.filter((e) => e.accountId === config.accountId);
    const ciTargets = config.ci ? this.ciTargets(config, environments) : [];
    const roleArn = (env: string, kind: "plan" | "apply") =>
      formatArn({ service: "iam", account: config.accountId, resource: `role/${ciRoleName(config.project, env, kind)}` });
    const ciNames = new Set(ciTargets.map((t) => t.name));
    this.storage = new StateStorage(this, "state", {
      ...config.state,
      accountId: config.accountId,
      noncurrentVersionRetentionDays: config.noncurrentVersionRetentionDays,
      audit: config.stateAudit,
      // Each environment's roles (CI and every role its stack creates, by name) may use its own state object
      // and no other, by the bucket's own policy too.
      objectScopes: local.map((env) => ({
        principalArns: [
          ...(ciNames.has(env.name) ? [roleArn(env.name, "plan"), roleArn(env.name, "apply")] : []),
          environmentRolesArn(env.accountId, env.project, env.name),
        ],
        key: stateKey(env),
      })),
      // No role an environment's stack creates needs the state key: its policy refuses them all.
      keyDeniedPrincipalArns: local.map((env) => environmentRolesArn(env.accountId, env.project, env.name)),
    });
    new TerraformOutput(this, "state_bucket", { value: this.storage.bucket.bucket });
    new TerraformOutput(this, "lock_table", { value: this.storage.lockTable.name });
    new TerraformOutput(this, "state_key_alias", {
      value: `alias/${stateKeyAlias(config.state.bucket)}`,
      description: "KMS key every state write is encrypted with",
    });
    if (this.storage.trail) {
      new TerraformOutput(this, "state_audit_trail", {
        value: this.storage.trail.name,
        description: "CloudTrail trail of every state object read and write",
      });
    }

    // Boundaries live in the account of the roles they bound: this stack creates those of its own account.
    const audit = this.storage.trail ? [this.storage.trail.arn, this.storage.auditBucketArn!, `${this.storage.auditBucketArn!}/*`] : [];
    const fences = environmentFences(config, environments, {
      stateBucketArn: this.storage.bucket.arn,
      lockTableArn: this.storage.lockTable.arn,
      stateKeyArn: this.storage.key.arn,
      protectedArns: audit,
    });
    for (const env of local) new WorkloadBoundary(this, `boundary-${env.name}`, { fence: fences.get(env.name)! });

    if (config.ci) {
      const ci = new CiRoles(this, "ci", {
        ...config.ci,
        environments: ciTargets.map((t) => ({ ...t, fence: fences.get(t.name)! })),
        accountId: config.accountId,
        region: config.region,
        project: config.project,
        stateBucketArn: this.storage.bucket.arn,
        lockTableArn: this.storage.lockTable.arn,
        stateKeyArn: this.storage.key.arn,
      });
      this.ci = ci;
      for (const [name, refs] of Object.entries(ci.roles)) {
        new TerraformOutput(this, `ci_${name}_plan_role_arn`, {
          value: refs.planRoleArn,
          description: `Role the pull-request plan job assumes for ${name}`,
        });
        new TerraformOutput(this, `ci_${name}_apply_role_arn`, {
          value: refs.applyRoleArn,
          description: `Role the apply job assumes for ${name}`,
        });
        new TerraformOutput(this, `ci_${name}_plan_key_alias`, {
          value: `alias/${planKeyAlias(config.project, name)}`,
          description: `KMS key that seals ${name}'s reviewed plans (only its apply role opens them)`,
        });
      }
    }
  }

  private ciTargets(config: BootstrapConfig, environments: readonly EnvironmentConfig[]): Omit<CiStateTarget, "fence">[] {
    const byName = new Map(environments.map((e) => [e.name, e]));
    return (config.ci?.environments ?? []).map((ci) => {
      const env = byName.get(ci.name);
      if (!env) throw new Error(`${this.node.path}: ci.environments: no environment named ${JSON.stringify(ci.name)}`);
      const prefix = namePrefix(env.project, env.name);
      return {
        ...ci,
        namePrefix: prefix,
        stateKey: stateKey(env),
        boundaryArn: workloadBoundaryArn(env.accountId, env.project, env.name),
        cacheTokenSecretName: authTokenSecretName(prefix),
      };
    });
  }
}

/** The bootstrap resources every fence names: state bucket, lock table, state key, the audit trail. */
export type FenceArns = Pick<FenceProps, "stateBucketArn" | "lockTableArn" | "stateKeyArn" | "protectedArns">;

/**
 * The fence of every environment in the bootstrap's account: its state, the other environments' state keys
 * and DNS names, the bootstrap resources.
 */
export function environmentFences(
  config: BootstrapConfig,
  environments: readonly EnvironmentConfig[],
  arns: FenceArns,
): Map<string, FenceProps> {
  const local = environments.filter((e) => e.accountId === config.accountId);
  const names = (e: EnvironmentConfig) => (e.edge.hostedZone ? [e.edge.domainName, ...(e.edge.alternativeNames ?? [])] : []);
  return new Map(
    local.map((env) => {
      const others = local.filter((e) => e.name !== env.name);
      const fence: FenceProps = {
        ...arns,
        accountId: config.accountId,
        region: config.region,
        project: env.project,
        environment: env.name,
        stateKey: stateKey(env),
        otherStateKeys: [...others.map(stateKey), "bootstrap"],
        recordNames: names(env),
        otherRecordNames: others.flatMap(names),
      };
      return [env.name, fence];
    }),
  );
}

/** IAM's limit on a managed policy's document, in characters without whitespace. */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/**
 * The size of each permissions boundary the bootstrap stack writes, once its references are the ARNs they
 * will be (a KMS key id is 36 characters), so a boundary IAM would refuse fails before anything is applied.
 */
export function boundarySizes(
  config: BootstrapConfig,
  environments: readonly EnvironmentConfig[],
): Array<{ readonly environment: string; readonly policy: string; readonly chars: number }> {
  const state = config.state;
  const bucket = formatArn({ service: "s3", resource: state.bucket });
  const audit = resolveStateAuditSettings(config.stateAudit).enabled
    ? [
        formatArn({ service: "cloudtrail", region: state.region, account: config.accountId, resource: `trail/${state.bucket}-reads` }),
        formatArn({ service: "s3", resource: auditBucketName(state.bucket) }),
        formatArn({ service: "s3", resource: `${auditBucketName(state.bucket)}/*` }),
      ]
    : [];
  const fences = environmentFences(config, environments, {
    stateBucketArn: bucket,
    lockTableArn: formatArn({ service: "dynamodb", region: state.region, account: config.accountId, resource: `table/${state.lockTable}` }),
    stateKeyArn: formatArn({
      service: "kms",
      region: state.region,
      account: config.accountId,
      resource: `key/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`,
    }),
    protectedArns: audit,
  });
  const ci = new Set((config.ci?.environments ?? []).map((e) => e.name));
  return [...fences.values()].flatMap((fence) => {
    const env = environments.find((e) => e.name === fence.environment)!;
    const sizes = [
      { environment: env.name, policy: workloadBoundaryName(env.project, env.name), chars: workloadBoundaryDocument(fence).length },
    ];
    if (ci.has(env.name)) {
      const target = {
        namePrefix: namePrefix(env.project, env.name),
        boundaryArn: workloadBoundaryArn(env.accountId, env.project, env.name),
        fence,
      };
      const document = applyBoundaryDocument(target, serviceLinkedRolesArn(config.accountId), GRANT_ACTIONS, config.accountId);
      sizes.push({ environment: env.name, policy: applyBoundaryName(config.project, env.name), chars: document.length });
    }
    return sizes;
  });
}

export function buildBootstrap(app: App, config: BootstrapConfig, environments: readonly EnvironmentConfig[]): BootstrapStack {
  return new BootstrapStack(app, config, environments);
}
