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
  readonly digest: string;
  readonly client: string;
  readonly receivedAt: number;
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

export type ReplicaHealth = "ok" | "behind" | "unreachable" | "diverged";

export interface ReplicaStatusRecord {
  readonly member: string;
  readonly size: number;
  readonly hash: string;
  readonly status: ReplicaHealth;
  /** Human-readable reason for a status other than ok. */
  readonly detail: string | null;
  /** For diverged: JSON with the two conflicting headers. */
  readonly evidence: string | null;
  readonly updatedAt: number;
}

/** What every database holds: the chain. Primary and member replicas alike. */
export interface ChainStore {
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
  blockEntries(height: number, offset: number, limit: number): Promise<EntryRecord[]>;
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
  close(): void;
}

/** The operator's primary database: the chain plus clients, pending entries and replica status. */
export interface PrimaryStore extends ChainStore {
  getClient(name: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /** created: new; exists: same name and key already there; conflict: same name, other key. */
  putClient(name: string, key: string, now: number): Promise<"created" | "exists" | "conflict">;
  /** false when there is no such client. Revoking twice is fine. */
  revokeClient(name: string, now: number): Promise<boolean>;

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
  /** Sealed and pending anchors of a digest, oldest first. */
  anchorsOfDigest(digest: string, limit: number): Promise<(EntryRecord | PendingRecord)[]>;

  replicaStatuses(): Promise<ReplicaStatusRecord[]>;
  putReplicaStatus(status: ReplicaStatusRecord): Promise<void>;
}
