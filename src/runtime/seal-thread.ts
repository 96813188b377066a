/**
 * The seal of a Node instance, in a worker thread of its own.
 *
 * The embedded libSQL driver is synchronous and a seal does real work —
 * reading the pending entries, hashing the batch tree, signing, cloning the
 * block to each store, replicating, auditing a slice of each replica — so
 * run on the request thread it stalls requests for its duration. Here it
 * runs beside them with its own connections (the block's primary key keeps
 * them consistent with the request thread's, as it does for two sealers).
 *
 * Messages in:  { type: "seal", id } (seal now), { type: "stop" }.
 * Messages out: { type: "ready" }, { type: "report", id, report | error },
 *               { type: "sealed", metrics } after every seal,
 *               { type: "log", level, event, fields }, { type: "stopped" }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../service/clock.js";
import { SealScheduler } from "../service/seal-scheduler.js";
import { createContext, createServices } from "../service/index.js";
import type { Logger } from "../service/log.js";
import { openLibsqlStore, type Durability } from "../store/libsql.js";
import { libsqlDatabase, parseConfig, type Settings } from "./config.js";
import { installNodeEd25519 } from "./node-ed25519.js";
import { installNodeSha256 } from "./node-sha256.js";

export interface SealThreadData {
  readonly settings: Settings;
  readonly durability?: Durability;
  /** Seal every interval (false: only when asked). */
  readonly timer: boolean;
}

installNodeEd25519();
installNodeSha256();
const port = parentPort!;
const data = workerData as SealThreadData;

const log: Logger = Object.fromEntries(
  (["info", "warn", "error"] as const).map((level) => [
    level,
    (event: string, fields: Record<string, unknown> = {}) => port.postMessage({ type: "log", level, event, fields }),
  ]),
) as unknown as Logger;

const config = parseConfig(data.settings);
const durability = data.durability ? { durability: data.durability } : {};
const primary = await openLibsqlStore({ ...libsqlDatabase(config.primary, "CAIRN_PRIMARY_URL"), ...durability, intake: true });
const ctx = createContext({ config, primary, clock: systemClock, log });
const { sealer } = createServices(ctx);

async function sealAndTell(): Promise<Awaited<ReturnType<typeof sealer.seal>>> {
  try {
    return await sealer.seal();
  } finally {
    port.postMessage({ type: "sealed", metrics: ctx.metrics.render() });
  }
}

// The timer is the scheduler's; "seal now" from the server thread shares
// the run in progress (the Sealer's own single flight). Late witness answers
// are not waited for between ticks: this thread lives on, and they land.
const scheduler = new SealScheduler({ job: () => ({ seal: sealAndTell, idle: async () => {} }), intervalMs: config.sealIntervalMs, staleMs: Number.POSITIVE_INFINITY, clock: systemClock });
// The server thread ran the first seal; the first tick here is an interval later.
const schedule = data.timer ? scheduler.start({ setTimeout, clearTimeout }, { afterInterval: true }) : undefined;

port.on("message", async (message: { type: "seal"; id: number } | { type: "stop" }) => {
  if (message.type === "seal") {
    try {
      port.postMessage({ type: "report", id: message.id, report: await sealAndTell() });
    } catch (e) {
      port.postMessage({ type: "report", id: message.id, error: (e as Error).message });
    }
    return;
  }
  await schedule?.stop();
  await sealer.idle();
  primary.close();
  port.postMessage({ type: "stopped" });
  port.close();
});

port.postMessage({ type: "ready" });

