/**
 * The SqlBackend over a libSQL client, shared by the embedded/Node opener
 * (./libsql.ts) and the Worker's HTTP opener (./libsql-web.ts). No Node
 * imports: it only ever talks to the Client interface.
 *
 * Writes bypass drizzle's `db.batch()` on purpose: that runs BEGIN DEFERRED,
 * and we want BEGIN IMMEDIATE (mode "write") so a writer takes the lock
 * before its first statement and waits on busy_timeout instead of failing
 * with SQLITE_BUSY when another process wrote in between; and the client's
 * LibsqlBatchError tells us which statement broke a constraint.
 */
import { LibsqlBatchError, LibsqlError, type Client, type InArgs } from "@libsql/client/web";
import type { Query } from "drizzle-orm";
import type { LibSQLDatabase } from "drizzle-orm/libsql/driver-core";
import { ConstraintViolation, storageFailure, StorageUnavailable, type Row, type SqlBackend } from "./sql-store.js";

/**
 * What an embedded file's backend does when a write batch meets SQLITE_BUSY.
 * The driver leaves the failed BEGIN (or COMMIT) unreset, and while it lives
 * every later COMMIT on that connection fails "SQL statements in progress":
 * one lock held past the busy timeout would refuse every write after it. So
 * the connection is replaced at once, and the batch is retried while
 * `patienceMs` (from its first attempt) lasts, then refused as
 * StorageUnavailable (503, nothing written).
 */
export interface BusyRecovery {
  readonly reconnect: () => Promise<void>;
  readonly patienceMs: number;
}

export function libsqlBackend(client: Client, db: LibSQLDatabase, maxParams: number, busy?: BusyRecovery): SqlBackend {
  const writeOnce = async (statements: readonly Query[]): Promise<Row[][]> => {
    const results = await client.batch(
      statements.map((q) => ({ sql: q.sql, args: q.params as InArgs })),
      "write",
    );
    return results.map((r) => r.rows as unknown as Row[]);
  };
  return {
    db,
    maxParams,
    async writeBatch(statements: readonly Query[]): Promise<Row[][]> {
      const deadline = Date.now() + (busy?.patienceMs ?? 0);
      for (let attempt = 1; ; attempt++) {
        try {
          return await writeOnce(statements);
        } catch (e) {
          // A busy batch committed nothing: its BEGIN IMMEDIATE or its COMMIT
          // failed, and the open transaction dies with the dropped
          // connection. Running it again cannot write it twice.
          if (busy !== undefined && isBusy(e)) {
            await busy.reconnect();
            if (Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, Math.min(attempt, 10)));
              continue;
            }
          }
          throw asConstraintViolation(e) ?? asStorageUnavailable(e) ?? e;
        }
      }
    },
    close: () => client.close(),
  };
}

function isBusy(e: unknown): boolean {
  return e instanceof LibsqlError && (e.extendedCode ?? e.code).startsWith("SQLITE_BUSY");
}

function asStorageUnavailable(e: unknown): StorageUnavailable | undefined {
  if (!(e instanceof LibsqlError)) return undefined;
  const reason = storageFailure(`${e.extendedCode ?? ""} ${e.code} ${e.message}`);
  return reason === undefined ? undefined : new StorageUnavailable(reason, { cause: e });
}

/** SQLITE_CONSTRAINT and its extended codes (PRIMARYKEY, UNIQUE, TRIGGER, …). */
function asConstraintViolation(e: unknown): ConstraintViolation | undefined {
  if (!(e instanceof LibsqlError)) return undefined;
  const code = e.extendedCode ?? e.code;
  if (!code.startsWith("SQLITE_CONSTRAINT")) return undefined;
  const index = e instanceof LibsqlBatchError ? e.statementIndex : undefined;
  return new ConstraintViolation(index, e.message, { cause: e });
}
