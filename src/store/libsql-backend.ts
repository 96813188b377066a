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

export function libsqlBackend(client: Client, db: LibSQLDatabase, maxParams: number): SqlBackend {
  return {
    db,
    maxParams,
    async writeBatch(statements: readonly Query[]): Promise<Row[][]> {
      const stmts = statements.map((q) => ({ sql: q.sql, args: q.params as InArgs }));
      try {
        const results = await client.batch(stmts, "write");
        return results.map((r) => r.rows as unknown as Row[]);
      } catch (e) {
        throw asConstraintViolation(e) ?? asStorageUnavailable(e) ?? e;
      }
    },
    close: () => client.close(),
  };
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
