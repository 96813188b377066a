/**
 * An embedded libSQL file through `libsql`, the native binding that
 * @libsql/client itself wraps, with each statement prepared once and kept.
 *
 * @libsql/client prepares every statement anew, asks it twice for its
 * columns, finds out whether it returns rows by catching an exception, and
 * builds each row with Object.defineProperty: ≈ 30 µs of CPU a statement
 * beyond SQLite's own work (`SELECT 1` cost 42 µs). A group commit of one
 * submission runs four statements, and every read at least one
 * (docs/BENCHMARKS.md, "Statements prepared once").
 *
 * This is the part of @libsql/client's Client that drizzle and the store
 * use, with its results — rows indexed by position and by column name,
 * integers as numbers (a RangeError past 2^53), blobs as ArrayBuffer — and
 * its errors: LibsqlError with SQLite's base and extended codes, and
 * LibsqlBatchError naming the statement that failed.
 */
import Database from "libsql";
import { Buffer } from "node:buffer";
// The web entry: the same error classes as the Node one (both re-export @libsql/core), without loading its clients.
import { LibsqlBatchError, LibsqlError, type Client, type InArgs, type InStatement, type InValue, type ResultSet, type Row, type TransactionMode, type Value } from "@libsql/client/web";

/**
 * Statements kept per connection, the least recently used dropped first.
 * The store's statements are a few dozen texts; multi-row inserts add one
 * text per row count, which is what the bound is for.
 */
const KEPT_STATEMENTS = 256;

/**
 * Longer statements are prepared per call and dropped. They are the
 * multi-row inserts, whose one prepare serves hundreds of rows, and a kept
 * one holds megabytes: 256 kept 4,000-row inserts grew a process by 716 MiB.
 */
export const KEPT_SQL_LENGTH = 4096;

interface Kept {
  readonly statement: Database.Statement;
  /** null: the statement returns no rows (run, not all). */
  readonly rows: RowShape | null;
}

interface RowShape {
  readonly columns: string[];
  readonly columnTypes: string[];
  /** The prototype of this statement's rows: position getters and `length`. */
  readonly prototype: object;
  /** The position of each column name's first occurrence, which the name reads (as @libsql/client does). */
  readonly named: readonly (readonly [string, number])[];
}

/** Where a row keeps its values in column order; the position getters read it. */
const VALUES = Symbol("values");

export interface FileClientOptions {
  /** SQLite's busy timeout: how long a write waits for another connection's lock. */
  readonly timeoutMs: number;
  /** Run on every connection it opens, a reconnect's too: pragmas hold per connection. */
  readonly setup?: readonly string[];
}

export function openFileClient(path: string, options: FileClientOptions): FileClient {
  return new FileClient(path, options);
}

export class FileClient implements Client {
  closed = false;
  readonly protocol = "file";
  #db: Database.Database;
  #kept = new Map<string, Kept>();

  constructor(
    private readonly path: string,
    private readonly options: FileClientOptions,
  ) {
    this.#db = this.#open();
  }

  /** How many prepared statements it keeps now. */
  get keptStatements(): number {
    return this.#kept.size;
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  async execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const stmt = typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql;
    return this.#run(stmt);
  }

  async batch(stmts: (InStatement | [string, InArgs?])[], mode: TransactionMode = "deferred"): Promise<ResultSet[]> {
    return this.#inTransaction(BEGIN[mode], stmts.map((s) => (Array.isArray(s) ? { sql: s[0], args: s[1] ?? [] } : s)));
  }

