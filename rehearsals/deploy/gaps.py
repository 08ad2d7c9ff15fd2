"""Every way the rehearsal's emulator differs from moto 5.2.5 as shipped, in one place.

Each entry of GAPS is one of:
- an extension: moto lacks an operation, reads a value back wrongly, or is more lenient than AWS on
  something the stacks rely on; the patch implements what the linked AWS documentation says;
- an exclusion: one resource left out of the rehearsal (none today).
Each has a reason and a link, and a probe that shows the gap on plain moto: `rehearsals/deploy/test_gaps.py` runs
every probe against moto without the extension (it must still fail, or the entry is no longer needed) and
with it (it must pass).

KNOWN_TYPES lists the resource types the rehearsal has applied, planned and destroyed; a stack with a type
that is neither known nor excluded fails the rehearsal before anything is applied.
"""

from __future__ import annotations

import base64
import contextvars
import copy
import datetime as dt
import fnmatch
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

MOTO_VERSION = "5.2.5"


@dataclass(frozen=True)
class Gap:
    name: str
    reason: str
    link: str
    install: Callable[[], None] | None = None
    # Shows the gap: raises on plain moto, passes with the extension (or, for an exclusion, on neither).
    probe: Callable[[Callable[[str], Any]], None] | None = None
    # exclusions only: the resource type left out, and why the rehearsal cannot do without it
    excluded_type: str | None = None


GAPS: list[Gap] = []


def extension(name: str, reason: str, link: str, probe: Callable[[Callable[[str], Any]], None]) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        GAPS.append(Gap(name, reason, link, install=fn, probe=probe))
        return fn

    return register


_installed = False


def install() -> None:
    """Applies every extension to the moto imported in this process (once)."""
    global _installed
    if _installed:
        return
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"the rehearsal's extension is written for moto {MOTO_VERSION}, not {moto.__version__}")
    for gap in GAPS:
        if gap.install:
            gap.install()
    _installed = True



# ================================================================ settings and transport
# moto settings, read when moto is imported (emulator.py sets them; MOTO_ACCOUNT_ID is the stacks' account).
# https://docs.getmoto.org/en/latest/docs/configuration/environment_variables.html
SETTINGS = {
    # AWS managed policies exist, so attachments of arn:aws:iam::aws:policy/... succeed.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    # A requested DNS-validated certificate is ISSUED at once (AWS: after the records resolve).
    "MOTO_ACM_VALIDATION_WAIT": "0",
    # Buckets are named in the path, never taken from the host name (clients use path-style requests).
    "S3_IGNORE_SUBDOMAIN_BUCKETNAME": "true",
}


# ---------------------------------------------------------------- Smithy RPC v2 CBOR -> JSON 1.0
class CborBridge:
    """WSGI middleware: requests in the Smithy RPC v2 CBOR protocol (the AWS SDK for Go v2 speaks it to
    CloudWatch; moto understands that service's JSON 1.0 protocol only) are re-encoded as JSON 1.0 for
    moto, and moto's answer is re-encoded as CBOR. The operation, its input and output are unchanged.
    https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html
    """

    def __init__(self, app: Callable[..., Any]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor":
            return self.app(environ, start_response)
        from deploy import cbor

        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        # /service/{ServiceName}/operation/{OperationName}
        if len(parts) != 4 or parts[0] != "service" or parts[2] != "operation":
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"unexpected RPC v2 CBOR path"]
        service, operation = parts[1], parts[3]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        params = _from_cbor(cbor.decode(raw)) if raw else {}
        body = json.dumps(params).encode()
        environ = dict(environ)
        # What the client signed, for the signature check when the emulator enforces IAM (see _cbor_auth).
        environ["rehearsal.cbor_original"] = {
            "path": environ.get("PATH_INFO"),
            "body": raw,
            "headers": {"Content-Type": environ.get("CONTENT_TYPE", ""), "Content-Length": environ.get("CONTENT_LENGTH", "")},
        }
        environ["PATH_INFO"] = "/"
        environ["CONTENT_TYPE"] = "application/x-amz-json-1.0"
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["HTTP_X_AMZ_TARGET"] = f"{service}.{operation}"
        environ["wsgi.input"] = io.BytesIO(body)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        out = b"".join(self.app(environ, capture))
        status = captured["status"]
        doc = json.loads(out) if out.strip() else {}
        if int(status.split()[0]) < 400:
            doc = _tag_timestamps(operation, doc)
        payload = cbor.encode(doc)
        headers = [
            (k, v)
            for k, v in captured["headers"]
            if k.lower() not in ("content-type", "content-length", "x-amz-target")
        ]
        headers += [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(payload))),
        ]
        start_response(status, headers)
        return [payload]


def _from_cbor(item: Any) -> Any:
    from deploy.cbor import Tag

    if isinstance(item, Tag):
        return _from_cbor(item.value)  # tag 1: epoch seconds, which JSON 1.0 also uses
    if isinstance(item, dict):
        return {k: _from_cbor(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_from_cbor(v) for v in item]
    if isinstance(item, (bytes, bytearray)):
        return base64.b64encode(item).decode()
    return item


def _tag_timestamps(operation: str, doc: Any) -> Any:
    """JSON 1.0 timestamps are epoch numbers; CBOR wants them as tag 1. Walks the output shape."""
    import botocore.session

    from deploy.cbor import Tag

    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model(operation).output_shape

    def walk(value: Any, shape: Any) -> Any:
        if shape is None or value is None:
            return value
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            return {k: walk(v, shape.members.get(k)) for k, v in value.items()}
        if kind == "list" and isinstance(value, list):
            return [walk(v, shape.member) for v in value]
        if kind == "map" and isinstance(value, dict):
            return {k: walk(v, shape.value) for k, v in value.items()}
        if kind == "timestamp":
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            return Tag(1, float(value))
        if kind == "blob" and isinstance(value, str):
            return base64.b64decode(value)
        return value

    return walk(doc, shape)


class FixtureApi:
    """WSGI middleware: POST /rehearsal-api/hosted-zone {"account", "id", "name"} creates a public hosted zone
    with that id. The stacks reference hosted zones that exist before them (by id); CreateHostedZone cannot
    choose an id, so the rehearsal sets the account up through this instead."""

    def __init__(self, app: Callable[..., Any]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/rehearsal-api/hosted-zone" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        from moto.route53.models import route53_backends

        length = int(environ.get("CONTENT_LENGTH") or 0)
        req = json.loads(environ["wsgi.input"].read(length))
        backend = route53_backends[req["account"]]["aws"]
        if req["id"] not in backend.zones:
            conflict = backend._has_prev_conflicting_domain
            backend._has_prev_conflicting_domain = lambda *a, **k: False  # AWS allows public zones of one name
            try:
                zone = backend.create_hosted_zone(name=req["name"].rstrip(".") + ".", private_zone=False, comment="existing zone")
            finally:
                backend._has_prev_conflicting_domain = conflict
            backend.zones[req["id"]] = backend.zones.pop(zone.resource_id)
            zone.resource_id = req["id"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"id": req["id"]}).encode()]


# ================================================================ probes (see test_gaps.py)
REGION = "eu-west-2"


def _vpc_subnets(client: Callable[[str], Any]) -> tuple[str, list[str]]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    return vpc, subnets


def _probe_conditions(client: Callable[[str], Any]) -> None:
    s3 = client("s3")
    bucket = "probe-tls-only"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    kms_only = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny, kms_only]}))
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ServerSideEncryption="aws:kms")  # AccessDenied on plain moto
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v", ServerSideEncryption="AES256")
    except s3.exceptions.ClientError as e:
        assert "AccessDenied" in str(e) or "403" in str(e), e
    else:
        raise AssertionError("an SSE-S3 write passed a bucket policy that requires SSE-KMS")


def _probe_scheduled_action(client: Callable[[str], Any]) -> None:
    _, subnets = _vpc_subnets(client)
    asg = client("autoscaling")
    asg.create_launch_configuration(LaunchConfigurationName="probe", ImageId="ami-12c6146b", InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName="probe", LaunchConfigurationName="probe", MinSize=0, MaxSize=2, VPCZoneIdentifier=",".join(subnets))
    try:
        asg.put_scheduled_update_group_action(AutoScalingGroupName="probe", ScheduledActionName="morning", Recurrence="0 7 * * *", MinSize=1, MaxSize=2, DesiredCapacity=0)
    except Exception as e:  # the extension's answer, as AWS's
        if "Desired capacity:0 must be between the specified min size:1 and max size:2" in str(e):
            return
        raise
    raise AssertionError("a desired capacity below the minimum was accepted")


