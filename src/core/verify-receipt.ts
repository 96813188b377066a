/**
 * Offline receipt verification (FORMATS.md §9), as a flat sequence of named
 * steps: receipt → digest → entry-signature → inclusion → history →
 * checkpoint-signature → cosignatures. Each step either passes (and is
 * reported) or throws a CairnError carrying the step's name and a code such as
 * DIGEST_MISMATCH, INCLUSION_PROOF_INVALID, CHECKPOINT_SIGNATURE_INVALID or
 * QUORUM_NOT_MET.
 *
 * A ReceiptVerifier is built once per trust document: it parses the pinned keys
 * once and remembers checkpoints it has already verified (identical bytes under
 * identical keys verify identically), so checking many receipts against one
 * checkpoint costs one signature verification each, the client's.
 */
import { bytesEqual, fromHex, toHex } from "./bytes.js";
import { blockHash, parseBlockHeader } from "./block.js";
import { parseCheckpoint, type Checkpoint } from "./checkpoint.js";
import { CairnError, isCairnError, type ErrorCode } from "./errors.js";
import { sha256 } from "./hash.js";
import { keyIdHex, KEY_TYPE_COSIGNATURE_MLDSA44, noteVerifier, parseVerifierKey, type NoteVerifier } from "./keys.js";
import { verifyInclusion } from "./merkle.js";
import { openNote, parseNote } from "./note.js";
import { parseReceipt, saltedDigest, type Receipt } from "./receipt.js";
import { parseEntry, type Entry } from "./submission.js";
import { parseTrust, trustSchedule, validAt, type ScheduledKey, type Trust, type TrustV2 } from "./trust.js";

export type StepName =
  | "receipt"
  | "digest"
  | "entry-signature"
  | "inclusion"
  | "history"
  | "checkpoint-signature"
  | "cosignatures"
  | "time";

export interface StepResult {
  readonly step: StepName;
  readonly status: "ok" | "skipped";
  readonly detail: string;
}

export interface VerifyReceiptOptions {
  /** SHA-256 of the document the receipt should be for. */
  readonly digest?: Uint8Array;
  /** The document itself; hashed here. */
  readonly document?: Uint8Array;
  /**
   * Verify without a document or digest, on purpose: the result then proves
   * only that *some* document with the entry's digest was anchored, and says
   * so (`documentChecked: false`). Without this, a missing document or
   * digest is an error, never a silent skip.
   */
  readonly noDocument?: boolean;
  /** The verifier's clock, unix seconds (default: now). */
  readonly now?: number;
  /**
   * Clock difference allowed between parties (default 300 s): a cosignature
   * may be dated this much ahead of `now`, or this much before its block's
   * `sealed at` (a witness accepts a block dated up to its own skew ahead
   * of its clock, 60 s by default, and cosigns at its clock's time).
   */
  readonly maxSkewSeconds?: number;
  /** The log's window between an entry's time and its block's seal (default 300 s, the service's default). */
  readonly timeWindowSeconds?: number;
  /**
   * Client verifier keys the caller trusts. When given, the entry must be
   * signed by one of them; otherwise the key carried in the receipt is used
   * and the step says so.
   */
  readonly clientKeys?: readonly string[];
}

export interface ReceiptVerification {
  readonly entryId: string;
  readonly digest: string;
  readonly submittedAt: number;
  readonly client: string;
  readonly blockHeight: number;
  readonly sealedAt: number;
  readonly checkpointSize: number;
  /** The signed checkpoint note the receipt was checked against, for a verifier that remembers the views it saw (core/split-view.ts). */
  readonly checkpointNote: string;
  readonly cosigners: readonly string[];
  /** Whether the entry's digest was compared with a document or digest the caller gave (false only with `noDocument`). */
  readonly documentChecked: boolean;
  /** Whether the entry is a salted commitment (a cairn-receipt/v2): its digest is then not the document's. */
  readonly salted: boolean;
  /**
   * What the receipt proves about time: the entry is dated `from` (the
   * client's signed time, within the log's window of the seal), and a quorum
   * of members had cosigned a checkpoint holding it by `by` (the quorum-th
   * earliest cosignature timestamp). Unix seconds.
   */
  readonly interval: { readonly from: number; readonly by: number };
  readonly steps: readonly StepResult[];
}

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /**
   * Every member cosignature that verifies under a key valid for the
   * checkpoint's size, with its signed timestamp; `pq` for ML-DSA-44 (0x06).
   * A member may appear twice, once per signature type.
   */
  readonly cosigners: readonly Cosigner[];
}

