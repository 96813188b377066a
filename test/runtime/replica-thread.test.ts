/**
 * A member's replica in its own thread (src/runtime/replica-runner.ts): the
 * witness's thread keeps turning while a large block is stored, and every
 * answer — and every error the witness tells apart — is what the replica
 * gives in the witness's own thread.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CairnError } from "../../src/core/errors.js";
import { ReplicaThread } from "../../src/runtime/replica-runner.js";
import { openLibsqlStore } from "../../src/store/libsql.js";
import { ConstraintViolation } from "../../src/store/sql-store.js";
import type { WitnessReplica } from "../../src/store/types.js";
import { ChainBuilder, makeEntries, makePending } from "../store/chain-fixture.js";

let dir: string;
const url = (name: string) => pathToFileURL(join(dir, name)).href;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-replica-thread-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Timer turns of this thread while `work` runs. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  const timer = setInterval(() => turns++, 1);
  try {
    const result = await work();
    return { result, turns };
  } finally {
    clearInterval(timer);
  }
}

describe("a member's replica in a thread of its own", () => {
  it("stores a 20,000-entry block while this thread keeps turning (in this thread it would not turn at all)", async () => {
    const block = new ChainBuilder().next(makeEntries("big", 20_000));
    const threaded = await ReplicaThread.start({ url: url("threaded.db"), digestIndex: false, durability: "normal" });
    const inThread = await openLibsqlStore({ url: url("in-thread.db"), digestIndex: false, durability: "normal" });
    try {
      const there = await turnsDuring(() => threaded.appendBlock(block));
      const here = await turnsDuring(() => inThread.appendBlock(block));
      expect([there.result, here.result]).toEqual(["appended", "appended"]);
      expect(here.turns).toBe(0);
      expect(there.turns).toBeGreaterThan(0);
      expect(await threaded.head()).toEqual(await inThread.head());
    } finally {
      await threaded.stop();
      inThread.close();
    }
  });

  it("answers every WitnessReplica call as the replica does in this thread", async () => {
    const chain = new ChainBuilder();
    const record = { ...makePending("key record"), digest: "" }; // a chain record: an entry without a digest
    const writes = [chain.next(makeEntries("a", 5)), chain.next([record, ...makeEntries("b", 3)]), chain.next(makeEntries("c", 7))];
    const threaded = await ReplicaThread.start({ url: url("threaded.db"), digestIndex: false, durability: "normal" });
    const inThread = await openLibsqlStore({ url: url("in-thread.db"), digestIndex: false, durability: "normal" });
    const both = async <T>(f: (r: WitnessReplica) => Promise<T>) => [await f(threaded), await f(inThread)];
    try {
      for (const w of writes) expect(await both((r) => r.appendBlock(w))).toEqual(["appended", "appended"]);
      const [a, b] = await both(async (r) => ({
        head: await r.head(),
        blocks: await Promise.all([0, 1, 2, 3].map((h) => r.getBlock(h))),
        history: await r.readHistoryHashes(chain.allHistoryHashes().map((h) => h.ref)),
        records: await r.chainRecords(),
        recordsBefore1: await r.chainRecords(1),
      }));
      expect(a).toEqual(b);
      expect(a!.history.map((h) => Buffer.from(h).toString("hex"))).toEqual(chain.allHistoryHashes().map((h) => Buffer.from(h.hash).toString("hex")));
      expect(a!.records).toEqual([{ height: 1, entry: record.entry }]);
      expect(a!.recordsBefore1).toEqual([]);
      expect(a!.blocks[3]).toBeUndefined();
    } finally {
      await threaded.stop();
      inThread.close();
    }
  });

  it("gives the witness the errors it tells apart: a conflict, an entry sealed twice, a closed replica", async () => {
    const chain = new ChainBuilder();
    const first = makeEntries("first", 4);
    const threaded = await ReplicaThread.start({ url: url("threaded.db"), digestIndex: false, durability: "normal" });
    try {
      expect(await threaded.appendBlock(chain.next(first))).toBe("appended");
      // Another block at the same height: the head moved under it.
      expect(await threaded.appendBlock(chain.peek(makeEntries("other", 2), { height: 0, prevHash: "0".repeat(64) }))).toBe("conflict");
      // An entry of block 0 sealed again in block 1: the witness halts on exactly this.
      const again = await threaded.appendBlock(chain.peek([first[2]!, ...makeEntries("new", 1)])).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(ConstraintViolation);
      expect((again as Error).message).toMatch(/entries\.id/);
      expect(again).not.toBeInstanceOf(CairnError);
      // A write that cannot cross the thread is refused here, and the replica still answers.
      const uncloneable = { ...chain.peek(makeEntries("x", 1)), extra: () => 0 } as unknown as Parameters<typeof threaded.appendBlock>[0];
      await expect(threaded.appendBlock(uncloneable)).rejects.toThrow(/could not be cloned/);
      expect((await threaded.head()).size).toBe(1);
    } finally {
      await threaded.stop();
    }
    await expect(threaded.head()).rejects.toThrow(/exited/);
  });

  it("fails to start as opening the replica here fails, with the reason", async () => {
    const here = await openLibsqlStore({ url: "file:///no/such/dir/replica.db" }).catch((e: unknown) => e as Error);
    const there = await ReplicaThread.start({ url: "file:///no/such/dir/replica.db" }).catch((e: unknown) => e as Error);
    expect(here).toBeInstanceOf(Error);
    expect(there).toBeInstanceOf(Error);
    expect((there as Error).message).toBe((here as Error).message);
  });
});
