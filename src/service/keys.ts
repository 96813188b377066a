/**
 * The operator's view of who signs what (docs/ARCHITECTURE.md "Rotating
 * keys"): the key schedule replayed from the chain's key records, the
 * operator key that signs a checkpoint of a given size, the member key its
 * cosignature must verify under, the trust document the log publishes, and
 * the admin's two rotations.
 *
 * The schedule is kept as plain data, refreshed from the records of the
 * blocks sealed since it was read (a bounded, usually empty query), so a
 * Worker isolate may share it across requests that each do their own I/O.
 */
import { CairnError, check } from "../core/errors.js";
import {
  countersignKeyRecord,
  isKeyRecordEntry,
  KeySchedule,
  openKeyRecord,
  parseKeyRecord,
  signOperatorKeyRecord,
  type ParsedKeyRecord,
} from "../core/key-record.js";
import { formatVerifierKey, KEY_TYPE_ED25519, noteSigner, parseSignerKey, type NoteSigner } from "../core/keys.js";
import { parseNote } from "../core/note.js";
import { entryId } from "../core/submission.js";
import type { Trust } from "../core/trust.js";
import type { ChainRecordRow, NewPending } from "../store/types.js";
import type { Context, Member } from "./context.js";

interface OperatorKey {
  readonly signer: NoteSigner;
  readonly verifierKey: string;
}

function operatorKey(text: string): OperatorKey {
  const k = parseSignerKey(text);
  return { signer: noteSigner(k), verifierKey: formatVerifierKey(k.name, KEY_TYPE_ED25519, k.publicKey) };
}

/** A queued key record: its entry id and signed text, whose key turns over, and whether this call queued it. */
export interface QueuedKeyRecord {
  readonly id: string;
  readonly entry: string;
  readonly role: "operator" | "member";
  readonly name: string;
  readonly created: boolean;
}

export class ChainKeys {
  private readonly current: OperatorKey;
  private readonly next: OperatorKey | undefined;
  /** The schedule as of `size` blocks. */
  private cached: { readonly size: number; readonly keys: KeySchedule } | undefined;

  constructor(private readonly ctx: Context) {
    this.current = operatorKey(ctx.config.operatorKey);
    this.next = ctx.config.nextOperatorKey === undefined ? undefined : operatorKey(ctx.config.nextOperatorKey);
  }

  /** The schedule as of the primary's head. */
  async schedule(): Promise<KeySchedule> {
    const head = await this.ctx.primary.head();
    const cached = this.cached;
    if (cached !== undefined && cached.size === head.size) return cached.keys;
    let keys: KeySchedule;
    if (cached !== undefined && cached.size < head.size) {
      keys = replay(cached.keys, await this.ctx.primary.chainRecords(head.size, cached.size));
    } else {
      const rows = await this.ctx.primary.chainRecords(head.size);
      keys = replay(this.genesis(rows), rows);
    }
    this.cached = { size: head.size, keys };
    return keys;
  }

  /**
   * The keys as they stood at block 0: each role's first key record names
   * the key it retired; a role with no record keeps its configured key.
   */
  private genesis(rows: readonly ChainRecordRow[]): KeySchedule {
    const firsts = new Map<string, ParsedKeyRecord>();
    for (const { entry } of rows) {
      if (!isKeyRecordEntry(entry)) continue;
      const r = parseKeyRecord(parseNote(entry).text);
      if (!firsts.has(r.name)) firsts.set(r.name, r);
    }
    const origin = this.ctx.config.origin;
    return KeySchedule.pinned(
      [firsts.get(origin)?.old ?? this.current.verifierKey],
      this.ctx.members.map((m) => ({ name: m.name, key: firsts.get(m.name)?.old ?? m.verifierKey })),
    );
  }

  /** The operator signer for a checkpoint of `size` blocks: the configured key the chain schedules for it. */
  async signerFor(size: number): Promise<NoteSigner> {
    return (await this.keyFor(size)).signer;
  }

  private async keyFor(size: number): Promise<OperatorKey> {
    const due = (await this.schedule()).operatorKeysAt(size);
    for (const k of [this.current, this.next]) if (k !== undefined && due.includes(k.verifierKey)) return k;
    throw new CairnError("BAD_CONFIG", `the chain's key records give checkpoints of ${size} blocks to ${due.join(", ")}, and neither CAIRN_OPERATOR_KEY nor CAIRN_OPERATOR_NEXT_KEY is that key`);
  }

  /** The member's cosigner key for a checkpoint of `size` blocks. */
  async memberKeyAt(member: Member, size: number): Promise<string> {
    return (await this.schedule()).memberKeyAt(member.name, size) ?? member.verifierKey;
  }

  /**
   * The trust document this log publishes (FORMATS.md §8): version 1 while
   * no key has rotated and no member has an ML-DSA-44 key, so verifiers
   * pinned before keep the same document and fingerprint; version 2, with
   * each key's sizes, once one has.
   */
  async trust(): Promise<Trust> {
    const keys = await this.schedule();
    const { config, members } = this.ctx;
    const rotated = keys.operator.length > 1 || members.some((m) => (keys.memberKeys(m.name)?.length ?? 1) > 1);
    if (!rotated && members.every((m) => m.pqKey === undefined)) {
      return { version: "cairn-trust/v1", origin: config.origin, operatorKeys: [keys.operator[0]!.key], members: members.map((m) => ({ name: m.name, key: keys.memberKeys(m.name)![0]!.key })), quorum: config.quorum };
    }
    return {
      version: "cairn-trust/v2",
      origin: config.origin,
      operatorKeys: keys.operator,
      members: members.map((m) => ({ name: m.name, keys: [...(keys.memberKeys(m.name) ?? [{ key: m.verifierKey, from: 0 }]), ...(m.pqKey ? [{ key: m.pqKey, from: 0 }] : [])] })),
      quorum: config.quorum,
      pqQuorum: config.pqQuorum,
    };
  }

