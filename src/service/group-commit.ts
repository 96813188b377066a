/**
 * Group commit: callers add items and wait; whenever no write is in flight
 * the queued items are written together in one batch, so one fsync and one
 * statement serve many submissions. Under heavy load batches grow by
 * themselves (items queue while the previous write runs). Under steady
 * moderate load they would not: each submission would arrive at an idle
 * committer and pay a whole durable commit (≈ 250 µs of CPU, most of a
 * single submission's storage cost). So when items have been arriving less
 * than a window apart, the first item after a write waits up to the window
 * for company; a lone item after a quiet spell is written at once. The queue
 * is bounded: past `maxQueued` items, add() refuses at once (pushback)
 * instead of letting latency grow without limit.
 */
import { CairnError } from "../core/errors.js";

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  private queue: Waiting<T, R>[] = [];
  private writing = false;
  /** The timer of a scheduled write that has not started yet. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastAddAt = -Infinity;

  constructor(
    /** Writes a batch; returns one result per item, in order. */
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxQueued: number,
    private readonly maxBatch: number,
    /** How long the first item may wait for others while items arrive this close together (0: never). */
    private readonly windowMs = 0,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  add(item: T): Promise<R> {
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new CairnError("OVERLOADED", "too many submissions are waiting to be stored; retry shortly"));
    }
    const now = Date.now();
    const steady = now - this.lastAddAt < this.windowMs;
    this.lastAddAt = now;
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) this.schedule(steady ? this.windowMs : 0);
      else if (this.timer !== undefined && this.queue.length >= this.maxBatch) this.startNow();
    });
  }

  /** Resolves once everything queued so far has been written (or failed). */
  async drain(): Promise<void> {
    if (this.timer !== undefined) this.startNow();
    while (this.writing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 1));
  }

  private schedule(delayMs: number): void {
    this.writing = true;
    // Even without a window, a timer and not a microtask: each request
    // arrives in its own event-loop turn and the embedded database writes
    // synchronously, so flushing at the next microtask would commit one item
    // at a time. A timer (≈1 ms in Node, available in workerd too) lets the
    // requests of the next I/O turns join the group.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** A full batch does not wait out the window. */
  private startNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
    if (this.queue.length > 0) this.schedule(0);
    else this.writing = false;
  }
}
