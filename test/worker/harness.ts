/**
 * The built Worker in workerd, for tests and benchmarks: the bundle that
 * `wrangler deploy --dry-run` makes (built once per change of the sources),
 * loaded by Miniflare with D1 databases for the primary and each member,
 * migrated from migrations/*.sql the way wrangler applies them (statement by
 * statement). Nothing is mocked: requests go through workerd to the Worker,
 * whose D1 calls go to Miniflare's SQLite-backed D1.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { D1Database } from "@cloudflare/workers-types";
import { Log, LogLevel, type Miniflare, type WorkerOptions } from "miniflare";
import { newMiniflare } from "./miniflare.js";
import { formatSignerKey, generateKeyPair, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, noteSigner, sha256, signSubmission, utf8 } from "../../src/core/index.js";
import { cachedWorkerBundle, ROOT, type WorkerBundle } from "../../scripts/wrangler.js";

export const ORIGIN = "cairn.test/log";
export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const COMPATIBILITY_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))![1]!;

const seed = (label: string) => sha256(utf8(label));

export function operatorKey(origin = ORIGIN): string {
  return formatSignerKey(origin, KEY_TYPE_ED25519, seed("operator"));
}

export function memberName(i: number): string {
  return `m${i}.test`;
}

export function cosignerKey(i: number): string {
  return formatSignerKey(memberName(i), KEY_TYPE_COSIGNATURE_V1, seed(`member ${i}`));
}

/** A member's database: a D1 binding of the Worker, or a libSQL URL. */
export type MemberDatabase = { readonly d1: string } | { readonly url: string; readonly authToken?: string };

/** The settings of a Worker with `members` (member i+1 gets members[i]) and its primary in D1 binding PRIMARY. */
export function settings(members: readonly MemberDatabase[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    CAIRN_ORIGIN: ORIGIN,
    CAIRN_OPERATOR_KEY: operatorKey(),
    CAIRN_ADMIN_TOKEN: ADMIN_TOKEN,
    CAIRN_PRIMARY_D1: "PRIMARY",
    CAIRN_MEMBERS: JSON.stringify(members.map((db, i) => ({ name: memberName(i + 1), cosignerKey: cosignerKey(i + 1), ...db }))),
    CAIRN_SEAL_INTERVAL: "1",
    ...extra,
  };
}

export const THREE_D1_MEMBERS: readonly MemberDatabase[] = [{ d1: "MEMBER_1" }, { d1: "MEMBER_2" }, { d1: "MEMBER_3" }];

/** D1 binding name → database id. The same id in two Workers is the same database. */
export const D1_DATABASES = { PRIMARY: "primary", MEMBER_1: "member-1", MEMBER_2: "member-2", MEMBER_3: "member-3" } as const;

export interface WorkerSpec {
  readonly name: string;
  /** Vars and secrets: strings, or JSON values as wrangler.toml [vars] may give them. */
  readonly bindings: Record<string, unknown>;
  readonly d1Databases?: Record<string, string>;
}

export interface Workerd {
  readonly mf: Miniflare;
  /** workerd's HTTP socket (Miniflare's entry, which routes to the first Worker), for load tests. */
  readonly url: string;
  readonly bundle: WorkerBundle;
  /** Milliseconds from `new Miniflare` to ready. */
  readonly startMs: number;
  request(path: string, init?: RequestInit & { json?: unknown; admin?: boolean; worker?: string }): Promise<Response>;
  /** Fires the cron trigger; resolves when the handler and its waitUntil work are done. */
  scheduled(worker?: string): Promise<{ outcome: string }>;
  d1(binding: string, worker?: string): Promise<D1Database>;
  /** What the Workers wrote to stdout and stderr so far. */
  logs(): string;
  close(): Promise<void>;
}

