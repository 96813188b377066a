/**
 * The C2SP tlog-witness `add-checkpoint` call, both sides, as pure functions
 * (c2sp.org/tlog-witness, "HTTP Interface" › "add-checkpoint", as of C2SP/C2SP
 * commit 95978ca8 of 2026-07-06: tag tlog-witness/v1.0.0 plus two later
 * clarifications, 403 for a failing trusted-key signature and, in #280, the
 * size-0 and same-size rules).
 *
 * Request body: `old <size>\n`, zero to 63 consistency-proof lines (one
 * base64 hash each), an empty line, then the signed checkpoint note. A
 * witness answers 200 with its cosignature lines, 409 with its own size as
 * `text/x.tlog.size` when the old size is not the one it holds, and 400, 403,
 * 404 or 422 otherwise. `judgeAddCheckpoint` runs the spec's checks in the
 * spec's order and returns the verdict; the caller stores the new state
 * (atomically with reading `latest`: the spec's race) and builds the
 * response. No I/O, clock or randomness here.
 *
 * Where we are stricter than the spec (refused as 400 BAD_WITNESS_REQUEST):
 * proof lines must be canonical padded base64 of exactly 32 bytes (the spec
 * says "a single hash in base64"); sizes must fit 2^53 - 1, not 2^64 - 1; a
 * carriage return anywhere is refused; the body is capped at
 * MAX_ADD_CHECKPOINT_SIZE; and the checkpoint must be a well-formed signed
 * note (no trailing bytes after its last signature line).
 *
 * Where the spec names no status we chose one: a checkpoint that is not a
 * signed note, or whose text is not a checkpoint, is 400 BAD_CHECKPOINT.
 * tlog-witness/v1.0.0 answered a same-size, different-root checkpoint with
 * 409; the current text (#280) answers 422, so every 409 carries a size.
 */
import { bytesEqual, fromBase64, fromUtf8, parseDecimal, toBase64, utf8 } from "./bytes.js";
import { parseCheckpoint, type Checkpoint } from "./checkpoint.js";
import { decodeTimestamp } from "./cosignature.js";
import { CairnError, check, isCairnError, type ErrorCode } from "./errors.js";
import { EMPTY_ROOT, HASH_SIZE } from "./hash.js";
import { KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, keyIdHex, noteVerifier, parseVerifierKey, type NoteSigner, type NoteVerifier } from "./keys.js";
import { verifyConsistency } from "./merkle.js";
import { MAX_NOTE_SIZE, openNote, parseNote, signNote, type ParsedNote } from "./note.js";

/** "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;
/** Content type of the 409 response body (the witness's size and a newline). */
export const TLOG_SIZE_CONTENT_TYPE = "text/x.tlog.size";

const OLD_PREFIX = "old ";
/** "old " + 16 digits (2^53 - 1) + "\n". */
const MAX_OLD_LINE = OLD_PREFIX.length + 16 + 1;
/** 44 base64 characters + "\n". */
const PROOF_LINE_SIZE = 45;
/** Largest well-formed request body in UTF-8 bytes: envelope, empty line, and a note of MAX_NOTE_SIZE. */
export const MAX_ADD_CHECKPOINT_SIZE = MAX_OLD_LINE + MAX_PROOF_LINES * PROOF_LINE_SIZE + 1 + MAX_NOTE_SIZE;

const SIG_PREFIX = "\u2014 "; // em dash, space: a note signature line

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, exactly as sent. */
  readonly checkpoint: string;
}

/** What a witness remembers per log: its latest cosigned checkpoint. */
export interface WitnessedCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
}

export type AddCheckpointVerdict =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      /** The note's signed text: what the witness cosigns. */
      readonly body: string;
    }
  | {
      readonly ok: false;
      readonly status: 400 | 403 | 404 | 409 | 422;
      readonly code: ErrorCode;
      readonly message: string;
      /** For the old-size mismatch 409: the size the witness holds, sent as text/x.tlog.size. */
      readonly knownSize?: number;
    };

type Refusal = Extract<AddCheckpointVerdict, { ok: false }>;

