/**
 * C2SP transparency-log cosignatures, ML-DSA-44 `subtree/v1`
 * (c2sp.org/tlog-cosignature, "Format" and "ML-DSA-44 signed message"; note
 * signature type 0x06, "Timestamped ML-DSA-44 (sub)tree cosignatures" in
 * c2sp.org/signed-note "Signature types").
 *
 * Signed message: the `cosigned_message` struct, serialized as RFC 8446 §3
 * says (each <1..2^8-1> vector is one length byte, then its bytes):
 *   "subtree/v1\n\0" (12) || u8 len || cosigner name || timestamp (u64 BE)
 *   || u8 len || log origin || start (u64 BE) || end (u64 BE) || hash (32).
 * We cosign checkpoints only, so start = 0, end = the checkpoint's size and
 * hash = its root. Unlike cosignature/v1 the message commits to the
 * cosigner's name and leaves out extension lines: those may change under a
 * valid 0x06 cosignature, and it says nothing about them.
 * Signature bytes in the note line: key id (4) || timestamp as big-endian u64
 * (8) || ML-DSA-44 signature (2420).
 *
 * ML-DSA is FIPS 204 pure ML-DSA.Sign / ML-DSA.Verify with the empty context
 * string. The spec names FIPS 204 and nothing else (no context, no
 * HashML-DSA), so the defaults apply; C2SP's httpsig-pq states the same reading
 * outright. noble's `context` already defaults to empty; we pass it anyway so
 * the choice is written down and a change of default could not move it.
 *
 * Keys. Public key: FIPS 204 pkEncode, 1312 bytes; every 1312-byte string is
 * one (t1's 10-bit fields take any value), so there is no point check to make.
 * Private key: the 32-byte seed ξ of ML-DSA.KeyGen_internal (FIPS 204
 * Algorithm 6), as `PRIVATE+KEY+name+id+base64(0x06 || ξ)`. That encoding is
 * ours: C2SP defines no private-key encoding for 0x06 (signed-note defines
 * none for any type; PRIVATE+KEY+ is Go sumdb/note's, which keys.ts already
 * uses for Ed25519). The seed rather than the 2560-byte expanded key, because
 * it is what FIPS 204 generates, is 32 bytes like our Ed25519 seeds, and every
 * seed yields a valid key.
 *
 * Signing is hedged by default (`rnd` drawn by noble from the platform's
 * CSPRNG), FIPS 204's default variant: deterministic ML-DSA is more exposed
 * to fault and side-channel attacks. This is the one place core draws
 * randomness, and it needs no clock or I/O (crypto.getRandomValues exists in
 * browsers, Node and workerd). The deterministic variant (`rnd` = 32 zero
 * bytes) is an option for test vectors only; verifiers cannot tell the two
 * apart and accept both.
 *
 * Timestamps are handled as in cosignature.ts: POSIX seconds passed in by the
 * caller, 0 <= t <= 2^53 - 1. The spec lets a cosigner sign timestamp 0 to make
 * no "largest tree seen" statement; we sign what we are given, and a receipt's
 * time window then simply does not count such a cosignature.
 *
 * See keys.ts for why keys.ts and this file import each other.
 */
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { concatBytes, utf8 } from "./bytes.js";
import { parseCheckpoint, type Checkpoint } from "./checkpoint.js";
// cosignature/v1's timestamp rules and big-endian u64, shared: the two types must not drift apart.
import { checkTimestamp, decodeTimestamp, encodeTimestamp as u64 } from "./cosignature.js";
import { CairnError, check } from "./errors.js";
import {
  isValidKeyName,
  keyId,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerification,
  type NoteVerifier,
  type VerifierKey,
} from "./keys.js";
import { addSignatures, type NoteOptions } from "./note.js";

export const MLDSA44_SEED_SIZE = 32;
export const MLDSA44_PUBLIC_KEY_SIZE = 1312;
export const MLDSA44_SIGNATURE_SIZE = 2420;
/** Timestamp (8) + ML-DSA-44 signature (2420), the bytes after the key id. */
export const MLDSA_COSIGNATURE_SIZE = 8 + MLDSA44_SIGNATURE_SIZE;

const LABEL = utf8("subtree/v1\n\0");
const NO_CONTEXT = new Uint8Array(0);
const MAX_VECTOR = 255; // opaque <1..2^8-1>

// Keeps a leading U+FEFF, so the text checked is the text signed.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export interface MldsaSignOptions {
  /** FIPS 204 deterministic signing (`rnd` = 0^32): for reproducible test vectors only. */
  deterministic?: boolean;
}

/**
 * Throws BAD_KEY_NAME unless `name` is a key name that fits cosigned_message's
 * one-byte length; keys.ts applies it to every 0x06 key, so no key can exist
 * that could never sign.
 */
export function checkMldsaCosignerName(name: string): void {
  check(isValidKeyName(name), "BAD_KEY_NAME", "cosigner name must be a valid key name");
  check(utf8(name).length <= MAX_VECTOR, "BAD_KEY_NAME", "ML-DSA-44 cosigner name must be at most 255 bytes of UTF-8");
}

