/**
 * The witness thread's handle on its replica's thread (./replica-thread.ts):
 * each WitnessReplica call becomes a message, answered in order. The replica
 * keeps one owner and one connection, as before; only where its synchronous
 * SQLite work runs has moved, so a large block's store no longer stalls the
 * witness's requests (docs/BENCHMARKS.md, "A 100,000-entry block until
 * final"). A block crosses by structured clone: ~0.1 s for 100,000 entries.
 */
import type { Worker } from "node:worker_threads";
import type { LibsqlStoreOptions } from "../store/libsql.js";
import { spawnModuleWorker } from "../store/spawn-worker.js";
import type { AppendResult, BlockRecord, BlockWrite, ChainRecordRow, Head, WitnessReplica } from "../store/types.js";
import type { NodeRef } from "../core/tlog.js";
import type { ReplicaMethod } from "./replica-thread.js";
import { fromThreadError, type ThreadError } from "./thread-errors.js";

type Answer = { id: number; result: unknown } | { id: number; error: ThreadError };

export class ReplicaThread implements WitnessReplica {
  private readonly waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private next = 1;
  private stopping: Promise<void> | undefined;
  private gone: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: Answer) => this.settle(m));
    worker.once("error", (e) => this.failAll(e));
    worker.once("exit", () => this.failAll(new Error("the replica's thread has exited")));
  }

  /** Opens the replica in a thread of its own; rejects as opening it in this thread would. */
  static async start(options: LibsqlStoreOptions): Promise<ReplicaThread> {
    const worker = spawnModuleWorker(new URL("./replica-thread.ts", import.meta.url), options);
    await new Promise<void>((ready, fail) => {
      const first = (m: { type?: string; error?: ThreadError }) => {
        worker.off("message", first);
        if (m.type === "ready") ready();
        else fail(m.error === undefined ? new Error("the replica's thread did not start") : fromThreadError(m.error));
      };
      worker.on("message", first);
      worker.once("error", fail);
      worker.once("exit", () => fail(new Error("the replica's thread exited before it opened the replica")));
    });
    return new ReplicaThread(worker);
  }

  head(): Promise<Head> {
    return this.call("head", []) as Promise<Head>;
  }

  getBlock(height: number): Promise<BlockRecord | undefined> {
    return this.call("getBlock", [height]) as Promise<BlockRecord | undefined>;
  }

  appendBlock(write: BlockWrite): Promise<AppendResult> {
    return this.call("appendBlock", [write]) as Promise<AppendResult>;
  }

  readHistoryHashes(refs: readonly NodeRef[]): Promise<Uint8Array[]> {
    return this.call("readHistoryHashes", [refs]) as Promise<Uint8Array[]>;
  }

  chainRecords(beforeHeight?: number): Promise<ChainRecordRow[]> {
    return this.call("chainRecords", beforeHeight === undefined ? [] : [beforeHeight]) as Promise<ChainRecordRow[]>;
  }

  /** WitnessReplica's close: stop() without waiting for it. */
  close(): void {
    void this.stop();
  }

  /** Closes the replica after the calls already sent, and ends the thread. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.gone === undefined) await this.call("close", []).catch(() => undefined);
      await this.worker.terminate();
    })();
    return this.stopping;
  }

  private call(method: ReplicaMethod, args: unknown[]): Promise<unknown> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      // Sent first: a value that cannot be cloned throws here and leaves nothing waiting.
      this.worker.postMessage({ id, method, args });
      this.waiting.set(id, { resolve, reject });
    });
  }

  private settle(m: Answer): void {
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    if ("error" in m) w.reject(fromThreadError(m.error));
    else w.resolve(m.result);
  }

  private failAll(e: Error): void {
    this.gone ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
