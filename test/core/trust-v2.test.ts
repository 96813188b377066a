/**
 * Trust documents v2 (FORMATS.md §8): keys that rotate, each scheduled for
 * the checkpoint sizes it may sign, and members' ML-DSA-44 cosignatures
 * required by a post-quantum quorum. Real fixture chains, real Ed25519 and
 * ML-DSA-44 signatures, verified with core's ReceiptVerifier.
 */
import { describe, expect, it } from "vitest";
import {
  blockHash,
  cosign,
  formatCheckpoint,
  generateKeyPair,
  isCairnError,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  KEY_TYPE_COSIGNATURE_V1,
  merkleRoot,
  mldsaCosign,
  noteSigner,
  parseSignerKey,
  parseTrust,
  sha256,
  signNote,
  trustFingerprint,
  utf8,
  verifyReceipt,
  type ReceiptJson,
  type TrustV2,
} from "../../src/core/index.js";
import { buildChain, documentOf, keyPair, members, operator, ORIGIN, T0, trust as trustV1 } from "./chain-fixture.js";

const NOW = T0 + 1000;
const newOperator = keyPair("fixture operator, second key", ORIGIN);
const newM1 = keyPair("fixture m1.example, second key", "m1.example", KEY_TYPE_COSIGNATURE_V1);
const pq = members.map((m) => ({ name: m.name, ...generateKeyPair(m.name, sha256(utf8(`fixture pq ${m.name}`)), KEY_TYPE_COSIGNATURE_MLDSA44) }));

/** The fixture's consortium after a rotation at checkpoint size 3: new operator key, new key for m1. */
const rotated: TrustV2 = {
  version: "cairn-trust/v2",
  origin: ORIGIN,
  operatorKeys: [
    { key: operator.verifierKey, from: 0, until: 2 },
    { key: newOperator.verifierKey, from: 3 },
  ],
  members: [
    { name: "m1.example", keys: [{ key: members[0]!.verifierKey, from: 0, until: 2 }, { key: newM1.verifierKey, from: 3 }] },
    { name: "m2.example", keys: [{ key: members[1]!.verifierKey, from: 0 }] },
    { name: "m3.example", keys: [{ key: members[2]!.verifierKey, from: 0 }] },
  ],
  quorum: 2,
  pqQuorum: 0,
};

/** A checkpoint of `chain`'s history signed by `op` and cosigned by the given (name, signer seed) pairs. */
async function checkpointOf(headers: readonly string[], op: string, cosigners: { name: string; signerKey: string; pq?: boolean }[], at = T0 + 100): Promise<string> {
  let note = await signNote(formatCheckpoint({ origin: ORIGIN, size: headers.length, root: merkleRoot(headers.map(blockHash)) }), [noteSigner(op)]);
  for (const c of cosigners) {
    const seed = parseSignerKey(c.signerKey).seed;
    note = c.pq ? await mldsaCosign(note, seed, c.name, at) : await cosign(note, seed, c.name, at);
  }
  return note;
}

function withCheckpoint(r: ReceiptJson, checkpoint: string): ReceiptJson {
  return { ...r, checkpoint };
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isCairnError(e)) return e.code;
    throw e;
  }
  return "OK";
}

