/**
 * The client registry as chain records (FORMATS v2, client records).
 *
 *   cairn/client/v1
 *   <origin>
 *   <action: register | revoke>
 *   <client verifier key: C2SP vkey, type 0x01 Ed25519>
 *   <unix seconds>
 *
 * signed by the operator: exactly one signature line, named after the origin.
 * A record is sealed into a block like a submission — its entry is the whole
 * signed note, its id the hex RFC 6962 leaf hash of those bytes — so every
 * member replays registrations and revocations in the same order as the
 * submissions they govern, and a revocation takes effect at a point of the
 * chain everybody agrees on.
 *
 * ClientRegistry is the state that replay produces. It is immutable (a block
 * that fails verification leaves the caller's registry as it was); a draft
 * applies a block's records with one copy of the state rather than one per
 * record.
 */
import { parseDecimal, utf8 } from "./bytes.js";
import { CairnError, check, withCode } from "./errors.js";
import { isValidKeyName, KEY_TYPE_ED25519, keyIdHex, noteVerifier, parseVerifierKey, type NoteSigner, type NoteVerifier } from "./keys.js";
import { formatLines, splitLines } from "./lines.js";
import { openNote, parseNote, signNote } from "./note.js";
import { MAX_ENTRY_BYTES } from "./submission.js";

export const CLIENT_RECORD_HEADER = "cairn/client/v1";
const HEADER_LINE = CLIENT_RECORD_HEADER + "\n";

/**
 * Records are entries and share the submissions' cap (MAX_ENTRY_BYTES): with
 * the two key names and the signature a record is ~190 bytes plus twice the
 * origin and the client's name, so the cap only bounds what an untrusted
 * block can make a witness parse.
 */
export const MAX_CLIENT_RECORD_BYTES = MAX_ENTRY_BYTES;

export type ClientAction = "register" | "revoke";
export type ClientStatus = "active" | "revoked";

export interface ClientRecordBody {
  readonly origin: string;
  readonly action: ClientAction;
  /** The client's verifier key (type 0x01); its name is the client's name. */
  readonly key: string;
  /** When the operator made the record, unix seconds. */
  readonly time: number;
}

export interface ParsedClientRecord extends ClientRecordBody {
  /** The client's name: the name of `key`. */
  readonly name: string;
}

export interface ClientState {
  readonly key: string;
  readonly status: ClientStatus;
}

/** Runs fn, re-raising a failure as BAD_CLIENT_RECORD with `what` and the original message (kept as cause). */
function recordCheck<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new CairnError("BAD_CLIENT_RECORD", `${what}: ${why}`, { cause });
  }
}

function isAction(a: unknown): a is ClientAction {
  return a === "register" || a === "revoke";
}

/**
 * Client names a person can read without being fooled (FORMATS.md, client
 * records): lowercase ASCII letters and digits, with '.', '-', '_' and '/'
 * inside, 1 to 128 characters. A verifier reads the name to decide who
 * signed, so "bаnk-a.example" with a Cyrillic а, "Bank-A.example" or a name
 * with an invisible character must not be registrable beside "bank-a.example".
 */
const CLIENT_NAME = /^[a-z0-9](?:[a-z0-9._/-]{0,126}[a-z0-9])?$/;

export function isPlainClientName(name: string): boolean {
  return CLIENT_NAME.test(name);
}

export const CLIENT_NAME_RULE = "lowercase ASCII letters and digits, with '.', '-', '_' or '/' between them, at most 128 characters";

/** Parses and checks a client key: a canonical type-0x01 verifier key with a plain name. Returns its name. */
function clientKeyName(key: string): string {
  const parsed = recordCheck("client key must be a valid C2SP verifier key", () => parseVerifierKey(key));
  check(parsed.type === KEY_TYPE_ED25519, "BAD_CLIENT_RECORD", "client key must be an Ed25519 note key (type 0x01)");
  check(isPlainClientName(parsed.name), "BAD_CLIENT_RECORD", `client name ${JSON.stringify(parsed.name)} is not plain: ${CLIENT_NAME_RULE} (look-alike names are refused)`);
  return parsed.name;
}

