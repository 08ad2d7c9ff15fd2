"""Tests of the rehearsal's emulator: every gap in gaps.py still exists in plain moto and is closed by its
extension; the condition evaluator; the CBOR bridge. Two emulators are started with emulator.py, one
with and one without the extension. Run with the moto venv: $MOTO_PYTHON -m pytest rehearsals/deploy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from deploy import cbor, gaps  # noqa: E402

ACCOUNT = "123456789012"


def _emulator(extended: bool) -> Iterator[int]:
    with tempfile.TemporaryDirectory() as tmp:
        port_file, pid_file = os.path.join(tmp, "port"), os.path.join(tmp, "pid")
        cmd = [sys.executable, os.path.join(HERE, "emulator.py"), "start", "--account-id", ACCOUNT, "--port-file", port_file, "--pid-file", pid_file, "--log", os.path.join(tmp, "log"), "--wait", "30"]
        if not extended:
            cmd.append("--no-extension")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=60)
        try:
            yield int(open(port_file).read())
        finally:
            subprocess.run([sys.executable, os.path.join(HERE, "emulator.py"), "stop", "--pid-file", pid_file], check=True, timeout=30)


@pytest.fixture(scope="module")
def extended() -> Iterator[int]:
    yield from _emulator(True)


@pytest.fixture(scope="module")
def plain() -> Iterator[int]:
    yield from _emulator(False)


def factory(port: int) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=gaps.REGION, endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=ACCOUNT, aws_secret_access_key="x")

    return client


def reset(port: int) -> None:
    for path, data in (("reset-auth", b"inf"), ("reset", b"")):
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/{path}", data=data, method="POST", headers={"Content-Type": "text/plain"}), timeout=10).read()


EXTENSIONS = [g for g in gaps.GAPS if g.install and g.probe]
# How a probe shows its gap: a wrong answer (its assertion), a refusal, or an answer botocore cannot parse.
# Anything else (a TypeError, a KeyError) is a broken probe, not a gap.
GAP_SHOWN = (AssertionError, ClientError, ResponseParserError)
EXCLUSIONS = [g for g in gaps.GAPS if g.excluded_type]


def test_every_gap_has_a_reason_a_link_and_a_probe() -> None:
    assert len({g.name for g in gaps.GAPS}) == len(gaps.GAPS)
    for g in gaps.GAPS:
        assert len(g.reason) > 40 and g.link.startswith("https://"), g.name
        assert g.probe is not None, f"{g.name}: no probe"


@pytest.mark.parametrize("gap", EXTENSIONS, ids=[g.name for g in EXTENSIONS])
def test_gap_still_in_plain_moto(gap: gaps.Gap, plain: int) -> None:
    """When moto fixes it, this fails: drop the extension."""
    reset(plain)
    with pytest.raises(GAP_SHOWN):
        gap.probe(factory(plain))  # type: ignore[misc]


@pytest.mark.parametrize("gap", EXTENSIONS, ids=[g.name for g in EXTENSIONS])
def test_extension_closes_gap(gap: gaps.Gap, extended: int) -> None:
    reset(extended)
    gap.probe(factory(extended))  # type: ignore[misc]


@pytest.mark.parametrize("gap", EXCLUSIONS, ids=[g.name for g in EXCLUSIONS])
def test_exclusion_still_needed(gap: gaps.Gap, extended: int) -> None:
    reset(extended)
    with pytest.raises(GAP_SHOWN):
        gap.probe(factory(extended))  # type: ignore[misc]


# ---------------------------------------------------------------- the condition evaluator, per AWS
@pytest.mark.parametrize(
    "condition, context, want",
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
        ({"Bool": {"aws:SecureTransport": "false"}}, {}, False),
        ({"StringLike": {"s3:prefix": ["env/dev/*", "x"]}}, {"s3:prefix": "env/dev/state"}, True),
        ({"StringLike": {"s3:prefix": "env/dev/*"}}, {"s3:prefix": "env/prod/state"}, False),
        ({"StringEquals": {"iam:PermissionsBoundary": "arn:b"}}, {"iam:permissionsboundary": "arn:b"}, True),
        ({"StringNotEquals": {"aws:username": "a"}}, {}, True),
        ({"StringEqualsIfExists": {"aws:username": "a"}}, {}, True),
        ({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*/env/dev/*"]}}, {"dynamodb:LeadingKeys": ["b/env/dev/s"]}, True),
        ({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*/env/dev/*"]}}, {"dynamodb:LeadingKeys": ["b/env/dev/s", "b/env/prod/s"]}, False),
        ({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*/env/dev/*"]}}, {}, True),
        ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
        ({"ForAnyValue:StringNotLike": {"dynamodb:LeadingKeys": ["*/env/dev/*"]}}, {}, False),
        ({"ForAnyValue:StringNotLike": {"dynamodb:LeadingKeys": ["*/env/dev/*"]}}, {"dynamodb:LeadingKeys": ["b/env/prod/s"]}, True),
        ({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"a": "b"}}, {"aws:SecureTransport": "false", "a": "c"}, False),
        ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}, None),
    ],
)
def test_condition_holds(condition: dict[str, Any], context: dict[str, Any], want: bool | None) -> None:
    assert gaps.condition_holds(condition, context) is want


def test_tls_only_deny_still_denies_plain_http_requests() -> None:
    """The emulator counts its loopback HTTP as TLS; a request context saying otherwise is still denied."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    gaps.install()
    policy = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    assert IAMPolicy(policy).is_action_permitted("s3:GetObject", "arn:aws:s3:::b/k", incoming_condition_values={"aws:SecureTransport": "false"}) == PermissionResult.DENIED
    assert IAMPolicy(policy).is_action_permitted("s3:GetObject", "arn:aws:s3:::b/k") == PermissionResult.NEUTRAL


