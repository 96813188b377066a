/**
 * The submitter's group commit: which submissions share one durable write.
 * Node's timers are faked so that "arrives 2 ms later" is exact; the writes
 * are recorded as they happen, so each test sees the batches the store
 * would have been asked to commit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GroupCommit } from "../../src/service/group-commit.js";

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => void vi.useRealTimers());

/** A committer whose writes take `writeMs` each and are recorded. */
function committer(opts: { windowMs: number; maxBatch?: number; maxQueued?: number; writeMs?: number; fail?: (items: number[]) => boolean }) {
  const batches: number[][] = [];
  const g = new GroupCommit<number, string>(
    async (items) => {
      batches.push(items);
      if (opts.writeMs) await new Promise((r) => setTimeout(r, opts.writeMs));
      if (opts.fail?.(items)) throw new Error("disk full");
      return items.map((i) => `stored ${i}`);
    },
    opts.maxQueued ?? 1000,
    opts.maxBatch ?? 1000,
    opts.windowMs,
  );
  return { g, batches };
}

describe("group commit", () => {
  it("a lone submission after a quiet spell is written at once, not after the window", async () => {
    const { g, batches } = committer({ windowMs: 8 });
    const done = g.add(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1]]);
    await expect(done).resolves.toBe("stored 1");
    // Another, long after: still no waiting.
    await vi.advanceTimersByTimeAsync(1000);
    void g.add(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2]]);
  });

  it("submissions arriving 2 ms apart share a commit: the first waits up to the window for the others", async () => {
    const { g, batches } = committer({ windowMs: 8 });
    const results: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) {
      results.push(g.add(i));
      await vi.advanceTimersByTimeAsync(2);
    }
    await vi.advanceTimersByTimeAsync(20);
    // The first finds the committer idle after a quiet spell and is written
    // at once; from the second on, arrivals are steady and each group spans
    // one window of 8 ms: four arrivals.
    expect(batches).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]);
    expect(await Promise.all(results)).toEqual(Array.from({ length: 12 }, (_, i) => `stored ${i}`));
  });

  it("without a window every idle start writes at the next timer, as before", async () => {
    const { g, batches } = committer({ windowMs: 0 });
    for (let i = 0; i < 4; i++) {
      void g.add(i);
      await vi.advanceTimersByTimeAsync(2);
    }
    expect(batches).toEqual([[0], [1], [2], [3]]);
  });

  it("items that queue while a write runs go in the next write without waiting the window", async () => {
    const { g, batches } = committer({ windowMs: 8, writeMs: 5 });
    void g.add(0);
    await vi.advanceTimersByTimeAsync(0);
    // Added during the first write (which takes 5 ms), 1 ms apart.
    for (let i = 1; i <= 3; i++) {
      void g.add(i);
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(2); // the first write ends at 5 ms
    await vi.advanceTimersByTimeAsync(1); // the next starts at the next timer, not a window later
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });

  it("a full batch is written at once instead of waiting out the window; the rest follow in order", async () => {
    const { g, batches } = committer({ windowMs: 8, maxBatch: 3 });
    void g.add(0);
    await vi.advanceTimersByTimeAsync(1);
    const all = [1, 2, 3, 4].map((i) => g.add(i)); // steady: 1 ms after the last
    // The third item filled the batch: its write began then, with no time passed.
    expect(batches).toEqual([[0], [1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
    await expect(Promise.all(all)).resolves.toEqual(["stored 1", "stored 2", "stored 3", "stored 4"]);
  });

  it("a failed write fails exactly its batch; the next batch is written", async () => {
    const { g, batches } = committer({ windowMs: 8, fail: (items) => items.includes(1) });
    const first = g.add(0);
    await vi.advanceTimersByTimeAsync(1);
    const failing = [g.add(1), g.add(2)].map((p) => p.catch((e: Error) => e.message));
    await vi.advanceTimersByTimeAsync(8);
    const after = g.add(3);
    await vi.advanceTimersByTimeAsync(8);
    expect(batches).toEqual([[0], [1, 2], [3]]);
    await expect(first).resolves.toBe("stored 0");
    expect(await Promise.all(failing)).toEqual(["disk full", "disk full"]);
    await expect(after).resolves.toBe("stored 3");
  });

  it("refuses with OVERLOADED past maxQueued, and drain writes what waits in the window", async () => {
    const { g, batches } = committer({ windowMs: 8, maxQueued: 2 });
    void g.add(0);
    await vi.advanceTimersByTimeAsync(1);
    const waiting = [g.add(1), g.add(2)];
    await expect(g.add(3)).rejects.toMatchObject({ code: "OVERLOADED" });
    expect(g.queued).toBe(2);
    const drained = g.drain();
    await vi.advanceTimersByTimeAsync(2);
    await drained;
    expect(batches).toEqual([[0], [1, 2]]);
    await expect(Promise.all(waiting)).resolves.toEqual(["stored 1", "stored 2"]);
  });
});
