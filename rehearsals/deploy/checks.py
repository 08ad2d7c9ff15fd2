"""Checks in the emulator (boto3) after each step: behaviour, not exit codes.

What is expected comes from docs/rehearsals.md and docs/architecture.md (the security-group graph); the concrete
names, ports and ARNs come from the synthesized stack, since that is what was applied.
"""

from __future__ import annotations

import json
from typing import Any, Callable

Client = Callable[[str], Any]


class CheckFailed(Exception):
    pass


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise CheckFailed(what)


def state_bucket(stack: Any) -> dict[str, Any]:
    """The bootstrap's state bucket: the one protected by prevent_destroy (the others hold audit logs)."""
    items = [b for b in stack.resources_of("aws_s3_bucket").values() if b.get("lifecycle", {}).get("prevent_destroy")]
    expect(len(items) == 1, f"{stack.name}: expected one state bucket (prevent_destroy), found {len(items)}")
    return items[0]


def _one(stack: Any, kind: str) -> dict[str, Any]:
    items = list(stack.resources_of(kind).values())
    expect(len(items) == 1, f"{stack.name}: expected one {kind}, found {len(items)}")
    return items[0]


# ---------------------------------------------------------------- bootstrap
def after_bootstrap(client: Client, stack: Any) -> None:
    s3, ddb = client("s3"), client("dynamodb")
    bucket = state_bucket(stack)["bucket"]
    table = _one(stack, "aws_dynamodb_table")["name"]
    expect(s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled", f"state bucket {bucket}: versioning not enabled")
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    sse = rules[0]["ApplyServerSideEncryptionByDefault"]
    expect(sse["SSEAlgorithm"] == "aws:kms" and sse.get("KMSMasterKeyID"), f"state bucket {bucket}: default encryption {sse}, want aws:kms with the state key")
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    expect(all(pab.values()) and len(pab) == 4, f"state bucket {bucket}: public access block {pab}")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    expect(
        any(st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for st in policy["Statement"]),
        f"state bucket {bucket}: no TLS-only deny in its policy",
    )
    desc = ddb.describe_table(TableName=table)["Table"]
    expect(desc["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}], f"lock table {table}: key schema {desc['KeySchema']}")
    expect(desc.get("DeletionProtectionEnabled") is True, f"lock table {table}: deletion protection off")
    expect(desc.get("SSEDescription", {}).get("SSEType") == "KMS", f"lock table {table}: not KMS-encrypted ({desc.get('SSEDescription')})")


def state_key_arn(client: Client, bucket: str) -> str:
    rules = client("s3").get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    return rules[0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]


# ---------------------------------------------------------------- an environment, after apply
def after_apply(client: Client, stack: Any, backend: dict[str, Any]) -> None:
    state(client, stack.name, backend)
    security_groups(client, stack)
    lifecycle_hooks(client, stack)
    purchase_mix(client, stack)
    instance_role(client, stack)
    secrets(client, stack)
    boot_bundle(client, stack)
    jobs_table(client, stack)


def boot_bundle(client: Client, stack: Any) -> None:
    """The launch template's user data names an object that exists, encrypted with KMS, whose bytes have the
    SHA-256 the loader checks: what a launching instance fetches."""
    import base64
    import hashlib
    import re

    env = stack.name
    ec2, s3 = client("ec2"), client("s3")
    template = _one(stack, "aws_launch_template")["name"]
    version = ec2.describe_launch_template_versions(LaunchTemplateName=template, Versions=["$Latest"])["LaunchTemplateVersions"][0]
    user_data = base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode()
    value = lambda name: re.search(rf"^{name}='([^']*)'$", user_data, re.M).group(1)  # noqa: E731
    bucket, key, object_version, sha = value("BOOT_BUNDLE_BUCKET"), value("BOOT_BUNDLE_OBJECT"), value("BOOT_BUNDLE_VERSION"), value("BOOT_BUNDLE_SHA256")
    expect(bucket.startswith(f"webapp-{env}-boot-") and key == f"boot/{sha}.sh.gz", f"{env}: the user data's bundle is s3://{bucket}/{key}")
    got = s3.get_object(Bucket=bucket, Key=key, VersionId=object_version)
    body = got["Body"].read()
    expect(hashlib.sha256(body).hexdigest() == sha, f"{env}: the bundle s3://{bucket}/{key} (version {object_version}) does not hash to the user data's SHA-256")
    expect(got.get("ServerSideEncryption") == "aws:kms", f"{env}: the bundle is encrypted with {got.get('ServerSideEncryption')}, want aws:kms")


def jobs_table(client: Client, stack: Any) -> None:
    """The timed jobs' slot table: its key, TTL and encryption as the runner and the design expect."""
    env = stack.name
    ddb = client("dynamodb")
    name = f"webapp-{env}-jobs"
    table = ddb.describe_table(TableName=name)["Table"]
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    expect(keys == {"job": "HASH", "slot": "RANGE"}, f"{env}: table {name} has key {keys}")
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    expect(ttl.get("AttributeName") == "expiresAt" and ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"), f"{env}: table {name} TTL {ttl}")
    sse = table.get("SSEDescription", {})
    expect(sse.get("SSEType") == "KMS" and sse.get("KMSMasterKeyArn"), f"{env}: table {name} encryption {sse}")


def lock_released(client: Client, env: str, backend: dict[str, Any]) -> None:
    s3, ddb = client("s3"), client("dynamodb")
    bucket, key = backend["bucket"], backend["key"]
    lockfile = s3.list_objects_v2(Bucket=bucket, Prefix=f"{key}.tflock").get("KeyCount", 0)
    expect(lockfile == 0, f"{env}: lock file s3://{bucket}/{key}.tflock left behind")
    item = ddb.get_item(TableName=backend["dynamodb_table"], Key={"LockID": {"S": f"{bucket}/{key}"}}).get("Item")
    expect(item is None, f"{env}: lock item {bucket}/{key} left in {backend['dynamodb_table']}: {item}")


def state(client: Client, env: str, backend: dict[str, Any]) -> None:
    s3 = client("s3")
    bucket, key = backend["bucket"], backend["key"]
    head = s3.head_object(Bucket=bucket, Key=key)
    want_key = state_key_arn(client, bucket)
    expect(head.get("ServerSideEncryption") == "aws:kms", f"{env}: state object s3://{bucket}/{key} encrypted with {head.get('ServerSideEncryption')}, want aws:kms")
    kms = client("kms")
    got_key = head.get("SSEKMSKeyId", "")
    resolved = kms.describe_key(KeyId=got_key)["KeyMetadata"]["Arn"] if got_key else ""
    expect(resolved == kms.describe_key(KeyId=want_key)["KeyMetadata"]["Arn"], f"{env}: state object encrypted with key {got_key!r}, want the state key {want_key}")
    body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    expect(len(body.get("resources", [])) > 0, f"{env}: state object s3://{bucket}/{key} has no resources")
    lock_released(client, env, backend)


def _sg_id(ec2: Any, name: str, vpc: str) -> str:
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    expect(len(groups) == 1, f"security group {name} in {vpc}: found {len(groups)}")
    return groups[0]["GroupId"]


def security_groups(client: Client, stack: Any) -> None:
    """The app group's rules are exactly the graph in docs/architecture.md ("Who talks to whom")."""
    ec2 = client("ec2")
    env = stack.name
    prefix = f"webapp-{env}"
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": [env]}])["Vpcs"]
    expect(len(vpcs) == 1, f"{env}: expected one VPC tagged Environment={env}, found {len(vpcs)}")
    vpc = vpcs[0]["VpcId"]
    names = {sg["name"] for sg in stack.resources_of("aws_security_group").values()}
    ids = {n: _sg_id(ec2, n, vpc) for n in names}
    app = ids[f"{prefix}-app"]
    app_port = _one(stack, "aws_lb_target_group")["port"]
    db_port = _one(stack, "aws_db_instance")["port"]
    cache_port = _one(stack, "aws_elasticache_replication_group").get("port", 6379)
    want_in = {("sg", ids[f"{prefix}-alb"], app_port)}
    want_out = {
        ("sg", ids[f"{prefix}-database"], db_port),
        ("sg", ids[f"{prefix}-cache"], cache_port),
        ("sg", ids[f"{prefix}-efs"], 2049),
        ("cidr", "0.0.0.0/0", 443),
    }
    if f"{prefix}-endpoints" in ids:
        want_out.add(("sg", ids[f"{prefix}-endpoints"], 443))
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [app]}])["SecurityGroupRules"]
    got_in, got_out = set(), set()
    for r in rules:
        expect(r["IpProtocol"] == "tcp" and r["FromPort"] == r["ToPort"], f"{env}: app group rule {r} is not a single TCP port")
        peer = ("sg", r["ReferencedGroupInfo"]["GroupId"]) if r.get("ReferencedGroupInfo") else ("cidr", r.get("CidrIpv4") or r.get("CidrIpv6"))
        (got_out if r["IsEgress"] else got_in).add((*peer, r["FromPort"]))
    names_of = {v: k for k, v in ids.items()}

    def show(rules: set[tuple[str, str, int]]) -> str:
        return ", ".join(sorted(f"{names_of.get(p, p)}:{port}" for _, p, port in rules))

    expect(got_in == want_in, f"{env}: app group ingress is [{show(got_in)}], the graph says [{show(want_in)}]")
    expect(got_out == want_out, f"{env}: app group egress is [{show(got_out)}], the graph says [{show(want_out)}]")
    # The other side of each arrow: the target's ingress from the app group on that port.
    for kind, peer, port in want_out:
        if kind != "sg":
            continue
        peer_rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [peer]}])["SecurityGroupRules"]
        ingress = {(r.get("ReferencedGroupInfo", {}).get("GroupId"), r["FromPort"]) for r in peer_rules if not r["IsEgress"]}
        expect(ingress == {(app, port)}, f"{env}: {names_of[peer]} ingress is {ingress}, want only the app group on {port}")
    default = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}, {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0]
    expect(not default["IpPermissions"] and not default["IpPermissionsEgress"], f"{env}: the default security group has rules")


