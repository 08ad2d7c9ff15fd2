// A minimal PostgreSQL client (protocol 3, simple queries) over TLS, verified against a CA bundle:
// SSLRequest, then TLS with the server's name checked, then SCRAM-SHA-256 (or md5/password) authentication.
// Enough for this sample; a real app would use the `pg` package.
"use strict";
const crypto = require("node:crypto");
const net = require("node:net");
const tls = require("node:tls");

class MessageReader {
  constructor(socket) {
    this.buffer = Buffer.alloc(0);
    this.waiting = [];
    this.error = null;
    socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.flush();
    });
    const fail = (err) => {
      this.error = err || new Error("connection closed");
      this.flush();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(null));
  }
  flush() {
    while (this.waiting.length > 0) {
      if (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1);
        if (this.buffer.length >= length + 1) {
          const message = { type: String.fromCharCode(this.buffer[0]), body: this.buffer.subarray(5, length + 1) };
          this.buffer = this.buffer.subarray(length + 1);
          this.waiting.shift().resolve(message);
          continue;
        }
      }
      if (this.error) this.waiting.shift().reject(this.error);
      else return;
    }
  }
  next() {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.flush();
    });
  }
}

function message(type, ...parts) {
  const body = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const head = Buffer.alloc(type ? 5 : 4);
  if (type) head.write(type, 0);
  head.writeInt32BE(body.length + 4, type ? 1 : 0);
  return Buffer.concat([head, body]);
}
const int32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const cstring = (s) => Buffer.from(`${s}\0`);

function serverError(body) {
  const fields = {};
  for (let i = 0; i < body.length && body[i] !== 0;) {
    const end = body.indexOf(0, i + 1);
    fields[String.fromCharCode(body[i])] = body.toString("utf8", i + 1, end);
    i = end + 1;
  }
  const err = new Error(`postgres: ${fields.M || "error"}${fields.C ? ` (${fields.C})` : ""}`);
  err.code = fields.C;
  return err;
}

function upgrade(socket, options) {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("data", (reply) => {
      if (reply.toString() !== "S") return reject(new Error("postgres: the server does not offer TLS"));
      const secure = tls.connect({
        socket,
        servername: net.isIP(options.host) ? undefined : options.host,
        host: options.host,
        ca: options.ca,
        rejectUnauthorized: true,
      });
      secure.once("secureConnect", () => resolve(secure));
      secure.once("error", reject);
    });
    socket.write(Buffer.concat([int32(8), int32(80877103)]));
  });
}

async function authenticate(reader, socket, options) {
  let scram;
  for (;;) {
    const { type, body } = await reader.next();
    if (type === "E") throw serverError(body);
    if (type !== "R") continue;
    const code = body.readInt32BE(0);
    if (code === 0) return;
    if (code === 3) socket.write(message("p", cstring(options.password)));
    else if (code === 5) {
      const inner = crypto
        .createHash("md5")
        .update(options.password + options.user)
        .digest("hex");
      socket.write(message("p", cstring(`md5${crypto.createHash("md5").update(inner).update(body.subarray(4, 8)).digest("hex")}`)));
    } else if (code === 10) {
      if (!body.subarray(4).toString().split("\0").includes("SCRAM-SHA-256")) throw new Error("postgres: no supported SASL mechanism");
      const nonce = crypto.randomBytes(18).toString("base64");
      scram = { clientFirstBare: `n=,r=${nonce}`, nonce };
      const first = Buffer.from(`n,,${scram.clientFirstBare}`);
      socket.write(message("p", cstring("SCRAM-SHA-256"), int32(first.length), first));
    } else if (code === 11) {
      const serverFirst = body.subarray(4).toString();
      const attrs = Object.fromEntries(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)]));
      if (!attrs.r || !attrs.r.startsWith(scram.nonce)) throw new Error("postgres: SCRAM nonce mismatch");
      const salted = crypto.pbkdf2Sync(options.password.normalize("NFKC"), Buffer.from(attrs.s, "base64"), Number(attrs.i), 32, "sha256");
      const hmac = (key, text) => crypto.createHmac("sha256", key).update(text).digest();
      const clientKey = hmac(salted, "Client Key");
      const storedKey = crypto.createHash("sha256").update(clientKey).digest();
      const withoutProof = `c=biws,r=${attrs.r}`;
      const authMessage = `${scram.clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
      scram.serverSignature = hmac(hmac(salted, "Server Key"), authMessage).toString("base64");
      socket.write(message("p", `${withoutProof},p=${proof.toString("base64")}`));
    } else if (code === 12) {
      if (body.subarray(4).toString() !== `v=${scram.serverSignature}`) throw new Error("postgres: the server's SCRAM signature is wrong");
    } else throw new Error(`postgres: unsupported authentication method ${code}`);
  }
}

/** Connects; resolves to { query(sql) -> rows (objects of strings), close() }. */
async function connect(options) {
  const plain = net.connect({ host: options.host, port: Number(options.port) });
  await new Promise((resolve, reject) => plain.once("connect", resolve).once("error", reject));
  const socket = await upgrade(plain, options);
  const reader = new MessageReader(socket);
  socket.write(
    message(
      "",
      int32(196608),
      cstring("user"),
      cstring(options.user),
      cstring("database"),
      cstring(options.database),
      cstring("application_name"),
      cstring("webapp-sample"),
      Buffer.from([0]),
    ),
  );
  await authenticate(reader, socket, options);
  const untilReady = async () => {
    let rows = [];
    let columns = [];
    let failure = null;
    for (;;) {
      const { type, body } = await reader.next();
      if (type === "T") {
        columns = [];
        for (let i = 0, at = 2; i < body.readInt16BE(0); i++) {
          const end = body.indexOf(0, at);
          columns.push(body.toString("utf8", at, end));
          at = end + 19;
        }
      } else if (type === "D") {
        const row = {};
        for (let i = 0, at = 2; i < body.readInt16BE(0); i++) {
          const length = body.readInt32BE(at);
          row[columns[i]] = length < 0 ? null : body.toString("utf8", at + 4, at + 4 + length);
          at += 4 + Math.max(length, 0);
        }
        rows.push(row);
      } else if (type === "E") failure = serverError(body);
      else if (type === "Z") {
        if (failure) throw failure;
        return rows;
      }
    }
  };
  await untilReady();
  return {
    query(sql) {
      socket.write(message("Q", cstring(sql)));
      return untilReady();
    },
    close() {
      socket.end(message("X"));
    },
  };
}

/** A string literal for a simple query (standard_conforming_strings is on in every supported release). */
function literal(value) {
  return `'${String(value).replace(/\0/g, "").replace(/'/g, "''")}'`;
}

module.exports = { connect, literal };
