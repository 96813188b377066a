/**
 * The libSQL backend: `file:` databases for the embedded default and tests,
 * `libsql://` / `https://` URLs for sqld or Turso. Opens the client, tunes
 * embedded files, applies migrations/ and hands a SqlBackend
 * (./libsql-backend.ts) to SqlStore. Node only: the Worker opens remote
 * libSQL through ./libsql-web.ts.
 */
import type { Client } from "@libsql/client";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
// drizzle's web entry wraps any Client; its Node entry would load @libsql/client's Node clients, which only remote URLs need.
import { drizzle } from "drizzle-orm/libsql/web";
import { migrate } from "drizzle-orm/libsql/migrator";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { libsqlBackend } from "./libsql-backend.js";
import { openFileClient } from "./libsql-file.js";
import { SqlStore, type SqlBackend } from "./sql-store.js";

/**
 * SQLite allows 32766 bound parameters per statement; staying a little under
 * keeps multi-row inserts large (fewer, bigger statements are what make bulk
 * writes fast).
 */
export const LIBSQL_MAX_PARAMS = 30_000;

/** How long a write waits for another connection's write lock before it is refused (503). */
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
  /**
   * Embedded files only: keep the submissions waiting to be sealed in a file
   * of their own beside this one (intakeUrl), so that queueing them never
   * waits for a seal's commit (SqlStore's constructor says why). Creates the
   * intake file; one that exists is opened whether or not this is set.
   */
  readonly intake?: boolean;
  /** Embedded files only: how long a write waits for the file's write lock (default 5 s); tests shorten it. */
  readonly busyTimeoutMs?: number;
  /**
   * false: drop the index of entries by digest (for good; migrations do not
   * bring it back). Only the operator answers digest lookups, and in a
   * member's replica that index is half the cost of storing a large block:
   * digests are random, so a block's rows dirty nearly every page of it
   * (docs/BENCHMARKS.md, "A 100,000-entry block until final").
   */
  readonly digestIndex?: boolean;
}

export type Durability = "full" | "normal";

const DEFAULT_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));

export class LibsqlStore extends SqlStore {
  constructor(
    backend: SqlBackend,
    /** The underlying client, for tools and tests that need raw SQL. */
    readonly client: Client,
    intake?: SqlBackend,
  ) {
    super(backend, intake);
  }
}

/**
 * Where an embedded primary keeps its intake (`intake: true`): a file beside
 * it, `primary.db` → `primary.intake.db`.
 */
export function intakeUrl(url: string): string {
  const [path, query] = url.split("?", 2) as [string, string | undefined];
  const file = /\.db$/.test(path) ? path.replace(/\.db$/, ".intake.db") : `${path}.intake`;
  return query === undefined ? file : `${file}?${query}`;
}

export async function openLibsqlStore(options: LibsqlStoreOptions): Promise<LibsqlStore> {
  const main = await openBackend(options.url, options);
  // An intake that exists is always opened: a tool that opened the primary
  // alone would not see the entries waiting in it (a seal would never take them).
  const intake = options.url.startsWith("file:") && ((options.intake ?? false) || existsSync(filePath(intakeUrl(options.url))));
  if (!intake) return new LibsqlStore(main.backend, main.client);
  try {
    return new LibsqlStore(main.backend, main.client, (await openBackend(intakeUrl(options.url), options)).backend);
  } catch (e) {
    main.backend.close();
    throw e;
  }
}

/** The path of a `file:` URL, as libSQL reads it (`file:rel/x.db`, `file:/abs/x.db`, `file:///abs/x.db`). */
function filePath(url: string): string {
  const rest = url.slice("file:".length).split("?", 1)[0]!;
  return rest.startsWith("//") ? fileURLToPath(`file:${rest}`) : rest;
}

async function openBackend(url: string, options: LibsqlStoreOptions): Promise<{ backend: SqlBackend; client: Client }> {
  const embedded = url.startsWith("file:");
  const durability = options.durability ?? "full";
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  // A file is one connection through ./libsql-file.ts, which keeps its
  // prepared statements; per-connection pragmas (synchronous, foreign_keys)
  // hold for all of its work. All file work is synchronous native code in
  // this thread anyway, so one connection costs no concurrency. The timeout
  // is SQLite's busy timeout.
  const client = embedded
    ? openFileClient(filePath(url), { timeoutMs: busyTimeoutMs, setup: embeddedPragmas(durability) })
    : (await import("@libsql/client")).createClient({ url, ...(options.authToken === undefined ? {} : { authToken: options.authToken }) });
  try {
    const db = drizzle(client);
    // An intake gets the whole schema too: one migration history, and only its pending table is used.
    await applyMigrations(db, options.migrationsFolder ?? DEFAULT_MIGRATIONS);
    if (options.digestIndex === false) await client.execute("DROP INDEX IF EXISTS entries_digest");
    const busy = embedded
      ? {
          // The file client runs its setup pragmas on the new connection too.
          async reconnect() {
            client.reconnect();
          },
          patienceMs: busyTimeoutMs,
        }
      : undefined;
    return { backend: libsqlBackend(client, db, options.maxParams ?? LIBSQL_MAX_PARAMS, busy), client };
  } catch (e) {
    client.close();
    throw e;
  }
}

/**
 * Per connection, so the file client runs them on every connection it opens.
 * WAL: readers never block the writer. FULL fsyncs every commit, so an
 * acknowledged submission survives power loss too; the submit path commits
 * in groups, which makes the fsync cheap per entry. NORMAL skips that fsync
 * (commits survive a process crash only) and suits tests and benchmarks of
 * everything else.
 *
 * A page cache of up to 64 MiB, not SQLite's 2 MB: a block's entries land
 * on random pages of the id index, and with the default every one of them
 * is read back from the file and evicted again. Storing a 100k-entry block
 * into a million-entry replica took 2.5 s with 2 MB and 1.9–2.1 s with
 * 64 MiB (docs/BENCHMARKS.md, "Ids and digests as bytes"). SQLite allocates
 * it as pages are read, so a small database never holds that much.
 */
function embeddedPragmas(durability: Durability): string[] {
  return [
    "PRAGMA journal_mode = WAL",
    durability === "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    `PRAGMA cache_size = -${CACHE_KIB}`,
  ];
}

/** Most KiB of pages each connection keeps (SQLite reads a negative cache_size as KiB). */
const CACHE_KIB = 64 * 1024;

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
