// Summarizes `terraform show -json <plan>` for a pull-request comment: counts of adds, changes, destroys
// and replacements, with replacements and deletions of stateful resources called out at the top, and a
// change to how an Auto Scaling group buys its instances (its purchase mix) called out below them.
// Usage: node scripts/ci/plan-summary.js <plan.json> <environment> [plan.txt]  (markdown on stdout)
"use strict";
const fs = require("node:fs");

/** Resource types whose replacement or deletion loses data or breaks what depends on them. */
const STATEFUL_TYPES = new Set([
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_efs_file_system",
  "aws_efs_access_point",
  "aws_elasticache_replication_group",
  "aws_s3_bucket",
  "aws_dynamodb_table",
  "aws_kms_key",
  "aws_secretsmanager_secret",
  "aws_cloudwatch_log_group",
  "aws_backup_vault",
]);

const MARKER_PREFIX = "<!-- terraform-plan:";

/** Classifies one resource change's action list. */
function kind(actions) {
  const a = actions.join(",");
  if (a === "create") return "add";
  if (a === "update") return "change";
  if (a === "delete") return "destroy";
  if (a === "delete,create" || a === "create,delete") return "replace";
  return "none"; // no-op, read
}

const first = (blocks) => (Array.isArray(blocks) ? blocks[0] : blocks) || undefined;

/** The parts of a group's mixed_instances_policy that say what it buys (not the template version, which every deploy moves). */
function mixOf(values) {
  const policy = first(values && values.mixed_instances_policy);
  if (!policy) return undefined;
  const overrides = (first(policy.launch_template) || {}).override || [];
  return {
    distribution: first(policy.instances_distribution) || {},
    types: overrides.map((o) => o.instance_type).filter(Boolean),
    requirements: overrides.map((o) => first(o.instance_requirements)).filter(Boolean),
  };
}

/** One line: the On-Demand base, the Spot share above it, the types. */
function describeMix(mix) {
  if (!mix) return "the launch template's type, On-Demand only";
  const d = mix.distribution;
  const percent = d.on_demand_percentage_above_base_capacity ?? 100;
  const share =
    percent === 100
      ? `On-Demand only (base ${d.on_demand_base_capacity ?? 0})`
      : `On-Demand base ${d.on_demand_base_capacity ?? 0}, ${100 - percent}% Spot above it (${d.spot_allocation_strategy})`;
  const range = (r, unit) => (r ? `${r.min}-${r.max ?? "any"} ${unit}` : `any ${unit}`);
  const what = mix.types.length
    ? `types ${mix.types.join(", ")}`
    : mix.requirements
        .map((r) => `any type of ${range(first(r.vcpu_count), "vCPUs")} and ${range(first(r.memory_mib), "MiB")}`)
        .join("; ") || "no types";
  return `${share}; ${what}`;
}

/** Counts and notable changes of a plan (the parsed `terraform show -json` document). */
function summarize(plan) {
  const counts = { add: 0, change: 0, destroy: 0, replace: 0 };
  const dangerous = [];
  const mixes = [];
  for (const rc of plan.resource_changes || []) {
    if (rc.mode && rc.mode !== "managed") continue;
    const k = kind(rc.change.actions);
    if (k === "none") continue;
    counts[k] += 1;
    if ((k === "destroy" || k === "replace") && STATEFUL_TYPES.has(rc.type)) {
      dangerous.push({ address: rc.address, action: k });
    }
    if (rc.type === "aws_autoscaling_group" && (k === "change" || k === "replace")) {
      const before = mixOf(rc.change.before);
      const after = mixOf(rc.change.after);
      if (JSON.stringify(before) !== JSON.stringify(after))
        mixes.push({ address: rc.address, before: describeMix(before), after: describeMix(after) });
    }
  }
  return { counts, dangerous, mixes };
}

/** The comment body; the first line is a marker so the comment can be found and updated in place. */
function render(environment, summary, planText) {
  const { counts, dangerous, mixes = [] } = summary;
  const lines = [`${MARKER_PREFIX}${environment} -->`, `### Terraform plan: \`${environment}\``, ""];
  if (dangerous.length > 0) {
    lines.push(`> [!CAUTION]`, `> This plan replaces or destroys ${dangerous.length} stateful resource(s):`);
    for (const d of dangerous) lines.push(`> - **${d.action}** \`${d.address}\``);
    lines.push("");
  }
  for (const m of mixes) {
    lines.push(
      `> [!IMPORTANT]`,
      `> This plan changes how \`${m.address}\` buys its instances (the change starts an instance refresh):`,
      `> - before: ${m.before}`,
      `> - after: ${m.after}`,
      "",
    );
  }
  const total = counts.add + counts.change + counts.destroy + counts.replace;
  lines.push(
    total === 0
      ? "No changes."
      : `**${counts.add} to add, ${counts.change} to change, ${counts.destroy} to destroy, ${counts.replace} to replace.**`,
  );
  if (planText !== undefined) {
    const limit = 60000;
    const body =
      planText.length > limit ? `${planText.slice(0, limit)}\n... (truncated; the full plan is in the workflow artifact)` : planText;
    lines.push("", "<details><summary>Full plan</summary>", "", "```text", body, "```", "", "</details>");
  }
  return lines.join("\n");
}

module.exports = { summarize, render, kind, describeMix, mixOf, STATEFUL_TYPES, MARKER_PREFIX };

if (require.main === module) {
  const [planJson, environment, planTextFile] = process.argv.slice(2);
  if (!planJson || !environment) {
    console.error("usage: plan-summary.js <plan.json> <environment> [plan.txt]");
    process.exit(2);
  }
  const plan = JSON.parse(fs.readFileSync(planJson, "utf8"));
  const text = planTextFile ? fs.readFileSync(planTextFile, "utf8") : undefined;
  process.stdout.write(`${render(environment, summarize(plan), text)}\n`);
}
