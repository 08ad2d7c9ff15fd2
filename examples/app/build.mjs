// The build: copies the sources to dist/ and records what was built (a stand-in for a compiler step).
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
cpSync("src", "dist", { recursive: true });
let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
} catch {
  // Not a git checkout (the platform copies only the app's directory): keep "unknown".
}
writeFileSync("dist/build-info.json", `${JSON.stringify({ commit, builtAt: new Date().toISOString(), node: process.version })}\n`);
console.log(`built dist/ (node ${process.version})`);
