// The sealed plan artifact: what leaves the plan job holds no cleartext, opens only with the data key KMS
// wraps for the apply role, and only for the environment and commit it was made for. The CLI runs as the
// workflows run it, with a stand-in for KMS's JSON (a random data key and a made-up wrapped blob).
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { seal, open, wrappedKey } = require(path.join(__dirname, "..", "scripts", "ci", "plan-seal.js"));
const script = path.join(__dirname, "..", "scripts", "ci", "plan-seal.js");

const secret = "redis-token-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS";
const plan = Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.from(`{"prior_state":{"auth_token":"${secret}"}}`)]);
const key = crypto.randomBytes(32);
const wrapped = crypto.randomBytes(184);
const context = { environment: "prod", commit: "0123456789abcdef0123456789abcdef01234567" };

describe("plan-seal", () => {
  const sealed: Buffer = seal(plan, key, wrapped, context);

  it("holds no cleartext of the plan, only the wrapped data key and the context", () => {
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(sealed.includes(Buffer.from("prior_state"))).toBe(false);
    expect(sealed.includes(key)).toBe(false);
    expect(wrappedKey(sealed).equals(wrapped)).toBe(true);
  });

  it("opens with the data key for the same context, keys in any order", () => {
    expect(open(sealed, key, { commit: context.commit, environment: "prod" }).equals(plan)).toBe(true);
  });

  it("refuses another environment's or commit's context, another key, and any altered byte", () => {
    expect(() => open(sealed, key, { ...context, environment: "staging" })).toThrow(
      /refusing to apply another environment's or commit's plan/,
    );
    expect(() => open(sealed, key, { ...context, commit: "f".repeat(40) })).toThrow(/refusing/);
    expect(() => open(sealed, crypto.randomBytes(32), context)).toThrow(/does not authenticate/);
    const altered = Buffer.from(sealed);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 1, altered.length - 1);
    expect(() => open(altered, key, context)).toThrow(/does not authenticate/);
    expect(() => open(Buffer.from("tfplan"), key, context)).toThrow(/not a sealed plan/);
  });

  it("runs as the workflows call it: key material on stdin, files 0600", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-seal-"));
    try {
      fs.writeFileSync(path.join(dir, "tfplan"), plan);
      const kms = JSON.stringify({
        Plaintext: key.toString("base64"),
        CiphertextBlob: wrapped.toString("base64"),
        KeyId: "arn:aws:kms:eu-west-2:111111111111:key/x",
      });
      const ctx = JSON.stringify(context);
      execFileSync(process.execPath, [script, "seal", "tfplan", "tfplan.sealed", ctx], { cwd: dir, input: kms });
      expect(fs.statSync(path.join(dir, "tfplan.sealed")).mode & 0o777).toBe(0o600);
      expect(execFileSync(process.execPath, [script, "wrapped-key", "tfplan.sealed"], { cwd: dir }).equals(wrapped)).toBe(true);
      fs.rmSync(path.join(dir, "tfplan"));
      execFileSync(process.execPath, [script, "open", "tfplan.sealed", "tfplan", ctx], { cwd: dir, input: `${key.toString("base64")}\n` });
      expect(fs.readFileSync(path.join(dir, "tfplan")).equals(plan)).toBe(true);
      const wrong = () =>
        execFileSync(process.execPath, [script, "open", "tfplan.sealed", "other", JSON.stringify({ ...context, environment: "dev" })], {
          cwd: dir,
          input: key.toString("base64"),
          stdio: ["pipe", "pipe", "pipe"],
        });
      expect(wrong).toThrow(/plan-seal: sealed for .*"environment":"prod".*refusing/);
      expect(fs.existsSync(path.join(dir, "other"))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