/**
 * Records parseClientRecord made (frozen, so still valid): applying one skips
 * re-parsing its key, which would cost the torsion check again once the key
 * cache (keys.ts, 1024 keys) has moved on, as it does in a large block.
 */
const parsedRecords = new WeakSet<ClientRecordBody>();

function checkBody(r: ClientRecordBody): string {
  if (parsedRecords.has(r)) return (r as ParsedClientRecord).name;
  check(typeof r === "object" && r !== null, "BAD_CLIENT_RECORD", "client record must be an object");
  check(isValidKeyName(r.origin), "BAD_CLIENT_RECORD", "origin must be a valid key name (non-empty, no spaces, '+' or control characters)");
  check(isAction(r.action), "BAD_CLIENT_RECORD", 'action must be "register" or "revoke"');
  check(typeof r.key === "string", "BAD_CLIENT_RECORD", "client key must be a verifier-key string");
  const name = clientKeyName(r.key);
  check(Number.isSafeInteger(r.time) && r.time >= 0, "BAD_CLIENT_RECORD", "time must be a non-negative safe integer");
  return name;
}

export function formatClientRecord(r: ClientRecordBody): string {
  checkBody(r);
  return formatLines([CLIENT_RECORD_HEADER, r.origin, r.action, r.key, String(r.time)]);
}

/** Parses the text of a client record, strictly; throws BAD_CLIENT_RECORD. */
export function parseClientRecord(text: string): ParsedClientRecord {
  check(typeof text === "string", "BAD_CLIENT_RECORD", "client record must be a string");
  const lines = splitLines(text, "BAD_CLIENT_RECORD", "client record");
  check(lines.length === 5, "BAD_CLIENT_RECORD", "client record must have 5 lines");
  const [header, origin, action, key, time] = lines as [string, string, string, string, string];
  check(header === CLIENT_RECORD_HEADER, "BAD_CLIENT_RECORD", `client record must start with "${CLIENT_RECORD_HEADER}"`);
  check(isValidKeyName(origin), "BAD_CLIENT_RECORD", "origin must be a valid key name (no spaces, '+' or control characters)");
  check(isAction(action), "BAD_CLIENT_RECORD", 'action must be "register" or "revoke"');
  const name = clientKeyName(key);
  const record: ParsedClientRecord = Object.freeze({
    origin,
    action,
    key,
    time: withCode("BAD_CLIENT_RECORD", "time must be a decimal without leading zeros", () => parseDecimal(time)),
    name,
  });
  parsedRecords.add(record);
  return record;
}

/** Formats and signs a record with the operator's key; returns the entry text. */
export async function signClientRecord(r: ClientRecordBody, operator: NoteSigner): Promise<string> {
  const text = formatClientRecord(r);
  check(operator.name === r.origin, "BAD_CLIENT_RECORD", `client records are signed by the operator's key, named ${r.origin}, not ${operator.name}`);
  const entry = await signNote(text, [operator]);
  check(utf8(entry).length <= MAX_CLIENT_RECORD_BYTES, "BAD_CLIENT_RECORD", `a client record must be at most ${MAX_CLIENT_RECORD_BYTES} bytes`);
  return entry;
}

/** Cheap test of an entry's kind: does its note text open with the record header line? */
export function isClientRecordEntry(entry: string): boolean {
  return typeof entry === "string" && entry.startsWith(HEADER_LINE);
}

/**
 * The synchronous half of openClientRecord: size, note syntax, exactly one
 * signature named after the record's origin, and the record text. The
 * signature itself is not checked. verify-block.ts uses the halves apart so
 * that a block's signatures are checked concurrently.
 */
