/**
 * C2SP signed-note keys (c2sp.org/signed-note, "Signatures" and "Signature
 * types"; verifier keys as in golang.org/x/mod/sumdb/note): key names, key
 * ids, verifier-key text `name+<hex id>+base64(type || public key)`, signer-key
 * text `PRIVATE+KEY+name+<hex id>+base64(type || seed)`, and the note signers
 * and verifiers built from them.
 *
 * Supported signature types: 0x01 (Ed25519 over the note text), 0x04
 * (c2sp.org/tlog-cosignature cosignature/v1, implemented in cosignature.ts)
 * and 0x06 (c2sp.org/tlog-cosignature ML-DSA-44 subtree/v1, implemented in
 * mldsa-cosignature.ts, which also says why its signer keys hold a seed).
 * Parsing is strict — lowercase 8-digit key id that must match, canonical
 * base64, a known type, an Ed25519 key in the prime-order subgroup or an
 * ML-DSA-44 key of exactly 1312 bytes — so a key has exactly one accepted
 * spelling.
 *
 * keys.ts imports cosignature.ts and mldsa-cosignature.ts, and they import it
 * (their verifiers live with their formats; cosigners need key ids). None
 * uses another at module load time, only inside functions, so the cycles are
 * safe in ESM.
 */
import { concatBytes, fromBase64, toBase64, utf8 } from "./bytes.js";
import { cosignatureVerifier } from "./cosignature.js";
import { checkEd25519PublicKey, ed25519PublicKey, ed25519Signer, ed25519Verify } from "./ed25519.js";
import { CairnError, check } from "./errors.js";
import { sha256 } from "./hash.js";
import { checkMldsaCosignerName, mldsa44PublicKey, mldsaCosignatureVerifier, MLDSA44_PUBLIC_KEY_SIZE } from "./mldsa-cosignature.js";

/** Ed25519 signatures over the note text (c2sp.org/signed-note). */
export const KEY_TYPE_ED25519 = 0x01;
/** Timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature). */
export const KEY_TYPE_COSIGNATURE_V1 = 0x04;
/** Timestamped ML-DSA-44 (sub)tree cosignatures (c2sp.org/tlog-cosignature). */
export const KEY_TYPE_COSIGNATURE_MLDSA44 = 0x06;

export type KeyType = typeof KEY_TYPE_ED25519 | typeof KEY_TYPE_COSIGNATURE_V1 | typeof KEY_TYPE_COSIGNATURE_MLDSA44;

export function isKeyType(type: number): type is KeyType {
  return type === KEY_TYPE_ED25519 || type === KEY_TYPE_COSIGNATURE_V1 || type === KEY_TYPE_COSIGNATURE_MLDSA44;
}

export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: KeyType;
  readonly publicKey: Uint8Array;
  /** The canonical verifier-key text. */
  readonly text: string;
}

export interface SignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: KeyType;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Signs note texts; `sign` returns the signature bytes without the 4-byte key id. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Promise<Uint8Array>;
}

export interface NoteVerification {
  readonly ok: boolean;
  /** The signed time, for timestamped types (0x04, 0x06). */
  readonly timestamp?: number;
}

/** Verifies signatures by one key; `sig` excludes the 4-byte key id. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  verify(text: Uint8Array, sig: Uint8Array): Promise<NoteVerification>;
}

// C2SP forbids Unicode spaces and '+'. "Spaces" here is the union of what JS
// \s matches and Go's unicode.IsSpace (which adds U+0085), so a name one side
// accepts the other cannot split differently. We also refuse control
// characters (C0, DEL, C1: invisible in logs and configs) and lone surrogates
// (no UTF-8 encoding). Stricter than Go only in those, and in U+FEFF.
const BAD_NAME_CHAR = /[\s\u0085\p{Cc}\p{Cs}+]/u;

/** C2SP key-name rule: non-empty, no Unicode spaces, no '+', and no control characters. */
export function isValidKeyName(name: string): boolean {
  return typeof name === "string" && name.length > 0 && !BAD_NAME_CHAR.test(name);
}

function checkKeyName(name: string): void {
  check(isValidKeyName(name), "BAD_KEY_NAME", "key name must be non-empty, without spaces, '+' or control characters");
}

/** Key id = big-endian uint32 of SHA-256(name || 0x0A || type || public key)[:4]. */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, type), publicKey));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** The 8 lowercase hex digits of a key id, as in key texts and error messages. */
export function keyIdHex(id: number): string {
  return (id >>> 0).toString(16).padStart(8, "0");
}

