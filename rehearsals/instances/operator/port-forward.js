// Stand-in for `aws ssm start-session --target <instance> --document-name
// AWS-StartPortForwardingSessionToRemoteHost --parameters {"host":[...],"portNumber":[...],"localPortNumber":[...]}`:
// listens on localhost:<localPortNumber> and carries each connection to <host>:<portNumber> from inside the
// target instance's network namespace (REHEARSAL_INSTANCES_FILE: instance id -> namespace, and the names the
// instances resolve), as the Session Manager agent on the instance would. Runs until it is killed.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const target = option("--target");
const document = option("--document-name");
if (document !== "AWS-StartPortForwardingSessionToRemoteHost") {
  console.error(`rehearsal ssm: only AWS-StartPortForwardingSessionToRemoteHost is stood in for, not ${document}`);
  process.exit(1);
}
const parameters = JSON.parse(option("--parameters") || "{}");
const host = parameters.host?.[0];
const port = Number(parameters.portNumber?.[0]);
const localPort = Number(parameters.localPortNumber?.[0]);
const known = JSON.parse(fs.readFileSync(process.env.REHEARSAL_INSTANCES_FILE, "utf8"));
const instance = known.instances[target];
if (!instance) {
  console.error(`An error occurred (TargetNotConnected) when calling the StartSession operation: ${target} is not connected.`);
  process.exit(254);
}
const address = known.hosts[host];
if (!address || !port || !localPort) {
  console.error(`rehearsal ssm: cannot forward to ${host}:${port} on local port ${localPort}`);
  process.exit(1);
}
const pipe =
  "const s=require('net').connect(Number(process.argv[2]),process.argv[1]);process.stdin.pipe(s);s.pipe(process.stdout);s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));";
const server = net.createServer((client) => {
  const child = spawn("nsenter", [`--net=/run/netns/${instance.netns}`, "node", "-e", pipe, address, String(port)], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  client.pipe(child.stdin);
  child.stdout.pipe(client);
  client.on("error", () => child.kill());
  child.on("exit", () => client.destroy());
});
server.listen(localPort, "127.0.0.1", () => {
  const session = `rehearsal-${Date.now().toString(16)}`;
  console.log(
    `\nStarting session with SessionId: ${session}\nPort ${localPort} opened for sessionId ${session}.\nWaiting for connections...\n`,
  );
});
process.on("SIGTERM", () => process.exit(0));
