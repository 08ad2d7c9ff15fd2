// Every command in the README and the docs/ pages that can be checked here is checked: stack folders,
// Terraform outputs, npm scripts, environment names, repository paths and secret names must exist.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "../main";
import { ENVIRONMENTS } from "../environments";

const root = path.join(__dirname, "..");
const documents = [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const packageJson = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };

interface Command {
  readonly document: string;
  readonly line: string;
  /** Stack folder the command runs in, from the nearest `cd cdktf.out/stacks/<stack>` before it. */
  readonly stack?: string;
}

/** Shell commands in fenced `sh`/`bash` blocks, with the stack folder they run in. */
function commands(document: string): Command[] {
  const text = fs.readFileSync(path.join(root, document), "utf8");
  const found: Command[] = [];
  for (const block of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    let stack: string | undefined;
    for (const raw of (block[1] ?? "").split("\n")) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      if (!line) continue;
      const cd = /cd cdktf\.out\/stacks\/([\w$<>{}-]+)/.exec(line);
      if (cd) stack = cd[1];
      if (/^cd -$|^cd \.\.\//.test(line)) stack = undefined;
      found.push({ document, line, stack });
    }
  }
  return found;
}

const all = documents.flatMap(commands);
let outdir: string;
const outputs: Record<string, string[]> = {};
let synthesized = "";

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cdktf.outdir.docs-"));
  expect(run({ outdir, printWarnings: false, log: () => undefined })).toBe(0);
  for (const stack of fs.readdirSync(path.join(outdir, "stacks"))) {
    const json = fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8");
    synthesized += json;
    outputs[stack] = Object.keys((JSON.parse(json) as { output?: Record<string, unknown> }).output ?? {});
  }
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

/** `<env>` and `$ENV`-style placeholders stand for every environment. */
const expand = (name: string): string[] => (/^[<$]/.test(name) ? ENVIRONMENTS.map((e) => e.name) : [name]);

describe("documented commands", () => {
  it("are found in the README and the handbook", () => {
    expect(all.length).toBeGreaterThan(20);
    expect(new Set(all.map((c) => c.document)).size).toBeGreaterThan(1);
  });

  it("name stack folders that synth writes", () => {
    const named = all.flatMap((c) => [...c.line.matchAll(/cdktf\.out\/stacks\/([\w$<>{}-]+)/g)].map((m) => m[1] as string));
    expect(named.length).toBeGreaterThan(0);
    for (const name of named.flatMap(expand)) expect(Object.keys(outputs)).toContain(name);
  });

  it("read Terraform outputs the stack they run in defines", () => {
    const reads = all.filter((c) => /terraform output/.test(c.line));
    expect(reads.length).toBeGreaterThan(0);
    for (const command of reads) {
      const name = /terraform output(?: -raw| -json)? (\w+)/.exec(command.line)?.[1];
      if (!name) continue;
      if (command.stack) {
        for (const stack of expand(command.stack)) {
          expect({ stack, name, known: (outputs[stack] ?? []).includes(name) }).toEqual({ stack, name, known: true });
        }
      } else {
        // No folder given: the stack the reader is in must be one that defines it.
        expect({ name, known: Object.values(outputs).some((names) => names.includes(name)) }).toEqual({ name, known: true });
      }
    }
  });

  it("run npm scripts that exist", () => {
    for (const command of all) {
      for (const match of command.line.matchAll(/npm run (?:-s )?([\w:-]+)/g)) {
        expect({ script: match[1], known: (match[1] as string) in packageJson.scripts }).toEqual({ script: match[1], known: true });
      }
    }
  });

  it("select environments that exist", () => {
    for (const command of all) {
      const spec = /ENVIRONMENTS=([\w,-]+)/.exec(command.line)?.[1];
      if (!spec) continue;
      for (const name of spec.split(",")) expect(ENVIRONMENTS.map((e) => e.name)).toContain(name);
    }
  });

  it("refer to files that exist in the repository", () => {
    for (const command of all) {
      for (const match of command.line.matchAll(/(?:^|\s)((?:environments|modules|scripts|docs|__tests__)\/[\w./-]+\.\w+)/g)) {
        expect({ file: match[1], exists: fs.existsSync(path.join(root, match[1] as string)) }).toEqual({ file: match[1], exists: true });
      }
    }
  });

  it("address secrets by names the stacks create", () => {
    for (const command of all) {
      const id = /--secret-id "?([\w/<>$.-]+)"?/.exec(command.line)?.[1]?.replace(/\$\{?PREFIX\}?/g, "<project>-<env>");
      if (!id || id.startsWith("$")) continue;
      for (const env of ENVIRONMENTS) {
        const name = id.replace(/<env>|\$\{?ENV\}?/g, env.name).replace(/<project>/g, env.project);
        if (/[<>$]/.test(name)) continue;
        if (!name.includes(`-${env.name}/`)) continue;
        expect({ name, created: synthesized.includes(`"name": "${name}"`) || synthesized.includes(`"name":"${name}"`) }).toEqual({
          name,
          created: true,
        });
      }
    }
  });
});

