// The migration rehearsal's DNS, a named stand-in for Route 53 and the resolvers between it and the clients:
// a DNS server (UDP, the packets encoded and decoded by dns-packet) that answers each A query from the hosted
// zone as the AWS API emulator holds it at that moment (ListResourceRecordSets), with the record's TTL. An alias
// record answers with the address of its target (the load balancer's DNS name is the HAProxy stand-in's
// address). Clients ask it on every connection (no cache), so the answer changes the moment the zone does: what
// a real client sees up to a TTL later is not modelled. A names, IPv4 only (the rehearsal's network has no IPv6);
// AAAA and other types answer with no records.
"use strict";
const dgram = require("node:dgram");
const packet = require("dns-packet");

/**
 * Starts the server on `host`:53. `records(name)` resolves to the zone's record sets for `name` (the emulator's
 * ListResourceRecordSets shape); `aliases` maps an alias target's DNS name to an IPv4 address.
 */
function startDns({ host, records, aliases, log }) {
  const socket = dgram.createSocket("udp4");
  const answered = [];
  socket.on("message", async (message, from) => {
    let query;
    try {
      query = packet.decode(message);
    } catch {
      return;
    }
    const answers = [];
    let rcode = "NOERROR";
    for (const question of query.questions || []) {
      if (question.type !== "A") continue;
      const name = question.name.replace(/\.$/, "").toLowerCase();
      try {
        const sets = (await records(name)).filter((r) => r.Type === "A");
        if (sets.length === 0) rcode = "NXDOMAIN";
        for (const set of sets) {
          if (set.AliasTarget) {
            const address = aliases[set.AliasTarget.DNSName.replace(/\.$/, "").toLowerCase()];
            if (address) answers.push({ type: "A", name: question.name, ttl: 60, data: address });
          } else {
            for (const r of set.ResourceRecords || [])
              answers.push({ type: "A", name: question.name, ttl: Number(set.TTL), data: r.Value });
          }
        }
      } catch (err) {
        log?.(`dns: ${name}: ${err.message}`);
        rcode = "SERVFAIL";
      }
    }
    answered.push({ at: Date.now(), name: query.questions?.[0]?.name, answers: answers.map((a) => a.data) });
    const reply = packet.encode({
      type: "response",
      id: query.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | packet.AUTHORITATIVE_ANSWER,
      rcode,
      questions: query.questions,
      answers,
    });
    socket.send(reply, from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(53, host, () => resolve({ close: () => socket.close(), answered }));
  });
}

/** One A lookup through the server at `host` (what the rehearsal's own checks resolve with). */
function lookup(host, name) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`dns: no answer for ${name}`));
    }, 2000);
    socket.on("message", (message) => {
      clearTimeout(timer);
      socket.close();
      const reply = packet.decode(message);
      resolve((reply.answers || []).filter((a) => a.type === "A").map((a) => a.data));
    });
    socket.send(packet.encode({ type: "query", id, flags: packet.RECURSION_DESIRED, questions: [{ type: "A", name }] }), 53, host);
  });
}

module.exports = { startDns, lookup };
