/**
 * Key rotation as chain records (FORMATS.md §10, key records).
 *
 *   cairn/key/v1
 *   <origin>
 *   <role: operator | member>
 *   <old verifier key>
 *   <new verifier key>
 *   <unix seconds>
 *
 * An operator record names two Ed25519 note keys (type 0x01, named after the
 * origin) and carries exactly two signatures: the old key's and the new
 * key's. A member record names two cosigner keys (type 0x04, named after the
 * member) and carries exactly three: an operator key's, and the old and the
 * new member key's, each made as a plain Ed25519 note signature (type 0x01)
 * by the member's cosigner key pair under the member's name. So a rotation
 * is vouched for by whoever held the retiring key and proves possession of
 * the new one: the operator alone cannot swap a member's key, and nobody
 * but the holder of the operator's key can hand the log to another.
 *
 * Reusing a cosigner key pair for note signatures is safe across the two
 * protocols: a key record's signed text begins with "cairn/key/v1\n", a
 * cosignature/v1 message with "cosignature/v1\n", so no signature made for
 * one verifies as the other, and keyRecordSigner signs nothing but a key
 * record.
 *
 * A record sealed in block h moves the role to the new key at the next
 * checkpoint but one: the old key signs (or cosigns) checkpoints up to size
 * h + 1 — the one that commits the record — and the new key from size h + 2.
 * The sizes are not written in the record, since the operator cannot know
 * in which block a queued record lands; every party derives them from the
 * chain. KeySchedule is what replaying the records produces: immutable, the
 * shape of a version-2 trust document's key lists.
 */
import { toHex, parseDecimal, utf8 } from "./bytes.js";
import { CairnError, check, withCode } from "./errors.js";
import {
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  noteVerifier,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
  type VerifierKey,
} from "./keys.js";
import { formatLines, splitLines } from "./lines.js";
import { addSignatures, openNote, parseNote, signNote } from "./note.js";
import { MAX_ENTRY_BYTES } from "./submission.js";
import type { ScheduledKey } from "./trust.js";

export const KEY_RECORD_HEADER = "cairn/key/v1";
const HEADER_LINE = KEY_RECORD_HEADER + "\n";

export type KeyRole = "operator" | "member";

export interface KeyRecordBody {
  readonly origin: string;
  readonly role: KeyRole;
  /** The retiring key: the operator's note key, or the member's cosigner key. */
  readonly old: string;
  readonly new: string;
  /** When the record was made, unix seconds. */
  readonly time: number;
}

export interface ParsedKeyRecord extends KeyRecordBody {
  /** Whose key turns over: the origin for the operator, else the member's name. */
  readonly name: string;
}

function keyOf(text: unknown, what: string, role: KeyRole): VerifierKey {
  check(typeof text === "string", "BAD_KEY_RECORD", `${what} must be a verifier-key string`);
  let k: VerifierKey;
  try {
    k = parseVerifierKey(text);
  } catch (cause) {
    throw new CairnError("BAD_KEY_RECORD", `${what} is not a valid verifier key: ${(cause as Error).message}`, { cause });
  }
  const type = role === "operator" ? KEY_TYPE_ED25519 : KEY_TYPE_COSIGNATURE_V1;
  check(k.type === type, "BAD_KEY_RECORD", `${what} must be ${role === "operator" ? "an Ed25519 note key (type 0x01)" : "a cosigner key (type 0x04)"}`);
  return k;
}

/** Checks a record's fields; returns the keys it names. */
function checkBody(r: KeyRecordBody): { old: VerifierKey; new: VerifierKey; name: string } {
  check(typeof r === "object" && r !== null, "BAD_KEY_RECORD", "key record must be an object");
  check(isValidKeyName(r.origin), "BAD_KEY_RECORD", "origin must be a valid key name (non-empty, no spaces, '+' or control characters)");
  check(r.role === "operator" || r.role === "member", "BAD_KEY_RECORD", 'role must be "operator" or "member"');
  const old = keyOf(r.old, "old key", r.role);
  const next = keyOf(r.new, "new key", r.role);
  check(old.name === next.name, "BAD_KEY_RECORD", `old and new key must carry one name (${old.name} is not ${next.name})`);
  if (r.role === "operator") check(old.name === r.origin, "BAD_KEY_RECORD", `operator keys are named after the origin, ${r.origin}`);
  else check(old.name !== r.origin, "BAD_KEY_RECORD", "a member key cannot carry the log's own name");
  check(toHex(old.publicKey) !== toHex(next.publicKey), "BAD_KEY_RECORD", "the new key is the old key");
  check(Number.isSafeInteger(r.time) && r.time >= 0, "BAD_KEY_RECORD", "time must be a non-negative safe integer");
  return { old, new: next, name: old.name };
}

