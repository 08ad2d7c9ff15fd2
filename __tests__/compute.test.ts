import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformStack, Testing } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import {
  amiParameter,
  checkComputeSettings,
  Compute,
  ComputeProps,
  ComputeSettings,
  cronProblem,
  expandUserData,
  isGraviton,
  refKind,
  runtimePackages,
} from "../modules/compute";
import { Problems } from "../modules/primitives/validation";
import { ENVIRONMENTS } from "../environments";
import { validateEnvironments } from "../environments/schema/validate";
import { environment } from "./support/fixtures";
import { Json, policy, resourceList, resources, synth, synthEnvironment } from "./support/synth";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

const settings: ComputeSettings = {
  instanceType: "t4g.small",
  minCapacity: 2,
  maxCapacity: 4,
  healthCheckGraceSeconds: 90,
  defaultInstanceWarmupSeconds: 180,
  appPort: 8080,
  repository: { url: "https://github.com/example-org/webapp.git", ref: COMMIT, credentialType: "https-token" },
  runtime: { preset: "nodejs22" },
  buildCommands: ["npm ci --omit=dev"],
  startCommand: "exec node server.js",
  healthCheckPath: "/healthz",
  cronJobs: [{ name: "nightly-report", schedule: "15 2 * * *", command: "node jobs/report.js", maxRunSeconds: 1800 }],
  scaling: { targetCpuPercent: 55, requestsPerTarget: 800 },
  scheduledActions: [
    { name: "night", recurrence: "0 20 * * *", minCapacity: 0, maxCapacity: 0, desiredCapacity: 0, timeZone: "Europe/London" },
  ],
  instanceRefreshMinHealthyPercent: 90,
};

/** Stand-ins for the edge and data modules, as plain resources so the references are real tokens. */
function build(stack: TerraformStack, patch: Partial<ComputeProps> = {}): Compute {
  const ref = (id: string) => new SsmParameter(stack, id, { name: id, type: "String", value: id });
  const db = ref("db");
  const cache = ref("cache");
  const fs = ref("fs");
  const secrets = ref("secrets");
  return new Compute(stack, "compute", {
    ...settings,
    namePrefix: "webapp-test",
    environmentName: "test",
    region: "eu-west-2",
    accountId: "111111111111",
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    logsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/logs",
    logRetentionDays: 30,
    targetGroup: { arn: "arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/app/abc", arnSuffix: "targetgroup/app/abc" },
    loadBalancer: { arnSuffix: "app/webapp-test/def" },
    deregistrationDelaySeconds: 60,
    database: { address: db.value, port: 5432, databaseName: "app", engine: "postgres", appUserSecretArn: db.arn },
    cache: { primaryEndpointAddress: cache.value, port: 6379, tls: true, authTokenSecretArn: cache.arn },
    fileSystem: { fileSystemId: fs.value, fileSystemArn: fs.arn, accessPointId: "fsap-1", accessPointArn: `${fs.arn}/ap` },
    secrets: { appEnvSecretArn: secrets.arn, repositoryCredentialSecretArn: `${secrets.arn}-repo` },
    grants: [
      { Sid: "ReadSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: [secrets.arn, db.arn, cache.arn] },
      { Sid: "Mount", Effect: "Allow", Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], Resource: fs.arn },
    ],
    instanceTags: { Project: "webapp", Environment: "test" },
    ...patch,
  });
}

function synthCompute(patch: Partial<ComputeProps> = {}): { text: string; json: Json; compute: Compute } {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "eu-west-2" });
  const compute = build(stack, patch);
  return { compute, ...synth(stack) };
}

/** The resource of `type` created under the compute construct with id `id`. */
function named(synthesized: Json, type: string, id: string): Json {
  const matches = Object.entries(resources(synthesized, type)).filter(([name]) => new RegExp(`^compute_${id}_[0-9A-F]{8}$`).test(name));
  if (matches.length !== 1) throw new Error(`expected one ${type} with id ${id}, found ${matches.length}`);
  return matches[0]![1];
}

const { text, json, compute } = synthCompute();
const template = named(json, "aws_launch_template", "template");
const group = named(json, "aws_autoscaling_group", "group");