describe("trust v2: keys that rotate", () => {
  it("an old receipt verifies under the retired key it was made with; a new one under the new keys", async () => {
    const old = await buildChain([2, 1]); // checkpoint of 2 blocks: old operator key, m1 and m2 (old m1 key)
    expect((await verifyReceipt(old.receipts[0]![0], rotated, { document: documentOf(0, 0), now: NOW })).cosigners).toEqual(["m1.example", "m2.example"]);

    const grown = await buildChain([2, 1, 3]);
    const fresh = await checkpointOf(grown.headers, newOperator.signerKey, [{ name: "m1.example", signerKey: newM1.signerKey }, { name: "m2.example", signerKey: members[1]!.signerKey }]);
    const result = await verifyReceipt(withCheckpoint(grown.receipts[2]![0]!, fresh), rotated, { document: documentOf(2, 0), now: NOW });
    expect(result.checkpointSize).toBe(3);
    expect(result.cosigners).toEqual(["m1.example", "m2.example"]);
  });

  it("a checkpoint signed with the retired operator key after its retirement fails with KEY_NOT_VALID", async () => {
    const grown = await buildChain([2, 1, 3]);
    const stale = await checkpointOf(grown.headers, operator.signerKey, [{ name: "m2.example", signerKey: members[1]!.signerKey }, { name: "m3.example", signerKey: members[2]!.signerKey }]);
    expect(await failure(verifyReceipt(withCheckpoint(grown.receipts[2]![0]!, stale), rotated, { document: documentOf(2, 0), now: NOW }))).toBe("KEY_NOT_VALID");
    // The new key cannot reach back before its time either.
    const small = await buildChain([2, 1]);
    const early = await checkpointOf(small.headers, newOperator.signerKey, [{ name: "m2.example", signerKey: members[1]!.signerKey }, { name: "m3.example", signerKey: members[2]!.signerKey }]);
    expect(await failure(verifyReceipt(withCheckpoint(small.receipts[0]![0]!, early), rotated, { document: documentOf(0, 0), now: NOW }))).toBe("KEY_NOT_VALID");
  });

  it("a member's retired cosigner key does not count after its retirement", async () => {
    const grown = await buildChain([2, 1, 3]);
    const note = await checkpointOf(grown.headers, newOperator.signerKey, [{ name: "m1.example", signerKey: members[0]!.signerKey }, { name: "m2.example", signerKey: members[1]!.signerKey }]);
    expect(await failure(verifyReceipt(withCheckpoint(grown.receipts[2]![0]!, note), rotated, { document: documentOf(2, 0), now: NOW }))).toBe("QUORUM_NOT_MET");
  });

  it("a v1 document is read as before: same fields, same fingerprint, every key valid at every size", async () => {
    expect(parseTrust(trustV1)).toEqual(trustV1);
    expect(trustFingerprint(JSON.parse(JSON.stringify(trustV1)))).toBe(trustFingerprint(trustV1));
    const chain = await buildChain([1, 1, 1, 1, 1, 1]);
    await expect(verifyReceipt(chain.receipts[5]![0], trustV1, { document: documentOf(5, 0), now: NOW })).resolves.toBeDefined();
  });
});