export interface Cosigner {
  readonly name: string;
  readonly timestamp: number;
  readonly pq: boolean;
}

interface Scheduled {
  readonly verifier: NoteVerifier;
  readonly key: ScheduledKey;
}

/** The clock skew a verifier allows by default; the operator counts only cosignatures dated within it (service/cosign.ts). */
export const DEFAULT_SKEW_SECONDS = 300;
const DEFAULT_TIME_WINDOW_SECONDS = 300;

const CHECKPOINT_CACHE_SIZE = 16;

export class ReceiptVerifier {
  readonly trust: Trust;
  private readonly operators: Scheduled[];
  private readonly members: Scheduled[];
  private readonly schedule: TrustV2;
  private readonly checkpoints = new Map<string, VerifiedCheckpoint>();
  private readonly clientKeys = new Map<string, NoteVerifier>();

  constructor(trust: unknown) {
    this.trust = parseTrust(trust);
    this.schedule = trustSchedule(this.trust);
    this.operators = this.schedule.operatorKeys.map((key) => ({ verifier: noteVerifier(key.key), key }));
    this.members = this.schedule.members.flatMap((m) => m.keys.map((key) => ({ verifier: noteVerifier(key.key), key })));
  }

  async verify(input: unknown, options: VerifyReceiptOptions = {}): Promise<ReceiptVerification> {
    const steps: StepResult[] = [];
    const run = async <T>(step: StepName, code: ErrorCode, body: () => Promise<[T, string]> | [T, string]): Promise<T> => {
      try {
        const [value, detail] = await body();
        steps.push({ step, status: "ok", detail });
        return value;
      } catch (e) {
        const inner = isCairnError(e) ? e : undefined;
        const keep = inner !== undefined && PASS_THROUGH.has(inner.code) ? inner.code : code;
        const message = e instanceof Error ? e.message : String(e);
        const error = new CairnError(keep, `${step}: ${message}`, { cause: e, step });
        Object.defineProperty(error, "steps", { value: steps, enumerable: false });
        throw error;
      }
    };
    const origin = this.trust.origin;

    const { receipt, entry, header, checkpoint } = await run("receipt", "BAD_RECEIPT", () => {
      const receipt = parseReceipt(input);
      const parsed = {
        receipt,
        entry: parseEntry(receipt.entry),
        header: parseBlockHeader(receipt.block),
        checkpoint: parseCheckpoint(parseNote(receipt.checkpoint).text),
      };
      return [parsed, "receipt is a well-formed cairn-receipt/v1"];
    });

    const wanted = options.digest ?? (options.document === undefined ? undefined : sha256(options.document));
    if (wanted === undefined && options.noDocument !== true) {
      throw new CairnError("DOCUMENT_REQUIRED", "give the document or its digest to check the receipt against, or ask for noDocument explicitly", { step: "digest" });
    }
    if (wanted !== undefined && options.noDocument === true) {
      throw new CairnError("DOCUMENT_REQUIRED", "noDocument was asked for, yet a document or digest was given: say which", { step: "digest" });
    }
    if (wanted === undefined) {
      const what = receipt.salt === undefined ? `some document with digest ${toHex(entry.submission.digest)}` : `some document (salted commitment ${toHex(entry.submission.digest)})`;
      steps.push({ step: "digest", status: "skipped", detail: `NOT CHECKED (no document given, on request): this shows only that ${what} was anchored` });
    } else {
      await run("digest", "DIGEST_MISMATCH", () => {
        if (receipt.salt !== undefined) {
          // The entry holds SHA-256(salt ‖ digest); only this receipt knows the salt.
          const committed = saltedDigest(receipt.salt, wanted);
          if (!bytesEqual(committed, entry.submission.digest)) throw new CairnError("DIGEST_MISMATCH", `document digest ${toHex(wanted)} with the receipt's salt does not give the entry's commitment: the receipt is for another document`);
          return [undefined, `document digest ${toHex(wanted)}, salted with the receipt's salt, gives the entry's commitment ${toHex(committed)}`];
        }
        if (!bytesEqual(wanted, entry.submission.digest)) {
          throw new CairnError("DIGEST_MISMATCH", `the receipt is for digest ${toHex(entry.submission.digest)}, not ${toHex(wanted)}`);
        }
        return [undefined, `document digest ${toHex(wanted)} matches the entry`];
      });
    }

    const client = await run("entry-signature", "ENTRY_SIGNATURE_INVALID", async () => {
      if (entry.submission.origin !== origin) {
        throw new CairnError("WRONG_ORIGIN", `entry is for origin ${entry.submission.origin}, not ${origin}`);
      }
      const [verifier, source] = this.clientVerifier(entry, receipt, options.clientKeys);
      await openNote(entry.entry, [verifier]);
      return [verifier.name, `entry ${entry.id} is signed by ${verifier.name} (${source})`];
    });

    await run("inclusion", "INCLUSION_PROOF_INVALID", () => {
      const { index, size, path } = receipt.inclusion;
      if (header.origin !== origin) throw new CairnError("WRONG_ORIGIN", `block is for origin ${header.origin}, not ${origin}`);
      if (size !== header.size) {
        throw new CairnError("BLOCK_MISMATCH", `inclusion proof is for a batch of ${size} entries, the block has ${header.size}`);
      }
      verifyInclusion(fromHex(entry.id, 32), index, size, path, header.root);
      return [undefined, `entry is leaf ${index} of ${size} under block ${header.height}'s batch root`];
    });

    await run("history", "HISTORY_PROOF_INVALID", () => {
      const { index, size, path } = receipt.history;
      if (index !== header.height) {
        throw new CairnError("BLOCK_MISMATCH", `history proof is for block ${index}, the header is block ${header.height}`);
      }
      if (size !== checkpoint.size) {
        throw new CairnError("HISTORY_PROOF_INVALID", `history proof is for ${size} blocks, the checkpoint covers ${checkpoint.size}`);
      }
      verifyInclusion(blockHash(receipt.block), index, size, path, checkpoint.root);
      return [undefined, `block ${index} is in the history tree of ${size} blocks`];
    });

    const verified = await run("checkpoint-signature", "CHECKPOINT_SIGNATURE_INVALID", async () => {
      const v = await this.openCheckpoint(receipt.checkpoint);
      return [v, `checkpoint of ${v.checkpoint.size} blocks is signed by the operator ${origin}`];
    });

    // A cosignature counts only with a timestamp the receipt makes
    // plausible: not before the block was sealed (nobody cosigns a block
    // before it exists) and not ahead of this verifier's clock, each up to
    // the clock skew between parties.
    const now = options.now ?? Math.floor(Date.now() / 1000);
    const skew = options.maxSkewSeconds ?? DEFAULT_SKEW_SECONDS;
    const counted = await run("cosignatures", "QUORUM_NOT_MET", () => {
      const { quorum, pqQuorum } = this.schedule;
      const all = verified.cosigners;
      const timely = all.filter((c) => c.timestamp >= header.sealedAt - skew && c.timestamp <= now + skew);
      const members = earliestByMember(timely);
      const pqMembers = earliestByMember(timely.filter((c) => c.pq));
      if (members.size < quorum || pqMembers.size < pqQuorum) {
        const late = all.filter((c) => !timely.includes(c)).map((c) => `${c.name}${c.pq ? " (ML-DSA-44)" : ""} at ${c.timestamp}`);
        const window = `between the seal - ${skew} s (${header.sealedAt - skew}) and this clock + ${skew} s (${now + skew})`;
        if (earliestByMember(all).size >= quorum && earliestByMember(all.filter((c) => c.pq)).size >= pqQuorum) {
          throw new CairnError("COSIGNATURE_TIME_INVALID", `${members.size} of the required ${quorum} members cosigned ${window}; not counted: ${late.join(", ")}`);
        }
        if (members.size < quorum) throw new CairnError("QUORUM_NOT_MET", `${earliestByMember(all).size} of the required ${quorum} member cosignatures verify`);
        throw new CairnError("PQ_QUORUM_NOT_MET", `${pqMembers.size} of the required ${pqQuorum} members' ML-DSA-44 cosignatures verify`);
      }
      const names = [...members.keys()];
      const pq = pqQuorum > 0 || pqMembers.size > 0 ? `; ML-DSA-44 from ${pqMembers.size} (required ${pqQuorum})` : "";
      return [{ members, pqMembers }, `${members.size} of ${this.schedule.members.length} members cosigned (quorum ${quorum}): ${names.join(", ")}${pq}`];
    });

    const interval = await run("time", "ENTRY_AFTER_SEAL", () => {
      const window = options.timeWindowSeconds ?? DEFAULT_TIME_WINDOW_SECONDS;
      if (entry.submission.time > header.sealedAt + window) {
        throw new CairnError("ENTRY_AFTER_SEAL", `the entry is dated ${entry.submission.time}, after its block was sealed (${header.sealedAt}) plus the ${window} s window`);
      }
      // The policy held once a quorum had cosigned and, if required, enough members post-quantum too.
      const nth = (times: Map<string, number>, n: number) => (n === 0 ? -Infinity : [...times.values()].sort((x, y) => x - y)[n - 1]!);
      const by = Math.max(nth(counted.members, this.schedule.quorum), nth(counted.pqMembers, this.schedule.pqQuorum));
      return [{ from: entry.submission.time, by }, `dated ${entry.submission.time}; sealed at ${header.sealedAt}; a quorum had cosigned by ${by}`];
    });

    return {
      entryId: entry.id,
      digest: toHex(entry.submission.digest),
      submittedAt: entry.submission.time,
      client,
      blockHeight: header.height,
      sealedAt: header.sealedAt,
      checkpointSize: checkpoint.size,
      checkpointNote: receipt.checkpoint,
      cosigners: [...counted.members.keys()],
      documentChecked: wanted !== undefined,
      salted: receipt.salt !== undefined,
      interval,
      steps,
    };
  }