describe("launch template", () => {
  test("uses the newest arm64 Amazon Linux 2023 through an SSM data source for a Graviton type", () => {
    const [parameter] = Object.values(json.data.aws_ssm_parameter as Record<string, Json>);
    expect(parameter?.name).toBe("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
    expect(template.image_id).toMatch(/^\$\{data\.aws_ssm_parameter\..*\.insecure_value\}$/);
  });

  test("an explicit AMI id replaces the parameter", () => {
    const pinned = synthCompute({ amiId: "ami-0123456789abcdef0" });
    expect(pinned.json.data?.aws_ssm_parameter).toBeUndefined();
    expect(pinned.text).toHaveResourceWithProperties(LaunchTemplate, { image_id: "ami-0123456789abcdef0" });
  });

  test("IMDSv2 only, hop limit 1, detailed monitoring, no public IP, the app security group", () => {
    expect(text).toHaveResourceWithProperties(LaunchTemplate, {
      instance_type: "t4g.small",
      metadata_options: {
        http_endpoint: "enabled",
        http_tokens: "required",
        http_put_response_hop_limit: 1,
        instance_metadata_tags: "disabled",
      },
      monitoring: { enabled: true },
      network_interfaces: [
        {
          device_index: 0,
          associate_public_ip_address: "false",
          delete_on_termination: "true",
          security_groups: [expect.stringMatching(/^\$\{aws_security_group\.compute_sg_\w+\.id\}$/)],
        },
      ],
      iam_instance_profile: { arn: expect.stringContaining("aws_iam_instance_profile") },
    });
  });

  test("encrypted gp3 root volume with the compute volume key", () => {
    expect(template.block_device_mappings).toEqual([
      {
        device_name: "/dev/xvda",
        ebs: expect.objectContaining({
          volume_type: "gp3",
          volume_size: 20,
          encrypted: "true",
          delete_on_termination: "true",
          kms_key_id: expect.stringContaining("aws_kms_key"),
        }),
      },
    ]);
  });

  test("tags instances, volumes and interfaces", () => {
    const specs = template.tag_specifications as Json[];
    expect(specs.map((s) => s.resource_type)).toEqual(["instance", "volume", "network-interface"]);
    for (const spec of specs) expect(spec.tags).toEqual({ Project: "webapp", Environment: "test", Name: "webapp-test-app" });
  });

  test("user data is the loader of the boot bundle, base64-encoded by Terraform; the bundle is the rendered boot script", () => {
    expect(template.user_data).toMatch(/^\$\{base64encode\("#!\/bin\/bash\\n/);
    expect(template.user_data).toContain("DB_HOST='${aws_ssm_parameter.db.value}'");
    expect(template.user_data).toContain("EFS_ACCESS_POINT_ID='fsap-1'");
    const [object] = resourceList(json, "aws_s3_object");
    const bundle = Buffer.from(object!.content_base64, "base64");
    const sha = createHash("sha256").update(bundle).digest("hex");
    expect(object).toEqual(
      expect.objectContaining({
        key: `boot/${sha}.sh.gz`,
        server_side_encryption: "aws:kms",
        kms_key_id: expect.stringMatching(/aws_kms_key\.compute_boot-bundle_key/),
      }),
    );
    expect(template.user_data).toContain(`BOOT_BUNDLE_SHA256='${sha}'`);
    expect(template.user_data).toContain(`BOOT_BUNDLE_OBJECT='boot/${sha}.sh.gz'`);
    expect(template.user_data).toMatch(/BOOT_BUNDLE_VERSION='\$\{aws_s3_object\.compute_boot-bundle_\w+\.version_id\}'/);
    const script = expandUserData(compute.userData, bundle);
    expect(script).toContain("REPO_REF='0123456789abcdef0123456789abcdef01234567'");
    expect(script).toContain("LAUNCH_HOOK_NAME='boot'");
    expect(script).toContain("RUNTIME_PACKAGES=('nodejs22' 'nodejs22-npm')");
    expect(script).toContain("DB_CA_BUNDLE_URL='https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem'");
    expect(script).toMatch(/^  dnf install -y -q git .* "\$\{RUNTIME_PACKAGES\[@\]\}"$/m);
  });

  test("the volume key lets the Auto Scaling service-linked role create encrypted volumes", () => {
    const key = named(json, "aws_kms_key", "volume-key");
    const statements = policy(key!.policy).Statement as Json[];
    const role = "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
    expect(statements).toContainEqual(
      expect.objectContaining({ Principal: { AWS: role }, Action: expect.arrayContaining(["kms:GenerateDataKey*", "kms:Decrypt"]) }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { AWS: role },
        Action: ["kms:CreateGrant"],
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      }),
    );
  });
});

describe("instance role", () => {
  const role = named(json, "aws_iam_role", "role");
  const inline = Object.fromEntries(resourceList(json, "aws_iam_role_policy").map((p) => [p.name, policy(p.policy).Statement as Json[]]));

  test("only EC2 in this account may assume it", () => {
    expect(policy(role.assume_role_policy).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "ec2.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
      },
    ]);
  });

  test("Session Manager core is the only managed policy", () => {
    expect(resourceList(json, "aws_iam_role_policy_attachment").map((a) => a.policy_arn)).toEqual([
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]);
  });

  test("writes exactly its own log group, completes and heartbeats exactly its own group's lifecycle actions, reads exactly its own timed-jobs switch, leaves and rejoins exactly its own target group", () => {
    const logGroup = expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.compute_logs_\w+\.arn\}$/);
    const logGroupStreams = expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.compute_logs_\w+\.arn\}:\*$/);
    expect(inline["own-resources"]).toEqual([
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroup, logGroupStreams],
      },
      {
        Sid: "OwnLifecycleActions",
        Effect: "Allow",
        Action: ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
        Resource: "arn:aws:autoscaling:eu-west-2:111111111111:autoScalingGroup:*:autoScalingGroupName/webapp-test-app",
      },
      {
        Sid: "ReadTimedJobsSwitch",
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: "arn:aws:ssm:eu-west-2:111111111111:parameter/webapp-test/timed-jobs",
      },
      {
        Sid: "OwnTargetGroupMembership",
        Effect: "Allow",
        Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
        Resource: "arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/app/abc",
      },
      {
        Sid: "ReadBootBundles",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: expect.stringMatching(/^\$\{aws_s3_bucket\.compute_boot-bundle_bucket_\w+\.arn\}\/boot\/\*$/),
      },
      {
        Sid: "DecryptBootBundlesViaS3",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: expect.stringMatching(/^\$\{aws_kms_key\.compute_boot-bundle_key_\w+\.arn\}$/),
        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-2.amazonaws.com" } },
      },
      {
        Sid: "JobSlots",
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
        Resource: expect.stringMatching(/^\$\{aws_dynamodb_table\.compute_jobs_table_\w+\.arn\}$/),
      },
      {
        Sid: "JobSlotsKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
        Resource: expect.stringMatching(/^\$\{aws_kms_key\.compute_jobs_key_\w+\.arn\}$/),
        Condition: { StringEquals: { "kms:ViaService": "dynamodb.eu-west-2.amazonaws.com" } },
      },
      {
        Sid: "OwnMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "webapp-test/app" } },
      },
    ]);
  });

  test("the data grants are passed through statement by statement, and nothing else is granted", () => {
    expect(inline["data-access"]).toEqual([
      {
        Sid: "ReadSecrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: ["${aws_ssm_parameter.secrets.arn}", "${aws_ssm_parameter.db.arn}", "${aws_ssm_parameter.cache.arn}"],
      },
      {
        Sid: "Mount",
        Effect: "Allow",
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: "${aws_ssm_parameter.fs.arn}",
      },
    ]);
    expect(Object.keys(inline).sort()).toEqual(["data-access", "own-resources"]);
    for (const statement of Object.values(inline).flat() as Json[]) {
      expect(statement.Effect).toBe("Allow");
      // PutMetricData has no resource: its namespace condition is what limits it.
      if (statement.Sid === "OwnMetrics")
        expect(statement.Condition).toEqual({ StringEquals: { "cloudwatch:namespace": "webapp-test/app" } });
      else expect([statement.Resource].flat()).not.toContain("*");
    }
  });

  test("a grant with a * resource is rejected", () => {
    expect(() => synthCompute({ grants: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] })).toThrow(
      /grants\[0\].*no \* resource/,
    );
  });
});

describe("security group", () => {
  test("owns one egress rule: HTTPS out", () => {
    expect(resourceList(json, "aws_vpc_security_group_egress_rule")).toHaveLength(1);
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      cidr_ipv4: "0.0.0.0/0",
      ip_protocol: "tcp",
      from_port: 443,
      to_port: 443,
    });
    expect(resourceList(json, "aws_vpc_security_group_ingress_rule")).toHaveLength(0);
  });

  test("exposes connections on the app port", () => {
    expect(compute.connections.defaultPort).toBe(8080);
    expect(compute.connections.name).toBe("app");
  });
});

