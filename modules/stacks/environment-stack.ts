// Composes one environment: provider, remote state, and the modules in dependency order, then the
// cross-module security-group rules and grants last, so no module reaches into another.
import { App, Aspects, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../../environments/schema/types";
import { Certificate } from "../certificate";
import { EncryptionKey, logsServiceGrant } from "../primitives/encryption-key";
import { namePrefix, standardTags } from "../primitives/naming";
import { addWarning } from "../primitives/warnings";
import { Cache } from "../cache";
import { Compute, templateRefWarning } from "../compute";
import { rollBackRefreshOn } from "../compute/alarms";
import { Database } from "../database";
import { FileSystem } from "../file-system";
import { LoadBalancer } from "../load-balancer";
import { Monitoring } from "../monitoring";
import { Networking } from "../networking";
import { Preflight } from "../preflight";
import { linkedWarnings } from "../rules/linked-settings";
import { quotaWarnings, warningText } from "../rules/quotas";
import {
  BucketPolicyFenceAspect,
  KeyPolicyFenceAspect,
  otherEnvironmentsBucketDeny,
  otherEnvironmentsKeyDeny,
  PermissionsBoundaryAspect,
  workloadBoundaryArn,
} from "../bootstrap/permissions-boundary";
import { Secrets } from "../secrets";
import { useRemoteState } from "../bootstrap/state-backend";
import { Waf } from "../waf";
import { awsProvider, requireEngine, stateKey } from "./common";

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
    Aspects.of(this).add(
      new BucketPolicyFenceAspect((bucket) => otherEnvironmentsBucketDeny(config.accountId, config.project, config.name, bucket)),
    );

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
    rollBackRefreshOn(this.compute.group, [
      loadBalancer.target5xxRate,
      loadBalancer.unhealthyHosts,
      compute.bootFailures,
      compute.launchAbandoned,
    ]);

    new TerraformOutput(this, "vpc_id", { value: this.network.vpcId, description: "VPC id" });
    new TerraformOutput(this, "app_url", { value: `https://${config.edge.domainName}`, description: "URL users reach the app at" });
    new TerraformOutput(this, "alb_dns_name", {
      value: this.edge.loadBalancer.loadBalancer.dnsName,
      description: "Load balancer DNS name: the CNAME target for the app's names where DNS is hosted outside Route 53",
    });
    new TerraformOutput(this, "certificate_arn", {
      value: this.edge.certificate.certificate.arn,
      description: "ACM certificate of the HTTPS listener",
    });
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
    new TerraformOutput(this, "dashboard_name", {
      value: this.monitoring.dashboard.dashboardName,
      description: "CloudWatch dashboard of the environment",
    });
    if (this.monitoring.topic) {
      new TerraformOutput(this, "alarm_topic_arn", { value: this.monitoring.topic.arn, description: "SNS topic every alarm notifies" });
    }
    new TerraformOutput(this, "cache_primary_endpoint", {
      value: this.cache.primaryEndpointAddress,
      description: "Cache primary endpoint (TLS)",
    });
    new TerraformOutput(this, "app_env_secret_arn", {
      value: this.secrets.appEnvSecretArn,
      description: "Set its value with put-secret-value (README, Secrets)",
    });
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
      deregistrationDelaySeconds: loadBalancer.settings.deregistrationDelaySeconds,
      loadBalancerIdleTimeoutSeconds: loadBalancer.settings.idleTimeoutSeconds,
      targetHealthySeconds: loadBalancer.settings.targetHealthySeconds,
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
      instanceTags: standardTags({
        project: config.project,
        environment: config.name,
        repository: config.repository,
        extraTags: config.tags,
      }),
    });
    compute.connections.allowFrom(loadBalancer, config.compute.appPort);
    this.database.connections.allowDefaultPortFrom(compute);
    this.cache.connections.allowDefaultPortFrom(compute);
    this.fileSystem.connections.allowDefaultPortFrom(compute);
    this.network.endpoints?.connections.allowDefaultPortFrom(compute);
    this.fileSystem.allowClient(compute.roleArn);
    new TerraformOutput(this, "app_autoscaling_group", {
      value: compute.autoScalingGroupName,
      description: "Auto Scaling group of the app instances",
    });
    new TerraformOutput(this, "app_log_group", {
      value: compute.logGroupName,
      description: "CloudWatch log group of the app instances (stream <instance-id>/<step>)",
    });
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
