// scripts/checkov_json.py, the scan's helper: the copy checkov reads loses exactly terraform.required_version,
// the skip list needs a reason per entry, and the report fails on anything but listed skips.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");

/** Runs the helper with checkov's venv python (it needs PyYAML); `npm run setup:tools` installs it. */
function helper(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(
    "bash",
    ["-c", '. scripts/tools-env.sh && exec "$CHECKOV_VENV/bin/python" scripts/checkov_json.py "$@"', "helper", ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "checkov-input-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const stack = {
  "//": { metadata: { stackName: "dev" } },
  provider: { aws: [{ region: "eu-west-2", default_tags: [{ tags: { env: "dev" } }] }] },
  resource: { aws_s3_bucket: { logs: { bucket: "b", tags: {}, "//": { metadata: { path: "dev/logs" } } } } },
  terraform: {
    required_providers: { aws: { source: "aws", version: "6.25.0" } },
    required_version: ">= 1.11",
    backend: { s3: { bucket: "s" } },
  },
};

/** The stack as checkov should read it: the same, minus terraform.required_version. */
function withoutRequiredVersion(doc: typeof stack): Record<string, unknown> {
  const copy = structuredClone(doc) as { terraform: Partial<typeof stack.terraform> };
  delete copy.terraform.required_version;
  return copy;
}

describe("strip", () => {
  it("drops terraform.required_version and nothing else", () => {
    const src = join(work, "in.json");
    const dst = join(work, "out.json");
    writeFileSync(src, JSON.stringify(stack));
    expect(helper("strip", src, dst).status).toBe(0);
    const out = JSON.parse(readFileSync(dst, "utf8"));
    expect(out.terraform).not.toHaveProperty("required_version");
    expect(out).toEqual(withoutRequiredVersion(stack));
  });

  it("copies a file without the key unchanged", () => {
    const src = join(work, "plain.json");
    const dst = join(work, "plain-out.json");
    const plain = withoutRequiredVersion(stack);
    writeFileSync(src, JSON.stringify(plain));
    expect(helper("strip", src, dst).status).toBe(0);
    expect(JSON.parse(readFileSync(dst, "utf8"))).toEqual(plain);
  });
});

describe("skips", () => {
  it("reads the repository's skip list, every entry with a reason", () => {
    const r = helper("skips", ".checkov.yaml");
    expect(r.status).toBe(0);
    for (const id of r.output.trim().split(",").filter(Boolean)) expect(id).toMatch(/^CKV2?_AWS_\d+$/);
  });

  it("rejects an entry without a reason", () => {
    const file = join(work, "no-reason.yaml");
    writeFileSync(file, "skip-check:\n  - CKV_AWS_1  # has one\n  - CKV_AWS_2\n");
    const r = helper("skips", file);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/CKV_AWS_2 has no '# reason'/);
  });
});

describe("report", () => {
  const check = (id: string, extra: Record<string, unknown> = {}) => ({
    check_id: id,
    check_name: `name of ${id}`,
    file_path: "/dev/cdk.tf.json",
    resource: "aws_s3_bucket.logs",
    ...extra,
  });
  function report(results: Record<string, unknown[]>, summary: Record<string, number> = {}, skips = "CKV_AWS_18") {
    const dir = join(work, `stacks-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(dir, "dev"), { recursive: true });
    writeFileSync(join(dir, "dev", "cdk.tf.json"), JSON.stringify(stack));
    const file = join(dir, "result.json");
    writeFileSync(file, JSON.stringify({ check_type: "terraform_json", results, summary: { parsing_errors: 0, ...summary } }));
    return helper("report", file, dir, skips);
  }

  it("counts failures of listed checks as skipped", () => {
    const r = report({ passed_checks: [check("CKV_AWS_19")], failed_checks: [check("CKV_AWS_18")] });
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/dev\s+ok\s+passed\s+1\s+failed\s+0\s+skipped\s+1/);
  });

  it("fails on any other failed check and names the resource", () => {
    const r = report({ passed_checks: [check("CKV_AWS_19")], failed_checks: [check("CKV_AWS_21")] });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/FAILED CKV_AWS_21[^\n]*\n\s+aws_s3_bucket\.logs \[dev\/logs\]/);
  });

  it("fails on a suppression inside the JSON, a parse error, or a stack with no checks", () => {
    expect(report({ passed_checks: [check("CKV_AWS_19")], skipped_checks: [check("CKV_AWS_21")] }).status).toBe(1);
    expect(report({ passed_checks: [check("CKV_AWS_19")] }, { parsing_errors: 1 }).status).toBe(1);
    expect(report({}).status).toBe(1);
  });
});