describe("trust v2: post-quantum cosignatures", () => {
  const pqTrust = (pqQuorum: number): TrustV2 => ({
    version: "cairn-trust/v2",
    origin: ORIGIN,
    operatorKeys: [{ key: operator.verifierKey, from: 0 }],
    members: members.map((m, i) => ({ name: m.name, keys: [{ key: m.verifierKey, from: 0 }, { key: pq[i]!.verifierKey, from: 0 }] })),
    quorum: 2,
    pqQuorum,
  });

  it("a pqQuorum is met only by that many members' ML-DSA-44 cosignatures", async () => {
    const chain = await buildChain([2]);
    const receipt = chain.receipts[0]![0]!;
    // The fixture checkpoint holds Ed25519 cosignatures only.
    expect(await failure(verifyReceipt(receipt, pqTrust(2), { document: documentOf(0, 0), now: NOW }))).toBe("PQ_QUORUM_NOT_MET");
    expect(await failure(verifyReceipt(receipt, pqTrust(0), { document: documentOf(0, 0), now: NOW }))).toBe("OK");

    const both = await checkpointOf(chain.headers, operator.signerKey, [
      { name: "m1.example", signerKey: members[0]!.signerKey },
      { name: "m1.example", signerKey: pq[0]!.signerKey, pq: true },
      { name: "m2.example", signerKey: members[1]!.signerKey },
    ]);
    expect(await failure(verifyReceipt(withCheckpoint(receipt, both), pqTrust(2), { document: documentOf(0, 0), now: NOW }))).toBe("PQ_QUORUM_NOT_MET");
    const enough = await mldsaCosign(both, parseSignerKey(pq[2]!.signerKey).seed, "m3.example", T0 + 150);
    const result = await verifyReceipt(withCheckpoint(receipt, enough), pqTrust(2), { document: documentOf(0, 0), now: NOW });
    expect([...result.cosigners].sort()).toEqual(["m1.example", "m2.example", "m3.example"]);
    // The policy held once the second post-quantum cosignature was made.
    expect(result.interval.by).toBe(T0 + 150);
    // One member's two signatures count once towards the quorum.
    const single = await checkpointOf(chain.headers, operator.signerKey, [
      { name: "m1.example", signerKey: members[0]!.signerKey },
      { name: "m1.example", signerKey: pq[0]!.signerKey, pq: true },
    ]);
    expect(await failure(verifyReceipt(withCheckpoint(receipt, single), pqTrust(1), { document: documentOf(0, 0), now: NOW }))).toBe("QUORUM_NOT_MET");
  });

  it("a post-quantum cosignature dated outside the window does not count", async () => {
    const chain = await buildChain([2]);
    const early = await checkpointOf(chain.headers, operator.signerKey, [
      { name: "m1.example", signerKey: members[0]!.signerKey },
      { name: "m2.example", signerKey: members[1]!.signerKey },
      { name: "m2.example", signerKey: pq[1]!.signerKey, pq: true },
    ]);
    const late = await mldsaCosign(early, parseSignerKey(pq[0]!.signerKey).seed, "m1.example", NOW + 10_000);
    expect(await failure(verifyReceipt(withCheckpoint(chain.receipts[0]![0]!, late), pqTrust(2), { document: documentOf(0, 0), now: NOW }))).toBe("COSIGNATURE_TIME_INVALID");
  });
});

describe("trust v2: documents refused", () => {
  const base = (): Record<string, unknown> => JSON.parse(JSON.stringify(rotated));
  const code = (doc: unknown) => {
    try {
      parseTrust(doc);
      return "OK";
    } catch (e) {
      return isCairnError(e) ? e.code : "THREW";
    }
  };

  it("accepts the rotated consortium and gives it a fingerprint of its own", () => {
    expect(code(rotated)).toBe("OK");
    expect(trustFingerprint(rotated)).not.toBe(trustFingerprint(trustV1));
  });

  it("refuses ranges that end before they begin, and sizes that are not counts", () => {
    const d = base();
    (d.operatorKeys as { until?: number }[])[0]!.until = -1;
    expect(code(d)).toBe("BAD_TRUST");
    const e = base();
    (e.operatorKeys as { from?: unknown }[])[1]!.from = "3";
    expect(code(e)).toBe("BAD_TRUST");
    const f = base();
    Object.assign((f.operatorKeys as object[])[0]!, { from: 5, until: 4 });
    expect(code(f)).toBe("BAD_TRUST");
  });

  it("refuses one key twice (for one member or two, or for the operator), and a pqQuorum its members cannot meet", () => {
    const d = base();
    const m2 = (d.members as { keys: unknown[] }[])[1]!;
    m2.keys.push({ key: members[1]!.verifierKey, from: 5 });
    expect(code(d)).toBe("TRUST_DUPLICATE_KEY");
    const e = base();
    (e.operatorKeys as unknown[]).push({ key: operator.verifierKey, from: 9 });
    expect(code(e)).toBe("TRUST_DUPLICATE_KEY");
    const f = base();
    f.pqQuorum = 1; // nobody holds an ML-DSA-44 key
    expect(code(f)).toBe("TRUST_BAD_QUORUM");
    const g = base();
    (g.members as { keys: unknown[] }[])[0]!.keys = [];
    expect(code(g)).toBe("BAD_TRUST");
  });

  it("refuses ML-DSA-44 member keys in a v1 document, which has no way to schedule or require them", () => {
    expect(code({ ...trustV1, members: [{ name: "m1.example", key: pq[0]!.verifierKey }, ...trustV1.members.slice(1)] })).toBe("BAD_TRUST");
  });
});
