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
import { intakeUrl, openLibsqlStore, type LibsqlStoreOptions } from "../../src/store/libsql.js";
import { ChainBuilder, HEX_TEXT_AS_BEFORE_0004, logBefore0004, makeEntries } from "./chain-fixture.js";
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
const withIntake = opener({ intake: true });
storeContract("libsql file with an intake", withIntake.open, { twins: withIntake.twins });

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

  it("turns the hex ids and digests of a log written before 0004 into bytes, and reads it back the same", async () => {
    // A database as the code before migration 0004 left it: the first four
    // migrations, then ids and digests as lowercase hex text. Written through
    // today's store, then turned back into the text the old code wrote.
    const folder = fs.mkdtempSync(path.join(dir, "migrations-"));
    const shipped = new URL("../../migrations/", import.meta.url);
    for (const f of fs.readdirSync(shipped).filter((f) => f < "0004" || f === "meta")) fs.cpSync(new URL(f, shipped), path.join(folder, f), { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(folder, "meta", "_journal.json"), "utf8"));
    journal.entries = journal.entries.filter((e: { tag: string }) => e.tag < "0004");
    fs.writeFileSync(path.join(folder, "meta", "_journal.json"), JSON.stringify(journal));
    const url = freshUrl();
    const { write, sealed, queued } = logBefore0004();
    const record = sealed[3]!;
    const old = await openLibsqlStore({ url, migrationsFolder: folder });
    await old.appendBlock(write);
    await old.insertPending(queued);
    for (const statement of HEX_TEXT_AS_BEFORE_0004) await old.client.execute(statement);
    const before = await old.client.execute("SELECT typeof(id) AS t, id FROM entries ORDER BY idx");
    expect(before.rows.map((r) => [r.t, r.id])).toEqual(sealed.map((e) => ["text", e.id]));
    expect(await old.schemaCurrent()).toBe(false);
    old.close();

    const store = await openLibsqlStore({ url });
    expect(await store.schemaCurrent()).toBe(true);
    const types = await store.client.execute(
      "SELECT typeof(id) AS id, length(id) AS n, typeof(digest) AS digest, length(digest) AS d FROM entries UNION ALL SELECT typeof(id), length(id), typeof(digest), length(digest) FROM pending",
    );
    expect(types.rows.map((r) => [r.id, r.n, r.digest, r.d])).toEqual([...sealed, ...queued].map((e) => ["blob", 32, "blob", e.digest === "" ? 0 : 32]));
    expect(await store.readBlockWrite(0)).toEqual(write);
    expect(await store.getEntry(sealed[1]!.id)).toMatchObject({ id: sealed[1]!.id, digest: sealed[1]!.digest, height: 0, index: 1 });
    expect((await store.anchorsOfDigest(sealed[2]!.digest, 10)).map((a) => a.id)).toEqual([sealed[2]!.id]);
    expect((await store.chainRecords()).map((r) => r.entry)).toEqual([record.entry]);
    expect((await store.takePending(10)).map((p) => p.id)).toEqual(queued.map((p) => p.id));
    // Sealed and pending ids still refuse to be queued twice.
    expect(await store.insertPending([sealed[0]!, queued[0]!])).toEqual(new Set());
    store.close();
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

  it("a replica opened without the digest index keeps it dropped, and still finds entries by digest", async () => {
    const url = freshUrl();
    const indexes = async (s: Awaited<ReturnType<typeof openLibsqlStore>>) =>
      (await s.client.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' ORDER BY name")).rows.map((r) => r.name);
    const replica = await openLibsqlStore({ url, digestIndex: false });
    expect(await indexes(replica)).not.toContain("entries_digest");
    const list = makeEntries("replica", 3);
    await replica.appendBlock(new ChainBuilder().next(list));
    replica.close();
    // Opened again by a tool that does not say (cairn audit, say): migrations do not bring it back.
    const again = await openLibsqlStore({ url });
    expect(await indexes(again)).not.toContain("entries_digest");
    expect((await again.anchorsOfDigest(list[1]!.digest, 10)).map((a) => a.id)).toEqual([list[1]!.id]);
    again.close();
    const primary = await openLibsqlStore({ url: freshUrl() });
    expect(await indexes(primary)).toContain("entries_digest");
    primary.close();
  });

  it("tunes embedded files", async () => {
    const s = await openLibsqlStore({ url: freshUrl() });
    const pragma = async (name: string) => Object.values((await s.client.execute(`PRAGMA ${name}`)).rows[0]!)[0];
    expect(await pragma("journal_mode")).toBe("wal");
    expect(await pragma("synchronous")).toBe(2); // FULL: an acknowledged submission survives power loss
    expect(await pragma("foreign_keys")).toBe(1);
    expect(await pragma("busy_timeout")).toBe(5000); // a write waits this long for another connection's lock, then is refused (503)
    expect(await pragma("cache_size")).toBe(-65536); // 64 MiB of pages: a block's random id-index pages stay cached
    s.close();
    const normal = await openLibsqlStore({ url: freshUrl(), durability: "normal" });
    expect(Object.values((await normal.client.execute("PRAGMA synchronous")).rows[0]!)[0]).toBe(1);
    normal.close();
  });

  it("refuses a write as 503 while another connection holds the write lock, and takes the next one once it is released", async () => {
    const url = freshUrl();
    // NORMAL, not SQLite's default FULL: the replacement connection must be tuned too.
    const s = await openLibsqlStore({ url, busyTimeoutMs: 150, durability: "normal" });
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
      // The connection that replaced the busy one is tuned as the first was (pragmas hold per connection).
      expect(Object.values((await s.client.execute("PRAGMA synchronous")).rows[0]!)[0]).toBe(1);
    } finally {
      other.close();
      s.close();
    }
  });

  describe("an intake beside the primary", () => {
    it("queues submissions while another connection holds the log's write lock (a seal committing a block)", async () => {
      const url = freshUrl();
      const s = await openLibsqlStore({ url, intake: true, busyTimeoutMs: 150 });
      const sealer = createClient({ url, concurrency: 1 });
      try {
        const held = await sealer.transaction("write");
        const list = makeEntries("during a seal", 3);
        expect(await s.insertPending(list)).toEqual(new Set(list.map((e) => e.id)));
        expect((await s.pendingStats()).count).toBe(3);
        await held.rollback();
        expect(fs.existsSync(intakeUrl(url).slice("file:".length))).toBe(true);
        // Any later opener of the primary sees what waits in its intake, asked for or not.
        const tool = await openLibsqlStore({ url });
        expect((await tool.pendingStats()).count).toBe(3);
        tool.close();
      } finally {
        sealer.close();
        s.close();
      }
    });

    // 9,000 crosses the sealed-id lookup's parts of 4,096 ids (4,096, 4,096 and 807 sealed).
    it.each([4, 9_000])("seals what a seal left in the intake once: a crash between the block's commit and clearing the intake (%i entries)", async (n) => {
      const s = await openLibsqlStore({ url: freshUrl(), intake: true });
      const list = makeEntries(`crash ${n}`, n);
      await s.insertPending(list);
      // The block of all but the last commits and the intake is not cleared, as if the seal died in between.
      expect(await s.appendBlock(new ChainBuilder().next(list.slice(0, n - 1)), { consumePending: false })).toBe("appended");
      expect((await s.pendingStats()).count).toBe(n);
      expect((await s.takePending(n + 1)).map((p) => p.id)).toEqual([list[n - 1]!.id]);
      expect((await s.pendingStats()).count).toBe(1); // the sealed ones are gone from the intake
      // Resent, the sealed entries queue nothing and the pending one is known; a digest is found once, as sealed.
      expect(await s.insertPending(list)).toEqual(new Set());
      expect((await s.anchorsOfDigest(list[0]!.digest, 10)).map((a) => ("height" in a ? "sealed" : "pending"))).toEqual(["sealed"]);
      s.close();
    });

    it("finds an entry sealed while still in the intake once, as sealed", async () => {
      const url = freshUrl();
      const s = await openLibsqlStore({ url, intake: true });
      const [e] = makeEntries("both", 1);
      await s.insertPending([e!]);
      await s.appendBlock(new ChainBuilder().next([e!]), {});
      expect(await s.getPending(e!.id)).toBeDefined(); // still in the intake
      const anchors = await s.anchorsOfDigest(e!.digest, 10);
      expect(anchors).toHaveLength(1);
      expect(anchors[0]).toMatchObject({ id: e!.id, height: 0 });
      s.close();
    });

    it("still takes what was pending in the log's own file before the intake, each entry once", async () => {
      const url = freshUrl();
      const before = await openLibsqlStore({ url });
      const old = makeEntries("old", 2);
      await before.insertPending(old);
      before.close();
      const s = await openLibsqlStore({ url, intake: true });
      const fresh = makeEntries("new", 1);
      expect(await s.insertPending([old[1]!, ...fresh])).toEqual(new Set([old[1]!.id, fresh[0]!.id])); // a client resending
      expect((await s.takePending(10)).map((p) => p.id)).toEqual([old[0]!.id, old[1]!.id, fresh[0]!.id]);
      const taken = await s.takePending(10);
      expect(await s.appendBlock(new ChainBuilder().next(taken), { consumePending: true })).toBe("appended");
      expect(await s.pendingStats()).toEqual({ count: 0, oldestReceivedAt: null });
      s.close();
    });
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