def _probe_alb_protection(client: Callable[[str], Any]) -> None:
    _, subnets = _vpc_subnets(client)
    elb = client("elbv2")
    arn = elb.create_load_balancer(Name="probe", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
    try:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    except Exception as e:
        if "OperationNotPermitted" in str(e) and elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]:
            return
        raise
    raise AssertionError("a load balancer with deletion protection was deleted")


def _probe_efs_backup(client: Callable[[str], Any]) -> None:
    efs = client("efs")
    fs = efs.create_file_system(CreationToken="probe-backup")["FileSystemId"]
    efs.put_backup_policy(FileSystemId=fs, BackupPolicy={"Status": "ENABLED"})
    assert efs.describe_backup_policy(FileSystemId=fs)["BackupPolicy"]["Status"] == "ENABLED"
    efs.put_backup_policy(FileSystemId=fs, BackupPolicy={"Status": "DISABLED"})
    assert efs.describe_backup_policy(FileSystemId=fs)["BackupPolicy"]["Status"] == "DISABLED"


def _probe_efs_policy(client: Callable[[str], Any]) -> None:
    efs = client("efs")
    fs = efs.create_file_system(CreationToken="probe-policy")["FileSystemId"]
    efs.put_file_system_policy(FileSystemId=fs, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount", "Resource": "*"}]}))
    efs.delete_file_system_policy(FileSystemId=fs)
    try:
        efs.describe_file_system_policy(FileSystemId=fs)
    except efs.exceptions.PolicyNotFound:
        return
    raise AssertionError("the policy is still there")


def _probe_elasticache_members(client: Callable[[str], Any]) -> None:
    ec = client("elasticache")
    ec.create_replication_group(ReplicationGroupId="probe", ReplicationGroupDescription="probe", Engine="valkey", CacheNodeType="cache.t4g.micro", NumCacheClusters=2, AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True, TransitEncryptionMode="required")
    members = ec.describe_replication_groups(ReplicationGroupId="probe")["ReplicationGroups"][0]["MemberClusters"]
    assert len(members) == 2, f"NumCacheClusters=2 made {len(members)} member clusters"
    for m in members:
        cluster = ec.describe_cache_clusters(CacheClusterId=m)["CacheClusters"][0]
        assert cluster["ReplicationGroupId"] == "probe" and cluster["AtRestEncryptionEnabled"] is True and cluster["TransitEncryptionMode"] == "required", cluster
    ec.delete_replication_group(ReplicationGroupId="probe")
    try:
        ec.describe_replication_groups(ReplicationGroupId="probe")
    except ec.exceptions.ReplicationGroupNotFoundFault:
        return
    raise AssertionError("the deleted replication group is still there")


def _probe_cache_subnet_group(client: Callable[[str], Any]) -> None:
    _, subnets = _vpc_subnets(client)
    ec = client("elasticache")
    ec.create_cache_subnet_group(CacheSubnetGroupName="probe", CacheSubnetGroupDescription="probe", SubnetIds=subnets)
    ec.delete_cache_subnet_group(CacheSubnetGroupName="probe")
    try:
        ec.describe_cache_subnet_groups(CacheSubnetGroupName="probe")
    except ec.exceptions.CacheSubnetGroupNotFoundFault:
        return
    raise AssertionError("the deleted subnet group is still there")


# ================================================================ IAM policy conditions
# AWS evaluates a statement's Condition block with each operator's own semantics; a statement whose
# condition is not met does not apply (it neither allows nor denies). moto 5.2.5 knows only StringEquals,
# ignores every other operator (the statement applies unconditionally), and turns any unmet condition into
# an explicit deny, even on an Allow statement.

def _values(v: Any) -> list[str]:
    if isinstance(v, list):
        return [str(x).lower() if isinstance(x, bool) else str(x) for x in v]
    return [str(v).lower() if isinstance(v, bool) else str(v)]


def _like(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run, ? one character; case-sensitive.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda e, a: a == e,
    "StringNotEquals": lambda e, a: a != e,
    "StringEqualsIgnoreCase": lambda e, a: a.lower() == e.lower(),
    "StringLike": lambda e, a: _like(e, a),
    "StringNotLike": lambda e, a: not _like(e, a),
    "ArnEquals": lambda e, a: a == e,
    "ArnLike": lambda e, a: _like(e, a),
    "ArnNotLike": lambda e, a: not _like(e, a),
    "Bool": lambda e, a: a.lower() == e.lower(),
}
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotLike"}


def condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, Any]) -> bool | None:
    """True/False per AWS; None when an operator is outside the ones implemented here (moto's own
    behaviour then applies). Keys are case-insensitive, as in AWS."""
    ctx = {k.lower(): _values(v) for k, v in context.items()}
    for op, pairs in condition.items():
        qualifier, _, base = op.rpartition(":") if ":" in op else ("", "", op)
        if_exists = base.endswith("IfExists")
        base = base[: -len("IfExists")] if if_exists else base
        if base == "Null":
            for key, want in pairs.items():
                present = key.lower() in ctx
                if (_values(want)[0] == "true" and present) or (_values(want)[0] == "false" and not present):
                    return False
            continue
        test = _OPERATORS.get(base)
        if test is None:
            return None
        for key, expected in pairs.items():
            expected_values = _values(expected)
            actual = ctx.get(key.lower())
            if actual is None:
                # Missing key: IfExists and ForAllValues hold, ForAnyValue fails (whatever the operator); a
                # single-valued negated operator holds (AWS: "if the key is not present ... the condition
                # returns true" for negated operators); others fail.
                if qualifier == "ForAnyValue":
                    return False
                if if_exists or qualifier == "ForAllValues" or base in _NEGATED:
                    continue
                return False
            # A value matches a negated operator when it matches none of the expected values, else any of them.
            per_value = all if base in _NEGATED else any
            # ForAllValues: every value must match; ForAnyValue, or a single-valued key: one value is enough.
            per_key = all if qualifier == "ForAllValues" else any
            ok = per_key(per_value(test(e, a) for e in expected_values) for a in actual)
            if not ok:
                return False
    return True


# Request context the emulator supplies (moto supplies none). The emulator listens on loopback HTTP, which
# stands in for AWS's HTTPS endpoints: requests count as aws:SecureTransport=true. The rehearsal's tests
# check that a "false" value is still denied.
SECURE_TRANSPORT = {"aws:SecureTransport": "true"}


@extension(
    "iam-conditions",
    "moto evaluates only StringEquals in a policy condition, applies statements with any other operator "
    "unconditionally, and makes an unmet condition an explicit deny; the state bucket's TLS-only deny "
    "(Bool aws:SecureTransport=false) then blocks the S3 backend. Conditions are evaluated per AWS here; "
    "operators the stacks do not use keep moto's behaviour.",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html ; "
    "https://github.com/getmoto/moto/blob/5.2.5/moto/iam/policy_conditions.py",
    probe=_probe_conditions,
)
def _iam_conditions() -> None:
    from moto.iam import access_control
    from moto.iam.access_control import PermissionResult
    from moto.s3 import models as s3_models

    original = access_control.IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None, incoming_condition_values: dict[str, Any] | None = None) -> PermissionResult:
        condition = self._statement.get("Condition")
        if not condition:
            return original(self, action, resource, principal, incoming_condition_values)
        context = {**SECURE_TRANSPORT, **(incoming_condition_values or {})}
        holds = condition_holds(condition, context)
        if holds is False:
            return PermissionResult.NEUTRAL
        stripped = access_control.IAMPolicyStatement({k: v for k, v in self._statement.items() if k != "Condition"})
        if holds is None:
            return original(self, action, resource, principal, incoming_condition_values)
        return original(stripped, action, resource, principal, None)

    access_control.IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        context = {**SECURE_TRANSPORT, **_S3_REQUEST_KEYS.get({})}
        return access_control.IAMPolicy(self.policy.decode()).is_action_permitted(action, resource, incoming_condition_values=context)

    s3_models.FakeBucket.get_permission = get_permission  # type: ignore[method-assign]

    # The S3 condition keys that come from an object request's headers.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
    from moto.s3 import responses as s3_responses

    original_key_response = s3_responses.S3Response._key_response

    def key_response(self: Any, request: Any, full_url: str) -> Any:
        keys = {f"s3:{h}": request.headers[h] for h in S3_HEADER_KEYS if request.headers.get(h) is not None}
        token = _S3_REQUEST_KEYS.set(keys)
        try:
            return original_key_response(self, request, full_url)
        finally:
            _S3_REQUEST_KEYS.reset(token)

    s3_responses.S3Response._key_response = key_response  # type: ignore[method-assign]


