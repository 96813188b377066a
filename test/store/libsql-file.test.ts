/**
 * The embedded file client (src/store/libsql-file.ts) keeps its prepared
 * statements; everything the store and drizzle read from it must be what
 * @libsql/client gives for the same file: the same rows, the same numbers
 * and blobs, the same errors. Each test runs one question against both.
 */
import { createClient, LibsqlBatchError, LibsqlError, type Client, type ResultSet } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KEPT_SQL_LENGTH, openFileClient, type FileClient } from "../../src/store/libsql-file.js";

let dir: string;
let path: string;
let ours: FileClient;
let theirs: Client;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-file-client-"));
  path = join(dir, "db.sqlite");
  ours = openFileClient(path, { timeoutMs: 50 });
  theirs = createClient({ url: `file:${path}`, concurrency: 1, timeout: 50 });
  await ours.execute("PRAGMA journal_mode = WAL");
  await ours.executeMultiple(`
    CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, r REAL, b BLOB, z TEXT);
    INSERT INTO t VALUES ('a', 1, 1.5, x'00ff10', NULL), ('b', -9007199254740991, 0.25, x'', 'zed');
  `);
});

afterEach(() => {
  ours.close();
  theirs.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a caller can observe of a result set. */
function observed(r: ResultSet) {
  return {
    columns: r.columns,
    columnTypes: r.columnTypes,
    rowsAffected: r.rowsAffected,
    lastInsertRowid: r.lastInsertRowid,
    rows: r.rows.map((row) => ({
      keys: Object.keys(row),
      spread: { ...row },
      json: JSON.stringify(row),
      length: row.length,
      byPosition: Array.prototype.slice.call(row).map(comparable),
      byName: Object.fromEntries(r.columns.map((c) => [c, comparable(row[c]!)])),
    })),
    json: r.toJSON(),
  };
}

function comparable(v: unknown): unknown {
  return v instanceof ArrayBuffer ? { blob: [...new Uint8Array(v)] } : v;
}

async function both<T>(f: (c: Client) => Promise<T>): Promise<[T, T]> {
  return [await f(ours), await f(theirs)];
}

async function failure(p: Promise<unknown>): Promise<{ type: string; message: string; code?: string; extendedCode?: string; rawCode?: number; statementIndex?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as LibsqlError & { statementIndex?: number };
    const type = e instanceof LibsqlBatchError ? "LibsqlBatchError" : e instanceof LibsqlError ? "LibsqlError" : (e as Error).constructor.name;
    return { type, message: err.message, code: err.code, extendedCode: err.extendedCode, rawCode: err.rawCode, statementIndex: err.statementIndex };
  }
  throw new Error("expected a failure");
}

describe("the embedded file client answers as @libsql/client does", () => {
  it("rows by position and by name, integers as numbers, reals, blobs as ArrayBuffer, NULL", async () => {
    const [a, b] = await both((c) => c.execute("SELECT id, n, r, b, z FROM t ORDER BY id"));
    expect(observed(a)).toEqual(observed(b));
    expect(a.rows[0]!.b).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(a.rows[0]!.b as ArrayBuffer)]).toEqual([0x00, 0xff, 0x10]);
    expect(a.rows[1]!.n).toBe(-9007199254740991);
  });

  it("a column name given twice reads the first by name and each by position", async () => {
    const [a, b] = await both((c) => c.execute("SELECT 1 AS x, 2 AS x, 3 AS y"));
    expect(observed(a)).toEqual(observed(b));
    expect(a.rows[0]!.x).toBe(1);
    expect(a.rows[0]![1]).toBe(2);
  });

  it("positional and named arguments, blobs and booleans bound the same way", async () => {
    const blob = new Uint8Array([1, 2, 3]).buffer;
    const [a, b] = await both((c) => c.execute({ sql: "SELECT :q AS q, @r AS r, $s AS s", args: { q: "q", "@r": 2, $s: blob } }));
    expect(observed(a)).toEqual(observed(b));
    const [c1, c2] = await both((c) => c.execute({ sql: "SELECT ? AS t, ? AS f, ? AS big", args: [true, false, 12345678901234n] }));
    expect(observed(c1)).toEqual(observed(c2));
  });

  it("writes: rows affected, last rowid, RETURNING", async () => {
    const [a, b] = await both(async (c) => {
      const n = (await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n;
      return c.execute({ sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: [`w${String(n)}`, 7] });
    });
    // Each inserted its own row, so only the rowids differ.
    const apart = (r: ResultSet) => ({ ...observed(r), lastInsertRowid: undefined, json: { ...observed(r).json, lastInsertRowid: undefined } });
    expect(apart(a)).toEqual(apart(b));
    expect(a.rowsAffected).toBe(1);
    expect(b.lastInsertRowid).toBe(a.lastInsertRowid! + 1n);
    const [r1, r2] = await both((c) => c.execute({ sql: "UPDATE t SET n = n + 1 WHERE id IN ('a', 'b') RETURNING id, n", args: [] }));
    expect(observed(r1).rows.map((r) => r.byName.id)).toEqual(observed(r2).rows.map((r) => r.byName.id));
    expect(r1.columns).toEqual(r2.columns);
  });

  it("refuses an integer past 2^53 on reading, and undefined or NaN as arguments", async () => {
    await ours.execute("INSERT INTO t (id, n) VALUES ('big', 9007199254740993)");
    const [a, b] = await both((c) => failure(c.execute("SELECT n FROM t WHERE id = 'big'")));
    expect(a).toEqual(b);
    expect(a.type).toBe("RangeError");
    for (const arg of [undefined, Number.NaN]) {
      const [x, y] = await both((c) => failure(c.execute({ sql: "SELECT ?", args: [arg as never] })));
      expect(x).toEqual(y);
    }
  });

  it("SQL errors: the same codes and messages", async () => {
    for (const sql of ["SELEC 1", "SELECT nope FROM t", "INSERT INTO t (id) VALUES ('a')"]) {
      const [a, b] = await both((c) => failure(c.execute(sql)));
      expect(a).toEqual(b);
      expect(a.type).toBe("LibsqlError");
    }
  });

  it("a batch that breaks a constraint names the statement, writes nothing, and the next batch (same statements) commits", async () => {
    const batch = (c: Client, id: string) =>
      c.batch(
        [
          { sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: [`${id}1`, 1] },
          { sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: [`${id}2`, 2] },
          { sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: ["a", 3] },
        ],
        "write",
      );
    const [a, b] = await both((c) => failure(batch(c, c === ours ? "o" : "t")));
    expect(a).toEqual(b);
    expect(a).toMatchObject({ type: "LibsqlBatchError", statementIndex: 2, code: "SQLITE_CONSTRAINT", extendedCode: "SQLITE_CONSTRAINT_PRIMARYKEY" });
    expect((await ours.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(2);
    const ok = await ours.batch([{ sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: ["o1", 1] }, { sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: ["o2", 2] }], "write");
    expect(ok.map((r) => r.rowsAffected)).toEqual([1, 1]);
    expect((await theirs.execute("SELECT id FROM t ORDER BY id")).rows.map((r) => r.id)).toEqual(["a", "b", "o1", "o2"]);
  });

  it("waits out the busy timeout for another writer, says SQLITE_BUSY, and writes once the lock is free", async () => {
    const holder = createClient({ url: `file:${path}`, concurrency: 1 });
    const tx = await holder.transaction("write");
    await tx.execute("INSERT INTO t (id) VALUES ('held')");
    const [a, b] = await both((c) => failure(c.batch([{ sql: "INSERT INTO t (id) VALUES ('x')", args: [] }], "write")));
    expect(a).toEqual(b);
    expect(a.code).toBe("SQLITE_BUSY");
    await tx.commit();
    holder.close();
    await ours.batch([{ sql: "INSERT INTO t (id) VALUES ('x')", args: [] }], "write");
    ours.reconnect();
    await ours.batch([{ sql: "INSERT INTO t (id) VALUES ('y')", args: [] }], "write");
    expect((await theirs.execute("SELECT id FROM t ORDER BY id")).rows.map((r) => r.id)).toEqual(["a", "b", "held", "x", "y"]);
  });

  it("keeps answering right past the number of statements it keeps", async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 300; i++) {
        const r = await ours.execute({ sql: `SELECT ? + ${i} AS v`, args: [round] });
        expect(r.rows[0]!.v).toBe(round + i);
      }
    }
  });

  it("keeps short statements and prepares long ones (multi-row inserts) per call, which answer all the same", async () => {
    const kept = ours.keptStatements;
    const rows = Math.ceil(KEPT_SQL_LENGTH / 8) + 1;
    const long = `INSERT INTO t (id, n) VALUES ${Array.from({ length: rows }, () => "(?, ?)").join(", ")} RETURNING id`;
    expect(long.length).toBeGreaterThan(KEPT_SQL_LENGTH);
    for (const round of [0, 1]) {
      const r = await ours.execute({ sql: long, args: Array.from({ length: rows }, (_, i) => [`long ${round} ${i}`, i]).flat() });
      expect(r.rows.length).toBe(rows);
    }
    expect(ours.keptStatements).toBe(kept);
    await ours.execute("SELECT count(*) AS n FROM t");
    expect(ours.keptStatements).toBe(kept + 1);
    expect((await theirs.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(2 + 2 * rows);
  });

  it("migrate() runs with foreign keys off and turns them on again", async () => {
    await ours.execute("PRAGMA foreign_keys = ON");
    await ours.migrate([
      { sql: "CREATE TABLE parent (id INTEGER PRIMARY KEY)", args: [] },
      { sql: "CREATE TABLE child (p INTEGER REFERENCES parent(id))", args: [] },
      { sql: "INSERT INTO child VALUES (42)", args: [] },
    ]);
    expect((await ours.execute("PRAGMA foreign_keys")).rows[0]![0]).toBe(1);
    expect((await failure(ours.execute("INSERT INTO child VALUES (43)"))).extendedCode).toBe("SQLITE_CONSTRAINT_FOREIGNKEY");
  });

  it("runs its setup on every connection it opens, a reconnect's too (pragmas hold per connection)", async () => {
    const tuned = openFileClient(path, { timeoutMs: 50, setup: ["PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"] });
    const pragmas = async () => [(await tuned.execute("PRAGMA synchronous")).rows[0]![0], (await tuned.execute("PRAGMA foreign_keys")).rows[0]![0]];
    try {
      expect(await pragmas()).toEqual([2, 1]);
      await tuned.execute("PRAGMA synchronous = OFF");
      await tuned.execute("PRAGMA foreign_keys = OFF");
      expect(await pragmas()).toEqual([0, 0]);
      tuned.reconnect();
      expect(await pragmas()).toEqual([2, 1]);
    } finally {
      tuned.close();
    }
  });

  it("once closed, refuses work as CLIENT_CLOSED", async () => {
    ours.close();
    expect(ours.closed).toBe(true);
    const [a, b] = await both(async (c) => {
      c.close();
      return failure(c.execute("SELECT 1"));
    });
    expect(a).toEqual(b);
    expect(a.code).toBe("CLIENT_CLOSED");
  });
});
