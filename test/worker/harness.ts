/**
 * The built Worker in workerd, for tests and benchmarks: the bundle that
 * `wrangler deploy --dry-run` makes (built once per change of the sources),
 * loaded by Miniflare with a D1 database for the primary, migrated from
 * migrations/*.sql the way wrangler applies them (statement by statement);
 * and the members' own witnesses (src/runtime/member.ts), each in this
 * process with its own data dir, key, replica and HTTP server on 127.0.0.1.
 * Nothing is mocked: requests go through workerd to the Worker, whose D1
 * calls go to Miniflare's SQLite-backed D1; the Worker asks each witness
 * over HTTP to cosign, and each witness reads the blocks back from the
 * Worker over HTTP, verifies them and stores them in its own replica.
 *
 * Order of start: the witnesses' ports and keys are fixed first (keys from
 * fixed seeds, written into each data dir as cosigner.key), so the Worker's
 * CAIRN_MEMBERS can name them; then workerd starts and, once its URL is
 * known, the witnesses start with it as the log they follow, before any
 * request reaches the Worker.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { D1Database } from "@cloudflare/workers-types";
import { Log, LogLevel, type Miniflare, type WorkerOptions } from "miniflare";
import { newMiniflare } from "./miniflare.js";
import {
  formatSignerKey,
  formatVerifierKey,
  generateKeyPair,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  parseSignerKey,
  sha256,
  signSubmission,
  utf8,
} from "../../src/core/index.js";
import { freePort } from "../../src/runtime/dev-members.js";
import { startMember, type RunningMember } from "../../src/runtime/member.js";
import type { Fetch } from "../../src/service/context.js";
import { silentLogger } from "../../src/service/log.js";
import { cachedWorkerBundle, ROOT, type WorkerBundle } from "../../scripts/wrangler.js";

export const ORIGIN = "cairn.test/log";
export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const COMPATIBILITY_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))![1]!;

const seed = (label: string) => sha256(utf8(label));

export function operatorKey(origin = ORIGIN): string {
  return formatSignerKey(origin, KEY_TYPE_ED25519, seed("operator"));
}

/** The operator's public key, as a witness pins it (CAIRN_LOG_KEYS). */
export function operatorVerifierKey(origin = ORIGIN): string {
  const k = parseSignerKey(operatorKey(origin));
  return formatVerifierKey(k.name, k.type, k.publicKey);
}

export function memberName(i: number): string {
  return `m${i}.test`;
}

/** Member i's private cosigner key: written into that member's own data dir only (config.test.ts shows the operator refusing it). */
export function memberSignerKey(i: number): string {
  return formatSignerKey(memberName(i), KEY_TYPE_COSIGNATURE_V1, seed(`member ${i}`));
}

/** Member i's public cosigner key (type 0x04), as the operator's CAIRN_MEMBERS names it. */
export function memberKey(i: number): string {
  const k = parseSignerKey(memberSignerKey(i));
  return formatVerifierKey(k.name, k.type, k.publicKey);
}

/** A member as the operator knows it: name, public key, witness URL. */
export interface MemberSpec {
  readonly name: string;
  readonly key: string;
  readonly url: string;
}

/**
 * The witness's reads from workerd, each on a TCP connection of its own, for
 * the reason ./miniflare.ts gives for this process's other requests to
 * workerd (issue 7: workerd closes idle connections, and a pooled one may
 * be reused after its FIN arrived). `Connection: close` makes Node's fetch
 * open a new connection and never pool it.
 */
const freshConnectionFetch: Fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set("Connection", "close");
  return fetch(input, { ...init, headers });
};

/** One member's witness: its own data dir and loopback port; stopped and started again as its process would be. */
export class TestWitness implements MemberSpec {
  running: RunningMember | undefined;
  private logUrl: string | undefined;

  constructor(
    readonly index: number,
    readonly dir: string,
    readonly port: number,
    /** More settings of the member (e.g. a remote replica). */
    private readonly extra: Record<string, string>,
  ) {}

  get name(): string {
    return memberName(this.index);
  }

