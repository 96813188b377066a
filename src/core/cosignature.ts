/**
 * C2SP transparency-log cosignatures, Ed25519 `cosignature/v1`
 * (c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed message"; note
 * signature type 0x04).
 *
 * Signed message: "cosignature/v1\ntime <decimal timestamp>\n" followed by the
 * whole checkpoint body (final newline included, signature lines excluded).
 * Signature bytes in the note line: key id (4) || timestamp as big-endian u64
 * (8) || Ed25519 signature (64). The key id is computed with type byte 0x04,
 * so the same Ed25519 key yields different ids as a note signer and as a
 * cosigner, and its cosignatures never verify as plain note signatures.
 *
 * Timestamps are POSIX seconds passed in by the caller (core has no clock).
 * They are JS numbers, so we accept 0 <= t <= 2^53 - 1 (the spec's bound is
 * 2^63 - 1; anything beyond 2^53 s is ~285 million years away). Whether a
 * timestamp is too far in the future is the caller's policy.
 *
 * See keys.ts for why keys.ts and this file import each other.
 */
import { concatBytes, utf8 } from "./bytes.js";
import { parseCheckpoint } from "./checkpoint.js";
import { ed25519Signer, ed25519Verify, ED25519_SIGNATURE_SIZE } from "./ed25519.js";
import { CairnError, check } from "./errors.js";
import {
  isValidKeyName,
  keyId,
  KEY_TYPE_COSIGNATURE_V1,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerification,
  type NoteVerifier,
  type VerifierKey,
} from "./keys.js";
import { addSignatures, type NoteOptions } from "./note.js";

/** Timestamp (8) + Ed25519 signature (64), the bytes after the key id. */
export const COSIGNATURE_V1_SIZE = 8 + ED25519_SIGNATURE_SIZE;

const TWO_32 = 2 ** 32;

// Keeps a leading U+FEFF, so the text checked is the text signed.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isValidTimestamp(t: number): boolean {
  return Number.isSafeInteger(t) && t >= 0;
}

/** Shared with the ML-DSA-44 cosignatures (mldsa-cosignature.ts): the same timestamp rules and encoding. */
export function checkTimestamp(t: number): void {
  check(isValidTimestamp(t), "BAD_COSIGNATURE", "cosignature timestamp must be an integer in [0, 2^53 - 1]");
}

function header(timestamp: number): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n`);
}

function bodyBytes(body: Uint8Array): Uint8Array {
  check(body.length > 0 && body[body.length - 1] === 0x0a, "BAD_COSIGNATURE", "cosigned body must end with a newline");
  return body;
}

/** The bytes an Ed25519 cosigner signs for `body` (a checkpoint note text) at `timestamp`. */
export function cosignatureMessage(body: string | Uint8Array, timestamp: number): Uint8Array {
  checkTimestamp(timestamp);
  return concatBytes(header(timestamp), bodyBytes(typeof body === "string" ? utf8(body) : body));
}

/** A safe integer as a big-endian u64. */
export function encodeTimestamp(t: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(t / TWO_32));
  view.setUint32(4, t % TWO_32);
  return out;
}

/** The big-endian u64 at the start of `sig` (a signature after its key id), or -1 when it does not fit a safe integer. */
export function decodeTimestamp(sig: Uint8Array): number {
  const view = new DataView(sig.buffer, sig.byteOffset, 8);
  const hi = view.getUint32(0);
  if (hi > 0x1fffff) return -1; // > 2^53 - 1
  return hi * TWO_32 + view.getUint32(4);
}

/**
 * The timestamp of a cosignature/v1 signature (the bytes after the key id);
 * throws BAD_COSIGNATURE if it is not one.
 */
export function cosignatureTimestamp(sig: Uint8Array): number {
  check(sig.length === COSIGNATURE_V1_SIZE, "BAD_COSIGNATURE", `cosignature/v1 signatures are ${COSIGNATURE_V1_SIZE} bytes`);
  const t = decodeTimestamp(sig);
  check(t >= 0, "BAD_COSIGNATURE", "cosignature timestamp exceeds 2^53 - 1");
  return t;
}

/**
 * A cosigner as a NoteSigner (key id with type 0x04). It signs only texts that
 * are checkpoints: a cosignature asserts a consistent tree head, and signing
 * anything else with a witness key would be a misuse.
 */
export function cosigner(seed: Uint8Array, name: string, timestamp: number): NoteSigner {
  check(isValidKeyName(name), "BAD_KEY_NAME", "cosigner name must be a valid key name");
  checkTimestamp(timestamp);
  const signer = ed25519Signer(seed);
  return {
    name,
    keyId: keyId(name, KEY_TYPE_COSIGNATURE_V1, signer.publicKey),
    async sign(text: Uint8Array): Promise<Uint8Array> {
      let body: string;
      try {
        body = decoder.decode(text);
      } catch (cause) {
        throw new CairnError("BAD_CHECKPOINT", "cosigned text is not valid UTF-8", { cause });
      }
      parseCheckpoint(body);
      const sig = await signer.sign(cosignatureMessage(text, timestamp));
      return concatBytes(encodeTimestamp(timestamp), sig);
    },
  };
}

/**
 * The NoteVerifier for a type-0x04 verifier key. `verify` reports the signed
 * timestamp; a malformed signature is simply one that fails to verify (and so
 * rejects the note in openNote).
 */
export function cosignatureVerifier(key: string | VerifierKey): NoteVerifier {
  const k = parseVerifierKey(typeof key === "string" ? key : key.text);
  check(k.type === KEY_TYPE_COSIGNATURE_V1, "BAD_KEY", "not a cosignature/v1 (type 0x04) verifier key");
  const publicKey = k.publicKey;
  return {
    name: k.name,
    keyId: k.keyId,
    type: KEY_TYPE_COSIGNATURE_V1,
    async verify(text: Uint8Array, sig: Uint8Array): Promise<NoteVerification> {
      if (sig.length !== COSIGNATURE_V1_SIZE || text.length === 0 || text[text.length - 1] !== 0x0a) return { ok: false };
      const timestamp = decodeTimestamp(sig);
      if (timestamp < 0) return { ok: false };
      const message = concatBytes(header(timestamp), text);
      const ok = await ed25519Verify(publicKey, message, sig.subarray(8));
      return ok ? { ok, timestamp } : { ok: false };
    },
  };
}

/**
 * Appends a cosignature to a signed checkpoint note (replacing an older one
 * by the same cosigner). It does not check the log's signature or the
 * checkpoint's consistency: that is the witness's job before calling this.
 */
export function cosign(
  checkpointNote: string | Uint8Array,
  seed: Uint8Array,
  name: string,
  timestamp: number,
  opts?: NoteOptions,
): Promise<string> {
  return addSignatures(checkpointNote, [cosigner(seed, name, timestamp)], opts);
}

