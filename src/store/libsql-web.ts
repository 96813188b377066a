/**
 * libSQL over HTTP from the Worker: a member whose replica lives on Turso or
 * sqld is reached with `@libsql/client/web` (fetch / WebSocket only, no
 * native code, no Node imports), behind the same SqlBackend as the embedded
 * files (./libsql-backend.ts).
 *
 * No migrations here: a Worker has no filesystem to read migrations/ from,
 * and a replica's schema is its owner's to change. Remote databases are
 * migrated ahead of time from a machine with Node (`npm run db:migrate`, the
 * same drizzle migrator ./libsql.ts runs on open); until then the replica's
 * queries fail and the seal reports it as unreachable, naming the error.
 */
import { createClient, type Client, type ResultSet, type Row } from "@libsql/client/web";
import { drizzle } from "drizzle-orm/libsql/web";
import { libsqlBackend } from "./libsql-backend.js";
import { SqlStore } from "./sql-store.js";

/**
 * sqld's limit is SQLite's (32766 bound parameters); HTTP requests are what
 * cost here, so statements stay large, as for embedded files.
 */
export const LIBSQL_WEB_MAX_PARAMS = 30_000;

export interface LibsqlWebOptions {
  /** libsql://, https://, http://, wss:// or ws:// */
  readonly url: string;
  readonly authToken?: string;
  readonly maxParams?: number;
}

export function openLibsqlWebStore(options: LibsqlWebOptions): SqlStore {
  const client = createClient({
    url: options.url,
    ...(options.authToken === undefined ? {} : { authToken: options.authToken }),
    // The client queues requests past its concurrency (default 20) until
    // another finishes; in workerd a request queued behind another
    // request's query would be cancelled as hung. workerd bounds each
    // request's open connections itself.
    concurrency: Number.POSITIVE_INFINITY,
  });
  return new SqlStore(libsqlBackend(client, drizzle(binaryCells(client)), options.maxParams ?? LIBSQL_WEB_MAX_PARAMS));
}

/**
 * drizzle's libSQL driver turns blob cells (ArrayBuffer) into Node Buffers
 * or, where there is no Buffer — a Worker without nodejs_compat — into text
 * through TextDecoder, which mangles the bytes (every tree hash). It leaves
 * a Uint8Array alone, so the client drizzle reads through hands it those.
 */
function binaryCells(client: Client): Client {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "execute") return async (...args: Parameters<Client["execute"]>) => withBinaryCells(await target.execute(...args));
      const value: unknown = Reflect.get(target, prop, target);
      // The client keeps #private fields: its methods must run on it, not on the proxy.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function withBinaryCells(result: ResultSet): ResultSet {
  const binary = (v: unknown) => (v instanceof ArrayBuffer ? new Uint8Array(v) : v);
  if (!result.rows.some((row) => Array.prototype.some.call(row, (v: unknown) => v instanceof ArrayBuffer))) return result;
  // Rows are array-likes whose cells are read-only: build new ones of the same shape.
  const rows = result.rows.map((row) => {
    const copy = {} as Row;
    Object.defineProperty(copy, "length", { value: row.length });
    for (let i = 0; i < row.length; i++) {
      const value = binary(row[i]);
      Object.defineProperty(copy, i, { value });
      const name = result.columns[i];
      if (name !== undefined && !Object.hasOwn(copy, name)) Object.defineProperty(copy, name, { value, enumerable: true, configurable: true, writable: true });
    }
    return copy;
  });
  return { ...result, rows, toJSON: () => result.toJSON() };
}