S3_HEADER_KEYS = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-acl")
# Set for the length of an S3 key request; none outside one.
_S3_REQUEST_KEYS: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("s3_request_keys")


# ================================================================ missing operations and behaviour
def _file_system(backend: Any, fs_id: str) -> Any:
    from moto.efs.exceptions import FileSystemNotFound

    if fs_id not in backend.file_systems_by_id:
        raise FileSystemNotFound(fs_id)
    return backend.file_systems_by_id[fs_id]


@extension(
    "efs-backup-policy",
    "moto 5.2.5 has DescribeBackupPolicy but not PutBackupPolicy (aws_efs_backup_policy fails with HTTP 500). "
    "Implemented as documented: the status is set and returned (ENABLED or DISABLED; AWS passes through "
    "ENABLING/DISABLING, which the provider waits out).",
    "https://docs.aws.amazon.com/efs/latest/ug/API_PutBackupPolicy.html",
    probe=_probe_efs_backup,
)
def _efs_backup_policy() -> None:
    from moto.efs import models, responses
    from moto.efs.exceptions import PolicyNotFound

    def put_backup_policy(self: Any) -> Any:
        fs_id = self._get_param("FileSystemId")
        status = self._get_param("BackupPolicy")["Status"]
        fs = _file_system(self.efs_backend, fs_id)
        fs._backup = status == "ENABLED"
        fs._rehearsal_backup_status = status
        return json.dumps({"BackupPolicy": {"Status": status}}), {"Content-Type": "application/json"}

    def describe_backup_policy(self: Any, file_system_id: str) -> dict[str, str]:
        fs = _file_system(self, file_system_id)
        status = getattr(fs, "_rehearsal_backup_status", None)
        if status:
            return {"Status": status}
        if fs.backup_policy:
            return fs.backup_policy
        raise PolicyNotFound("None")

    responses.EFSResponse.put_backup_policy = put_backup_policy  # type: ignore[attr-defined]
    models.EFSBackend.describe_backup_policy = describe_backup_policy  # type: ignore[method-assign]


@extension(
    "efs-delete-file-system-policy",
    "moto 5.2.5 lacks DeleteFileSystemPolicy (destroying aws_efs_file_system_policy fails with HTTP 500). "
    "Implemented as documented: the policy is removed, DescribeFileSystemPolicy then answers PolicyNotFound.",
    "https://docs.aws.amazon.com/efs/latest/ug/API_DeleteFileSystemPolicy.html",
    probe=_probe_efs_policy,
)
def _efs_delete_policy() -> None:
    from moto.efs import responses

    def delete_file_system_policy(self: Any) -> Any:
        fs = _file_system(self.efs_backend, self._get_param("FileSystemId"))
        fs.file_system_policy = None
        return "{}", {"Content-Type": "application/json"}

    responses.EFSResponse.delete_file_system_policy = delete_file_system_policy  # type: ignore[attr-defined]


@extension(
    "elasticache-member-clusters",
    "moto 5.2.5 lists member clusters in a replication group but creates no cache clusters for them, so "
    "DescribeCacheClusters on a member (which the provider reads) answers CacheClusterNotFound; it also ignores "
    "NumCacheClusters when cluster mode is disabled (always one node), and a deleted group stays 'deleting' "
    "forever. As documented: a group has NumCacheClusters member clusters (primary and replicas, each a cache "
    "cluster of the group's node type, engine, security groups and encryption settings, which the provider reads "
    "from the first member), and deleting it removes it with its members.",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html ; "
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DeleteReplicationGroup.html",
    probe=_probe_elasticache_members,
)
def _elasticache_members() -> None:
    from moto.elasticache import models

    original_create = models.ElastiCacheBackend.create_replication_group
    original_delete = models.ElastiCacheBackend.delete_replication_group

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        if (kwargs.get("cluster_mode") or "disabled") == "disabled" and not kwargs.get("replicas_per_node_group") and (kwargs.get("num_cache_clusters") or 1) > 1:
            kwargs["replicas_per_node_group"] = int(kwargs["num_cache_clusters"]) - 1
        group = original_create(self, *args, **kwargs)
        for member in group.member_clusters:
            cluster = models.CacheCluster(
                account_id=self.account_id,
                region_name=self.region_name,
                cache_cluster_id=member,
                cache_node_type=kwargs.get("cache_node_type"),
                replication_group_id=group.replication_group_id,
                az_mode=None,
                preferred_availability_zone=None,
                num_cache_nodes=1,
                engine=kwargs.get("engine") or "redis",
                engine_version=kwargs.get("engine_version"),
                cache_parameter_group_name=kwargs.get("cache_parameter_group_name"),
                cache_subnet_group_name=kwargs.get("cache_subnet_group_name"),
                transit_encryption_enabled=kwargs.get("transit_encryption_enabled"),
                network_type=kwargs.get("network_type"),
                ip_discovery=kwargs.get("ip_discovery"),
                snapshot_name=None,
                preferred_maintenance_window=kwargs.get("preferred_maintenance_window"),
                port=kwargs.get("port"),
                notification_topic_arn=kwargs.get("notification_topic_arn"),
                auto_minor_version_upgrade=kwargs.get("auto_minor_version_upgrade"),
                snapshot_retention_limit=kwargs.get("snapshot_retention_limit"),
                snapshot_window=kwargs.get("snapshot_window"),
                auth_token=kwargs.get("auth_token"),
                outpost_mode=None,
                preferred_outpost_arn=None,
                preferred_availability_zones=None,
                cache_security_group_names=None,
                security_group_ids=kwargs.get("security_group_ids"),
                tags=None,
                snapshot_arns=None,
                preferred_outpost_arns=None,
                log_delivery_configurations=[],
                cache_node_ids_to_remove=None,
                cache_node_ids_to_reboot=None,
            )
            cluster.engine = kwargs.get("engine") or "redis"
            cluster.replication_group_id = group.replication_group_id
            # What the provider reads from the first member (AWS reports them per cluster too).
            cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
            cluster.transit_encryption_mode = group.transit_encryption_mode
            cluster.security_groups = [{"SecurityGroupId": sg, "Status": "active"} for sg in kwargs.get("security_group_ids") or []]
            self.cache_clusters[member] = cluster
        if not group.user_group_ids:
            group.user_group_ids = None  # AWS omits UserGroupIds when the group has none
        return group

    def delete(self: Any, replication_group_id: str, retain_primary_cluster: Any) -> Any:
        members = list(self.replication_groups[replication_group_id].member_clusters) if replication_group_id in self.replication_groups else []
        group = original_delete(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        for member in members:
            self.cache_clusters.pop(member, None)
        return group

    models.ElastiCacheBackend.create_replication_group = create  # type: ignore[method-assign]
    models.ElastiCacheBackend.delete_replication_group = delete  # type: ignore[method-assign]


@extension(
    "elasticache-delete-cache-subnet-group",
    "moto 5.2.5 lacks DeleteCacheSubnetGroup (destroying aws_elasticache_subnet_group fails with HTTP 500). "
    "Implemented as documented: the group is removed; CacheSubnetGroupNotFoundFault when it does not exist, "
    "CacheSubnetGroupInUse while a cluster uses it.",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DeleteCacheSubnetGroup.html",
    probe=_probe_cache_subnet_group,
)
def _elasticache_delete_subnet_group() -> None:
    from moto.core.responses import EmptyResult
    from moto.elasticache import models, responses
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException

    class CacheSubnetGroupInUse(ElastiCacheException):
        code = "CacheSubnetGroupInUse"

    def delete_cache_subnet_group(self: Any, name: str) -> None:
        if name not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(name)
        if any(c.cache_subnet_group_name == name for c in self.cache_clusters.values()):
            raise CacheSubnetGroupInUse(f"Cache subnet group {name} is currently in use by a cache cluster.")
        del self.cache_subnet_groups[name]

    def delete_response(self: Any) -> Any:
        self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    models.ElastiCacheBackend.delete_cache_subnet_group = delete_cache_subnet_group  # type: ignore[attr-defined]
    responses.ElastiCacheResponse.delete_cache_subnet_group = delete_response  # type: ignore[attr-defined]


def _probe_cache_parameter_group(client: Callable[[str], Any]) -> None:
    ec = client("elasticache")
    created = ec.create_cache_parameter_group(CacheParameterGroupName="probe", CacheParameterGroupFamily="valkey8", Description="probe", Tags=[{"Key": "Name", "Value": "probe"}])
    arn = created["CacheParameterGroup"]["ARN"]
    ec.modify_cache_parameter_group(CacheParameterGroupName="probe", ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "noeviction"}])
    group = ec.describe_cache_parameter_groups(CacheParameterGroupName="probe")["CacheParameterGroups"][0]
    assert (group["CacheParameterGroupFamily"], group["Description"], group["ARN"]) == ("valkey8", "probe", arn), group
    user = ec.describe_cache_parameters(CacheParameterGroupName="probe", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in user] == [("maxmemory-policy", "noeviction")], user
    assert ec.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "Name", "Value": "probe"}]
    ec.reset_cache_parameter_group(CacheParameterGroupName="probe", ResetAllParameters=True)
    assert ec.describe_cache_parameters(CacheParameterGroupName="probe", Source="user")["Parameters"] == []
    ec.delete_cache_parameter_group(CacheParameterGroupName="probe")
    try:
        ec.describe_cache_parameter_groups(CacheParameterGroupName="probe")
    except ec.exceptions.CacheParameterGroupNotFoundFault:
        return
    raise AssertionError("the deleted parameter group is still there")


