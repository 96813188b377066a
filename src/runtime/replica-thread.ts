/**
 * A member witness's replica, in a worker thread of its own (the handle is
 * ./replica-runner.ts). Storing a verified block is one synchronous SQLite
 * write — seconds for 100,000 entries — which on the witness's thread would
 * leave /healthz, /status and add-checkpoint unanswered for as long.
 *
 * Messages in:  { id, method, args } for each WitnessReplica method, { id, method: "close" }.
 * Messages out: { type: "ready" } or { type: "failed", error } once opened,
 *               { id, result } or { id, error } per call.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openLibsqlStore, type LibsqlStoreOptions } from "../store/libsql.js";
import type { WitnessReplica } from "../store/types.js";
import { toThreadError } from "./thread-errors.js";

/** The methods a call may name: WitnessReplica's, close included. */
export type ReplicaMethod = keyof WitnessReplica;

const port = parentPort!;
let replica: WitnessReplica;
try {
  replica = await openLibsqlStore(workerData as LibsqlStoreOptions);
} catch (e) {
  port.postMessage({ type: "failed", error: toThreadError(e) });
  process.exit(1);
}
port.postMessage({ type: "ready" });

// One call at a time, in the order sent: the witness already orders its
// writes under its lock, and a SQLite connection does one thing at a time.
let queue = Promise.resolve();
port.on("message", (m: { id: number; method: ReplicaMethod; args: unknown[] }) => {
  queue = queue.then(async () => {
    if (m.method === "close") {
      replica.close();
      port.postMessage({ id: m.id, result: undefined });
      port.close();
      return;
    }
    try {
      const result = await (replica[m.method] as (...args: unknown[]) => Promise<unknown>).apply(replica, m.args);
      port.postMessage({ id: m.id, result });
    } catch (e) {
      port.postMessage({ id: m.id, error: toThreadError(e) });
    }
  });
});