/** The statements of migrations/*.sql, in order: drizzle-kit marks the breaks; each file ends its last one. */
export function migrationStatements(): string[] {
  const dir = join(ROOT, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("--> statement-breakpoint"))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function migrate(db: D1Database): Promise<void> {
  await db.batch(migrationStatements().map((s) => db.prepare(s)));
}

/**
 * Starts workerd with the given Workers (each the same bundle, each its own
 * isolate) and migrates every D1 database the first one binds.
 */
export async function startWorkerd(workers: readonly WorkerSpec[], options: { migrateAll?: boolean } = {}): Promise<Workerd> {
  const bundle = await cachedWorkerBundle();
  const started = performance.now();
  const workerOptions: WorkerOptions[] = workers.map((w) => ({
    name: w.name,
    modules: true,
    scriptPath: bundle.file,
    // Module names are relative to this; the bundle is one file in it.
    modulesRoot: bundle.dir,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: w.bindings as WorkerOptions["bindings"],
    d1Databases: w.d1Databases ?? { ...D1_DATABASES },
  }));
  // The Worker's own log lines (JSON, one a line) are kept for the tests to
  // read; CAIRN_WORKERD_LOG=1 also prints them and Miniflare's request log.
  let output = "";
  const verbose = process.env.CAIRN_WORKERD_LOG !== undefined;
  const mf = newMiniflare({
    workers: workerOptions,
    // Request.cf from a placeholder: no fetch of Cloudflare's cf.json.
    cf: false,
    log: new Log(verbose ? LogLevel.DEBUG : LogLevel.WARN),
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (verbose) process.stderr.write(chunk);
        });
      }
    },
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const startMs = performance.now() - started;
  if (options.migrateAll !== false) {
    const first = workers[0]!;
    for (const binding of Object.keys(first.d1Databases ?? D1_DATABASES)) {
      await migrate((await mf.getD1Database(binding, first.name)) as unknown as D1Database);
    }
  }
  return {
    mf,
    url,
    bundle,
    startMs,
    async request(path, init = {}) {
      const { json, admin, worker, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set("Content-Type", "application/json");
      if (admin) headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      const body = json !== undefined ? JSON.stringify(json) : rest.body;
      const url = `http://cairn.test${path}`;
      const req = { ...rest, headers, ...(body === undefined || body === null ? {} : { body }) } as never;
      return (worker === undefined ? await mf.dispatchFetch(url, req) : await (await mf.getWorker(worker)).fetch(url, req)) as unknown as Response;
    },
    async scheduled(worker) {
      const fetcher = await mf.getWorker(worker);
      return fetcher.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
    },
    async d1(binding, worker) {
      return (await mf.getD1Database(binding, worker)) as unknown as D1Database;
    },
    logs: () => output,
    close: () => mf.dispose(),
  };
}

export function clientKeys(name = "app.test") {
  return generateKeyPair(name, seed(`client ${name}`), KEY_TYPE_ED25519);
}

export async function registerClient(w: Workerd, name = "app.test", worker?: string) {
  const keys = clientKeys(name);
  const res = await w.request("/v1/admin/clients", { method: "POST", admin: true, json: { key: keys.verifierKey }, ...(worker ? { worker } : {}) });
  if (res.status !== 201 && res.status !== 200) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  return { ...keys, signer: noteSigner(keys.signerKey) };
}

export const now = () => Math.floor(Date.now() / 1000);

export function document(n: number | string): Uint8Array {
  return utf8(`document ${n}\n`);
}

export function submission(client: { signer: ReturnType<typeof noteSigner> }, doc: Uint8Array): Promise<string> {
  return signSubmission({ origin: ORIGIN, digest: sha256(doc), time: now() }, client.signer);
}

export async function anchor(w: Workerd, note: string, worker?: string): Promise<{ status: number; body: any }> {
  const res = await w.request("/v1/anchors", { method: "POST", json: { submission: note }, ...(worker ? { worker } : {}) });
  return { status: res.status, body: await res.json() };
}

/**
 * Polls until `check` returns a value. The bound is only there to fail with
 * a message before vitest's test timeout; it is far above anything a loaded
 * machine needs, and no test asserts how quickly a value came.
 */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 45_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
