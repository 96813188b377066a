/**
 * Post-quantum cosignatures on the real topology: the embedded default's
 * three witness processes started with CAIRN_MEMBER_MLDSA=1 each make an
 * ML-DSA-44 key in their own data dir and cosign every checkpoint with it
 * as well; the operator, with CAIRN_PQ_QUORUM=2, publishes a v2 trust
 * document that requires two of them, and counts a member only when both of
 * its cosignatures verify. Receipts verify offline under that document, and
 * fail under it once the ML-DSA-44 lines are stripped.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatNote, generateKeyPair, isCairnError, KEY_TYPE_COSIGNATURE_MLDSA44, noteSigner, parseNote, parseTrust, parseVerifierKey, sha256, signSubmission, utf8, verifyReceipt, type TrustV2 } from "../../src/core/index.js";
import { startNode, type RunningNode } from "../../src/runtime/node.js";
import { silentLogger } from "../../src/service/log.js";
import { anchor, document, registerClient, sealFully, startCluster, submission } from "../service/harness.js";

let node: RunningNode;
let dir: string;
let trust: TrustV2;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-pq-"));
  node = await startNode({ env: { CAIRN_DATA_DIR: dir, CAIRN_MEMBER_MLDSA: "1", CAIRN_PQ_QUORUM: "2" }, port: 0, durability: "normal", log: silentLogger, sealTimer: false });
  trust = parseTrust(await (await fetch(`${node.url}/v1/trust`)).json()) as TrustV2;
});
afterAll(() => node?.close());

describe("members cosigning with ML-DSA-44 too (C2SP tlog-cosignature type 0x06)", () => {
  it("publishes a v2 trust document with each member's two keys, made by the member itself, and the post-quantum quorum", () => {
    expect(trust.version).toBe("cairn-trust/v2");
    expect(trust.pqQuorum).toBe(2);
    for (const m of trust.members) {
      const [ed, pq] = m.keys.map((k) => parseVerifierKey(k.key));
      expect(pq!.type).toBe(KEY_TYPE_COSIGNATURE_MLDSA44);
      expect(pq!.publicKey.length).toBe(1312);
      expect(ed!.name).toBe(m.name);
      const own = readFileSync(join(dir, "members", m.name, "cosigner-mldsa44.key"), "utf8");
      expect(own).toMatch(/^PRIVATE\+KEY\+/);
    }
  });

  it("a receipt verifies offline with both quorums; without the ML-DSA-44 lines it fails PQ_QUORUM_NOT_MET", async () => {
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const admin = readFileSync(join(dir, "admin-token"), "utf8").trim();
    const doc = utf8("a land title meant to be checked in 2070\n");
    const submission = await signSubmission({ origin: trust.origin, digest: sha256(doc), time: Math.floor(Date.now() / 1000) }, signer);
    const posted = await fetch(`${node.url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission }) });
    expect(posted.status).toBe(202);
    const { id } = await posted.json();
    const sealed = await (await fetch(`${node.url}/v1/admin/seal`, { method: "POST", headers: { Authorization: `Bearer ${admin}` } })).json();
    expect(sealed).toMatchObject({ final: true });
    await node.sealer.idle();

    const receipt = await (await fetch(`${node.url}/v1/anchors/${id}/receipt`)).json();
    const result = await verifyReceipt(receipt, trust, { document: doc });
    expect(result.cosigners.length).toBeGreaterThanOrEqual(2);
    expect(result.steps.find((s) => s.step === "cosignatures")!.detail).toMatch(/ML-DSA-44 from [23] \(required 2\)/);

    const note = parseNote(receipt.checkpoint);
    const edOnly = formatNote(note.text, note.signatures.filter((s) => s.signature.length < 100));
    try {
      await verifyReceipt({ ...receipt, checkpoint: edOnly }, trust, { document: doc });
      expect.unreachable();
    } catch (e) {
      expect(isCairnError(e, "PQ_QUORUM_NOT_MET")).toBe(true);
    }
  });
});

describe("a member the operator knows by an ML-DSA-44 key too", () => {
  it("is not counted when its witness answers with the Ed25519 cosignature alone", async () => {
    // The witnesses run without CAIRN_MEMBER_MLDSA, yet the operator was told each member's pqKey:
    // a member that drops its post-quantum line must not count towards a quorum that promises one.
    const c = await startCluster({
      members: 2,
      quorum: 1,
      configure: (config) => ({
        ...config,
        members: config.members.map((m, i) => ({ ...m, pqKey: generateKeyPair(m.name, sha256(utf8(`pq ${i}`)), KEY_TYPE_COSIGNATURE_MLDSA44).verifierKey })),
        pqQuorum: 1,
      }),
    });
    try {
      const client = await registerClient(c);
      expect((await anchor(c, await submission(c, client, document("pq")))).status).toBe(202);
      const report = await sealFully(c);
      expect(report.final).toBe(false);
      // The witnesses' messages are for members and admin.
      const consortium = await (await c.request("/v1/consortium", { admin: true })).json();
      for (const m of consortium.members) {
        expect(m.answer.status).toBe("refused");
        expect(m.answer.message).toContain("has no cosignature by");
      }
    } finally {
      await c.close();
    }
  });
});

describe("a member whose ML-DSA-44 line does not verify", () => {
  it("is not counted, and the operator says which cosignature failed", async () => {
    // Its witness answers through a relay that appends a 0x06 line under the
    // right key id with a signature that is not one: well-formed, wrong.
    const pq = generateKeyPair("m1.test", sha256(utf8("pq relay")), KEY_TYPE_COSIGNATURE_MLDSA44);
    const pqKeyId = parseVerifierKey(pq.verifierKey).keyId;
    let witnessUrl = "";
    const relay = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${witnessUrl}${req.url}`, { method: req.method!, body: req.method === "POST" ? Buffer.concat(chunks) : undefined, headers: { "Content-Type": req.headers["content-type"] ?? "text/plain" } });
      let body = await upstream.text();
      if (upstream.status === 200 && req.url === "/add-checkpoint") {
        const sig = new Uint8Array(4 + 8 + 2420);
        new DataView(sig.buffer).setUint32(0, pqKeyId);
        new DataView(sig.buffer).setBigUint64(4, BigInt(Math.floor(Date.now() / 1000)));
        sig.fill(7, 12);
        body += `— m1.test ${Buffer.from(sig).toString("base64")}\n`;
      }
      res.writeHead(upstream.status, { "Content-Type": upstream.headers.get("Content-Type") ?? "text/plain" });
      res.end(body);
    });
    await new Promise<void>((ready) => relay.listen(0, "127.0.0.1", () => ready()));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const c = await startCluster({
      members: 2,
      quorum: 1,
      configure: (config) => {
        witnessUrl = config.members[0]!.witness;
        return { ...config, members: config.members.map((m, i) => (i === 0 ? { ...m, pqKey: pq.verifierKey, witness: relayUrl } : m)) };
      },
    });
    try {
      const client = await registerClient(c);
      expect((await anchor(c, await submission(c, client, document("pq relay")))).status).toBe(202);
      const report = await sealFully(c);
      expect(report.cosigners).not.toContain("m1.test");
      const consortium = await (await c.request("/v1/consortium", { admin: true })).json();
      const m1 = consortium.members.find((m: { name: string }) => m.name === "m1.test");
      expect(m1.answer.status).toBe("refused");
      expect(m1.answer.message).toMatch(/cosignature by m1\.test\+[0-9a-f]{8} does not verify/);
    } finally {
      await c.close();
      relay.close();
    }
  });
});
