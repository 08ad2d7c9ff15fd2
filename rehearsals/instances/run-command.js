// A named stand-in for Run Command, which moto records but does not run: `SendCommand` with the document
// AWS-RunShellScript runs the commands on the target instance as root, as the SSM agent does (with bash,
// which is Amazon Linux 2023's sh; the environment the agent gives: a plain PATH, HOME=/root), and
// `GetCommandInvocation` answers its status (InProgress, Success, Failed, TimedOut), exit code and output (each
// stream cut at 24,000 characters, as the API does). Other SSM calls go on to the emulator.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { insideAsync } = require("./parts");

const LIMIT = 24000;

class RunCommand {
  /** `instances(id)` is the rehearsal's instance with that id (prepareInstance's shape, booted), or undefined. */
  constructor({ instances, log }) {
    this.instances = instances;
    this.log = log;
    this.commands = new Map();
  }

  intercept(body, req) {
    const target = req.headers["x-amz-target"] || "";
    if (target === "AmazonSSM.SendCommand") return this.send(JSON.parse(body || "{}"));
    if (target === "AmazonSSM.GetCommandInvocation") return this.invocation(JSON.parse(body || "{}"));
    return null;
  }

  send(request) {
    if (request.DocumentName !== "AWS-RunShellScript")
      return error("InvalidDocument", `only AWS-RunShellScript is stood in for, not ${request.DocumentName}`);
    const ids = request.InstanceIds || [];
    const instance = ids.length === 1 ? this.instances(ids[0]) : undefined;
    if (!instance) return error("InvalidInstanceId", `Instances [${ids.join(", ")}] not in a valid state for account`);
    const commands = request.Parameters?.commands || [];
    const timeout = Number(request.Parameters?.executionTimeout?.[0] || 3600);
    const id = crypto.randomUUID();
    const record = {
      id,
      instance: instance.id,
      status: "InProgress",
      code: -1,
      stdout: "",
      stderr: "",
      comment: request.Comment || "",
      started: Date.now(),
    };
    this.commands.set(id, record);
    const dir = path.join(instance.root, "var/lib/amazon/ssm", instance.id, "document/orchestration", id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "_script.sh"), `${commands.join("\n")}\n`, { mode: 0o700 });
    const script = `/var/lib/amazon/ssm/${instance.id}/document/orchestration/${id}/_script.sh`;
    this.log?.(`run command ${id.slice(0, 8)} on ${instance.id}: ${record.comment || "(no comment)"}`);
    insideAsync(instance, [
      "timeout",
      "-k",
      "10",
      String(timeout),
      "env",
      "-i",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
      "bash",
      script,
    ]).then(({ code, output }) => {
      record.code = code ?? 1;
      record.stdout = output.slice(0, LIMIT);
      record.status = code === 0 ? "Success" : code === 124 ? "TimedOut" : "Failed";
      record.seconds = (Date.now() - record.started) / 1000;
      this.log?.(
        `run command ${id.slice(0, 8)} on ${instance.id}: ${record.status} (exit ${record.code}) after ${record.seconds.toFixed(1)}s`,
      );
    });
    return json({
      Command: { CommandId: id, DocumentName: request.DocumentName, InstanceIds: ids, Status: "Pending", Comment: record.comment },
    });
  }

  invocation(request) {
    const record = this.commands.get(request.CommandId);
    if (!record || record.instance !== request.InstanceId) return error("InvocationDoesNotExist", "");
    return json({
      CommandId: record.id,
      InstanceId: record.instance,
      Comment: record.comment,
      DocumentName: "AWS-RunShellScript",
      Status: record.status,
      StatusDetails: record.status,
      ResponseCode: record.code,
      StandardOutputContent: record.stdout,
      StandardErrorContent: record.stderr,
    });
  }
}

const json = (body) => ({ status: 200, type: "application/x-amz-json-1.1", body: JSON.stringify(body) });
const error = (code, message) => ({ status: 400, type: "application/x-amz-json-1.1", body: JSON.stringify({ __type: code, message }) });

module.exports = { RunCommand };
