// Composes one environment: provider, remote state, and the modules in dependency order, then the
// cross-module security-group rules and grants last, so no module reaches into another.
// Also the bootstrap stack that creates the state bucket and lock table.
import { App, Aspects, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { BootstrapConfig, EnvironmentConfig } from "../../environments/schema/types";
import { Certificate } from "../certificate";
import { applyBoundaryDocument, applyBoundaryName, ciRoleName, CiRoles, CiStateTarget, GRANT_ACTIONS, planKeyAlias, serviceLinkedRolesArn } from "../bootstrap/ci-roles";
import { formatArn } from "../primitives/arn";
import { EncryptionKey, logsServiceGrant } from "../primitives/encryption-key";
import { namePrefix, standardTags } from "../primitives/naming";
import { addWarning } from "../primitives/warnings";
import { authTokenSecretName, Cache } from "../cache";
import { Compute, templateRefWarning } from "../compute";
import { rollBackRefreshOn } from "../compute/alarms";
import { Database } from "../database";
import { FileSystem } from "../file-system";
import { LoadBalancer, targetHealthySeconds } from "../load-balancer";
import { Monitoring } from "../monitoring";
import { Networking } from "../networking";
import { Preflight } from "../preflight";
import { environmentRolesArn, FenceProps } from "../bootstrap/environment-fence";
import { linkedWarnings } from "../rules/linked-settings";
import { quotaWarnings, warningText } from "../rules/quotas";
import {
  BucketPolicyFenceAspect,
  KeyPolicyFenceAspect,
  otherEnvironmentsBucketDeny,
  otherEnvironmentsKeyDeny,
  PermissionsBoundaryAspect,
  WorkloadBoundary,
  workloadBoundaryArn,
  workloadBoundaryDocument,
  workloadBoundaryName,
} from "../bootstrap/permissions-boundary";
import { Secrets } from "../secrets";
import { auditBucketName, StateStorage, stateKeyAlias, useRemoteState } from "../bootstrap/state-backend";
import { Waf } from "../waf";

/** Stack name of the bootstrap stack (of the first account; a further account's is `bootstrap-<suffix>`). */
export const BOOTSTRAP_STACK = "bootstrap";

/** Stack name of a bootstrap config. */
export function bootstrapStackName(config: BootstrapConfig): string {
  return config.name ?? BOOTSTRAP_STACK;
}

/**
 * The oldest engine every stack works with: the S3 backend takes the state key's alias ARN as `kms_key_id`
 * from Terraform 1.11 (1.10 refuses it at init). OpenTofu checks the same constraint against its own version.
 */
export const REQUIRED_ENGINE_VERSION = ">= 1.11";

/** States the engine version a stack needs, so an older engine stops at init instead of mid-apply. */
function requireEngine(stack: TerraformStack): void {
  // why: cdktf 0.21's TerraformStack has no prop for terraform.required_version.
  stack.addOverride("terraform.required_version", REQUIRED_ENGINE_VERSION);
}

/** State object key of an environment. */
export function stateKey(config: EnvironmentConfig): string {
  return `${config.state.keyPrefix ?? "environments"}/${config.name}/terraform.tfstate`;
}

function awsProvider(scope: Construct, props: {
  region: string;
  accountId: string;
  assumeRoleArn?: string;
  tags: Record<string, string>;
}): AwsProvider {
  return new AwsProvider(scope, "aws", {
    region: props.region,
    allowedAccountIds: [props.accountId],
    assumeRole: props.assumeRoleArn ? [{ roleArn: props.assumeRoleArn, sessionName: "cdktf" }] : undefined,
    defaultTags: [{ tags: props.tags }],
  });
}

/** The public edge of an environment; the app tier's ingress rule is written against `loadBalancer`. */
export interface Edge {
  readonly certificate: Certificate;
  readonly loadBalancer: LoadBalancer;
  /** Present where the environment enables WAF. */
  readonly waf?: Waf;
}

export class EnvironmentStack extends TerraformStack {
  readonly config: EnvironmentConfig;
  readonly network: Networking;
  readonly logsKey: EncryptionKey;
  readonly edge: Edge;
  readonly secrets: Secrets;
  readonly database: Database;
  readonly fileSystem: FileSystem;
  readonly cache: Cache;
  readonly compute: Compute;
  readonly monitoring: Monitoring;

  /** `known`: every environment, for the quotas environments in one account and region share. */
  constructor(scope: Construct, config: EnvironmentConfig, known: readonly EnvironmentConfig[] = [config]) {
    super(scope, config.name);
    requireEngine(this);
    this.config = config;
    const prefix = namePrefix(config.project, config.name);

    awsProvider(this, {
      region: config.region,
      accountId: config.accountId,
      assumeRoleArn: config.assumeRoleArn,
      tags: standardTags({
        project: config.project,
        environment: config.name,
        repository: config.repository,
        extraTags: config.tags,
      }),
    });
    useRemoteState(this, config.state, stateKey(config), config.state.accountId ?? config.accountId);
    // Every role this stack creates carries the environment's boundary (created by the bootstrap stack).
    Aspects.of(this).add(new PermissionsBoundaryAspect(workloadBoundaryArn(config.accountId, config.project, config.name)));
    // Every key's policy refuses the project's other environments' roles, whatever their IAM policies say.
    Aspects.of(this).add(new KeyPolicyFenceAspect(otherEnvironmentsKeyDeny(config.accountId, config.project, config.name)));
    // And every bucket's policy (objects carry no tag the fence could read).
    Aspects.of(this).add(new BucketPolicyFenceAspect((bucket) => otherEnvironmentsBucketDeny(config.accountId, config.project, config.name, bucket)));

    this.logsKey = new EncryptionKey(this, "logs-key", {
      description: `${prefix}: CloudWatch Logs`,
      alias: `${prefix}-logs`,
      accountId: config.accountId,
      services: [logsServiceGrant(config.region, config.accountId)],
    });

    // What only the account knows (zones it has, types offered there) fails the plan, before any resource.
    const preflight = new Preflight(this, "preflight", {
      availabilityZones: config.network.availabilityZones,
      instanceType: config.compute.instanceType,
      instanceTypes: config.compute.purchaseMix?.instanceTypes,
    });
    // Combinations that are legal but risky, default quotas the settings exceed, and a ref still the template's
    // example (acknowledged as `preflight.<id>`).
    const templateRef = templateRefWarning(config.compute.repository.ref);
    for (const warning of [...linkedWarnings(config), ...quotaWarnings(config, known), ...(templateRef ? [templateRef] : [])]) {
      addWarning(preflight, { id: warning.id, message: warningText(warning) });
    }

    this.network = new Networking(this, "network", {
      ...config.network,
      namePrefix: prefix,
      region: config.region,
      accountId: config.accountId,
      logsKeyArn: this.logsKey.arn,
    });

    const account = { namePrefix: prefix, region: config.region, accountId: config.accountId };
    const dataTier = { vpcId: this.network.vpcId, subnetIds: this.network.dataSubnetIds };
    this.secrets = new Secrets(this, "secrets", { ...config.secrets, ...account });
    this.database = new Database(this, "database", {
      ...config.database,
      ...account,
      ...dataTier,
      secretsKeyArn: this.secrets.keyArn,
      logsKeyArn: this.logsKey.arn,
      logRetentionDays: config.logRetentionDays,
      secretRecoveryWindowDays: config.secrets.recoveryWindowDays,
    });
    this.fileSystem = new FileSystem(this, "file-system", { ...config.fileSystem, ...account, ...dataTier });
    this.cache = new Cache(this, "cache", {
      ...config.cache,
      ...account,
      ...dataTier,
      secretsKeyArn: this.secrets.keyArn,
      secretRecoveryWindowDays: config.secrets.recoveryWindowDays,
      logsKeyArn: this.logsKey.arn,
      logRetentionDays: config.logRetentionDays,
    });

    this.edge = this.buildEdge(config, prefix);
    this.compute = this.buildCompute(config, prefix);
    this.monitoring = new Monitoring(this, "monitoring", {
      ...config.monitoring,
      ...account,
      edge: {
        loadBalancerArnSuffix: this.edge.loadBalancer.loadBalancer.arnSuffix,
        targetGroupArnSuffix: this.edge.loadBalancer.targetGroup.arnSuffix,
        certificateArn: this.edge.certificate.arn,
        webAclName: this.edge.waf?.webAcl.name,
      },
      compute: this.compute,
      database: { identifier: this.database.instance.identifier },
      cache: { replicationGroupId: this.cache.replicationGroup.replicationGroupId, nodeCount: config.cache.nodeCount },
      fileSystem: { fileSystemId: this.fileSystem.fileSystemId, throughputMode: config.fileSystem.throughputMode },
    });
    // A rollout that sets off an app alarm rolls itself back (instance refresh alarm-based rollback): the alarms
    // that say new instances serve badly. Fleet-wide symptoms only (not database or cache load, which a rollback
    // would not cure).
    const { loadBalancer, compute } = this.monitoring.alarms;
    rollBackRefreshOn(this.compute.group, [loadBalancer.target5xxRate, loadBalancer.unhealthyHosts, compute.bootFailures, compute.launchAbandoned]);

    new TerraformOutput(this, "vpc_id", { value: this.network.vpcId, description: "VPC id" });
    new TerraformOutput(this, "app_url", { value: `https://${config.edge.domainName}`, description: "URL users reach the app at" });
    new TerraformOutput(this, "alb_dns_name", {
      value: this.edge.loadBalancer.loadBalancer.dnsName,
      description: "Load balancer DNS name: the CNAME target for the app's names where DNS is hosted outside Route 53",
    });
    new TerraformOutput(this, "certificate_arn", { value: this.edge.certificate.certificate.arn, description: "ACM certificate of the HTTPS listener" });
    if (!config.edge.hostedZone) {
      new TerraformOutput(this, "certificate_validation_records", {
        value: this.edge.certificate.validationRecords,
        description: "DNS records (name, type, value) to publish at the external DNS host so ACM issues the certificate",
      });
    }
    new TerraformOutput(this, "database_endpoint", { value: this.database.endpoint, description: "Database endpoint (address:port)" });
    new TerraformOutput(this, "database_master_secret_arn", {
      value: this.database.masterUserSecretArn,
      description: "Secret RDS manages for the master user (operators only; the app instances cannot read it)",
    });
    new TerraformOutput(this, "database_app_user_secret_arn", {
      value: this.database.appUserSecretArn,
      description: "The app's database user (JSON username, password): set it with scripts/db/create-app-role.sql (runbook 2)",
    });
    new TerraformOutput(this, "file_system_id", { value: this.fileSystem.fileSystemId, description: "EFS file system of the uploads" });
    new TerraformOutput(this, "dashboard_name", { value: this.monitoring.dashboard.dashboardName, description: "CloudWatch dashboard of the environment" });
    if (this.monitoring.topic) {
      new TerraformOutput(this, "alarm_topic_arn", { value: this.monitoring.topic.arn, description: "SNS topic every alarm notifies" });
    }
    new TerraformOutput(this, "cache_primary_endpoint", { value: this.cache.primaryEndpointAddress, description: "Cache primary endpoint (TLS)" });
    new TerraformOutput(this, "app_env_secret_arn", { value: this.secrets.appEnvSecretArn, description: "Set its value with put-secret-value (README, Secrets)" });
    new TerraformOutput(this, "repository_credential_secret_arn", {
      value: this.secrets.repositoryCredentialSecretArn,
      description: "Set its value with put-secret-value (README, Secrets)",
    });
  }

  /** The app tier, then its security-group edges and grants: it consumes the edge and data modules' refs. */
  private buildCompute(config: EnvironmentConfig, prefix: string): Compute {
    const loadBalancer = this.edge.loadBalancer;
    const compute = new Compute(this, "compute", {
      ...config.compute,
      namePrefix: prefix,
      environmentName: config.name,
      region: config.region,
      accountId: config.accountId,
      vpcId: this.network.vpcId,
      subnetIds: this.network.appSubnetIds,
      logsKeyArn: this.logsKey.arn,
      logRetentionDays: config.logRetentionDays,
      targetGroup: loadBalancer.targetGroup,
      loadBalancer: loadBalancer.loadBalancer,
      deregistrationDelaySeconds: config.edge.deregistrationDelaySeconds ?? 30,
      loadBalancerIdleTimeoutSeconds: config.edge.idleTimeoutSeconds ?? 60,
      targetHealthySeconds: targetHealthySeconds(config.edge.healthCheck),
      database: this.database,
      cache: this.cache,
      fileSystem: this.fileSystem,
      secrets: this.secrets,
      grants: [
        ...this.secrets.grantRead(),
        // The app's own database user; the master secret stays with RDS and operators.
        ...this.database.grantReadAppUserSecret(),
        ...this.cache.grantReadAuthToken(),
        ...this.fileSystem.grantClient(),
      ],
      instanceTags: standardTags({ project: config.project, environment: config.name, repository: config.repository, extraTags: config.tags }),
    });
    compute.connections.allowFrom(loadBalancer, config.compute.appPort);
    this.database.connections.allowDefaultPortFrom(compute);
    this.cache.connections.allowDefaultPortFrom(compute);
    this.fileSystem.connections.allowDefaultPortFrom(compute);
    this.network.endpoints?.connections.allowDefaultPortFrom(compute);
    this.fileSystem.allowClient(compute.roleArn);
    new TerraformOutput(this, "app_autoscaling_group", { value: compute.autoScalingGroupName, description: "Auto Scaling group of the app instances" });
    new TerraformOutput(this, "app_log_group", { value: compute.logGroupName, description: "CloudWatch log group of the app instances (stream <instance-id>/<step>)" });
    return compute;
  }

  /** Certificate and DNS, the load balancer in the public subnets, and the WAF where enabled. */
  private buildEdge(config: EnvironmentConfig, prefix: string): Edge {
    const certificate = new Certificate(this, "certificate", { ...config.edge, namePrefix: prefix });
    const loadBalancer = new LoadBalancer(this, "load-balancer", {
      ...config.edge,
      // The app's port and health path are the app's settings: the target group follows them.
      appPort: config.compute.appPort,
      healthCheckPath: config.compute.healthCheckPath,
      namePrefix: prefix,
      region: config.region,
      accountId: config.accountId,
      vpcId: this.network.vpcId,
      publicSubnetIds: this.network.publicSubnetIds,
      certificateArn: certificate.arn,
    });
    if (config.edge.routeTraffic) certificate.routeTo(loadBalancer.loadBalancer);
    const waf = config.edge.waf.enabled
      ? new Waf(this, "waf", {
          ...config.edge.waf,
          namePrefix: prefix,
          region: config.region,
          accountId: config.accountId,
          loadBalancerArn: loadBalancer.loadBalancer.arn,
          logsKeyArn: this.logsKey.arn,
          logRetentionDays: config.logRetentionDays,
        })
      : undefined;
    return { certificate, loadBalancer, waf };
  }
}

/** Builds one environment's stack without synthesizing, so tests and main.ts share the same path. */
export function buildEnvironment(app: App, config: EnvironmentConfig, known?: readonly EnvironmentConfig[]): EnvironmentStack {
  return new EnvironmentStack(app, config, known);
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
        principalArns: [...(ciNames.has(env.name) ? [roleArn(env.name, "plan"), roleArn(env.name, "apply")] : []), environmentRolesArn(env.accountId, env.project, env.name)],
        key: stateKey(env),
      })),
      // No role an environment's stack creates needs the state key: its policy refuses them all.
      keyDeniedPrincipalArns: local.map((env) => environmentRolesArn(env.accountId, env.project, env.name)),
    });
    new TerraformOutput(this, "state_bucket", { value: this.storage.bucket.bucket });
    new TerraformOutput(this, "lock_table", { value: this.storage.lockTable.name });
    new TerraformOutput(this, "state_key_alias", { value: `alias/${stateKeyAlias(config.state.bucket)}`, description: "KMS key every state write is encrypted with" });
    if (this.storage.trail) {
      new TerraformOutput(this, "state_audit_trail", { value: this.storage.trail.name, description: "CloudTrail trail of every state object read and write" });
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
        new TerraformOutput(this, `ci_${name}_plan_role_arn`, { value: refs.planRoleArn, description: `Role the pull-request plan job assumes for ${name}` });
        new TerraformOutput(this, `ci_${name}_apply_role_arn`, { value: refs.applyRoleArn, description: `Role the apply job assumes for ${name}` });
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
export function environmentFences(config: BootstrapConfig, environments: readonly EnvironmentConfig[], arns: FenceArns): Map<string, FenceProps> {
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
export function boundarySizes(config: BootstrapConfig, environments: readonly EnvironmentConfig[]): Array<{ readonly environment: string; readonly policy: string; readonly chars: number }> {
  const state = config.state;
  const bucket = formatArn({ service: "s3", resource: state.bucket });
  const audit =
    config.stateAudit?.enabled === false
      ? []
      : [
          formatArn({ service: "cloudtrail", region: state.region, account: config.accountId, resource: `trail/${state.bucket}-reads` }),
          formatArn({ service: "s3", resource: auditBucketName(state.bucket) }),
          formatArn({ service: "s3", resource: `${auditBucketName(state.bucket)}/*` }),
        ];
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
    const sizes = [{ environment: env.name, policy: workloadBoundaryName(env.project, env.name), chars: workloadBoundaryDocument(fence).length }];
    if (ci.has(env.name)) {
      const target = { namePrefix: namePrefix(env.project, env.name), boundaryArn: workloadBoundaryArn(env.accountId, env.project, env.name), fence };
      const document = applyBoundaryDocument(target, serviceLinkedRolesArn(config.accountId), GRANT_ACTIONS, config.accountId);
      sizes.push({ environment: env.name, policy: applyBoundaryName(config.project, env.name), chars: document.length });
    }
    return sizes;
  });
}

export function buildBootstrap(app: App, config: BootstrapConfig, environments: readonly EnvironmentConfig[]): BootstrapStack {
  return new BootstrapStack(app, config, environments);
}
