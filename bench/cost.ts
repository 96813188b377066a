/**
 * CPU per anchored entry across every process of the embedded default
 * (issue 12): the operator (HTTP, group commit, seal thread) and the three
 * member witnesses, from the first submission until every witness has
 * verified and stored the last block and the checkpoint is final. Read from
 * /proc (utime + stime of every thread of each process), with each
 * process's idle rate, measured just before, subtracted.
 *
 * Next to it, in the same run, the cryptographic floor: what the design
 * needs per entry at the least — the operator's client-signature verify and
 * promise signature, and one verify per witness — timed with node:crypto on
 * one core.
 */
import { createPrivateKey, createPublicKey, sign, verify, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { blockHash, formatBlockHeader, noteSigner, rootFromLevels, toHex, treeLevels } from "../src/core/index.js";
import { appendHashes, appendRefs } from "../src/core/tlog.js";
import { createClient, type Client } from "@libsql/client";
import { openLibsqlStore } from "../src/store/libsql.js";
import type { BlockWrite } from "../src/store/types.js";
import { openFileClient } from "../src/store/libsql-file.js";
import { defineSuite, formatMs, formatRate, type SuiteContext } from "./harness.js";
import { getJson, signMany, startServerProcess } from "./fixtures.js";
import { cpuMs, processTree } from "./proc.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open-loop POSTs at `rate`/s over keep-alive sockets; resolves with the statuses once every answer is in. */
async function postAtRate(url: URL, path: string, bodies: readonly string[], rate: number): Promise<{ statuses: Record<string, number>; latencies: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < bodies.length; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const body = bodies[i]!;
    const sent = performance.now();
    pending.push(
      new Promise<void>((done) => {
        const r = http.request(
          { agent, hostname: url.hostname, port: url.port, method: "POST", path, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on("end", () => {
              latencies.push(performance.now() - sent);
              statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
              done();
            });
          },
        );
        r.on("error", (e) => {
          statuses[e.message] = (statuses[e.message] ?? 0) + 1;
          done();
        });
        r.end(body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { statuses, latencies: latencies.sort((a, b) => a - b) };
}

/** The floor per entry, µs on one core: (1 + witnesses) Ed25519 verifies and one signature, node:crypto. */
function cryptoFloor(witnesses: number): { verifyUs: number; signUs: number; floorUs: number } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const priv: KeyObject = createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }));
  const pub: KeyObject = createPublicKey(publicKey.export({ format: "pem", type: "spki" }));
  const msg = Buffer.from("cairn/submission/v1\nexample.org/log\n" + "ab".repeat(32) + "\n1800000000\n");
  const n = 20_000;
  const sig = sign(null, msg, priv);
  let t = performance.now();
  for (let i = 0; i < n; i++) sign(null, msg, priv);
  const signUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) verify(null, msg, pub, sig);
  const verifyUs = ((performance.now() - t) * 1000) / n;
  return { verifyUs, signUs, floorUs: (1 + witnesses) * verifyUs + signUs };
}

