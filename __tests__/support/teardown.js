// Removes the output folders cdktf's Testing.app() leaves in the temp directory.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async function teardown() {
  const tmp = os.tmpdir();
  for (const entry of fs.readdirSync(tmp)) {
    if (entry.startsWith("cdktf.outdir.")) fs.rmSync(path.join(tmp, entry), { recursive: true, force: true });
  }
};
