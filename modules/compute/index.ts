// The app tier: a launch template (Amazon Linux 2023, IMDSv2, encrypted gp3, no public IP, a user data loader
// for the boot bundle), the boot bundle's bucket, the timed jobs' slot table, a least-privilege instance role,
// the app security group, and an Auto Scaling group with a boot-gate launch hook, a draining terminate hook,
// target tracking, optional schedules and warm pool, and rolling instance refresh. It creates no data store
// of the app's: it consumes the data and edge modules' refs.
//
// This file composes the rooms, each one job: settings.ts (the settings, their defaults and check), props.ts
// (what the stack passes in), repository.ts and runtime.ts (the app's source and OS packages), instance-role.ts,
// launch-template.ts, group.ts (group, hooks, refresh, warm pool), scaling.ts (target tracking, schedules), and
// the boot: boot-script.ts, boot-bundle.ts, jobs.ts with cron.ts, purchase-mix.ts. Each part is created in this
// construct's scope, so resource ids and paths are the construct's own.
import { Construct } from "constructs";
import type { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Connectable, Connections, ownSecurityGroup } from "../primitives/connections";
import type { EncryptionKey } from "../primitives/encryption-key";
import { formatArn } from "../primitives/arn";
import { EncryptedLogGroup } from "../primitives/log-group";
import { assertValid } from "../primitives/validation";
import { addWarning, type Warning } from "../primitives/warnings";
import { BootBundle } from "./boot-bundle";
import { renderBootBundle } from "./boot-script";
import { addAutoScalingGroup, LAUNCH_HOOK_NAME, TERMINATE_HOOK_NAME } from "./group";
import { addInstanceRole } from "./instance-role";
import {
  JobTable,
  DEFAULT_RECORD_RETENTION_DAYS,
  jobsConfig,
  jobsDrainTimeoutSeconds,
  resolveCronJob,
  timedJobsParameterName,
} from "./jobs";
import { addLaunchTemplate } from "./launch-template";
import { checkComputeProps, ComputeProps, resolveComputeProps } from "./props";
import { launchesSpot, resolvePurchaseMix } from "./purchase-mix";
import { runtimePackages } from "./runtime";
import { addScheduledActions, addTargetTracking } from "./scaling";

export { cronFirings, cronPeriod, cronProblem } from "./cron";
export * from "./purchase-mix";
export { renderBootBundle, renderBootScript, renderUserData, expandUserData, shellQuote, scriptPath, projectRoot } from "./boot-script";
export { BootBundle, bootBucketName } from "./boot-bundle";
export {
  checkCronJobs,
  CLOCK_SKEW_MARGIN_SECONDS,
  JOBS_CONFIG_PATH,
  JOBS_STATE_DIR,
  jobsConfig,
  jobsDrainTimeoutSeconds,
  JobTable,
  KILL_GRACE_SECONDS,
  resolveCronJob,
  retrySpanSeconds,
  slotsRead,
  timedJobsParameterName,
} from "./jobs";
export type { CronJobSettings, CronJobTiming, JobTableSettings, ResolvedCronJob } from "./jobs";
export * from "./repository";
export * from "./runtime";
export * from "./settings";
export * from "./props";
export * from "./instance-role";
export * from "./launch-template";
export * from "./group";
export * from "./scaling";

/**
 * The certificate authorities of every RDS region (the commercial partition), which the app verifies the
 * database's TLS certificate against (DATABASE_SSL_CA); downloaded at boot, since the AMI has none.
 */
export const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";
/** CloudWatch Logs filter pattern matching the boot script's failure line (`... FAILED with status N at line L ...`). */
export const BOOT_FAILURE_PATTERN = '"FAILED with status"';

/** The app tier as the composing stack consumes it. */
export interface ComputeRefs {
  readonly autoScalingGroupName: string;
  readonly autoScalingGroupArn: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly launchTemplateId: string;
  readonly logGroupName: string;
  readonly securityGroupId: string;
  /** Filter pattern for the boot script's failure line in the log group. */
  readonly bootFailurePattern: string;
  /** CloudWatch namespace of the app's metrics: boot failures, and the timed jobs' (JobFailures, ...). */
  readonly metricsNamespace: string;
}

/** The settings the group's warnings are about (acknowledged as `compute.<id>`). */
export type ComputeWarningId = "repository.sshKnownHosts";

export class Compute extends Construct implements Connectable, ComputeRefs {
  /** The app security group; default port = the app port. */
  readonly connections: Connections;
  readonly securityGroup: SecurityGroup;
  readonly role: IamRole;
  readonly launchTemplate: LaunchTemplate;
  readonly group: AutoscalingGroup;
  readonly logGroup: EncryptedLogGroup;
  readonly volumeKey: EncryptionKey;
  readonly autoScalingGroupName: string;
  readonly autoScalingGroupArn: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly launchTemplateId: string;
  readonly logGroupName: string;
  readonly securityGroupId: string;
  readonly bootFailurePattern = BOOT_FAILURE_PATTERN;
  readonly metricsNamespace: string;
  /** The rendered user data (before base64), with Terraform references as tokens. */
  readonly userData: string;
  /** Whether the purchase mix may launch Spot Instances (their interruptions are alarmed). */
  readonly launchesSpot: boolean;
  /** The longest an instance may take from launch to in service: the boot budget plus one step. */
  readonly launchWindowSeconds: number;
  readonly bootBundle: BootBundle;
  readonly jobTable: JobTable;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    assertValid(this, props, checkComputeProps);
    const s = resolveComputeProps(props);

