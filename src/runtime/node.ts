/**
 * Cairn on Node: the Hono app on @hono/node-server, libSQL stores, and a
 * timer that seals. `startNode` is what `npm start` runs and what the tests
 * start on 127.0.0.1 with a temporary data directory.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createApp } from "../http/app.js";
import { systemClock, type Clock } from "../service/clock.js";
import { createContext, createServices, type DatabaseConfig, type Services } from "../service/index.js";
import type { Fetch } from "../service/context.js";
import { jsonLogger, type Logger } from "../service/log.js";
import type { FaultHook } from "../service/seal.js";
import { openLibsqlStore, type Durability } from "../store/libsql.js";
import type { SealRunner } from "../service/seal.js";
import { SealScheduler } from "../service/seal-scheduler.js";
import { SealThread } from "./seal-runner.js";
import { libsqlDatabase, parseConfig, type Settings } from "./config.js";
import { formatVerifierKey, parseSignerKey } from "../core/keys.js";
import { freePort, startDevMembers, type DevMembers } from "./dev-members.js";
import { DEV_MEMBERS, devSettings, type DevFiles } from "./dev-setup.js";
import { installNodeEd25519 } from "./node-ed25519.js";
import { installNodeSha256 } from "./node-sha256.js";

export interface NodeOptions {
  /** Environment-style settings; by default process.env. */
  readonly env?: Settings;
  readonly port?: number;
  readonly host?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Run the seal timer (tests often seal by hand). */
  readonly sealTimer?: boolean;
  /** Tests inject failures after seal steps. */
  readonly fault?: FaultHook;
  readonly durability?: Durability;
  /** Seal in a worker thread (default true; off when `fault` or `clock` is given). */
  readonly sealThread?: boolean;
  /** How the operator reaches witnesses (tests); by default the platform's fetch. */
  readonly fetch?: Fetch;
}

export interface RunningNode {
  readonly url: string;
  readonly services: Services;
  /** Runs seals: the seal thread, or services.sealer when sealing in this thread. */
  readonly sealer: SealRunner;
  /** Present in the embedded default (no CAIRN_ORIGIN / CAIRN_CONFIG given). */
  readonly dev?: DevFiles;
  /** The embedded default's witness processes. */
  readonly devMembers?: DevMembers;
  close(): Promise<void>;
}

/** Settings: CAIRN_CONFIG's file under the environment; the embedded default when no origin is configured. */
function settingsFrom(env: Settings): { settings: Settings; dev?: DevFiles } {
  let settings: Settings = env;
  if (env.CAIRN_CONFIG) {
    const file = JSON.parse(readFileSync(env.CAIRN_CONFIG, "utf8")) as Record<string, unknown>;
    const fromFile = Object.fromEntries(Object.entries(file).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    settings = { ...fromFile, ...Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("CAIRN_") && env[k] !== "")) };
  }
  if (settings.CAIRN_ORIGIN !== undefined) return { settings };
  const { settings: devOnes, files } = devSettings(resolve(env.CAIRN_DATA_DIR ?? "./data"), env);
  return { settings: devOnes, dev: files };
}

