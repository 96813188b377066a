import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  blockHash,
  checkChainLink,
  openNote,
  openPromise,
  parseBlockHeader,
  parseCheckpoint,
  parseEntry,
  verifyEntry,
  verifyBlock,
  verifyReceipt,
  ClientRegistry,
  KeySchedule,
  openKeyRecord,
  entryId,
  parseTrust,
  trustFingerprint,
} from "../../src/core/index.js";
import { buildVectors, renderFormats, type FormatVectors } from "../../scripts/formats.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const sha256 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

describe("docs/FORMATS.md and test/vectors/cairn-v1.json", () => {
  it("form a v2 chain: every block passes a member witness's checks, the registration first", async () => {
    const v = JSON.parse(read("test/vectors/cairn-v1.json")) as FormatVectors;
    const ids = [v.clientRecord.id, ...v.submissions.map((s) => s.id)];
    const texts = new Map([[v.clientRecord.id, v.clientRecord.entry], ...v.submissions.map((s) => [s.id, s.entry] as const)]);
    const perBlock = v.blocks.map((b) => parseBlockHeader(b.header).size);
    let registry = ClientRegistry.empty();
    let keys = KeySchedule.pinned(v.trust.operatorKeys);
    let tip: { height: number; hash: string; sealedAt: number } | undefined;
    let next = 0;
    for (const [height, b] of v.blocks.entries()) {
      const entries = ids.slice(next, next + perBlock[height]!).map((id) => texts.get(id)!);
      next += perBlock[height]!;
      const checked = await verifyBlock(tip, b.header, entries, registry, {
        origin: v.trust.origin,
        keys,
        now: parseBlockHeader(b.header).sealedAt,
        maxSkewSeconds: 60,
        timeWindowSeconds: 300,
      });
      registry = checked.registry;
      keys = checked.keys;
      tip = { height, hash: b.hash, sealedAt: checked.header.sealedAt };
    }
    expect(next).toBe(ids.length);
    expect(registry.lookup("registry.example/app")?.status).toBe("active");
  });

  it("are exactly what the code produces (run `npm run formats` after changing a format)", async () => {
    const vectors = await buildVectors();
    expect(read("docs/FORMATS.md")).toBe(renderFormats(read("docs/FORMATS.template.md"), vectors));
    expect(JSON.parse(read("test/vectors/cairn-v1.json"))).toEqual(JSON.parse(JSON.stringify(vectors)));
  });
});

