// The timed jobs' run-time switch (modules/compute/jobs-switch.sh) with a recording `aws` on PATH that answers
// the SSM parameter as the API would (a value, ParameterNotFound, or an error); the rehearsals run it against
// the AWS API emulator.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptPath } from "../modules/compute";

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "jobs-switch-"));
  writeFileSync(join(work, "fleet.conf"), "AWS_REGION_NAME=eu-west-2\nTIMED_JOBS_PARAMETER=/webapp-dev/timed-jobs\n");
  // The parameter's answer: the file `answer` holds the value, or `!NotFound` / `!<error>`.
  writeFileSync(
    join(work, "aws"),
    [
      "#!/bin/bash",
      `echo "$*" >>'${join(work, "aws-calls")}'`,
      `answer="$(cat '${join(work, "answer")}')"`,
      'case "$answer" in',
      '  "!NotFound") echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2; exit 254 ;;',
      '  "!"*) echo "${answer#!}" >&2; exit 255 ;;',
      '  *) echo "$answer" ;;',
      "esac",
    ].join("\n"),
  );
  chmodSync(join(work, "aws"), 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(answer: string) {
  writeFileSync(join(work, "answer"), answer);
  const marker = join(work, "ran");
  rmSync(marker, { force: true });
  const result = spawnSync("bash", [scriptPath("jobs-switch.sh"), "record-run", "--", "bash", "-c", `echo ran >'${marker}'; exit 3`], {
    env: { PATH: `${work}:${process.env.PATH}`, WEBAPP_FLEET_CONF: join(work, "fleet.conf") },
    encoding: "utf8",
  });
  return { status: result.status, output: result.stdout + result.stderr, ran: existsSync(marker) };
}

test("reads the environment's parameter and runs the job while it is on, passing on its exit status", () => {
  const result = run("on");
  expect(result).toMatchObject({ status: 3, ran: true });
  expect(readFileSync(join(work, "aws-calls"), "utf8")).toContain("ssm get-parameter --region eu-west-2 --name /webapp-dev/timed-jobs --query Parameter.Value --output text");
});

test("holds the job while the parameter is off, exiting 0 with a line in the job's log", () => {
  expect(run("off")).toMatchObject({ status: 0, ran: false, output: expect.stringMatching(/timed jobs are off \(\/webapp-dev\/timed-jobs\); not running record-run/) });
});

test("runs the job when there is no parameter: an environment nobody switched", () => {
  expect(run("!NotFound")).toMatchObject({ status: 3, ran: true });
});

test("does not run blind: an API error or a value other than on or off holds the job and exits 75", () => {
  expect(run("!Could not connect to the endpoint URL")).toMatchObject({ status: 75, ran: false, output: expect.stringMatching(/cannot read \/webapp-dev\/timed-jobs .*not running record-run/) });
  expect(run("paused")).toMatchObject({ status: 75, ran: false, output: expect.stringMatching(/is "paused", neither on nor off/) });
});