export function formatKeyRecord(r: KeyRecordBody): string {
  checkBody(r);
  return formatLines([KEY_RECORD_HEADER, r.origin, r.role, r.old, r.new, String(r.time)]);
}

/** Parses the text of a key record, strictly; throws BAD_KEY_RECORD. */
export function parseKeyRecord(text: string): ParsedKeyRecord {
  check(typeof text === "string", "BAD_KEY_RECORD", "key record must be a string");
  const lines = splitLines(text, "BAD_KEY_RECORD", "key record");
  check(lines.length === 6, "BAD_KEY_RECORD", "key record must have 6 lines");
  const [header, origin, role, old, next, time] = lines as [string, string, string, string, string, string];
  check(header === KEY_RECORD_HEADER, "BAD_KEY_RECORD", `key record must start with "${KEY_RECORD_HEADER}"`);
  const body = {
    origin,
    role: role as KeyRole,
    old,
    new: next,
    time: withCode("BAD_KEY_RECORD", "time must be a decimal without leading zeros", () => parseDecimal(time)),
  };
  const { name } = checkBody(body);
  // Canonical keys only: the text is what every party hashes into the chain.
  check(parseVerifierKey(old).text === old && parseVerifierKey(next).text === next, "BAD_KEY_RECORD", "keys must be written canonically");
  return Object.freeze({ ...body, name });
}

/** Cheap test of an entry's kind: does its note text open with the key-record header line? */
export function isKeyRecordEntry(entry: string): boolean {
  return typeof entry === "string" && entry.startsWith(HEADER_LINE);
}

/** How many signatures a record of each role carries. */
const SIGNATURES: Record<KeyRole, number> = { operator: 2, member: 3 };

/**
 * The synchronous half: size, note syntax, the record text, and the right
 * number of signatures under the right names. The signatures themselves are
 * verifyKeyRecordSignatures' to check.
 */
export function parseKeyRecordEntry(entry: string): ParsedKeyRecord {
  check(typeof entry === "string", "BAD_KEY_RECORD", "key record entry must be a string");
  check(entry.length <= MAX_ENTRY_BYTES, "BAD_KEY_RECORD", `a key record must be at most ${MAX_ENTRY_BYTES} bytes`);
  let note;
  try {
    note = parseNote(entry, { maxSize: MAX_ENTRY_BYTES });
  } catch (cause) {
    throw new CairnError("BAD_KEY_RECORD", `key record is not a valid signed note: ${(cause as Error).message}`, { cause });
  }
  const record = parseKeyRecord(note.text);
  const want = SIGNATURES[record.role];
  check(note.signatures.length === want, "BAD_KEY_RECORD", `a ${record.role} key record carries exactly ${want} signatures (it has ${note.signatures.length})`);
  if (record.role === "member") {
    const byOperator = note.signatures.filter((s) => s.name === record.origin).length;
    const byMember = note.signatures.filter((s) => s.name === record.name).length;
    check(byOperator === 1 && byMember === 2, "BAD_KEY_RECORD", `a member key record is signed once by the operator (${record.origin}) and by the member's old and new keys (${record.name})`);
  } else {
    check(note.signatures.every((s) => s.name === record.origin), "BAD_KEY_RECORD", `an operator key record is signed by the old and the new key, both named ${record.origin}`);
  }
  return record;
}

/** A member's cosigner key seen as the note key (type 0x01) it signs key records with. */
function noteViewOf(key: string): NoteVerifier {
  const k = parseVerifierKey(key);
  return noteVerifier(formatVerifierKey(k.name, KEY_TYPE_ED25519, k.publicKey));
}

