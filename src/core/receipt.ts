/**
 * The receipt (FORMATS.md §7): a self-contained JSON document that lets anyone
 * check, offline, that an entry is in a block that is in a checkpoint the
 * operator signed and a quorum of members cosigned.
 *
 * `entry` and `block` are exactly the bytes that were hashed; proof hashes are
 * standard padded base64. `client`, when present, is the verifier key the
 * operator checked the entry's signature with (a verifier may pin its own).
 */
import { concatBytes, fromBase64, toBase64 } from "./bytes.js";
import { sha256 } from "./hash.js";
import { CairnError, check } from "./errors.js";
import { isCount, isObject, jsonInput } from "./json.js";

export const RECEIPT_VERSION = "cairn-receipt/v1";
/**
 * A receipt for a salted commitment (FORMATS.md §9): v1's fields plus
 * `salt`. The entry's digest is SHA-256(salt ‖ SHA-256(document)); the salt
 * never reached the server and lives only here. A distinct version, so that
 * a verifier that knows only v1 refuses it plainly instead of reporting that
 * the right document does not match.
 */
export const RECEIPT_VERSION_SALTED = "cairn-receipt/v2";

/** SHA-256(salt ‖ documentDigest): what a salted anchor submits as its digest. */
export function saltedDigest(salt: Uint8Array, documentDigest: Uint8Array): Uint8Array {
  check(salt instanceof Uint8Array && salt.length === SALT_SIZE, "BAD_DIGEST", `a salt is ${SALT_SIZE} bytes`);
  check(documentDigest instanceof Uint8Array && documentDigest.length === 32, "BAD_DIGEST", "a document digest is 32 bytes (SHA-256)");
  return sha256(concatBytes(salt, documentDigest));
}

export const SALT_SIZE = 32;

/** Proofs longer than this cannot belong to a tree of fewer than 2^64 leaves. */
const MAX_PROOF_LENGTH = 64;
/** Generous bound on any text field: a checkpoint with 100 signatures stays far below it. */
const MAX_TEXT_BYTES = 64 * 1024;

export interface ProofJson {
  readonly index: number;
  readonly size: number;
  readonly path: readonly string[];
}

export interface ReceiptJson {
  readonly version: typeof RECEIPT_VERSION | typeof RECEIPT_VERSION_SALTED;
  readonly entry: string;
  readonly block: string;
  readonly inclusion: ProofJson;
  readonly history: ProofJson;
  readonly checkpoint: string;
  readonly client?: string;
  /** v2 only: the salt, base64. */
  readonly salt?: string;
}

export interface Proof {
  readonly index: number;
  readonly size: number;
  readonly path: readonly Uint8Array[];
}

export interface Receipt {
  readonly entry: string;
  readonly block: string;
  readonly inclusion: Proof;
  readonly history: Proof;
  readonly checkpoint: string;
  readonly client?: string;
  /** The salt of a salted commitment (then the receipt is v2). */
  readonly salt?: Uint8Array;
}

export function buildReceipt(r: Receipt): ReceiptJson {
  const proof = (p: Proof): ProofJson => ({ index: p.index, size: p.size, path: p.path.map(toBase64) });
  return {
    version: r.salt === undefined ? RECEIPT_VERSION : RECEIPT_VERSION_SALTED,
    entry: r.entry,
    block: r.block,
    inclusion: proof(r.inclusion),
    history: proof(r.history),
    checkpoint: r.checkpoint,
    ...(r.client === undefined ? {} : { client: r.client }),
    ...(r.salt === undefined ? {} : { salt: toBase64(r.salt) }),
  };
}

/** The same receipt for a salted commitment: what `cairn anchor --salted` writes. */
export function withSalt(receipt: unknown, salt: Uint8Array): ReceiptJson {
  const r = parseReceipt(receipt);
  check(r.salt === undefined, "BAD_RECEIPT", "the receipt already carries a salt");
  check(salt.length === SALT_SIZE, "BAD_RECEIPT", `a salt is ${SALT_SIZE} bytes`);
  return buildReceipt({ ...r, salt });
}

/** Validates the receipt's shape (parsed JSON or its text); the contents are checked by verifyReceipt. */
export function parseReceipt(input: unknown): Receipt {
  const doc = jsonInput(input, "BAD_RECEIPT", "receipt");
  check(isObject(doc), "BAD_RECEIPT", "receipt must be a JSON object");
  check(doc.version === RECEIPT_VERSION || doc.version === RECEIPT_VERSION_SALTED, "BAD_RECEIPT", `receipt version must be "${RECEIPT_VERSION}" or "${RECEIPT_VERSION_SALTED}" (salted)`);
  const salted = doc.version === RECEIPT_VERSION_SALTED;
  check(salted === (doc.salt !== undefined), "BAD_RECEIPT", salted ? "a cairn-receipt/v2 carries its salt" : "a cairn-receipt/v1 has no salt: a salted receipt is cairn-receipt/v2");
  const receipt: Receipt = {
    entry: text(doc.entry, "entry"),
    block: text(doc.block, "block"),
    inclusion: proof(doc.inclusion, "inclusion"),
    history: proof(doc.history, "history"),
    checkpoint: text(doc.checkpoint, "checkpoint"),
  };
  const withClient = doc.client === undefined ? receipt : { ...receipt, client: text(doc.client, "client") };
  if (!salted) return withClient;
  let salt: Uint8Array;
  try {
    salt = fromBase64(doc.salt as string, SALT_SIZE);
  } catch (cause) {
    throw new CairnError("BAD_RECEIPT", `receipt salt must be canonical base64 of ${SALT_SIZE} bytes`, { cause });
  }
  return { ...withClient, salt };
}

function text(v: unknown, field: string): string {
  check(typeof v === "string" && v.length > 0, "BAD_RECEIPT", `receipt ${field} must be a non-empty string`);
  check(v.length <= MAX_TEXT_BYTES, "BAD_RECEIPT", `receipt ${field} is too large`);
  return v;
}

function proof(v: unknown, field: string): Proof {
  check(isObject(v), "BAD_RECEIPT", `receipt ${field} must be an object with index, size and path`);
  const { index, size, path } = v;
  check(isCount(index) && isCount(size), "BAD_RECEIPT", `receipt ${field} index and size must be non-negative integers`);
  check(index < size, "BAD_RECEIPT", `receipt ${field} index must be less than its size`);
  check(Array.isArray(path) && path.length <= MAX_PROOF_LENGTH, "BAD_RECEIPT", `receipt ${field} path must be an array of at most ${MAX_PROOF_LENGTH} hashes`);
  const hashes = path.map((h: unknown) => {
    check(typeof h === "string", "BAD_RECEIPT", `receipt ${field} path must hold base64 strings`);
    try {
      return fromBase64(h, 32);
    } catch (cause) {
      throw new CairnError("BAD_RECEIPT", `receipt ${field} path holds a hash that is not canonical base64 of 32 bytes`, { cause });
    }
  });
  return { index, size, path: hashes };
}
