/**
 * C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint, "Note text"):
 * the body of a signed note made of the origin line, the tree size in
 * decimal, the base64 RFC 6962 root hash, and optional extension lines, each
 * ending in '\n'. Signing and opening go through note.ts.
 *
 * Parsing is strict (canonical decimal, canonical base64 of exactly 32 bytes,
 * non-empty lines) so that one tree head has one checkpoint body, and two
 * honest parsers never disagree on what a signature covers.
 */
import { fromBase64, parseDecimal, toBase64 } from "./bytes.js";
import { CairnError, check } from "./errors.js";
import { HASH_SIZE } from "./hash.js";

export interface Checkpoint {
  /** Unique identifier of the log; non-empty. */
  readonly origin: string;
  /** Number of leaves. */
  readonly size: number;
  /** RFC 6962 root hash at `size`. */
  readonly root: Uint8Array;
  /** Opaque extension lines (NOT RECOMMENDED by C2SP; kept for interop). */
  readonly extensions: readonly string[];
}

export interface CheckpointInput {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions?: readonly string[];
}

/** A checkpoint line: non-empty, no newline, no other control character, no lone surrogate. */
function isValidLine(line: string): boolean {
  return line.length > 0 && !/[\u0000-\u001f\p{Cs}]/u.test(line);
}

export function formatCheckpoint(c: CheckpointInput): string {
  check(typeof c.origin === "string" && isValidLine(c.origin), "BAD_CHECKPOINT", "checkpoint origin must be a non-empty line");
  check(Number.isSafeInteger(c.size) && c.size >= 0, "BAD_CHECKPOINT", "checkpoint size must be a non-negative safe integer");
  check(c.root instanceof Uint8Array && c.root.length === HASH_SIZE, "BAD_CHECKPOINT", "checkpoint root must be 32 bytes");
  const extensions = c.extensions ?? [];
  for (const e of extensions) {
    check(typeof e === "string" && isValidLine(e), "BAD_CHECKPOINT", "checkpoint extension lines must be non-empty lines");
  }
  return [c.origin, String(c.size), toBase64(c.root), ...extensions].map((l) => l + "\n").join("");
}

/** Parses a checkpoint body (the note text, not the signed note); throws BAD_CHECKPOINT. */
export function parseCheckpoint(body: string): Checkpoint {
  check(typeof body === "string", "BAD_CHECKPOINT", "checkpoint must be text");
  check(body.endsWith("\n"), "BAD_CHECKPOINT", "checkpoint must end with a newline");
  const lines = body.slice(0, -1).split("\n");
  check(lines.length >= 3, "BAD_CHECKPOINT", "checkpoint needs origin, size and root lines");
  for (const line of lines) check(isValidLine(line), "BAD_CHECKPOINT", "checkpoint lines must be non-empty, without control characters");
  const [origin, sizeLine, rootLine] = lines as [string, string, string];
  let size: number;
  let root: Uint8Array;
  try {
    size = parseDecimal(sizeLine, "checkpoint size");
  } catch (cause) {
    throw new CairnError("BAD_CHECKPOINT", "checkpoint size must be a canonical decimal", { cause });
  }
  try {
    root = fromBase64(rootLine, HASH_SIZE);
  } catch (cause) {
    throw new CairnError("BAD_CHECKPOINT", "checkpoint root must be canonical base64 of 32 bytes", { cause });
  }
  return { origin, size, root, extensions: lines.slice(3) };
}
