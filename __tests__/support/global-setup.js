// Synthesizes the shipped environments once per test run, the way `npm run synth` does, so the many
// tests that read a whole environment's JSON share one synth instead of repeating it in every file.
// Every temporary file of the run (cdktf's Testing.app() output folders included) goes into one folder of
// its own, which the teardown removes, so runs side by side on one machine never remove each other's.
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async function globalSetup() {
  const root = path.join(__dirname, "..", "..");
  const runTmp = fs.mkdtempSync(path.join(os.tmpdir(), "webapp-jest-"));
  process.env.WEBAPP_TEST_TMPDIR = runTmp;
  // Workers inherit this, and os.tmpdir() follows it.
  process.env.TMPDIR = runTmp;
  const outdir = fs.mkdtempSync(path.join(runTmp, "cdktf.outdir.shared-"));
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, env, stdio: "inherit" });
  const script = `process.exitCode = require("./dist/main.js").run({ outdir: ${JSON.stringify(outdir)}, printWarnings: false })`;
  execFileSync(process.execPath, ["-e", script], { cwd: root, env, stdio: "inherit" });
  // Workers inherit this; support/synth.ts reads the shipped environments' stacks from here.
  process.env.WEBAPP_SHARED_SYNTH_DIR = outdir;
};
