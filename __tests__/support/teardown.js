// Removes this run's temporary folder (support/global-setup.js), with the output folders cdktf's
// Testing.app() left in it; other runs' folders are not touched.
const fs = require("node:fs");

module.exports = async function teardown() {
  const runTmp = process.env.WEBAPP_TEST_TMPDIR;
  if (runTmp) fs.rmSync(runTmp, { recursive: true, force: true });
};
