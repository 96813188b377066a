/**
 * The thread side of ThreadedStore (./threaded.ts): owns one embedded libSQL
 * store and answers method calls posted by the main thread, one at a time
 * and in order, as the store itself would.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isCairnError } from "../core/errors.js";
import { openLibsqlStore, type LibsqlStoreOptions } from "./libsql.js";

export interface Call {
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
}

export type Reply =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

const port = parentPort!;
const opening = openLibsqlStore(workerData as LibsqlStoreOptions);
opening.then(
  () => port.postMessage({ id: 0, result: "ready" } satisfies Reply),
  (e: unknown) => port.postMessage({ id: 0, error: { message: (e as Error).message } } satisfies Reply),
);

port.on("message", async ({ id, method, args }: Call) => {
  const store = (await opening) as unknown as Record<string, (...a: unknown[]) => unknown>;
  try {
    const result = await store[method]!(...args);
    port.postMessage({ id, result } satisfies Reply);
    if (method === "close") port.close();
  } catch (e) {
    const error = { message: (e as Error).message, ...(isCairnError(e) ? { code: e.code } : {}) };
    port.postMessage({ id, error } satisfies Reply);
  }
});