@extension(
    "elasticache-parameter-groups",
    "moto 5.2.5 has no cache parameter groups (CreateCacheParameterGroup answers HTTP 500); the cache's own "
    "group (maxmemory-policy noeviction) needs them. As documented: create (with tags), describe, modify and "
    "reset user parameters, describe parameters by Source, delete; CacheParameterGroupNotFound for an unknown "
    "name, CacheParameterGroupAlreadyExists, InvalidCacheParameterGroupState while a cluster uses the group; "
    "the group's ARN takes tags.",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheParameterGroup.html",
    probe=_probe_cache_parameter_group,
)
def _elasticache_parameter_groups() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.elasticache import models, responses
    from moto.elasticache.exceptions import ElastiCacheException
    from moto.utilities.utils import get_partition

    class NotFound(ElastiCacheException):
        code = "CacheParameterGroupNotFound"

        def __init__(self, name: str):
            super().__init__(f"CacheParameterGroup {name} not found.")

    class AlreadyExists(ElastiCacheException):
        code = "CacheParameterGroupAlreadyExists"

    class InUse(ElastiCacheException):
        code = "InvalidCacheParameterGroupState"

    original_init = models.ElastiCacheBackend.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        import re

        self.arn_regex = re.compile(r"^arn:aws:elasticache:.*:[0-9]*:(cluster|snapshot|subnetgroup|replicationgroup|user|parametergroup):.*$")
        self.cache_parameter_groups = {}

    def group(self: Any, name: str) -> dict[str, Any]:
        if name not in self.cache_parameter_groups:
            raise NotFound(name)
        return self.cache_parameter_groups[name]

    def public(g: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in g.items() if k != "Parameters"}

    class Responses:
        def create_cache_parameter_group(self: Any) -> Any:
            backend, name = self.elasticache_backend, self._get_param("CacheParameterGroupName")
            if name in backend.cache_parameter_groups:
                raise AlreadyExists(f"Parameter group {name} already exists.")
            arn = f"arn:{get_partition(self.region)}:elasticache:{self.region}:{self.current_account}:parametergroup:{name}"
            backend.cache_parameter_groups[name] = {
                "CacheParameterGroupName": name,
                "CacheParameterGroupFamily": self._get_param("CacheParameterGroupFamily"),
                "Description": self._get_param("Description"),
                "IsGlobal": False,
                "ARN": arn,
                "Parameters": {},
            }
            if self._get_param("Tags"):
                backend.add_tags_to_resource(arn, self._get_param("Tags"))
            return ActionResult({"CacheParameterGroup": public(backend.cache_parameter_groups[name])})

        def describe_cache_parameter_groups(self: Any) -> Any:
            backend, name = self.elasticache_backend, self._get_param("CacheParameterGroupName")
            groups = [group(backend, name)] if name else list(backend.cache_parameter_groups.values())
            return ActionResult({"CacheParameterGroups": [public(g) for g in groups]})

        def modify_cache_parameter_group(self: Any) -> Any:
            name = self._get_param("CacheParameterGroupName")
            g = group(self.elasticache_backend, name)
            for p in self._get_param("ParameterNameValues", []):
                g["Parameters"][p["ParameterName"]] = p["ParameterValue"]
            return ActionResult({"CacheParameterGroupName": name})

        def reset_cache_parameter_group(self: Any) -> Any:
            name = self._get_param("CacheParameterGroupName")
            g = group(self.elasticache_backend, name)
            if self._get_bool_param("ResetAllParameters"):
                g["Parameters"].clear()
            for p in self._get_param("ParameterNameValues", []):
                g["Parameters"].pop(p["ParameterName"], None)
            return ActionResult({"CacheParameterGroupName": name})

        def describe_cache_parameters(self: Any) -> Any:
            g = group(self.elasticache_backend, self._get_param("CacheParameterGroupName"))
            # Only what was set here: the engine defaults (Source "system") are not modelled.
            source = self._get_param("Source")
            parameters = [] if source not in (None, "user") else [
                {"ParameterName": k, "ParameterValue": v, "Source": "user", "DataType": "string", "IsModifiable": True, "ChangeType": "immediate"} for k, v in sorted(g["Parameters"].items())
            ]
            return ActionResult({"Parameters": parameters})

        def delete_cache_parameter_group(self: Any) -> Any:
            backend, name = self.elasticache_backend, self._get_param("CacheParameterGroupName")
            group(backend, name)
            if any(getattr(c, "cache_parameter_group_name", None) == name for c in backend.cache_clusters.values()):
                raise InUse(f"Cannot delete parameter group {name}: it is in use by a cache cluster.")
            del backend.cache_parameter_groups[name]
            return EmptyResult()

    models.ElastiCacheBackend.__init__ = init  # type: ignore[method-assign]
    for name in ("create_cache_parameter_group", "describe_cache_parameter_groups", "modify_cache_parameter_group", "reset_cache_parameter_group", "describe_cache_parameters", "delete_cache_parameter_group"):
        setattr(responses.ElastiCacheResponse, name, getattr(Responses, name))


@extension(
    "s3-create-bucket-tags",
    "The provider tags a new bucket in CreateBucket (CreateBucketConfiguration.Tags) and reads the tags back "
    "through S3 Control ListTagsForResource; moto 5.2.5 drops tags given at creation, so every bucket plans "
    "its tags again. As documented: the tags are the bucket's tags.",
    "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html",
    probe=lambda client: _probe_bucket_tags(client),
)
def _s3_create_bucket_tags() -> None:
    import xmltodict
    from moto.s3 import responses

    original = responses.S3Response._bucket_response_put

    def put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        result = original(self, request, bucket_name, querystring)
        if not querystring and self.body:
            try:
                config = xmltodict.parse(self.body).get("CreateBucketConfiguration") or {}
            except Exception:  # noqa: BLE001 (not a CreateBucket body)
                config = {}
            tags = (config.get("Tags") or {}).get("Tag") or []
            tags = tags if isinstance(tags, list) else [tags]
            if tags:
                bucket = self.backend.get_bucket(bucket_name)
                self.backend.tagger.tag_resource(bucket.arn, [{"Key": t["Key"], "Value": t.get("Value") or ""} for t in tags])
        return result

    responses.S3Response._bucket_response_put = put  # type: ignore[method-assign]


def _probe_bucket_tags(client: Callable[[str], Any]) -> None:
    s3 = client("s3")
    body = (
        '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-2</LocationConstraint>'
        "<Tags><Tag><Key>Project</Key><Value>webapp</Value></Tag></Tags></CreateBucketConfiguration>"
    )
    import urllib.request

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = f"{s3.meta.endpoint_url}/probe-tagged"
    req = AWSRequest(method="PUT", url=url, data=body.encode(), headers={"Content-Type": "application/xml"})
    S3SigV4Auth(s3._request_signer._credentials, "s3", REGION).add_auth(req)
    urllib.request.urlopen(urllib.request.Request(url, data=body.encode(), headers=dict(req.prepare().headers), method="PUT"), timeout=10).read()
    tags = s3.get_bucket_tagging(Bucket="probe-tagged")["TagSet"]
    assert tags == [{"Key": "Project", "Value": "webapp"}], tags


# ================================================================ read-backs: values moto returns wrongly
# Each of these made the plan after apply non-empty (a perpetual diff). "No changes" must be literal, so
# each is fixed here to what AWS returns, rather than tolerated.