/** The ML-DSA-44 public key (pkEncode) of a 32-byte seed ξ; throws BAD_KEY. */
export function mldsa44PublicKey(seed: Uint8Array): Uint8Array {
  return keyPair(seed).publicKey;
}

function keyPair(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  check(seed instanceof Uint8Array && seed.length === MLDSA44_SEED_SIZE, "BAD_KEY", "ML-DSA-44 seed must be 32 bytes");
  return ml_dsa44.keygen(seed);
}


/** Assumes a checked name and timestamp; throws BAD_CHECKPOINT for an origin that does not fit. */
function message(name: string, timestamp: number, c: Checkpoint): Uint8Array {
  const nameBytes = utf8(name);
  const origin = utf8(c.origin);
  check(origin.length <= MAX_VECTOR, "BAD_CHECKPOINT", "checkpoint origin must be at most 255 bytes of UTF-8 to be ML-DSA-44 cosigned");
  return concatBytes(
    LABEL,
    Uint8Array.of(nameBytes.length),
    nameBytes,
    u64(timestamp),
    Uint8Array.of(origin.length),
    origin,
    u64(0), // start: a checkpoint is the subtree [0, size)
    u64(c.size),
    c.root,
  );
}

function checkpointOf(body: string | Uint8Array): Checkpoint {
  if (typeof body === "string") return parseCheckpoint(body);
  let text: string;
  try {
    text = decoder.decode(body);
  } catch (cause) {
    throw new CairnError("BAD_CHECKPOINT", "cosigned text is not valid UTF-8", { cause });
  }
  return parseCheckpoint(text);
}

/**
 * The bytes an ML-DSA-44 cosigner named `cosignerName` signs for a checkpoint
 * body (the note text) at `timestamp`. Throws BAD_CHECKPOINT, BAD_KEY_NAME or
 * BAD_COSIGNATURE.
 */
export function mldsaCosignedMessage(checkpointBody: string | Uint8Array, cosignerName: string, timestamp: number): Uint8Array {
  checkMldsaCosignerName(cosignerName);
  checkTimestamp(timestamp);
  return message(cosignerName, timestamp, checkpointOf(checkpointBody));
}

/**
 * An ML-DSA-44 cosigner as a NoteSigner (key id with type 0x06). As with
 * cosigner(), it signs only texts that are checkpoints.
 */
export function mldsaCosigner(seed: Uint8Array, name: string, timestamp: number, opts: MldsaSignOptions = {}): NoteSigner {
  checkMldsaCosignerName(name);
  checkTimestamp(timestamp);
  const { publicKey, secretKey } = keyPair(seed);
  const extraEntropy = opts.deterministic === true ? false : undefined;
  return {
    name,
    keyId: keyId(name, KEY_TYPE_COSIGNATURE_MLDSA44, publicKey),
    async sign(text: Uint8Array): Promise<Uint8Array> {
      const m = message(name, timestamp, checkpointOf(text));
      return concatBytes(u64(timestamp), ml_dsa44.sign(m, secretKey, { context: NO_CONTEXT, extraEntropy }));
    },
  };
}

/**
 * The NoteVerifier for a type-0x06 verifier key. `verify` reports the signed
 * timestamp. A malformed signature, or a text that is not a checkpoint, is
 * simply one that fails to verify (and so rejects the note in openNote).
 */
export function mldsaCosignatureVerifier(key: string | VerifierKey): NoteVerifier {
  const k = parseVerifierKey(typeof key === "string" ? key : key.text);
  check(k.type === KEY_TYPE_COSIGNATURE_MLDSA44, "BAD_KEY", "not an ML-DSA-44 cosignature (type 0x06) verifier key");
  const { name, publicKey } = k;
  return {
    name,
    keyId: k.keyId,
    type: KEY_TYPE_COSIGNATURE_MLDSA44,
    async verify(text: Uint8Array, sig: Uint8Array): Promise<NoteVerification> {
      if (sig.length !== MLDSA_COSIGNATURE_SIZE) return { ok: false };
      const timestamp = decodeTimestamp(sig);
      if (timestamp < 0) return { ok: false };
      let ok: boolean;
      try {
        const m = message(name, timestamp, checkpointOf(text));
        ok = ml_dsa44.verify(sig.subarray(8), m, publicKey, { context: NO_CONTEXT });
      } catch {
        // Not a checkpoint, an origin too long to sign, or input noble
        // refuses: none of these can carry a valid cosignature.
        return { ok: false };
      }
      return ok ? { ok, timestamp } : { ok: false };
    },
  };
}

/**
 * Appends an ML-DSA-44 cosignature to a signed checkpoint note (replacing an
 * older one by the same cosigner), as cosign() does for cosignature/v1. It
 * does not check the log's signature or the checkpoint's consistency.
 */
export function mldsaCosign(
  checkpointNote: string | Uint8Array,
  seed: Uint8Array,
  name: string,
  timestamp: number,
  opts: NoteOptions & MldsaSignOptions = {},
): Promise<string> {
  return addSignatures(checkpointNote, [mldsaCosigner(seed, name, timestamp, opts)], opts);
}
