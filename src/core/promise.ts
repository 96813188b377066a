/**
 * The promise: the operator's signed acknowledgement of a submission
 * (FORMATS.md §5). It is evidence that the entry was accepted and by when it
 * will be sealed, should the operator later deny having seen it.
 *
 *   cairn/promise/v1
 *   <origin>
 *   <entry id: 64 lowercase hex>
 *   <received at: unix seconds>
 *   <seal deadline: unix seconds>
 */
import { fromHex, parseDecimal } from "./bytes.js";
import { check, withCode } from "./errors.js";
import { formatLines, splitLines } from "./lines.js";
import { openNote, signNote } from "./note.js";
import type { NoteSigner, NoteVerifier } from "./keys.js";

export const PROMISE_HEADER = "cairn/promise/v1";

export interface AnchorPromise {
  readonly origin: string;
  readonly id: string;
  readonly receivedAt: number;
  readonly deadline: number;
}

export function formatPromise(p: AnchorPromise): string {
  withCode("BAD_PROMISE", "promise id must be 64 lowercase hex digits", () => fromHex(p.id, 32));
  check(p.deadline >= p.receivedAt, "BAD_PROMISE", "the seal deadline must not be before the time received");
  return formatLines([PROMISE_HEADER, p.origin, p.id, String(p.receivedAt), String(p.deadline)]);
}

export function parsePromise(text: string): AnchorPromise {
  const lines = splitLines(text, "BAD_PROMISE", "promise");
  check(lines.length === 5, "BAD_PROMISE", "promise must have 5 lines");
  const [header, origin, id, received, deadline] = lines as [string, string, string, string, string];
  check(header === PROMISE_HEADER, "BAD_PROMISE", `promise must start with "${PROMISE_HEADER}"`);
  withCode("BAD_PROMISE", "promise id must be 64 lowercase hex digits", () => fromHex(id, 32));
  const p = {
    origin,
    id,
    receivedAt: withCode("BAD_PROMISE", "received-at must be a canonical decimal", () => parseDecimal(received)),
    deadline: withCode("BAD_PROMISE", "deadline must be a canonical decimal", () => parseDecimal(deadline)),
  };
  check(p.deadline >= p.receivedAt, "BAD_PROMISE", "the seal deadline must not be before the time received");
  return p;
}

export function signPromise(p: AnchorPromise, operator: NoteSigner): Promise<string> {
  return signNote(formatPromise(p), [operator]);
}

/** Verifies the operator's signature and returns the promise it carries. */
export async function openPromise(note: string, operatorKeys: readonly (string | NoteVerifier)[]): Promise<AnchorPromise> {
  const opened = await openNote(note, operatorKeys);
  return parsePromise(opened.text);
}
