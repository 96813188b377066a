/**
 * Key records (FORMATS.md §10): the format, who must sign, the schedule they
 * replay into, and verifyBlock refusing every rotation a single party could
 * forge.
 */
import { describe, expect, it } from "vitest";
import { formatBlockHeader } from "../../src/core/block.js";
import { fromHex, toHex, utf8 } from "../../src/core/bytes.js";
import { formatCheckpoint } from "../../src/core/checkpoint.js";
import { ClientRegistry, signClientRecord } from "../../src/core/client-record.js";
import { CairnError } from "../../src/core/errors.js";
import { sha256 } from "../../src/core/hash.js";
import {
  countersignKeyRecord,
  formatKeyRecord,
  keyRecordSigner,
  KeySchedule,
  openKeyRecord,
  parseKeyRecord,
  parseKeyRecordEntry,
  signMemberKeyRecord,
  signOperatorKeyRecord,
  type KeyRecordBody,
} from "../../src/core/key-record.js";
import { generateKeyPair, KEY_TYPE_COSIGNATURE_V1, noteSigner, parseSignerKey } from "../../src/core/keys.js";
import { leafHash, merkleRoot } from "../../src/core/merkle.js";
import { signNote } from "../../src/core/note.js";
import { signSubmission } from "../../src/core/submission.js";
import { verifyBlock, type ChainTip, type VerifiedBlock } from "../../src/core/verify-block.js";

const ORIGIN = "cairn.test/log";
const T = 1_800_000_000;
const pair = (label: string, name: string, type?: number) => generateKeyPair(name, sha256(utf8(`key-record test ${label}`)), type as never);
const op1 = pair("operator 1", ORIGIN);
const op2 = pair("operator 2", ORIGIN);
const op3 = pair("operator 3", ORIGIN);
const m1 = pair("member 1", "witness.bank-a.example", KEY_TYPE_COSIGNATURE_V1);
const m1next = pair("member 1 next", "witness.bank-a.example", KEY_TYPE_COSIGNATURE_V1);
const m1third = pair("member 1 third", "witness.bank-a.example", KEY_TYPE_COSIGNATURE_V1);
const alice = pair("alice", "alice.example");
const seed = (k: { signerKey: string }) => parseSignerKey(k.signerKey).seed;

const operatorBody = (old = op1, next = op2, time = T): KeyRecordBody => ({ origin: ORIGIN, role: "operator", old: old.verifierKey, new: next.verifierKey, time });
const memberBody = (old = m1, next = m1next, time = T): KeyRecordBody => ({ origin: ORIGIN, role: "member", old: old.verifierKey, new: next.verifierKey, time });

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<CairnError> {
  let e: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    e = err;
  }
  expect(e, `expected ${code}`).toBeInstanceOf(CairnError);
  expect((e as CairnError).code, (e as CairnError).message).toBe(code);
  return e as CairnError;
}

describe("key records: format", () => {
  it("round-trips, six lines, canonical", () => {
    const text = formatKeyRecord(operatorBody());
    expect(text).toBe(`cairn/key/v1\n${ORIGIN}\noperator\n${op1.verifierKey}\n${op2.verifierKey}\n${T}\n`);
    expect(parseKeyRecord(text)).toEqual({ ...operatorBody(), name: ORIGIN });
    expect(parseKeyRecord(formatKeyRecord(memberBody())).name).toBe("witness.bank-a.example");
  });

  it("refuses malformed and self-contradicting records", async () => {
    const good = formatKeyRecord(operatorBody());
    for (const bad of [
      good.replace("operator\n", "admin\n"),
      good.replace(`${T}\n`, `0${T}\n`),
      good + "extra\n",
      good.replace("cairn/key/v1", "cairn/key/v2"),
    ]) {
      await expectCode(() => parseKeyRecord(bad), "BAD_KEY_RECORD");
    }
    // Wrong key types, one key for both, names that do not fit the role.
    await expectCode(() => formatKeyRecord({ ...operatorBody(), new: m1.verifierKey }), "BAD_KEY_RECORD");
    await expectCode(() => formatKeyRecord({ ...memberBody(), new: op2.verifierKey }), "BAD_KEY_RECORD");
    await expectCode(() => formatKeyRecord(operatorBody(op1, op1)), "BAD_KEY_RECORD");
    await expectCode(() => formatKeyRecord({ ...memberBody(), new: pair("other member", "witness.bank-b.example", KEY_TYPE_COSIGNATURE_V1).verifierKey }), "BAD_KEY_RECORD");
    await expectCode(() => formatKeyRecord({ ...operatorBody(), origin: "other.test/log" }), "BAD_KEY_RECORD");
  });
});

