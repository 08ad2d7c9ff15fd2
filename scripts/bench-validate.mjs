// Prints how long the environment validator takes for every environment: loading it (its modules and the
// rule tables), its first run in a fresh process, and the median of the next runs. Reads dist/ (npm run build).
// Usage: node scripts/bench-validate.mjs [RUNS]   (default 50)
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const load = createRequire(import.meta.url);
const loadStart = process.hrtime.bigint();
const { ENVIRONMENTS, ENVIRONMENT_FILES } = load(join(dist, "environments"));
const { validateEnvironments } = load(join(dist, "environments", "schema", "validate"));
const loaded = Number(process.hrtime.bigint() - loadStart) / 1e6;
const runs = Number(process.argv[2] ?? 50);
const time = () => {
  const start = process.hrtime.bigint();
  const lines = validateEnvironments(ENVIRONMENTS, ENVIRONMENTS, ENVIRONMENT_FILES);
  if (lines.length > 0) throw new Error(`the shipped environments have problems:\n${lines.join("\n")}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const first = time();
const rest = Array.from({ length: runs }, time).sort((a, b) => a - b);
const median = rest[Math.floor(rest.length / 2)];
const line = (label, ms) => console.log(`${label.padEnd(42)} ${ms.toFixed(1).padStart(7)} ms`);
line("validator: load (its modules, rule tables)", loaded);
line(`validator: ${ENVIRONMENTS.length} environments, first run`, first);
line(`validator: ${ENVIRONMENTS.length} environments, median of ${runs}`, median);
