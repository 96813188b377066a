/**
 * src/client against a real operator and its member witnesses
 * (test/service/harness.ts), through a relay on 127.0.0.1 that records what
 * reaches the server and can push back or drop a reply: anchoring plain and
 * salted (the server never sees a salted document's digest), batches,
 * pushback waited out, a dropped reply resent without doubling the entry,
 * receipts verified offline against pinned trust, and a wrong trust refused.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, CairnClient, ReceiptPendingError } from "../../src/client/index.js";
import { generateKeyPair, isCairnError, KEY_TYPE_COSIGNATURE_V1, sha256, toHex, utf8, type Trust } from "../../src/core/index.js";
import { clientKeys, registerClient, startCluster, TestClock, type Cluster } from "../service/harness.js";

let cluster: Cluster;
let relay: Server;
let relayUrl: string;
let trust: Trust;
/** Request bodies the server received, in order. */
const seen: string[] = [];
/** What the relay does to the next requests to `path` (consumed one by one). */
const plans: { path: string; action: "pushback" | "drop-reply" }[] = [];

beforeAll(async () => {
  // The client signs with the real time: so does this operator.
  cluster = await startCluster({ members: 3, quorum: 2, clock: new TestClock(Math.floor(Date.now() / 1000)) });
  trust = await (await cluster.request("/v1/trust")).json();
  relay = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const plan = plans.findIndex((p) => req.url === p.path);
    const action = plan >= 0 ? plans.splice(plan, 1)[0]!.action : undefined;
    if (action === "pushback") {
      res.writeHead(503, { "Content-Type": "application/json", "Retry-After": "0" });
      return res.end(JSON.stringify({ error: { code: "OVERLOADED", message: "relay says wait" } }));
    }
    seen.push(body);
    const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === "string" && e[0] !== "host" && e[0] !== "content-length"));
    const upstream = await fetch(`${cluster.url}${req.url}`, { method: req.method!, headers, ...(req.method === "POST" ? { body } : {}) });
    const text = await upstream.text();
    // The server did the work; the client never hears of it.
    if (action === "drop-reply") return req.socket.destroy();
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    res.end(text);
  });
  await new Promise<void>((ready) => relay.listen(0, "127.0.0.1", () => ready()));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
});
afterAll(async () => {
  relay?.close();
  await cluster?.close();
});

/** Seals until the anchors are final, as the scheduled seal would. */
async function seal() {
  const report = await cluster.services.sealer.seal();
  await cluster.services.sealer.idle();
  return report;
}

async function client() {
  await registerClient(cluster);
  return new CairnClient({ server: relayUrl, key: clientKeys().signerKey });
}

describe("CairnClient", () => {
  it("anchors a document, waits for its receipt and verifies it offline against pinned trust", async () => {
    const c = await client();
    const doc = utf8("a deed, anchored from an app\n");
    const { prepared, ack } = await c.anchor(doc);
    expect(ack).toMatchObject({ id: prepared.id, status: "pending" });
    expect(ack.promise).toContain("cairn/promise/v1");
    expect(await c.receipt(prepared)).toBeUndefined();
    await seal();
    const receipt = await c.waitForReceipt(prepared, { timeoutMs: 10_000 });
    const result = await c.verify(receipt, trust, doc);
    expect(result.entryId).toBe(prepared.id);
    expect(result.cosigners.length).toBeGreaterThanOrEqual(2);
    // Against a document that is not the pinned one: refused, whatever the receipt says.
    const forged = { ...trust, members: trust.members.map((m, i) => ({ name: m.name, key: generateKeyPair(m.name, sha256(utf8(`forged ${i}`)), KEY_TYPE_COSIGNATURE_V1).verifierKey })) };
    await expect(c.verify(receipt, forged, doc)).rejects.toSatisfy((e: unknown) => isCairnError(e, "QUORUM_NOT_MET"));
    await expect(c.verify(receipt, trust, utf8("another document\n"))).rejects.toSatisfy((e: unknown) => isCairnError(e, "DIGEST_MISMATCH"));
  });

  it("salted: the server never receives the document's digest, and the receipt it returns carries the salt", async () => {
    const c = await client();
    const doc = utf8("licence 2026-0043\n");
    const from = seen.length;
    const { prepared } = await c.anchor(doc, { salted: true });
    expect(prepared.documentDigest).toBe(toHex(sha256(doc)));
    expect(prepared.digest).not.toBe(prepared.documentDigest);
    await seal();
    const receipt = await c.waitForReceipt(prepared, { timeoutMs: 10_000 });
    expect(receipt.version).toBe("cairn-receipt/v2");
    expect((await c.verify(receipt, trust, doc)).salted).toBe(true);
    // Nothing that reached the server holds the document's digest, in hex or base64.
    const sent = seen.slice(from).join("\n");
    expect(sent).not.toContain(prepared.documentDigest);
    expect(sent).not.toContain(Buffer.from(sha256(doc)).toString("base64"));
  });

  it("submits batches, one result per item in order, a refused item named as such", async () => {
    const c = await client();
    const good = await Promise.all([1, 2, 3].map((i) => c.prepare(utf8(`batch item ${i}\n`))));
    const stranger = new CairnClient({ server: relayUrl, key: CairnClient.makeKey("stranger.example").signerKey, origin: trust.origin });
    const refused = await stranger.prepare(utf8("not registered\n"));
    const results = await c.submitBatch([good[0]!, refused, good[1]!, good[2]!]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    expect(results[1]).toMatchObject({ ok: false, id: refused.id, code: "UNKNOWN_CLIENT" });
    expect(results.filter((r) => r.ok).map((r) => r.id)).toEqual(good.map((g) => g.id));
  });

  it("waits out pushback (503 + Retry-After), and resends a submission whose reply was lost without doubling it", async () => {
    const c = await client();
    plans.push({ path: "/v1/anchors", action: "pushback" }, { path: "/v1/anchors", action: "pushback" });
    const pushed = await c.anchor(utf8("anchored after two pushbacks\n"));
    expect(pushed.ack.id).toBe(pushed.prepared.id);

    plans.push({ path: "/v1/anchors", action: "drop-reply" });
    const prepared = await c.prepare(utf8("its first reply is lost\n"));
    const ack = await c.submit(prepared);
    expect(ack.id).toBe(prepared.id);
    expect(seen.filter((b) => b.includes(JSON.stringify(prepared.entry))).length).toBe(2);
    const report = await seal();
    expect(report.final).toBe(true);
    const anchors = await (await cluster.request(`/v1/digests/${prepared.digest}`, { admin: true })).json();
    expect(anchors.anchors).toEqual([expect.objectContaining({ id: prepared.id, status: "sealed" })]);
  });

  it("says what is wrong: no key, a refusal with the server's code, a receipt still pending at the deadline", async () => {
    const anonymous = new CairnClient({ server: relayUrl });
    await expect(anonymous.prepare(utf8("x"))).rejects.toSatisfy((e: unknown) => isCairnError(e, "BAD_KEY"));
    const c = await client();
    const prepared = await c.prepare(utf8("pending\n"));
    await expect(c.waitForReceipt(prepared, { timeoutMs: 50 })).rejects.toBeInstanceOf(ApiError);
    await c.submit(prepared);
    await expect(c.waitForReceipt(prepared, { timeoutMs: 50 })).rejects.toBeInstanceOf(ReceiptPendingError);
    await seal();
  });
});
