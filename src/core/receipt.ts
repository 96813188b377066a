/**
 * The receipt (FORMATS.md §7): a self-contained JSON document that lets anyone
 * check, offline, that an entry is in a block that is in a checkpoint the
 * operator signed and a quorum of members cosigned.
 *
 * `entry` and `block` are exactly the bytes that were hashed; proof hashes are
 * standard padded base64. `client`, when present, is the verifier key the
 * operator checked the entry's signature with (a verifier may pin its own).
 */
import { fromBase64, toBase64 } from "./bytes.js";
import { CairnError, check } from "./errors.js";
import { isCount, isObject, jsonInput } from "./json.js";

export const RECEIPT_VERSION = "cairn-receipt/v1";

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
  readonly version: typeof RECEIPT_VERSION;
  readonly entry: string;
  readonly block: string;
  readonly inclusion: ProofJson;
  readonly history: ProofJson;
  readonly checkpoint: string;
  readonly client?: string;
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
}

export function buildReceipt(r: Receipt): ReceiptJson {
  const proof = (p: Proof): ProofJson => ({ index: p.index, size: p.size, path: p.path.map(toBase64) });
  return {
    version: RECEIPT_VERSION,
    entry: r.entry,
    block: r.block,
    inclusion: proof(r.inclusion),
    history: proof(r.history),
    checkpoint: r.checkpoint,
    ...(r.client === undefined ? {} : { client: r.client }),
  };
}

/** Validates the receipt's shape (parsed JSON or its text); the contents are checked by verifyReceipt. */
export function parseReceipt(input: unknown): Receipt {
  const doc = jsonInput(input, "BAD_RECEIPT", "receipt");
  check(isObject(doc), "BAD_RECEIPT", "receipt must be a JSON object");
  check(doc.version === RECEIPT_VERSION, "BAD_RECEIPT", `receipt version must be "${RECEIPT_VERSION}"`);
  const receipt: Receipt = {
    entry: text(doc.entry, "entry"),
    block: text(doc.block, "block"),
    inclusion: proof(doc.inclusion, "inclusion"),
    history: proof(doc.history, "history"),
    checkpoint: text(doc.checkpoint, "checkpoint"),
  };
  if (doc.client === undefined) return receipt;
  return { ...receipt, client: text(doc.client, "client") };
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
