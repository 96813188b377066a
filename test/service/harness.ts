/**
 * A real Cairn for tests: libSQL files in a temp dir for the primary, the
 * real services and Hono app served by @hono/node-server on 127.0.0.1, and
 * each member's own witness (src/runtime/member.ts: its own key, replica,
 * state file and HTTP server on 127.0.0.1), real keys throughout. A witness
 * can be stopped and started again on the same port and data dir, as a
 * member restarting its process would. Members' keys come from fixed seeds
 * written into their data dirs, so the operator's configuration can name
 * their public keys before they start.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import {
  formatSignerKey,
  formatVerifierKey,
  generateKeyPair,
  isClientRecordEntry,
  isKeyRecordEntry,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  parseSignerKey,
  sha256,
  signSubmission,
  utf8,
} from "../../src/core/index.js";
import { createApp } from "../../src/http/app.js";
import { libsqlDatabase } from "../../src/runtime/config.js";
import { freePort } from "../../src/runtime/dev-members.js";
import { startMember, type RunningMember } from "../../src/runtime/member.js";
import { DEFAULTS, type CairnConfig } from "../../src/service/config.js";
import { createContext, createServices, type Services } from "../../src/service/index.js";
import { silentLogger, type Logger } from "../../src/service/log.js";
import type { FaultHook } from "../../src/service/seal.js";
import { openLibsqlStore, type LibsqlStore } from "../../src/store/libsql.js";

export const ORIGIN = "cairn.test/log";
export const ADMIN_TOKEN = "test-admin-token-0123456789";

export class TestClock {
  constructor(public t = 1_900_000_000) {}
  now(): number {
    return this.t;
  }
}

const seed = (label: string) => sha256(utf8(label));

export function operatorSignerKey(): string {
  return formatSignerKey(ORIGIN, KEY_TYPE_ED25519, seed("operator"));
}

export function operatorVerifierKey(): string {
  const k = parseSignerKey(operatorSignerKey());
  return formatVerifierKey(k.name, k.type, k.publicKey);
}

export function memberSignerKey(i: number): string {
  return formatSignerKey(`m${i}.test`, KEY_TYPE_COSIGNATURE_V1, seed(`member ${i}`));
}

/** One member's witness: its own data dir and port; stop() and start() as its process would. */
export class TestWitness {
  running: RunningMember | undefined;
  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly clock: TestClock,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = await startMember({ env: this.env, port: this.port, clock: this.clock, log: silentLogger, durability: "normal", replicaThread: false });
  }

  async stop(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    await r?.close();
  }

  get replicaFile(): string {
    return join(this.dir, "replica.db");
  }
}

export interface ClusterOptions {
  readonly dir?: string;
  readonly members?: number;
  readonly quorum?: number;
  readonly clock?: TestClock;
  readonly fault?: FaultHook;
  readonly config?: Partial<CairnConfig>;
  /** A witness's own clock (default: the cluster's), by its number from 1. */
  readonly witnessClock?: (i: number) => TestClock | undefined;
  /** Changes the operator's configuration once the witnesses' URLs are known. */
  readonly configure?: (config: CairnConfig) => CairnConfig;
  /** Share these running witnesses (a second operator process on the same primary). */
  readonly witnesses?: readonly TestWitness[];
  /** The operator's logger; silent by default. */
  readonly log?: Logger;
}

export interface Cluster {
  readonly dir: string;
  readonly url: string;
  readonly services: Services;
  readonly primary: LibsqlStore;
  readonly witnesses: readonly TestWitness[];
  readonly clock: TestClock;
  readonly config: CairnConfig;
  request(path: string, init?: RequestInit & { json?: unknown; admin?: boolean }): Promise<Response>;
  /** Closes the operator; with `keepWitnesses` the members keep running. */
  close(options?: { keepWitnesses?: boolean }): Promise<void>;
}

export function clusterConfig(dir: string, witnesses: readonly { name: string; url: string }[], quorum?: number): CairnConfig {
  return {
    origin: ORIGIN,
    operatorKey: operatorSignerKey(),
    primary: { url: pathToFileURL(join(dir, "primary.db")).href },
    members: witnesses.map((w, i) => {
      const k = parseSignerKey(memberSignerKey(i + 1));
      return { name: w.name, key: formatVerifierKey(k.name, k.type, k.publicKey), witness: w.url };
    }),
    quorum: quorum ?? Math.floor(witnesses.length / 2) + 1,
    pqQuorum: 0,
    sealIntervalMs: 1000,
    batchLimit: DEFAULTS.batchLimit,
    maxSealDelaySeconds: 60,
    timeWindowSeconds: 300,
    adminToken: ADMIN_TOKEN,
    reads: DEFAULTS.reads,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    maxBatchItems: DEFAULTS.maxBatchItems,
    maxQueuedSubmissions: DEFAULTS.maxQueuedSubmissions,
    maxPendingEntries: DEFAULTS.maxPendingEntries,
    clientRate: DEFAULTS.clientRate,
  };
}

