/**
 * The seal's timing (src/service/seal-scheduler.ts), with a sealer whose runs
 * the test ends by hand and timers the test fires by hand: one run at a time,
 * a waiting run polls and then seals, a stale run stops blocking, a timer
 * loop never overlaps and stops cleanly, and requests find a seal due only
 * when it is.
 */
import { describe, expect, it } from "vitest";
import { SealScheduler, type SealJob } from "../../src/service/seal-scheduler.js";

/** A sealer whose runs end when the test says so. */
class HandSealer {
  runs = 0;
  idles = 0;
  private ends: (() => void)[] = [];
  job(): SealJob {
    return {
      seal: () => {
        this.runs++;
        return new Promise<void>((r) => this.ends.push(r));
      },
      idle: async () => void this.idles++,
    };
  }
  endAll(): void {
    for (const end of this.ends.splice(0)) end();
  }
  get open(): number {
    return this.ends.length;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function scheduler(sealer: HandSealer, now: { ms: number }, staleMs = 60_000) {
  return new SealScheduler({ job: () => sealer.job(), intervalMs: 1000, staleMs, pollMs: 1, clock: { now: () => Math.floor(now.ms / 1000) }, nowMs: () => now.ms });
}

describe("SealScheduler", () => {
  it("runs one seal at a time: a second run skips, a waiting run seals after the first ends", async () => {
    const sealer = new HandSealer();
    const s = scheduler(sealer, { ms: 1_000_000 });
    const first = s.sealIfIdle();
    await flush();
    expect(await s.sealIfIdle()).toBe(false);
    const waiting = s.sealAfterCurrent();
    await flush();
    expect(sealer.runs).toBe(1);
    sealer.endAll();
    expect(await first).toBe(true);
    for (let i = 0; i < 2000 && sealer.open === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(sealer.runs).toBe(2);
    sealer.endAll();
    await waiting;
    expect(sealer.idles).toBe(2);
  });

  it("a run older than staleMs (its event was cut off) no longer blocks the next", async () => {
    const sealer = new HandSealer();
    const now = { ms: 1_000_000 };
    const s = scheduler(sealer, now, 5000);
    void s.sealIfIdle();
    await flush();
    now.ms += 4999;
    expect(await s.sealIfIdle()).toBe(false);
    now.ms += 2;
    const next = s.sealIfIdle();
    await flush();
    expect(sealer.runs).toBe(2);
    sealer.endAll();
    expect(await next).toBe(true);
  });

  it("a timer loop seals, waits an interval after each run, never overlaps, and stops cleanly", async () => {
    const sealer = new HandSealer();
    const s = scheduler(sealer, { ms: 1_000_000 });
    const timers: { run: () => void; ms: number }[] = [];
    const loop = s.start({ setTimeout: (run, ms) => timers.push({ run, ms }) - 1, clearTimeout: (h) => void (timers[h as number] = { run: () => {}, ms: -1 }) }, { afterInterval: true });
    expect(sealer.runs).toBe(0);
    expect(timers).toHaveLength(1);
    timers[0]!.run();
    await flush();
    expect(sealer.runs).toBe(1);
    expect(timers).toHaveLength(1); // no next tick while the run is open
    sealer.endAll();
    await flush();
    await flush();
    expect(timers).toHaveLength(2);
    expect(timers[1]!.ms).toBe(1000);
    const stopping = loop.stop();
    await stopping;
    timers[1]!.run(); // cleared: does nothing
    await flush();
    expect(sealer.runs).toBe(1);
  });

  it("finds a seal due when no checkpoint was published, or the oldest entry waited an interval; it looks once an interval", async () => {
    const sealer = new HandSealer();
    const now = { ms: 2_000_000_000 };
    const s = scheduler(sealer, now);
    let checkpoint: object | undefined;
    let oldest: number | null = null;
    let looks = 0;
    const primary = {
      latestCheckpoint: async () => (looks++, checkpoint as never),
      pendingStats: async () => ({ count: oldest === null ? 0 : 1, oldestReceivedAt: oldest }),
    };
    expect(await s.due(primary)).toBe(true); // nothing published yet
    expect(await s.due(primary)).toBe(false); // within the same interval: no look
    expect(looks).toBe(1);
    checkpoint = {};
    now.ms += 1000;
    expect(await s.due(primary)).toBe(false); // published, nothing pending
    oldest = Math.floor(now.ms / 1000);
    now.ms += 1000;
    expect(await s.due(primary)).toBe(true);
  });
});