  async migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    this.#run({ sql: "PRAGMA foreign_keys=off" });
    try {
      return this.#inTransaction(BEGIN.deferred, stmts);
    } finally {
      this.#run({ sql: "PRAGMA foreign_keys=on" });
    }
  }

  /** Interactive transactions: the store writes in batches only, and drizzle's db.transaction() is not used. */
  transaction(): never {
    throw new LibsqlError("interactive transactions are not offered for embedded files; write with batch()", "TRANSACTION_UNSUPPORTED");
  }

  /** Embedded replicas of a remote database are not offered: these files are the store itself. */
  sync(): never {
    throw new LibsqlError("sync() is for embedded replicas of a remote database; this file is not one", "SYNC_NOT_SUPPORTED");
  }

  async executeMultiple(sql: string): Promise<void> {
    this.#checkOpen();
    try {
      this.#db.exec(sql);
    } catch (e) {
      throw asLibsqlError(e);
    }
  }

  close(): void {
    this.closed = true;
    this.#kept.clear();
    if (this.#db.open) this.#db.close();
  }

  /** A fresh connection, with no statement kept from the old one (a failed one may still hold a lock). */
  reconnect(): void {
    this.#kept.clear();
    if (this.#db.open) this.#db.close();
    this.#db = this.#open();
    this.closed = false;
  }

  #open(): Database.Database {
    const db = new Database(this.path, { timeout: this.options.timeoutMs });
    try {
      for (const sql of this.options.setup ?? []) db.exec(sql);
    } catch (e) {
      db.close();
      throw asLibsqlError(e);
    }
    return db;
  }

  #checkOpen(): void {
    if (this.closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
  }

  /** BEGIN, each statement, COMMIT; rolled back if anything fails, with the failing statement's index. */
  #inTransaction(begin: string, stmts: readonly InStatement[]): ResultSet[] {
    this.#checkOpen();
    try {
      this.#run({ sql: begin });
      const results: ResultSet[] = [];
      for (let i = 0; i < stmts.length; i++) {
        if (!this.#db.inTransaction) throw new LibsqlBatchError("The transaction has been rolled back", i, "TRANSACTION_CLOSED");
        try {
          results.push(this.#run(stmts[i]!));
        } catch (e) {
          if (!(e instanceof LibsqlError)) throw e;
          throw new LibsqlBatchError(e.message, i, e.code, e.extendedCode, e.rawCode, e.cause instanceof Error ? e.cause : undefined);
        }
      }
      this.#run({ sql: "COMMIT" });
      return results;
    } finally {
      if (this.#db.open && this.#db.inTransaction) this.#rollback();
    }
  }

  #rollback(): void {
    try {
      this.#run({ sql: "ROLLBACK" });
    } catch {
      // The connection cannot even roll back: drop it, which rolls back.
      this.reconnect();
    }
  }

  #run(stmt: InStatement): ResultSet {
    this.#checkOpen();
    const sql = typeof stmt === "string" ? stmt : stmt.sql;
    const args = typeof stmt === "string" ? [] : toSqlArgs(stmt.args);
    const kept = this.#statement(sql);
    try {
      if (kept.rows === null) {
        const info = kept.statement.run(args);
        return resultSet(kept, [], info.changes, BigInt(info.lastInsertRowid));
      }
      const values = kept.statement.all(args) as unknown[][];
      const rows = new Array<Row>(values.length);
      for (let i = 0; i < values.length; i++) rows[i] = rowOf(kept.rows, values[i]!);
      return resultSet(kept, rows, 0, undefined);
    } catch (e) {
      throw asLibsqlError(e);
    }
  }

  #statement(sql: string): Kept {
    const hit = this.#kept.get(sql);
    if (hit !== undefined) {
      // Most recently used last: a Map iterates in insertion order.
      this.#kept.delete(sql);
      this.#kept.set(sql, hit);
      return hit;
    }
    let statement: Database.Statement;
    try {
      statement = this.#db.prepare(sql);
    } catch (e) {
      throw asLibsqlError(e);
    }
    statement.safeIntegers(true);
    const returnsRows = statement.reader;
    if (returnsRows) statement.raw(true);
    const kept: Kept = { statement, rows: returnsRows ? rowShape(statement.columns() as { name: string; type: string | null }[]) : null };
    if (sql.length > KEPT_SQL_LENGTH) return kept;
    this.#kept.set(sql, kept);
    if (this.#kept.size > KEPT_STATEMENTS) this.#kept.delete(this.#kept.keys().next().value!);
    return kept;
  }
}