describe("cairn-v1 vectors, checked independently of the code that made them", () => {
  const v = JSON.parse(read("test/vectors/cairn-v1.json")) as FormatVectors;
  const operatorKey = v.trust.operatorKeys[0]!;
  const clientKey = v.keys.find((k) => k.label === "cairn vector client")!.verifierKey;

  it("entry ids are SHA-256(0x00 ‖ entry bytes), digests SHA-256 of the document", () => {
    for (const s of v.submissions) {
      expect(sha256(Buffer.from([0]), s.entry).toString("hex")).toBe(s.id);
      expect(sha256(s.document).toString("hex")).toBe(s.digest);
      expect(parseEntry(s.entry).id).toBe(s.id);
    }
  });

  it("submissions are signed by the client key", async () => {
    for (const s of v.submissions) await verifyEntry(parseEntry(s.entry), clientKey);
  });

  it("the prev line names the first entry", () => {
    expect(v.submissions[2]!.entry).toContain(`\nprev ${v.submissions[0]!.id}\n`);
  });

  it("block hashes are SHA-256(0x00 ‖ header) and the headers chain", () => {
    for (const b of v.blocks) expect(sha256(Buffer.from([0]), b.header).toString("hex")).toBe(b.hash);
    expect(parseBlockHeader(v.blocks[1]!.header).prevHash).toEqual(blockHash(v.blocks[0]!.header));
    checkChainLink(v.blocks[0]!.header, v.blocks[1]!.header);
  });

  it("the history root is the RFC 6962 node hash of the two block hashes", () => {
    const node = sha256(Buffer.from([1]), Buffer.from(v.blocks[0]!.hash, "hex"), Buffer.from(v.blocks[1]!.hash, "hex"));
    expect(node.toString("base64")).toBe(v.checkpoint.historyRoot);
  });

  it("the checkpoint opens with the operator key and carries two member cosignatures", async () => {
    const opened = await openNote(v.checkpoint.note, [operatorKey, ...v.trust.members.map((m) => m.key)]);
    expect(parseCheckpoint(opened.text).size).toBe(2);
    expect(opened.verified.map((s) => s.name)).toEqual([v.trust.origin, v.trust.members[0]!.name, v.trust.members[1]!.name]);
  });

  it("the promise opens with the operator key", async () => {
    const p = await openPromise(v.promise.note, [operatorKey]);
    expect(p.id).toBe(v.submissions[0]!.id);
  });

  it("the salted commitment is SHA-256(salt ‖ SHA-256(document)), recomputed with node:crypto", () => {
    const documentDigest = createHash("sha256").update(v.salted.document).digest();
    expect(documentDigest.toString("hex")).toBe(v.salted.documentDigest);
    const commitment = createHash("sha256").update(Buffer.concat([Buffer.from(v.salted.salt, "base64"), documentDigest])).digest("hex");
    expect(commitment).toBe(v.salted.commitment);
  });

  it("trust v2: the recorded document parses to itself with the recorded fingerprints, and the example receipt verifies under it", async () => {
    expect(parseTrust(v.trustV2.document)).toEqual(v.trustV2.document);
    expect(trustFingerprint(v.trustV2.document)).toBe(v.trustV2.fingerprint);
    expect(trustFingerprint(v.trust)).toBe(v.trustV2.fingerprintV1);
    // The fingerprint is SHA-256 of the canonical JSON, as FORMATS says: recompute it independently.
    expect(createHash("sha256").update(JSON.stringify(v.trustV2.document)).digest("hex")).toBe(v.trustV2.fingerprint);
    const result = await verifyReceipt(v.receipt, v.trustV2.document, { document: new TextEncoder().encode(v.submissions[0]!.document) });
    expect(result.checkpointSize).toBe(2);
  });

  it("key records: both open, and replayed from block 1 they give the version-2 example's operator schedule", async () => {
    const { operator, member } = v.keyRecords;
    expect(entryId(operator.entry)).toBe(operator.id);
    expect(entryId(member.entry)).toBe(member.id);
    const rotation = await openKeyRecord(operator.entry, []);
    const schedule = KeySchedule.pinned(v.trust.operatorKeys, v.trust.members).apply(rotation, 1);
    expect(schedule.operator).toEqual(v.trustV2.document.operatorKeys);
    const b = await openKeyRecord(member.entry, schedule.operatorKeysBy(5));
    expect(schedule.apply(b, 5).memberKeys(b.name)).toEqual([
      { key: v.trust.members[1]!.key, from: 0, until: 6 },
      { key: b.new, from: 7 },
    ]);
  });

  it("signed requests: the text is the six lines of §10, the header carries its fields, and the signature verifies with node:crypto under the raw key", async () => {
    expect(v.signedRequests.map((r) => r.signer)).toEqual(["cairn vector client", "cairn vector member 0"]);
    for (const r of v.signedRequests) {
      const vkey = v.keys.find((k) => k.label === r.signer)!.verifierKey;
      const [name, id, material] = [vkey.slice(0, vkey.indexOf("+")), vkey.split("+").at(-2)!, Buffer.from(vkey.split("+").at(-1)!, "base64")];
      expect(r.text).toBe(`cairn-request/v1\n${v.trust.origin}\n${name}+${id}\n${r.time}\n${r.method}\n${r.target}\n`);
      const m = /^Cairn-Signed (\S+) (\d+) (\S+)$/.exec(r.authorization)!;
      expect([m[1], Number(m[2])]).toEqual([`${name}+${id}`, r.time]);
      const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: material.subarray(1).toString("base64url") }, format: "jwk" });
      expect(nodeVerify(null, Buffer.from(r.text), publicKey, Buffer.from(m[3]!, "base64"))).toBe(true);
    }
    // The member's key is a cosigner key (0x04), the client's a note key (0x01): the key ids commit to it.
    expect(v.signedRequests.map((r) => Buffer.from(v.keys.find((k) => k.label === r.signer)!.verifierKey.split("+").at(-1)!, "base64")[0])).toEqual([0x01, 0x04]);
  });

  it("the receipt verifies against the trust document and the document bytes", async () => {
    const result = await verifyReceipt(v.receipt, v.trust, { document: new TextEncoder().encode(v.submissions[0]!.document) });
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      ["receipt", "ok"],
      ["digest", "ok"],
      ["entry-signature", "ok"],
      ["inclusion", "ok"],
      ["history", "ok"],
      ["checkpoint-signature", "ok"],
      ["cosignatures", "ok"],
      ["time", "ok"],
    ]);
    expect(result.interval.from).toBe(result.submittedAt);
    expect(result.interval.by).toBeGreaterThanOrEqual(result.sealedAt);
  });
});
