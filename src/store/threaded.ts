/**
 * An embedded libSQL store in its own thread (Node only).
 *
 * The embedded driver is synchronous: while a database writes, the calling
 * thread does nothing else. A seal writes every member replica, ≈ 25 µs an
 * entry each, so on the request thread it stalls every request for the whole
 * write (the p99 of the service benchmark). Each replica opened through here
 * writes in its own thread instead, the replicas in parallel, and the request
 * thread only posts the block. The result behaves exactly like the store it
 * wraps (the store contract suite runs against it).
 */
import { CairnError, type ErrorCode } from "../core/errors.js";
import type { LibsqlStoreOptions } from "./libsql.js";
import { spawnModuleWorker } from "./spawn-worker.js";
import type { Call, Reply } from "./store-thread.js";
import type { PrimaryStore } from "./types.js";

export async function openThreadedStore(options: LibsqlStoreOptions): Promise<PrimaryStore> {
  const worker = spawnModuleWorker(new URL("./store-thread.ts", import.meta.url), options);
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let next = 1;
  let failed: Error | undefined;

  worker.on("message", (reply: Reply) => {
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    if ("error" in reply) {
      const { message, code } = reply.error;
      w.reject(code === undefined ? new Error(message) : new CairnError(code as ErrorCode, message));
    } else {
      w.resolve(reply.result);
    }
  });
  const fail = (e: Error) => {
    failed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on("error", fail);
  worker.on("exit", () => fail(new Error("the store's thread has exited")));

  // The thread keeps the process alive only while a call is in flight, as
  // an in-thread store would.
  const call = (method: string, args: readonly unknown[], id = next++): Promise<unknown> => {
    if (failed !== undefined) return Promise.reject(failed);
    return new Promise<unknown>((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(id, { resolve, reject });
      if (id !== 0) worker.postMessage({ id, method, args } satisfies Call);
    }).finally(() => {
      if (waiting.size === 0) worker.unref();
    });
  };

  await call("open", [], 0); // the thread answers id 0 once its store is open (or failed)

  return new Proxy({} as PrimaryStore, {
    get(_, method) {
      if (typeof method !== "string" || method === "then") return undefined;
      if (method === "close") {
        return () => void call("close", []).finally(() => void worker.terminate());
      }
      return (...args: unknown[]) => call(method, args);
    },
  });
}