/** AWS CLI commands and options, generated from the botocore models (scripts/aws-catalogue.py). */
const cli = JSON.parse(fs.readFileSync(path.join(__dirname, "support", "aws-cli.generated.json"), "utf8")) as Record<
  string,
  { commands: Record<string, string[]>; waiters: Record<string, string> }
>;
/** Options every AWS CLI command takes. */
const GLOBAL_OPTIONS = [
  "--region",
  "--output",
  "--query",
  "--profile",
  "--endpoint-url",
  "--no-cli-pager",
  "--cli-input-json",
  "--debug",
  "--cli-binary-format",
];
/** AWS CLI customizations, which no service model describes: their options as the AWS CLI reference lists them. */
const CUSTOMIZATIONS: Record<string, string[]> = {
  "s3 rm": ["--recursive", "--include", "--exclude", "--dryrun", "--quiet", "--only-show-errors"],
  "s3 cp": ["--recursive", "--include", "--exclude", "--dryrun", "--quiet", "--only-show-errors", "--sse", "--sse-kms-key-id"],
  "s3 sync": [
    "--delete",
    "--include",
    "--exclude",
    "--dryrun",
    "--quiet",
    "--only-show-errors",
    "--exact-timestamps",
    "--size-only",
    "--sse",
    "--sse-kms-key-id",
  ],
  "s3 ls": ["--recursive", "--human-readable", "--summarize", "--page-size"],
  "s3 rb": ["--force"],
  "logs tail": ["--since", "--follow", "--format", "--filter-pattern", "--log-stream-names", "--log-stream-name-prefix"],
};

interface AwsCall {
  readonly document: string;
  readonly command: string;
  readonly options: string[];
}

