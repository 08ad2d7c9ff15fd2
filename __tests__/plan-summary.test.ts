// The pull-request plan comment: counts, stateful call-outs, and in-place updates.
import * as path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { summarize, render } = require(path.join(__dirname, "..", "scripts", "ci", "plan-summary.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const upsertComment = require(path.join(__dirname, "..", "scripts", "ci", "upsert-comment.js"));

const change = (address: string, type: string, actions: string[], mode = "managed") => ({ address, type, mode, change: { actions } });

const plan = {
  format_version: "1.2",
  resource_changes: [
    change("aws_vpc.network_vpc", "aws_vpc", ["no-op"]),
    change("aws_subnet.a", "aws_subnet", ["create"]),
    change("aws_subnet.b", "aws_subnet", ["create"]),
    change("aws_launch_template.app", "aws_launch_template", ["update"]),
    change("aws_db_instance.database", "aws_db_instance", ["delete", "create"]),
    change("aws_efs_file_system.uploads", "aws_efs_file_system", ["delete"]),
    change("aws_security_group_rule.old", "aws_security_group_rule", ["delete"]),
    change("aws_route53_record.old", "aws_route53_record", ["create", "delete"]),
    change("data.aws_iam_policy_document.x", "aws_iam_policy_document", ["read"], "data"),
  ],
};

describe("plan summary", () => {
  const summary = summarize(plan);

  it("counts adds, changes, destroys and replacements of managed resources", () => {
    expect(summary.counts).toEqual({ add: 2, change: 1, destroy: 2, replace: 2 });
  });

  it("calls out replaced or destroyed stateful resources only", () => {
    expect(summary.dangerous).toEqual([
      { address: "aws_db_instance.database", action: "replace" },
      { address: "aws_efs_file_system.uploads", action: "destroy" },
    ]);
  });

  it("renders the call-out at the top, then the counts, then the full plan folded", () => {
    const body: string = render("prod", summary, "Plan: 2 to add");
    const lines = body.split("\n");
    expect(lines[0]).toBe("<!-- terraform-plan:prod -->");
    expect(lines[1]).toBe("### Terraform plan: `prod`");
    expect(body.indexOf("CAUTION")).toBeLessThan(body.indexOf("2 to add, 1 to change"));
    expect(body).toContain("> - **replace** `aws_db_instance.database`");
    expect(body).toContain("**2 to add, 1 to change, 2 to destroy, 2 to replace.**");
    expect(body).toMatch(/<details><summary>Full plan<\/summary>\n\n```text\nPlan: 2 to add\n```/);
  });

  it("says so when nothing changes and raises no alarm", () => {
    const body: string = render("dev", summarize({ resource_changes: [change("aws_vpc.v", "aws_vpc", ["no-op"])] }));
    expect(body).toContain("No changes.");
    expect(body).not.toContain("CAUTION");
  });
});

describe("a change to the purchase mix", () => {
  // As `terraform show -json` writes them: every nested block is a list.
  const mixed = (distribution: object, override: object[], version = "7") => ({
    launch_template: [],
    mixed_instances_policy: [
      {
        instances_distribution: [
          {
            on_demand_allocation_strategy: "prioritized",
            spot_allocation_strategy: "price-capacity-optimized",
            spot_instance_pools: 0,
            spot_max_price: "",
            ...distribution,
          },
        ],
        launch_template: [
          {
            launch_template_specification: [{ launch_template_id: "lt-1", launch_template_name: "webapp-staging-app", version }],
            override,
          },
        ],
      },
    ],
  });
  const types = (...names: string[]) =>
    names.map((instance_type) => ({ instance_type, instance_requirements: [], launch_template_specification: [], weighted_capacity: "" }));
  const group = (actions: string[], before: object | null, after: object | null) => ({
    address: "aws_autoscaling_group.compute_group_ABCD1234",
    type: "aws_autoscaling_group",
    mode: "managed",
    change: { actions, before, after },
  });
  const single = { launch_template: [{ id: "lt-1", version: "7" }], mixed_instances_policy: [] };

  it("is called out, before and after, when a group starts buying Spot above its base", () => {
    const after = mixed({ on_demand_base_capacity: 2, on_demand_percentage_above_base_capacity: 0 }, types("t4g.medium", "c7g.large"), "8");
    const summary = summarize({ resource_changes: [group(["update"], single, after)] });
    expect(summary.mixes).toEqual([
      {
        address: "aws_autoscaling_group.compute_group_ABCD1234",
        before: "the launch template's type, On-Demand only",
        after: "On-Demand base 2, 100% Spot above it (price-capacity-optimized); types t4g.medium, c7g.large",
      },
    ]);
    const body: string = render("staging", summary);
    expect(body).toContain(
      [
        "> [!IMPORTANT]",
        "> This plan changes how `aws_autoscaling_group.compute_group_ABCD1234` buys its instances (the change starts an instance refresh):",
        "> - before: the launch template's type, On-Demand only",
        "> - after: On-Demand base 2, 100% Spot above it (price-capacity-optimized); types t4g.medium, c7g.large",
      ].join("\n"),
    );
    expect(body.indexOf("IMPORTANT")).toBeLessThan(body.indexOf("0 to add, 1 to change"));
  });

  it("describes attribute-based requirements and an On-Demand-only share", () => {
    const requirements = [
      { instance_type: "", instance_requirements: [{ vcpu_count: [{ min: 2, max: 2 }], memory_mib: [{ min: 2048, max: 4096 }] }] },
    ];
    const before = mixed({ on_demand_base_capacity: 0, on_demand_percentage_above_base_capacity: 0 }, requirements);
    const after = mixed({ on_demand_base_capacity: 1, on_demand_percentage_above_base_capacity: 100 }, requirements);
    expect(summarize({ resource_changes: [group(["update"], before, after)] }).mixes).toEqual([
      expect.objectContaining({
        before: "On-Demand base 0, 100% Spot above it (price-capacity-optimized); any type of 2-2 vCPUs and 2048-4096 MiB",
        after: "On-Demand only (base 1); any type of 2-2 vCPUs and 2048-4096 MiB",
      }),
    ]);
  });

  it("stays quiet when only the launch template version moves (every deploy), or when a group is new", () => {
    const distribution = { on_demand_base_capacity: 2, on_demand_percentage_above_base_capacity: 0 };
    const deploy = group(["update"], mixed(distribution, types("t4g.medium"), "7"), mixed(distribution, types("t4g.medium"), "8"));
    const created = group(["create"], null, mixed(distribution, types("t4g.medium")));
    const summary = summarize({ resource_changes: [deploy, created] });
    expect(summary.mixes).toEqual([]);
    expect(render("staging", summary)).not.toContain("IMPORTANT");
  });
});

describe("upsertComment", () => {
  function fakeGithub(existing: { id: number; body: string; user: { type: string } }[]) {
    const calls: string[] = [];
    const github = {
      paginate: async () => existing,
      rest: {
        issues: {
          listComments: () => undefined,
          updateComment: async (args: { comment_id: number }) => {
            calls.push(`update ${args.comment_id}`);
          },
          createComment: async () => {
            calls.push("create");
            return { data: { id: 99 } };
          },
        },
      },
    };
    const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
    return { github, context, calls };
  }

  it("updates this environment's comment in place on a new push", async () => {
    const { github, context, calls } = fakeGithub([
      { id: 1, body: "<!-- terraform-plan:dev -->\nold", user: { type: "Bot" } },
      { id: 2, body: "<!-- terraform-plan:prod -->\nold", user: { type: "Bot" } },
    ]);
    const result = await upsertComment({ github, context, body: "<!-- terraform-plan:prod -->\nnew" });
    expect(result).toEqual({ action: "updated", id: 2 });
    expect(calls).toEqual(["update 2"]);
  });

  it("creates the comment the first time, ignoring look-alikes written by people", async () => {
    const { github, context, calls } = fakeGithub([{ id: 3, body: "<!-- terraform-plan:prod -->\nquoted", user: { type: "User" } }]);
    expect(await upsertComment({ github, context, body: "<!-- terraform-plan:prod -->\nnew" })).toEqual({ action: "created", id: 99 });
    expect(calls).toEqual(["create"]);
  });

  it("refuses a body without its marker, which could never be updated", async () => {
    const { github, context } = fakeGithub([]);
    await expect(upsertComment({ github, context, body: "no marker" })).rejects.toThrow(/marker/);
  });
});