describe("auto scaling group", () => {
  test("private subnets, sizes without a desired capacity, ELB health checks, warmup, rebalance, metrics", () => {
    expect(text).toHaveResourceWithProperties(AutoscalingGroup, {
      name: "webapp-test-app",
      vpc_zone_identifier: ["subnet-a", "subnet-b"],
      min_size: 2,
      max_size: 4,
      target_group_arns: ["arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/app/abc"],
      health_check_type: "ELB",
      health_check_grace_period: 90,
      default_instance_warmup: 180,
      capacity_rebalance: true,
      metrics_granularity: "1Minute",
      enabled_metrics: expect.arrayContaining(["GroupInServiceInstances", "GroupDesiredCapacity"]),
    });
    expect(group.desired_capacity).toBeUndefined();
    expect(group.warm_pool).toBeUndefined();
    expect(group.depends_on).toEqual(expect.arrayContaining([expect.stringContaining("aws_iam_role_policy.")]));
  });

  test("follows the launch template's latest version", () => {
    expect(group.launch_template).toEqual({
      id: expect.stringMatching(/^\$\{aws_launch_template\.compute_template_\w+\.id\}$/),
      version: expect.stringMatching(/^\$\{aws_launch_template\.compute_template_\w+\.latest_version\}$/),
    });
  });

  const HOOKS = [
    { name: "boot", lifecycle_transition: "autoscaling:EC2_INSTANCE_LAUNCHING", default_result: "ABANDON", heartbeat_timeout: 600 },
    { name: "drain", lifecycle_transition: "autoscaling:EC2_INSTANCE_TERMINATING", default_result: "CONTINUE", heartbeat_timeout: 90 },
  ];

  test("a launch hook gates on the boot script and a terminate hook outlasts draining, from the first launch", () => {
    // Attached by CreateAutoScalingGroup itself, so no instance launches before them.
    expect(group.initial_lifecycle_hook).toEqual(HOOKS);
    expect(group.lifecycle).toEqual(expect.objectContaining({ ignore_changes: expect.arrayContaining(["initial_lifecycle_hook"]) }));
  });

  test("the same hooks are their own resources, so a later change of timeout reaches the existing group", () => {
    const hooks = resourceList(json, "aws_autoscaling_lifecycle_hook");
    expect(hooks.map(({ autoscaling_group_name, ...hook }) => [autoscaling_group_name, hook])).toEqual(
      HOOKS.map((hook) => [expect.stringMatching(/^\$\{aws_autoscaling_group\.compute_group_\w+\.name\}$/), hook]),
    );
    const longer = resourceList(synthCompute({ bootStepTimeoutSeconds: 900 }).json, "aws_autoscaling_lifecycle_hook").find(
      (h) => h.name === "boot",
    );
    expect(longer?.heartbeat_timeout).toBe(900);
  });

  test("the launch hook's timeout bounds one boot step; the boot script carries the whole budget; Terraform waits for both", () => {
    const { json: custom, compute: c } = synthCompute({ bootTimeoutSeconds: 1800, bootStepTimeoutSeconds: 420 });
    const [asg] = resourceList(custom, "aws_autoscaling_group");
    expect(asg?.initial_lifecycle_hook[0]).toMatchObject({ name: "boot", heartbeat_timeout: 420 });
    expect(resourceList(custom, "aws_autoscaling_lifecycle_hook").find((h) => h.name === "boot")?.heartbeat_timeout).toBe(420);
    expect(asg?.wait_for_capacity_timeout).toBe("42m");
    const [object] = resourceList(custom, "aws_s3_object");
    const script = expandUserData(c.userData, Buffer.from(object!.content_base64, "base64"));
    expect(script).toContain("BOOT_TIMEOUT_SECONDS='1800'");
    expect(script).toContain("BOOT_STEP_TIMEOUT_SECONDS='420'");
    expect(group.wait_for_capacity_timeout).toBe("35m");
  });

  test("rolling instance refresh with auto rollback and the minimum healthy percentage", () => {
    expect(group.instance_refresh).toEqual({
      strategy: "Rolling",
      preferences: {
        min_healthy_percentage: 90,
        max_healthy_percentage: 190,
        instance_warmup: "180",
        auto_rollback: true,
        skip_matching: false,
        scale_in_protected_instances: "Wait",
        standby_instances: "Wait",
      },
    });
  });

  test("target tracking on CPU and on requests per target", () => {
    expect(text).toHaveResourceWithProperties(AutoscalingPolicy, {
      policy_type: "TargetTrackingScaling",
      target_tracking_configuration: {
        predefined_metric_specification: { predefined_metric_type: "ASGAverageCPUUtilization" },
        target_value: 55,
      },
    });
    expect(text).toHaveResourceWithProperties(AutoscalingPolicy, {
      target_tracking_configuration: {
        predefined_metric_specification: {
          predefined_metric_type: "ALBRequestCountPerTarget",
          resource_label: "app/webapp-test/def/targetgroup/app/abc",
        },
        target_value: 800,
      },
    });
  });

  test("no request-count policy when no target is set", () => {
    const cpuOnly = synthCompute({ scaling: { targetCpuPercent: 60 } });
    expect(resourceList(cpuOnly.json, "aws_autoscaling_policy")).toHaveLength(1);
  });

  test("scheduled actions", () => {
    expect(text).toHaveResourceWithProperties(AutoscalingSchedule, {
      scheduled_action_name: "night",
      recurrence: "0 20 * * *",
      time_zone: "Europe/London",
      min_size: 0,
      max_size: 0,
      desired_capacity: 0,
    });
  });

  test("a scheduled action without a desired capacity sends -1, which the provider leaves out (an unset value is sent as 0)", () => {
    const morning = synthCompute({
      scheduledActions: [{ name: "morning", recurrence: "0 7 * * 1-5", minCapacity: 1, maxCapacity: 2 }],
    });
    const [schedule] = resourceList(morning.json, "aws_autoscaling_schedule");
    expect(schedule).toMatchObject({ min_size: 1, max_size: 2, desired_capacity: -1 });
  });

  test("a purchase mix replaces the launch_template block with a mixed_instances_policy over the same template", () => {
    const mixed = synthCompute({
      purchaseMix: { instanceTypes: ["t4g.small", "t4g.medium"], onDemandBaseCapacity: 2, onDemandPercentageAboveBaseCapacity: 0 },
    });
    const asg = named(mixed.json, "aws_autoscaling_group", "group");
    expect(asg.launch_template).toBeUndefined();
    expect(asg.capacity_rebalance).toBe(true);
    expect(asg.mixed_instances_policy.launch_template).toEqual({
      launch_template_specification: { launch_template_id: group.launch_template.id, version: group.launch_template.version },
      override: [{ instance_type: "t4g.small" }, { instance_type: "t4g.medium" }],
    });
    expect(resourceList(mixed.json, "aws_launch_template")).toHaveLength(1);
    expect(mixed.compute.launchesSpot).toBe(true);
    expect(compute.launchesSpot).toBe(false);
    expect(compute.launchWindowSeconds).toBe(1800);
  });

  test("a group that buys Spot refuses a deregistration delay its two-minute notice cannot hold", () => {
    const purchaseMix = { instanceTypes: ["t4g.small"], onDemandPercentageAboveBaseCapacity: 0 };
    expect(() => synthCompute({ purchaseMix, deregistrationDelaySeconds: 100 })).toThrow(
      /test\/compute: deregistrationDelaySeconds = 100: compute\.purchaseMix buys Spot Instances, .* at most 90 s/,
    );
    expect(() => synthCompute({ purchaseMix, deregistrationDelaySeconds: 90 })).not.toThrow();
  });

  test("optional warm pool of stopped instances, not reused on scale-in", () => {
    const warm = synthCompute({ warmPool: { minSize: 1 } });
    expect(warm.text).toHaveResourceWithProperties(AutoscalingGroup, {
      warm_pool: { min_size: 1, pool_state: "Stopped", instance_reuse_policy: { reuse_on_scale_in: false } },
      enabled_metrics: expect.arrayContaining(["WarmPoolWarmedCapacity"]),
    });
  });
});