/** Every `aws <service> <command> --option ...` in the documents' shell blocks, subshells included. */
function awsCalls(document: string): AwsCall[] {
  const text = fs.readFileSync(path.join(root, document), "utf8");
  const calls: AwsCall[] = [];
  for (const block of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? "").replace(/\\\n/g, " ").split("\n")) {
      const shell = line
        .replace(/\s+#.*$/, "")
        .replace(/'[^']*'/g, "Q")
        .replace(/"/g, " ")
        .replace(/\$\(/g, " $( ");
      const tokens = shell.match(/\$\(|\)|\|\|?|;|&&|[^\s|;()]+/g) ?? [];
      const stack: (AwsCall | undefined)[] = [undefined];
      const finish = () => {
        const call = stack[stack.length - 1];
        if (call) calls.push(call);
        stack[stack.length - 1] = undefined;
      };
      for (let i = 0; i < tokens.length; i++) {
        const token = tokens[i] as string;
        if (token === "$(") stack.push(undefined);
        else if (token === ")") {
          finish();
          if (stack.length > 1) stack.pop();
        } else if (["|", "||", ";", "&&"].includes(token)) finish();
        else if (token === "aws" && !stack[stack.length - 1]) {
          const service = tokens[i + 1] ?? "";
          let command = `${service} ${tokens[i + 2] ?? ""}`;
          i += 2;
          if (command.endsWith(" wait")) command += ` ${tokens[++i] ?? ""}`;
          stack[stack.length - 1] = { document, command, options: [] };
        } else if (token.startsWith("--")) stack[stack.length - 1]?.options.push(token.split("=")[0] as string);
      }
      finish();
    }
  }
  return calls;
}

describe("documented AWS CLI commands", () => {
  const calls = documents.flatMap(awsCalls);

  it("are found, including those inside $(...)", () => {
    expect(calls.length).toBeGreaterThan(20);
    expect(calls.some((c) => c.command === "rds describe-db-instances")).toBe(true);
  });

  it("exist in the AWS CLI, with options it accepts", () => {
    const wrong: string[] = [];
    for (const call of calls) {
      const [service = "", name = "", waiter] = call.command.split(" ");
      let accepted = CUSTOMIZATIONS[call.command];
      if (!accepted && name === "wait") {
        const operation = cli[service]?.waiters[waiter ?? ""];
        accepted = operation ? cli[service]?.commands[operation] : undefined;
      } else if (!accepted) {
        accepted = cli[service]?.commands[name];
      }
      if (!accepted) {
        wrong.push(`${call.document}: aws ${call.command}: no such command`);
        continue;
      }
      const unknown = call.options.filter((o) => !GLOBAL_OPTIONS.includes(o) && !accepted.includes(o));
      if (unknown.length > 0) wrong.push(`${call.document}: aws ${call.command}: no option ${unknown.join(", ")}`);
    }
    expect(wrong).toEqual([]);
  });

  it("come from a reference generated from the pinned botocore", () => {
    const pin = /^BOTOCORE = "([\d.]+)"$/m.exec(fs.readFileSync(path.join(root, "scripts", "aws-catalogue.py"), "utf8"))?.[1];
    expect((cli as unknown as { source: string }).source).toBe(`botocore ${pin}`);
    expect(cli.autoscaling?.commands["start-instance-refresh"]).toContain("--preferences");
  });
});

/** A document's text outside fenced code blocks (a `#` or `[..](..)` inside one is code, not markdown). */
function prose(document: string): string {
  return fs.readFileSync(path.join(root, document), "utf8").replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, "");
}

/** The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(document: string): string[] {
  return [...prose(document).matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    (m[1] as string)
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-"),
  );
}

describe("links between the documents", () => {
  const linking = [...documents, "examples/app/README.md"];
  const links = linking.flatMap((document) =>
    [...prose(document).matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] as string)
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => ({ document, target })),
  );

  it("are found", () => {
    expect(links.length).toBeGreaterThan(20);
  });

  it("lead to a file that exists and, after a #, to one of its headings", () => {
    const broken: string[] = [];
    for (const { document, target } of links) {
      const [file = "", anchor] = target.split("#");
      const resolved = file ? path.normalize(path.join(path.dirname(document), file)) : document;
      if (!fs.existsSync(path.join(root, resolved))) broken.push(`${document}: ${target}: no file ${resolved}`);
      else if (anchor !== undefined && !anchors(resolved).includes(anchor))
        broken.push(`${document}: ${target}: no heading #${anchor} in ${resolved}`);
    }
    expect(broken).toEqual([]);
  });

  it("reach every page of docs/ from the README", () => {
    const fromReadme = new Set(links.filter((l) => l.document === "README.md").map((l) => l.target.split("#")[0]));
    const pages = documents.filter((d) => d.startsWith("docs/"));
    expect(pages.filter((page) => !fromReadme.has(page))).toEqual([]);
  });
});
