import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes, fromBase64, utf8 } from "../../src/core/bytes.js";
import { formatCheckpoint } from "../../src/core/checkpoint.js";
import {
  cosign,
  cosignatureMessage,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosigner,
  COSIGNATURE_V1_SIZE,
} from "../../src/core/cosignature.js";
import { ed25519PublicKey } from "../../src/core/ed25519.js";
import {
  formatVerifierKey,
  generateKeyPair,
  keyId,
  keyIdHex,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  noteVerifier,
  parseVerifierKey,
} from "../../src/core/keys.js";
import { openNote, parseNote, signNote } from "../../src/core/note.js";
import checkpoints from "../vectors/checkpoint.json" with { type: "json" };
import vectors from "../vectors/cosignature.json" with { type: "json" };

const { remora, timestampVector, c2spExample } = vectors;
const arche = checkpoints.arche;

const LOG = "example.com/log";
const LOG_SEED = new Uint8Array(32).fill(1);
const WITNESS_SEED = new Uint8Array(32).fill(2);
const WITNESS = "witness.example/w1";
const log = generateKeyPair(LOG, LOG_SEED);
const witnessKey = formatVerifierKey(WITNESS, KEY_TYPE_COSIGNATURE_V1, ed25519PublicKey(WITNESS_SEED));

async function signedCheckpoint(size = 5, extensions: string[] = []): Promise<string> {
  const body = formatCheckpoint({ origin: LOG, size, root: new Uint8Array(32).fill(9), extensions });
  return signNote(body, [noteSigner(log.signerKey)]);
}

describe("public cosignature vectors", () => {
  it("remora.n621.de key: type 0x04, key id over 0x04", () => {
    const k = parseVerifierKey(remora.verifierKey);
    expect(k.type).toBe(KEY_TYPE_COSIGNATURE_V1);
    expect(keyIdHex(k.keyId)).toBe(remora.keyId);
    expect(keyId(k.name, KEY_TYPE_COSIGNATURE_V1, k.publicKey)).toBe(k.keyId);
    expect(keyId(k.name, KEY_TYPE_ED25519, k.publicKey)).not.toBe(k.keyId);
  });

  it("remora's cosignature on a real checkpoint verifies and yields its timestamp", async () => {
    const n = await openNote(arche.signedNote, [arche.logVerifierKey, remora.verifierKey]);
    const r = n.verified.find((s) => s.name === "remora.n621.de");
    expect(r).toEqual({ name: "remora.n621.de", keyId: parseInt(remora.keyId, 16), type: 4, timestamp: remora.expectedTimestamp });
    // The cosignature alone is enough to open the note.
    const only = await openNote(arche.signedNote, [remora.verifierKey]);
    expect(only.verified).toHaveLength(1);
  });

  it("remora's cosignature fails on a changed checkpoint", async () => {
    const forged = arche.signedNote.replace(String(arche.size), String(arche.size - 1));
    await expect(openNote(forged, [remora.verifierKey])).rejects.toMatchObject({
      code: "BAD_SIGNATURE",
      message: expect.stringContaining("remora.n621.de+da77ade7"),
    });
  });

  it("C2SP tlog-cosignature example: signed message and timestamp", () => {
    expect(cosignatureMessage(c2spExample.body, c2spExample.timestamp)).toEqual(utf8(c2spExample.signedMessage));
    const line = parseNote(c2spExample.body + "\n" + c2spExample.signatureLine + "\n").signatures[0]!;
    expect(cosignatureTimestamp(line.signature)).toBe(c2spExample.timestamp);
  });

  it("transparency-dev/formats timestamp vectors", () => {
    const raw = fromBase64(timestampVector.signatureBase64);
    expect(cosignatureTimestamp(raw.subarray(4))).toBe(timestampVector.timestamp);
    const wrong = fromBase64(timestampVector.wrongTypeBase64);
    expect(() => cosignatureTimestamp(wrong.subarray(4))).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
  });
});

