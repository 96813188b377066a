import fc from "fast-check";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { describe, expect, it } from "vitest";
import { concatBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from "../../src/core/bytes.js";
import { formatCheckpoint } from "../../src/core/checkpoint.js";
import { cosign, cosignatureVerifier } from "../../src/core/cosignature.js";
import { ed25519PublicKey } from "../../src/core/ed25519.js";
import { CairnError } from "../../src/core/errors.js";
import { sha256 } from "../../src/core/hash.js";
import {
  formatSignerKey,
  formatVerifierKey,
  generateKeyPair,
  keyId,
  keyIdHex,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  KEY_TYPE_COSIGNATURE_V1,
  noteSigner,
  noteVerifier,
  parseSignerKey,
  parseVerifierKey,
} from "../../src/core/keys.js";
import {
  mldsa44PublicKey,
  mldsaCosign,
  mldsaCosignatureVerifier,
  mldsaCosignedMessage,
  mldsaCosigner,
  MLDSA_COSIGNATURE_SIZE,
} from "../../src/core/mldsa-cosignature.js";
import { formatNote, openNote, parseNote, signNote } from "../../src/core/note.js";
import vectors from "../vectors/mldsa44-cosignature.json" with { type: "json" };

const LOG = "example.com/log";
const log = generateKeyPair(LOG, new Uint8Array(32).fill(1));
const WITNESS = "witness.example/pq";
const SEED = new Uint8Array(32).fill(3);
const witness = generateKeyPair(WITNESS, SEED, KEY_TYPE_COSIGNATURE_MLDSA44);
const ROOT = new Uint8Array(32).fill(9);
const T = 1_700_000_000;

async function signedCheckpoint(c: { origin?: string; size?: number; root?: Uint8Array; extensions?: string[] } = {}): Promise<string> {
  const body = formatCheckpoint({ origin: c.origin ?? LOG, size: c.size ?? 5, root: c.root ?? ROOT, extensions: c.extensions ?? [] });
  return signNote(body, [noteSigner(log.signerKey)]);
}

/** The ML-DSA cosignature line of `note`, moved under another text, name or key id (to test what it binds). */
function moved(note: string, change: { text?: string; name?: string; keyId?: number; signature?: Uint8Array }): string {
  const p = parseNote(note);
  const sig = p.signatures.find((s) => s.name === WITNESS)!;
  return formatNote(change.text ?? p.text, [
    { name: change.name ?? sig.name, keyId: change.keyId ?? sig.keyId, signature: change.signature ?? sig.signature },
  ]);
}

/** The signature bytes (after the key id) of `name`'s line. */
function signatureOf(note: string, name = WITNESS): Uint8Array {
  return parseNote(note).signatures.find((s) => s.name === name)!.signature;
}

describe("noble's ML-DSA-44 against facts established without it", () => {
  it("FIPS 204 Table 2 sizes: public key 1312, private key 2560, signature 2420 bytes", () => {
    const { publicKey, secretKey } = ml_dsa44.keygen(SEED);
    expect(publicKey).toHaveLength(1312);
    expect(secretKey).toHaveLength(2560);
    expect(ml_dsa44.sign(utf8("x"), secretKey)).toHaveLength(2420);
  });

  it("C2SP httpsig-pq's ML-DSA-44 vector: the key from its seed, the deterministic signature, verification", () => {
    const v = vectors.fips204;
    const message = fromBase64(v.messageBase64);
    expect(toHex(sha256(message))).toBe(v.messageSha256);
    const { publicKey, secretKey } = ml_dsa44.keygen(fromHex(v.seedHex));
    expect(toBase64(publicKey)).toBe(v.publicKeyBase64);
    expect(toBase64(mldsa44PublicKey(fromHex(v.seedHex)))).toBe(v.publicKeyBase64);
    // What mldsaCosigner calls, with the same options: pure ML-DSA, empty context.
    const sig = ml_dsa44.sign(message, secretKey, { context: new Uint8Array(0), extraEntropy: false });
    expect(toBase64(sig)).toBe(v.signatureBase64);
    expect(ml_dsa44.verify(sig, message, publicKey, { context: new Uint8Array(0) })).toBe(true);
    // A non-empty context is another message: the spec's empty one is not noble's no-op.
    expect(ml_dsa44.verify(sig, message, publicKey, { context: Uint8Array.of(0) })).toBe(false);
  });
});

describe("type 0x06 keys", () => {
  it("key id is SHA-256(name || 0x0a || 0x06 || 1312-byte key)[:4]; vkey and signer key round trip", () => {
    const pk = mldsa44PublicKey(SEED);
    const h = sha256(concatBytes(utf8(WITNESS), Uint8Array.of(0x0a, 0x06), pk));
    const id = keyIdHex(((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0);
    expect(witness.verifierKey).toBe(`${WITNESS}+${id}+${toBase64(concatBytes(Uint8Array.of(0x06), pk))}`);
    const k = parseVerifierKey(witness.verifierKey);
    expect(k).toMatchObject({ name: WITNESS, type: KEY_TYPE_COSIGNATURE_MLDSA44, keyId: parseInt(id, 16) });
    expect(k.publicKey).toEqual(pk);
    expect(formatVerifierKey(WITNESS, KEY_TYPE_COSIGNATURE_MLDSA44, k.publicKey)).toBe(witness.verifierKey);

    expect(witness.signerKey).toBe(`PRIVATE+KEY+${WITNESS}+${id}+${toBase64(concatBytes(Uint8Array.of(0x06), SEED))}`);
    const s = parseSignerKey(witness.signerKey);
    expect(s).toMatchObject({ name: WITNESS, type: KEY_TYPE_COSIGNATURE_MLDSA44, keyId: parseInt(id, 16) });
    expect(s.seed).toEqual(SEED);
    expect(s.publicKey).toEqual(pk);
    expect(formatSignerKey(WITNESS, KEY_TYPE_COSIGNATURE_MLDSA44, SEED)).toBe(witness.signerKey);

    // The same bytes under type 0x04 would be another key id (and not a key at all here).
    expect(keyId(WITNESS, KEY_TYPE_COSIGNATURE_V1, pk)).not.toBe(k.keyId);
    expect(noteVerifier(witness.verifierKey).type).toBe(KEY_TYPE_COSIGNATURE_MLDSA44);
  });

  it("refuses a 1311- or 1313-byte key (with a matching id), and short or long seeds", () => {
    const pk = mldsa44PublicKey(SEED);
    for (const bad of [pk.subarray(0, 1311), concatBytes(pk, Uint8Array.of(0)), pk.subarray(0, 32)]) {
      const vkey = `${WITNESS}+${keyIdHex(keyId(WITNESS, 0x06, bad))}+${toBase64(concatBytes(Uint8Array.of(0x06), bad))}`;
      expect(() => parseVerifierKey(vkey)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
      expect(() => formatVerifierKey(WITNESS, 0x06, bad)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
    }
    expect(() => generateKeyPair(WITNESS, new Uint8Array(31), 0x06)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
    const longSeed = `PRIVATE+KEY+${WITNESS}+00000000+${toBase64(concatBytes(Uint8Array.of(0x06), new Uint8Array(33)))}`;
    expect(() => parseSignerKey(longSeed)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
  });

  it("Ed25519 types still demand 32 bytes: a 1312-byte key under 0x04 is refused", () => {
    const pk = mldsa44PublicKey(SEED);
    const vkey = `${WITNESS}+${keyIdHex(keyId(WITNESS, 0x04, pk))}+${toBase64(concatBytes(Uint8Array.of(0x04), pk))}`;
    expect(() => parseVerifierKey(vkey)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
  });

  it("refuses names that do not fit the signed message's one-byte length", () => {
    const long = "w".repeat(250) + ".ü.ü"; // 256 bytes of UTF-8
    expect(() => generateKeyPair(long, SEED, 0x06)).toThrow(expect.objectContaining({ code: "BAD_KEY_NAME" }));
    expect(() => mldsaCosigner(SEED, long, T)).toThrow(expect.objectContaining({ code: "BAD_KEY_NAME" }));
    expect(generateKeyPair("w".repeat(255), SEED, 0x06).verifierKey).toMatch(/^w{255}\+/);
  });

  it("noteSigner refuses 0x06 signer keys; the 0x04 verifier refuses 0x06 keys and vice versa", () => {
    expect(() => noteSigner(witness.signerKey)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_ALGORITHM" }));
    expect(() => cosignatureVerifier(witness.verifierKey)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
    const ed = generateKeyPair(WITNESS, SEED, KEY_TYPE_COSIGNATURE_V1);
    expect(() => mldsaCosignatureVerifier(ed.verifierKey)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
  });
});

describe("cosigned_message", () => {
  it("is the struct of the spec, byte for byte (C2SP's example checkpoint)", () => {
    const body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    const expected =
      // uint8 label[12] = "subtree/v1\n\0": s u b t r e e / v 1 LF NUL
      "737562747265652f76310a00" +
      // opaque cosigner_name<1..2^8-1>: one length byte (22 = 0x16), then "witness.example.com/w1"
      "16" + "7769746e6573732e6578616d706c652e636f6d2f7731" +
      // uint64 timestamp, big-endian: 1679315147 = 0x641850cb (the spec's example cosignature carries these 8 bytes too)
      "00000000641850cb" +
      // opaque log_origin<1..2^8-1>: 27 = 0x1b, then "example.com/behind-the-sofa" (the origin line without its LF)
      "1b" + "6578616d706c652e636f6d2f626568696e642d7468652d736f6661" +
      // uint64 start = 0: a checkpoint is the subtree [0, size)
      "0000000000000000" +
      // uint64 end = size: 20852163 = 0x013e2dc3
      "00000000013e2dc3" +
      // uint8 hash[32]: the root, base64-decoded from the third line
      "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62";
    const m = mldsaCosignedMessage(body, "witness.example.com/w1", 1679315147);
    expect(toHex(m)).toBe(expected);
    expect(m).toHaveLength(12 + 1 + 22 + 8 + 1 + 27 + 8 + 8 + 32);
    expect(mldsaCosignedMessage(utf8(body), "witness.example.com/w1", 1679315147)).toEqual(m);
  });

  it("leaves out extension lines, and commits to name and timestamp", () => {
    const plain = formatCheckpoint({ origin: LOG, size: 5, root: ROOT });
    const ext = formatCheckpoint({ origin: LOG, size: 5, root: ROOT, extensions: ["ext"] });
    expect(mldsaCosignedMessage(ext, WITNESS, T)).toEqual(mldsaCosignedMessage(plain, WITNESS, T));
    expect(mldsaCosignedMessage(plain, WITNESS + "2", T)).not.toEqual(mldsaCosignedMessage(plain, WITNESS, T));
    expect(mldsaCosignedMessage(plain, WITNESS, T + 1)).not.toEqual(mldsaCosignedMessage(plain, WITNESS, T));
  });

  it("refuses what the struct cannot hold, with CairnErrors", () => {
    const ok = formatCheckpoint({ origin: "o".repeat(255), size: 1, root: ROOT });
    expect(mldsaCosignedMessage(ok, WITNESS, 0)[13 + WITNESS.length + 8]).toBe(255);
    const tooLong = formatCheckpoint({ origin: "o".repeat(256), size: 1, root: ROOT });
    expect(() => mldsaCosignedMessage(tooLong, WITNESS, T)).toThrow(expect.objectContaining({ code: "BAD_CHECKPOINT" }));
    expect(() => mldsaCosignedMessage(ok, "n".repeat(256), T)).toThrow(expect.objectContaining({ code: "BAD_KEY_NAME" }));
    expect(() => mldsaCosignedMessage(ok, "", T)).toThrow(expect.objectContaining({ code: "BAD_KEY_NAME" }));
    expect(() => mldsaCosignedMessage("not a checkpoint\n", WITNESS, T)).toThrow(expect.objectContaining({ code: "BAD_CHECKPOINT" }));
    expect(() => mldsaCosignedMessage(Uint8Array.of(0xff, 0x0a), WITNESS, T)).toThrow(expect.objectContaining({ code: "BAD_CHECKPOINT" }));
    for (const t of [-1, 1.5, 2 ** 53, Number.NaN]) {
      expect(() => mldsaCosignedMessage(ok, WITNESS, t)).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
      expect(() => mldsaCosigner(SEED, WITNESS, t)).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
    }
  });
});

describe("ML-DSA-44 cosigning", () => {
  it("a cosignature verifies in openNote next to the operator's Ed25519 signature, with its timestamp", async () => {
    const note = await signedCheckpoint();
    const cosigned = await mldsaCosign(note, SEED, WITNESS, T);
    expect(cosigned.startsWith(note)).toBe(true);
    expect(signatureOf(cosigned)).toHaveLength(MLDSA_COSIGNATURE_SIZE);
    const n = await openNote(cosigned, [log.verifierKey, witness.verifierKey]);
    expect(n.verified).toEqual([
      { name: LOG, keyId: parseVerifierKey(log.verifierKey).keyId, type: 1 },
      { name: WITNESS, keyId: parseVerifierKey(witness.verifierKey).keyId, type: 6, timestamp: T },
    ]);
    // Side by side with an Ed25519 cosignature by another witness.
    const both = await cosign(cosigned, new Uint8Array(32).fill(2), "witness.example/ed", T + 1);
    const edKey = formatVerifierKey("witness.example/ed", KEY_TYPE_COSIGNATURE_V1, ed25519PublicKey(new Uint8Array(32).fill(2)));
    const opened = await openNote(both, [log.verifierKey, witness.verifierKey, edKey]);
    expect(opened.verified.map((v) => [v.type, v.timestamp])).toEqual([[1, undefined], [6, T], [4, T + 1]]);
  });

  it("signing is hedged by default: two cosignatures differ and both verify", async () => {
    const note = await signedCheckpoint();
    const a = signatureOf(await mldsaCosign(note, SEED, WITNESS, T));
    const b = signatureOf(await mldsaCosign(note, SEED, WITNESS, T));
    expect(toHex(a)).not.toBe(toHex(b));
    const v = mldsaCosignatureVerifier(witness.verifierKey);
    const text = utf8(parseNote(note).text);
    expect(await v.verify(text, a)).toEqual({ ok: true, timestamp: T });
    expect(await v.verify(text, b)).toEqual({ ok: true, timestamp: T });
    const d1 = await mldsaCosign(note, SEED, WITNESS, T, { deterministic: true });
    expect(await mldsaCosign(note, SEED, WITNESS, T, { deterministic: true })).toBe(d1);
  });

  it("cosigning again replaces the older cosignature", async () => {
    const once = await mldsaCosign(await signedCheckpoint(), SEED, WITNESS, 100);
    const twice = await mldsaCosign(once, SEED, WITNESS, 200);
    expect(parseNote(twice).signatures).toHaveLength(2);
    expect((await openNote(twice, [witness.verifierKey])).verified[0]!.timestamp).toBe(200);
  });

  it("a cosignature fails over a changed root, size, origin, cosigner name or timestamp", async () => {
    const cosigned = await mldsaCosign(await signedCheckpoint(), SEED, WITNESS, T);
    // Unchanged, it opens alone.
    await expect(openNote(moved(cosigned, {}), [witness.verifierKey])).resolves.toBeDefined();
    const root = ROOT.slice();
    root[31] = root[31]! ^ 1;
    const texts = [
      formatCheckpoint({ origin: LOG, size: 5, root }),
      formatCheckpoint({ origin: LOG, size: 6, root: ROOT }),
      formatCheckpoint({ origin: LOG + "2", size: 5, root: ROOT }),
    ];
    for (const text of texts) {
      await expect(openNote(moved(cosigned, { text }), [witness.verifierKey])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
    }
    // The same public key under another name: the name is in the message.
    const pk = parseVerifierKey(witness.verifierKey).publicKey;
    const renamed = formatVerifierKey("witness.example/other", 0x06, pk);
    const renamedNote = moved(cosigned, { name: "witness.example/other", keyId: parseVerifierKey(renamed).keyId });
    await expect(openNote(renamedNote, [renamed])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
    // Another timestamp in the signature line.
    const sig = signatureOf(cosigned).slice();
    sig[7] = sig[7]! ^ 1;
    await expect(openNote(moved(cosigned, { signature: sig }), [witness.verifierKey])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  });

  it("extension lines may change under an ML-DSA cosignature (the spec leaves them out)", async () => {
    const cosigned = await mldsaCosign(await signedCheckpoint({ extensions: ["ext"] }), SEED, WITNESS, T);
    const text = formatCheckpoint({ origin: LOG, size: 5, root: ROOT, extensions: ["other"] });
    const n = await openNote(moved(cosigned, { text }), [witness.verifierKey]);
    expect(n.verified[0]!.timestamp).toBe(T);
  });

  it("an 0x06 signature does not verify under a 0x04 key of the same name, nor the reverse", async () => {
    const note = await signedCheckpoint();
    const text = utf8(parseNote(note).text);
    const ed = generateKeyPair(WITNESS, SEED, KEY_TYPE_COSIGNATURE_V1);
    const edSeed = parseSignerKey(ed.signerKey).seed;
    const pq = await mldsaCosign(note, SEED, WITNESS, T);
    const classic = await cosign(note, edSeed, WITNESS, T);
    const pqSig = signatureOf(pq);
    const edSig = signatureOf(classic);
    expect((await noteVerifier(ed.verifierKey).verify(text, pqSig)).ok).toBe(false);
    expect((await noteVerifier(witness.verifierKey).verify(text, edSig)).ok).toBe(false);
    // In a note, the other type's line has another key id, so it is an unknown key...
    await expect(openNote(moved(pq, {}), [ed.verifierKey])).rejects.toMatchObject({ code: "NOTE_UNVERIFIED" });
    await expect(openNote(moved(classic, {}), [witness.verifierKey])).rejects.toMatchObject({ code: "NOTE_UNVERIFIED" });
    // ...and under the other type's key id it is a failed signature.
    const edId = parseVerifierKey(ed.verifierKey).keyId;
    await expect(openNote(moved(pq, { keyId: edId }), [ed.verifierKey])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
    const pqId = parseVerifierKey(witness.verifierKey).keyId;
    await expect(openNote(moved(classic, { keyId: pqId }), [witness.verifierKey])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  });

  it("truncated, oversized, garbage or far-future signatures fail cleanly", async () => {
    const cosigned = await mldsaCosign(await signedCheckpoint(), SEED, WITNESS, T);
    const v = mldsaCosignatureVerifier(witness.verifierKey);
    const text = utf8(parseNote(cosigned).text);
    const good = signatureOf(cosigned);
    const huge = good.slice();
    huge[0] = 0xff; // timestamp > 2^53 - 1
    const random = concatBytes(good.subarray(0, 8), fc.sample(fc.uint8Array({ minLength: 2420, maxLength: 2420 }), { numRuns: 1, seed: 7 })[0]!);
    const bad = [good.subarray(0, 1), good.subarray(0, 7), good.subarray(0, 8), good.subarray(0, MLDSA_COSIGNATURE_SIZE - 1), concatBytes(good, Uint8Array.of(0)), huge, random];
    for (const sig of bad) {
      expect(await v.verify(text, sig)).toEqual({ ok: false });
      const err = await openNote(moved(cosigned, { signature: sig }), [witness.verifierKey]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CairnError);
      expect(err).toMatchObject({ code: "BAD_SIGNATURE" });
    }
    // A text that is not a checkpoint cannot carry a valid cosignature.
    expect(await v.verify(utf8("not a checkpoint\n"), good)).toEqual({ ok: false });
    expect(await v.verify(new Uint8Array(0), good)).toEqual({ ok: false });
  });

  it("every single-bit flip of the ML-DSA signature is rejected (sampled)", async () => {
    const cosigned = await mldsaCosign(await signedCheckpoint(), SEED, WITNESS, T, { deterministic: true });
    const v = mldsaCosignatureVerifier(witness.verifierKey);
    const text = utf8(parseNote(cosigned).text);
    const good = signatureOf(cosigned);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 8 * 8, max: MLDSA_COSIGNATURE_SIZE * 8 - 1 }), async (bit) => {
        const sig = good.slice();
        sig[bit >> 3] = sig[bit >> 3]! ^ (1 << (bit & 7));
        expect(await v.verify(text, sig)).toEqual({ ok: false });
      }),
      { numRuns: 40 },
    );
  });

  it("cosigners only sign checkpoints", async () => {
    await expect(signNote("not a checkpoint\n", [mldsaCosigner(SEED, WITNESS, T)])).rejects.toMatchObject({ code: "BAD_CHECKPOINT" });
  });
});

describe("test vector (test/vectors/mldsa44-cosignature.json)", () => {
  const v = vectors.cosignature;
  const seed = fromHex(v.seedHex);
  const body = formatCheckpoint({ origin: v.origin, size: v.size, root: fromBase64(v.rootBase64) });

  it("re-derives keys, key id and message", () => {
    const kp = generateKeyPair(v.name, seed, KEY_TYPE_COSIGNATURE_MLDSA44);
    expect(kp).toEqual({ signerKey: v.signerKey, verifierKey: v.verifierKey });
    expect(keyIdHex(parseVerifierKey(v.verifierKey).keyId)).toBe(v.keyId);
    expect(toHex(mldsaCosignedMessage(body, v.name, v.timestamp))).toBe(v.messageHex);
  });

  it("the stored note verifies, and deterministic re-signing reproduces it", async () => {
    const n = await openNote(v.note, [v.verifierKey]);
    expect(n.text).toBe(body);
    expect(n.verified).toEqual([{ name: v.name, keyId: parseInt(v.keyId, 16), type: 6, timestamp: v.timestamp }]);
    const again = await signNote(body, [mldsaCosigner(seed, v.name, v.timestamp, { deterministic: true })]);
    expect(again).toBe(v.note);
    // The stored signature is a plain FIPS 204 signature over the message bytes.
    const sig = signatureOf(v.note, v.name);
    expect(ml_dsa44.verify(sig.subarray(8), fromHex(v.messageHex), parseVerifierKey(v.verifierKey).publicKey)).toBe(true);
  });
});