describe("log group", () => {
  test("KMS-encrypted, with the environment's retention", () => {
    expect(named(json, "aws_cloudwatch_log_group", "logs")).toMatchObject({
      name: "/webapp-test/app",
      retention_in_days: 30,
      kms_key_id: "arn:aws:kms:eu-west-2:111111111111:key/logs",
    });
  });
});

describe("pure helpers", () => {
  test.each([
    ["t4g.small", true],
    ["m7g.large", true],
    ["c7gn.xlarge", true],
    ["m6gd.large", true],
    ["a1.medium", true],
    ["t3.small", false],
    ["m7i-flex.large", false],
    ["g5.xlarge", false],
    ["c6in.large", false],
  ])("%s is Graviton: %s", (type, arm) => {
    expect(isGraviton(type)).toBe(arm);
    expect(amiParameter(type)).toMatch(arm ? /-arm64$/ : /-x86_64$/);
  });

  test.each([
    [COMMIT, "commit"],
    ["refs/tags/v1.2.3", "tag"],
    ["refs/heads/main", "branch"],
    ["main", undefined],
    ["v1.2.3", undefined],
    ["0123456", undefined],
  ])("ref %s is a %s", (ref, kind) => {
    expect(refKind(ref)).toBe(kind);
  });

  test.each(["*/15 * * * *", "0 2 * * 1-5", "30 6 1,15 * *", "0 0 * jan,jul sun", "0 */6 * * *", "5-10/2 * * * 7"])(
    "cron %s is valid",
    (expression) => {
      expect(cronProblem(expression)).toBeUndefined();
    },
  );

  test.each([
    ["* * * *", /five fields/],
    ["60 * * * *", /minute "60"/],
    ["0 24 * * *", /hour "24"/],
    ["0 0 0 * *", /day of month "0"/],
    ["0 0 * 13 *", /month "13"/],
    ["0 0 * * 8", /day of week "8"/],
    ["5-1 * * * *", /backwards/],
    ["*/0 * * * *", /step/],
    ["@daily", /five fields/],
  ])("cron %s is rejected", (expression, message) => {
    expect(cronProblem(expression)).toMatch(message);
  });
});