/**
 * The asynchronous half: every signature verifies, the old and the new key
 * among them, and for a member record one by `operatorKeys` (the operator
 * keys the chain knew by the record's block).
 */
export async function verifyKeyRecordSignatures(entry: string, record: ParsedKeyRecord, operatorKeys: readonly (string | NoteVerifier)[]): Promise<void> {
  const role = record.role === "operator" ? [noteVerifier(record.old), noteVerifier(record.new)] : [noteViewOf(record.old), noteViewOf(record.new)];
  const verifiers = record.role === "operator" ? role : [...operatorKeys.map((k) => (typeof k === "string" ? noteVerifier(k) : k)), ...role];
  let opened;
  try {
    opened = await openNote(entry, verifiers, { maxSize: MAX_ENTRY_BYTES });
  } catch (cause) {
    throw new CairnError("BAD_KEY_RECORD", `key record signatures do not verify: ${(cause as Error).message}`, { cause });
  }
  const signed = new Set(opened.verified.map((v) => `${v.name}\n${v.keyId}`));
  for (const [v, what] of [
    [role[0]!, "old"],
    [role[1]!, "new"],
  ] as const) {
    check(signed.has(`${v.name}\n${v.keyId}`), "BAD_KEY_RECORD", `the key record is not signed by its ${what} key`);
  }
  check(opened.unverified.length === 0, "BAD_KEY_RECORD", record.role === "member" ? "the key record's operator signature is not by an operator key of this chain" : "the key record carries a signature by neither of its keys");
}

/** openKeyRecord: both halves. */
export async function openKeyRecord(entry: string, operatorKeys: readonly (string | NoteVerifier)[]): Promise<ParsedKeyRecord> {
  const record = parseKeyRecordEntry(entry);
  await verifyKeyRecordSignatures(entry, record, operatorKeys);
  return record;
}

/**
 * A member's signer for key records: its cosigner seed, as a type-0x01 note
 * key under its name. It refuses any text that is not a key record naming
 * that key pair, so it cannot be turned into a general-purpose signer.
 */
export function keyRecordSigner(seed: Uint8Array, name: string): NoteSigner {
  const signer = noteSigner(formatSignerKey(name, KEY_TYPE_ED25519, seed));
  return {
    name: signer.name,
    keyId: signer.keyId,
    sign(text: Uint8Array): Promise<Uint8Array> {
      const record = parseKeyRecord(new TextDecoder("utf-8", { fatal: true }).decode(text));
      check(record.name === name, "BAD_KEY_RECORD", `this signer signs key records of ${name} only`);
      return signer.sign(text);
    },
  };
}

/**
 * The member's half of a member record: the text signed by its old and its
 * new cosigner seed. The operator adds its signature (countersignKeyRecord)
 * before it queues the record.
 */
export async function signMemberKeyRecord(r: KeyRecordBody, oldSeed: Uint8Array, newSeed: Uint8Array): Promise<string> {
  const { name } = checkBody(r);
  check(r.role === "member", "BAD_KEY_RECORD", "signMemberKeyRecord makes member records");
  return signNote(formatKeyRecord(r), [keyRecordSigner(oldSeed, name), keyRecordSigner(newSeed, name)]);
}

/** An operator record, signed by the retiring and the new operator key. */
export async function signOperatorKeyRecord(r: KeyRecordBody, oldKey: NoteSigner, newKey: NoteSigner): Promise<string> {
  checkBody(r);
  check(r.role === "operator", "BAD_KEY_RECORD", "signOperatorKeyRecord makes operator records");
  const entry = await signNote(formatKeyRecord(r), [oldKey, newKey]);
  await openKeyRecord(entry, []);
  return entry;
}

/** Adds the operator's signature to a member record the member signed. */
export async function countersignKeyRecord(memberSigned: string, operator: NoteSigner): Promise<string> {
  const note = parseNote(memberSigned, { maxSize: MAX_ENTRY_BYTES });
  const record = parseKeyRecord(note.text);
  check(record.role === "member", "BAD_KEY_RECORD", "only member key records are countersigned");
  check(note.signatures.length === 2 && note.signatures.every((s) => s.name === record.name), "BAD_KEY_RECORD", `the member signs first, with its old and its new key (${record.name})`);
  const entry = await addSignatures(memberSigned, [operator], { maxSize: MAX_ENTRY_BYTES });
  check(utf8(entry).length <= MAX_ENTRY_BYTES, "BAD_KEY_RECORD", `a key record must be at most ${MAX_ENTRY_BYTES} bytes`);
  return entry;
}