# ---------------------------------------------------------------- the CBOR bridge
@pytest.mark.parametrize("value", [0, 23, 24, 255, 65536, 2**40, -1, -500, 1.5, "", "é", b"\x00\x01", True, False, None, [1, [2]], {"a": {"b": [1.25]}}, cbor.Tag(1, 1700000000.5)])
def test_cbor_round_trip(value: Any) -> None:
    assert cbor.decode(cbor.encode(value)) == value


def test_cbor_indefinite_lengths() -> None:
    # RFC 8949 appendix A: (_ "strea", "ming"), [_ 1, 2], {_ "a": 1}
    assert cbor.decode(bytes.fromhex("7f657374726561646d696e67ff")) == "streaming"
    assert cbor.decode(bytes.fromhex("9f0102ff")) == [1, 2]
    assert cbor.decode(bytes.fromhex("bf616101ff")) == {"a": 1}
    assert cbor.decode(bytes.fromhex("f93c00")) == 1.0


def _cbor_call(port: int, operation: str, params: dict[str, Any]) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{port}/service/GraniteServiceVersion20100801/operation/{operation}"
    body = cbor.encode(params)
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/cbor", "Accept": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
    SigV4Auth(Credentials(ACCOUNT, "x"), "monitoring", gaps.REGION).add_auth(req)
    prepared = req.prepare()
    http = urllib.request.Request(url, data=body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=10) as r:
            assert r.headers["smithy-protocol"] == "rpc-v2-cbor"
            return r.status, cbor.decode(r.read())
    except urllib.error.HTTPError as e:
        return e.code, cbor.decode(e.read())


def test_cloudwatch_over_cbor(extended: int) -> None:
    reset(extended)
    status, _ = _cbor_call(extended, "PutMetricAlarm", {"AlarmName": "a", "MetricName": "m", "Namespace": "n", "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"})
    assert status == 200
    status, out = _cbor_call(extended, "DescribeAlarms", {"AlarmNames": ["a"]})
    assert status == 200
    alarm = out["MetricAlarms"][0]
    assert alarm["AlarmName"] == "a" and alarm["Threshold"] == 1.0
    stamp = alarm["AlarmConfigurationUpdatedTimestamp"]
    assert isinstance(stamp, cbor.Tag) and stamp.tag == 1
    assert abs(stamp.value - dt.datetime.now(dt.timezone.utc).timestamp()) < 600
    status, err = _cbor_call(extended, "DeleteDashboards", {"DashboardNames": ["nope"]})
    assert status >= 400 and "ResourceNotFound" in err.get("__type", "")


def test_existing_hosted_zones_with_given_ids(extended: int) -> None:
    reset(extended)
    for zone in ("Z0EXAMPLE0000000STAGE", "Z0EXAMPLE00000000PROD"):
        body = json.dumps({"account": ACCOUNT, "id": zone, "name": "example.com"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{extended}/rehearsal-api/hosted-zone", data=body, method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
    r53 = factory(extended)("route53")
    for zone in ("Z0EXAMPLE0000000STAGE", "Z0EXAMPLE00000000PROD"):
        assert r53.get_hosted_zone(Id=zone)["HostedZone"]["Name"] == "example.com."
