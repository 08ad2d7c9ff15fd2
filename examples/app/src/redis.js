// A minimal Redis client (RESP2) over TLS with AUTH: one command at a time, replies parsed as they come.
"use strict";
const net = require("node:net");
const tls = require("node:tls");

function encode(args) {
  return Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.map((a) => Buffer.concat([Buffer.from(`$${Buffer.byteLength(String(a))}\r\n`), Buffer.from(String(a)), Buffer.from("\r\n")])),
  ]);
}

// Returns [value, rest] or undefined when the buffer holds no complete reply yet.
function parse(buffer) {
  const eol = buffer.indexOf("\r\n");
  if (eol < 0) return undefined;
  const kind = String.fromCharCode(buffer[0]);
  const line = buffer.toString("utf8", 1, eol);
  const rest = buffer.subarray(eol + 2);
  if (kind === "+") return [line, rest];
  if (kind === "-") return [Object.assign(new Error(`redis: ${line}`), { redis: true }), rest];
  if (kind === ":") return [Number(line), rest];
  if (kind === "$") {
    const length = Number(line);
    if (length < 0) return [null, rest];
    if (rest.length < length + 2) return undefined;
    return [rest.toString("utf8", 0, length), rest.subarray(length + 2)];
  }
  if (kind === "*") {
    const items = [];
    let left = rest;
    for (let i = 0; i < Number(line); i++) {
      const parsed = parse(left);
      if (!parsed) return undefined;
      items.push(parsed[0]);
      left = parsed[1];
    }
    return [items, left];
  }
  throw new Error(`redis: unexpected reply ${JSON.stringify(line)}`);
}

/** Connects (TLS unless options.tls is false) and authenticates; resolves to { command(...args), close() }. */
async function connect(options) {
  const socket =
    options.tls === false
      ? net.connect({ host: options.host, port: Number(options.port) })
      : tls.connect({
          host: options.host,
          port: Number(options.port),
          servername: net.isIP(options.host) ? undefined : options.host,
          ca: options.ca,
          rejectUnauthorized: true,
        });
  await new Promise((resolve, reject) => socket.once(options.tls === false ? "connect" : "secureConnect", resolve).once("error", reject));
  let buffer = Buffer.alloc(0);
  const pending = [];
  let failure = null;
  const drain = () => {
    for (;;) {
      if (pending.length === 0) return;
      if (failure) {
        pending.shift().reject(failure);
        continue;
      }
      const parsed = parse(buffer);
      if (!parsed) return;
      buffer = parsed[1];
      const waiter = pending.shift();
      if (parsed[0] instanceof Error) waiter.reject(parsed[0]);
      else waiter.resolve(parsed[0]);
    }
  };
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    drain();
  });
  const fail = (err) => {
    failure = err || new Error("redis: connection closed");
    drain();
  };
  socket.on("error", fail);
  socket.on("close", () => fail(null));
  const client = {
    command(...args) {
      return new Promise((resolve, reject) => {
        pending.push({ resolve, reject });
        socket.write(encode(args));
        drain();
      });
    },
    close() {
      socket.end();
    },
  };
  if (options.password) await client.command("AUTH", options.password);
  return client;
}

module.exports = { connect };
