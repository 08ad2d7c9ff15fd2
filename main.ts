// Entry point: pick the environments (ENVIRONMENTS=dev,prod; all by default), validate them all,
// and only then build and synthesize. On bad input nothing is written to cdktf.out.
import { App } from "cdktf";
import { bootstrap, ENVIRONMENTS, selectEnvironments } from "./environments";
import { validateBootstrap, validateEnvironments } from "./environments/validate";
import { buildBootstrap, buildEnvironment } from "./modules/environment-stack";

function main(): number {
  let selected;
  try {
    selected = selectEnvironments(process.env.ENVIRONMENTS);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const problems = [...validateBootstrap(bootstrap), ...validateEnvironments(selected, ENVIRONMENTS)];
  if (problems.length > 0) {
    console.error(`Configuration has ${problems.length} problem(s); nothing was synthesized:`);
    for (const line of problems) console.error(`  ${line}`);
    return 1;
  }
  const app = new App();
  buildBootstrap(app, bootstrap);
  for (const config of selected) buildEnvironment(app, config);
  app.synth();
  return 0;
}

process.exitCode = main();
