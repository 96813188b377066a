/**
 * The storage contract the services are written against.
 *
 * One implementation per backend (libSQL today, D1 for the Worker), every one
 * checked by the same contract suite (test/store/contract.ts). A store never
 * builds a Response and knows nothing of HTTP; hashes cross this boundary as
 * Uint8Array, ids and digests as lowercase hex, texts as the exact strings
 * that were hashed or signed.
 *
 * Atomicity is expressed without interactive transactions, because D1 has
 * none: every multi-row write is one atomic batch, and the chain head moves by
 * the uniqueness of `blocks.height` (two sealers that both try to append block
 * h cannot both succeed; the loser's batch rolls back whole).
 */
import type { NodeRef } from "../core/tlog.js";

export type ClientStatus = "active" | "revoked";

export interface ClientRecord {
  readonly name: string;
  /** C2SP verifier key text, type 0x01. */
  readonly key: string;
  readonly status: ClientStatus;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** An accepted submission, durable, not yet in a block. */
export interface PendingRecord {
  /** Acceptance order; strictly increasing, assigned by the store. */
  readonly seq: number;
  readonly id: string;
  readonly entry: string;
  /** The submission's digest; "" for a client record (registration, revocation). */
  readonly digest: string;
  /** The signing client; for a client record, the client it registers or revokes. */
  readonly client: string;
  readonly receivedAt: number;
  /** The operator's promise; "" for a client record. */
  readonly promise: string;
}

export type NewPending = Omit<PendingRecord, "seq">;

export interface EntryRecord {
  readonly id: string;
  readonly height: number;
  readonly index: number;
  readonly entry: string;
  readonly digest: string;
  readonly client: string;
  readonly receivedAt: number;
  readonly promise: string;
}

/** An entry as its block holds it: what a member's witness reads, page by page, to replicate the block. */
export type BlockEntry = Pick<EntryRecord, "index" | "id" | "entry">;

/** BlockEntry[] as the JSON array the operator serves (`[{"index":…,"id":…,"entry":…},…]`), and how many entries it holds. */
export interface BlockEntryPage {
  readonly count: number;
  readonly json: string;
}

export interface BlockRecord {
  readonly height: number;
  /** Hex leaf hash of the header. */
  readonly hash: string;
  /** Hex hash of block height-1 (64 zeros for block 0), as in the header. */
  readonly prevHash: string;
  readonly header: string;
  /** Number of entries. */
  readonly size: number;
  readonly sealedAt: number;
}

/** Number of blocks and the hash of the last one (64 zeros before block 0). */
export interface Head {
  readonly size: number;
  readonly hash: string;
}

/** Everything one block writes to a database, computed once by the seal. */
export interface BlockWrite {
  readonly block: BlockRecord;
  /** In block order: entries[i] has index i. */
  readonly entries: readonly Omit<EntryRecord, "height" | "index">[];
  /** Batch tree levels as produced by core treeLevels(): level k flat, 32 bytes a hash. */
  readonly batchLevels: readonly Uint8Array[];
  /** The history-tree hashes that appending this block's header creates (core appendHashes). */
  readonly historyHashes: readonly { readonly ref: NodeRef; readonly hash: Uint8Array }[];
}

export type AppendResult = "appended" | "conflict";

export interface CheckpointRecord {
  /** Number of blocks the checkpoint covers. */
  readonly size: number;
  /** The signed note: operator signature and any cosignatures. */
  readonly note: string;
  /** Names of the members whose cosignatures the note carries. */
  readonly cosigners: readonly string[];
  readonly createdAt: number;
}

/** How a member's witness last answered a request to cosign. */
export type WitnessAnswerStatus = "cosigned" | "refused" | "unreachable";

export interface WitnessAnswerRecord {
  readonly member: string;
  /** The size of the witness's latest cosigned checkpoint, as far as the operator knows (0: none yet). */
  readonly size: number;
  /** Hex history root at that size ("" when unknown). */
  readonly hash: string;
  readonly status: WitnessAnswerStatus;
  /** The witness's message (HTTP status and body) for an answer other than cosigned. */
  readonly detail: string | null;
  /** JSON evidence kept with a refusal: what was asked. */
  readonly evidence: string | null;
  readonly updatedAt: number;
}

/** What every database holds: the chain. Primary and member replicas alike. */
export interface ChainStore {
  /** Whether the database has this code's schema (a store that cannot migrate itself asks before it serves). */
  schemaCurrent(): Promise<boolean>;
  head(): Promise<Head>;
  /**
   * Appends one block atomically: block, entries, batch-tree tiles, history
   * hashes. Returns "conflict" and writes nothing if block `height` already
   * exists or the store's head is not (height, block.header's previous hash).
   * With `consumePending`, the same batch deletes the entries from pending
   * (primary only); with `checkpoint`, it also stores that checkpoint.
   */
  appendBlock(write: BlockWrite, options?: { consumePending?: boolean; checkpoint?: CheckpointRecord }): Promise<AppendResult>;
  getBlock(height: number): Promise<BlockRecord | undefined>;
  listBlocks(from: number, limit: number): Promise<BlockRecord[]>;
  /** A page of block `height`'s entries from index `offset`, in block order (the other columns: getEntry). */
  blockEntries(height: number, offset: number, limit: number): Promise<BlockEntry[]>;
  /** The same page as JSON text, byte for byte what JSON.stringify makes of blockEntries' rows. */
  blockEntriesJson(height: number, offset: number, limit: number): Promise<BlockEntryPage>;
  getEntry(id: string): Promise<EntryRecord | undefined>;
  /** Hashes of the batch tree of block `height`, in the order of `refs`; throws if one is missing. */
  readBatchHashes(height: number, refs: readonly NodeRef[]): Promise<Uint8Array[]>;
  /** Hashes of the history tree, in the order of `refs`; throws if one is missing. */
  readHistoryHashes(refs: readonly NodeRef[]): Promise<Uint8Array[]>;
  /** Everything needed to append block `height` to another store (catch-up). */
  readBlockWrite(height: number): Promise<BlockWrite | undefined>;
  putCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
  /** The newest checkpoint with at least `minCosigners` cosignatures. */
  latestCheckpoint(minCosigners?: number): Promise<CheckpointRecord | undefined>;
  /** The stored checkpoint of exactly `size` blocks. */
  checkpointAt(size: number): Promise<CheckpointRecord | undefined>;
  /** The chain records (client and key records: the entries without a digest) in chain order, of the blocks below `beforeHeight` if given, from `fromHeight` on if given. */
  chainRecords(beforeHeight?: number, fromHeight?: number): Promise<ChainRecordRow[]>;
  close(): void;
}

/**
 * What a member's witness keeps of the chain: only the blocks it verified,
 * written by it alone. Its client registry is replayed from the records in
 * its own replica, never read from the operator.
 */
/** A chain record as stored: the block it was sealed in, and its entry (the signed note). */
export interface ChainRecordRow {
  readonly height: number;
  readonly entry: string;
}

export interface WitnessReplica {
  head(): Promise<Head>;
  getBlock(height: number): Promise<BlockRecord | undefined>;
  /** As ChainStore.appendBlock: atomic, "conflict" when the head moved. */
  appendBlock(write: BlockWrite): Promise<AppendResult>;
  readHistoryHashes(refs: readonly NodeRef[]): Promise<Uint8Array[]>;
  /** The chain records (client and key records: the entries without a digest) in chain order, of the blocks below `beforeHeight` if given. */
  chainRecords(beforeHeight?: number): Promise<ChainRecordRow[]>;
  close(): void;
}

/** The operator's primary database: the chain plus clients, pending entries and the witnesses' last answers. */
export interface PrimaryStore extends ChainStore {
  getClient(name: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /**
   * created: new; exists: same name and key already there; conflict: same
   * name, other key. `record` (the signed registration, a chain record) is
   * queued as pending in the same atomic batch, and only when created.
   */
  putClient(name: string, key: string, now: number, record: NewPending): Promise<"created" | "exists" | "conflict">;
  /**
   * Revokes the active client `name` whose key is `key`, queueing `record`
   * (the signed revocation) in the same atomic batch; false, writing
   * nothing, when there is no such active client.
   */
  revokeClient(name: string, key: string, now: number, record: NewPending): Promise<boolean>;

  /**
   * Inserts in one atomic batch, in array order (which becomes acceptance
   * order). Entries whose id is already pending or sealed are skipped; the
   * result lists the ids actually inserted.
   */
  insertPending(entries: readonly NewPending[]): Promise<Set<string>>;
  getPending(id: string): Promise<PendingRecord | undefined>;
  /** Oldest first, at most `limit`. */
  takePending(limit: number): Promise<PendingRecord[]>;
  pendingStats(): Promise<{ count: number; oldestReceivedAt: number | null }>;
  /** The chain records waiting to be sealed, oldest first (the entries of pending without a digest). */
  pendingChainRecords(): Promise<string[]>;
  /** Sealed and pending anchors of a digest, oldest first; with `client`, only those that client signed. */
  anchorsOfDigest(digest: string, limit: number, client?: string): Promise<(EntryRecord | PendingRecord)[]>;

  witnessAnswers(): Promise<WitnessAnswerRecord[]>;
  putWitnessAnswer(status: WitnessAnswerRecord): Promise<void>;
}
