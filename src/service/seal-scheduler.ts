/**
 * When seals run: the one owner of the seal's timing for every runtime
 * (docs/ARCHITECTURE.md "A submission's way", step 3). Runtimes hand it a
 * way to make a sealer and, where they keep a timer, the timer; it decides
 * the rest:
 *
 *  - single flight per process or isolate: one seal at a time. A run is
 *    marked by its start time rather than by its promise, because workerd
 *    cancels a request that awaits I/O another request started; a run older
 *    than `staleMs` (its event was cut off) no longer blocks the next;
 *  - `sealAfterCurrent` (a cron run, "seal now") waits for a running seal by
 *    polling, then seals what arrived since; `sealIfIdle` (a request's
 *    background seal, a timer tick) skips when one is running;
 *  - after a seal returns at the quorum, the answers of witnesses still
 *    answering are awaited outside the single flight, in the same event;
 *  - `start` runs a seal every interval, never overlapping, until stopped;
 *  - `due` says whether a request should start a seal: no checkpoint was
 *    ever published, or the oldest pending entry has waited an interval;
 *    it looks at most once an interval.
 */
import type { PrimaryStore } from "../store/types.js";
import type { Clock } from "./clock.js";

/** What one seal run needs: the Sealer's seal and idle. */
export interface SealJob {
  seal(): Promise<unknown>;
  idle(): Promise<void>;
}

export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SealSchedulerOptions {
  /** A sealer for one run (the Worker makes one per event). */
  readonly job: () => SealJob;
  readonly intervalMs: number;
  /** A run older than this no longer holds the single flight. */
  readonly staleMs: number;
  /** How often a waiting run looks whether the current one ended. */
  readonly pollMs?: number;
  readonly clock: Clock;
  /** Milliseconds; Date.now by default. */
  readonly nowMs?: () => number;
}

export class SealScheduler {
  private runningSince = 0;
  private nextDueCheckAt = 0;
  private published = false;
  private readonly nowMs: () => number;

  constructor(private readonly options: SealSchedulerOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  private running(): boolean {
    return this.runningSince !== 0 && this.nowMs() - this.runningSince < this.options.staleMs;
  }

  /** Seals unless a seal is running here; resolves false when it skipped. */
  async sealIfIdle(): Promise<boolean> {
    if (this.running()) return false;
    await this.run();
    return true;
  }

  /** Waits for a running seal to end, then seals. */
  async sealAfterCurrent(): Promise<void> {
    const poll = this.options.pollMs ?? 50;
    while (this.running()) await new Promise((r) => setTimeout(r, poll));
    await this.run();
  }

  private async run(): Promise<void> {
    this.runningSince = this.nowMs();
    const job = this.options.job();
    try {
      await job.seal();
    } finally {
      this.runningSince = 0;
    }
    await job.idle();
  }

  /**
   * Seals every interval (the first run now, or an interval from now with
   * `afterInterval`), each run starting an interval after the previous
   * ended, until the returned stop() (which waits for a run in progress).
   * Failures are the sealer's to log; the next tick retries.
   */
  start(timers: Timers, options: { afterInterval?: boolean } = {}): { stop(): Promise<void> } {
    let stopped = false;
    let handle: unknown;
    let current: Promise<void> = Promise.resolve();
    const tick = () => {
      current = this.sealIfIdle()
        .then(() => undefined, () => undefined)
        .then(() => {
          if (!stopped) handle = timers.setTimeout(tick, this.options.intervalMs);
        });
    };
    if (options.afterInterval) handle = timers.setTimeout(tick, this.options.intervalMs);
    else tick();
    return {
      async stop() {
        stopped = true;
        timers.clearTimeout(handle);
        await current;
      },
    };
  }

  /**
   * Whether a request should start a seal (at most one look an interval):
   * no checkpoint was published yet, or the oldest pending entry has waited
   * a full interval.
   */
  async due(primary: Pick<PrimaryStore, "latestCheckpoint" | "pendingStats">): Promise<boolean> {
    const now = this.nowMs();
    if (now < this.nextDueCheckAt) return false;
    this.nextDueCheckAt = now + this.options.intervalMs;
    if (!this.published) {
      this.published = (await primary.latestCheckpoint(0)) !== undefined;
      if (!this.published) return true;
    }
    const { oldestReceivedAt } = await primary.pendingStats();
    return oldestReceivedAt !== null && (this.options.clock.now() - oldestReceivedAt) * 1000 >= this.options.intervalMs;
  }
}