@extension(
    "sg-rule-description",
    "A rule that references a security group keeps its Description in the group pair; moto 5.2.5 reads a "
    "rule's description from the CIDR range only, so DescribeSecurityGroupRules returns none.",
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html",
    probe=lambda client: _probe_sg_description(client),
)
def _sg_rule_description() -> None:
    from moto.ec2.models import security_groups

    def description(self: Any) -> str | None:
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    security_groups.SecurityGroupRule.description = property(description)  # type: ignore[assignment]


def _probe_sg_description(client: Callable[[str], Any]) -> None:
    vpc, _ = _vpc_subnets(client)
    ec2 = client("ec2")
    a = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
    b = ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=b, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": a, "Description": "a to b"}]}])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [b]}])["SecurityGroupRules"]
    assert [r.get("Description") for r in rules if not r["IsEgress"]] == ["a to b"], rules


@extension(
    "asg-default-instance-warmup",
    "moto 5.2.5 drops DefaultInstanceWarmup of CreateAutoScalingGroup/UpdateAutoScalingGroup and never "
    "returns it in DescribeAutoScalingGroups.",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html",
    probe=lambda client: _probe_asg_warmup(client),
)
def _asg_warmup() -> None:
    from moto.autoscaling import responses

    for name in ("create_auto_scaling_group", "update_auto_scaling_group"):
        original = getattr(responses.AutoScalingResponse, name)

        def wrapped(self: Any, _original: Any = original) -> Any:
            result = _original(self)
            warmup = self._get_int_param("DefaultInstanceWarmup")
            if warmup is not None:
                group = self.autoscaling_backend.autoscaling_groups[self._get_param("AutoScalingGroupName")]
                group.default_instance_warmup = warmup
            return result

        setattr(responses.AutoScalingResponse, name, wrapped)


def _asg(client: Callable[[str], Any], name: str = "probe") -> Any:
    _, subnets = _vpc_subnets(client)
    asg = client("autoscaling")
    asg.create_launch_configuration(LaunchConfigurationName=name, ImageId="ami-12c6146b", InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name, MinSize=0, MaxSize=2, VPCZoneIdentifier=",".join(subnets), DefaultInstanceWarmup=120)
    return asg


def _probe_asg_warmup(client: Callable[[str], Any]) -> None:
    group = _asg(client).describe_auto_scaling_groups(AutoScalingGroupNames=["probe"])["AutoScalingGroups"][0]
    assert group.get("DefaultInstanceWarmup") == 120, group.get("DefaultInstanceWarmup")


@extension(
    "asg-mixed-instances-policy-update",
    "moto 5.2.5 drops a group's MixedInstancesPolicy on any UpdateAutoScalingGroup that does not repeat it "
    "(a new MaxSize, say: the provider sends only what changed, and the next plan adds the policy back, forever), "
    "and a group updated from a launch template to a mixed instances policy still answers its old top-level "
    "LaunchTemplate beside it. As documented: properties an update does not specify are not changed, and a group "
    "launches from a launch template or from a mixed instances policy instead of it.",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html",
    probe=lambda client: _probe_mixed_update(client),
)
def _asg_mixed_update() -> None:
    from moto.autoscaling import models, responses

    original = responses.AutoScalingResponse.update_auto_scaling_group

    def update(self: Any) -> Any:
        group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
        kept = group.mixed_instances_policy if group is not None else None
        sources = [self._get_param(p) for p in ("MixedInstancesPolicy", "LaunchTemplate", "LaunchConfigurationName")]
        result = original(self)
        if group is not None and not any(sources):
            group.mixed_instances_policy = kept
        return result

    responses.AutoScalingResponse.update_auto_scaling_group = update  # type: ignore[method-assign]
    # The template stays known to the group (moto launches from it); only the answer leaves it out.
    template = models.FakeAutoScalingGroup.launch_template
    models.FakeAutoScalingGroup.launch_template = property(lambda self: None if self.mixed_instances_policy else template.fget(self))  # type: ignore[method-assign,assignment]


def _probe_mixed_update(client: Callable[[str], Any]) -> None:
    _, subnets = _vpc_subnets(client)
    ec2, asg = client("ec2"), client("autoscaling")
    template = ec2.create_launch_template(LaunchTemplateName="mixed-probe", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t4g.small"})
    spec = {"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"], "Version": "1"}
    asg.create_auto_scaling_group(AutoScalingGroupName="probe", MinSize=0, MaxSize=2, VPCZoneIdentifier=",".join(subnets), LaunchTemplate=spec)
    overrides = [{"InstanceType": "t4g.small"}, {"InstanceType": "t4g.medium"}]
    policy = {"InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0}, "LaunchTemplate": {"LaunchTemplateSpecification": spec, "Overrides": overrides}}
    asg.update_auto_scaling_group(AutoScalingGroupName="probe", MixedInstancesPolicy=policy)
    asg.update_auto_scaling_group(AutoScalingGroupName="probe", MaxSize=3)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["probe"])["AutoScalingGroups"][0]
    assert "LaunchTemplate" not in group, group.get("LaunchTemplate")
    mixed = group.get("MixedInstancesPolicy") or {}
    assert mixed.get("InstancesDistribution", {}).get("OnDemandBaseCapacity") == 1 and mixed["LaunchTemplate"]["Overrides"] == overrides, mixed


@extension(
    "asg-lifecycle-hook-read-back",
    "moto 5.2.5 answers every lifecycle hook with a made-up NotificationTargetARN and RoleARN (an SQS queue "
    "and a role in other accounts) and drops the ones sent. As documented: only those given are returned.",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html",
    probe=lambda client: _probe_lifecycle_hook(client),
)
def _asg_lifecycle_hook() -> None:
    from moto.autoscaling import responses

    original = responses.AutoScalingResponse.put_lifecycle_hook

    def put(self: Any) -> Any:
        result = original(self)
        group, name = self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName")
        for hook in self.autoscaling_backend.describe_lifecycle_hooks(as_name=group, lifecycle_hook_names=[name]):
            hook.notification_target_arn = self._get_param("NotificationTargetARN")
            hook.role_arn = self._get_param("RoleARN")
            hook.notification_metadata = self._get_param("NotificationMetadata")
        return result

    responses.AutoScalingResponse.put_lifecycle_hook = put  # type: ignore[method-assign]


