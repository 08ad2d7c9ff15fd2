#!/usr/bin/env python3
"""Regenerates modules/rules/aws-catalogue.generated.ts (the AWS names the validator accepts) and
modules/rules/aws-rules.generated.ts (AWS's rules for names, tags and time zones, and which database classes and
cache node types each region and engine offers), drawn from pinned, dated sources: the AWS SDK's service
models (botocore), the AWS emulator's recorded AWS data (moto), the CloudFormation resource schemas and
AWS-API-derived data that cfn-lint ships, and the IANA time zone database (tzdata).

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
  EC2 instance type facts  moto ec2/resources/instance_types.json.gz (recorded from DescribeInstanceTypes):
                           architecture, vCPUs, memory, burstable, current generation, offered as Spot;
                           botocore's models carry none of these (its enum is names only)
And into modules/rules/aws-rules.generated.ts:
  Name rules               per Terraform attribute: min/max/pattern of the botocore shape of the API member
                           that receives it and/or of the CloudFormation schema property (cfn-lint schemas)
  Tag rules                per service: min/max/pattern of the botocore Tag shape's Key and Value
  RDS classes by region    cfn-lint aws_rds_dbinstance/dbinstanceclass_enum.json (AWS pricing API, per
                           region and engine)
  RDS classes by version   cfn-lint aws_rds_dbinstance/db_instance_class.json (DescribeOrderableDBInstance-
                           Options per engine version; its entries are keyed by version across engines, so
                           the union for a major version is a superset of what one engine offers)
  Cache node types/region  cfn-lint aws_elasticache_cachecluster/cachenodetype_enum.json (pricing API)
  Time zones               tzdata's tzdata.zi: IANA zones, and links with their targets
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
CFN_LINT = "1.58.0"
TZDATA = "2026.6"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUTPUT = os.path.join(ROOT, "modules", "rules", "aws-catalogue.generated.ts")
RULES_OUTPUT = os.path.join(ROOT, "modules", "rules", "aws-rules.generated.ts")
# Terraform attribute -> where AWS states the rule of the value it receives: ("api", service, operation,
# member) for a botocore input member, ("shape", service, shape) for a botocore shape, ("cfn", resource type,
# property) for a CloudFormation schema property. Attributes no source constrains have their rules written
# by hand in modules/rules/aws-names.ts, each with its AWS documentation link.
NAME_SOURCES = {
    "aws_acm_certificate.domain_name": [("api", "acm", "RequestCertificate", "DomainName")],
    "aws_acm_certificate.subject_alternative_names": [("api", "acm", "RequestCertificate", "SubjectAlternativeNames")],
    "aws_autoscaling_group.name": [("api", "autoscaling", "CreateAutoScalingGroup", "AutoScalingGroupName"), ("cfn", "AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName")],
    "aws_autoscaling_policy.name": [("api", "autoscaling", "PutScalingPolicy", "PolicyName")],
    "aws_autoscaling_schedule.scheduled_action_name": [("api", "autoscaling", "PutScheduledUpdateGroupAction", "ScheduledActionName")],
    "aws_autoscaling_lifecycle_hook.name": [("api", "autoscaling", "PutLifecycleHook", "LifecycleHookName")],
    "aws_cloudtrail.name": [("cfn", "AWS::CloudTrail::Trail", "TrailName")],
    "aws_cloudwatch_event_rule.name": [("api", "events", "PutRule", "Name")],
    "aws_cloudwatch_log_group.name": [("api", "logs", "CreateLogGroup", "logGroupName")],
    "aws_cloudwatch_log_metric_filter.name": [("api", "logs", "PutMetricFilter", "filterName"), ("cfn", "AWS::Logs::MetricFilter", "FilterName")],
    "aws_cloudwatch_log_metric_filter.metric_transformation.namespace": [("shape", "logs", "MetricNamespace")],
    "aws_cloudwatch_metric_alarm.alarm_name": [("api", "cloudwatch", "PutMetricAlarm", "AlarmName"), ("cfn", "AWS::CloudWatch::Alarm", "AlarmName")],
    "aws_cloudwatch_metric_alarm.namespace": [("api", "cloudwatch", "PutMetricAlarm", "Namespace")],
    "aws_db_instance.identifier": [("cfn", "AWS::RDS::DBInstance", "DBInstanceIdentifier")],
    "aws_db_parameter_group.name": [("cfn", "AWS::RDS::DBParameterGroup", "DBParameterGroupName")],
    "aws_dynamodb_table.name": [("api", "dynamodb", "CreateTable", "TableName"), ("cfn", "AWS::DynamoDB::Table", "TableName")],
    "aws_efs_file_system.creation_token": [("api", "efs", "CreateFileSystem", "CreationToken")],
    "aws_iam_instance_profile.name": [("api", "iam", "CreateInstanceProfile", "InstanceProfileName"), ("cfn", "AWS::IAM::InstanceProfile", "InstanceProfileName")],
    "aws_iam_policy.name": [("api", "iam", "CreatePolicy", "PolicyName")],
    "aws_iam_role.name": [("api", "iam", "CreateRole", "RoleName"), ("cfn", "AWS::IAM::Role", "RoleName")],
    "aws_iam_role_policy.name": [("api", "iam", "PutRolePolicy", "PolicyName"), ("cfn", "AWS::IAM::RolePolicy", "PolicyName")],
    "aws_kms_alias.name": [("api", "kms", "CreateAlias", "AliasName"), ("cfn", "AWS::KMS::Alias", "AliasName")],
    "aws_s3_bucket.bucket": [("cfn", "AWS::S3::Bucket", "BucketName")],
    "aws_secretsmanager_secret.name": [("api", "secretsmanager", "CreateSecret", "Name"), ("cfn", "AWS::SecretsManager::Secret", "Name")],
    "aws_sns_topic.name": [("cfn", "AWS::SNS::Topic", "TopicName")],
    "aws_wafv2_web_acl.name": [("api", "wafv2", "CreateWebACL", "Name"), ("cfn", "AWS::WAFv2::WebACL", "Name")],
    "aws_wafv2_web_acl.visibility_config.metric_name": [("shape", "wafv2", "MetricName")],
}
# Services whose resources the stacks tag (the provider's default tags reach them all).
TAG_SERVICES = [
    "acm", "autoscaling", "cloudtrail", "cloudwatch", "dynamodb", "ec2", "efs", "elasticache", "elbv2", "events", "iam",
    "kms", "logs", "rds", "s3", "secretsmanager", "sns", "wafv2",
]
# The engines the database module offers, as cfn-lint and the RDS API name them.
RDS_ENGINES = ["mysql", "postgres"]
CFN_EXTENSIONS = "cfnlint/data/schemas/extensions/"
OFFERINGS = "moto/ec2/resources/instance_type_offerings/availability-zone/"
INSTANCE_TYPES = "moto/ec2/resources/instance_types.json.gz"
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
    facts = instance_type_facts(json.loads(gzip.decompress(mt.read(INSTANCE_TYPES))))
    if not (ec2 and cache and policies and zones and facts):
        sys.exit("a source came back empty: the wheel layout changed")
    facts = {name: facts[name] for name in sorted(facts) if name in ec2}
    sources = {
        "botocore": {"version": BOTOCORE, "built": built(bc, "botocore", BOTOCORE)},
        "moto": {"version": MOTO, "built": built(mt, "moto", MOTO)},
    }
    return sources, sorted(ec2), cache, rds_named, sorted(policies), zones, facts


def instance_type_facts(recorded):
    """{type: [architecture, vCPUs, memory MiB, flags]}; flags: b burstable, c current generation, s Spot."""
    facts = {}
    for name, info in recorded.items():
        archs = info["ProcessorInfo"]["SupportedArchitectures"]
        # i386 instances also run x86_64; a Mac's architecture is its own AMI family.
        architecture = "x86_64" if "x86_64" in archs else archs[0]
        flags = "".join(
            flag
            for flag, on in (
                ("b", info.get("BurstablePerformanceSupported")),
                ("c", info.get("CurrentGeneration")),
                ("s", "spot" in info.get("SupportedUsageClasses", [])),
            )
            if on
        )
        facts[name] = [architecture, info["VCpuInfo"]["DefaultVCpus"], info["MemoryInfo"]["SizeInMiB"], flags]
    return facts


def latest_model(wheel, service):
    versions = sorted({n.split("/")[3] for n in wheel.namelist() if n.startswith(f"botocore/data/{service}/") and n.count("/") == 4})
    return model(wheel, service, versions[-1])


def constraint(shape, source):
    found = {k: shape[k] for k in ("min", "max", "pattern") if k in shape}
    return {"source": source, **found} if found else None


def rules(botocore_whl, cfn_whl, tz_whl):
    bc, cl, tz = zipfile.ZipFile(botocore_whl), zipfile.ZipFile(cfn_whl), zipfile.ZipFile(tz_whl)
    models = {}

    def service_model(service):
        if service not in models:
            models[service] = latest_model(bc, service)
        return models[service]

    def shapes(service):
        return service_model(service)["shapes"]

    providers = json.loads(cl.read("cfnlint/data/schemas/providers/us-east-1.json"))
    names = {}
    for attribute, sources in NAME_SOURCES.items():
        found = []
        for source in sources:
            if source[0] == "api":
                _, service, operation, member = source
                sh = shapes(service)
                ref = sh[service_model(service)["operations"][operation]["input"]["shape"]]["members"][member]
                target = sh[ref["shape"]]
                if target["type"] == "list":
                    target = sh[target["member"]["shape"]]
                found.append(constraint(target, f"botocore {service} {operation}.{member}"))
            elif source[0] == "shape":
                _, service, shape = source
                found.append(constraint(shapes(service)[shape], f"botocore {service} {shape}"))
            else:
                _, resource, prop = source
                schema = json.loads(cl.read(f"cfnlint/data/schemas/resources/{providers[resource]}.json"))
                spec = schema["properties"][prop]
                if "$ref" in spec:
                    spec = schema["definitions"][spec["$ref"].split("/")[-1]]
                c = {k: spec[k] for k in ("minLength", "maxLength", "pattern") if k in spec}
                found.append({"source": f"CloudFormation {resource}.{prop}", **({"min": c["minLength"]} if "minLength" in c else {}),
                              **({"max": c["maxLength"]} if "maxLength" in c else {}), **({"pattern": c["pattern"]} if "pattern" in c else {})}
                             if c else None)
        found = [f for f in found if f]
        if not found:
            sys.exit(f"no source constrains {attribute}: drop it from NAME_SOURCES or fix the locator")
        names[attribute] = found

    tags = {}
    for service in TAG_SERVICES:
        sh = shapes(service)
        tag = sh.get("Tag")
        if tag:  # a list of Tag structures
            members = tag["members"]
            key = next(m for m in members if m.lower() in ("key", "tagkey"))
            value = next(m for m in members if m.lower() in ("value", "tagvalue"))
            key_shape, value_shape = members[key]["shape"], members[value]["shape"]
        else:  # a map of TagKey to TagValue
            key, value = "TagKey", "TagValue"
            key_shape, value_shape = key, value
        tags[service] = {
            "key": constraint(sh[key_shape], f"botocore {service} Tag.{key}"),
            "value": constraint(sh[value_shape], f"botocore {service} Tag.{value}"),
        }

    regional = json.loads(cl.read(CFN_EXTENSIONS + "aws_rds_dbinstance/dbinstanceclass_enum.json"))
    rds_region = {}
    for region, schema in sorted(regional.items()):
        for entry in schema["allOf"]:
            props = entry["if"]["properties"]
            engine = props["Engine"].get("const")
            if engine in RDS_ENGINES and props.get("LicenseModel") is False:
                rds_region.setdefault(region, {})[engine] = sorted(entry["then"]["properties"]["DBInstanceClass"]["enum"])
    versioned = json.loads(cl.read(CFN_EXTENSIONS + "aws_rds_dbinstance/db_instance_class.json"))
    rds_version = {}
    for entry in versioned["allOf"]:
        props = entry["if"]["properties"]
        if props.get("Engine", {}).get("const") not in RDS_ENGINES or "EngineVersion" not in props:
            continue
        match = re.match(r"^\^\(((\d+)\\\.(\d+))(?:\\\.\.\+)?\|", props["EngineVersion"]["pattern"])
        if not match:
            continue
        # The database module names majors as RDS does: `8.0` for MySQL (below 10), `16` for PostgreSQL.
        first = int(match.group(2))
        major = match.group(2) if first >= 10 else f"{match.group(2)}.{match.group(3)}"
        rds_version.setdefault(major, set()).update(entry["then"]["properties"]["DBInstanceClass"]["enum"])
    cache_region = {
        region: sorted(schema["enum"])
        for region, schema in sorted(json.loads(cl.read(CFN_EXTENSIONS + "aws_elasticache_cachecluster/cachenodetype_enum.json")).items())
        if isinstance(schema, dict)
    }
    zi = tz.read("tzdata/zoneinfo/tzdata.zi").decode().splitlines()
    zones = sorted(line.split()[1] for line in zi if line.startswith("Z "))
    links = {line.split()[2]: line.split()[1] for line in zi if line.startswith("L ")}
    if not (names and tags and rds_region and rds_version and cache_region and zones and links):
        sys.exit("a source came back empty: the wheel layout changed")
    sources = {
        "botocore": {"version": BOTOCORE, "built": built(bc, "botocore", BOTOCORE)},
        "cfn-lint": {"version": CFN_LINT, "built": built(cl, "cfn_lint", CFN_LINT),
                     "schemas": json.loads(cl.read("cfnlint/data/schemas/version.json"))["schema_date"][:10]},
        "tzdata": {"version": TZDATA, "built": built(tz, "tzdata", TZDATA), "release": zi[0].split()[-1]},
    }
    return sources, names, tags, rds_region, {k: sorted(v) for k, v in sorted(rds_version.items())}, cache_region, zones, dict(sorted(links.items()))


def packed(classes):
    """`db.m5.large db.m5.xlarge db.t3.micro` -> `db.m5:large,xlarge db.t3:micro` (decoded by modules/rules/aws-rules.ts)."""
    families = {}
    for c in classes:
        family, size = c.rsplit(".", 1)
        families.setdefault(family, []).append(size)
    return " ".join(f"{family}:{','.join(sizes)}" for family, sizes in families.items())


def render_rules(sources, names, tags, rds_region, rds_version, cache_region, zones, links):
    b, c, t = sources["botocore"], sources["cfn-lint"], sources["tzdata"]
    lists = []

    def index(classes):
        text = packed(classes)
        if text not in lists:
            lists.append(text)
        return lists.index(text)

    regions = {region: {engine: index(classes) for engine, classes in engines.items()} for region, engines in rds_region.items()}
    versions = {major: index(classes) for major, classes in rds_version.items()}
    cache_lists = []
    for types in cache_region.values():
        if packed(types) not in cache_lists:
            cache_lists.append(packed(types))
    out = [
        "// Generated by scripts/aws-catalogue.py: do not edit; run `python3 scripts/aws-catalogue.py`.",
        f"// Sources: botocore {b['version']} (built {b['built']}): the AWS SDK's service models;",
        f"// cfn-lint {c['version']} (built {c['built']}, CloudFormation schemas of {c['schemas']}): CloudFormation resource schemas and AWS-API data;",
        f"// tzdata {t['version']} (built {t['built']}): the IANA time zone database, release {t['release']}.",
        "",
        "/** Where each table comes from, and the date of that source. */",
        "export const RULE_SOURCES = " + json.dumps(sources) + " as const;",
        "",
        "/** One rule AWS states for a value: its length bounds and the pattern it must match whole (Java regex syntax). */",
        "export interface ValueRule {",
        "  readonly source: string;",
        "  readonly min?: number;",
        "  readonly max?: number;",
        "  readonly pattern?: string;",
        "}",
        "",
        "/** Per Terraform attribute (`<resource type>.<attribute path>`): the rules of the AWS API member and CloudFormation property that receive it. */",
        "export const NAME_RULES: Readonly<Record<string, readonly ValueRule[]>> = {",
    ]
    for attribute, found in names.items():
        out.append(f"  {json.dumps(attribute)}: {json.dumps(found)},")
    out += ["};", "", "/** Per service: the rules of its Tag shape's key and value (botocore). */",
            "export const TAG_RULES: Readonly<Record<string, { readonly key?: ValueRule; readonly value?: ValueRule }>> = {"]
    for service, rule in tags.items():
        out.append(f"  {json.dumps(service)}: {json.dumps({k: v for k, v in rule.items() if v})},")
    out += ["};", "",
            "/** Distinct lists of RDS classes, packed as `db.<family>:<size>,<size> ...` (decoded by modules/rules/aws-rules.ts). */",
            "export const RDS_CLASS_LISTS: readonly string[] = ["]
    out += [f"  {json.dumps(text)}," for text in lists]
    out += ["];", "",
            "/** Per region and engine: the index in RDS_CLASS_LISTS of the classes offered (cfn-lint, from the AWS pricing API). */",
            "export const RDS_CLASSES_BY_REGION: Readonly<Record<string, Readonly<Record<string, number>>>> = {"]
    out += [f"  {json.dumps(region)}: {json.dumps(engines)}," for region, engines in regions.items()]
    out += ["};", "",
            "/**",
            " * Per engine version prefix (`16`, `8.0`): the classes some engine offers at a version with that prefix",
            " * (cfn-lint's data keys versions across engines, so this is a superset of what one engine offers): the index",
            " * in RDS_CLASS_LISTS.",
            " */",
            "export const RDS_CLASSES_BY_VERSION: Readonly<Record<string, number>> = {"]
    out += [f"  {json.dumps(major)}: {i}," for major, i in versions.items()]
    out += ["};", "", "/** Distinct lists of ElastiCache node types, packed like RDS_CLASS_LISTS. */", "export const CACHE_NODE_TYPE_LISTS: readonly string[] = ["]
    out += [f"  {json.dumps(text)}," for text in cache_lists]
    out += ["];", "", "/** Per region: the index in CACHE_NODE_TYPE_LISTS of the node types offered (cfn-lint, from the AWS pricing API). */",
            "export const CACHE_NODE_TYPES_BY_REGION: Readonly<Record<string, number>> = {"]
    out += [f"  {json.dumps(region)}: {cache_lists.index(packed(types))}," for region, types in cache_region.items()]
    out += ["};", "", "/** IANA time zones (tzdata.zi `Z` lines). */", "export const TIME_ZONES: readonly string[] = [", ts_list(zones), "];", "",
            "/** IANA links (tzdata.zi `L` lines): alias -> the zone it names. */",
            "export const TIME_ZONE_LINKS: Readonly<Record<string, string>> = {"]
    out += [f"  {json.dumps(alias)}: {json.dumps(target)}," for alias, target in links.items()]
    out += ["};"]
    return "\n".join(out) + "\n"


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


def render(sources, ec2, cache, rds_named, policies, zones, facts):
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
                "moto": {**m, "file": "moto/elbv2/ssl_policies.py, moto/ec2/resources/instance_type_offerings, moto/ec2/resources/instance_types.json.gz"},
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
    out += [
        "",
        "/**",
        " * What AWS answered about each EC2 instance type (moto instance_types.json, recorded from DescribeInstanceTypes):",
        " * [architecture, vCPUs, memory MiB, flags]; flags: b burstable, c current generation, s offered as Spot.",
        " * Types botocore names but the record lacks (retired ones) are absent.",
        " */",
        "export const EC2_INSTANCE_TYPE_FACTS: Readonly<Record<string, readonly [string, number, number, string]>> = {",
    ]
    for name, fact in facts.items():
        out.append(f"  {json.dumps(name)}: {json.dumps(fact, separators=(', ', ': '))},")
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
             f"botocore=={BOTOCORE}", f"moto=={MOTO}", f"cfn-lint=={CFN_LINT}", f"tzdata=={TZDATA}"],
            check=True,
        )
        wheels = {f.split("-")[0]: os.path.join(tmp, f) for f in os.listdir(tmp)}
        text = render(*catalogue(wheels["botocore"], wheels["moto"]))
        rules_text = render_rules(*rules(wheels["botocore"], wheels["cfn_lint"], wheels["tzdata"]))
        cli = render_cli(cli_reference(wheels["botocore"]))
    for path, content in ((OUTPUT, text), (RULES_OUTPUT, rules_text), (CLI_OUTPUT, cli)):
        if "--check" in sys.argv:
            with open(path, encoding="utf-8") as f:
                if f.read() != content:
                    sys.exit(f"{os.path.relpath(path, ROOT)} differs from its sources: run python3 scripts/aws-catalogue.py")
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)


if __name__ == "__main__":
    main()