describe("settings checks", () => {
  const problemsOf = (patch: Partial<ComputeSettings>): string[] => {
    const problems = Problems.create("compute");
    checkComputeSettings({ ...settings, ...patch }, problems);
    return problems.list.map((p) => `${p.path}: ${p.message}`);
  };

  test("the sample settings pass", () => {
    expect(problemsOf({})).toEqual([]);
  });

  test("SSH over port 443 and HTTPS on 443 pass", () => {
    expect(
      problemsOf({
        repository: { ...settings.repository, credentialType: "ssh-key", url: "ssh://git@ssh.github.com:443/example-org/webapp.git" },
      }),
    ).toEqual([]);
    expect(problemsOf({ repository: { ...settings.repository, url: "https://git.example.com:443/org/app.git" } })).toEqual([]);
  });

  test("a public repository needs no credential: credentialType none, over HTTPS only", () => {
    expect(problemsOf({ repository: { ...settings.repository, credentialType: "none" } })).toEqual([]);
    expect(
      problemsOf({
        repository: { ...settings.repository, credentialType: "none", url: "ssh://git@ssh.github.com:443/example-org/webapp.git" },
      }),
    ).toEqual([
      'compute.repository.url: credentialType "none" (a public repository) needs an https:// URL without credentials in it; an SSH URL always needs a key ("ssh-key")',
    ]);
    expect(problemsOf({ repository: { ...settings.repository, credentialType: "token" as never } })).toContainEqual(
      'compute.repository.credentialType: must be "ssh-key", "https-token" or "none" (a public repository)',
    );
  });

  test.each<[string, Partial<ComputeSettings>, RegExp]>([
    ["min > max", { minCapacity: 5, maxCapacity: 2 }, /compute\.minCapacity: minCapacity \(5\) should be <= maxCapacity \(2\)/],
    [
      "empty repository URL",
      { repository: { ...settings.repository, url: " " } },
      /compute\.repository\.url: must name the app's repository/,
    ],
    ["empty ref", { repository: { ...settings.repository, ref: "" } }, /compute\.repository\.ref: must name/],
    [
      "branch ref where a pinned one is demanded",
      { repository: { ...settings.repository, ref: "refs/heads/main" } },
      /compute\.repository\.ref: is a branch.*pinned/,
    ],
    ["bare branch name", { repository: { ...settings.repository, ref: "main" } }, /compute\.repository\.ref: not a ref/],
    ["short SHA", { repository: { ...settings.repository, ref: "0123abc" } }, /abbreviated SHA/],
    ["http URL with a token", { repository: { ...settings.repository, url: "http://github.com/x/y" } }, /https:\/\/ URL/],
    ["ssh key with an https URL", { repository: { ...settings.repository, credentialType: "ssh-key" } }, /ssh:\/\/ or user@host:path/],
    [
      "ssh on port 22 (app egress is 443 only)",
      { repository: { ...settings.repository, credentialType: "ssh-key", url: "git@github.com:example-org/webapp.git" } },
      /compute\.repository\.url: app instances reach the Internet on port 443 only; use the git host's SSH-over-443 endpoint/,
    ],
    [
      "ssh:// without port 443",
      { repository: { ...settings.repository, credentialType: "ssh-key", url: "ssh://git@github.com/example-org/webapp.git" } },
      /port 443 only/,
    ],
    [
      "https on another port",
      { repository: { ...settings.repository, url: "https://git.example.com:8443/org/app.git" } },
      /compute\.repository\.url: app instances reach the Internet on port 443 only; drop the other port/,
    ],
    ["no build command", { buildCommands: [] }, /compute\.buildCommands: needs at least one build command/],
    [
      "an app directory above the repository",
      { repository: { ...settings.repository, directory: "../etc" } },
      /^compute\.repository\.directory: must be a relative folder path inside the repository/,
    ],
    [
      "an absolute app directory",
      { repository: { ...settings.repository, directory: "/opt/app" } },
      /^compute\.repository\.directory: must be a relative folder path/,
    ],
    [
      "an app directory with a . part",
      { repository: { ...settings.repository, directory: "examples/./app" } },
      /^compute\.repository\.directory: must be a relative folder path/,
    ],
    ["blank build command", { buildCommands: [" "] }, /compute\.buildCommands\[0\]: must not be empty/],
    ["no start command", { startCommand: "" }, /compute\.startCommand/],
    ["health check path without /", { healthCheckPath: "healthz" }, /compute\.healthCheckPath: must be a URL path/],
    [
      "invalid cron schedule",
      { cronJobs: [{ ...settings.cronJobs![0]!, schedule: "61 * * * *" }] },
      /compute\.cronJobs\[0\]\.schedule: not a valid cron schedule/,
    ],
    [
      "a lease too short for two renewals before self-fencing",
      { cronJobs: [{ ...settings.cronJobs![0]!, leaseSeconds: 70 }] },
      /^compute\.cronJobs\[0\]\.leaseSeconds: leaves the holder less than two renewals \(every 17\.5 s\) before it must stop its job \(lease - 30 s clock-skew margin - 10 s kill grace\); at least 80$/,
    ],
    [
      "a lease from the defaults too short",
      { cronDefaults: { leaseSeconds: 40 } },
      /^compute\.cronJobs\[0\]\.leaseSeconds: leaves the holder .* at least 80 \(from cronDefaults or the default\)$/,
    ],
    [
      "a run longer than the schedule's period",
      { cronJobs: [{ ...settings.cronJobs![0]!, schedule: "*/5 * * * *", maxRunSeconds: 295 }] },
      /^compute\.cronJobs\[0\]\.maxRunSeconds: plus the 10 s kill grace is longer than the schedule's shortest period \(300 s\)/,
    ],
    [
      "a run equal to the period (no room for the kill grace)",
      { cronJobs: [{ ...settings.cronJobs![0]!, schedule: "0 * * * *", maxRunSeconds: 3600 }] },
      /maxRunSeconds: plus the 10 s kill grace is longer than the schedule's shortest period \(3600 s\)/,
    ],
    [
      "a backfill window shorter than a tick plus the skew margin",
      { cronJobs: [{ ...settings.cronJobs![0]!, backfillWindowSeconds: 85 }] },
      /^compute\.cronJobs\[0\]\.backfillWindowSeconds: is shorter than the runner's tick \(60 s\) plus the clock-skew margin \(30 s\)/,
    ],
    [
      "a backfill window a lost holder's lease outlasts",
      { cronJobs: [{ ...settings.cronJobs![0]!, schedule: "* * * * *", maxRunSeconds: 30, backfillWindowSeconds: 90 }] },
      /^compute\.cronJobs\[0\]\.backfillWindowSeconds: is shorter than leaseSeconds \(120 s\) plus the runner's tick \(60 s\) and the clock-skew margin \(30 s\): when a holder dies, its lock and lease keep the job for up to leaseSeconds, so the next slot would be missed; at least 210 \(or a shorter leaseSeconds\)$/,
    ],
    [
      "a backfill window covering too many slots",
      { cronJobs: [{ ...settings.cronJobs![0]!, schedule: "* * * * *", maxRunSeconds: 30, backfillWindowSeconds: 3600 }] },
      /^compute\.cronJobs\[0\]\.backfillWindowSeconds: with the retry span \(\d+ s: 3 attempts .*\) covers \d+ slots of a schedule whose shortest period is 60 s; each tick reads them all, so keep it at most 60/,
    ],
    [
      "retries out of range",
      { cronJobs: [{ ...settings.cronJobs![0]!, retries: 11 }] },
      /^compute\.cronJobs\[0\]\.retries: must be a whole number from 0 to 10$/,
    ],
    [
      "a fractional backoff in the defaults",
      { cronDefaults: { retryBackoffSeconds: 2.5 } },
      /^compute\.cronDefaults\.retryBackoffSeconds: must be a whole number from 1 to 3600$/,
    ],
    [
      "a schedule that never fires",
      { cronJobs: [{ ...settings.cronJobs![0]!, schedule: "0 0 30 2 *" }] },
      /^compute\.cronJobs\[0\]\.schedule: never fires/,
    ],
    [
      "the runner's own name",
      { cronJobs: [{ ...settings.cronJobs![0]!, name: "webapp-jobs" }] },
      /^compute\.cronJobs\[0\]\.name: is the runner's own name/,
    ],
    [
      "record retention out of range",
      { jobTable: { recordRetentionDays: 0 } },
      /^compute\.jobTable\.recordRetentionDays: must be a whole number of days from 1 to 365$/,
    ],
    [
      "duplicate cron job",
      { cronJobs: [settings.cronJobs![0]!, settings.cronJobs![0]!] },
      /compute\.cronJobs\[1\]\.name: another cron job/,
    ],
    ["bad cron job name", { cronJobs: [{ ...settings.cronJobs![0]!, name: "Nightly Report" }] }, /cronJobs\[0\]\.name/],
    ["privileged app port", { appPort: 80 }, /compute\.appPort/],
    ["root app user", { appUser: "root" }, /compute\.appUser/],
    ["bad instance type", { instanceType: "small" }, /compute\.instanceType/],
    ["bad AMI id", { amiId: "ami-xyz" }, /compute\.amiId/],
    ["CPU target above 100", { scaling: { targetCpuPercent: 120 } }, /compute\.scaling\.targetCpuPercent/],
    [
      "scheduled action min > max",
      { scheduledActions: [{ name: "x", recurrence: "0 7 * * *", minCapacity: 3, maxCapacity: 1 }] },
      /scheduledActions\[0\]\.minCapacity/,
    ],
    [
      "scheduled action bad recurrence",
      { scheduledActions: [{ name: "x", recurrence: "daily", minCapacity: 0, maxCapacity: 1 }] },
      /scheduledActions\[0\]\.recurrence/,
    ],
    ["warm pool smaller than the group", { warmPool: { maxPreparedCapacity: 2 } }, /warmPool\.maxPreparedCapacity/],
    ["refresh healthy percentage above 100", { instanceRefreshMinHealthyPercent: 120 }, /instanceRefreshMinHealthyPercent/],
    ["boot budget beyond two hours", { bootTimeoutSeconds: 9000 }, /^compute\.bootTimeoutSeconds: must be 30 to 7200 seconds$/],
    [
      "step timeout beyond a hook's limit",
      { bootStepTimeoutSeconds: 10 },
      /^compute\.bootStepTimeoutSeconds: a lifecycle hook waits 30 to 7200 seconds between heartbeats$/,
    ],
    [
      "step timeout longer than the boot budget",
      { bootTimeoutSeconds: 600, bootStepTimeoutSeconds: 900 },
      /^compute\.bootStepTimeoutSeconds: must be at most bootTimeoutSeconds \(600\)/,
    ],
    [
      "health wait as long as a step",
      { bootStepTimeoutSeconds: 300, healthCheckWaitSeconds: 300 },
      /^compute\.healthCheckWaitSeconds: must be at least 10 seconds and shorter than bootStepTimeoutSeconds \(300\)/,
    ],
    [
      "health wait longer than a short boot budget",
      { bootTimeoutSeconds: 200, healthCheckWaitSeconds: 300 },
      /healthCheckWaitSeconds: .*bootStepTimeoutSeconds \(200\)/,
    ],
    ["uploads path /", { uploadsPath: "/" }, /uploadsPath/],
    [
      "a runtime preset this platform does not offer",
      { runtime: { preset: "nodejs18" as "nodejs22" } },
      /^compute\.runtime\.preset: not a runtime this platform offers: one of nodejs20, nodejs22, nodejs24$/,
    ],
    [
      "a package name that is a dnf option",
      { runtime: { preset: "nodejs22", packages: ["--nogpgcheck"] } },
      /^compute\.runtime\.packages\[0\]: not an Amazon Linux 2023 package name/,
    ],
    [
      "a package name with a space",
      { runtime: { packages: ["nodejs22 nodejs22-npm"] } },
      /^compute\.runtime\.packages\[0\]: not an Amazon Linux 2023 package name/,
    ],
    [
      "node and npm commands without a runtime",
      { runtime: undefined },
      /^compute\.runtime: the build, start or cron commands run node, npm, which Amazon Linux 2023 does not ship; set runtime\.preset \(nodejs20, nodejs22, nodejs24\)$/,
    ],
    [
      "npx in a cron job without a runtime",
      {
        runtime: { packages: ["ImageMagick"] },
        buildCommands: ["make"],
        startCommand: "exec ./server",
        cronJobs: [{ ...settings.cronJobs![0]!, command: "cd jobs && npx report" }],
      },
      /^compute\.runtime: the build, start or cron commands run npx,/,
    ],
  ])("%s", (_, patch, message) => {
    expect(problemsOf(patch)).toContainEqual(expect.stringMatching(message));
  });

  test("a runtime from explicit packages, or none for commands that need none, passes", () => {
    expect(problemsOf({ runtime: { packages: ["nodejs22", "nodejs22-npm"] } })).toEqual([]);
    expect(problemsOf({ runtime: undefined, buildCommands: ["make"], startCommand: "exec ./server", cronJobs: [] })).toEqual([]);
    // A word that only contains a runtime command is not one.
    expect(
      problemsOf({
        runtime: undefined,
        buildCommands: ["./nodeploy.sh", "make node-modules"],
        startCommand: "exec ./server",
        cronJobs: [],
      }),
    ).toEqual([]);
  });

  test("runtime packages: the preset's, then the extra ones, each once", () => {
    expect(runtimePackages({ preset: "nodejs22", packages: ["ImageMagick", "nodejs22"] })).toEqual([
      "nodejs22",
      "nodejs22-npm",
      "ImageMagick",
    ]);
    expect(runtimePackages(undefined)).toEqual([]);
  });

  test("a branch ref is fine where the environment allows it", () => {
    expect(problemsOf({ repository: { ...settings.repository, ref: "refs/heads/main", allowBranchRef: true } })).toEqual([]);
  });

  test("the construct runs the same check", () => {
    expect(() => synthCompute({ minCapacity: 3, maxCapacity: 1 })).toThrow(
      /test\/compute: minCapacity = 3: minCapacity \(3\) should be <= maxCapacity \(1\)/,
    );
  });
});