  /**
   * Queues the record that hands the log from CAIRN_OPERATOR_KEY to
   * CAIRN_OPERATOR_NEXT_KEY, signed by both. Asking again while it waits, or
   * once it is sealed, changes nothing.
   */
  async rotateOperator(): Promise<QueuedKeyRecord> {
    const next = this.next;
    if (next === undefined) throw new CairnError("BAD_REQUEST", "set CAIRN_OPERATOR_NEXT_KEY to the new key (cairn keygen makes one) and restart the operator before rotating");
    const origin = this.ctx.config.origin;
    const existing = await this.existing(origin, next.verifierKey);
    if (existing !== undefined) return existing;
    const keys = await this.schedule();
    check(keys.operatorKeysAt(Number.MAX_SAFE_INTEGER).includes(this.current.verifierKey), "BAD_CONFIG", "CAIRN_OPERATOR_KEY is not the operator key in use: the chain already moved on; make the key in use CAIRN_OPERATOR_KEY");
    const entry = await signOperatorKeyRecord({ origin, role: "operator", old: this.current.verifierKey, new: next.verifierKey, time: this.ctx.clock.now() }, this.current.signer, next.signer);
    return this.queue(entry, "operator", origin);
  }

  /**
   * Countersigns and queues a member's record (made by `cairn member
   * rotate-key`): signed by the member's old and new key, where the old one
   * must be the member's key in use.
   */
  async rotateMember(memberSigned: unknown): Promise<QueuedKeyRecord> {
    check(typeof memberSigned === "string", "BAD_REQUEST", 'body must be { "record": "<the member-signed key record>" }');
    let record: ParsedKeyRecord;
    try {
      record = parseKeyRecord(parseNote(memberSigned).text);
    } catch (e) {
      throw new CairnError("BAD_KEY_RECORD", `not a key record: ${(e as Error).message}`, { cause: e });
    }
    const { origin } = this.ctx.config;
    check(record.origin === origin, "WRONG_ORIGIN", `the record is for ${record.origin}, not ${origin}`);
    check(record.role === "member", "BAD_KEY_RECORD", "the operator's own rotation is POST /v1/admin/keys/operator");
    const member = this.ctx.members.find((m) => m.name === record.name);
    if (member === undefined) throw new CairnError("NOT_FOUND", `${record.name} is not a member of this consortium (CAIRN_MEMBERS)`);
    const existing = await this.existing(record.name, record.new);
    if (existing !== undefined) return existing;
    const inUse = (await this.schedule()).memberKeyAt(member.name, Number.MAX_SAFE_INTEGER) ?? member.verifierKey;
    if (record.old !== inUse) throw new CairnError("KEY_RECORD_CONFLICT", `the record retires ${record.old}, but ${member.name}'s key in use is ${inUse}`);
    // Signed by the key of the coming checkpoint, and checked whole (the member's two signatures too) before it is queued.
    const operator = await this.keyFor((await this.ctx.primary.head()).size + 1);
    const entry = await countersignKeyRecord(memberSigned, operator.signer);
    await openKeyRecord(entry, [operator.verifierKey]);
    return this.queue(entry, "member", record.name);
  }

  /**
   * A record moving `name` to `key`, already queued or sealed. Any other
   * record of `name` still waiting is refused: one rotation of a role per
   * block, and the next only once the last is sealed.
   */
  private async existing(name: string, key: string): Promise<QueuedKeyRecord | undefined> {
    for (const entry of await this.ctx.primary.pendingChainRecords()) {
      if (!isKeyRecordEntry(entry)) continue;
      const r = parseKeyRecord(parseNote(entry).text);
      if (r.name !== name) continue;
      if (r.new === key) return { id: entryId(entry), entry, role: r.role, name, created: false };
      throw new CairnError("KEY_RECORD_CONFLICT", `a rotation of ${name} to ${r.new} is waiting to be sealed; rotate again once it is`);
    }
    const keys = await this.schedule();
    const scheduled = name === this.ctx.config.origin ? keys.operator : (keys.memberKeys(name) ?? []);
    if (!scheduled.some((k) => k.key === key)) return undefined;
    for (const { entry } of await this.ctx.primary.chainRecords()) {
      if (!isKeyRecordEntry(entry)) continue;
      const r = parseKeyRecord(parseNote(entry).text);
      if (r.name === name && r.new === key) return { id: entryId(entry), entry, role: r.role, name, created: false };
    }
    throw new CairnError("KEY_RECORD_CONFLICT", `${key} was ${name}'s key from the start: a rotation moves to a new key`);
  }

  private async queue(entry: string, role: "operator" | "member", name: string): Promise<QueuedKeyRecord> {
    const now = this.ctx.clock.now();
    const row: NewPending = { id: entryId(entry), entry, digest: "", client: name, receivedAt: now, promise: "" };
    await this.ctx.primary.insertPending([row]);
    this.ctx.log.info("key_record_queued", { role, name, id: row.id });
    return { id: row.id, entry, role, name, created: true };
  }
}

function replay(keys: KeySchedule, rows: readonly ChainRecordRow[]): KeySchedule {
  for (const { height, entry } of rows) {
    if (isKeyRecordEntry(entry)) keys = keys.apply(parseKeyRecord(parseNote(entry).text), height);
  }
  return keys;
}
