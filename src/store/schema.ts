/**
 * The database schema (docs/ARCHITECTURE.md), one for every database: the
 * operator's primary and each member replica. Replicas simply leave the
 * primary-only tables (clients, pending, replica_status) empty, and an
 * embedded one drops `entries_digest`, which only the operator's digest
 * lookups use (LibsqlStoreOptions.digestIndex).
 *
 * drizzle-kit generates `migrations/` from this file; a hand-written migration
 * (`chain_link`) adds the trigger that makes the hash chain an invariant of the
 * database itself, so no writer — ours or a buggy one — can append a block that
 * does not extend the head.
 */
import { customType, index, integer, primaryKey, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";
import { fromHex, toHex } from "../core/bytes.js";

/**
 * Raw bytes as Uint8Array. libSQL hands blobs back as ArrayBuffer and D1 as
 * number[]; both become a plain Uint8Array (not a Node Buffer) so values cross
 * the store boundary in the type `core/` uses. Written as an exact ArrayBuffer,
 * which both drivers bind as a blob.
 */
export const bytes = customType<{ data: Uint8Array; driverData: ArrayBuffer }>({
  dataType: () => "blob",
  toDriver: (value) => exactArrayBuffer(value),
  fromDriver: (value) => toUint8Array(value),
});

function exactArrayBuffer(value: Uint8Array): ArrayBuffer {
  const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
  if (whole && value.buffer instanceof ArrayBuffer) return value.buffer;
  return value.slice().buffer as ArrayBuffer;
}

/**
 * An entry id or a digest: kept as its raw bytes (32, or none for a chain
 * record's digest), handed to and from the services as lowercase hex. Half
 * the bytes of hex text in the row and in every index over it, and the id
 * index is the one a seal writes in random order: at a million entries its
 * pages are most of what a 100k-entry block rewrites (docs/BENCHMARKS.md).
 */
export const hexBytes = customType<{ data: string; driverData: ArrayBuffer }>({
  dataType: () => "blob",
  toDriver: (hex) => exactArrayBuffer(fromHex(hex)),
  fromDriver: (value) => toHex(toUint8Array(value)),
});

export function toUint8Array(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  throw new Error(`expected a blob, got ${typeof value}`);
}

export const clients = sqliteTable("clients", {
  name: text("name").primaryKey(),
  /** C2SP verifier key text. */
  key: text("key").notNull(),
  status: text("status", { enum: ["active", "revoked"] }).notNull(),
  createdAt: integer("created_at").notNull(),
  revokedAt: integer("revoked_at"),
});

/**
 * Accepted, not yet sealed, oldest first by `seq`. A plain rowid: SQLite
 * numbers a new row past the largest one present, so the rows present at
 * any time are in acceptance order, which is all a seal needs (it takes the
 * oldest); no number is held across seals. AUTOINCREMENT would also never
 * reuse a consumed number, at the price of a sqlite_sequence row written
 * per submission (a billed row on D1: docs/BENCHMARKS.md "What an anchor
 * costs on Cloudflare"). For the same reason `digest` has no index: the
 * pending rows are few (a seal interval's worth) and a digest lookup, a
 * scoped read, scans them, while an index would cost a write per entry.
 */
export const pending = sqliteTable("pending", {
  seq: integer("seq").primaryKey(),
  id: hexBytes("id").notNull().unique(),
  entry: text("entry").notNull(),
  digest: hexBytes("digest").notNull(),
  client: text("client").notNull(),
  receivedAt: integer("received_at").notNull(),
  promise: text("promise").notNull(),
});

export const blocks = sqliteTable("blocks", {
  height: integer("height").primaryKey(),
  hash: text("hash").notNull().unique(),
  prevHash: text("prev_hash").notNull(),
  header: text("header").notNull(),
  size: integer("size").notNull(),
  sealedAt: integer("sealed_at").notNull(),
});

export const entries = sqliteTable(
  "entries",
  {
    id: hexBytes("id").primaryKey(),
    height: integer("height").notNull(),
    idx: integer("idx").notNull(),
    entry: text("entry").notNull(),
    digest: hexBytes("digest").notNull(),
    client: text("client").notNull(),
    receivedAt: integer("received_at").notNull(),
    promise: text("promise").notNull(),
  },
  (t) => [unique("entries_height_idx").on(t.height, t.idx), index("entries_digest").on(t.digest)],
);

/**
 * The batch tree of each block, one row per 256 consecutive hashes of a level
 * (tile = index >> 8), as C2SP tlog-tiles does: a 100k-entry block costs ~800
 * rows instead of ~200k, and a proof reads a handful of rows.
 */
export const batchTiles = sqliteTable(
  "batch_tiles",
  {
    height: integer("height").notNull(),
    level: integer("level").notNull(),
    tile: integer("tile").notNull(),
    hashes: bytes("hashes").notNull(),
  },
  (t) => [primaryKey({ columns: [t.height, t.level, t.tile] })],
);

/** Complete-subtree hashes of the history tree, whose leaves are the block headers. */
export const historyHashes = sqliteTable(
  "history_hashes",
  {
    level: integer("level").notNull(),
    idx: integer("idx").notNull(),
    hash: bytes("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.idx] })],
);

/**
 * One row per checkpoint size: the best-cosigned note seen for it. A size is
 * typically stored operator-signed first and again once cosigned; the upsert
 * keeps whichever carries more cosignatures. "Newest with >= k cosigners"
 * walks the primary key from the top, and the newest rows are the ones that
 * qualify in steady state.
 */
export const checkpoints = sqliteTable("checkpoints", {
  size: integer("size").primaryKey(),
  note: text("note").notNull(),
  /** JSON array of member names. */
  cosigners: text("cosigners").notNull(),
  cosignerCount: integer("cosigner_count").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Each member witness's last answer (the table keeps its v1 name). */
export const replicaStatus = sqliteTable("replica_status", {
  member: text("member").primaryKey(),
  size: integer("size").notNull(),
  hash: text("hash").notNull(),
  status: text("status", { enum: ["cosigned", "refused", "unreachable"] }).notNull(),
  detail: text("detail"),
  evidence: text("evidence"),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * A member witness's state when it runs as a Worker (src/runtime/member-worker.ts):
 * one row, its latest cosigned checkpoint and any halt, as JSON. `version`
 * moves by compare-and-set, so two isolates judging at once cannot both
 * update it. (The Node witness keeps the same state in a file.) Empty
 * everywhere else.
 */
export const witnessState = sqliteTable("witness_state", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull(),
  state: text("state").notNull(),
});
