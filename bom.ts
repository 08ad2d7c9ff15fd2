// `npm run bom`: each environment's bill of materials, read from the synthesized stack (what Terraform
// would create): the things that cost money by the hour or the month. Sizes and counts only: no prices,
// because none here come from a named, dated source (see the AWS pricing pages for the region).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectEnvironments } from "./environments";
import { run } from "./main";
import { matchingInstanceTypes, spotInstancesAt } from "./modules/compute/purchase-mix";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One line of the bill: what, and how much of it. */
export interface BomLine {
  readonly item: string;
  readonly detail: string;
}

const list = (json: Json, type: string): Json[] => Object.values((json.resource?.[type] ?? {}) as Record<string, Json>);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The bill of materials of one synthesized environment stack. */
export function billOfMaterials(json: Json): BomLine[] {
  const lines: BomLine[] = [];
  const add = (item: string, detail: string) => lines.push({ item, detail });
  const zones = new Set(list(json, "aws_subnet").map((s) => s.availability_zone as string)).size;

  const nat = list(json, "aws_nat_gateway").length;
  add("NAT gateways", `${nat}${nat === 1 && zones > 1 ? ` (one for ${zones} zones)` : nat === zones && nat > 1 ? " (one per zone)" : ""}`);
  const interfaces = list(json, "aws_vpc_endpoint").filter((e) => e.vpc_endpoint_type === "Interface");
  const endpointZones = interfaces.reduce((n, e) => n + ((e.subnet_ids as unknown[] | undefined)?.length ?? 0), 0);
  add(
    "interface endpoints",
    interfaces.length === 0
      ? "none"
      : `${interfaces.length} x ${endpointZones / interfaces.length} zones = ${endpointZones} endpoint-zones (${interfaces.map((e) => String(e.service_name).split(".").pop()).join(", ")})`,
  );
  add(
    "load balancers",
    `${list(json, "aws_lb").length} (${list(json, "aws_lb")
      .map((l) => l.load_balancer_type ?? "application")
      .join(", ")})`,
  );

  for (const template of list(json, "aws_launch_template")) {
    const asg = list(json, "aws_autoscaling_group")[0] ?? {};
    const ebs = (template.block_device_mappings as Json[] | undefined)?.[0]?.ebs ?? {};
    const schedules = list(json, "aws_autoscaling_schedule").length;
    add(
      "app instances",
      `${template.instance_type}, min ${asg.min_size} max ${asg.max_size}` +
        `${ebs.volume_size ? `, ${ebs.volume_size} GiB ${ebs.volume_type ?? ""} root volume each`.trimEnd() : ""}` +
        `${schedules ? `, ${plural(schedules, "scheduled action")}` : ""}`,
    );
  }
  for (const asg of list(json, "aws_autoscaling_group")) add("purchase mix", purchaseMix(asg));
  for (const db of list(json, "aws_db_instance")) {
    add(
      "database",
      `${db.instance_class}, ${db.multi_az ? "Multi-AZ (a standby instance)" : "single-AZ"}, ${db.engine} ${db.engine_version}, ` +
        `${db.allocated_storage}${db.max_allocated_storage ? `-${db.max_allocated_storage}` : ""} GiB ${db.storage_type ?? ""}, ` +
        `backups ${plural(db.backup_retention_period, "day")}`,
    );
  }
  for (const cache of list(json, "aws_elasticache_replication_group")) {
    add("cache", `${cache.num_cache_clusters} x ${cache.node_type}${cache.multi_az_enabled ? ", Multi-AZ" : ""}`);
  }
  for (const efs of list(json, "aws_efs_file_system")) add("file system", `EFS, ${efs.throughput_mode} throughput`);
  const acls = list(json, "aws_wafv2_web_acl");
  add("WAF", acls.length === 0 ? "none" : acls.map((a) => `1 web ACL, ${plural((a.rule as unknown[]).length, "rule")}`).join("; "));

  const retention = new Map<string, number>();
  for (const group of list(json, "aws_cloudwatch_log_group")) {
    const days = group.retention_in_days === undefined ? "never expire" : `${group.retention_in_days} days`;
    retention.set(days, (retention.get(days) ?? 0) + 1);
  }
  add("log groups", [...retention].map(([days, n]) => `${n} kept ${days}`).join(", ") || "none");
  add("KMS keys", String(list(json, "aws_kms_key").length));
  add("secrets", String(list(json, "aws_secretsmanager_secret").length));
  add("alarms, dashboards", `${list(json, "aws_cloudwatch_metric_alarm").length}, ${list(json, "aws_cloudwatch_dashboard").length}`);
  return lines;
}

/** How the group buys its instances: the On-Demand base, the Spot share above it, the types. */
function purchaseMix(asg: Json): string {
  const policy = asg.mixed_instances_policy as Json | undefined;
  if (!policy) return "On-Demand only, the launch template's type";
  const d = (policy.instances_distribution ?? {}) as Json;
  const base = (d.on_demand_base_capacity as number | undefined) ?? 0;
  const percent = (d.on_demand_percentage_above_base_capacity as number | undefined) ?? 100;
  const spot = spotInstancesAt(base, percent, asg.max_size as number);
  const share =
    spot === 0
      ? `On-Demand only (base ${base})`
      : `On-Demand base ${base}, Spot ${100 - percent}% above it (at most ${spot} of ${asg.max_size} instances, ${d.spot_allocation_strategy})`;
  const overrides = (policy.launch_template?.override ?? []) as Json[];
  const requirements = overrides[0]?.instance_requirements as Json | undefined;
  if (!requirements) return `${share}; types ${overrides.map((o) => o.instance_type).join(", ")}`;
  const range = (r: Json, unit: string) => (r.min === r.max ? `${r.min} ${unit}` : `${r.min}-${r.max} ${unit}`);
  const architecture = (requirements.cpu_manufacturers as string[]).includes("amazon-web-services") ? "arm64" : "x86_64";
  const matching = matchingInstanceTypes(
    {
      vcpuCount: requirements.vcpu_count,
      memoryMiB: requirements.memory_mib,
      architecture,
      burstablePerformance: requirements.burstable_performance ?? "excluded",
    },
    spot > 0,
  );
  return `${share}; any current ${architecture} type of ${range(requirements.vcpu_count, "vCPUs")} and ${range(requirements.memory_mib, "MiB")} (${matching.length} types in the catalogue, for example ${matching.slice(0, 3).join(", ")})`;
}

/** The printed bill: a heading per stack, then one aligned line per item. */
export function formatBom(stack: string, lines: readonly BomLine[]): string[] {
  const width = Math.max(...lines.map((l) => l.item.length));
  return [stack, ...lines.map((l) => `  ${l.item.padEnd(width)}  ${l.detail}`)];
}

if (require.main === module) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bom-"));
  try {
    const code = run({ spec: process.env.ENVIRONMENTS, outdir, printWarnings: false, printSummary: false });
    if (code === 0) {
      for (const stack of selectEnvironments(process.env.ENVIRONMENTS).map((e) => e.name)) {
        const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as Json;
        console.log(formatBom(stack, billOfMaterials(json)).join("\n") + "\n");
      }
      console.log("Sizes and counts from the synthesized stacks; no prices (see the AWS pricing pages for the region).");
    }
    process.exitCode = code;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