    const name = `${s.namePrefix}-app`;
    this.autoScalingGroupName = name;
    this.launchesSpot = launchesSpot(resolvePurchaseMix(s.purchaseMix, s.instanceType), s.maxCapacity);
    this.launchWindowSeconds = s.launchWindowSeconds;
    // Built from parts, not from the group, so the role's policy does not depend on the group it launches into.
    this.autoScalingGroupArn = formatArn({
      service: "autoscaling",
      region: s.region,
      account: s.accountId,
      resource: `autoScalingGroup:*:autoScalingGroupName/${name}`,
    });

    ({ securityGroup: this.securityGroup, connections: this.connections } = ownSecurityGroup(this, {
      name: "app",
      groupName: name,
      description: "App instances: the app port from the load balancer; egress by explicit rules",
      vpcId: s.vpcId,
      defaultPort: s.appPort,
    }));
    this.securityGroupId = this.securityGroup.id;
    new VpcSecurityGroupEgressRule(this, "egress-https", {
      securityGroupId: this.securityGroup.id,
      cidrIpv4: "0.0.0.0/0",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "HTTPS to AWS APIs and the git host",
    });

    const logGroupName = `/${s.namePrefix}/app`;
    this.logGroup = new EncryptedLogGroup(this, "logs", { name: logGroupName, retentionDays: s.logRetentionDays, kmsKeyArn: s.logsKeyArn });
    this.logGroupName = this.logGroup.name;
    this.metricsNamespace = `${s.namePrefix}/app`;

    // Timed jobs: the slot table, and the runner's configuration the boot writes.
    this.jobTable = new JobTable(this, "jobs", {
      ...s.jobTable,
      namePrefix: s.namePrefix,
      region: s.region,
      accountId: s.accountId,
    });
    const cronJobs = s.cronJobs.map((job) => resolveCronJob(job, s.cronDefaults));
    const runnerConfig = jobsConfig(
      cronJobs,
      {
        // The name, not the resource's attribute: the bundle's content (and key) is known at synth time.
        table: `${s.namePrefix}-jobs`,
        region: s.region,
        namespace: this.metricsNamespace,
        recordRetentionDays: s.jobTable?.recordRetentionDays ?? DEFAULT_RECORD_RETENTION_DAYS,
        logDir: "/var/log/webapp",
        switchParameter: timedJobsParameterName(s.namePrefix),
      },
      "/etc/webapp/cron",
    );

    // The boot bundle: everything the boot needs that is known at synth time, in S3 (user data is 16 KB).
    this.bootBundle = new BootBundle(this, "boot-bundle", {
      namePrefix: s.namePrefix,
      region: s.region,
      accountId: s.accountId,
      content: renderBootBundle({
        environmentName: s.environmentName,
        region: s.region,
        autoScalingGroupName: name,
        launchHookName: LAUNCH_HOOK_NAME,
        terminateHookName: TERMINATE_HOOK_NAME,
        logGroupName,
        appUser: s.appUser,
        appPort: s.appPort,
        uploadsPath: s.uploadsPath,
        healthCheckPath: s.healthCheckPath,
        databaseCaBundleUrl: RDS_CA_BUNDLE_URL,
        healthCheckWaitSeconds: s.healthCheckWaitSeconds,
        bootTimeoutSeconds: s.bootTimeoutSeconds,
        bootStepTimeoutSeconds: s.bootStepTimeoutSeconds,
        repositoryUrl: s.repository.url,
        repositoryRef: s.repository.ref,
        repositoryDirectory: s.repository.directory,
        allowBranchRef: s.repository.allowBranchRef,
        credentialType: s.repository.credentialType,
        httpsUsername: s.repository.httpsUsername,
        sshKnownHosts: s.repository.sshKnownHosts,
        runtimePackages: runtimePackages(s.runtime),
        buildCommands: s.buildCommands,
        startCommand: s.startCommand,
        cronJobs: cronJobs.map((j) => ({ name: j.name, command: j.command })),
        jobsConfig: runnerConfig,
        jobsDrainTimeoutSeconds: jobsDrainTimeoutSeconds(s.deregistrationDelaySeconds),
        deregistrationDelaySeconds: s.deregistrationDelaySeconds,
        loadBalancerIdleTimeoutSeconds: s.loadBalancerIdleTimeoutSeconds,
        targetHealthySeconds: s.targetHealthySeconds,
      }),
    });
    if (s.repository.credentialType === "ssh-key" && s.repository.sshKnownHosts.length === 0) {
      addWarning(this, {
        id: "repository.sshKnownHosts",
        message: "repository.sshKnownHosts is empty: the git host's key is accepted on first use",
      } satisfies Warning<ComputeWarningId>);
    }

    const instanceRole = addInstanceRole(this, {
      name,
      namePrefix: s.namePrefix,
      region: s.region,
      accountId: s.accountId,
      logGroupArn: this.logGroup.arn,
      autoScalingGroupArn: this.autoScalingGroupArn,
      targetGroupArn: s.targetGroup.arn,
      metricsNamespace: this.metricsNamespace,
      bootBundle: this.bootBundle,
      jobTable: this.jobTable,
      grants: s.grants,
    });
    this.role = instanceRole.role;
    this.roleArn = this.role.arn;
    this.roleName = this.role.name;

    const tags = { ...s.instanceTags, Name: name };
    const template = addLaunchTemplate(this, s, {
      name,
      securityGroupId: this.securityGroup.id,
      instanceProfileArn: instanceRole.profile.arn,
      bootBundle: this.bootBundle,
      tags,
    });
    ({ launchTemplate: this.launchTemplate, volumeKey: this.volumeKey, userData: this.userData } = template);
    this.launchTemplateId = this.launchTemplate.id;

    this.group = addAutoScalingGroup(this, s, { name, launchTemplate: this.launchTemplate, tags, dependsOn: instanceRole.policies });
    addTargetTracking(this, s, { name, group: this.group });
    addScheduledActions(this, s, { name, group: this.group });
  }
}
