// Synthesizes the shipped environments once per test run, the way `npm run synth` does, so the many
// tests that read a whole environment's JSON share one synth instead of repeating it in every file.
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async function globalSetup() {
  const root = path.join(__dirname, "..", "..");
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cdktf.outdir.shared-"));
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, env, stdio: "inherit" });
  const script = `process.exitCode = require("./dist/main.js").run({ outdir: ${JSON.stringify(outdir)}, printWarnings: false })`;
  execFileSync(process.execPath, ["-e", script], { cwd: root, env, stdio: "inherit" });
  // Workers inherit this; support/synth.ts reads the shipped environments' stacks from here.
  process.env.WEBAPP_SHARED_SYNTH_DIR = outdir;
};