  /**
   * Verifies a checkpoint note's operator signature (NOTE_UNVERIFIED or
   * BAD_SIGNATURE if it fails, WRONG_ORIGIN for another log) and returns the
   * members whose cosignatures verify, with their timestamps, unjudged:
   * how many count, and which times are plausible, is the caller's policy.
   * A receipt's cosignatures step applies it; a monitor uses this alone.
   */
  async openCheckpoint(note: string): Promise<VerifiedCheckpoint> {
    let verified = this.checkpoints.get(note);
    if (verified === undefined) {
      // The size decides which keys may have signed; it is read before any
      // signature is checked, and a signature only counts under a key the
      // trust schedules for that size.
      const claimed = parseCheckpoint(parseNote(note).text);
      const valid = this.operators.filter((o) => validAt(o.key, claimed.size));
      let opened;
      try {
        opened = await openNote(note, valid.map((o) => o.verifier));
      } catch (e) {
        const retired = this.operators.filter((o) => !validAt(o.key, claimed.size));
        if (!isCairnError(e, "NOTE_UNVERIFIED") || retired.length === 0) throw e;
        const by = await openNote(note, retired.map((o) => o.verifier)).then((n) => n.verified[0], () => undefined);
        if (by === undefined) throw e;
        const key = retired.find((o) => o.verifier.keyId === by.keyId)!.key;
        throw new CairnError("KEY_NOT_VALID", `the checkpoint of ${claimed.size} blocks is signed by operator key ${by.name}+${keyIdHex(by.keyId)}, which the trust document schedules for sizes ${describeRange(key)} only`);
      }
      const checkpoint = parseCheckpoint(opened.text);
      if (checkpoint.origin !== this.trust.origin) {
        throw new CairnError("WRONG_ORIGIN", `checkpoint is for origin ${checkpoint.origin}, not ${this.trust.origin}`);
      }
      const cosigners = await this.countCosigners(note, checkpoint.size);
      verified = { checkpoint, cosigners };
      if (this.checkpoints.size >= CHECKPOINT_CACHE_SIZE) this.checkpoints.delete(this.checkpoints.keys().next().value!);
      this.checkpoints.set(note, verified);
    }
    return verified;
  }

