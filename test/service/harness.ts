/**
 * A real Cairn for tests: libSQL files in a temp dir for the primary and each
 * member, the real services and Hono app served by @hono/node-server on
 * 127.0.0.1, real keys. Member stores sit behind FaultyStore, which passes
 * every call to the real store unless a test switches a fault on (replica
 * down, or "written but the reply was lost") — failure injection, not a
 * stand-in for the database.
 */
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import {
  formatSignerKey,
  generateKeyPair,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  sha256,
  signSubmission,
  utf8,
} from "../../src/core/index.js";
import { createApp } from "../../src/http/app.js";
import { libsqlDatabase } from "../../src/runtime/config.js";
import { DEFAULTS, type CairnConfig } from "../../src/service/config.js";
import { createContext, createServices, type Services } from "../../src/service/index.js";
import { silentLogger } from "../../src/service/log.js";
import type { FaultHook } from "../../src/service/seal.js";
import { openLibsqlStore, type LibsqlStore } from "../../src/store/libsql.js";
import type { ChainStore } from "../../src/store/types.js";

export const ORIGIN = "cairn.test/log";
export const ADMIN_TOKEN = "test-admin-token-0123456789";

export class TestClock {
  constructor(public t = 1_900_000_000) {}
  now(): number {
    return this.t;
  }
}

/** Passes everything to the real store; a test can make it unreachable or lose the reply of a write. */
export class FaultyStore {
  down = false;
  loseNextAppendReply = false;
  constructor(readonly real: LibsqlStore) {}
  proxy(): ChainStore {
    return new Proxy(this.real as unknown as ChainStore, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function" || prop === "close") return value;
        return async (...args: unknown[]) => {
          if (this.down) throw new Error("replica unreachable (injected)");
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (prop === "appendBlock" && this.loseNextAppendReply) {
            this.loseNextAppendReply = false;
            throw new Error("connection lost after the write (injected)");
          }
          return result;
        };
      },
    });
  }
}

export interface ClusterOptions {
  readonly dir?: string;
  readonly members?: number;
  readonly quorum?: number;
  readonly clock?: TestClock;
  readonly fault?: FaultHook;
  readonly config?: Partial<CairnConfig>;
}

export interface Cluster {
  readonly dir: string;
  readonly url: string;
  readonly services: Services;
  readonly primary: LibsqlStore;
  readonly replicas: FaultyStore[];
  readonly clock: TestClock;
  readonly config: CairnConfig;
  request(path: string, init?: RequestInit & { json?: unknown; admin?: boolean }): Promise<Response>;
  close(): Promise<void>;
}

const seed = (label: string) => sha256(utf8(label));

export function clusterConfig(dir: string, members: number, quorum?: number): CairnConfig {
  const file = (name: string) => pathToFileURL(join(dir, name)).href;
  return {
    origin: ORIGIN,
    operatorKey: formatSignerKey(ORIGIN, KEY_TYPE_ED25519, seed("operator")),
    primary: { url: file("primary.db") },
    members: Array.from({ length: members }, (_, i) => ({
      name: `m${i + 1}.test`,
      cosignerKey: formatSignerKey(`m${i + 1}.test`, KEY_TYPE_COSIGNATURE_V1, seed(`member ${i + 1}`)),
      database: { url: file(`member-${i + 1}.db`) },
    })),
    quorum: quorum ?? Math.floor(members / 2) + 1,
    sealIntervalMs: 1000,
    batchLimit: DEFAULTS.batchLimit,
    maxSealDelaySeconds: 60,
    timeWindowSeconds: 300,
    adminToken: ADMIN_TOKEN,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    maxBatchItems: DEFAULTS.maxBatchItems,
    maxQueuedSubmissions: DEFAULTS.maxQueuedSubmissions,
    maxPendingEntries: DEFAULTS.maxPendingEntries,
  };
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "cairn-test-"));
  const clock = options.clock ?? new TestClock();
  const config = { ...clusterConfig(dir, options.members ?? 3, options.quorum), ...options.config };
  const primary = await openLibsqlStore({ ...libsqlDatabase(config.primary), durability: "normal" });
  const replicas = await Promise.all(config.members.map(async (m) => new FaultyStore(await openLibsqlStore({ ...libsqlDatabase(m.database), durability: "normal" }))));
  const ctx = createContext({ config, primary, replicas: replicas.map((r) => r.proxy()), clock, log: silentLogger });
  const services = createServices(ctx, options.fault ? { fault: options.fault } : {});
  const app = createApp(services, { onInternalError: () => {} });
  const server: ServerType = await new Promise((ready) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => ready(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    dir,
    url,
    services,
    primary,
    replicas,
    clock,
    config,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.json !== undefined) headers.set("Content-Type", "application/json");
      if (init.admin) headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
      return fetch(url + path, { ...init, headers, ...(body === undefined ? {} : { body }) });
    },
    async close() {
      await new Promise<void>((done) => server.close(() => done()));
      await services.submitter.drain();
      primary.close();
      for (const r of replicas) r.real.close();
    },
  };
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
