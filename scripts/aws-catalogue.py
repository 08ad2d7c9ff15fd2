#!/usr/bin/env python3
"""Regenerates modules/aws-catalogue.generated.ts: the AWS names the validator accepts, drawn from the AWS
SDK's service models (botocore) and the AWS emulator's recorded AWS data (moto), both at pinned versions.

    python3 scripts/aws-catalogue.py            # download the pinned wheels (pip), rewrite the file
    python3 scripts/aws-catalogue.py --check    # exit 1 if the committed file differs

What comes from where:
  EC2 instance types       botocore ec2 service model, shape InstanceType (its enum)
  ElastiCache node types   botocore elasticache service model, the node types its documentation names
  RDS instance classes     `db.` + an EC2 instance type, plus the classes the botocore rds model names
                           (which engine version supports which class only the account knows: plan time)
  ALB TLS policies         moto elbv2/ssl_policies.py (recorded from DescribeSSLPolicies)
  Availability zones       moto ec2/resources/instance_type_offerings/availability-zone/<region>.json.gz
                           (recorded from DescribeInstanceTypeOfferings in each region)
It also rewrites __tests__/support/aws-cli.generated.json, the AWS CLI commands of the services the
documentation uses, with their options (the CLI derives both from the same botocore models: operation and
member names in kebab case, `--no-` for booleans, paging options where the operation pages, waiters), so
__tests__/docs.test.ts can check every documented `aws` command.
Only the standard library is used; the wheels are read as zip files, never installed.
"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

BOTOCORE = "1.44.8"
MOTO = "5.2.5"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUTPUT = os.path.join(ROOT, "modules", "aws-catalogue.generated.ts")
OFFERINGS = "moto/ec2/resources/instance_type_offerings/availability-zone/"
CLI_OUTPUT = os.path.join(ROOT, "__tests__", "support", "aws-cli.generated.json")
# CLI service name -> botocore model folder, for the services the documentation may use.
CLI_SERVICES = {
    "acm": "acm", "autoscaling": "autoscaling", "backup": "backup", "cloudwatch": "cloudwatch", "dynamodb": "dynamodb",
    "ec2": "ec2", "efs": "efs", "elasticache": "elasticache", "elbv2": "elbv2", "iam": "iam", "kms": "kms",
    "logs": "logs", "rds": "rds", "route53": "route53", "s3api": "s3", "secretsmanager": "secretsmanager",
    "sns": "sns", "ssm": "ssm", "sts": "sts", "wafv2": "wafv2",
}


def cli_reference(botocore_whl):
    """{service: {"commands": {command: [options]}, "waiters": {waiter: command}}} as the AWS CLI names them."""
    sys.path.insert(0, botocore_whl)
    from botocore import xform_name  # pure Python, imported from the wheel itself

    bc = zipfile.ZipFile(botocore_whl)
    reference = {}
    for cli, folder in CLI_SERVICES.items():
        versions = sorted({n.split("/")[3] for n in bc.namelist() if n.startswith(f"botocore/data/{folder}/") and n.count("/") == 4})
        base = f"botocore/data/{folder}/{versions[-1]}"
        service = json.loads(gzip.decompress(bc.read(f"{base}/service-2.json.gz")))
        names = set(bc.namelist())
        paged = json.loads(bc.read(f"{base}/paginators-1.json"))["pagination"] if f"{base}/paginators-1.json" in names else {}
        waiters = json.loads(bc.read(f"{base}/waiters-2.json"))["waiters"] if f"{base}/waiters-2.json" in names else {}
        commands = {}
        for name, op in service["operations"].items():
            members = service["shapes"].get(op.get("input", {}).get("shape", ""), {}).get("members", {})
            options = set()
            for member, ref in members.items():
                option = "--" + xform_name(member, "-")
                options.add(option)
                if service["shapes"][ref["shape"]]["type"] == "boolean":
                    options.add("--no-" + option[2:])
            if name in paged:
                options |= {"--max-items", "--starting-token", "--page-size", "--no-paginate"}
            commands[xform_name(name, "-")] = sorted(options)
        reference[cli] = {
            "commands": dict(sorted(commands.items())),
            "waiters": {xform_name(w, "-"): xform_name(spec["operation"], "-") for w, spec in sorted(waiters.items())},
        }
    return reference


def model(wheel, service, version):
    return json.loads(gzip.decompress(wheel.read(f"botocore/data/{service}/{version}/service-2.json.gz")))


def built(wheel, name, version):
    y, m, d, *_ = wheel.getinfo(f"{name}-{version}.dist-info/METADATA").date_time
    return f"{y:04d}-{m:02d}-{d:02d}"


def catalogue(botocore_whl, moto_whl):
    bc = zipfile.ZipFile(botocore_whl)
    mt = zipfile.ZipFile(moto_whl)

    ec2 = model(bc, "ec2", "2016-11-15")["shapes"]["InstanceType"]["enum"]
    size = r"(?:nano|micro|small|medium|large|metal|\d*xlarge)"
    cache_text = json.dumps(model(bc, "elasticache", "2015-02-02"))
    cache = sorted(set(re.findall(rf"\bcache\.[a-z][a-z0-9-]*\.{size}\b", cache_text)))
    rds_text = json.dumps(model(bc, "rds", "2014-10-31"))
    rds_named = sorted(set(re.findall(rf"\bdb\.[a-z][a-z0-9-]*\.{size}\b", rds_text)))
    ssl = mt.read("moto/elbv2/ssl_policies.py").decode()
    policies = re.findall(r'^    "(ELBSecurityPolicy[^"]*)": \{', ssl, re.M)
    zones = {}
    for name in sorted(n for n in mt.namelist() if n.startswith(OFFERINGS) and n.endswith(".json.gz")):
        region = name[len(OFFERINGS):-len(".json.gz")]
        zones[region] = sorted({o["Location"] for o in json.loads(gzip.decompress(mt.read(name)))})
    if not (ec2 and cache and policies and zones):
        sys.exit("a source came back empty: the wheel layout changed")
    sources = {
        "botocore": {"version": BOTOCORE, "built": built(bc, "botocore", BOTOCORE)},
        "moto": {"version": MOTO, "built": built(mt, "moto", MOTO)},
    }
    return sources, sorted(ec2), cache, rds_named, sorted(policies), zones


def ts_list(values, indent="  "):
    lines, line = [], indent
    for v in values:
        item = json.dumps(v) + ", "
        if len(line) + len(item) > 118:
            lines.append(line.rstrip())
            line = indent
        line += item
    lines.append(line.rstrip())
    return "\n".join(lines)


def render(sources, ec2, cache, rds_named, policies, zones):
    b, m = sources["botocore"], sources["moto"]
    out = [
        "// Generated by scripts/aws-catalogue.py: do not edit; run `python3 scripts/aws-catalogue.py`.",
        f"// Sources: botocore {b['version']} (built {b['built']}): the AWS SDK's service models;",
        f"// moto {m['version']} (built {m['built']}): AWS responses recorded by the AWS emulator's maintainers.",
        "",
        "/** Where each list comes from, and the date of that source. */",
        "export const CATALOGUE_SOURCES = " + json.dumps(
            {
                "botocore": {**b, "file": "botocore/data/*/service-2.json"},
                "moto": {**m, "file": "moto/elbv2/ssl_policies.py, moto/ec2/resources/instance_type_offerings"},
            }
        ) + " as const;",
        "",
        "/** EC2 instance types (botocore ec2 InstanceType enum). */",
        "export const EC2_INSTANCE_TYPES: readonly string[] = [",
        ts_list(ec2),
        "];",
        "",
        "/** ElastiCache node types (named by the botocore elasticache model's documentation). */",
        "export const ELASTICACHE_NODE_TYPES: readonly string[] = [",
        ts_list(cache),
        "];",
        "",
        "/** RDS classes the botocore rds model names; every other class is `db.` + an EC2 instance type. */",
        "export const RDS_NAMED_CLASSES: readonly string[] = [",
        ts_list(rds_named),
        "];",
        "",
        "/** ALB TLS security policies (moto elbv2 ssl_policies, recorded from DescribeSSLPolicies). */",
        "export const ALB_TLS_POLICIES: readonly string[] = [",
        ts_list(policies),
        "];",
        "",
        "/** Availability zones per region (moto instance type offerings per zone, recorded per region). */",
        "export const AVAILABILITY_ZONES: Readonly<Record<string, readonly string[]>> = {",
    ]
    for region, names in zones.items():
        out.append(f"  {json.dumps(region)}: {json.dumps(names)},")
    out.append("};")
    return "\n".join(out) + "\n"


def render_cli(reference):
    """JSON with one command per line, so a model update reads as a small diff."""
    out = ["{", f'"source": {json.dumps(f"botocore {BOTOCORE}")},']
    services = list(reference.items())
    for i, (service, entry) in enumerate(services):
        out.append(f"{json.dumps(service)}: {{")
        out.append(f'"waiters": {json.dumps(entry["waiters"], separators=(",", ":"))},')
        out.append('"commands": {')
        commands = list(entry["commands"].items())
        for j, (command, options) in enumerate(commands):
            out.append(f"{json.dumps(command)}: {json.dumps(options, separators=(',', ':'))}" + ("," if j < len(commands) - 1 else ""))
        out.append("}}" + ("," if i < len(services) - 1 else ""))
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", tmp,
             f"botocore=={BOTOCORE}", f"moto=={MOTO}"],
            check=True,
        )
        wheels = {f.split("-")[0]: os.path.join(tmp, f) for f in os.listdir(tmp)}
        text = render(*catalogue(wheels["botocore"], wheels["moto"]))
        cli = render_cli(cli_reference(wheels["botocore"]))
    for path, content in ((OUTPUT, text), (CLI_OUTPUT, cli)):
        if "--check" in sys.argv:
            with open(path, encoding="utf-8") as f:
                if f.read() != content:
                    sys.exit(f"{os.path.relpath(path, ROOT)} differs from its sources: run python3 scripts/aws-catalogue.py")
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)


if __name__ == "__main__":
    main()
