// The GitHub workflows agree with the code: every environment is planned, the apply order is staging then
// prod behind its GitHub environment, roles come from the variables the bootstrap outputs name, and every
// action is pinned to a commit.
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { bootstrap, ENVIRONMENTS } from "../environments";
import type { Json } from "./support/synth";

const workflow = (name: string): Json => load(fs.readFileSync(path.join(__dirname, "..", ".github", "workflows", name), "utf8")) as Json;
const pullRequest = workflow("pull-request.yml");
const apply = workflow("apply.yml");
const names = ENVIRONMENTS.map((e) => e.name);

describe("pull-request workflow", () => {
  it("runs the README's two commands before planning", () => {
    const runs = (pullRequest.jobs.test.steps as Json[]).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(["npm ci && npm run synth", "npm test"]);
    expect(pullRequest.jobs.plan.needs).toBe("test");
  });

  it("plans every environment with its own plan role; plans wait on the state lock, not in a queue an apply shares", () => {
    const matrix = pullRequest.jobs.plan.strategy.matrix.include as Json[];
    expect(matrix.map((m) => m.environment)).toEqual(names);
    for (const entry of matrix) expect(entry.role).toBe(`AWS_PLAN_ROLE_ARN_${String(entry.environment).toUpperCase()}`);
    expect(pullRequest.jobs.plan.concurrency).toBeUndefined();
    expect(pullRequest.concurrency).toEqual({ group: "pull-request-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
    expect(runs(pullRequest.jobs.plan)).toMatch(/terraform plan -input=false -lock-timeout=5m/);
  });

  it("plans each environment in its own plan GitHub environment, with its own plan key from a repository variable", () => {
    expect(pullRequest.jobs.plan.environment).toBe("${{ matrix.environment }}-plan");
    for (const entry of pullRequest.jobs.plan.strategy.matrix.include as Json[]) {
      expect(entry["plan-key"]).toBe(`AWS_PLAN_KEY_ALIAS_${String(entry.environment).toUpperCase()}`);
    }
    const seal = (pullRequest.jobs.plan.steps as Json[]).find((s) => s.name === "Plan, summarize, seal")!;
    expect(seal.env.PLAN_KEY).toBe("${{ vars[matrix.plan-key] }}");
    // No name of the project's outside environments/: the workflow never spells a plan key's alias.
    expect(fs.readFileSync(path.join(__dirname, "..", ".github", "workflows", "pull-request.yml"), "utf8")).not.toMatch(/alias\//);
  });

  it("uploads the plan only sealed, with the readable text, kept a week at most", () => {
    const steps = pullRequest.jobs.plan.steps as Json[];
    const upload = steps.find((s) => String(s.uses).startsWith("actions/upload-artifact@"))!;
    const paths = String(upload.with.path)
      .trim()
      .split("\n")
      .map((p) => p.trim());
    expect(paths.map((p) => path.basename(p)).sort()).toEqual(["plan.txt", "tfplan.sealed"]);
    expect(upload.with["retention-days"]).toBeLessThanOrEqual(7);
    const script = steps.map((s) => s.run ?? "").join("\n");
    expect(script).toMatch(/aws kms generate-data-key --key-id "\$PLAN_KEY" --key-spec AES_256/);
    expect(script).toMatch(/plan-seal\.js" seal tfplan tfplan\.sealed/);
    expect(script).toMatch(/rm -f tfplan plan\.json/);
  });

  it("asks for an OIDC token only where it plans, and reads nothing else", () => {
    expect(pullRequest.permissions).toEqual({ contents: "read" });
    expect(pullRequest.jobs.plan.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(pullRequest.jobs.test.permissions).toBeUndefined();
  });
});

describe("apply workflow", () => {
  it("applies staging then prod, one at a time, each in its GitHub environment", () => {
    const job = apply.jobs.apply;
    expect((job.strategy.matrix.include as Json[]).map((m) => m.environment)).toEqual(["staging", "prod"]);
    expect(job.strategy["max-parallel"]).toBe(1);
    expect(job.environment).toBe("${{ matrix.environment }}");
    for (const entry of job.strategy.matrix.include as Json[]) {
      expect(entry.role).toBe(`AWS_APPLY_ROLE_ARN_${String(entry.environment).toUpperCase()}`);
      expect(names).toContain(entry.environment);
    }
  });

  it("applies the saved, reviewed plan and never plans afresh", () => {
    const script = (apply.jobs.apply.steps as Json[]).map((s) => s.run ?? "").join("\n");
    expect(script).toMatch(/terraform apply -input=false -lock-timeout=5m tfplan/);
    expect(script).not.toMatch(/terraform plan/);
    const download = (apply.jobs.apply.steps as Json[]).find((s) => String(s.uses).startsWith("actions/download-artifact@"));
    expect(download?.with["run-id"]).toBe("${{ needs.reviewed-plan.outputs.run-id }}");
  });

  it("opens the sealed plan for this environment and the reviewed commit before applying it", () => {
    const steps = apply.jobs.apply.steps as Json[];
    const open = steps.findIndex((s) => s.name === "Open the sealed plan");
    const applyStep = steps.findIndex((s) => /terraform apply/.test(s.run ?? ""));
    const credentials = steps.findIndex((s) => String(s.uses).startsWith("aws-actions/configure-aws-credentials@"));
    expect(credentials).toBeLessThan(open);
    expect(open).toBeLessThan(applyStep);
    expect(steps[open]!.env).toEqual({ ENVIRONMENT: "${{ matrix.environment }}", HEAD_SHA: "${{ needs.reviewed-plan.outputs.head-sha }}" });
    expect(steps[open]!.run).toMatch(/aws kms decrypt --ciphertext-blob fileb:\/\/wrapped\.key/);
    expect(steps[open]!.run).toMatch(/plan-seal\.js"? open tfplan\.sealed tfplan|"\$seal" open tfplan\.sealed tfplan/);
    expect(apply.jobs["reviewed-plan"].outputs["head-sha"]).toBe("${{ steps.find.outputs.head-sha }}");
  });
});

/** The concurrency groups a job runs in (its own and its workflow's), one per matrix entry, expressions expanded. */
function groupsOf(file: Json, job: Json): string[] {
  const entries: Json[] = (job.strategy?.matrix?.include as Json[] | undefined) ?? [{}];
  const expand = (group: string, entry: Json) =>
    group
      .replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_, key: string) => String(entry[key]))
      .replace(/\$\{\{\s*github\.event\.pull_request\.number\s*\}\}/g, "<pr>");
  const declared = [file.concurrency, job.concurrency]
    .filter(Boolean)
    .map((c: Json | string) => (typeof c === "string" ? c : String(c.group)));
  return entries.flatMap((entry) => declared.map((g) => expand(g, entry).toLowerCase()));
}
const runs = (job: Json) => (job.steps as Json[]).map((s) => String(s.run ?? "")).join("\n");
const jobsThat = (pattern: RegExp) =>
  [pullRequest, apply].flatMap((file) =>
    Object.values(file.jobs as Record<string, Json>)
      .filter((j) => pattern.test(runs(j)))
      .map((job) => ({ file, job })),
  );

describe("concurrency: no apply is ever dropped by a plan", () => {
  it("plan and apply jobs share no concurrency group (GitHub cancels a group's pending job when another queues)", () => {
    const planGroups = new Set(jobsThat(/terraform plan/).flatMap(({ file, job }) => groupsOf(file, job)));
    const applyGroups = jobsThat(/terraform apply/).flatMap(({ file, job }) => groupsOf(file, job));
    expect(applyGroups.length).toBeGreaterThan(0);
    expect(applyGroups.filter((g) => planGroups.has(g))).toEqual([]);
  });

  it("applies queue per environment: nothing cancels a running or a pending apply", () => {
    const job = apply.jobs.apply;
    expect(apply.concurrency).toBeUndefined();
    expect(job.concurrency).toEqual({ group: "apply-${{ matrix.environment }}", "cancel-in-progress": false, queue: "max" });
  });

  it("reports an apply that did not complete: a final job fails the run and opens or updates an issue", () => {
    const report = apply.jobs.report;
    expect(report.needs).toEqual(["reviewed-plan", "apply"]);
    expect(report.if).toBe("${{ always() }}");
    expect(report.permissions).toEqual({ actions: "read", issues: "write" });
    const script = (report.steps as Json[]).map((s) => String(s.with?.script ?? "")).join("\n");
    expect(script).toMatch(/listJobsForWorkflowRun/);
    expect(script).toMatch(/issues\.create|issues\.createComment/);
    expect(script).toMatch(/core\.setFailed/);
  });
});

describe("both workflows", () => {
  it("pin every action to a full commit SHA", () => {
    for (const file of [pullRequest, apply]) {
      for (const job of Object.values(file.jobs as Record<string, Json>)) {
        for (const step of job.steps as Json[]) {
          if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
        }
      }
    }
  });

  it("use roles the bootstrap stack creates for exactly these environments", () => {
    expect(bootstrap.ci?.environments.map((e) => e.name)).toEqual(names);
  });
});
