// Seals a saved Terraform plan (which holds prior state and planned values in cleartext, secrets included)
// so the uploaded artifact is useless without KMS: AES-256-GCM under a data key that KMS generated for
// the environment's plan key; only the wrapped data key travels with the file. The plan job seals with
// `aws kms generate-data-key`; the apply job unwraps with `aws kms decrypt`, which only its role may call.
// The encryption context (environment, commit) is authenticated too, so a sealed plan opens only for
// the environment and commit it was made for.
//
// Usage:
//   aws kms generate-data-key ... --output json | node plan-seal.js seal <plan> <sealed> <context-json>
//   node plan-seal.js wrapped-key <sealed>        (the wrapped data key, raw bytes, on stdout)
//   node plan-seal.js context <sealed>            (the encryption context it was sealed with, JSON)
//   aws kms decrypt ... --query Plaintext --output text | node plan-seal.js open <sealed> <plan> <context-json>
// Key material comes on stdin only, never on a command line.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");

const MAGIC = "tfplan-sealed-v1";

/** Canonical form of an encryption context: keys sorted, so both sides authenticate the same bytes. */
function canonical(context) {
  if (!context || typeof context !== "object" || Array.isArray(context)) throw new Error("encryption context must be a JSON object");
  const sorted = {};
  for (const key of Object.keys(context).sort()) {
    if (typeof context[key] !== "string" || context[key] === "") throw new Error(`encryption context ${key} must be a non-empty string`);
    sorted[key] = context[key];
  }
  return JSON.stringify(sorted);
}

/** Seals `plan` (a Buffer) under a 32-byte data key; `wrappedKey` is KMS's ciphertext of that key. */
function seal(plan, dataKey, wrappedKey, context) {
  if (dataKey.length !== 32) throw new Error("the data key must be 32 bytes (AES_256)");
  const iv = crypto.randomBytes(12);
  const aad = canonical(context);
  const cipher = crypto.createCipheriv("aes-256-gcm", dataKey, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plan), cipher.final()]);
  const header = Buffer.from(
    JSON.stringify({
      magic: MAGIC,
      context: JSON.parse(aad),
      wrappedKey: wrappedKey.toString("base64"),
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, body]);
}

function parse(sealed) {
  if (sealed.length < 4) throw new Error("not a sealed plan");
  const length = sealed.readUInt32BE(0);
  let header;
  try {
    header = JSON.parse(sealed.subarray(4, 4 + length).toString("utf8"));
  } catch {
    throw new Error("not a sealed plan");
  }
  if (header.magic !== MAGIC) throw new Error("not a sealed plan");
  return { header, body: sealed.subarray(4 + length) };
}

/** Opens a sealed plan with the unwrapped data key; refuses another context or any altered byte. */
function open(sealed, dataKey, context) {
  const { header, body } = parse(sealed);
  const aad = canonical(context);
  if (canonical(header.context) !== aad) {
    throw new Error(`sealed for ${canonical(header.context)}, not for ${aad}: refusing to apply another environment's or commit's plan`);
  }
  const decipher = crypto.createDecipheriv("aes-256-gcm", dataKey, Buffer.from(header.iv, "base64"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(header.tag, "base64"));
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new Error("the sealed plan does not authenticate (altered, or another key)");
  }
}

function wrappedKey(sealed) {
  return Buffer.from(parse(sealed).header.wrappedKey, "base64");
}

module.exports = { seal, open, wrappedKey, canonical, parse };

if (require.main === module) {
  const [command, ...args] = process.argv.slice(2);
  const stdin = () => fs.readFileSync(0, "utf8").trim();
  try {
    if (command === "seal" && args.length === 3) {
      const kms = JSON.parse(stdin());
      const out = seal(
        fs.readFileSync(args[0]),
        Buffer.from(kms.Plaintext, "base64"),
        Buffer.from(kms.CiphertextBlob, "base64"),
        JSON.parse(args[2]),
      );
      fs.writeFileSync(args[1], out, { mode: 0o600 });
    } else if (command === "wrapped-key" && args.length === 1) {
      process.stdout.write(wrappedKey(fs.readFileSync(args[0])));
    } else if (command === "context" && args.length === 1) {
      process.stdout.write(`${canonical(parse(fs.readFileSync(args[0])).header.context)}\n`);
    } else if (command === "open" && args.length === 3) {
      const plan = open(fs.readFileSync(args[0]), Buffer.from(stdin(), "base64"), JSON.parse(args[2]));
      fs.writeFileSync(args[1], plan, { mode: 0o600 });
    } else {
      throw new Error(
        "usage: plan-seal.js seal <plan> <sealed> <context-json> | wrapped-key <sealed> | context <sealed> | open <sealed> <plan> <context-json>",
      );
    }
  } catch (error) {
    process.stderr.write(`plan-seal: ${error.message}\n`);
    process.exit(1);
  }
}