  get key(): string {
    return memberKey(this.index);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Its replica, when it is the default file in the data dir. */
  get replicaFile(): string {
    return join(this.dir, "replica.db");
  }

  /** Starts following the log at `logUrl` (the Worker's URL); again after stop(), the same log. */
  async start(logUrl = this.logUrl): Promise<void> {
    if (this.running) return;
    if (logUrl === undefined) throw new Error(`${this.name}: no log URL to follow`);
    this.logUrl = logUrl;
    const env = {
      CAIRN_MEMBER_NAME: this.name,
      CAIRN_MEMBER_DATA_DIR: this.dir,
      CAIRN_LOG_ORIGIN: ORIGIN,
      CAIRN_LOG_KEYS: operatorVerifierKey(),
      CAIRN_LOG_URL: logUrl,
      ...this.extra,
    };
    this.running = await startMember({ env, port: this.port, log: silentLogger, durability: "normal", fetch: freshConnectionFetch, replicaThread: false });
  }

  async stop(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    await r?.close();
  }

  /** GET /status: its replica's head and the latest checkpoint it cosigned. */
  async status(): Promise<{ replica: { size: number; hash: string }; latest: { size: number; root: string } | null; halted: unknown }> {
    const res = await fetch(`${this.url}/status`);
    if (res.status !== 200) throw new Error(`${this.name} /status: ${res.status} ${await res.text()}`);
    return (await res.json()) as never;
  }
}

/**
 * Witnesses for members 1..n (or the members `indexes` names), not started:
 * each gets a fresh data dir holding its fixed-seed cosigner key and a free
 * loopback port, so the Worker's settings can name them before they run.
 */
export async function makeWitnesses(indexes: number | readonly number[], extra: (i: number) => Record<string, string> = () => ({})): Promise<TestWitness[]> {
  const list = typeof indexes === "number" ? Array.from({ length: indexes }, (_, k) => k + 1) : indexes;
  return Promise.all(
    list.map(async (i) => {
      const dir = mkdtempSync(join(tmpdir(), `cairn-witness-${memberName(i)}-`));
      writeFileSync(join(dir, "cosigner.key"), memberSignerKey(i) + "\n", { mode: 0o600 });
      return new TestWitness(i, dir, await freePort(), extra(i));
    }),
  );
}

/** Member i with a witness URL on a loopback port nobody listens on: the member's process is down. */
export async function absentMember(i: number): Promise<MemberSpec> {
  return { name: memberName(i), key: memberKey(i), url: `http://127.0.0.1:${await freePort()}` };
}

/** The settings of a Worker with `members` (their public keys and witness URLs) and its primary in D1 binding PRIMARY. */
export function settings(members: readonly MemberSpec[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    CAIRN_ORIGIN: ORIGIN,
    CAIRN_OPERATOR_KEY: operatorKey(),
    CAIRN_ADMIN_TOKEN: ADMIN_TOKEN,
    CAIRN_PRIMARY_D1: "PRIMARY",
    CAIRN_MEMBERS: JSON.stringify(members.map((m) => ({ name: m.name, key: m.key, witness: m.url }))),
    CAIRN_SEAL_INTERVAL: "1",
    ...extra,
  };
}

/** D1 binding name → database id. The same id in two Workers is the same database. */
export const D1_DATABASES = { PRIMARY: "primary" } as const;

export interface WorkerSpec {
  readonly name: string;
  /** Vars and secrets: strings, or JSON values as wrangler.toml [vars] may give them. */
  readonly bindings: Record<string, unknown>;
  readonly d1Databases?: Record<string, string>;
  /**
   * The source of a main module to run instead of the bundle, importing it
   * as "./cairn-worker.js" (bench/d1-meter-worker.ts meters D1 this way).
   */
  readonly entry?: string;
}

/** Miniflare's module options for a bundle, or for `entry` in front of it (WorkerSpec.entry). */
export function bundleModules(bundle: WorkerBundle, entry?: string): WorkerOptions {
  // Module names are relative to modulesRoot; the bundle is one file in it.
  if (entry === undefined) return { modules: true, scriptPath: bundle.file, modulesRoot: bundle.dir };
  return {
    modulesRoot: bundle.dir,
    modules: [
      { type: "ESModule", path: join(bundle.dir, "metered-entry.js"), contents: entry },
      { type: "ESModule", path: join(bundle.dir, "cairn-worker.js"), contents: readFileSync(bundle.file, "utf8") },
    ],
  } as WorkerOptions;
}

export interface Workerd {
  readonly mf: Miniflare;
  /** workerd's HTTP socket (Miniflare's entry, which routes to the first Worker): the log URL the witnesses follow, and load tests' target. */
  readonly url: string;
  readonly bundle: WorkerBundle;
  /** Milliseconds from `new Miniflare` to ready. */
  readonly startMs: number;
  request(path: string, init?: RequestInit & { json?: unknown; admin?: boolean; worker?: string }): Promise<Response>;
  /** Fires the cron trigger; resolves when the handler and its waitUntil work are done. */
  scheduled(worker?: string): Promise<{ outcome: string }>;
  /** What the Workers wrote to stdout and stderr so far. */
  logs(): string;
  /** The member witnesses started with workerd, following it. */
  readonly witnesses: readonly TestWitness[];
  /** Stops workerd, then the witnesses, and removes their data dirs. */
  close(): Promise<void>;
}

/** The statements of migrations/*.sql (of the files `which` takes), in order: drizzle-kit marks the breaks; each file ends its last one. */
export function migrationStatements(which: (file: string) => boolean = () => true): string[] {
  const dir = join(ROOT, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql") && which(f))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("--> statement-breakpoint"))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function migrate(db: D1Database, which?: (file: string) => boolean): Promise<void> {
  await db.batch(migrationStatements(which).map((s) => db.prepare(s)));
}

/**
 * Starts workerd with the given Workers (each the same bundle, each its own
 * isolate), migrates every D1 database the first one binds, then starts
 * `witnesses` following it (their URLs are in the Workers' CAIRN_MEMBERS).
 */
export async function startWorkerd(workers: readonly WorkerSpec[], options: { migrateAll?: boolean; witnesses?: readonly TestWitness[] } = {}): Promise<Workerd> {
  const bundle = await cachedWorkerBundle();
  const started = performance.now();
  const workerOptions = workers.map((w) => ({
    ...bundleModules(bundle, w.entry),
    name: w.name,
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
  const witnesses = options.witnesses ?? [];
  try {
    // The Worker reaches them through Miniflare's "internet" service, whose
    // network allows private addresses, loopback included: no option needed.
    await Promise.all(witnesses.map((w) => w.start(url)));
  } catch (e) {
    await mf.dispose();
    await Promise.all(witnesses.map((w) => w.stop()));
    throw e;
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
    logs: () => output,
    witnesses,
    async close() {
      // workerd first: a witness reading from it then fails at once instead of holding up its own close.
      await mf.dispose();
      for (const w of witnesses) {
        await w.stop();
        rmSync(w.dir, { recursive: true, force: true });
      }
    },
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