export async function startNode(options: NodeOptions = {}): Promise<RunningNode> {
  installNodeEd25519();
  installNodeSha256();
  const env = options.env ?? process.env;
  const { settings: configured, dev } = settingsFrom(env);
  const host = options.host ?? env.HOST ?? "127.0.0.1";
  let port = options.port ?? Number(env.PORT ?? 8787);
  let settings = configured;
  let devMembers: DevMembers | undefined;
  if (dev !== undefined) {
    // The embedded default: three witnesses as processes of their own, told
    // where the operator will serve; the operator learns their public keys.
    const pick = port === 0;
    if (pick) port = await freePort();
    const members = await Promise.all(DEV_MEMBERS.map(async (name, i) => ({ name, port: pick ? await freePort() : port + 1 + i })));
    const operator = parseSignerKey(configured.CAIRN_OPERATOR_KEY!);
    devMembers = await startDevMembers({
      dataDir: dev.dir,
      origin: operator.name,
      operatorKey: formatVerifierKey(operator.name, operator.type, operator.publicKey),
      operatorUrl: `http://127.0.0.1:${port}`,
      members,
      // The witnesses get none of the operator's settings, only whether to cosign post-quantum too.
      env: Object.fromEntries(Object.entries(env).filter(([k]) => (!k.startsWith("CAIRN_") || k === "CAIRN_MEMBER_MLDSA") && k !== "PORT" && k !== "HOST")),
    });
    settings = { ...configured, CAIRN_MEMBERS: JSON.stringify(devMembers.members) };
    // /metrics (counts, no entry data) is open in the embedded default while
    // only this machine can reach it; on any other address it wants a token,
    // as in a deployment. Digest lookup stays closed: the dev client signs its own.
    if (configured.CAIRN_OPEN_METRICS === undefined) settings = { ...settings, CAIRN_OPEN_METRICS: isLoopback(host) ? "1" : "0" };
  }
  try {
    return await startOperator(options, settings, host, port, dev, devMembers);
  } catch (e) {
    await devMembers?.stop();
    throw e;
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

async function startOperator(
  options: NodeOptions,
  settings: Settings,
  host: string,
  port: number,
  dev: DevFiles | undefined,
  devMembers: DevMembers | undefined,
): Promise<RunningNode> {
  const config = parseConfig(settings);
  const log = options.log ?? jsonLogger();
  const settingsOf = (db: DatabaseConfig, setting: string) => ({
    ...libsqlDatabase(db, setting),
    ...(options.durability ? { durability: options.durability } : {}),
  });
  // The seal runs in a thread of its own (./seal-thread.ts) unless a test
  // needs it here: to inject faults, to move the clock, or to seal by hand
  // with every store in this thread.
  const inThread = options.fault !== undefined || options.clock !== undefined || options.sealThread === false;
  // Submissions queue in the primary's intake, which no seal's commit holds up.
  const primary = await openLibsqlStore({ ...settingsOf(config.primary, "CAIRN_PRIMARY_URL"), intake: true });
  const ctx = createContext({ config, primary, clock: options.clock ?? systemClock, log, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const services = createServices(ctx, options.fault ? { fault: options.fault } : {});
  if (dev !== undefined) {
    await services.clients.register(dev.clientVerifierKey);
    // The dev log's trust document, for the CLI's dev path (cli/trust-source.ts),
    // as the dev client key is: the witnesses made their keys on first run.
    writeFileSync(join(dev.dir, "trust.json"), JSON.stringify(await services.keys.trust(), null, 2) + "\n");
  }

  const sealThread = inThread
    ? undefined
    : await SealThread.start({ settings, timer: options.sealTimer !== false, ...(options.durability ? { durability: options.durability } : {}) }, services, log);
  const sealer: SealRunner = sealThread ?? services.sealer;
  const app = createApp(services, { forRequest: () => ({ submitter: services.submitter, sealer }), sourceOf: (c) => getConnInfo(c).remote.address });
  const server: ServerType = await new Promise((ready) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => ready(s));
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  // The first seal publishes the size-0 checkpoint; then one seal per
  // interval, never overlapping: the seal thread's scheduler, or (when the
  // seal runs in this thread) this one.
  await sealer.seal().catch(() => undefined); // logged by the sealer; the next tick retries
  const schedule =
    inThread && options.sealTimer !== false
      ? new SealScheduler({ job: () => ({ seal: () => services.sealer.seal(), idle: async () => {} }), intervalMs: config.sealIntervalMs, staleMs: Number.POSITIVE_INFINITY, clock: ctx.clock }).start({ setTimeout, clearTimeout }, { afterInterval: true })
      : undefined;

  return {
    url,
    services,
    sealer,
    ...(dev ? { dev } : {}),
    ...(devMembers ? { devMembers } : {}),
    async close() {
      await schedule?.stop();
      await new Promise<void>((done) => server.close(() => done()));
      await services.submitter.drain();
      await sealer.idle();
      await sealThread?.stop();
      primary.close();
      await devMembers?.stop();
    },
  };
}