export function parseClientRecordEntry(entry: string): ParsedClientRecord {
  check(typeof entry === "string", "BAD_CLIENT_RECORD", "client record entry must be a string");
  // UTF-16 length is a lower bound on UTF-8 length: a cheap early reject.
  check(entry.length <= MAX_CLIENT_RECORD_BYTES, "BAD_CLIENT_RECORD", `a client record must be at most ${MAX_CLIENT_RECORD_BYTES} bytes`);
  const note = recordCheck("client record is not a valid signed note", () => parseNote(entry, { maxSize: MAX_CLIENT_RECORD_BYTES }));
  check(note.signatures.length === 1, "BAD_CLIENT_RECORD", `a client record carries exactly one signature, the operator's (it has ${note.signatures.length})`);
  const record = parseClientRecord(note.text);
  const signer = note.signatures[0]!.name;
  check(signer === record.origin, "BAD_CLIENT_RECORD", `a client record is signed by the operator's key, named ${record.origin}, not ${signer}`);
  return record;
}

/** The asynchronous half: the one signature verifies under one of the operator's keys. */
export async function verifyClientRecordSignature(entry: string, operatorKeys: readonly (string | NoteVerifier)[]): Promise<void> {
  let opened;
  try {
    opened = await openNote(entry, operatorKeys, { maxSize: MAX_CLIENT_RECORD_BYTES });
  } catch (cause) {
    // Not through recordCheck: that one is synchronous.
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new CairnError("BAD_CLIENT_RECORD", `client record is not signed by an operator key: ${why}`, { cause });
  }
  const sig = opened.verified[0]!;
  // A 0x04 (cosignature) key in operatorKeys would be a configuration slip;
  // a record signature is a plain note signature.
  check(sig.type === KEY_TYPE_ED25519, "BAD_CLIENT_RECORD", `operator key ${sig.name}+${keyIdHex(sig.keyId)} is not an Ed25519 note key`);
}

/**
 * Opens a record entry: parses it, checks that it carries exactly one
 * signature and that it verifies under one of operatorKeys (vkey strings).
 * Throws BAD_CLIENT_RECORD, with the underlying error as cause.
 */
export async function openClientRecord(entry: string, operatorKeys: readonly string[]): Promise<ParsedClientRecord> {
  const record = parseClientRecordEntry(entry);
  await verifyClientRecordSignature(entry, operatorKeys);
  return record;
}

// ---------------------------------------------------------------------------
// The registry.

/** Verifiers by key text. A cache, not state: registries derived from one another share it. */
type VerifierCache = Map<string, NoteVerifier>;

/** The one rule of the registry: what a record does to the state of its client. */
function transition(name: string, current: ClientState | undefined, record: ClientRecordBody): ClientState {
  if (record.action === "register") {
    if (current !== undefined) {
      const how = current.key === record.key ? "with this key" : "with another key";
      throw new CairnError("REGISTRY_CONFLICT", `cannot register ${name}: already registered (${current.status}) ${how}; a name is registered once`);
    }
    return Object.freeze({ key: record.key, status: "active" });
  }
  if (current === undefined) throw new CairnError("REGISTRY_CONFLICT", `cannot revoke ${name}: not registered`);
  if (current.key !== record.key) throw new CairnError("REGISTRY_CONFLICT", `cannot revoke ${name}: it is registered with another key`);
  if (current.status === "revoked") throw new CairnError("REGISTRY_CONFLICT", `cannot revoke ${name}: already revoked`);
  return Object.freeze({ key: record.key, status: "revoked" });
}

function checkState(state: unknown, name: string): asserts state is ClientState {
  const s = state as ClientState;
  check(typeof s === "object" && s !== null && typeof s.key === "string", "BAD_CLIENT_RECORD", `client ${name} has no key`);
  check(s.status === "active" || s.status === "revoked", "BAD_CLIENT_RECORD", `client ${name} has an unknown status`);
}

/** The registry state, replayed in chain order. Immutable: apply returns a new registry. */
export class ClientRegistry {
  private constructor(
    private readonly clients: ReadonlyMap<string, ClientState>,
    private readonly verifiers: VerifierCache,
  ) {}

  static empty(): ClientRegistry {
    return new ClientRegistry(new Map(), new Map());
  }