def _probe_lifecycle_hook(client: Callable[[str], Any]) -> None:
    asg = _asg(client)
    asg.put_lifecycle_hook(AutoScalingGroupName="probe", LifecycleHookName="boot", LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", HeartbeatTimeout=600, DefaultResult="ABANDON")
    hook = asg.describe_lifecycle_hooks(AutoScalingGroupName="probe")["LifecycleHooks"][0]
    assert "NotificationTargetARN" not in hook and "RoleARN" not in hook, hook


@extension(
    "scaling-policy-read-back",
    "moto 5.2.5 never returns a scaling policy's Enabled (AWS: true unless disabled) and returns an empty "
    "PredictiveScalingConfiguration for every policy type.",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_ScalingPolicy.html",
    probe=lambda client: _probe_policy(client),
)
def _scaling_policy() -> None:
    from moto.autoscaling import responses

    original = responses.AutoScalingResponse.put_scaling_policy

    def put(self: Any) -> Any:
        result = original(self)
        policy = self.autoscaling_backend.policies[self._get_param("PolicyName")]
        enabled = self._get_param("Enabled")
        policy.enabled = True if enabled is None else str(enabled).lower() == "true"
        if not policy.predictive_scaling_configuration:
            policy.predictive_scaling_configuration = None
        return result

    responses.AutoScalingResponse.put_scaling_policy = put  # type: ignore[method-assign]


def _probe_policy(client: Callable[[str], Any]) -> None:
    asg = _asg(client)
    asg.put_scaling_policy(AutoScalingGroupName="probe", PolicyName="cpu", PolicyType="TargetTrackingScaling", TargetTrackingConfiguration={"PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0})
    policy = asg.describe_policies(AutoScalingGroupName="probe")["ScalingPolicies"][0]
    assert policy.get("Enabled") is True and "PredictiveScalingConfiguration" not in policy, policy


@extension(
    "launch-template-tag-specifications",
    "The TagSpecifications of CreateLaunchTemplate tag the launch template itself; moto 5.2.5 also copies them "
    "into the template's data, as if instances were to be tagged resource type 'launch-template'.",
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html",
    probe=lambda client: _probe_launch_template(client),
)
def _launch_template_tags() -> None:
    from moto.ec2.responses import launch_templates

    original = launch_templates.LaunchTemplates.create_launch_template

    def create(self: Any) -> Any:
        sent = copy.deepcopy(self._get_param("LaunchTemplateData", {}).get("TagSpecifications"))
        result = original(self)
        template = self.ec2_backend.describe_launch_templates(template_names=[self._get_param("LaunchTemplateName")])[0]
        data = template.versions[0].data
        if sent:
            data["TagSpecifications"] = sent
        else:
            data.pop("TagSpecifications", None)
        return result

    launch_templates.LaunchTemplates.create_launch_template = create  # type: ignore[method-assign]


def _probe_launch_template(client: Callable[[str], Any]) -> None:
    ec2 = client("ec2")
    instance_tags = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "app"}]}]
    ec2.create_launch_template(LaunchTemplateName="probe", LaunchTemplateData={"ImageId": "ami-12c6146b", "TagSpecifications": instance_tags}, TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "Name", "Value": "probe"}]}])
    data = ec2.describe_launch_template_versions(LaunchTemplateName="probe")["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["TagSpecifications"] == instance_tags, data


@extension(
    "rds-performance-insights",
    "moto 5.2.5 ignores EnablePerformanceInsights, PerformanceInsightsKMSKeyId and "
    "PerformanceInsightsRetentionPeriod (a database reads back with Performance Insights off). As documented: "
    "stored and returned; the retention period defaults to 7 days when enabled.",
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
    probe=lambda client: _probe_rds_pi(client),
)
def _rds_performance_insights() -> None:
    from moto.rds import models

    def apply(db: Any, kwargs: dict[str, Any]) -> None:
        if kwargs.get("enable_performance_insights") is not None:
            db.performance_insights_enabled = str(kwargs["enable_performance_insights"]).lower() == "true"
        if kwargs.get("performance_insights_kms_key_id"):
            db.performance_insights_kms_key_id = kwargs["performance_insights_kms_key_id"]
        if kwargs.get("performance_insights_retention_period") is not None:
            db.performance_insights_retention_period = int(kwargs["performance_insights_retention_period"])
        if getattr(db, "performance_insights_enabled", False) and not getattr(db, "performance_insights_retention_period", None):
            db.performance_insights_retention_period = 7

    create, modify = models.RDSBackend.create_db_instance, models.RDSBackend.modify_db_instance

    def create_db(self: Any, db_kwargs: dict[str, Any]) -> Any:
        db = create(self, db_kwargs)
        apply(db, db_kwargs)
        return db

    def modify_db(self: Any, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
        db = modify(self, db_instance_identifier, db_kwargs)
        apply(db, db_kwargs)
        return db

    models.RDSBackend.create_db_instance = create_db  # type: ignore[method-assign]
    models.RDSBackend.modify_db_instance = modify_db  # type: ignore[method-assign]


def _probe_rds_pi(client: Callable[[str], Any]) -> None:
    rds = client("rds")
    db = rds.create_db_instance(DBInstanceIdentifier="probe", DBInstanceClass="db.t4g.micro", Engine="postgres", MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20, EnablePerformanceInsights=True)["DBInstance"]
    db = rds.describe_db_instances(DBInstanceIdentifier="probe")["DBInstances"][0]
    assert db.get("PerformanceInsightsEnabled") is True and db.get("PerformanceInsightsRetentionPeriod") == 7, db


@extension(
    "rds-resource-id",
    "moto 5.2.5 gives every DB instance the same DbiResourceId (db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U); the provider "
    "finds an instance by that id, so two databases in one account (environments applied side by side) make "
    "each other unfindable. AWS: an identifier unique in the region, 'db-' and 26 letters and digits.",
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstance.html",
    probe=lambda client: _probe_rds_resource_id(client),
)
def _rds_resource_id() -> None:
    import random
    import string

    from moto.rds import models

    create = models.RDSBackend.create_db_instance

    def create_db(self: Any, db_kwargs: dict[str, Any]) -> Any:
        db = create(self, db_kwargs)
        db.dbi_resource_id = "db-" + "".join(random.SystemRandom().choices(string.ascii_uppercase + string.digits, k=26))
        return db

    models.RDSBackend.create_db_instance = create_db  # type: ignore[method-assign]


def _probe_rds_resource_id(client: Callable[[str], Any]) -> None:
    rds = client("rds")
    ids = {
        rds.create_db_instance(DBInstanceIdentifier=f"probe-{i}", DBInstanceClass="db.t4g.micro", Engine="postgres", MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20)["DBInstance"]["DbiResourceId"]
        for i in range(2)
    }
    assert len(ids) == 2, ids


@extension(
    "rds-parameter-source",
    "Parameters set with ModifyDBParameterGroup have Source 'user', and DescribeDBParameters filters by Source; "
    "moto 5.2.5 returns no Source and ignores the filter, so the provider (which reads Source=user) sees none of "
    "the group's parameters.",
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html",
    probe=lambda client: _probe_rds_params(client),
)
def _rds_parameter_source() -> None:
    from moto.rds import models, responses

    original_update = models.DBParameterGroup.update_parameters

    def update(self: Any, new_parameters: Any) -> None:
        new_parameters = list(new_parameters)
        original_update(self, new_parameters)
        for p in new_parameters:
            self.parameters[p["ParameterName"]]["Source"] = "user"

    original_describe = responses.RDSResponse.describe_db_parameters

    def describe(self: Any) -> Any:
        result = original_describe(self)
        source = self.params.get("Source")
        if source:
            result.result["Parameters"] = [p for p in result.result["Parameters"] if p.get("Source") == source]
        return result

    models.DBParameterGroup.update_parameters = update  # type: ignore[method-assign]
    responses.RDSResponse.describe_db_parameters = describe  # type: ignore[method-assign]


def _probe_rds_params(client: Callable[[str], Any]) -> None:
    rds = client("rds")
    rds.create_db_parameter_group(DBParameterGroupName="probe", DBParameterGroupFamily="postgres16", Description="probe")
    rds.modify_db_parameter_group(DBParameterGroupName="probe", Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    params = rds.describe_db_parameters(DBParameterGroupName="probe", Source="user")["Parameters"]
    assert [(p["ParameterName"], p.get("Source")) for p in params] == [("rds.force_ssl", "user")], params


# ================================================================ IAM enforcement (the second plan, as the CI plan role)
@extension(
    "iam-action-prefix",
    "moto names the IAM action after the request's signing name; CloudWatch signs as 'monitoring' but its "
    "actions are 'cloudwatch:*', so any cloudwatch:Describe* grant (ReadOnlyAccess) is ignored.",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
    probe=lambda client: _probe_iam_prefix(client),
)
def _iam_action_prefix() -> None:
    from moto.iam import access_control

    original = access_control.IAMRequestBase.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        service, _, action = self._action.partition(":")
        self._action = f"{IAM_PREFIX.get(service, service)}:{action}"

    access_control.IAMRequestBase.__init__ = init  # type: ignore[method-assign]


IAM_PREFIX = {"monitoring": "cloudwatch"}


@extension(
    "dynamodb-resource-arn",
    "moto checks identity policies for DynamoDB against resource '*', so a grant on a table's ARN (the CI "
    "roles' lock-table statement) never applies. AWS: the resource of a table operation is the table's ARN.",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html#amazondynamodb-resources-for-iam-policies",
    probe=lambda client: _probe_dynamodb_arn(client),
)
def _dynamodb_resource_arn() -> None:
    from moto.dynamodb import responses

    def determine_resource(self: Any) -> str:
        body = self.body  # the parsed parameters, by the time moto authorizes
        try:
            name = (body if isinstance(body, dict) else json.loads(body or "{}")).get("TableName")
        except (ValueError, AttributeError):
            name = None
        if not name:
            return "*"
        if name.startswith("arn:"):
            return name
        return f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{name}"

    responses.DynamoHandler._determine_resource = determine_resource  # type: ignore[attr-defined]


def _probe_dynamodb_arn(client: Callable[[str], Any]) -> None:
    import boto3

    ddb = client("dynamodb")
    ddb.create_table(TableName="locks", KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    iam = client("iam")
    iam.create_user(UserName="probe-ddb")
    arn = ddb.describe_table(TableName="locks")["Table"]["TableArn"]
    iam.put_user_policy(UserName="probe-ddb", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": arn}]}))
    key = iam.create_access_key(UserName="probe-ddb")["AccessKey"]
    _, endpoint = _enforcing_iam(client, user=None)
    user = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    user.put_item(TableName="locks", Item={"LockID": {"S": "b/k"}})


@extension(
    "iam-rest-get-signature",
    "When moto checks a signature it hashes the parameters it parsed from a REST GET (its query string, or "
    "without one its headers) as if they were the body, so signed GETs such as EFS "
    "DescribeFileSystems?FileSystemId=... and DescribeLifecycleConfiguration fail with SignatureDoesNotMatch. "
    "SigV4 hashes the (empty) payload of such a request.",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html",
    probe=lambda client: _probe_rest_get_signature(client),
)
def _rest_get_signature() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if self.method in ("GET", "HEAD", "DELETE") and not self.raw_body and self.data:
            data = self.data
            self.data = {}
            try:
                return original(self, iam_request_cls, resource)
            finally:
                self.data = data
        return original(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign]


def _probe_rest_get_signature(client: Callable[[str], Any]) -> None:
    import boto3

    fs = client("efs").create_file_system(CreationToken="probe-sig")["FileSystemId"]
    iam = client("iam")
    iam.create_user(UserName="probe-efs")
    iam.put_user_policy(UserName="probe-efs", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeLifecycleConfiguration"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="probe-efs")["AccessKey"]
    _, endpoint = _enforcing_iam(client, user=None)
    efs = boto3.client("efs", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    efs.describe_file_systems(FileSystemId=fs)
    efs.describe_lifecycle_configuration(FileSystemId=fs)


@extension(
    "s3-head-bucket-action",
    "moto authorizes HeadBucket as the action s3:HeadBucket, which does not exist; AWS requires s3:ListBucket, "
    "so a role with read access (ReadOnlyAccess) is refused and the provider takes the bucket for gone.",
    "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html",
    probe=lambda client: _probe_head_bucket(client),
)
def _s3_head_bucket_action() -> None:
    from moto.s3 import responses

    responses.ACTION_MAP["BUCKET"]["HEAD"]["DEFAULT"] = "ListBucket"


def _probe_head_bucket(client: Callable[[str], Any]) -> None:
    import boto3

    client("s3").create_bucket(Bucket="probe-head", CreateBucketConfiguration={"LocationConstraint": REGION})
    iam = client("iam")
    iam.create_user(UserName="probe-s3")
    iam.put_user_policy(UserName="probe-s3", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::probe-head"}]}))
    key = iam.create_access_key(UserName="probe-s3")["AccessKey"]
    _, endpoint = _enforcing_iam(client, user=None)
    boto3.client("s3", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]).head_bucket(Bucket="probe-head")


@extension(
    "cbor-signature",
    "CborBridge re-encodes CloudWatch requests for moto; when IAM is enforced moto recomputes the SigV4 "
    "signature over the re-encoded request and rejects it. The signature is checked over the request as the "
    "client sent it (path, body and content headers).",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html",
    probe=lambda client: _probe_cbor_signature(client),
)
def _cbor_auth() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        environ = getattr(self.headers, "environ", {})
        sent = environ.get("rehearsal.cbor_original")
        if not sent:
            return original(self, iam_request_cls, resource)
        translated = (self.raw_path, self.raw_body, self.body, self.headers)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "x-amz-target"}
        headers.update(sent["headers"])
        self.raw_path, self.raw_body, self.body, self.headers = sent["path"], sent["body"], sent["body"], headers
        try:
            return original(self, iam_request_cls, resource)
        finally:
            self.raw_path, self.raw_body, self.body, self.headers = translated

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign]


def _enforcing_iam(client: Callable[[str], Any], user: str | None = "probe") -> Any:
    """A user allowed only cloudwatch:DescribeAlarms, and the emulator checking IAM from now on."""
    import urllib.request

    key = None
    if user:
        iam = client("iam")
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
    endpoint = client("sts").meta.endpoint_url
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}), timeout=10).read()
    return key, endpoint


def _probe_iam_prefix(client: Callable[[str], Any]) -> None:
    import boto3

    key, endpoint = _enforcing_iam(client)
    cw = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    cw.describe_alarms()  # AccessDenied on plain moto: it checks monitoring:DescribeAlarms


def _probe_cbor_signature(client: Callable[[str], Any]) -> None:
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from deploy import cbor

    key, endpoint = _enforcing_iam(client)
    url = f"{endpoint}/service/GraniteServiceVersion20100801/operation/DescribeAlarms"
    body = cbor.encode({})
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/cbor", "Accept": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "monitoring", REGION).add_auth(req)
    http = urllib.request.Request(url, data=body, headers=dict(req.prepare().headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=10) as r:
            assert r.status == 200
    except urllib.error.HTTPError as e:
        raise AssertionError(f"HTTP {e.code}: {e.read()[:300]!r}") from None


def _as_user(client: Callable[[str], Any], name: str, statements: list[dict[str, Any]]) -> Callable[..., Any]:
    """A user with exactly `statements`, the emulator checking IAM from now on, and a client factory for it."""
    import boto3

    iam = client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    _, endpoint = _enforcing_iam(client, user=None)

    def as_user(service: str, **kwargs: Any) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=kwargs.pop("endpoint_url", endpoint), aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], **kwargs)

    return as_user


@extension(
    "kms-key-policy-deny-conditions",
    "moto refuses DescribeKey when any Deny statement of the key policy names the action (kms:*), ignoring the "
    "statement's Principal and Condition; a deny that only applies to other principals (the environment keys' "
    "'not the other environments' roles', by aws:PrincipalArn) then refuses every caller and the provider "
    "cannot read the key it created. AWS applies a Deny only where its principal and conditions match; here "
    "its conditions are evaluated like the identity policies' (iam-conditions).",
    "https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html ; "
    "https://github.com/getmoto/moto/blob/5.2.5/moto/kms/policy_validator.py",
    probe=lambda client: _probe_kms_deny_conditions(client),
)
def _kms_deny_conditions() -> None:
    from moto.kms import policy_validator, responses
    from moto.kms.exceptions import AccessDeniedException

    def validate_policy(key: Any, action: str) -> None:
        try:
            policy = json.loads(key.policy)
        except (ValueError, AttributeError):
            return
        for statement in policy.get("Statement", []):
            if statement.get("Effect", "").lower() != "deny" or not policy_validator.check_statement(statement, key.arn, action):
                continue
            condition = statement.get("Condition")
            if condition and condition_holds(condition, dict(SECURE_TRANSPORT)) is False:
                continue
            raise AccessDeniedException(message=f"Action {action} is now allowed by the given key policy")

    responses.validate_policy = validate_policy  # type: ignore[assignment]


def _probe_kms_deny_conditions(client: Callable[[str], Any]) -> None:
    account = client("sts").get_caller_identity()["Account"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/other-*"}}},
        ],
    }
    kms = client("kms")
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
    kms.describe_key(KeyId=key)


