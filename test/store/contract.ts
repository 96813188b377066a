/**
 * The store contract suite: what every PrimaryStore backend must do, run
 * against each of them (libSQL files here, D1 under miniflare later). Each
 * test opens a fresh, empty store. Backends that can open two instances on
 * one database pass `twins` to also run the cross-instance races.
 */
import { afterEach, describe, expect, it } from "vitest";
import { entryId } from "../../src/core/submission.js";
import type { BlockWrite, CheckpointRecord, NewPending, PrimaryStore, WitnessAnswerRecord } from "../../src/store/types.js";
import { allBatchRefs, ChainBuilder, hashAt, makeEntries, makePending, ZEROS } from "./chain-fixture.js";

export interface ContractOptions {
  /** Two independent store instances over the same, fresh database. */
  twins?: () => Promise<[PrimaryStore, PrimaryStore]>;
}

export function storeContract(name: string, open: () => Promise<PrimaryStore>, options: ContractOptions = {}): void {
  const opened: PrimaryStore[] = [];
  const fresh = async () => {
    const store = await open();
    opened.push(store);
    return store;
  };
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });

  describe(`${name}: empty store`, () => {
    it("has this release's schema once migrated (what a Worker asks before it serves)", async () => {
      expect(await (await fresh()).schemaCurrent()).toBe(true);
    });

    it("has an empty chain", async () => {
      const s = await fresh();
      expect(await s.head()).toEqual({ size: 0, hash: ZEROS });
      expect(await s.getBlock(0)).toBeUndefined();
      expect(await s.listBlocks(0, 10)).toEqual([]);
      expect(await s.readBlockWrite(0)).toBeUndefined();
      expect(await s.latestCheckpoint()).toBeUndefined();
      expect(await s.pendingStats()).toEqual({ count: 0, oldestReceivedAt: null });
      expect(await s.readBatchHashes(0, [])).toEqual([]);
      expect(await s.readHistoryHashes([])).toEqual([]);
      expect(await s.insertPending([])).toEqual(new Set());
    });
  });

  describe(`${name}: clients`, () => {
    // The chain record that goes with a registration or revocation (its text is opaque to the store).
    const rec = (label: string, client: string, at = 1): NewPending => ({ id: entryId(`record ${label}\n`), entry: `record ${label}\n`, digest: "", client, receivedAt: at, promise: "" });
    const pendingIds = async (s: PrimaryStore) => (await s.takePending(100)).map((p) => p.id);

    it("registers, recognises and refuses; the chain record is queued only for a new client", async () => {
      const s = await fresh();
      expect(await s.putClient("bob", "bob+1234+AAA", 10, rec("bob", "bob"))).toBe("created");
      expect(await s.putClient("alice", "alice+abcd+BBB", 11, rec("alice", "alice"))).toBe("created");
      expect(await s.putClient("bob", "bob+1234+AAA", 12, rec("bob again", "bob"))).toBe("exists");
      expect(await s.putClient("bob", "bob+9999+CCC", 13, rec("bob other", "bob"))).toBe("conflict");
      expect(await s.getClient("bob")).toEqual({ name: "bob", key: "bob+1234+AAA", status: "active", createdAt: 10, revokedAt: null });
      expect(await s.getClient("carol")).toBeUndefined();
      expect((await s.listClients()).map((c) => c.name)).toEqual(["alice", "bob"]);
      expect(await pendingIds(s)).toEqual([rec("bob", "bob").id, rec("alice", "alice").id]);
    });

    it("revokes once, with its record; revoking again or with another key writes nothing", async () => {
      const s = await fresh();
      await s.putClient("bob", "bob+1234+AAA", 10, rec("bob", "bob"));
      expect(await s.revokeClient("bob", "bob+9999+CCC", 15, rec("wrong key", "bob"))).toBe(false);
      expect(await s.revokeClient("bob", "bob+1234+AAA", 20, rec("revoke", "bob"))).toBe(true);
      expect(await s.revokeClient("bob", "bob+1234+AAA", 30, rec("revoke again", "bob"))).toBe(false);
      expect(await s.getClient("bob")).toMatchObject({ status: "revoked", revokedAt: 20 });
      expect(await s.revokeClient("nobody", "nobody+1+A", 20, rec("nobody", "nobody"))).toBe(false);
      // Re-registering the same key does not reactivate it.
      expect(await s.putClient("bob", "bob+1234+AAA", 40, rec("bob later", "bob"))).toBe("exists");
      expect(await s.getClient("bob")).toMatchObject({ status: "revoked" });
      expect(await pendingIds(s)).toEqual([rec("bob", "bob").id, rec("revoke", "bob").id]);
    });

    it("lets exactly one of two racing registrations create, and queue its record", async () => {
      const s = await fresh();
      const results = await Promise.all([s.putClient("dan", "dan+1+A", 1, rec("dan 1", "dan")), s.putClient("dan", "dan+2+B", 1, rec("dan 2", "dan"))]);
      expect(results.sort()).toEqual(["conflict", "created"]);
      expect(await pendingIds(s)).toHaveLength(1);
    });

    it("lists the client records (entries without a digest) in chain order once sealed", async () => {
      const s = await fresh();
      expect(await s.chainRecords()).toEqual([]);
      const chain = new ChainBuilder();
      const [a, b, c] = [rec("first", "x"), rec("second", "y"), rec("third", "z")];
      expect(await s.appendBlock(chain.next([...makeEntries("r0", 2), a!, ...makeEntries("r1", 1), b!]))).toBe("appended");
      expect(await s.appendBlock(chain.next([c!, ...makeEntries("r2", 3)]))).toBe("appended");
      expect(await s.chainRecords()).toEqual([
        { height: 0, entry: a!.entry },
        { height: 0, entry: b!.entry },
        { height: 1, entry: c!.entry },
      ]);
      expect(await s.chainRecords(1)).toEqual([
        { height: 0, entry: a!.entry },
        { height: 0, entry: b!.entry },
      ]);
    });
  });

  describe(`${name}: pending`, () => {
    it("inserts in array order with increasing seq, and is idempotent", async () => {
      const s = await fresh();
      const [a, b, c, d] = makeEntries("p", 4);
      expect(await s.insertPending([a!, b!, c!])).toEqual(new Set([a!.id, b!.id, c!.id]));
      expect(await s.insertPending([c!, d!, a!])).toEqual(new Set([d!.id]));
      const all = await s.takePending(10);
      expect(all.map((p) => p.id)).toEqual([a!.id, b!.id, c!.id, d!.id]);
      expectIncreasing(all.map((p) => p.seq));
      expect(await s.getPending(b!.id)).toEqual({ ...b, seq: all[1]!.seq });
      expect(await s.getPending("f".repeat(64))).toBeUndefined();
    });

    it("skips repeats inside one call", async () => {
      const s = await fresh();
      const [a, b] = makeEntries("r", 2);
      expect(await s.insertPending([a!, b!, a!])).toEqual(new Set([a!.id, b!.id]));
      expect((await s.takePending(10)).map((p) => p.id)).toEqual([a!.id, b!.id]);
    });

    it("keeps order across many rows (several statements per batch)", async () => {
      const s = await fresh();
      const list = makeEntries("many", 5000);
      expect((await s.insertPending(list)).size).toBe(5000);
      const taken = await s.takePending(5000);
      expect(taken.map((p) => p.id)).toEqual(list.map((e) => e.id));
      expectIncreasing(taken.map((p) => p.seq));
    });

    it("lets racing calls with overlapping ids insert each id once", async () => {
      const s = await fresh();
      const e = makeEntries("race", 6);
      const calls = [
        [e[0]!, e[1]!, e[2]!, e[3]!],
        [e[3]!, e[4]!, e[0]!],
        [e[5]!, e[2]!, e[4]!, e[1]!],
      ];
      const sets = await Promise.all(calls.map((list) => s.insertPending(list)));
      const inserted = sets.flatMap((set) => [...set]);
      expect(inserted.sort()).toEqual(e.map((x) => x.id).sort());
      expect((await s.pendingStats()).count).toBe(6);
    });

    it("takes oldest first, up to the limit, and reports stats", async () => {
      const s = await fresh();
      const list = [makePending("t0", { receivedAt: 500 }), makePending("t1", { receivedAt: 400 }), makePending("t2", { receivedAt: 600 })];
      await s.insertPending(list);
      expect((await s.takePending(2)).map((p) => p.id)).toEqual([list[0]!.id, list[1]!.id]);
      expect(await s.takePending(0)).toEqual([]);
      expect(await s.pendingStats()).toEqual({ count: 3, oldestReceivedAt: 400 });
    });

    it("one submission a call, as a group commit under light load makes: order, a repeat, a sealed id", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const [sealed, a, b] = makeEntries("one", 3);
      expect(await s.insertPending([sealed!])).toEqual(new Set([sealed!.id]));
      expect(await s.appendBlock(chain.next([sealed!]), { consumePending: true })).toBe("appended");
      expect(await s.insertPending([a!])).toEqual(new Set([a!.id]));
      expect(await s.insertPending([a!])).toEqual(new Set());
      expect(await s.insertPending([sealed!])).toEqual(new Set());
      expect(await s.insertPending([b!])).toEqual(new Set([b!.id]));
      const taken = await s.takePending(10);
      expect(taken.map((p) => p.id)).toEqual([a!.id, b!.id]);
      expectIncreasing(taken.map((p) => p.seq));
      expect(await s.getPending(a!.id)).toEqual({ ...a, seq: taken[0]!.seq });
    });

    it("skips ids that are already sealed", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const sealed = makeEntries("sealed", 3);
      await s.insertPending(sealed);
      expect(await s.appendBlock(chain.next(sealed), { consumePending: true })).toBe("appended");
      const fresh1 = makePending("fresh");
      expect(await s.insertPending([sealed[1]!, fresh1])).toEqual(new Set([fresh1.id]));
      expect(await s.getPending(sealed[1]!.id)).toBeUndefined();
    });
  });

  describe(`${name}: appending blocks`, () => {
    it("appends a chain and reads every part of it back", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const first = makeEntries("b0", 600);
      await s.insertPending(first);
      const w0 = chain.next(first);
      expect(await s.appendBlock(w0, { consumePending: true })).toBe("appended");
      expect(await s.pendingStats()).toEqual({ count: 0, oldestReceivedAt: null });
      const writes: BlockWrite[] = [w0];
      for (let h = 1; h < 6; h++) {
        const w = chain.next(makeEntries(`b${h}`, h * 3));
        expect(await s.appendBlock(w)).toBe("appended");
        writes.push(w);
      }

      expect(await s.head()).toEqual({ size: 6, hash: writes[5]!.block.hash });
      expect(await s.getBlock(3)).toEqual(writes[3]!.block);
      expect(await s.listBlocks(0, 100)).toEqual(writes.map((w) => w.block));
      expect(await s.listBlocks(2, 3)).toEqual(writes.slice(2, 5).map((w) => w.block));
      expect(await s.listBlocks(6, 3)).toEqual([]);

      const page = await s.blockEntries(0, 250, 10);
      expect(page).toEqual(first.slice(250, 260).map((e, i) => ({ index: 250 + i, id: e.id, entry: e.entry })));
      expect(await s.blockEntries(0, 595, 100)).toHaveLength(5);
      expect(await s.blockEntries(9, 0, 10)).toEqual([]);
      expect(await s.getEntry(first[599]!.id)).toEqual({ ...first[599], height: 0, index: 599 });
      expect(await s.getEntry("0".repeat(64))).toBeUndefined();

      for (const w of writes) expect(await s.readBlockWrite(w.block.height)).toEqual(w);
    });

    it("serves a page of entries as JSON, byte for byte what JSON.stringify makes of the rows", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      // Whatever a stored entry holds must come out as the same JSON string:
      // quotes, backslashes, control characters, non-ASCII, an astral character, U+2028.
      const odd = ['say "hi"\\ back\\slash', "tab\tnew\nline\r\u0001\u001f\u007f", "— né 𝄞 \u2028 \u2029 </script>"].map((text, i) => {
        const e = makePending(`odd-${i}`);
        return { ...e, entry: e.entry + text };
      });
      const all = [...makeEntries("j", 40), ...odd];
      expect(await s.appendBlock(chain.next(all))).toBe("appended");
      for (const [offset, limit] of [[0, 1000], [5, 10], [40, 3], [42, 10], [43, 5], [0, 1]] as const) {
        const rows = await s.blockEntries(0, offset, limit);
        const page = await s.blockEntriesJson(0, offset, limit);
        expect(page.json).toBe(JSON.stringify(rows));
        expect(page.count).toBe(rows.length);
      }
      expect(JSON.parse((await s.blockEntriesJson(0, 40, 3)).json)).toEqual(all.slice(40).map((e, i) => ({ index: 40 + i, id: e.id, entry: e.entry })));
      expect(await s.blockEntriesJson(0, 43, 5)).toEqual({ count: 0, json: "[]" });
      expect(await s.blockEntriesJson(1, 0, 5)).toEqual({ count: 0, json: "[]" });
    });

    it("reads batch hashes for many refs, across tile boundaries, in the order asked", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const w = chain.next(makeEntries("tiles", 600));
      await s.appendBlock(w);
      const refs = shuffle(allBatchRefs(600));
      refs.push(refs[0]!, { level: 0, index: 255 }, { level: 0, index: 256 }, { level: 0, index: 511 }, { level: 0, index: 512 });
      const hashes = await s.readBatchHashes(0, refs);
      expect(hashes).toEqual(refs.map((r) => hashAt(w.batchLevels, r)));
      await expect(s.readBatchHashes(0, [{ level: 0, index: 600 }])).rejects.toThrow(/level 0, index 600/);
      await expect(s.readBatchHashes(0, [{ level: 1, index: 300 }])).rejects.toThrow(/level 1, index 300/);
      await expect(s.readBatchHashes(0, [{ level: 3, index: 1000 }])).rejects.toThrow(/level 3, index 1000/);
      await expect(s.readBatchHashes(1, [{ level: 0, index: 0 }])).rejects.toThrow(/level 0, index 0/);
    });

    it("reads the history tree hashes of every append", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      for (let h = 0; h < 13; h++) await s.appendBlock(chain.next(makeEntries(`h${h}`, 1)));
      const all = chain.allHistoryHashes();
      const refs = shuffle(all.map((x) => x.ref));
      const byKey = new Map(all.map((x) => [`${x.ref.level}/${x.ref.index}`, x.hash]));
      expect(await s.readHistoryHashes(refs)).toEqual(refs.map((r) => byKey.get(`${r.level}/${r.index}`)));
      expect(await s.readHistoryHashes([refs[2]!, refs[2]!])).toHaveLength(2);
      await expect(s.readHistoryHashes([{ level: 2, index: 3 }])).rejects.toThrow(/level 2, index 3/);
    });

    it("finds the anchors of a digest, sealed before pending, oldest first", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const v1 = makePending("doc-v1", { digestOf: "doc" });
      const v2 = makePending("doc-v2", { digestOf: "doc" });
      const v3 = makePending("doc-v3", { digestOf: "doc" });
      const other = makePending("other");
      await s.insertPending([v1, other]);
      await s.appendBlock(chain.next([other, v1]), { consumePending: true });
      await s.insertPending([v2]);
      await s.appendBlock(chain.next([v2]), { consumePending: true });
      await s.insertPending([v3]);
      const anchors = await s.anchorsOfDigest(v1.digest, 10);
      const seq = (await s.getPending(v3.id))!.seq;
      expect(anchors).toEqual([
        { ...v1, height: 0, index: 1 },
        { ...v2, height: 1, index: 0 },
        { ...v3, seq },
      ]);
      expect(await s.anchorsOfDigest(v1.digest, 2)).toEqual(anchors.slice(0, 2));
      expect(await s.anchorsOfDigest("e".repeat(64), 10)).toEqual([]);
    });

    it("finds a digest's anchors by one client only, sealed and pending, past others' anchors of the same digest", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const byBob = (p: ReturnType<typeof makePending>) => ({ ...p, client: "bob" });
      const alice = [makePending("a-1", { digestOf: "shared" }), makePending("a-2", { digestOf: "shared" })];
      const bob = [byBob(makePending("b-1", { digestOf: "shared" })), byBob(makePending("b-2", { digestOf: "shared" }))];
      await s.insertPending([alice[0]!, bob[0]!]);
      await s.appendBlock(chain.next([alice[0]!, bob[0]!]), { consumePending: true });
      await s.insertPending([alice[1]!, bob[1]!]);
      const seq = (await s.getPending(bob[1]!.id))!.seq;
      expect(await s.anchorsOfDigest(bob[0]!.digest, 1, "bob")).toEqual([{ ...bob[0]!, height: 0, index: 1 }]);
      expect(await s.anchorsOfDigest(bob[0]!.digest, 10, "bob")).toEqual([{ ...bob[0]!, height: 0, index: 1 }, { ...bob[1]!, seq }]);
      expect((await s.anchorsOfDigest(bob[0]!.digest, 10)).map((a) => a.id)).toEqual([alice[0]!.id, bob[0]!.id, alice[1]!.id, bob[1]!.id]);
      expect(await s.anchorsOfDigest(bob[0]!.digest, 10, "carol")).toEqual([]);
    });

    it("stores the checkpoint given with a block", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const checkpoint: CheckpointRecord = { size: 1, note: "checkpoint 1\n", cosigners: [], createdAt: 5 };
      await s.appendBlock(chain.next(makeEntries("cp", 2)), { checkpoint });
      expect(await s.latestCheckpoint()).toEqual(checkpoint);
    });
  });

  describe(`${name}: append conflicts write nothing`, () => {
    /** Appends two blocks (the second from pending), then tries `bad` with its entries pending. */
    async function setup(makeBad: (chain: ChainBuilder) => BlockWrite) {
      const s = await fresh();
      const chain = new ChainBuilder();
      await s.appendBlock(chain.next(makeEntries("c0", 3)));
      await s.appendBlock(chain.next(makeEntries("c1", 300)));
      const bad = makeBad(chain);
      await s.insertPending(bad.entries.map((e) => ({ ...e })));
      const before = await snapshot(s, bad);
      const result = await s.appendBlock(bad, { consumePending: true, checkpoint: { size: 99, note: "x", cosigners: ["m1"], createdAt: 1 } });
      return { s, chain, bad, before, result };
    }

    const cases: [string, (chain: ChainBuilder) => BlockWrite][] = [
      ["same height twice", (chain) => chain.peek(makeEntries("dup", 300), { height: 1, prevHash: chain.writes[0]!.block.hash })],
      ["wrong previous hash", (chain) => chain.peek(makeEntries("wrong", 5), { prevHash: "ab".repeat(32) })],
      ["a gap", (chain) => chain.peek(makeEntries("gap", 5), { height: 3 })],
      ["a second genesis", (chain) => chain.peek(makeEntries("gen", 5), { height: 0, prevHash: ZEROS })],
      ["an old block again", (chain) => chain.writes[0]!],
    ];
    for (const [label, makeBad] of cases) {
      it(`refuses ${label}`, async () => {
        const { s, chain, bad, before, result } = await setup(makeBad);
        expect(result).toBe("conflict");
        expect(await snapshot(s, bad)).toEqual(before);
        expect(await s.head()).toEqual({ size: 2, hash: chain.headHash });
        expect(await s.latestCheckpoint()).toBeUndefined();
        // The honest next block still goes on.
        expect(await s.appendBlock(chain.next(makeEntries("c2", 2)))).toBe("appended");
      });
    }

    it("refuses a genesis that does not start from zeros (not even a valid header)", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      await expect(s.appendBlock(chain.peek(makeEntries("g", 2), { prevHash: "11".repeat(32) }))).rejects.toMatchObject({ code: "BAD_BLOCK" });
      expect(await s.head()).toEqual({ size: 0, hash: ZEROS });
    });

    it("throws, writing nothing, when an entry is already sealed elsewhere", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const reused = makeEntries("reused", 2);
      await s.appendBlock(chain.next(reused));
      const bad = chain.peek([makePending("new"), reused[0]!]);
      await expect(s.appendBlock(bad)).rejects.toThrow();
      expect(await s.head()).toEqual({ size: 1, hash: chain.headHash });
      expect(await s.getEntry(bad.entries[0]!.id)).toBeUndefined();
    });

    it("rejects a write whose columns disagree with its header", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      const w = chain.peek(makeEntries("lie", 2));
      const lies: BlockWrite[] = [
        { ...w, block: { ...w.block, hash: "cd".repeat(32) } },
        { ...w, block: { ...w.block, size: 1 }, entries: w.entries.slice(1) },
        { ...w, entries: w.entries.slice(1) },
        { ...w, block: { ...w.block, prevHash: "ef".repeat(32) } },
      ];
      for (const lie of lies) await expect(s.appendBlock(lie)).rejects.toMatchObject({ code: "BAD_BLOCK" });
      expect(await s.head()).toEqual({ size: 0, hash: ZEROS });
      expect(await s.appendBlock(w)).toBe("appended");
    });

    it("lets one of two racing appends of the same height win", async () => {
      const s = await fresh();
      const chain = new ChainBuilder();
      await s.appendBlock(chain.next(makeEntries("r0", 1)));
      const a = chain.peek(makeEntries("ra", 40));
      const b = chain.peek(makeEntries("rb", 41));
      const results = await Promise.all([s.appendBlock(a), s.appendBlock(b)]);
      expect([...results].sort()).toEqual(["appended", "conflict"]);
      const winner = results[0] === "appended" ? a : b;
      expect(await s.readBlockWrite(1)).toEqual(winner);
    });

    if (options.twins) {
      const twins = options.twins;
      it("lets one of two store instances racing for a height win", async () => {
        const [s1, s2] = await twins();
        opened.push(s1, s2);
        const chain = new ChainBuilder();
        const genesis = chain.next(makeEntries("t0", 2));
        expect(await s1.appendBlock(genesis)).toBe("appended");
        const a = chain.peek(makeEntries("ta", 500));
        const b = chain.peek(makeEntries("tb", 500));
        const results = await Promise.all([s1.appendBlock(a), s2.appendBlock(b)]);
        expect([...results].sort()).toEqual(["appended", "conflict"]);
        const winner = results[0] === "appended" ? a : b;
        expect(await s2.readBlockWrite(1)).toEqual(winner);
        expect(await s1.head()).toEqual({ size: 2, hash: winner.block.hash });
      });
    }
  });

  describe(`${name}: checkpoints`, () => {
    it("keeps the best-cosigned note per size and finds the newest with enough cosigners", async () => {
      const s = await fresh();
      const cp = (size: number, cosigners: string[], note = `cp ${size} ${cosigners.join(",")}`): CheckpointRecord => ({
        size,
        note,
        cosigners,
        createdAt: 100 + size,
      });
      await s.putCheckpoint(cp(1, []));
      await s.putCheckpoint(cp(2, []));
      expect(await s.latestCheckpoint()).toEqual(cp(2, []));
      expect(await s.latestCheckpoint(2)).toBeUndefined();
      await s.putCheckpoint(cp(1, ["m1", "m2"]));
      expect(await s.latestCheckpoint(2)).toEqual(cp(1, ["m1", "m2"]));
      await s.putCheckpoint(cp(1, ["m3"]));
      expect(await s.latestCheckpoint(1)).toEqual(cp(1, ["m1", "m2"]));
      await s.putCheckpoint(cp(2, ["m1", "m2", "m3"]));
      expect(await s.latestCheckpoint(2)).toEqual(cp(2, ["m1", "m2", "m3"]));
      expect(await s.latestCheckpoint(4)).toBeUndefined();
      expect(await s.latestCheckpoint(0)).toEqual(cp(2, ["m1", "m2", "m3"]));
    });
  });

  describe(`${name}: witness answers`, () => {
    it("upserts per member", async () => {
      const s = await fresh();
      const ok: WitnessAnswerRecord = { member: "m2", size: 3, hash: "aa".repeat(32), status: "cosigned", detail: null, evidence: null, updatedAt: 1 };
      const behind: WitnessAnswerRecord = { member: "m1", size: 1, hash: "bb".repeat(32), status: "unreachable", detail: "connection refused", evidence: null, updatedAt: 2 };
      await s.putWitnessAnswer(ok);
      await s.putWitnessAnswer(behind);
      const diverged: WitnessAnswerRecord = { ...ok, status: "refused", detail: "409: CHECKPOINT_CONFLICT", evidence: '{"asked":"a"}', updatedAt: 3 };
      await s.putWitnessAnswer(diverged);
      expect(await s.witnessAnswers()).toEqual([behind, diverged]);
    });
  });
}

/** What a refused append must leave untouched. */
async function snapshot(s: PrimaryStore, bad: BlockWrite) {
  const head = await s.head();
  return {
    head,
    blocks: await s.listBlocks(0, 100),
    pending: await s.takePending(10_000),
    badEntries: await Promise.all(bad.entries.map((e) => s.getEntry(e.id))),
    writes: await Promise.all(Array.from({ length: head.size + 1 }, (_, h) => s.readBlockWrite(h))),
    history: await s.readHistoryHashes(bad.historyHashes.map((x) => x.ref)).catch((e: Error) => e.message),
    tiles: await s.readBatchHashes(bad.block.height, allBatchRefs(bad.entries.length)).catch((e: Error) => e.message),
  };
}

function expectIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
}

/** Deterministic shuffle, so a failure reproduces. */
function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