// ---------------------------------------------------------------------------
// The schedule.

export interface MemberSchedule {
  readonly name: string;
  readonly keys: readonly ScheduledKey[];
}

function publicKeyOf(key: string): string {
  return toHex(parseVerifierKey(key).publicKey);
}

/** Who signs which checkpoint sizes, replayed from the chain's key records. Immutable. */
export class KeySchedule {
  private constructor(
    readonly operator: readonly ScheduledKey[],
    private readonly byMember: ReadonlyMap<string, readonly ScheduledKey[]>,
  ) {}

  /**
   * The schedule before any record: the operator keys a party pinned, and
   * the members' keys it knows (a witness knows none; the operator knows its
   * configuration), all valid from size 0.
   */
  static pinned(operatorKeys: readonly string[], members: readonly { name: string; key: string }[] = []): KeySchedule {
    check(operatorKeys.length > 0, "BAD_KEY", "a key schedule needs at least one operator key");
    return new KeySchedule(
      operatorKeys.map((key) => ({ key, from: 0 })),
      new Map(members.map((m) => [m.name, [{ key: m.key, from: 0 }]])),
    );
  }

  /** Operator keys that may sign a checkpoint of `size` blocks. */
  operatorKeysAt(size: number): string[] {
    return this.operator.filter((k) => size >= k.from && (k.until === undefined || size <= k.until)).map((k) => k.key);
  }

  /**
   * Operator keys in use by the time block `height` was sealed, retired ones
   * included: a record queued just before a rotation may be sealed just after
   * it, and the block holding it is still vouched for by the checkpoint's
   * signature under the key of its time.
   */
  operatorKeysBy(height: number): string[] {
    return this.operator.filter((k) => k.from <= height + 1).map((k) => k.key);
  }

  /** The member's key for a checkpoint of `size`, or undefined if the chain holds no record of it. */
  memberKeyAt(name: string, size: number): string | undefined {
    return this.byMember.get(name)?.find((k) => size >= k.from && (k.until === undefined || size <= k.until))?.key;
  }

  memberKeys(name: string): readonly ScheduledKey[] | undefined {
    return this.byMember.get(name);
  }

  members(): MemberSchedule[] {
    return [...this.byMember].map(([name, keys]) => ({ name, keys }));
  }

  /**
   * The schedule after a record sealed in block `height`: the old key signs
   * up to size height + 1, the new one from height + 2. The old key must be
   * the role's key in use (for a member the chain has no record of, the
   * record starts its schedule); the new key must be new to the chain, in
   * any role. Anything else throws KEY_RECORD_CONFLICT.
   */
  apply(record: ParsedKeyRecord, height: number): KeySchedule {
    const conflict = (why: string) => new CairnError("KEY_RECORD_CONFLICT", `cannot move ${record.name} to key ${record.new}: ${why}`);
    const fresh = publicKeyOf(record.new);
    const all = [...this.operator, ...[...this.byMember.values()].flat()];
    if (all.some((k) => publicKeyOf(k.key) === fresh)) throw conflict("that key has been used in this chain before");
    const retire = (keys: readonly ScheduledKey[] | undefined): ScheduledKey[] => {
      const list = keys ?? [{ key: record.old, from: 0 }];
      const i = list.findIndex((k) => k.key === record.old && k.until === undefined);
      if (i < 0) throw conflict(`${record.old} is not its key in use`);
      const current = list[i]!;
      // Two rotations of one role in one block would give a key no size at all.
      if (current.from > height + 1) throw conflict("its key was already rotated in this block");
      return [...list.slice(0, i), { key: current.key, from: current.from, until: height + 1 }, ...list.slice(i + 1), { key: record.new, from: height + 2 }];
    };
    if (record.role === "operator") return new KeySchedule(retire(this.operator), this.byMember);
    const members = new Map(this.byMember);
    members.set(record.name, retire(this.byMember.get(record.name)));
    return new KeySchedule(this.operator, members);
  }
}
