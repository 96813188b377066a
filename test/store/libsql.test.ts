/**
 * Runs the store contract against embedded libSQL files, once with SQLite's
 * own parameter limit and once with D1's (100 per statement) so the chunking
 * of every multi-row statement is exercised too; plus what only a file can
 * show: migrations on reopen and concurrent openers.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { openLibsqlStore, type LibsqlStoreOptions } from "../../src/store/libsql.js";
import { ChainBuilder, makeEntries } from "./chain-fixture.js";
import { storeContract } from "./contract.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-store-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let counter = 0;
const freshUrl = () => `file:${path.join(dir, `db-${++counter}.db`)}`;

function opener(extra: Partial<LibsqlStoreOptions> = {}) {
  return {
    open: () => openLibsqlStore({ url: freshUrl(), ...extra }),
    twins: async () => {
      const url = freshUrl();
      const first = await openLibsqlStore({ url, ...extra });
      return [first, await openLibsqlStore({ url, ...extra })] as [typeof first, typeof first];
    },
  };
}

const plain = opener();
storeContract("libsql file", plain.open, { twins: plain.twins });
const d1Like = opener({ maxParams: 100 });
storeContract("libsql file, 100 params a statement", d1Like.open, { twins: d1Like.twins });

describe("libsql file specifics", () => {
  it("applies migrations once: reopening keeps the data", async () => {
    const url = freshUrl();
    const chain = new ChainBuilder();
    const first = await openLibsqlStore({ url });
    await first.appendBlock(chain.next(makeEntries("m", 3)));
    first.close();
    const again = await openLibsqlStore({ url });
    expect(await again.head()).toEqual({ size: 1, hash: chain.headHash });
    const applied = await again.client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
    const files = fs.readdirSync(new URL("../../migrations", import.meta.url)).filter((f) => f.endsWith(".sql"));
    expect(applied.rows[0]!.n).toBe(files.length);
    again.close();
  });

  it("survives two openers migrating a fresh file at once", async () => {
    const url = freshUrl();
    const stores = await Promise.all([openLibsqlStore({ url }), openLibsqlStore({ url }), openLibsqlStore({ url })]);
    for (const s of stores) expect(await s.head()).toEqual({ size: 0, hash: "0".repeat(64) });
    for (const s of stores) s.close();
  });

  it("ships migrations as plain SQL that any SQLite runner applies the same way", async () => {
    // What `wrangler d1 migrations apply` does: run each file as a script. The
    // `--> statement-breakpoint` markers are SQL comments to it.
    const folder = new URL("../../migrations/", import.meta.url);
    const files = fs.readdirSync(folder).filter((f) => f.endsWith(".sql")).sort();
    const plainClient = createClient({ url: freshUrl() });
    for (const f of files) await plainClient.executeMultiple(fs.readFileSync(new URL(f, folder), "utf8"));
    const store = await openLibsqlStore({ url: freshUrl() });
    const schemaOf = async (c: Client) =>
      (await c.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '%drizzle%' AND name NOT LIKE 'sqlite_%' ORDER BY name")).rows.map((r) => ({ ...r }));
    const expected = await schemaOf(store.client);
    expect(expected.map((r) => r.name)).toContain("blocks_chain_link");
    expect(await schemaOf(plainClient)).toEqual(expected);
    plainClient.close();
    store.close();
  });

  it("tunes embedded files", async () => {
    const s = await openLibsqlStore({ url: freshUrl() });
    const pragma = async (name: string) => Object.values((await s.client.execute(`PRAGMA ${name}`)).rows[0]!)[0];
    expect(await pragma("journal_mode")).toBe("wal");
    expect(await pragma("synchronous")).toBe(2); // FULL: an acknowledged submission survives power loss
    expect(await pragma("foreign_keys")).toBe(1);
    expect(await pragma("busy_timeout")).toBe(5000); // a write waits this long for another connection's lock, then is refused (503)
    s.close();
    const normal = await openLibsqlStore({ url: freshUrl(), durability: "normal" });
    expect(Object.values((await normal.client.execute("PRAGMA synchronous")).rows[0]!)[0]).toBe(1);
    normal.close();
  });

  it("refuses a write as 503 while another connection holds the write lock, and takes the next one once it is released", async () => {
    const url = freshUrl();
    const s = await openLibsqlStore({ url, busyTimeoutMs: 150 });
    const other = createClient({ url, concurrency: 1 });
    const [first, second] = makeEntries("busy", 2);
    try {
      // Another writer (a second operator, the CLI) holds the lock past the busy timeout: BEGIN IMMEDIATE.
      const held = await other.transaction("write");
      const refused = s.insertPending([first!]);
      await expect(refused).rejects.toMatchObject({ code: "UNAVAILABLE", retryAfter: 5 });
      await expect(refused).rejects.toThrow(/another connection holds the database's write lock.*nothing was written/);
      await held.rollback();
      // The driver leaves the failed BEGIN unreset; on the same connection
      // every later COMMIT would fail "SQL statements in progress".
      expect(await s.insertPending([first!, second!])).toEqual(new Set([first!.id, second!.id]));
      expect((await s.pendingStats()).count).toBe(2);
      await s.insertPending(makeEntries("after", 1));
      expect((await s.pendingStats()).count).toBe(3);
    } finally {
      other.close();
      s.close();
    }
  });

  it("enforces the chain in the database itself, whoever writes", async () => {
    const s = await openLibsqlStore({ url: freshUrl() });
    const raw = (height: number, hash: string, prev: string) =>
      s.client.execute({ sql: "INSERT INTO blocks (height, hash, prev_hash, header, size, sealed_at) VALUES (?, ?, ?, 'h', 1, 0)", args: [height, hash, prev] });
    await expect(raw(0, "a".repeat(64), "1".repeat(64))).rejects.toThrow(/does not extend the chain/);
    await raw(0, "a".repeat(64), "0".repeat(64));
    await expect(raw(1, "b".repeat(64), "c".repeat(64))).rejects.toThrow(/does not extend the chain/);
    await expect(raw(2, "b".repeat(64), "a".repeat(64))).rejects.toThrow(/does not extend the chain/);
    await raw(1, "b".repeat(64), "a".repeat(64));
    s.close();
  });
});
