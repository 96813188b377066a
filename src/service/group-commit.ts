/**
 * Group commit: callers add items and wait; whenever no write is in flight
 * the queued items are written together in one batch. Under light load a
 * batch holds one item and adds no delay; under heavy load batches grow by
 * themselves, so one fsync and one statement serve many submissions. The
 * queue is bounded: past `maxQueued` items, add() refuses at once (pushback)
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

  constructor(
    /** Writes a batch; returns one result per item, in order. */
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxQueued: number,
    private readonly maxBatch: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  add(item: T): Promise<R> {
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new CairnError("OVERLOADED", "too many submissions are waiting to be stored; retry shortly"));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) this.schedule();
    });
  }

  /** Resolves once everything queued so far has been written (or failed). */
  async drain(): Promise<void> {
    while (this.writing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 1));
  }

  private schedule(): void {
    this.writing = true;
    // Each request arrives in its own event-loop turn and the embedded
    // database writes synchronously, so flushing at the next microtask would
    // commit one item at a time. A timer (≈1 ms in Node, available in
    // workerd too) lets the requests of the next I/O turns join the group.
    setTimeout(() => void this.flush(), 0);
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
    if (this.queue.length > 0) this.schedule();
    else this.writing = false;
  }
}