describe("cosigning", () => {
  it("cosign appends a verifiable cosignature with its timestamp", async () => {
    const note = await signedCheckpoint();
    const cosigned = await cosign(note, WITNESS_SEED, WITNESS, 1_700_000_000);
    expect(cosigned.startsWith(note)).toBe(true);
    const n = await openNote(cosigned, [log.verifierKey, witnessKey]);
    expect(n.verified).toEqual([
      { name: LOG, keyId: parseVerifierKey(log.verifierKey).keyId, type: 1 },
      { name: WITNESS, keyId: parseVerifierKey(witnessKey).keyId, type: 4, timestamp: 1_700_000_000 },
    ]);
    const sig = parseNote(cosigned).signatures[1]!.signature;
    expect(sig).toHaveLength(COSIGNATURE_V1_SIZE);
  });

  it("cosigning again replaces the older cosignature", async () => {
    const once = await cosign(await signedCheckpoint(), WITNESS_SEED, WITNESS, 100);
    const twice = await cosign(once, WITNESS_SEED, WITNESS, 200);
    expect(parseNote(twice).signatures).toHaveLength(2);
    const n = await openNote(twice, [witnessKey]);
    expect(n.verified[0]!.timestamp).toBe(200);
  });

  it("a cosignature is not a plain note signature by the same key and name", async () => {
    const cosigned = await cosign(await signedCheckpoint(), WITNESS_SEED, WITNESS, 100);
    const plainKey = generateKeyPair(WITNESS, WITNESS_SEED).verifierKey;
    // Different key id: the line is an unknown key to the 0x01 verifier.
    await expect(openNote(cosigned, [plainKey])).rejects.toMatchObject({ code: "NOTE_UNVERIFIED" });
    // And the 0x01 verifier refuses the bytes even if asked directly.
    const sig = parseNote(cosigned).signatures[1]!.signature;
    const text = utf8(parseNote(cosigned).text);
    expect((await noteVerifier(plainKey).verify(text, sig)).ok).toBe(false);
    expect((await noteVerifier(plainKey).verify(text, sig.subarray(8))).ok).toBe(false);
  });

  it("cosignatures cover extension lines", async () => {
    const cosigned = await cosign(await signedCheckpoint(5, ["ext"]), WITNESS_SEED, WITNESS, 100);
    const tampered = cosigned.replace("\next\n", "\nexu\n");
    await expect(openNote(tampered, [witnessKey])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  });

  it("the signature binds the timestamp", async () => {
    const cosigned = await cosign(await signedCheckpoint(), WITNESS_SEED, WITNESS, 100);
    const p = parseNote(cosigned);
    const sig = p.signatures[1]!.signature.slice();
    sig[7] = 101;
    const v = cosignatureVerifier(witnessKey);
    expect((await v.verify(utf8(p.text), sig)).ok).toBe(false);
    expect(await v.verify(utf8(p.text), p.signatures[1]!.signature)).toEqual({ ok: true, timestamp: 100 });
  });

  it("malformed cosignatures from a known key reject the note", async () => {
    const p = parseNote(await cosign(await signedCheckpoint(), WITNESS_SEED, WITNESS, 100));
    const v = cosignatureVerifier(witnessKey);
    const text = utf8(p.text);
    const good = p.signatures[1]!.signature;
    expect((await v.verify(text, good.subarray(0, 71))).ok).toBe(false);
    expect((await v.verify(text, concatBytes(good, Uint8Array.of(0)))).ok).toBe(false);
    const huge = good.slice();
    huge[0] = 0xff; // timestamp > 2^53 - 1
    expect((await v.verify(text, huge)).ok).toBe(false);
    expect(() => cosignatureTimestamp(huge)).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
  });

  it("cosigners only sign checkpoints", async () => {
    const w = cosigner(WITNESS_SEED, WITNESS, 1);
    await expect(signNote("not a checkpoint\n", [w])).rejects.toMatchObject({ code: "BAD_CHECKPOINT" });
  });

  it("checks names, timestamps, keys", () => {
    expect(() => cosigner(WITNESS_SEED, "bad name", 1)).toThrow(expect.objectContaining({ code: "BAD_KEY_NAME" }));
    for (const t of [-1, 1.5, 2 ** 53, Number.NaN]) {
      expect(() => cosigner(WITNESS_SEED, WITNESS, t)).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
      expect(() => cosignatureMessage("a\n", t)).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
    }
    expect(() => cosignatureMessage("no newline", 1)).toThrow(expect.objectContaining({ code: "BAD_COSIGNATURE" }));
    expect(() => cosigner(new Uint8Array(31), WITNESS, 1)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
    expect(() => cosignatureVerifier(log.verifierKey)).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
  });

  it("timestamps round trip across the whole safe range (property)", async () => {
    const note = await signedCheckpoint();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.nat(), fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(0)), async (t) => {
        const n = await openNote(await cosign(note, WITNESS_SEED, WITNESS, t), [witnessKey]);
        expect(n.verified[0]!.timestamp).toBe(t);
      }),
      { numRuns: 40 },
    );
  });
});
