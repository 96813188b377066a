/**
 * The Cloudflare D1 backend of SqlStore (docs/ARCHITECTURE.md "Layers"): reads through
 * drizzle-orm/d1, each multi-row write as one D1 `batch()`, which D1 runs as
 * a single transaction (all statements commit or none; D1 has no interactive
 * transactions, which SqlStore never needs). D1 binds at most 100 parameters
 * per statement; SqlStore splits every multi-row statement to fit.
 *
 * No migrations here: a Worker has no filesystem to read migrations/ from.
 * The same drizzle-kit SQL is applied ahead of time with
 * `wrangler d1 migrations apply` (wrangler.toml `migrations_dir`).
 */
import type { D1Database, D1PreparedStatement } from "@cloudflare/workers-types";
import type { Query } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { ConstraintViolation, SqlStore, storageFailure, StorageUnavailable, type Row, type SqlBackend, type SqliteDb } from "./sql-store.js";

/** D1's limit on bound parameters in one statement. */
export const D1_MAX_PARAMS = 100;

export function openD1Store(d1: D1Database): SqlStore {
  return new SqlStore(d1Backend(d1));
}

export function d1Backend(d1: D1Database): SqlBackend {
  return {
    // drizzle's D1 type names the global D1Database of workers-types, which
    // this project does not load globally (it clashes with lib.dom); the
    // shapes are the same.
    db: drizzle(d1 as never) as unknown as SqliteDb,
    maxParams: D1_MAX_PARAMS,
    async writeBatch(statements: readonly Query[]): Promise<Row[][]> {
      if (statements.length === 0) return [];
      const prepared: D1PreparedStatement[] = statements.map((q) => d1.prepare(q.sql).bind(...q.params));
      try {
        const results = await d1.batch<Row>(prepared);
        return results.map((r) => r.results ?? []);
      } catch (e) {
        throw asConstraintViolation(e) ?? asStorageUnavailable(e) ?? e;
      }
    },
    // A binding has nothing to close.
    close: () => {},
  };
}

function asStorageUnavailable(e: unknown): StorageUnavailable | undefined {
  if (!(e instanceof Error)) return undefined;
  const reason = storageFailure(`${e.message} ${e.cause instanceof Error ? e.cause.message : ""}`);
  return reason === undefined ? undefined : new StorageUnavailable(reason, { cause: e });
}

/**
 * D1 reports SQLite's error text (e.g. "D1_ERROR: UNIQUE constraint failed:
 * blocks.height: SQLITE_CONSTRAINT", or the chain-link trigger's RAISE
 * message) but not which statement of a batch failed: SqlStore then judges a
 * conflict by the message.
 */
function asConstraintViolation(e: unknown): ConstraintViolation | undefined {
  if (!(e instanceof Error)) return undefined;
  const text = `${e.message} ${e.cause instanceof Error ? e.cause.message : ""}`;
  if (!/SQLITE_CONSTRAINT|constraint failed|does not extend the chain/.test(text)) return undefined;
  return new ConstraintViolation(undefined, text.trim(), { cause: e });
}
