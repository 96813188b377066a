/**
 * C2SP signed notes (c2sp.org/signed-note, "Format" and "Signatures"),
 * byte-compatible with golang.org/x/mod/sumdb/note.
 *
 * A note is a text ending in '\n', a blank line, and one or more lines
 * `— <key name> base64(key id || signature)\n`. Parsing is syntax only and
 * strict; `openNote` adds the C2SP verification policy: unknown keys are
 * ignored, a known key whose signature fails rejects the whole note, and a
 * note with no verified signature is rejected.
 *
 * Where we are stricter than Go (so some notes Go would open, we refuse):
 * a repeated (name, key id) line is an error rather than silently dropped;
 * key names may not hold control characters or U+FEFF; the size is capped.
 */
import { concatBytes, fromBase64, toBase64, utf8 } from "./bytes.js";
import { CairnError, check } from "./errors.js";
import { isValidKeyName, keyIdHex, noteVerifier, type NoteSigner, type NoteVerifier } from "./keys.js";

/**
 * Default cap on a note's size in UTF-8 bytes. Cairn's notes are a few hundred
 * bytes, but a note must carry up to 100 signatures and post-quantum ones run
 * to ~3.3 kB of base64 each (C2SP: "MUST accept at least up to 16"); 1 MiB
 * leaves room for 100 of those while bounding the work an attacker can cause.
 * Callers that know better (the HTTP layer) pass a lower `maxSize`.
 */
export const MAX_NOTE_SIZE = 1 << 20;
/** Most signature lines accepted (as Go's sumdb/note). */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = "\u2014 "; // em dash, space
const MIN_SIGNATURE_BYTES = 5; // 4-byte key id and at least one signature byte

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** Signature bytes without the 4-byte key id. */
  readonly signature: Uint8Array;
  /** The signature line as it appears in the note, without its '\n'. */
  readonly line: string;
}

export interface ParsedNote {
  /** The signed text, including its final '\n' but not the blank line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface NoteOptions {
  /** Maximum size in UTF-8 bytes (default and upper bound: MAX_NOTE_SIZE). */
  maxSize?: number;
}

export interface VerifiedSignature {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** Signing time for timestamped types (cosignatures). */
  readonly timestamp?: number;
}

export interface OpenedNote {
  readonly text: string;
  readonly verified: readonly VerifiedSignature[];
  /** Signatures by keys the caller did not name; C2SP says to ignore them. */
  readonly unverified: readonly NoteSignature[];
}

// Keeps a leading U+FEFF as text: a decoder that dropped it would let two
// different byte strings open to the same text.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function maxSizeOf(opts: NoteOptions): number {
  const max = opts.maxSize ?? MAX_NOTE_SIZE;
  check(Number.isSafeInteger(max) && max > 0, "BAD_NOTE", "maxSize must be a positive integer");
  return Math.min(max, MAX_NOTE_SIZE);
}

/**
 * Checks the characters of a note (or text) and returns its UTF-8 length:
 * no control characters but '\n' (C2SP: "below U+0020"), and no lone
 * surrogates, which have no UTF-8 encoding.
 */
function checkChars(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 && c !== 0x0a) throw new CairnError("BAD_NOTE", `note contains control character U+${c.toString(16).padStart(4, "0")}`);
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw new CairnError("BAD_NOTE", "note is not valid UTF-8 (lone surrogate)");
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw new CairnError("BAD_NOTE", "note is not valid UTF-8 (lone surrogate)");
    } else {
      bytes += 3;
    }
  }
  return bytes;
}

function decodeNote(note: string | Uint8Array, max: number): string {
  if (typeof note === "string") {
    // Each UTF-16 unit is at least one UTF-8 byte: a cheap early reject.
    check(note.length <= max, "BAD_NOTE", `note exceeds ${max} bytes`);
    const size = checkChars(note);
    check(size <= max, "BAD_NOTE", `note exceeds ${max} bytes`);
    return note;
  }
  check(note instanceof Uint8Array, "BAD_NOTE", "note must be a string or bytes");
  check(note.length <= max, "BAD_NOTE", `note exceeds ${max} bytes`);
  let text: string;
  try {
    text = decoder.decode(note);
  } catch (cause) {
    throw new CairnError("BAD_NOTE", "note is not valid UTF-8", { cause });
  }
  checkChars(text);
  return text;
}

