/**
 * The submission a client signs, and the entry it becomes (FORMATS.md §4).
 *
 *   cairn/submission/v1
 *   <origin>
 *   <digest: 64 lowercase hex>
 *   <unix seconds>
 *   [prev <entry id>]
 *
 * The entry is the whole signed note exactly as received: text, blank line and
 * one signature line, the client's. Its id is the hex RFC 6962 leaf hash of
 * those bytes, so the same submission always has the same id and the id is the
 * leaf the batch tree commits to.
 */
import { fromHex, parseDecimal, toHex, utf8 } from "./bytes.js";
import { CairnError, check, withCode } from "./errors.js";
import { formatLines, splitLines } from "./lines.js";
import { leafHash } from "./merkle.js";
import { openParsedNote, parseNote, signNote, type ParsedNote } from "./note.js";
import type { NoteSigner, NoteVerifier } from "./keys.js";

export const SUBMISSION_HEADER = "cairn/submission/v1";

/** A submission is a few short lines; anything larger is not one. */
export const MAX_ENTRY_BYTES = 1024;

export interface Submission {
  readonly origin: string;
  /** SHA-256 of the document, 32 bytes. */
  readonly digest: Uint8Array;
  /** When the client signed it, unix seconds. */
  readonly time: number;
  /** Entry id (32 bytes) of the anchor of the previous version of the document. */
  readonly prev?: Uint8Array;
}

export interface Entry {
  /** The signed note, byte for byte as received. */
  readonly entry: string;
  /** Lowercase hex leaf hash of the entry. */
  readonly id: string;
  readonly submission: Submission;
  /** Name and key id of the one signature line. */
  readonly signer: { readonly name: string; readonly keyId: number };
  /**
   * `entry` as parsed, for verifyEntry, which checks the signature over this
   * note's text (so it does not parse it again): an Entry is only as good as
   * the parseEntry that made it.
   */
  readonly note: ParsedNote;
}

export function formatSubmission(s: Submission): string {
  check(s.digest.length === 32, "BAD_DIGEST", "digest must be 32 bytes");
  check(Number.isSafeInteger(s.time) && s.time >= 0, "BAD_SUBMISSION", "time must be a non-negative integer");
  const lines = [SUBMISSION_HEADER, s.origin, toHex(s.digest), String(s.time)];
  if (s.prev !== undefined) {
    check(s.prev.length === 32, "BAD_SUBMISSION", "prev must be a 32-byte entry id");
    lines.push(`prev ${toHex(s.prev)}`);
  }
  return formatLines(lines);
}

export function parseSubmission(text: string): Submission {
  const lines = splitLines(text, "BAD_SUBMISSION", "submission");
  check(lines.length === 4 || lines.length === 5, "BAD_SUBMISSION", "submission must have 4 lines, or 5 with a prev line");
  const [header, origin, digestHex, time, prevLine] = lines as [string, string, string, string, string?];
  check(header === SUBMISSION_HEADER, "BAD_SUBMISSION", `submission must start with "${SUBMISSION_HEADER}"`);
  const digest = withCode("BAD_DIGEST", "digest must be 64 lowercase hex digits", () => fromHex(digestHex, 32));
  const parsed: Submission = { origin, digest, time: withCode("BAD_SUBMISSION", "time must be a decimal without leading zeros", () => parseDecimal(time)) };
  if (prevLine === undefined) return parsed;
  check(prevLine.startsWith("prev "), "BAD_SUBMISSION", 'the fifth line must be "prev <entry id>"');
  return { ...parsed, prev: withCode("BAD_SUBMISSION", "prev must be an entry id of 64 lowercase hex digits", () => fromHex(prevLine.slice(5), 32)) };
}

/** The entry id: hex of the RFC 6962 leaf hash of the entry's bytes. */
export function entryId(entry: string): string {
  return toHex(leafHash(utf8(entry)));
}

/** Parses an entry (syntax only: the signature is checked by verifyEntry). */
export function parseEntry(entry: string): Entry {
  const bytes = utf8(entry);
  return parseEntryWithId(entry, bytes.length, toHex(leafHash(bytes)));
}

/**
 * parseEntry for a caller that has just hashed the entry's bytes itself (a
 * witness, the whole block at once for its batch root): `size` is their
 * UTF-8 length and `id` their leaf hash in hex, taken as given.
 */
export function parseEntryWithId(entry: string, size: number, id: string): Entry {
  check(size <= MAX_ENTRY_BYTES, "BAD_NOTE", `a submission note must be at most ${MAX_ENTRY_BYTES} bytes`);
  const note = parseNote(entry);
  check(note.signatures.length === 1, "BAD_NOTE", "a submission must carry exactly one signature, the client's");
  const sig = note.signatures[0]!;
  return { entry, id, submission: parseSubmission(note.text), signer: { name: sig.name, keyId: sig.keyId }, note };
}

/** Checks the entry's signature against the client's key; throws ENTRY_SIGNATURE_INVALID. */
export async function verifyEntry(entry: Entry, clientKey: string | NoteVerifier): Promise<void> {
  try {
    await openParsedNote(entry.note, [clientKey]);
  } catch (cause) {
    throw new CairnError("ENTRY_SIGNATURE_INVALID", `the submission is not signed by ${keyName(clientKey)}`, { cause });
  }
}

export async function signSubmission(submission: Submission, signer: NoteSigner): Promise<string> {
  return signNote(formatSubmission(submission), [signer]);
}

function keyName(key: string | NoteVerifier): string {
  return typeof key === "string" ? key.slice(0, key.indexOf("+")) : key.name;
}
