/**
 * What a member's witness checks before it stores (and later cosigns) a block
 * it was handed (FORMATS v2, §6 block header and hash chain; client records).
 * Everything but the witness's own head and registry is untrusted input.
 *
 * The steps, each failing with its own code and a message naming the block's
 * height (and the entry's index where there is one):
 *
 *   1. header    parses (BAD_BLOCK); origin is ours (WRONG_ORIGIN); height is
 *                the tip's + 1 (BLOCK_NOT_CONTIGUOUS); previous hash is the
 *                tip's (BLOCK_PREV_MISMATCH); sealed at no earlier than the
 *                tip (BLOCK_BACKDATED) and not beyond now + skew
 *                (BLOCK_FROM_FUTURE)
 *   2. batch     as many entries as the header says, and their RFC 6962 root
 *                is the header's (BATCH_ROOT_MISMATCH); no entry twice
 *                (DUPLICATE_ENTRY)
 *   3. entries   each parses as a client record, a key record or a
 *                submission, names our origin, and was made no later than
 *                sealed at + the window (ENTRY_AFTER_SEAL)
 *   4. records   every client record is signed by an operator key the chain
 *                knew by this block (BAD_CLIENT_RECORD); every key record by
 *                its old and new key, and a member's also by such an operator
 *                key (BAD_KEY_RECORD)
 *   5. registry  in block order: client records change the registry
 *                (REGISTRY_CONFLICT), key records the key schedule
 *                (KEY_RECORD_CONFLICT); a submission's signer is registered
 *                (ENTRY_UNREGISTERED) and active (ENTRY_REVOKED) at that
 *                point of the chain, with the key id it signed with
 *                (ENTRY_SIGNATURE_INVALID)
 *   6. signatures every submission verifies under its client's registered key
 *                (ENTRY_SIGNATURE_INVALID)
 *
 * Header checks run before the batch is hashed because they are cheap.
 * Record signatures are checked before any record is applied, so a forged
 * record is reported as such rather than by the conflicts it would cause.
 * The decisions of step 5 depend on order and are made in one synchronous
 * pass; the signatures, independent of each other, are then checked many at
 * a time (WebCrypto Ed25519 is ~2.5x faster with many verifications in
 * flight), and when several fail the lowest index is reported, so the error
 * does not depend on timing. Nothing is returned unless every check passes;
 * the caller's registry is immutable and unchanged either way.
 */
import { ZERO_HASH_HEX, blockHash, parseBlockHeader, type BlockHeader } from "./block.js";
import { bytesEqual, fromHex, toHex, utf8 } from "./bytes.js";
import {
  isClientRecordEntry,
  parseClientRecordEntry,
  verifyClientRecordSignature,
  type ClientRegistry,
  type ParsedClientRecord,
} from "./client-record.js";
import { CairnError, type ErrorCode } from "./errors.js";
import { HASH_SIZE } from "./hash.js";
import { isKeyRecordEntry, parseKeyRecordEntry, verifyKeyRecordSignatures, type KeySchedule, type ParsedKeyRecord } from "./key-record.js";
import { isValidKeyName, KEY_TYPE_ED25519, keyIdHex, noteVerifier, type NoteVerifier } from "./keys.js";
import { leafHash, rootFromLevels, treeLevels } from "./merkle.js";
import { parseEntryWithId, verifyEntry, type Entry } from "./submission.js";

/** The witness's own head block; undefined before block 0. */
/** How far ahead of a verifier's clock a block may be dated, unless it says otherwise (a member's CAIRN_MAX_SKEW). */
export const DEFAULT_BLOCK_SKEW_SECONDS = 60;

export interface ChainTip {
  readonly height: number;
  /** Lowercase hex block hash. */
  readonly hash: string;
  readonly sealedAt: number;
}

export interface BlockCheckOptions {
  readonly origin: string;
  /**
   * Who signs what as of the tip: the operator keys the witness pinned, moved
   * on by the key records of the blocks it already holds. Records must be
   * signed by an operator key of this schedule.
   */
  readonly keys: KeySchedule;
  /** The witness's clock, unix seconds. */
  readonly now: number;
  /** How far past `now` a block's sealed-at may be. */
  readonly maxSkewSeconds: number;
  /** How far past the block's sealed-at an entry's own time may be. */
  readonly timeWindowSeconds: number;
  /**
   * Longest the checks run before they let the caller's other work in (a
   * timer turn), default 50 ms. Verifying is one signature check per entry,
   * seconds for a large block, and a witness's HTTP server (its /healthz
   * among it) would not answer meanwhile.
   */
  readonly yieldAfterMs?: number;
}