def lifecycle_hooks(client: Client, stack: Any) -> None:
    group = _one(stack, "aws_autoscaling_group")
    declared = list(group.get("initial_lifecycle_hook", [])) + list(stack.resources_of("aws_autoscaling_lifecycle_hook").values())
    want = {h["name"]: (h["lifecycle_transition"], h["default_result"], h["heartbeat_timeout"]) for h in declared}
    expect(any(t == "autoscaling:EC2_INSTANCE_LAUNCHING" for t, _, _ in want.values()), f"{stack.name}: the stack declares no launch hook")
    hooks = client("autoscaling").describe_lifecycle_hooks(AutoScalingGroupName=group["name"])["LifecycleHooks"]
    got = {h["LifecycleHookName"]: (h["LifecycleTransition"], h["DefaultResult"], h["HeartbeatTimeout"]) for h in hooks}
    expect(got == want, f"{stack.name}: group {group['name']} has lifecycle hooks {got}, want {want}")


def purchase_mix(client: Client, stack: Any) -> None:
    """The group buys as declared: through its mixed instances policy over the stack's one launch template, or
    from the template alone; Capacity Rebalancing on either way (docs/app-and-fleet.md: what happens on a Spot interruption)."""
    group = _one(stack, "aws_autoscaling_group")
    template = _one(stack, "aws_launch_template")["name"]
    got = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group["name"]])["AutoScalingGroups"][0]
    expect(got.get("CapacityRebalance") is True, f"{stack.name}: group {group['name']} has Capacity Rebalancing off")
    declared = group.get("mixed_instances_policy")
    if not declared:
        expect("MixedInstancesPolicy" not in got and got.get("LaunchTemplate", {}).get("LaunchTemplateName") == template, f"{stack.name}: group {group['name']} launches from {got.get('LaunchTemplate') or got.get('MixedInstancesPolicy')}, want {template}")
        return
    policy = got.get("MixedInstancesPolicy") or {}
    expect("LaunchTemplate" not in got, f"{stack.name}: group {group['name']} answers a launch template beside its mixed instances policy")
    spec = policy.get("LaunchTemplate", {}).get("LaunchTemplateSpecification", {})
    expect(spec.get("LaunchTemplateName") == template, f"{stack.name}: the mix launches from {spec}, want the stack's one template {template}")
    d = declared["instances_distribution"]
    want = (d["on_demand_base_capacity"], d["on_demand_percentage_above_base_capacity"], d["spot_allocation_strategy"], d["on_demand_allocation_strategy"])
    gd = policy.get("InstancesDistribution", {})
    have = (gd.get("OnDemandBaseCapacity"), gd.get("OnDemandPercentageAboveBaseCapacity"), gd.get("SpotAllocationStrategy"), gd.get("OnDemandAllocationStrategy"))
    expect(have == want, f"{stack.name}: the group's distribution is {have}, want {want} (base, On-Demand % above it, Spot strategy, On-Demand strategy)")
    overrides = policy["LaunchTemplate"].get("Overrides", [])
    want_types = [o.get("instance_type") for o in declared["launch_template"]["override"]]
    have_types = [o.get("InstanceType") for o in overrides]
    want_ranges = [(r["vcpu_count"]["min"], r["vcpu_count"]["max"], r["memory_mib"]["min"], r["memory_mib"]["max"]) for o in declared["launch_template"]["override"] if (r := o.get("instance_requirements"))]
    have_ranges = [(r["VCpuCount"]["Min"], r["VCpuCount"].get("Max"), r["MemoryMiB"]["Min"], r["MemoryMiB"].get("Max")) for o in overrides if (r := o.get("InstanceRequirements"))]
    expect((have_types, have_ranges) == (want_types, want_ranges), f"{stack.name}: the group may launch {have_types} {have_ranges}, want {want_types} {want_ranges}")


