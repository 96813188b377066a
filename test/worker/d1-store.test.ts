/**
 * The store contract (test/store/contract.ts) against Cloudflare D1: the D1
 * backend in src/store/d1.ts driving Miniflare's D1 (workerd's SQLite behind
 * the D1 API, with its 100-parameter limit and batch() transactions) through
 * the binding proxy Miniflare hands to Node. Every test gets a database of
 * its own, migrated from migrations/*.sql.
 */
import type { D1Database } from "@cloudflare/workers-types";
import type { Miniflare } from "miniflare";
import { newMiniflare } from "./miniflare.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { D1_MAX_PARAMS, openD1Store } from "../../src/store/d1.js";
import { ChainBuilder, HEX_TEXT_AS_BEFORE_0004, logBefore0004, makeEntries } from "../store/chain-fixture.js";
import { storeContract } from "../store/contract.js";
import { COMPATIBILITY_DATE, migrate } from "./harness.js";

// Enough fresh databases for every test of the contract (bindings cost nothing until used).
const POOL = 48;
let mf: Miniflare;
let next = 0;

beforeAll(async () => {
  const d1Databases = Object.fromEntries(Array.from({ length: POOL }, (_, i) => [`DB${i}`, `db-${i}`]));
  // Two bindings to one database: two independent stores racing on it.
  d1Databases.TWIN = "db-twin";
  mf = newMiniflare({ modules: true, script: "export default { fetch: () => new Response(null, { status: 204 }) }", compatibilityDate: COMPATIBILITY_DATE, d1Databases: { ...d1Databases, TWIN_2: "db-twin" } });
  await mf.ready;
});
afterAll(() => mf?.dispose());

async function binding(name: string): Promise<D1Database> {
  return (await mf.getD1Database(name)) as unknown as D1Database;
}

/** A database of the pool no statement has touched yet. */
async function blank(): Promise<D1Database> {
  if (next >= POOL) throw new Error(`more than ${POOL} fresh D1 databases asked for: raise POOL`);
  return binding(`DB${next++}`);
}

async function fresh(): Promise<D1Database> {
  const db = await blank();
  await migrate(db);
  return db;
}

storeContract("D1 (miniflare)", async () => openD1Store(await fresh()), {
  twins: async () => {
    const first = await binding("TWIN");
    await migrate(first);
    return [openD1Store(first), openD1Store(await binding("TWIN_2"))];
  },
});

describe("D1 specifics", () => {
  it("the binding proxy survives workerd closing an idle connection while this process is busy", async () => {
    // workerd closes a connection idle for 5 s; undici's pool keeps it for
    // at least 4 s. Idle 3.5 s, then hold the event loop past the 5 s mark
    // (as a loaded machine does), so workerd's FIN is still unread when the
    // next call is written: without fresh connections (test/worker/miniflare.ts)
    // this fails with "other side closed" every time.
    const db = await fresh();
    await db.prepare("SELECT 1").all();
    await new Promise((r) => setTimeout(r, 3_500));
    const until = Date.now() + 2_000;
    while (Date.now() < until); // busy, on purpose
    expect((await db.prepare("SELECT 2 AS two").all()).results).toEqual([{ two: 2 }]);
  });

  it("keeps every statement within D1's 100 bound parameters (a seal of 600 entries goes through)", async () => {
    expect(D1_MAX_PARAMS).toBe(100);
    const store = openD1Store(await fresh());
    const chain = new ChainBuilder();
    const entries = makeEntries("d1", 600);
    await store.insertPending(entries);
    expect(await store.appendBlock(chain.next(entries), { consumePending: true })).toBe("appended");
    expect(await store.readBlockWrite(0)).toEqual(chain.writes[0]);
  });

  it("migration 0004 turns the hex ids and digests of an older log into bytes, as wrangler applies it", async () => {
    const db = await blank();
    await migrate(db, (f) => f < "0004");
    const { write, sealed, queued } = logBefore0004();
    const old = openD1Store(db);
    await old.appendBlock(write);
    await old.insertPending(queued);
    for (const statement of HEX_TEXT_AS_BEFORE_0004) await db.prepare(statement).run();
    expect((await db.prepare("SELECT DISTINCT typeof(id) AS t FROM entries").all()).results).toEqual([{ t: "text" }]);

    await migrate(db, (f) => f >= "0004");
    const types = await db.prepare("SELECT typeof(id) AS t, length(id) AS n, length(digest) AS d FROM entries UNION ALL SELECT typeof(id), length(id), length(digest) FROM pending").all();
    expect(types.results).toEqual([...sealed, ...queued].map((e) => ({ t: "blob", n: 32, d: e.digest === "" ? 0 : 32 })));
    const store = openD1Store(db);
    expect(await store.readBlockWrite(0)).toEqual(write);
    expect((await store.anchorsOfDigest(sealed[2]!.digest, 10)).map((a) => a.id)).toEqual([sealed[2]!.id]);
    expect((await store.chainRecords()).map((r) => r.entry)).toEqual([sealed[3]!.entry]);
    expect((await store.takePending(10)).map((p) => p.id)).toEqual(queued.map((p) => p.id));
  });

  it("enforces the chain in the database itself (the trigger survived the migration)", async () => {
    const db = await fresh();
    const raw = (height: number, hash: string, prev: string) =>
      db.prepare("INSERT INTO blocks (height, hash, prev_hash, header, size, sealed_at) VALUES (?, ?, ?, 'h', 1, 0)").bind(height, hash, prev).run();
    await expect(raw(0, "a".repeat(64), "1".repeat(64))).rejects.toThrow(/does not extend the chain/);
    await raw(0, "a".repeat(64), "0".repeat(64));
    await expect(raw(1, "b".repeat(64), "c".repeat(64))).rejects.toThrow(/does not extend the chain/);
    await raw(1, "b".repeat(64), "a".repeat(64));
  });
});