const BEGIN: Record<TransactionMode, string> = { write: "BEGIN IMMEDIATE", read: "BEGIN TRANSACTION READONLY", deferred: "BEGIN DEFERRED" };

function rowShape(columns: readonly { name: string; type: string | null }[]): RowShape {
  const prototype = {};
  columns.forEach((_, i) =>
    Object.defineProperty(prototype, i, {
      get(this: { [VALUES]: Value[] }) {
        return this[VALUES][i];
      },
    }),
  );
  Object.defineProperty(prototype, "length", { value: columns.length });
  const named = new Map<string, number>();
  columns.forEach((c, i) => {
    if (!named.has(c.name)) named.set(c.name, i);
  });
  return { columns: columns.map((c) => c.name), columnTypes: columns.map((c) => c.type ?? ""), prototype, named: [...named] };
}

function rowOf(shape: RowShape, raw: readonly unknown[]): Row {
  const values = raw.map(fromSql);
  // Not enumerable, so that a spread or Object.keys sees the names only.
  const row = Object.create(shape.prototype, { [VALUES]: { value: values } }) as Record<string, unknown>;
  for (const [name, i] of shape.named) row[name] = values[i];
  return row as unknown as Row;
}

function resultSet(kept: Kept, rows: Row[], rowsAffected: number, lastInsertRowid: bigint | undefined): ResultSet {
  const columns = kept.rows?.columns ?? [];
  const columnTypes = kept.rows?.columnTypes ?? [];
  return {
    columns,
    columnTypes,
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON: () => ({ columns, columnTypes, rows: rows.map((r) => Array.from({ length: columns.length }, (_, i) => jsonValue(r[i]!))), rowsAffected, lastInsertRowid: lastInsertRowid?.toString() ?? null }),
  };
}

function jsonValue(v: Value): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof ArrayBuffer) return Buffer.from(v).toString("base64");
  return v;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function fromSql(v: unknown): Value {
  if (typeof v === "bigint") {
    if (v < MIN_SAFE || v > MAX_SAFE) throw new RangeError("Received integer which cannot be safely represented as a JavaScript number");
    return Number(v);
  }
  if (v instanceof Uint8Array) {
    const whole = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
    return (whole ? v.buffer : v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) as ArrayBuffer;
  }
  return v as Value;
}

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

function toSqlArgs(args: InArgs | undefined): unknown[] | Record<string, unknown> {
  if (args === undefined) return [];
  if (Array.isArray(args)) return args.map(toSql);
  const named: Record<string, unknown> = {};
  // @libsql/client takes ":name", "@name" and "$name" for the parameter ":name" etc.
  for (const [name, value] of Object.entries(args)) named[/^[:@$]/.test(name) ? name.slice(1) : name] = toSql(value);
  return named;
}

function toSql(value: InValue): unknown {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
    return value;
  }
  if (typeof value === "bigint") {
    if (value < MIN_INT64 || value > MAX_INT64) throw new RangeError("bigint is too large to be represented as a 64-bit integer and passed as argument");
    return value;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value instanceof Date) return value.valueOf();
  if (value === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
  return value;
}

/** SQLite's primary result codes: an extended code is primary | (n << 8). */
const PRIMARY_CODES = [
  "SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM", "SQLITE_ABORT", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_NOMEM",
  "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTFOUND", "SQLITE_FULL", "SQLITE_CANTOPEN",
  "SQLITE_PROTOCOL", "SQLITE_EMPTY", "SQLITE_SCHEMA", "SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_MISUSE",
  "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT", "SQLITE_RANGE", "SQLITE_NOTADB", "SQLITE_NOTICE", "SQLITE_WARNING",
];

function asLibsqlError(e: unknown): unknown {
  if (!(e instanceof Database.SqliteError)) return e;
  const raw = (e as { rawCode?: number }).rawCode;
  const code = raw === undefined ? "SQLITE_UNKNOWN" : (PRIMARY_CODES[raw & 0xff] ?? `SQLITE_UNKNOWN_${raw & 0xff}`);
  return new LibsqlError(e.message, code, e.code, raw, e);
}