describe("key records: signatures", () => {
  it("an operator record needs both the old and the new key", async () => {
    const entry = await signOperatorKeyRecord(operatorBody(), noteSigner(op1.signerKey), noteSigner(op2.signerKey));
    expect((await openKeyRecord(entry, [])).new).toBe(op2.verifierKey);
    // Only the new key: whoever holds a fresh key cannot take the log over.
    const onlyNew = await signNote(formatKeyRecord(operatorBody()), [noteSigner(op2.signerKey)]);
    await expectCode(() => parseKeyRecordEntry(onlyNew), "BAD_KEY_RECORD");
    // Two signatures, but the second by a third key instead of the new one.
    const wrong = await signNote(formatKeyRecord(operatorBody()), [noteSigner(op1.signerKey), noteSigner(op3.signerKey)]);
    await expectCode(openKeyRecord(wrong, []), "BAD_KEY_RECORD");
  });

  it("a member record needs the member's old and new key and an operator key", async () => {
    const half = await signMemberKeyRecord(memberBody(), seed(m1), seed(m1next));
    await expectCode(() => parseKeyRecordEntry(half), "BAD_KEY_RECORD");
    const entry = await countersignKeyRecord(half, noteSigner(op1.signerKey));
    expect((await openKeyRecord(entry, [op1.verifierKey])).name).toBe("witness.bank-a.example");
    // Countersigned by a key that is not the chain's operator.
    const stranger = await countersignKeyRecord(half, noteSigner(pair("stranger", ORIGIN).signerKey));
    await expectCode(openKeyRecord(stranger, [op1.verifierKey]), "BAD_KEY_RECORD");
  });

  it("the operator alone cannot move a member to a key of its choosing", async () => {
    // It names the member's real key as old, but can sign only with keys it holds.
    const forged = await signNote(formatKeyRecord(memberBody(m1, m1third)), [
      noteSigner(op1.signerKey),
      keyRecordSigner(seed(m1third), "witness.bank-a.example"),
      keyRecordSigner(seed(m1third), "witness.bank-a.example"),
    ]).catch(() => undefined);
    const withImpostorOld = await signNote(formatKeyRecord(memberBody(m1, m1third)), [
      noteSigner(op1.signerKey),
      keyRecordSigner(seed(pair("operator's made-up member key", "witness.bank-a.example", KEY_TYPE_COSIGNATURE_V1)), "witness.bank-a.example"),
      keyRecordSigner(seed(m1third), "witness.bank-a.example"),
    ]);
    for (const entry of [forged, withImpostorOld].filter((e): e is string => e !== undefined)) {
      await expectCode(openKeyRecord(entry, [op1.verifierKey]), "BAD_KEY_RECORD");
    }
  });

  it("a member's record signer signs key records of that member only, never a checkpoint", async () => {
    const signer = keyRecordSigner(seed(m1), "witness.bank-a.example");
    const checkpoint = formatCheckpoint({ origin: ORIGIN, size: 5, root: new Uint8Array(32) });
    await expectCode(signNote(checkpoint, [signer]), "BAD_KEY_RECORD");
    const otherMember = formatKeyRecord({ origin: ORIGIN, role: "member", old: pair("b1", "witness.bank-b.example", KEY_TYPE_COSIGNATURE_V1).verifierKey, new: pair("b2", "witness.bank-b.example", KEY_TYPE_COSIGNATURE_V1).verifierKey, time: T });
    await expectCode(signNote(otherMember, [signer]), "BAD_KEY_RECORD");
  });
});

describe("KeySchedule", () => {
  it("a record sealed in block h: the old key signs up to h + 1, the new one from h + 2", () => {
    const s0 = KeySchedule.pinned([op1.verifierKey], [{ name: "witness.bank-a.example", key: m1.verifierKey }]);
    const s1 = s0.apply(parseKeyRecord(formatKeyRecord(operatorBody())), 4);
    expect(s1.operator).toEqual([
      { key: op1.verifierKey, from: 0, until: 5 },
      { key: op2.verifierKey, from: 6 },
    ]);
    expect(s1.operatorKeysAt(5)).toEqual([op1.verifierKey]);
    expect(s1.operatorKeysAt(6)).toEqual([op2.verifierKey]);
    // Records of the blocks up to the rotation's may carry either key.
    expect(s1.operatorKeysBy(4)).toEqual([op1.verifierKey]);
    expect(s1.operatorKeysBy(5)).toEqual([op1.verifierKey, op2.verifierKey]);
    const s2 = s1.apply(parseKeyRecord(formatKeyRecord(memberBody())), 9);
    expect(s2.memberKeyAt("witness.bank-a.example", 10)).toBe(m1.verifierKey);
    expect(s2.memberKeyAt("witness.bank-a.example", 11)).toBe(m1next.verifierKey);
    expect(s0.operatorKeysAt(6)).toEqual([op1.verifierKey]); // immutable
  });

  it("refuses a record that does not retire the key in use, reuses a key, or rotates twice in a block", async () => {
    const s = KeySchedule.pinned([op1.verifierKey], [{ name: "witness.bank-a.example", key: m1.verifierKey }]);
    const rotated = s.apply(parseKeyRecord(formatKeyRecord(operatorBody())), 4);
    await expectCode(() => rotated.apply(parseKeyRecord(formatKeyRecord(operatorBody(op1, op3))), 7), "KEY_RECORD_CONFLICT");
    await expectCode(() => rotated.apply(parseKeyRecord(formatKeyRecord(operatorBody(op2, op1))), 7), "KEY_RECORD_CONFLICT");
    await expectCode(() => rotated.apply(parseKeyRecord(formatKeyRecord(operatorBody(op2, op3))), 4), "KEY_RECORD_CONFLICT");
    expect(rotated.apply(parseKeyRecord(formatKeyRecord(operatorBody(op2, op3))), 5).operatorKeysAt(7)).toEqual([op3.verifierKey]);
    await expectCode(() => s.apply(parseKeyRecord(formatKeyRecord(memberBody(m1next, m1third))), 3), "KEY_RECORD_CONFLICT");
    // A member's new key may not be a key the chain used in any role.
    const op2KeyAsMember = { origin: ORIGIN, role: "member" as const, old: m1.verifierKey, new: generateKeyPair("witness.bank-a.example", sha256(utf8("key-record test operator 2")), KEY_TYPE_COSIGNATURE_V1).verifierKey, time: T };
    await expectCode(() => rotated.apply(parseKeyRecord(formatKeyRecord(op2KeyAsMember)), 8), "KEY_RECORD_CONFLICT");
  });
});

