/**
 * The libSQL backend: `file:` databases for the embedded default and tests,
 * `libsql://` / `https://` URLs for sqld or Turso. Opens the client, tunes
 * embedded files, applies migrations/ and hands a SqlBackend to SqlStore.
 *
 * Writes bypass drizzle's `db.batch()` on purpose: that runs BEGIN DEFERRED,
 * and we want BEGIN IMMEDIATE (mode "write") so a writer takes the lock
 * before its first statement and waits on busy_timeout instead of failing
 * with SQLITE_BUSY when another process wrote in between; and the client's
 * LibsqlBatchError tells us which statement broke a constraint.
 */
import { createClient, LibsqlBatchError, LibsqlError, type Client, type InArgs } from "@libsql/client";
import type { Query } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import { ConstraintViolation, SqlStore, type Row, type SqlBackend } from "./sql-store.js";

/**
 * SQLite allows 32766 bound parameters per statement; staying a little under
 * keeps multi-row inserts large (a statement is prepared anew per call, so
 * fewer, bigger statements are what make bulk writes fast).
 */
export const LIBSQL_MAX_PARAMS = 30_000;

const BUSY_TIMEOUT_MS = 5000;

export interface LibsqlStoreOptions {
  readonly url: string;
  readonly authToken?: string;
  /** Bound-parameter limit per statement; lower it to mimic D1 (100) in tests. */
  readonly maxParams?: number;
  /** Defaults to the package's migrations/ folder. */
  readonly migrationsFolder?: string;
  /** Embedded files only: "full" (default) fsyncs every commit; "normal" survives process crashes only. */
  readonly durability?: Durability;
}

export type Durability = "full" | "normal";

const DEFAULT_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));

export class LibsqlStore extends SqlStore {
  constructor(
    backend: SqlBackend,
    /** The underlying client, for tools and tests that need raw SQL. */
    readonly client: Client,
  ) {
    super(backend);
  }
}

export async function openLibsqlStore(options: LibsqlStoreOptions): Promise<LibsqlStore> {
  const embedded = options.url.startsWith("file:");
  const client = createClient({
    url: options.url,
    ...(options.authToken === undefined ? {} : { authToken: options.authToken }),
    // For files the client pools connections and per-connection pragmas
    // (synchronous, foreign_keys) would not reach new ones. All file work is
    // synchronous native code in this thread anyway, so one connection
    // costs no concurrency.
    ...(embedded ? { concurrency: 1, timeout: BUSY_TIMEOUT_MS } : {}),
  });
  try {
    if (embedded) await tuneEmbedded(client, options.durability ?? "full");
    const db = drizzle(client);
    await applyMigrations(db, options.migrationsFolder ?? DEFAULT_MIGRATIONS);
    return new LibsqlStore(libsqlBackend(client, db, options.maxParams ?? LIBSQL_MAX_PARAMS), client);
  } catch (e) {
    client.close();
    throw e;
  }
}

async function tuneEmbedded(client: Client, durability: Durability): Promise<void> {
  // WAL: readers never block the writer. FULL fsyncs every commit, so an
  // acknowledged submission survives power loss too; the submit path commits
  // in groups, which makes the fsync cheap per entry. NORMAL skips that fsync
  // (commits survive a process crash only) and suits tests and benchmarks of
  // everything else.
  await client.execute("PRAGMA busy_timeout = 5000"); // = BUSY_TIMEOUT_MS; pragmas take no bound parameters
  await client.execute("PRAGMA journal_mode = WAL");
  await client.execute(durability === "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  await client.execute("PRAGMA foreign_keys = ON");
}

/**
 * drizzle's migrator reads the applied list, then applies the rest in one
 * batch. Two processes opening a fresh file together can both read "nothing
 * applied"; the loser's batch then fails on an existing table and rolls back.
 * Running the migrator once more sees the winner's work and does nothing.
 */
async function applyMigrations(db: LibSQLDatabase, migrationsFolder: string): Promise<void> {
  try {
    await migrate(db, { migrationsFolder });
  } catch {
    await migrate(db, { migrationsFolder });
  }
}

function libsqlBackend(client: Client, db: LibSQLDatabase, maxParams: number): SqlBackend {
  return {
    db,
    maxParams,
    async writeBatch(statements: readonly Query[]): Promise<Row[][]> {
      const stmts = statements.map((q) => ({ sql: q.sql, args: q.params as InArgs }));
      try {
        const results = await client.batch(stmts, "write");
        return results.map((r) => r.rows as unknown as Row[]);
      } catch (e) {
        throw asConstraintViolation(e) ?? e;
      }
    },
    close: () => client.close(),
  };
}

/** SQLITE_CONSTRAINT and its extended codes (PRIMARYKEY, UNIQUE, TRIGGER, …). */
function asConstraintViolation(e: unknown): ConstraintViolation | undefined {
  if (!(e instanceof LibsqlError)) return undefined;
  const code = e.extendedCode ?? e.code;
  if (!code.startsWith("SQLITE_CONSTRAINT")) return undefined;
  const index = e instanceof LibsqlBatchError ? e.statementIndex : undefined;
  return new ConstraintViolation(index, e.message, { cause: e });
}