  /**
   * A registry from stored state (a member's own store, which checked every
   * record when it was sealed). Checks consistency — names valid and unique,
   * each key named after its client, statuses known — but not the key
   * material: a full parse costs ~0.6 ms a key (the torsion check) and is
   * done, once, the first time a client's signature is checked.
   */
  static from(clients: Iterable<{ name: string; key: string; status: ClientStatus }>): ClientRegistry {
    const map = new Map<string, ClientState>();
    for (const c of clients) {
      check(typeof c === "object" && c !== null && isValidKeyName(c.name), "BAD_CLIENT_RECORD", "client name must be a valid key name");
      checkState(c, c.name);
      check(c.key.startsWith(c.name + "+"), "BAD_CLIENT_RECORD", `client ${c.name} has a key named after someone else`);
      check(!map.has(c.name), "REGISTRY_CONFLICT", `client ${c.name} appears twice`);
      map.set(c.name, Object.freeze({ key: c.key, status: c.status }));
    }
    return new ClientRegistry(map, new Map());
  }

  /**
   * The registry after one record. register: the name must be unknown (a
   * name is registered once, even after revocation). revoke: the name must be
   * active with exactly that key. Anything else throws REGISTRY_CONFLICT.
   * The record's origin and time are the caller's to check.
   */
  apply(record: ClientRecordBody): ClientRegistry {
    const draft = this.draft();
    draft.apply(record);
    return draft.done();
  }

  lookup(name: string): ClientState | undefined {
    return this.clients.get(name);
  }

  /** The verifier for a client's registered key (whatever its status), parsed once per key. */
  verifier(name: string): NoteVerifier | undefined {
    const state = this.clients.get(name);
    return state === undefined ? undefined : verifierOf(this.verifiers, state.key);
  }

  get size(): number {
    return this.clients.size;
  }

  entries(): IterableIterator<[string, ClientState]> {
    return this.clients.entries();
  }

  /** A draft for applying many records (a block's) with one copy of the state. */
  draft(): ClientRegistryDraft {
    return new ClientRegistryDraft(this.clients, this.verifiers, (m, v) => new ClientRegistry(m, v));
  }
}

function verifierOf(cache: VerifierCache, key: string): NoteVerifier {
  let v = cache.get(key);
  if (v === undefined) {
    v = noteVerifier(key);
    cache.set(key, v);
  }
  return v;
}

/**
 * Applies records in order; lookups see the records applied so far. The
 * state is copied on the first record, so a block without records copies
 * nothing. `done` ends the draft and returns the registry it built (over
 * the original's state if no record was applied).
 */
export class ClientRegistryDraft {
  private own: Map<string, ClientState> | undefined;
  private finished = false;

  /** @internal made by ClientRegistry.draft() */
  constructor(
    private readonly base: ReadonlyMap<string, ClientState>,
    private readonly verifiers: VerifierCache,
    private readonly make: (m: ReadonlyMap<string, ClientState>, v: VerifierCache) => ClientRegistry,
  ) {}

  private checkOpen(): void {
    // A programming error, not bad input.
    if (this.finished) throw new Error("ClientRegistryDraft used after done()");
  }

  private get clients(): ReadonlyMap<string, ClientState> {
    return this.own ?? this.base;
  }

  /** Throws REGISTRY_CONFLICT (or BAD_CLIENT_RECORD for a malformed record); the draft is unchanged then. */
  apply(record: ClientRecordBody): void {
    this.checkOpen();
    const name = checkBody(record);
    const next = transition(name, this.clients.get(name), record);
    this.own ??= new Map(this.base);
    this.own.set(name, next);
  }

  lookup(name: string): ClientState | undefined {
    return this.clients.get(name);
  }

  verifier(name: string): NoteVerifier | undefined {
    const state = this.clients.get(name);
    return state === undefined ? undefined : verifierOf(this.verifiers, state.key);
  }

  done(): ClientRegistry {
    this.checkOpen();
    this.finished = true;
    return this.make(this.clients, this.verifiers);
  }
}