test("no resource outside the app tier's own set", () => {
  const types = Object.keys(json.resource as Json).sort();
  expect(types).toEqual(
    [
      "aws_autoscaling_group",
      "aws_autoscaling_lifecycle_hook",
      "aws_autoscaling_policy",
      "aws_autoscaling_schedule",
      "aws_cloudwatch_log_group",
      "aws_dynamodb_table",
      "aws_iam_instance_profile",
      "aws_iam_role",
      "aws_iam_role_policy",
      "aws_iam_role_policy_attachment",
      "aws_kms_alias",
      "aws_kms_key",
      "aws_launch_template",
      "aws_s3_bucket",
      "aws_s3_bucket_lifecycle_configuration",
      "aws_s3_bucket_ownership_controls",
      "aws_s3_bucket_policy",
      "aws_s3_bucket_public_access_block",
      "aws_s3_bucket_server_side_encryption_configuration",
      "aws_s3_bucket_versioning",
      "aws_s3_object",
      "aws_security_group",
      "aws_ssm_parameter",
      "aws_vpc_security_group_egress_rule",
    ].sort(),
  );
  expect(Object.keys(resources(json, "aws_autoscaling_group"))).toHaveLength(1);
});

describe("the boot bundle's bucket", () => {
  test("private: SSE-KMS with its own key, versioned, public access blocked, objects owned by the bucket, TLS only, KMS-encrypted writes only", () => {
    const [bucket] = resourceList(json, "aws_s3_bucket");
    expect(bucket).toEqual(expect.objectContaining({ bucket: "webapp-test-boot-111111111111", force_destroy: true }));
    const [encryption] = resourceList(json, "aws_s3_bucket_server_side_encryption_configuration");
    expect(encryption?.rule).toEqual([
      {
        apply_server_side_encryption_by_default: {
          sse_algorithm: "aws:kms",
          kms_master_key_id: expect.stringMatching(/aws_kms_key\.compute_boot-bundle_key/),
        },
        bucket_key_enabled: true,
      },
    ]);
    expect(resourceList(json, "aws_s3_bucket_versioning")[0]?.versioning_configuration).toEqual({ status: "Enabled" });
    expect(resourceList(json, "aws_s3_bucket_public_access_block")[0]).toEqual(
      expect.objectContaining({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      }),
    );
    expect(resourceList(json, "aws_s3_bucket_ownership_controls")[0]?.rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
    const statements = policy(resourceList(json, "aws_s3_bucket_policy")[0]?.policy).Statement as Json[];
    expect(statements.map((s) => [s.Sid, s.Effect, s.Condition])).toEqual([
      ["DenyInsecureTransport", "Deny", { Bool: { "aws:SecureTransport": "false" } }],
      ["DenyWritesNotEncryptedWithKms", "Deny", { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } }],
    ]);
    // Replaced bundles stay readable by version for a rollback, then expire.
    expect(resourceList(json, "aws_s3_bucket_lifecycle_configuration")[0]?.rule[0]).toEqual(
      expect.objectContaining({ status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 90 }] }),
    );
  });

  test("a new bundle is a new key and a new user data (so the instance refresh rolls it); the same settings give the same bundle", () => {
    const again = synthCompute();
    const key = (j: Json) => resourceList(j, "aws_s3_object")[0]?.key;
    expect(key(again.json)).toBe(key(json));
    const changed = synthCompute({ startCommand: "exec node other.js" });
    expect(key(changed.json)).not.toBe(key(json));
    expect(named(changed.json, "aws_launch_template", "template").user_data).not.toBe(template.user_data);
  });
});