function bad(message: string, cause?: unknown): CairnError {
  return new CairnError("BAD_WITNESS_REQUEST", message, cause === undefined ? undefined : { cause });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isSize(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

/** Checks the shape of a request built in code (parsed ones already hold); undefined if fine. */
function requestProblem(req: AddCheckpointRequest): string | undefined {
  if (typeof req !== "object" || req === null) return "request must be an object";
  if (!isSize(req.oldSize)) return "old size must be a non-negative safe integer";
  if (!Array.isArray(req.proof)) return "proof must be an array of hashes";
  if (req.proof.length > MAX_PROOF_LINES) return `a request holds at most ${MAX_PROOF_LINES} consistency proof hashes`;
  const i = req.proof.findIndex((h) => !isHash(h));
  if (i >= 0) return `consistency proof hash ${i} must be ${HASH_SIZE} bytes`;
  if (typeof req.checkpoint !== "string") return "checkpoint must be the signed note's text";
  return undefined;
}

function checkNoteSyntax(checkpoint: string): ParsedNote {
  try {
    return parseNote(checkpoint);
  } catch (cause) {
    throw bad(`checkpoint is not a well-formed signed note: ${messageOf(cause)}`, cause);
  }
}

/** The request body: "old N\n", one base64 hash per line, "\n", then the checkpoint note. Throws BAD_WITNESS_REQUEST. */
export function formatAddCheckpoint(req: AddCheckpointRequest): string {
  const problem = requestProblem(req);
  if (problem !== undefined) throw bad(problem);
  checkNoteSyntax(req.checkpoint);
  return `${OLD_PREFIX}${req.oldSize}\n${req.proof.map((h) => toBase64(h) + "\n").join("")}\n${req.checkpoint}`;
}

function decodeBody(body: string | Uint8Array): string {
  if (typeof body === "string") {
    // A UTF-16 unit is at least one UTF-8 byte: a cheap bound before any work.
    check(body.length <= MAX_ADD_CHECKPOINT_SIZE, "BAD_WITNESS_REQUEST", `request body exceeds ${MAX_ADD_CHECKPOINT_SIZE} bytes`);
    return body;
  }
  if (!(body instanceof Uint8Array)) throw bad("request body must be text or bytes");
  check(body.length <= MAX_ADD_CHECKPOINT_SIZE, "BAD_WITNESS_REQUEST", `request body exceeds ${MAX_ADD_CHECKPOINT_SIZE} bytes`);
  try {
    return fromUtf8(body);
  } catch (cause) {
    throw bad("request body is not valid UTF-8", cause);
  }
}

/**
 * Parses an add-checkpoint request body strictly; throws BAD_WITNESS_REQUEST
 * saying what is wrong. The checkpoint must be a well-formed signed note; its
 * signatures and its text as a checkpoint are judgeAddCheckpoint's business.
 */
export function parseAddCheckpoint(body: string | Uint8Array): AddCheckpointRequest {
  const text = decodeBody(body);
  // A CR would otherwise surface as a confusing decimal or base64 error.
  check(!text.includes("\r"), "BAD_WITNESS_REQUEST", "request body contains a carriage return: lines end in \\n alone");

  const first = text.indexOf("\n");
  check(first >= 0, "BAD_WITNESS_REQUEST", "request body must start with an old size line ending in a newline");
  const oldLine = text.slice(0, first);
  check(oldLine.startsWith(OLD_PREFIX), "BAD_WITNESS_REQUEST", "first line must be 'old <size>'");
  let oldSize: number;
  try {
    oldSize = parseDecimal(oldLine.slice(OLD_PREFIX.length), "old size");
  } catch (cause) {
    throw bad(`old size line: ${messageOf(cause)}`, cause);
  }

  const proof: Uint8Array[] = [];
  let at = first + 1;
  for (;;) {
    const end = text.indexOf("\n", at);
    check(end >= 0, "BAD_WITNESS_REQUEST", "request body has no empty line before the checkpoint");
    const line = text.slice(at, end);
    at = end + 1;
    if (line === "") break;
    check(proof.length < MAX_PROOF_LINES, "BAD_WITNESS_REQUEST", `request has more than ${MAX_PROOF_LINES} consistency proof lines`);
    try {
      proof.push(fromBase64(line, HASH_SIZE));
    } catch (cause) {
      throw bad(
        `line ${proof.length + 2} is neither a consistency proof hash (canonical base64 of ${HASH_SIZE} bytes) ` +
          "nor the empty line before the checkpoint",
        cause,
      );
    }
  }

  const checkpoint = text.slice(at);
  check(checkpoint.length > 0, "BAD_WITNESS_REQUEST", "request body has no checkpoint after the empty line");
  // A note's text may start with an empty line; a checkpoint's (its origin) may not.
  check(!checkpoint.startsWith("\n"), "BAD_WITNESS_REQUEST", "request body has more than one empty line before the checkpoint");
  checkNoteSyntax(checkpoint);
  return { oldSize, proof, checkpoint };
}

/**
 * The origin line of a request's checkpoint note, so the HTTP layer can look
 * up the log (and answer 404 for an unknown one) before judging. Throws
 * BAD_CHECKPOINT if the checkpoint is not a note.
 */
export function checkpointOrigin(checkpointNote: string): string {
  let text: string;
  try {
    text = parseNote(checkpointNote).text;
  } catch (cause) {
    throw new CairnError("BAD_CHECKPOINT", `checkpoint is not a signed note: ${messageOf(cause)}`, { cause });
  }
  return text.slice(0, text.indexOf("\n"));
}

/** The 409 response body: the witness's size in decimal and a newline (Content-Type TLOG_SIZE_CONTENT_TYPE). */
export function formatTlogSize(size: number): string {
  check(isSize(size), "BAD_DECIMAL", "tree size must be a non-negative safe integer");
  return `${size}\n`;
}

/** Parses a 409 response body (operator side); throws BAD_DECIMAL. */
export function parseTlogSize(body: string): number {
  check(typeof body === "string" && body.endsWith("\n"), "BAD_DECIMAL", "a text/x.tlog.size body is a decimal and a newline");
  return parseDecimal(body.slice(0, -1), "tree size");
}

function refuse(status: Refusal["status"], code: ErrorCode, message: string): Refusal {
  return { ok: false, status, code, message };
}

/** The witness's own configuration: a wrong log key is the caller's bug, so it throws. */
function logVerifiers(logKeys: readonly string[]): NoteVerifier[] {
  check(Array.isArray(logKeys) && logKeys.length > 0, "BAD_KEY", "a witnessed log needs at least one verifier key");
  return logKeys.map((k) => {
    const v = noteVerifier(k);
    // A cosignature (0x04) key belongs to a witness; it does not sign for a log.
    check(v.type === KEY_TYPE_ED25519, "BAD_KEY", `log key ${v.name}+${keyIdHex(v.keyId)} must be an Ed25519 (type 0x01) note key`);
    return v;
  });
}

/** The witness's own stored state: a corrupt one is the caller's bug, so it throws. */
function knownState(latest: WitnessedCheckpoint | undefined): { size: number; root: Uint8Array } {
  if (latest === undefined) return { size: 0, root: EMPTY_ROOT };
  check(isSize(latest.size), "BAD_CHECKPOINT", "stored witness state: size must be a non-negative safe integer");
  check(isHash(latest.root), "BAD_CHECKPOINT", `stored witness state: root must be ${HASH_SIZE} bytes`);
  check(latest.size > 0 || bytesEqual(latest.root, EMPTY_ROOT), "BAD_CHECKPOINT", "stored witness state: size 0 with a root other than the empty tree's");
  return { size: latest.size, root: latest.root };
}

/**
 * The spec's checks, in the spec's order:
 *   400 BAD_WITNESS_REQUEST   the request is malformed (one built in code);
 *   400 BAD_CHECKPOINT        the checkpoint is not a signed note;
 *   404 UNKNOWN_LOG           its origin line is not `origin`;
 *   403 LOG_SIGNATURE_INVALID no valid signature by one of logKeys, or one
 *                             by a log key that fails (signed-note: the
 *                             note is malformed); other keys are ignored;
 *   400 BAD_CHECKPOINT        the signed text is not a checkpoint;
 *   400 BAD_WITNESS_REQUEST   old size > checkpoint size;
 *   409 OLD_SIZE_MISMATCH     old size != the witness's size (0 if it never
 *                             cosigned this log); knownSize is that size;
 *   422 BAD_CHECKPOINT        size 0 with a root other than SHA-256("");
 *   422 CONSISTENCY_PROOF_INVALID  a proof from size 0 or between equal
 *                             sizes that is not empty, or one that does not
 *                             verify from (latest.size, latest.root) by
 *                             RFC 6962 §2.1.2 (RFC 9162 §2.1.4.2);
 *   422 CHECKPOINT_CONFLICT   same size as the witness's, another root.
 * Re-submitting the checkpoint the witness holds is ok (it cosigns again).
 *
 * Every refusal after the 403 check concerns a checkpoint the log really
 * signed; the spec lets the witness keep such requests as evidence of
 * misbehavior. `latest` is what the witness holds, read in the same
 * transaction that will store an accepted checkpoint. Throws (BAD_KEY,
 * BAD_CHECKPOINT) only for a bad `logKeys` or `latest`: those are the
 * caller's configuration and state, not the request's fault.
 */
export async function judgeAddCheckpoint(input: {
  readonly request: AddCheckpointRequest;
  readonly origin: string;
  readonly logKeys: readonly string[];
  readonly latest: WitnessedCheckpoint | undefined;
}): Promise<AddCheckpointVerdict> {
  const { request, origin } = input;
  check(typeof origin === "string" && origin.length > 0, "BAD_CHECKPOINT", "origin must be a non-empty string");
  const verifiers = logVerifiers(input.logKeys);
  const known = knownState(input.latest);

  const problem = requestProblem(request);
  if (problem !== undefined) return refuse(400, "BAD_WITNESS_REQUEST", problem);

  let note: ParsedNote;
  try {
    note = parseNote(request.checkpoint);
  } catch (e) {
    return refuse(400, "BAD_CHECKPOINT", `checkpoint is not a signed note: ${messageOf(e)}`);
  }

  if (note.text.slice(0, note.text.indexOf("\n")) !== origin) {
    return refuse(404, "UNKNOWN_LOG", "the checkpoint's origin is not a log this witness knows");
  }

  let text: string;
  try {
    text = (await openNote(request.checkpoint, verifiers)).text;
  } catch (e) {
    if (isCairnError(e, "BAD_SIGNATURE") || isCairnError(e, "NOTE_UNVERIFIED")) {
      return refuse(403, "LOG_SIGNATURE_INVALID", e.message);
    }
    throw e; // BAD_KEY: two configured log keys share a name and key id
  }

  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(text);
  } catch (e) {
    return refuse(400, "BAD_CHECKPOINT", messageOf(e));
  }

  const { oldSize, proof } = request;
  if (oldSize > checkpoint.size) {
    return refuse(400, "BAD_WITNESS_REQUEST", `old size ${oldSize} is above the checkpoint size ${checkpoint.size}`);
  }
  if (oldSize !== known.size) {
    return {
      ...refuse(409, "OLD_SIZE_MISMATCH", `old size ${oldSize} is not the witnessed size ${known.size}`),
      knownSize: known.size,
    };
  }
  if (checkpoint.size === 0 && !bytesEqual(checkpoint.root, EMPTY_ROOT)) {
    return refuse(422, "BAD_CHECKPOINT", "a checkpoint of size 0 must have the empty tree's root, SHA-256 of the empty string");
  }

  if (oldSize === 0 || oldSize === checkpoint.size) {
    if (proof.length > 0) {
      return refuse(422, "CONSISTENCY_PROOF_INVALID", "a proof from size 0 or between equal sizes must be empty");
    }
    if (oldSize === checkpoint.size && !bytesEqual(known.root, checkpoint.root)) {
      return refuse(422, "CHECKPOINT_CONFLICT", `checkpoint of size ${oldSize} has a root other than the one witnessed at that size`);
    }
  } else {
    try {
      verifyConsistency(known.size, checkpoint.size, known.root, checkpoint.root, proof);
    } catch (e) {
      if (!isCairnError(e, "CONSISTENCY_PROOF_INVALID")) throw e;
      return refuse(422, "CONSISTENCY_PROOF_INVALID", e.message);
    }
  }
  return { ok: true, checkpoint, body: text };
}

/**
 * Witness side: the body of a 200, the cosignature lines that signing
 * `checkpointBody` (a checkpoint note's text) with `signers` gives, each
 * "— name base64\n". The spec demands cosignatures with a non-zero
 * timestamp: pass cosigners (cosignature.ts) made with the current time.
 * Throws BAD_CHECKPOINT if the text is not a checkpoint.
 */
export async function cosignatureResponse(checkpointBody: string, signers: readonly NoteSigner[]): Promise<string> {
  parseCheckpoint(checkpointBody);
  check(signers.length > 0, "BAD_COSIGNATURE", "a cosignature response needs at least one signer");
  const note = await signNote(checkpointBody, signers);
  return note.slice(checkpointBody.length + 1);
}

/**
 * Operator side: the lines of a 200 response body that are valid
 * cosignature/v1 signatures by `memberKey` (a type-0x04 verifier key) over
 * the checkpoint's text, each with its "\n", so `checkpointNote +
 * lines.join("")` is the cosigned note. Lines by other keys are ignored, as
 * the spec demands. Throws BAD_COSIGNATURE if the body is not signature
 * lines, if a line by memberKey fails to verify or has a zero timestamp (the
 * spec forbids it; such a cosignature says nothing about the latest tree), or
 * if no line is by memberKey; BAD_KEY for a bad memberKey; BAD_NOTE or
 * BAD_CHECKPOINT if checkpointNote is not a signed checkpoint.
 */
export async function cosignaturesFromResponse(body: string, checkpointNote: string, memberKey: string): Promise<string[]> {
  const verifier = cosignerVerifier(memberKey);
  const { text } = parseNote(checkpointNote);
  parseCheckpoint(text);

  check(typeof body === "string" && body.length > 0 && body.endsWith("\n"), "BAD_COSIGNATURE", "response must be one or more signature lines, each ending in a newline");
  const lines = body.slice(0, -1).split("\n");
  lines.forEach((line, i) =>
    check(line.startsWith(SIG_PREFIX), "BAD_COSIGNATURE", `response line ${i + 1} is not a signature line ('— <name> <base64>')`),
  );
  // As the spec suggests: the response appended to the checkpoint's text is a
  // note; its syntax rules (canonical base64, no repeated key) apply.
  let parsed: ParsedNote;
  try {
    parsed = parseNote(`${text}\n${body}`);
  } catch (cause) {
    throw new CairnError("BAD_COSIGNATURE", `response is not well-formed signature lines: ${messageOf(cause)}`, { cause });
  }

  const mine = parsed.signatures.filter((s) => s.name === verifier.name && s.keyId === verifier.keyId);
  const id = `${verifier.name}+${keyIdHex(verifier.keyId)}`;
  check(mine.length > 0, "BAD_COSIGNATURE", `response has no cosignature by ${id}`);
  const message = utf8(text);
  const results = await Promise.all(mine.map((s) => verifier.verify(message, s.signature.slice())));
  results.forEach((r) => {
    check(r.ok, "BAD_COSIGNATURE", `cosignature by ${id} does not verify over this checkpoint`);
    check(r.timestamp !== 0, "BAD_COSIGNATURE", `cosignature by ${id} has a zero timestamp`);
  });
  return mine.map((s) => s.line + "\n");
}

/** A cosigner's verifier: cosignature/v1 (0x04) or ML-DSA-44 subtree/v1 (0x06); any other key type is BAD_KEY. */
function cosignerVerifier(memberKey: string): NoteVerifier {
  const key = parseVerifierKey(memberKey);
  check(key.type === KEY_TYPE_COSIGNATURE_V1 || key.type === KEY_TYPE_COSIGNATURE_MLDSA44, "BAD_KEY", "a member key must be a cosigner key (type 0x04 or 0x06)");
  return noteVerifier(key);
}

/**
 * The timestamp a cosignature line signed (0x04 and 0x06 both put it right
 * after the key id, as a big-endian u64). For lines cosignaturesFromResponse
 * returned, which are already verified; throws BAD_COSIGNATURE otherwise.
 */
export function cosignatureLineTime(line: string): number {
  const b64 = line.trimEnd().split(" ").at(-1) ?? "";
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64);
  } catch (cause) {
    throw new CairnError("BAD_COSIGNATURE", "not a signature line", { cause });
  }
  check(bytes.length >= 12, "BAD_COSIGNATURE", "a cosignature line holds a key id and a timestamp");
  const t = decodeTimestamp(bytes.subarray(4));
  check(t >= 0, "BAD_COSIGNATURE", "cosignature timestamp exceeds 2^53 - 1");
  return t;
}