@extension(
    "iam-wildcards",
    "moto matches a policy's Action and Resource by turning '*' into the regex '.*' and leaving every other "
    "character to the regex engine: '?' becomes a quantifier (a resource such as a secret's "
    "'name-??????' crashes the request with HTTP 500) and '.' matches any character. AWS: '*' matches any "
    "run of characters, '?' exactly one, everything else itself.",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards",
    probe=lambda client: _probe_iam_wildcards(client),
)
def _iam_wildcards() -> None:
    from moto.iam import access_control

    def match(pattern: str, string: str) -> Any:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.match(f"^{regex}$", string, re.DOTALL)

    access_control.IAMPolicyStatement._match = staticmethod(match)  # type: ignore[method-assign]


def _probe_iam_wildcards(client: Callable[[str], Any]) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="probe-wild", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="probe-wild", Key="state-abc", Body=b"x")
    as_user = _as_user(client, "probe-wild", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::probe-wild/state-???"}])
    as_user("s3").get_object(Bucket="probe-wild", Key="state-abc")


@extension(
    "secretsmanager-resource-arn",
    "moto checks identity policies for Secrets Manager against resource '*', so a grant on a secret's ARN "
    "(the CI plan role's GetSecretValue on its cache token's secret) never applies. AWS: the resource of a "
    "secret operation is the secret's ARN.",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html#awssecretsmanager-resources-for-iam-policies",
    probe=lambda client: _probe_secret_arn(client),
)
def _secretsmanager_resource_arn() -> None:
    from moto.secretsmanager import responses

    def determine_resource(self: Any) -> str:
        try:
            secret_id = json.loads(self.body or "{}").get("SecretId")
        except (ValueError, AttributeError):
            secret_id = None
        if not secret_id:
            return "*"
        secret = self.backend.secrets.get(secret_id)
        return secret.arn if secret is not None else secret_id if secret_id.startswith("arn:") else "*"

    responses.SecretsManagerResponse._determine_resource = determine_resource  # type: ignore[attr-defined]


def _probe_secret_arn(client: Callable[[str], Any]) -> None:
    arn = client("secretsmanager").create_secret(Name="probe/token", SecretString="x")["ARN"]
    as_user = _as_user(client, "probe-secret", [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}])
    as_user("secretsmanager").get_secret_value(SecretId="probe/token")