function parseSignatureLine(line: string): NoteSignature {
  check(line.startsWith(SIG_PREFIX), "BAD_NOTE", "signature line must start with an em dash and a space");
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  check(space > 0, "BAD_NOTE", "signature line must be '— <name> <base64>'");
  const name = rest.slice(0, space);
  check(isValidKeyName(name), "BAD_NOTE", "signature line has an invalid key name");
  let raw: Uint8Array;
  try {
    raw = fromBase64(rest.slice(space + 1)); // canonical only: one spelling per signature
  } catch (cause) {
    throw new CairnError("BAD_NOTE", "signature is not canonical base64", { cause });
  }
  check(raw.length >= MIN_SIGNATURE_BYTES, "BAD_NOTE", "signature must be at least 5 bytes");
  const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  return { name, keyId, signature: raw.slice(4), line };
}

function signatureKey(name: string, keyId: number): string {
  // Fixed-width id first, so no (name, id) pair can collide with another.
  return keyIdHex(keyId) + name;
}

/** Parses a signed note (syntax only); throws BAD_NOTE. */
export function parseNote(note: string | Uint8Array, opts: NoteOptions = {}): ParsedNote {
  const s = decodeNote(note, maxSizeOf(opts));
  const split = s.lastIndexOf("\n\n");
  check(split >= 0, "BAD_NOTE", "note has no blank line before its signatures");
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  check(block.length > 0, "BAD_NOTE", "note has no signatures");
  check(block.endsWith("\n"), "BAD_NOTE", "note must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  check(lines.length <= MAX_NOTE_SIGNATURES, "BAD_NOTE", `note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  const seen = new Set<string>();
  const signatures = lines.map((line) => {
    const sig = parseSignatureLine(line);
    const key = signatureKey(sig.name, sig.keyId);
    check(!seen.has(key), "BAD_NOTE", `note has two signatures by key ${sig.name}+${keyIdHex(sig.keyId)}`);
    seen.add(key);
    return sig;
  });
  return { text, signatures };
}

function checkText(text: string): Uint8Array {
  check(typeof text === "string" && text.length > 0, "BAD_NOTE", "note text must not be empty");
  check(text.endsWith("\n"), "BAD_NOTE", "note text must end with a newline");
  checkChars(text);
  return utf8(text);
}

/** Formats a text and its signatures as a signed note; throws BAD_NOTE. */
export function formatNote(
  text: string,
  signatures: readonly { readonly name: string; readonly keyId: number; readonly signature: Uint8Array }[],
): string {
  checkText(text);
  check(signatures.length > 0, "BAD_NOTE", "a note needs at least one signature");
  check(signatures.length <= MAX_NOTE_SIGNATURES, "BAD_NOTE", `a note holds at most ${MAX_NOTE_SIGNATURES} signatures`);
  const seen = new Set<string>();
  let out = text + "\n";
  for (const { name, keyId, signature } of signatures) {
    check(isValidKeyName(name), "BAD_KEY_NAME", "signature key name is invalid");
    check(Number.isInteger(keyId) && keyId >= 0 && keyId <= 0xffffffff, "BAD_NOTE", "key id must be a uint32");
    check(signature.length >= MIN_SIGNATURE_BYTES - 4, "BAD_NOTE", "signature must not be empty");
    const key = signatureKey(name, keyId);
    check(!seen.has(key), "BAD_NOTE", `two signatures by key ${name}+${keyIdHex(keyId)}`);
    seen.add(key);
    const id = Uint8Array.of(keyId >>> 24, (keyId >>> 16) & 255, (keyId >>> 8) & 255, keyId & 255);
    out += `${SIG_PREFIX}${name} ${toBase64(concatBytes(id, signature))}\n`;
  }
  check(checkChars(out) <= MAX_NOTE_SIZE, "BAD_NOTE", `note exceeds ${MAX_NOTE_SIZE} bytes`);
  return out;
}

async function signAll(
  text: Uint8Array,
  signers: readonly NoteSigner[],
): Promise<{ name: string; keyId: number; signature: Uint8Array }[]> {
  for (const s of signers) check(isValidKeyName(s.name), "BAD_KEY_NAME", "signer key name is invalid");
  return Promise.all(
    signers.map(async (s) => ({ name: s.name, keyId: s.keyId, signature: await s.sign(text.slice()) })),
  );
}

/** Signs `text` with every signer (concurrently) and formats the note. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  const bytes = checkText(text);
  check(signers.length > 0, "BAD_NOTE", "signNote needs at least one signer");
  return formatNote(text, await signAll(bytes, signers));
}

/**
 * Adds signatures (e.g. cosignatures) to a signed note. Existing lines are
 * kept byte for byte and in order; as in Go's note.Sign, a new signature by a
 * key that already signed replaces that key's old line (a cosigner re-signing
 * with a newer timestamp), since two lines by one key are not a valid note.
 */
export async function addSignatures(
  note: string | Uint8Array,
  signers: readonly NoteSigner[],
  opts: NoteOptions = {},
): Promise<string> {
  const parsed = parseNote(note, opts);
  const added = await signAll(utf8(parsed.text), signers);
  const replaced = new Set(added.map((s) => signatureKey(s.name, s.keyId)));
  const kept = parsed.signatures.filter((s) => !replaced.has(signatureKey(s.name, s.keyId)));
  return formatNote(parsed.text, [...kept, ...added]);
}

interface KnownVerifier {
  readonly verifier: NoteVerifier;
  readonly text: string | undefined;
  ambiguous: boolean;
}

/**
 * Opens a signed note: parses it, verifies every signature by a known key
 * (concurrently), and applies the C2SP policy. `verifiers` are verifier-key
 * strings or NoteVerifier objects. Throws BAD_NOTE (syntax), BAD_SIGNATURE (a
 * known key's signature fails; the whole note is rejected), BAD_KEY (a bad or
 * ambiguous verifier key), or NOTE_UNVERIFIED (no known key signed).
 */
export async function openNote(
  note: string | Uint8Array,
  verifiers: readonly (string | NoteVerifier)[],
  opts: NoteOptions = {},
): Promise<OpenedNote> {
  return openParsedNote(parseNote(note, opts), verifiers);
}

/**
 * openNote for a note the caller has parsed already (to read it before its
 * signatures are checked): the same checks, without parsing it twice.
 */
export async function openParsedNote(parsed: ParsedNote, verifiers: readonly (string | NoteVerifier)[]): Promise<OpenedNote> {
  const known = new Map<string, KnownVerifier>();
  for (const v of verifiers) {
    const verifier = typeof v === "string" ? noteVerifier(v) : v;
    const text = typeof v === "string" ? v : undefined;
    const key = signatureKey(verifier.name, verifier.keyId);
    const prior = known.get(key);
    if (prior === undefined) {
      known.set(key, { verifier, text, ambiguous: false });
    } else if (prior.verifier !== verifier && (text === undefined || prior.text !== text)) {
      // Two different keys with one (name, id): refuse to guess which is
      // meant, but only if a signature actually needs one (as Go does).
      prior.ambiguous = true;
    }
  }

  const text = utf8(parsed.text);
  const unverified: NoteSignature[] = [];
  const checks: { sig: NoteSignature; verifier: NoteVerifier }[] = [];
  for (const sig of parsed.signatures) {
    const k = known.get(signatureKey(sig.name, sig.keyId));
    if (k === undefined) {
      unverified.push(sig);
      continue;
    }
    if (k.ambiguous) throw new CairnError("BAD_KEY", `ambiguous verifier key ${sig.name}+${keyIdHex(sig.keyId)}`);
    checks.push({ sig, verifier: k.verifier });
  }

  const results = await Promise.all(checks.map(({ sig, verifier }) => verifier.verify(text, sig.signature.slice())));
  const verified: VerifiedSignature[] = [];
  results.forEach((r, i) => {
    const { sig, verifier } = checks[i]!;
    if (!r.ok) throw new CairnError("BAD_SIGNATURE", `invalid signature for key ${sig.name}+${keyIdHex(sig.keyId)}`);
    verified.push(
      r.timestamp === undefined
        ? { name: sig.name, keyId: sig.keyId, type: verifier.type }
        : { name: sig.name, keyId: sig.keyId, type: verifier.type, timestamp: r.timestamp },
    );
  });

  if (verified.length === 0) {
    const names = unverified.slice(0, 4).map((s) => `${s.name}+${keyIdHex(s.keyId)}`);
    throw new CairnError("NOTE_UNVERIFIED", `note has no signature by a known key (signed by ${names.join(", ")})`);
  }
  return { text: parsed.text, verified, unverified };
}