# What the boot script (modules/compute/boot.sh), its loader and the running instance (the timed jobs'
# runner, its switch included) call, and nothing else.
BOOT_ACTIONS = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:DescribeKey",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "cloudwatch:PutMetricData",
    # The timed-jobs switch the runner reads once per tick (that one parameter: modules/compute/instance-role.ts).
    "ssm:GetParameter",
    "elasticfilesystem:ClientMount",
    "elasticfilesystem:ClientWrite",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
    "autoscaling:CompleteLifecycleAction",
    "autoscaling:RecordLifecycleActionHeartbeat",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:RegisterTargets",
}
BOOT_MANAGED = {"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}


def instance_role(client: Client, stack: Any) -> None:
    iam, sm = client("iam"), client("secretsmanager")
    env = stack.name
    profile = _one(stack, "aws_iam_instance_profile")["name"]
    roles = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
    expect(len(roles) == 1, f"{env}: instance profile {profile} has {len(roles)} roles")
    role = roles[0]["RoleName"]
    boundary = iam.get_role(RoleName=role)["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", "")
    expect(boundary.endswith(f":policy/webapp-boundary-{env}"), f"{env}: instance role {role} has boundary {boundary!r}")
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}
    expect(attached == BOOT_MANAGED, f"{env}: instance role {role} has managed policies {sorted(attached)}, want {sorted(BOOT_MANAGED)}")
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        statements += doc["Statement"]
    actions = set()
    own_secrets = {s["ARN"] for s in sm.list_secrets()["SecretList"] if s["Name"].startswith(f"webapp-{env}/") or s["Name"].startswith("rds!")}
    for st in statements:
        expect(st["Effect"] == "Allow", f"{env}: instance role statement {st.get('Sid')} is not an Allow")
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if acts == ["cloudwatch:PutMetricData"]:
            # PutMetricData takes no resource: only its namespace condition can limit it.
            expect(st.get("Condition") == {"StringEquals": {"cloudwatch:namespace": f"webapp-{env}/app"}}, f"{env}: metrics allowed with {st.get('Condition')}")
        else:
            expect("*" not in res, f"{env}: instance role statement {st.get('Sid')} grants {acts} on *")
        actions |= set(acts)
        if any(a.startswith("s3:") for a in acts):
            expect(all(r.startswith(f"arn:aws:s3:::webapp-{env}-boot-") and r.endswith("/boot/*") for r in res), f"{env}: instance role reads objects {res}")
        if any(a.startswith("dynamodb:") for a in acts):
            expect(all(r.endswith(f":table/webapp-{env}-jobs") for r in res), f"{env}: instance role writes table items of {res}")
        if any(a.startswith("secretsmanager:") for a in acts):
            stray = [r for r in res if r not in own_secrets]
            expect(not stray, f"{env}: instance role reads secrets that are not this environment's: {stray}")
        if any(a.startswith("autoscaling:") for a in acts):
            expect(all(r.endswith(f"autoScalingGroupName/webapp-{env}-app") for r in res), f"{env}: lifecycle action on {res}")
        if any(a.startswith("elasticloadbalancing:") for a in acts):
            elb = client("elbv2")
            lb = elb.describe_load_balancers(Names=[f"webapp-{env}-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
            forwarded = {a["TargetGroupArn"] for listener in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"] for a in listener["DefaultActions"] if a.get("TargetGroupArn")}
            expect(len(forwarded) == 1 and res == sorted(forwarded), f"{env}: target registration on {res}, want exactly the app's target group {sorted(forwarded)}")
    expect(actions == BOOT_ACTIONS, f"{env}: instance role allows {sorted(actions)}; the boot needs exactly {sorted(BOOT_ACTIONS)}")


def secrets(client: Client, stack: Any) -> None:
    """Every secret Terraform declares exists; only the cache token has a value written by Terraform."""
    sm = client("secretsmanager")
    env = stack.name
    valued = {v["secret_id"].split(".")[1] for v in stack.resources_of("aws_secretsmanager_secret_version").values()}
    for rid, secret in stack.resources_of("aws_secretsmanager_secret").items():
        desc = sm.describe_secret(SecretId=secret["name"])
        versions = desc.get("VersionIdsToStages", {})
        if rid in valued:
            expect("redis-auth-token" in secret["name"], f"{env}: Terraform writes a value to {secret['name']}; only the cache token may have one")
            expect(any("AWSCURRENT" in s for s in versions.values()), f"{env}: the cache token {secret['name']} has no current value")
            value = sm.get_secret_value(SecretId=secret["name"])["SecretString"]
            expect(len(value) == 64 and value.isalnum(), f"{env}: the cache token is not 64 letters and digits")
        else:
            expect(not versions, f"{env}: secret {secret['name']} has a value, but the operators set it, not Terraform")


# ---------------------------------------------------------------- the CI plan role
def plan_roles(boot: Any, envs: list[str]) -> dict[str, str]:
    account = boot.account
    roles = {}
    for env in envs:
        name = f"webapp-ci-{env}-plan"
        expect(any(r["name"] == name for r in boot.resources_of("aws_iam_role").values()), f"bootstrap declares no role {name}")
        roles[env] = f"arn:aws:iam::{account}:role/{name}"
    return roles


def assume_plan_role(client: Client, role_arn: str, env: str) -> dict[str, str]:
    """As CI does: AssumeRoleWithWebIdentity with the GitHub OIDC token (moto does not verify the token)."""
    creds = client("sts").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=f"rehearsal-{env}-plan", WebIdentityToken="rehearsal.token.unverified"
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


# ---------------------------------------------------------------- after everything is destroyed
def after_destroy(client: Client, boot: Any, envs: list[str]) -> None:
    ec2 = client("ec2")
    left = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    expect(not left, f"VPCs left after destroy: {left}")
    left_buckets = [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    expect(not left_buckets, f"buckets left after destroy: {left_buckets}")
    rds = [d["DBInstanceIdentifier"] for d in client("rds").describe_db_instances()["DBInstances"]]
    expect(not rds, f"database instances left after destroy: {rds}")


def still_there(client: Client, stack: Any, protected: list[tuple[str, str]]) -> None:
    for t, n in protected:
        r = stack.resources_of(t)[n]
        if t == "aws_db_instance":
            dbs = client("rds").describe_db_instances(DBInstanceIdentifier=r["identifier"])["DBInstances"]
            expect(len(dbs) == 1, f"{stack.name}: protected database {r['identifier']} is gone")
        elif t == "aws_lb":
            lbs = client("elbv2").describe_load_balancers(Names=[r["name"]])["LoadBalancers"]
            expect(len(lbs) == 1, f"{stack.name}: protected load balancer {r['name']} is gone")
        elif t == "aws_dynamodb_table":
            client("dynamodb").describe_table(TableName=r["name"])


def empty_bucket(client: Client, bucket: str) -> None:
    s3 = client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