  private async countCosigners(note: string, size: number): Promise<Cosigner[]> {
    const valid = this.members.filter((m) => validAt(m.key, size));
    if (valid.length === 0) return [];
    // A member signature that fails to verify rejects the note, as C2SP
    // signed-note advises: it means the checkpoint was tampered with.
    // Signatures by keys not scheduled for this size are unknown lines, ignored.
    const opened = await openNote(note, valid.map((m) => m.verifier)).catch((e: unknown) => {
      if (isCairnError(e, "NOTE_UNVERIFIED")) return undefined;
      throw new CairnError("QUORUM_NOT_MET", `a member cosignature does not verify: ${(e as Error).message}`, { cause: e });
    });
    if (opened === undefined) return [];
    return opened.verified.map((s) => ({ name: s.name, timestamp: s.timestamp ?? -1, pq: s.type === KEY_TYPE_COSIGNATURE_MLDSA44 }));
  }

  private clientVerifier(entry: Entry, receipt: Receipt, pinned?: readonly string[]): [NoteVerifier, string] {
    const { name, keyId } = entry.signer;
    if (pinned !== undefined) {
      const match = pinned.map((k) => this.cachedVerifier(k)).find((v) => v.name === name && v.keyId === keyId);
      if (match === undefined) throw new CairnError("ENTRY_SIGNATURE_INVALID", `entry is signed by ${name}, which is not a pinned client key`);
      return [match, "pinned key"];
    }
    if (receipt.client === undefined) {
      throw new CairnError("ENTRY_SIGNATURE_INVALID", "the receipt carries no client key and none was pinned");
    }
    const v = this.cachedVerifier(receipt.client);
    if (v.name !== name || v.keyId !== keyId) {
      throw new CairnError("ENTRY_SIGNATURE_INVALID", `the receipt's client key ${v.name} is not the key that signed the entry (${name})`);
    }
    return [v, "key carried in the receipt, not pinned"];
  }