@extension(
    "ssm-parameter-resource-arn",
    "moto checks identity policies for Systems Manager against resource '*', so a grant on a parameter's ARN "
    "(the CI plan role's GetParameter on AWS's public parameters, arn:aws:ssm:<region>::parameter/aws/service/*) "
    "never applies. AWS: the resource is the parameter's ARN, without an account for AWS's public "
    "parameters. Requests naming one parameter are checked against its ARN; others keep moto's '*'.",
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html#awssystemsmanager-resources-for-iam-policies ; "
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-finding-public-parameters.html",
    probe=lambda client: _probe_ssm_arn(client),
)
def _ssm_parameter_resource_arn() -> None:
    from moto.ssm import responses

    def determine_resource(self: Any) -> str:
        try:
            body = json.loads(self.body or "{}")
        except (ValueError, AttributeError):
            return "*"
        names = [body["Name"]] if isinstance(body.get("Name"), str) else body.get("Names") or []
        if len(names) != 1:
            return "*"
        name = str(names[0]).split(":")[0] if not str(names[0]).startswith("arn:") else str(names[0])
        if name.startswith("arn:"):
            return name
        account = "" if name.startswith("/aws/service/") else self.current_account
        return f"arn:aws:ssm:{self.region}:{account}:parameter/{name.lstrip('/')}"

    responses.SimpleSystemManagerResponse._determine_resource = determine_resource  # type: ignore[attr-defined]


PUBLIC_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"


def _probe_ssm_arn(client: Callable[[str], Any]) -> None:
    as_user = _as_user(client, "probe-ssm", [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": f"arn:aws:ssm:{REGION}::parameter/aws/service/*"}])
    as_user("ssm").get_parameter(Name=PUBLIC_AMI_PARAMETER)


@extension(
    "s3control-signature",
    "S3 Control signs as service 's3', whose canonical request uses the path URI-encoded once (a bucket ARN "
    "in ListTagsForResource's path keeps its '%3A'); moto recomputes the signature with the generic SigV4 "
    "rule (each path segment encoded twice) and answers 403 SignatureDoesNotMatch.",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request",
    probe=lambda client: _probe_s3control_signature(client),
)
def _s3control_signature() -> None:
    from botocore.auth import S3SigV4Auth
    from moto.iam import access_control

    original = access_control.IAMRequest._create_auth

    def create_auth(self: Any, credentials: Any) -> Any:
        return S3SigV4Auth(credentials, self._service, self._region) if self._service == "s3" else original(self, credentials)

    access_control.IAMRequest._create_auth = create_auth  # type: ignore[method-assign]


def _probe_s3control_signature(client: Callable[[str], Any]) -> None:
    from botocore.config import Config

    client("s3").create_bucket(Bucket="probe-control", CreateBucketConfiguration={"LocationConstraint": REGION})
    endpoint = client("sts").meta.endpoint_url
    account = client("sts").get_caller_identity()["Account"]
    as_user = _as_user(client, "probe-control", [{"Effect": "Allow", "Action": "s3:ListTagsForResource", "Resource": "*"}])
    # Host-prefixed (<account>.s3-control...): through the emulator as a proxy, as the rehearsal reaches it.
    control = as_user("s3control", endpoint_url=f"http://s3-control.{REGION}.amazonaws.com", config=Config(proxies={"http": endpoint}))
    control.list_tags_for_resource(AccountId=account, ResourceArn="arn:aws:s3:::probe-control")


# ================================================================ leniency: checks AWS makes and moto does not
@extension(
    "scheduled-action-capacity",
    "AWS rejects a scheduled action whose desired capacity lies outside its own min and max size "
    "(ValidationError); moto 5.2.5 accepts any value.",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScheduledUpdateGroupAction.html ; "
    "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-scheduled-scaling.html",
    probe=_probe_scheduled_action,
)
def _scheduled_action_capacity() -> None:
    from moto.autoscaling import models
    from moto.autoscaling.exceptions import ValidationError

    original = models.AutoScalingBackend.put_scheduled_update_group_action

    def put(self: Any, name: str, desired_capacity: Any, max_size: Any, min_size: Any, *args: Any, **kwargs: Any) -> Any:
        group = self.autoscaling_groups.get(name)
        lo = int(min_size) if min_size is not None else (group.min_size if group else None)
        hi = int(max_size) if max_size is not None else (group.max_size if group else None)
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError(f"Max size:{hi} must be greater than or equal to min size:{lo}")
        if desired_capacity is not None and lo is not None and hi is not None and not lo <= int(desired_capacity) <= hi:
            raise ValidationError(f"Desired capacity:{int(desired_capacity)} must be between the specified min size:{lo} and max size:{hi}")
        return original(self, name, desired_capacity, max_size, min_size, *args, **kwargs)

    models.AutoScalingBackend.put_scheduled_update_group_action = put  # type: ignore[method-assign]


@extension(
    "alb-deletion-protection",
    "AWS refuses DeleteLoadBalancer while the attribute deletion_protection.enabled is true "
    "(OperationNotPermitted); moto 5.2.5 deletes it.",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#deletion-protection",
    probe=_probe_alb_protection,
)
def _alb_deletion_protection() -> None:
    from moto.elbv2 import models
    from moto.elbv2.exceptions import ELBClientError

    original = models.ELBv2Backend.delete_load_balancer

    def delete(self: Any, arn: str) -> None:
        lb = self.load_balancers.get(arn)
        if lb is not None and str(lb.attrs.get("deletion_protection.enabled", "false")).lower() == "true":
            raise ELBClientError(
                "OperationNotPermitted",
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
            )
        return original(self, arn)

    models.ELBv2Backend.delete_load_balancer = delete  # type: ignore[method-assign]


# ================================================================ coverage and protections
KNOWN_TYPES: set[str] = {
    "aws_acm_certificate",
    "aws_acm_certificate_validation",
    "aws_autoscaling_group",
    "aws_autoscaling_lifecycle_hook",
    "aws_autoscaling_policy",
    "aws_autoscaling_schedule",
    "aws_cloudtrail",
    "aws_cloudwatch_dashboard",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_log_metric_filter",
    "aws_cloudwatch_log_resource_policy",
    "aws_cloudwatch_metric_alarm",
    "aws_db_instance",
    "aws_db_parameter_group",
    "aws_db_subnet_group",
    "aws_default_security_group",
    "aws_dynamodb_table",
    "aws_efs_access_point",
    "aws_efs_backup_policy",
    "aws_efs_file_system",
    "aws_efs_file_system_policy",
    "aws_efs_mount_target",
    "aws_eip",
    "aws_elasticache_parameter_group",
    "aws_elasticache_replication_group",
    "aws_elasticache_subnet_group",
    "aws_flow_log",
    "aws_iam_instance_profile",
    "aws_iam_openid_connect_provider",
    "aws_iam_policy",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_internet_gateway",
    "aws_kms_alias",
    "aws_kms_key",
    "aws_launch_template",
    "aws_lb",
    "aws_lb_listener",
    "aws_lb_target_group",
    "aws_nat_gateway",
    "aws_route",
    "aws_route53_record",
    "aws_route_table",
    "aws_route_table_association",
    "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_s3_object",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
    "aws_security_group",
    "aws_sns_topic",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_subnet",
    "aws_vpc",
    "aws_vpc_endpoint",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_wafv2_web_acl",
    "aws_wafv2_web_acl_association",
    "aws_wafv2_web_acl_logging_configuration",
}
EXCLUDED: dict[str, Gap] = {g.excluded_type: g for g in GAPS if g.excluded_type}


def check_coverage(docs: dict[str, dict[str, Any]]) -> None:
    """Every resource type in the stacks is known to work or excluded; every exclusion is still used."""
    used = {t for doc in docs.values() for t in doc.get("resource", {})}
    unknown = sorted(used - KNOWN_TYPES - set(EXCLUDED))
    if unknown:
        raise SystemExit(
            "rehearse: resource types the rehearsal has not proven against the emulator: "
            + ", ".join(unknown)
            + " (add each to KNOWN_TYPES in rehearsals/deploy/gaps.py once it applies, plans clean and destroys, or handle its gap there)"
        )
    unused = sorted(set(EXCLUDED) - used)
    if unused:
        raise SystemExit("rehearse: exclusions for types no stack uses any more: " + ", ".join(unused))


def _json_policy(text: str) -> Any:
    return json.loads(text)