/** Member witnesses for an operator that will serve at `operatorUrl`, not started yet. */
export async function makeWitnesses(dir: string, n: number, operatorUrl: string, clock: TestClock, clockOf: (i: number) => TestClock | undefined = () => undefined): Promise<TestWitness[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const i = k + 1;
      const name = `m${i}.test`;
      const memberDir = join(dir, "members", name);
      mkdirSync(memberDir, { recursive: true });
      writeFileSync(join(memberDir, "cosigner.key"), memberSignerKey(i) + "\n", { mode: 0o600 });
      const env = {
        CAIRN_MEMBER_NAME: name,
        CAIRN_MEMBER_DATA_DIR: memberDir,
        CAIRN_LOG_ORIGIN: ORIGIN,
        CAIRN_LOG_KEYS: operatorVerifierKey(),
        CAIRN_LOG_URL: operatorUrl,
        CAIRN_SYNC_BUDGET: "30",
      };
      return new TestWitness(name, memberDir, await freePort(), env, clockOf(i) ?? clock);
    }),
  );
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "cairn-test-"));
  const clock = options.clock ?? new TestClock();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const witnesses = options.witnesses ?? (await makeWitnesses(dir, options.members ?? 3, url, clock, options.witnessClock));
  const defaults = { ...clusterConfig(dir, witnesses, options.quorum), ...options.config };
  const config = options.configure ? options.configure(defaults) : defaults;
  const primary = await openLibsqlStore({ ...libsqlDatabase(config.primary), durability: "normal", intake: true });
  const ctx = createContext({ config, primary, clock, log: options.log ?? silentLogger });
  const services = createServices(ctx, options.fault ? { fault: options.fault } : {});
  const app = createApp(services, { onInternalError: () => {}, sourceOf: (c) => getConnInfo(c).remote.address });
  const server: ServerType = await new Promise((ready) => {
    const s = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => ready(s));
  });
  if ((server.address() as AddressInfo).port !== port) throw new Error("the operator did not get its port");
  await Promise.all(witnesses.map((w) => w.start()));
  return {
    dir,
    url,
    services,
    primary,
    witnesses,
    clock,
    config,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.json !== undefined) headers.set("Content-Type", "application/json");
      if (init.admin) headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
      return fetch(url + path, { ...init, headers, ...(body === undefined ? {} : { body }) });
    },
    async close(closeOptions = {}) {
      await new Promise<void>((done) => server.close(() => done()));
      await services.submitter.drain();
      await services.sealer.idle();
      primary.close();
      if (!closeOptions.keepWitnesses) for (const w of witnesses) await w.stop();
    },
  };
}

/**
 * One seal, then every witness's answer: a seal returns at the quorum and
 * later cosignatures join the stored checkpoint as they come, so a test that
 * compares checkpoints byte for byte waits for them.
 */
export async function sealFully(cluster: Cluster) {
  const report = await cluster.services.sealer.seal();
  await cluster.services.sealer.idle();
  return report;
}

/** Submissions (not client or key records) in the chain, in chain order. */
export async function sealedSubmissions(cluster: Cluster): Promise<string[]> {
  const head = await cluster.primary.head();
  const ids: string[] = [];
  for (let h = 0; h < head.size; h++) {
    const entries = await cluster.primary.blockEntries(h, 0, 100_000);
    ids.push(...entries.filter((e) => !isClientRecordEntry(e.entry) && !isKeyRecordEntry(e.entry)).map((e) => e.id));
  }
  return ids;
}

export function clientKeys(name = "app.test") {
  return generateKeyPair(name, seed(`client ${name}`), KEY_TYPE_ED25519);
}

export async function registerClient(cluster: Cluster, name = "app.test") {
  const keys = clientKeys(name);
  const res = await cluster.request("/v1/admin/clients", { method: "POST", admin: true, json: { key: keys.verifierKey } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  return { ...keys, signer: noteSigner(keys.signerKey) };
}

export function document(n: number | string): Uint8Array {
  return utf8(`document ${n}\n`);
}

export async function submission(
  cluster: Cluster,
  client: { signer: ReturnType<typeof noteSigner> },
  doc: Uint8Array,
  extra: { time?: number; origin?: string; prev?: Uint8Array } = {},
): Promise<string> {
  return signSubmission(
    {
      origin: extra.origin ?? ORIGIN,
      digest: sha256(doc),
      time: extra.time ?? cluster.clock.now(),
      ...(extra.prev ? { prev: extra.prev } : {}),
    },
    client.signer,
  );
}

export async function anchor(cluster: Cluster, note: string): Promise<{ status: number; body: any }> {
  const res = await cluster.request("/v1/anchors", { method: "POST", json: { submission: note } });
  return { status: res.status, body: await res.json() };
}