  private cachedVerifier(vkey: string): NoteVerifier {
    let v = this.clientKeys.get(vkey);
    if (v === undefined) {
      v = noteVerifier(parseVerifierKey(vkey));
      if (this.clientKeys.size >= 1024) this.clientKeys.clear();
      this.clientKeys.set(vkey, v);
    }
    return v;
  }
}

/** Codes a step keeps from the failure inside it, because they are more precise than the step's own. */
const PASS_THROUGH = new Set<ErrorCode>(["WRONG_ORIGIN", "BLOCK_MISMATCH", "DIGEST_MISMATCH", "QUORUM_NOT_MET", "PQ_QUORUM_NOT_MET", "COSIGNATURE_TIME_INVALID", "KEY_NOT_VALID"]);

/** Each member's earliest timestamp among `cosigners`. */
function earliestByMember(cosigners: readonly Cosigner[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of cosigners) if (!out.has(c.name) || c.timestamp < out.get(c.name)!) out.set(c.name, c.timestamp);
  return out;
}

function describeRange(k: ScheduledKey): string {
  return k.until === undefined ? `from ${k.from}` : `${k.from} to ${k.until}`;
}

/** One-shot convenience; for many receipts build one ReceiptVerifier and reuse it. */
export function verifyReceipt(receipt: unknown, trust: unknown, options?: VerifyReceiptOptions): Promise<ReceiptVerification> {
  return new ReceiptVerifier(trust).verify(receipt, options);
}

/** The steps that passed before a verification error (empty for other errors). */
export function stepsOf(error: unknown): readonly StepResult[] {
  const steps = (error as { steps?: unknown } | null)?.steps;
  return Array.isArray(steps) ? (steps as StepResult[]) : [];
}