export interface VerifiedBlock {
  readonly header: BlockHeader;
  /** The block hash (RFC 6962 leaf hash of the header bytes). */
  readonly hash: Uint8Array;
  /** Flat, 32 bytes per entry, in block order: the entry ids as bytes. */
  readonly leafHashes: Uint8Array;
  /** The batch tree as core treeLevels() makes it (level 0 is leafHashes), for the replica's tiles. */
  readonly levels: readonly Uint8Array[];
  /** The registry after the block's records. */
  readonly registry: ClientRegistry;
  /** The key schedule after the block's key records. */
  readonly keys: KeySchedule;
  /** Number of client and key records in the block. */
  readonly records: number;
  /** Number of submissions in the block. */
  readonly submissions: number;
  /** What each entry is, in block order: the client it names, its time, and a submission's digest. */
  readonly entries: readonly VerifiedEntry[];
}

export interface VerifiedEntry {
  readonly record: boolean;
  /** The signer of a submission; the client a record registers or revokes; whose key a key record turns over. */
  readonly client: string;
  /** A submission's digest (undefined for a record). */
  readonly digest: Uint8Array | undefined;
  readonly time: number;
}

/** Signature checks in flight at once: enough to keep WebCrypto busy, few enough to bound memory. */
const CONCURRENCY = 256;

type Parsed =
  | { readonly kind: "record"; readonly entry: string; readonly record: ParsedClientRecord }
  | { readonly kind: "key"; readonly entry: string; readonly record: ParsedKeyRecord }
  | { readonly kind: "submission"; readonly entry: Entry };

/** A CairnError with `where` in front of its message, keeping its code (anything else as it is). */
function located(where: string, e: unknown): unknown {
  return e instanceof CairnError ? new CairnError(e.code, `${where}: ${e.message}`, { cause: e }) : e;
}

function at<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw located(where, e);
  }
}

async function atAsync<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw located(where, e);
  }
}

function fail(code: ErrorCode, where: string, message: string): never {
  throw new CairnError(code, `${where}: ${message}`);
}

// The tip and options are the witness's own, not input from the network: a
// wrong one is a programming or configuration error, so it is a TypeError.
function checkOptions(o: BlockCheckOptions, height: number): NoteVerifier[] {
  const seconds = (v: unknown, what: string) => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new TypeError(`verifyBlock: ${what} must be a non-negative safe integer`);
  };
  if (!isValidKeyName(o.origin)) throw new TypeError("verifyBlock: origin must be a valid key name");
  seconds(o.now, "now");
  seconds(o.maxSkewSeconds, "maxSkewSeconds");
  seconds(o.timeWindowSeconds, "timeWindowSeconds");
  if (o.yieldAfterMs !== undefined && !(o.yieldAfterMs >= 0)) throw new TypeError("verifyBlock: yieldAfterMs must be a non-negative number");
  const operatorKeys = o.keys?.operatorKeysBy(height);
  if (!Array.isArray(operatorKeys) || operatorKeys.length === 0) {
    throw new TypeError("verifyBlock: keys must be a key schedule with an operator key");
  }
  // Deduplicated: openNote refuses two verifier objects for one (name, key id) as ambiguous.
  return [...new Set(operatorKeys)].map((k) => {
    let v: NoteVerifier;
    try {
      v = noteVerifier(k);
    } catch (cause) {
      throw new TypeError(`verifyBlock: operator key ${String(k)} is not a valid verifier key`, { cause });
    }
    if (v.type !== KEY_TYPE_ED25519 || v.name !== o.origin) {
      throw new TypeError(`verifyBlock: operator key ${k} must be an Ed25519 note key named ${o.origin}`);
    }
    return v;
  });
}

function checkTip(tip: ChainTip): Uint8Array {
  if (!Number.isSafeInteger(tip.height) || tip.height < 0) throw new TypeError("verifyBlock: tip height must be a non-negative safe integer");
  if (!Number.isSafeInteger(tip.sealedAt) || tip.sealedAt < 0) throw new TypeError("verifyBlock: tip sealedAt must be a non-negative safe integer");
  if (typeof tip.hash !== "string" || !/^[0-9a-f]{64}$/.test(tip.hash)) throw new TypeError("verifyBlock: tip hash must be 64 lowercase hex digits");
  return fromHex(tip.hash, HASH_SIZE);
}

/**
 * Runs `check(i)` for every i in `indexes`, CONCURRENCY at a time, in order
 * of index; stops after the first batch with a failure and rethrows the
 * failure of the lowest index in it (so the error is the same on every run).
 */