function checkType(type: number): asserts type is KeyType {
  if (!isKeyType(type)) {
    throw new CairnError("UNSUPPORTED_ALGORITHM", `unsupported signature type 0x${type.toString(16).padStart(2, "0")}`);
  }
}

// ---------------------------------------------------------------------------
// Key material by type: Ed25519 (0x01, 0x04) or ML-DSA-44 (0x06).

function publicKeySizeOf(type: KeyType): number {
  return type === KEY_TYPE_COSIGNATURE_MLDSA44 ? MLDSA44_PUBLIC_KEY_SIZE : 32;
}

function algorithmOf(type: KeyType): string {
  return type === KEY_TYPE_COSIGNATURE_MLDSA44 ? "ML-DSA-44" : "Ed25519";
}

/** 0x06's signed message holds the cosigner name behind a one-byte length: refuse keys that could never sign. */
function checkKeyNameFor(type: KeyType, name: string): void {
  if (type === KEY_TYPE_COSIGNATURE_MLDSA44) checkMldsaCosignerName(name);
}

function checkPublicKey(type: KeyType, publicKey: Uint8Array): void {
  if (type === KEY_TYPE_COSIGNATURE_MLDSA44) {
    check(publicKey.length === MLDSA44_PUBLIC_KEY_SIZE, "BAD_KEY", "ML-DSA-44 public key must be 1312 bytes");
  } else {
    checkEd25519PublicKey(publicKey);
  }
}

function publicKeyOf(type: KeyType, seed: Uint8Array): Uint8Array {
  return type === KEY_TYPE_COSIGNATURE_MLDSA44 ? mldsa44PublicKey(seed) : ed25519PublicKey(seed);
}

// ---------------------------------------------------------------------------
// Verifier keys.

export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  checkKeyName(name);
  checkType(type);
  checkKeyNameFor(type, name);
  checkPublicKey(type, publicKey);
  return `${name}+${keyIdHex(keyId(name, type, publicKey))}+${toBase64(concatBytes(Uint8Array.of(type), publicKey))}`;
}

/** Splits `name+hexid+base64`; the name cannot hold '+', base64 can. */
function splitKey(text: string, what: string): { name: string; id: number; material: Uint8Array } {
  const i = text.indexOf("+");
  const j = i < 0 ? -1 : text.indexOf("+", i + 1);
  check(j > 0, "BAD_KEY", `${what} must be name+keyid+base64`);
  const name = text.slice(0, i);
  checkKeyName(name);
  const hex = text.slice(i + 1, j);
  check(/^[0-9a-f]{8}$/.test(hex), "BAD_KEY", `${what} key id must be 8 lowercase hex digits`);
  let material: Uint8Array;
  try {
    material = fromBase64(text.slice(j + 1));
  } catch (cause) {
    throw new CairnError("BAD_KEY", `${what} key material is not canonical base64`, { cause });
  }
  check(material.length > 0, "BAD_KEY", `${what} has no key material`);
  return { name, id: parseInt(hex, 16), material };
}

// Parsing a key costs a point decoding and a subgroup check (~0.6 ms in pure
// JS); verifier keys arrive as strings on every receipt check, so results are
// cached by text (bounded) and handed out as copies.
const PARSED_LIMIT = 1024;
const parsedVerifierKeys = new Map<string, VerifierKey>();

function copyVerifierKey(k: VerifierKey): VerifierKey {
  return { name: k.name, keyId: k.keyId, type: k.type, publicKey: k.publicKey.slice(), text: k.text };
}

/** Parses a verifier key strictly; throws BAD_KEY, BAD_KEY_NAME or UNSUPPORTED_ALGORITHM. */
export function parseVerifierKey(vkey: string): VerifierKey {
  check(typeof vkey === "string", "BAD_KEY", "verifier key must be a string");
  const cached = parsedVerifierKeys.get(vkey);
  if (cached) return copyVerifierKey(cached);

  const { name, id, material } = splitKey(vkey, "verifier key");
  const type = material[0]!;
  checkType(type);
  const publicKey = material.slice(1);
  const size = publicKeySizeOf(type);
  check(publicKey.length === size, "BAD_KEY", `${algorithmOf(type)} verifier key must hold a ${size}-byte public key`);
  check(keyId(name, type, publicKey) === id, "BAD_KEY", "verifier key id does not match its name and key");
  checkKeyNameFor(type, name);
  checkPublicKey(type, publicKey);

  const parsed: VerifierKey = Object.freeze({ name, keyId: id, type, publicKey, text: vkey });
  if (parsedVerifierKeys.size >= PARSED_LIMIT) {
    const oldest = parsedVerifierKeys.keys().next();
    if (!oldest.done) parsedVerifierKeys.delete(oldest.value);
  }
  parsedVerifierKeys.set(vkey, parsed);
  return copyVerifierKey(parsed);
}