async function perEntry(ctx: SuiteContext, label: string, opts: { rate: number; count: number; batch: number }) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-cost-"));
  // BENCH_NODE_FLAGS: extra flags for the operator's node, to profile it
  // (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", or "--perf-basic-prof" for perf).
  const server = await startServerProcess(dir, (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter((f) => f !== ""));
  const { child } = server;
  try {
    const url = new URL(server.url);
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const origin = (await getJson<{ origin: string }>(`${url.origin}/v1/trust`)).origin;
    const witnesses = (await getJson<{ members: { witness: string }[] }>(`${url.origin}/v1/consortium`)).members.map((m) => m.witness);
    const bodiesOf = (notes: string[]) =>
      opts.batch === 1
        ? notes.map((n) => JSON.stringify({ submission: n }))
        : Array.from({ length: Math.ceil(notes.length / opts.batch) }, (_, i) => JSON.stringify({ submissions: notes.slice(i * opts.batch, (i + 1) * opts.batch) }));
    const path = opts.batch === 1 ? "/v1/anchors" : "/v1/anchors/batch";
    const final = async () => {
      for (;;) {
        const h = await getJson<{ blocks: number; pending: number; queued: number }>(`${url.origin}/healthz`);
        const heads = await Promise.all(witnesses.map(async (w) => (await getJson<{ replica: { size: number } }>(`${w}/status`)).replica.size));
        if (h.pending === 0 && h.queued === 0 && heads.every((s) => s === h.blocks)) return;
        await sleep(50);
      }
    };
    // Warm up every process (JIT, caches, connections) at the same rate, so
    // the figures are of the steady state and not of V8 compiling.
    const warm = Math.min(opts.count, Math.max(opts.batch * 4, Math.round(opts.rate * 4)));
    await postAtRate(url, path, bodiesOf(await signMany(signer, origin, warm, `warm ${label}`)), opts.rate / opts.batch);
    await final();
    const bodies = bodiesOf(await signMany(signer, origin, opts.count, `cost ${label}`));

    const tree = processTree(child.pid!);
    const pids = [...tree.keys()];
    const role = (pid: number) => {
      if (pid === child.pid) return "operator";
      const name = /(?:^|\0)CAIRN_MEMBER_NAME=([^\0]*)/.exec(readFileSync(`/proc/${pid}/environ`, "utf8"))?.[1];
      if (name !== undefined) return `witness ${name}`;
      return tree.get(pid)!.includes("esbuild") ? "esbuild (tsx's compiler)" : tree.get(pid)!.slice(0, 28);
    };
    // Idle rate of each process over 3 s (seal ticks, witness polls).
    await sleep(1500);
    const idle0 = new Map(pids.map((p) => [p, cpuMs(p)]));
    const tIdle = performance.now();
    await sleep(3000);
    const idleRate = new Map(pids.map((p) => [p, (cpuMs(p) - idle0.get(p)!) / (performance.now() - tIdle)]));

    const before = new Map(pids.map((p) => [p, cpuMs(p)]));
    const beforeMain = new Map(pids.map((p) => [p, cpuMs(p, p)]));
    const t0 = performance.now();
    const sent = await postAtRate(url, path, bodies, opts.rate / opts.batch);
    const tSent = performance.now();
    // Final: nothing pending, and every witness's replica at the operator's head.
    await final();
    const tFinal = performance.now();
    const elapsed = tFinal - t0;
    const used = pids.map((p) => ({ pid: p, role: role(p), ms: cpuMs(p) - before.get(p)! - idleRate.get(p)! * elapsed, main: cpuMs(p, p) - beforeMain.get(p)! }));
    const total = used.reduce((s, u) => s + u.ms, 0);
    const floor = cryptoFloor(witnesses.length);
    const usPer = (ms: number) => (ms * 1000) / opts.count;
    ctx.note(
      `${label}: ${formatRate(opts.count)} entries offered at ${formatRate(opts.rate)}/s (${opts.batch === 1 ? "one a request" : `${opts.batch} a request`}); sent in ${formatMs(tSent - t0)}, final ${formatMs(tFinal - tSent)} after the last; statuses ${JSON.stringify(sent.statuses)}; request p50 ${formatMs(sent.latencies[Math.floor(sent.latencies.length / 2)]!)}, p99 ${formatMs(sent.latencies[Math.floor(sent.latencies.length * 0.99)]!)}`,
    );
    for (const u of used) ctx.note(`  ${u.role.padEnd(28)} ${usPer(u.ms).toFixed(0).padStart(6)} µs/entry (main thread ${usPer(u.main).toFixed(0)}, idle not subtracted)`);
    ctx.note(`  ${"all".padEnd(28)} ${usPer(total).toFixed(0).padStart(6)} µs/entry; floor ${floor.floorUs.toFixed(0)} µs ((1 + ${witnesses.length}) × verify ${floor.verifyUs.toFixed(1)} µs + sign ${floor.signUs.toFixed(1)} µs, node:crypto, this run): ratio ${(usPer(total) / floor.floorUs).toFixed(2)}`);
  } finally {
    child.kill();
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The operator's share of a witness's replication: one page of 1,000 entries
 * read from a libSQL file and made the JSON it is served as — rows turned
 * into objects and stringified, against SQLite building the text itself (as
 * served since issue 12's session of 2026-12-03). Each witness reads every
 * entry once, so the operator pays this once per entry and witness.
 */
async function pageServing(ctx: SuiteContext) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-pages-"));
  const store = await openLibsqlStore({ url: `file:${join(dir, "log.db")}` });
  try {
    const n = 10_000;
    await store.appendBlock(await nextBlock(store, n));
    let offset = 0;
    const next = () => (offset = (offset + 1000) % n);
    const opts = { opsPerCall: 1000, minTime: 2000 };
    const rows = await ctx.bench("page of 1,000 entries as rows, then JSON.stringify", async () => JSON.stringify(await store.blockEntries(0, next(), 1000)), opts);
    const text = await ctx.bench("page of 1,000 entries as JSON built by SQLite (json_group_array)", async () => (await store.blockEntriesJson(0, next(), 1000)).json, opts);
    ctx.note(`per entry and witness: ${(1e6 / rows.opsPerSec).toFixed(1)} µs as rows, ${(1e6 / text.opsPerSec).toFixed(1)} µs as SQLite's JSON`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the submit path asks of an embedded file per group commit of one
 * submission — the sealed-id lookup, then BEGIN IMMEDIATE, the intake's
 * insert and COMMIT, FULL durability as in the embedded default — and one
 * point read, as a receipt makes: CPU per call (user + system, so the
 * fsync's kernel time counts), through @libsql/client and through the store's
 * own file client, which keeps its prepared statements. The same statements
 * on the same schema, alternating, in one run.
 */
async function statementCost(ctx: SuiteContext) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-statements-"));
  const path = join(dir, "log.db");
  (await openLibsqlStore({ url: `file:${path}` })).close();
  const clients: [string, Client][] = [
    ["@libsql/client (a statement prepared per call)", createClient({ url: `file:${path}`, concurrency: 1, timeout: 5000 })],
    ["the store's file client (statements kept)", openFileClient(path, { timeoutMs: 5000 })],
  ];
  try {
    for (const [, c] of clients) {
      await c.execute("PRAGMA journal_mode = WAL");
      await c.execute("PRAGMA synchronous = FULL");
    }
    const insert = `INSERT INTO "pending" ("id", "entry", "digest", "client", "received_at", "promise") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO NOTHING RETURNING "id"`;
    const lookup = `SELECT "id" FROM "entries" WHERE "id" IN (SELECT unhex(value) FROM json_each(?))`;
    const read = `SELECT "id", "entry", "promise" FROM "pending" WHERE "id" = ?`;
    const ids: ArrayBuffer[] = [];
    const commit = async (c: Client) => {
      const id = randomBlob(32);
      ids.push(id);
      await c.execute({ sql: lookup, args: [JSON.stringify([Buffer.from(id).toString("hex")])] });
      await c.batch([{ sql: insert, args: [id, `cairn/submission/v1\nbench.example/log\n${randomHex(32)}\n1800000000\n\n— c ${randomHex(50)}\n`, randomBlob(32), "client.example/app", 1_800_000_000, randomHex(120)] }], "write");
    };
    const pointRead = (c: Client) => c.execute({ sql: read, args: [ids[Math.floor(Math.random() * ids.length)]!] });
    const perCall = async (f: () => Promise<unknown>, n: number) => {
      for (let i = 0; i < n / 10; i++) await f();
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await f();
      const u = process.cpuUsage(u0);
      return { cpuUs: (u.user + u.system) / n, wallUs: ((performance.now() - t0) * 1000) / n };
    };
    const n = Math.max(200, Math.round(2000 * ctx.timeScale));
    for (let round = 1; round <= 2; round++) {
      for (const [label, c] of clients) {
        const w = await perCall(() => commit(c), n);
        const r = await perCall(() => pointRead(c), n * 5);
        ctx.note(`round ${round}, ${label}: group commit of one submission ${w.cpuUs.toFixed(0)} µs CPU (${w.wallUs.toFixed(0)} µs wall); point read ${r.cpuUs.toFixed(1)} µs CPU`);
      }
    }
  } finally {
    for (const [, c] of clients) c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The store's cost of one 100k-entry block as the log grows: appendBlock on a
 * member's replica (no digest index) or on the operator's primary (indexed
 * by digest too), FULL durability, timed at each size. Entry ids and digests
 * are random, so their indexes take each block's rows all over their pages:
 * what grows with the log is how many of them a block rewrites.
 */
async function storeGrowth(ctx: SuiteContext, role: "replica" | "primary") {
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-growth-"));
  const store = await openLibsqlStore({ url: `file:${join(dir, "replica.db")}`, digestIndex: role === "primary" });
  try {
    const n = 100_000;
    const blocks = Math.max(3, Math.round(11 * ctx.timeScale));
    for (let h = 0; h < blocks; h++) {
      const write = await nextBlock(store, n);
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      await store.appendBlock(write);
      const u = process.cpuUsage(u0);
      const wall = performance.now() - t0;
      if (h % 5 === 0 || h === blocks - 1) {
        ctx.note(`${role}, block ${h} on ${(h * n).toLocaleString("en")} entries: appendBlock ${wall.toFixed(0)} ms (${((u.user + u.system) / 1000).toFixed(0)} ms CPU); file ${(statSync(join(dir, "replica.db")).size / 2 ** 20).toFixed(0)} MiB`);
      }
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The next block of `n` fresh entries of bench-like size for `store`'s chain. */
async function nextBlock(store: Awaited<ReturnType<typeof openLibsqlStore>>, n: number): Promise<BlockWrite> {
  const origin = "bench.example/log";
  const head = await store.head();
  const entries = Array.from({ length: n }, () => {
    const entry = `cairn/submission/v1\n${origin}\n${randomHex(32)}\n1800000000\n\n— client.example/app ${randomBytes(68).toString("base64")}\n`;
    return { id: randomHex(32), entry, digest: randomHex(32), client: "client.example/app", receivedAt: 1_800_000_000, promise: "" };
  });
  const leaves = new Uint8Array(n * 32);
  entries.forEach((e, i) => leaves.set(Buffer.from(e.id, "hex"), i * 32));
  const levels = treeLevels(leaves);
  const height = head.size;
  const header = formatBlockHeader({ origin, height, prevHash: Buffer.from(head.hash, "hex"), size: n, root: rootFromLevels(levels, n), sealedAt: 1_800_000_000 });
  const hash = blockHash(header);
  const block = { height, hash: toHex(hash), prevHash: head.hash, header, size: n, sealedAt: 1_800_000_000 };
  return { block, entries, batchLevels: levels, historyHashes: appendHashes(height, hash, await store.readHistoryHashes(appendRefs(height))) };
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** Ids and digests as their columns hold them. */
function randomBlob(bytes: number): ArrayBuffer {
  return new Uint8Array(randomBytes(bytes)).buffer;
}

export default defineSuite({
  name: "cost",
  description: "CPU per anchored entry summed over the operator and its three witness processes, submit → final, against the cryptographic floor timed in the same run",
  async run(ctx) {
    const n = Math.round(20_000 * ctx.timeScale);
    // BENCH_COST_ONLY=single|bulk|pages|statements|growth runs one of them, for A/B runs of a change.
    const only = process.env.BENCH_COST_ONLY;
    if (only === undefined || only === "single" || only === "bulk") ctx.section("CPU per entry, every process of the embedded default, submit → final (idle cost subtracted)");
    if (only === undefined || only === "single") await perEntry(ctx, "single", { rate: 500, count: n, batch: 1 });
    if (only === undefined || only === "bulk") await perEntry(ctx, "bulk", { rate: 5_000, count: n * 2, batch: 1000 });
    if (only === undefined || only === "pages") {
      ctx.section("Serving a witness a page of entries: the operator's CPU per entry and witness");
      await pageServing(ctx);
    }
    if (only === undefined || only === "statements") {
      ctx.section("An embedded file's statements on the submit path: @libsql/client against statements kept");
      await statementCost(ctx);
    }
    if (only === undefined || only === "growth") {
      ctx.section("Storing a 100,000-entry block as the log grows");
      await storeGrowth(ctx, "replica");
      await storeGrowth(ctx, "primary");
    }
  },
});
