/**
 * The request thread's handle on the seal thread (./seal-thread.ts): "seal
 * now" and shutdown as messages, the thread's logs into this thread's
 * logger, its seal metrics into this thread's /metrics, and a refresh of
 * the final-checkpoint cache after every seal.
 */
import type { Worker } from "node:worker_threads";
import type { Services } from "../service/index.js";
import type { Logger } from "../service/log.js";
import type { SealReport, SealRunner } from "../service/seal.js";
import { spawnModuleWorker } from "../store/spawn-worker.js";
import type { SealThreadData } from "./seal-thread.js";

type FromThread =
  | { type: "ready" }
  | { type: "stopped" }
  | { type: "sealed"; metrics: string }
  | { type: "log"; level: keyof Logger; event: string; fields: Record<string, unknown> }
  | { type: "report"; id: number; report?: SealReport; error?: string };

export class SealThread implements SealRunner {
  private readonly waiting = new Map<number, { resolve: (r: SealReport) => void; reject: (e: Error) => void }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private next = 1;
  private stopped: Promise<void> | undefined;

  private constructor(private readonly worker: Worker) {}

  static async start(data: SealThreadData, services: Services, log: Logger): Promise<SealThread> {
    const worker = spawnModuleWorker(new URL("./seal-thread.ts", import.meta.url), data);
    const thread = new SealThread(worker);
    await new Promise<void>((ready, fail) => {
      worker.on("message", (m: FromThread) => {
        if (m.type === "ready") ready();
        else if (m.type === "log") log[m.level](m.event, m.fields);
        else if (m.type === "sealed") {
          services.ctx.metrics.setExternal(m.metrics);
          services.chain.refresh();
        } else if (m.type === "report") thread.settle(m);
      });
      worker.once("error", (e) => {
        fail(e);
        thread.failAll(e);
      });
      worker.once("exit", () => thread.failAll(new Error("the seal thread has exited")));
    });
    return thread;
  }

  seal(): Promise<SealReport> {
    const id = this.next++;
    const report = new Promise<SealReport>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: "seal", id });
    });
    const tracked = report.catch(() => undefined).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
    return report;
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /** Finishes a running seal, closes the thread's databases and ends the thread. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((done) => {
      this.worker.on("message", (m: FromThread) => m.type === "stopped" && done());
      this.worker.once("exit", () => done());
      this.worker.postMessage({ type: "stop" });
    });
    return this.stopped;
  }

  private settle(m: Extract<FromThread, { type: "report" }>): void {
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    if (m.report !== undefined) w.resolve(m.report);
    else w.reject(new Error(m.error ?? "seal failed"));
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