// ---------------------------------------------------------------------------
// Signer keys.

const PRIVATE_PREFIX = "PRIVATE+KEY+";

export function formatSignerKey(name: string, type: number, seed: Uint8Array): string {
  checkKeyName(name);
  checkType(type);
  checkKeyNameFor(type, name);
  const publicKey = publicKeyOf(type, seed);
  return `${PRIVATE_PREFIX}${name}+${keyIdHex(keyId(name, type, publicKey))}+${toBase64(concatBytes(Uint8Array.of(type), seed))}`;
}

/**
 * Parses `PRIVATE+KEY+name+hexid+base64(type || seed)` (for 0x06 an encoding
 * of ours, see mldsa-cosignature.ts). The key id commits to the public key,
 * so it is checked after deriving it. Error messages never quote the input:
 * it is a secret.
 */
export function parseSignerKey(skey: string): SignerKey {
  check(typeof skey === "string" && skey.startsWith(PRIVATE_PREFIX), "BAD_KEY", "signer key must start with PRIVATE+KEY+");
  const { name, id, material } = splitKey(skey.slice(PRIVATE_PREFIX.length), "signer key");
  const type = material[0]!;
  checkType(type);
  const seed = material.slice(1);
  check(seed.length === 32, "BAD_KEY", `${algorithmOf(type)} signer key must hold a 32-byte seed`);
  checkKeyNameFor(type, name);
  const publicKey = publicKeyOf(type, seed);
  check(keyId(name, type, publicKey) === id, "BAD_KEY", "signer key id does not match its name and key");
  return { name, keyId: id, type, seed, publicKey };
}

/** A key pair from a caller-supplied 32-byte random seed (core has no randomness source). */
export function generateKeyPair(
  name: string,
  seed: Uint8Array,
  type: number = KEY_TYPE_ED25519,
): { signerKey: string; verifierKey: string } {
  checkType(type);
  const signerKey = formatSignerKey(name, type, seed);
  const verifierKey = formatVerifierKey(name, type, publicKeyOf(type, seed));
  return { signerKey, verifierKey };
}

// ---------------------------------------------------------------------------
// Signers and verifiers.

/**
 * A type-0x01 note signer (cosigners come from `cosigner()` in cosignature.ts
 * for type 0x04, `mldsaCosigner()` in mldsa-cosignature.ts for type 0x06).
 */
export function noteSigner(key: string | SignerKey): NoteSigner {
  const k = typeof key === "string" ? parseSignerKey(key) : key;
  checkKeyName(k.name);
  if (k.type === KEY_TYPE_COSIGNATURE_MLDSA44) {
    throw new CairnError("UNSUPPORTED_ALGORITHM", "noteSigner signs with type 0x01 keys; use mldsaCosigner() for ML-DSA-44 cosignatures");
  }
  if (k.type !== KEY_TYPE_ED25519) {
    throw new CairnError("UNSUPPORTED_ALGORITHM", "noteSigner signs with type 0x01 keys; use cosigner() for cosignature/v1");
  }
  const signer = ed25519Signer(k.seed);
  const id = keyId(k.name, KEY_TYPE_ED25519, signer.publicKey);
  check(k.keyId === id, "BAD_KEY", "signer key id does not match its name and key");
  return { name: k.name, keyId: id, sign: (text) => signer.sign(text) };
}

/**
 * The verifier for a verifier key, by its type: 0x01 here, 0x04 in
 * cosignature.ts, 0x06 in mldsa-cosignature.ts. A VerifierKey object is
 * re-read from its `text` (cached), so a hand-built object cannot smuggle in
 * an unchecked key.
 */
export function noteVerifier(key: string | VerifierKey): NoteVerifier {
  const k = parseVerifierKey(typeof key === "string" ? key : key.text);
  if (k.type === KEY_TYPE_COSIGNATURE_V1) return cosignatureVerifier(k);
  if (k.type === KEY_TYPE_COSIGNATURE_MLDSA44) return mldsaCosignatureVerifier(k);
  check(k.type === KEY_TYPE_ED25519, "UNSUPPORTED_ALGORITHM", "unsupported signature type");
  const publicKey = k.publicKey.slice();
  return {
    name: k.name,
    keyId: k.keyId,
    type: KEY_TYPE_ED25519,
    async verify(text: Uint8Array, sig: Uint8Array): Promise<NoteVerification> {
      return { ok: await ed25519Verify(publicKey, text, sig) };
    },
  };
}