async function checkAll(indexes: readonly number[], check: (i: number) => Promise<void>, pace: Pace): Promise<void> {
  for (let start = 0; start < indexes.length; start += CONCURRENCY) {
    const batch = indexes.slice(start, start + CONCURRENCY);
    const results = await Promise.allSettled(batch.map(check));
    for (const r of results) if (r.status === "rejected") throw r.reason;
    await pace();
  }
}

/** Gives way to the caller's other work (a timer turn) once `yieldAfterMs` have passed since it last did. */
type Pace = () => Promise<void>;

function pacer(yieldAfterMs: number): Pace {
  // Awaiting a check yields to microtasks only; a synchronous verify
  // (node:crypto) or parse would hold timers and I/O until the very end.
  let since = Date.now();
  return async () => {
    if (Date.now() - since < yieldAfterMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    since = Date.now();
  };
}

const DEFAULT_YIELD_AFTER_MS = 50;

/**
 * Checks a block handed to a member's witness against the witness's head
 * (`tip`) and client registry. Returns the parsed block and the registry
 * after its records; throws a CairnError (codes in the header comment).
 */
export async function verifyBlock(
  tip: ChainTip | undefined,
  header: string,
  entries: readonly string[],
  registry: ClientRegistry,
  options: BlockCheckOptions,
): Promise<VerifiedBlock> {
  const tipHash = tip === undefined ? fromHex(ZERO_HASH_HEX, HASH_SIZE) : checkTip(tip);
  const expected = tip === undefined ? 0 : tip.height + 1;
  const operators = checkOptions(options, expected);
  const pace = pacer(options.yieldAfterMs ?? DEFAULT_YIELD_AFTER_MS);

  // 1. The header.
  if (typeof header !== "string") fail("BAD_BLOCK", `block ${expected}`, "header must be a string");
  const h = at(`block ${expected}`, () => parseBlockHeader(header));
  const block = `block ${h.height}`;
  if (h.origin !== options.origin) fail("WRONG_ORIGIN", block, `the header names origin ${h.origin}, not ${options.origin}`);
  if (h.height !== expected) {
    fail("BLOCK_NOT_CONTIGUOUS", block, tip === undefined ? "the first block must have height 0" : `the next block after ${tip.height} must have height ${expected}`);
  }
  if (!bytesEqual(h.prevHash, tipHash)) {
    fail("BLOCK_PREV_MISMATCH", block, `previous hash ${toHex(h.prevHash)} is not ${tip === undefined ? "all zeros" : `the hash of block ${tip.height}, ${tip.hash}`}`);
  }
  if (tip !== undefined && h.sealedAt < tip.sealedAt) {
    fail("BLOCK_BACKDATED", block, `sealed at ${h.sealedAt}, before block ${tip.height} (${tip.sealedAt})`);
  }
  if (h.sealedAt > options.now + options.maxSkewSeconds) {
    fail("BLOCK_FROM_FUTURE", block, `sealed at ${h.sealedAt}, more than ${options.maxSkewSeconds} s after now (${options.now})`);
  }

  // 2. The batch.
  if (!Array.isArray(entries)) fail("BAD_BLOCK", block, "entries must be a list");
  if (entries.length !== h.size) fail("BATCH_ROOT_MISMATCH", block, `the header counts ${h.size} entries, ${entries.length} were given`);
  const leaves = new Uint8Array(entries.length * HASH_SIZE);
  // Each entry is encoded and hashed once, here; its parse (step 3) takes the size and id from this.
  const sizes = new Array<number>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (typeof e !== "string") fail("BAD_BLOCK", `${block} entry ${i}`, "entry must be a string");
    const bytes = utf8(e);
    sizes[i] = bytes.length;
    leaves.set(leafHash(bytes), i * HASH_SIZE);
    if (i % CONCURRENCY === CONCURRENCY - 1) await pace();
  }
  const levels = treeLevels(leaves);
  const root = rootFromLevels(levels, entries.length);
  if (!bytesEqual(root, h.root)) fail("BATCH_ROOT_MISMATCH", block, "the entries' batch root is not the header's");
  const ids = new Map<string, number>();
  const hexIds = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const id = toHex(leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    const first = ids.get(id);
    if (first !== undefined) fail("DUPLICATE_ENTRY", `${block} entry ${i}`, `same entry as entry ${first} (id ${id})`);
    ids.set(id, i);
    hexIds[i] = id;
  }

  // 3. Each entry on its own.
  const latest = h.sealedAt + options.timeWindowSeconds;
  const parseOne = (entry: string, i: number): Parsed => {
    const where = `${block} entry ${i}`;
    if (isClientRecordEntry(entry)) {
      const record = at(where, () => parseClientRecordEntry(entry));
      if (record.origin !== options.origin) fail("WRONG_ORIGIN", where, `the client record names origin ${record.origin}, not ${options.origin}`);
      if (record.time > latest) fail("ENTRY_AFTER_SEAL", where, `the client record is dated ${record.time}, after the block's seal (${h.sealedAt}) + ${options.timeWindowSeconds} s`);
      return { kind: "record", entry, record };
    }
    if (isKeyRecordEntry(entry)) {
      const record = at(where, () => parseKeyRecordEntry(entry));
      if (record.origin !== options.origin) fail("WRONG_ORIGIN", where, `the key record names origin ${record.origin}, not ${options.origin}`);
      if (record.time > latest) fail("ENTRY_AFTER_SEAL", where, `the key record is dated ${record.time}, after the block's seal (${h.sealedAt}) + ${options.timeWindowSeconds} s`);
      return { kind: "key", entry, record };
    }
    const parsedEntry = at(where, () => parseEntryWithId(entry, sizes[i]!, hexIds[i]!));
    const s = parsedEntry.submission;
    if (s.origin !== options.origin) fail("WRONG_ORIGIN", where, `the submission names origin ${s.origin}, not ${options.origin}`);
    if (s.time > latest) fail("ENTRY_AFTER_SEAL", where, `the submission is dated ${s.time}, after the block's seal (${h.sealedAt}) + ${options.timeWindowSeconds} s`);
    return { kind: "submission", entry: parsedEntry };
  };
  const parsed: Parsed[] = [];
  for (let i = 0; i < entries.length; i++) {
    parsed.push(parseOne(entries[i]!, i));
    if (i % CONCURRENCY === CONCURRENCY - 1) await pace();
  }

  // 4. Record signatures, before any record takes effect.
  const recordIndexes: number[] = [];
  parsed.forEach((p, i) => {
    if (p.kind !== "submission") recordIndexes.push(i);
  });
  await checkAll(recordIndexes, async (i) => {
    const p = parsed[i] as Exclude<Parsed, { kind: "submission" }>;
    await atAsync(`${block} entry ${i}`, () =>
      p.kind === "record" ? verifyClientRecordSignature(p.entry, operators) : verifyKeyRecordSignatures(p.entry, p.record, operators),
    );
  }, pace);

  // 5. Registry decisions, in block order.
  const draft = registry.draft();
  let keys = options.keys;
  const verifiers: (NoteVerifier | undefined)[] = new Array(parsed.length);
  const submissionIndexes: number[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i]!;
    const where = `${block} entry ${i}`;
    if (p.kind === "record") {
      at(where, () => draft.apply(p.record));
      continue;
    }
    if (p.kind === "key") {
      keys = at(where, () => keys.apply(p.record, h.height));
      continue;
    }
    const { name, keyId } = p.entry.signer;
    const state = draft.lookup(name);
    if (state === undefined) fail("ENTRY_UNREGISTERED", where, `client ${name} is not registered at this point of the chain`);
    if (state.status !== "active") {
      const when = registry.lookup(name)?.status === "revoked" ? "in an earlier block" : "earlier in this block";
      fail("ENTRY_REVOKED", where, `client ${name} was revoked ${when}`);
    }
    const verifier = at(where, () => draft.verifier(name)!);
    if (verifier.keyId !== keyId) {
      fail("ENTRY_SIGNATURE_INVALID", where, `signed by key ${name}+${keyIdHex(keyId)}, but ${name} is registered with key id ${keyIdHex(verifier.keyId)}`);
    }
    verifiers[i] = verifier;
    submissionIndexes.push(i);
  }

  // 6. Submission signatures, many at a time.
  await checkAll(submissionIndexes, async (i) => {
    const p = parsed[i] as Extract<Parsed, { kind: "submission" }>;
    await atAsync(`${block} entry ${i}`, () => verifyEntry(p.entry, verifiers[i]!));
  }, pace);

  return {
    header: h,
    hash: blockHash(header),
    leafHashes: leaves,
    levels,
    registry: draft.done(),
    keys,
    records: recordIndexes.length,
    submissions: submissionIndexes.length,
    entries: parsed.map((p) =>
      p.kind !== "submission"
        ? { record: true, client: p.record.name, digest: undefined, time: p.record.time }
        : { record: false, client: p.entry.signer.name, digest: p.entry.submission.digest, time: p.entry.submission.time },
    ),
  };
}