describe("verifyBlock with key records", () => {
  const leaves = (entries: readonly string[]) => entries.map((e) => leafHash(utf8(e)));
  const block = (tip: ChainTip | undefined, entries: string[]) => ({
    header: formatBlockHeader({ origin: ORIGIN, height: tip === undefined ? 0 : tip.height + 1, prevHash: tip === undefined ? new Uint8Array(32) : fromHex(tip.hash), size: entries.length, root: merkleRoot(leaves(entries)), sealedAt: (tip?.sealedAt ?? T) + 10 }),
    entries,
  });
  const options = (keys: KeySchedule) => ({ origin: ORIGIN, keys, now: T + 1000, maxSkewSeconds: 60, timeWindowSeconds: 300 });
  const tipOf = (v: VerifiedBlock): ChainTip => ({ height: v.header.height, hash: toHex(v.hash), sealedAt: v.header.sealedAt });
  const register = (key: string, signer: string) => signClientRecord({ origin: ORIGIN, action: "register", key, time: T }, noteSigner(signer));

  it("threads the schedule: after an operator rotation, records by the new key count and the witness knows whom to expect", async () => {
    const pinned = KeySchedule.pinned([op1.verifierKey]);
    const b0 = block(undefined, [await register(alice.verifierKey, op1.signerKey), await signOperatorKeyRecord(operatorBody(), noteSigner(op1.signerKey), noteSigner(op2.signerKey))]);
    const v0 = await verifyBlock(undefined, b0.header, b0.entries, ClientRegistry.empty(), options(pinned));
    expect(v0.records).toBe(2);
    expect(v0.keys.operatorKeysAt(1)).toEqual([op1.verifierKey]);
    expect(v0.keys.operatorKeysAt(2)).toEqual([op2.verifierKey]);
    const bob = pair("bob", "bob.example");
    const b1 = block(tipOf(v0), [await register(bob.verifierKey, op2.signerKey), await signSubmission({ origin: ORIGIN, digest: sha256(utf8("d")), time: T }, noteSigner(alice.signerKey))]);
    const v1 = await verifyBlock(tipOf(v0), b1.header, b1.entries, v0.registry, options(v0.keys));
    expect(v1.registry.lookup("bob.example")?.status).toBe("active");
    // The same block judged with the schedule before the rotation: the new key is nobody's.
    await expectCode(verifyBlock(tipOf(v0), b1.header, b1.entries, v0.registry, options(pinned)), "BAD_CLIENT_RECORD");
  });

  it("refuses a rotation that does not start from the key in use, with KEY_RECORD_CONFLICT", async () => {
    const b0 = block(undefined, [await signOperatorKeyRecord(operatorBody(op3, op2), noteSigner(op3.signerKey), noteSigner(op2.signerKey))]);
    await expectCode(verifyBlock(undefined, b0.header, b0.entries, ClientRegistry.empty(), options(KeySchedule.pinned([op1.verifierKey]))), "KEY_RECORD_CONFLICT");
  });

  it("refuses a member record countersigned by a key that is not the chain's operator", async () => {
    const half = await signMemberKeyRecord(memberBody(), seed(m1), seed(m1next));
    const b0 = block(undefined, [await countersignKeyRecord(half, noteSigner(op3.signerKey))]);
    await expectCode(verifyBlock(undefined, b0.header, b0.entries, ClientRegistry.empty(), options(KeySchedule.pinned([op1.verifierKey]))), "BAD_KEY_RECORD");
    const good = block(undefined, [await countersignKeyRecord(half, noteSigner(op1.signerKey))]);
    const v = await verifyBlock(undefined, good.header, good.entries, ClientRegistry.empty(), options(KeySchedule.pinned([op1.verifierKey])));
    expect(v.keys.memberKeyAt("witness.bank-a.example", 2)).toBe(m1next.verifierKey);
  });
});