describe("the timed jobs' slot table", () => {
  const table = named(json, "aws_dynamodb_table", "jobs_table");

  test("on demand, key (job, slot), TTL on expiresAt, its own KMS key, point-in-time recovery, deletion protection by default", () => {
    expect(table).toEqual(
      expect.objectContaining({
        name: "webapp-test-jobs",
        billing_mode: "PAY_PER_REQUEST",
        hash_key: "job",
        range_key: "slot",
        attribute: [
          { name: "job", type: "S" },
          { name: "slot", type: "S" },
        ],
        ttl: { attribute_name: "expiresAt", enabled: true },
        server_side_encryption: { enabled: true, kms_key_arn: expect.stringMatching(/aws_kms_key\.compute_jobs_key/) },
        point_in_time_recovery: { enabled: true },
        deletion_protection_enabled: true,
      }),
    );
    expect(
      named(synthCompute({ jobTable: { deletionProtection: false } }).json, "aws_dynamodb_table", "jobs_table").deletion_protection_enabled,
    ).toBe(false);
  });

  test("the runner's configuration in the bundle names the table, the namespace, the timed-jobs switch and each job's resolved timing", () => {
    const [object] = resourceList(json, "aws_s3_object");
    const script = expandUserData(compute.userData, Buffer.from(object!.content_base64, "base64"));
    const config = JSON.parse(/^write_jobs_config\(\) \{\n  cat <<'WEBAPP_HELPER_EOF'\n([\s\S]*?)\nWEBAPP_HELPER_EOF$/m.exec(script)![1]!);
    expect(config).toEqual({
      table: "webapp-test-jobs",
      region: "eu-west-2",
      namespace: "webapp-test/app",
      // The one parameter the instance role may read (ReadTimedJobsSwitch).
      switchParameter: "/webapp-test/timed-jobs",
      stateDir: "/run/webapp-jobs",
      logDir: "/var/log/webapp",
      recordRetentionDays: 30,
      clockSkewMarginSeconds: 30,
      killGraceSeconds: 10,
      jobs: [
        {
          name: "nightly-report",
          schedule: "15 2 * * *",
          command: ["/bin/bash", "/etc/webapp/cron/nightly-report.sh"],
          leaseSeconds: 120,
          maxRunSeconds: 1800,
          retries: 2,
          retryBackoffSeconds: 30,
          backfillWindowSeconds: 3600,
        },
      ],
    });
  });
});

describe("environment validation under compute.", () => {
  const dev = environment();
  const patched = (compute: Partial<ComputeSettings>) => environment({ compute: { ...dev.compute, ...compute } });

  test("every environment's compute settings are valid", () => {
    expect(validateEnvironments(ENVIRONMENTS)).toEqual([]);
  });

  test.each<[string, Partial<ComputeSettings>, RegExp]>([
    ["min > max", { minCapacity: 3, maxCapacity: 2 }, /^dev: compute\.minCapacity = 3: minCapacity \(3\) should be <= maxCapacity \(2\)$/],
    [
      "empty repository URL",
      { repository: { ...dev.compute.repository, url: "" } },
      /^dev: compute\.repository\.url = "": must name the app's repository$/,
    ],
    [
      "empty ref",
      { repository: { ...dev.compute.repository, ref: "" } },
      /^dev: compute\.repository\.ref = "": must name the commit, tag or branch to run$/,
    ],
    [
      "branch ref where a pinned ref is demanded",
      { repository: { ...dev.compute.repository, ref: "refs/heads/main", allowBranchRef: false } },
      /^dev: compute\.repository\.ref = "refs\/heads\/main": is a branch/,
    ],
    ["no build command", { buildCommands: [] }, /^dev: compute\.buildCommands = \[\]: needs at least one build command/],
    [
      "no runtime for a node app",
      { runtime: undefined },
      /^dev: compute\.runtime = \(unset\): the build, start or cron commands run node, npm, which Amazon Linux 2023 does not ship/,
    ],
    [
      "invalid cron schedule",
      { cronJobs: [{ name: "x", schedule: "* * *", command: "true", maxRunSeconds: 30 }] },
      /^dev: compute\.cronJobs\[0\]\.schedule = "\* \* \*": not a valid cron schedule/,
    ],
    [
      "a lease equal to the period",
      { cronJobs: [{ name: "x", schedule: "* * * * *", command: "true", leaseSeconds: 60, maxRunSeconds: 70 }] },
      /^dev: compute\.cronJobs\[0\]\.maxRunSeconds = 70: plus the 10 s kill grace is longer than the schedule's shortest period \(60 s\)/,
    ],
    [
      "the old TTL setting",
      { cronJobs: [{ name: "x", schedule: "0 * * * *", command: "true", ttlSeconds: 60 } as never] },
      /^dev: compute\.cronJobs\[0\]\.ttlSeconds = 60: unknown setting/,
    ],
    ["health check path", { healthCheckPath: "health" }, /^dev: compute\.healthCheckPath = "health": must be a URL path/],
    [
      "scheduled action with an invalid recurrence",
      { scheduledActions: [{ name: "night", recurrence: "20:00", minCapacity: 0, maxCapacity: 0 }] },
      /^dev: compute\.scheduledActions\[0\]\.recurrence = "20:00"/,
    ],
  ])("rejects %s", (_, compute, message) => {
    expect(validateEnvironments([patched(compute)])).toContainEqual(expect.stringMatching(message));
  });

  test("every environment runs the sample app in examples/app by default, and its commands name its files", () => {
    const root = join(__dirname, "..");
    const pkg = JSON.parse(readFileSync(join(root, "examples", "app", "package.json"), "utf8"));
    for (const config of ENVIRONMENTS) {
      const { repository, startCommand, cronJobs } = config.compute;
      expect([config.name, repository.directory]).toEqual([config.name, "examples/app"]);
      expect(pkg.scripts.build).toBeDefined();
      // The build copies src/ to dist/: every dist/ file a command runs has its source.
      for (const command of [startCommand, ...(cronJobs ?? []).map((j) => j.command)]) {
        const file = /\bdist\/(\S+\.js)\b/.exec(command)?.[1];
        expect({ command, exists: file !== undefined && existsSync(join(root, "examples", "app", "src", file)) }).toEqual({
          command,
          exists: true,
        });
      }
    }
  });

  test("every environment builds with the development dependencies, then prunes them", () => {
    for (const config of ENVIRONMENTS) {
      const commands = config.compute.buildCommands;
      const install = commands.findIndex((c) => /^npm ci\b/.test(c));
      const build = commands.indexOf("npm run build");
      const prune = commands.indexOf("npm prune --omit=dev");
      expect({ env: config.name, install: commands[install] }).toEqual({ env: config.name, install: "npm ci --include=dev" });
      expect(install < build && build < prune).toBe(true);
    }
  });

  test.each(ENVIRONMENTS.map((e) => [e.name, e] as const))(
    "%s follows a branch only where it allows one, and production never",
    (_name, config) => {
      const { ref, allowBranchRef } = config.compute.repository;
      if (refKind(ref) === "branch") expect(allowBranchRef).toBe(true);
      if (config.production) expect([refKind(ref), allowBranchRef ?? false]).toEqual([expect.not.stringMatching(/^branch$/), false]);
    },
  );
});

describe("in each environment's stack", () => {
  const stacks = ENVIRONMENTS.map((config) => ({ config, ...synthEnvironment(config) }));

  test.each(stacks.map((s) => [s.config.name, s] as const))(
    "%s: sizes, subnets, target group, grants and the file-system client",
    (_, { config, json: stack }) => {
      const [asg] = resourceList(stack, "aws_autoscaling_group");
      expect(asg).toMatchObject({
        name: `${config.project}-${config.name}-app`,
        min_size: config.compute.minCapacity,
        max_size: config.compute.maxCapacity,
      });
      expect(asg?.vpc_zone_identifier).toHaveLength(config.network.availabilityZones.length);
      for (const subnet of asg?.vpc_zone_identifier as string[]) expect(subnet).toMatch(/aws_subnet\.network_app-/);
      expect(asg?.target_group_arns).toEqual([expect.stringMatching(/aws_lb_target_group\..*\.arn/)]);
      const policies = resourceList(stack, "aws_autoscaling_policy").map(
        (p) => p.target_tracking_configuration.predefined_metric_specification,
      );
      expect(policies.map((p) => p.predefined_metric_type)).toEqual(
        config.compute.scaling.requestsPerTarget ? ["ASGAverageCPUUtilization", "ALBRequestCountPerTarget"] : ["ASGAverageCPUUtilization"],
      );
      for (const p of policies.filter((p) => p.resource_label))
        expect(p.resource_label).toMatch(/^\$\{aws_lb\..*\.arn_suffix\}\/\$\{aws_lb_target_group\..*\.arn_suffix\}$/);
      const data = resourceList(stack, "aws_iam_role_policy").find((p) => p.name === "data-access");
      const statements = policy(data?.policy).Statement as Json[];
      expect(statements.map((s) => s.Sid)).toEqual([
        "AppSecretsRead",
        "AppSecretsDecrypt",
        "DatabaseAppUserRead",
        "DatabaseAppUserDecrypt",
        "CacheAuthTokenRead",
        "CacheAuthTokenDecrypt",
        "UploadsMountThroughAccessPoint",
      ]);
      const [fsPolicy] = resourceList(stack, "aws_efs_file_system_policy");
      expect(fsPolicy?.policy).toMatch(/aws_iam_role\.compute_role_\w+\.arn/);
      expect(resourceList(stack, "aws_autoscaling_schedule")).toHaveLength((config.compute.scheduledActions ?? []).length);
    },
  );

  // Provider default tags do not reach Auto Scaling groups: the group carries the standard tags itself,
  // not propagated (the launch template tags instances, volumes and interfaces).
  test.each(stacks.map((s) => [s.config.name, s] as const))(
    "%s: the group carries the standard tags, none propagated at launch",
    (_, { config, json: stack }) => {
      const [asg] = resourceList(stack, "aws_autoscaling_group");
      const tags = Object.fromEntries((asg?.tag as Json[]).map((t) => [t.key, t.value]));
      expect(tags).toEqual({
        ...(config.tags ?? {}),
        Project: config.project,
        Environment: config.name,
        ManagedBy: "cdktf",
        Repository: config.repository,
        Name: `${config.project}-${config.name}-app`,
      });
      for (const t of asg?.tag as Json[]) expect(t.propagate_at_launch).toBe(false);
    },
  );
});
