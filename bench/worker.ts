/**
 * Edge benchmarks (issue 4): the Worker bundle under local workerd
 * (Miniflare 3, the runtime `wrangler dev` uses) with a D1 primary and three
 * member witnesses, next to the Node runtime measured the same way in the
 * same run.
 *
 * What changed with the member witnesses (the operator no longer holds
 * members' keys nor writes their replicas): the Worker no longer writes three
 * member D1 databases in each seal; it asks each member's witness over HTTP
 * (C2SP tlog-witness add-checkpoint), and each witness reads the new block
 * back from the Worker, verifies every entry and stores it in its own libSQL
 * file before cosigning. The witnesses run in this process, started as
 * test/worker/harness.ts starts them (startMember on 127.0.0.1), so their
 * verification shares this process's core with the load generator. The
 * figures keep their meaning: submissions/s and receipts/s are the Worker's
 * routes; "cron seals" is still the time from pending to final per block,
 * which now includes the witnesses' reads and checks instead of the member
 * D1 writes. On Node the embedded default's witnesses are processes of
 * their own (src/runtime/dev-members.ts).
 *
 *  - bundle: size as `wrangler deploy --dry-run` builds it, gzipped;
 *  - cold start: workerd start with the bundle (parse and compile included)
 *    against a one-line Worker, then the first request (config parsed,
 *    keys imported, first D1 queries) and a warm one;
 *  - signed submissions/s and receipts/s over workerd's HTTP socket, and the
 *    same on Node (embedded libSQL, its own process), 32 connections;
 *  - entries/s through the batch route; cron seals of full blocks (D1, then
 *    the witnesses' reads and checks).
 * Local workerd runs on this machine's cores beside the load generator and
 * its D1 is SQLite in the same process: these are not Cloudflare's numbers,
 * only a comparison of the two runtimes on one machine.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { newMiniflare } from "../test/worker/miniflare.js";
import { noteSigner, utf8, type NoteSigner } from "../src/core/index.js";
import { COMPATIBILITY_DATE, D1_DATABASES, makeWitnesses, ORIGIN, registerClient, settings, startWorkerd, type Workerd } from "../test/worker/harness.js";
import { defineSuite, formatMs, formatRate, type SuiteContext } from "./harness.js";
import { load, type LoadResult } from "./load.js";
import { signMany } from "./fixtures.js";

const CONNECTIONS = 32;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function line(label: string, r: LoadResult, unit = "req/s"): string {
  return `${label.padEnd(34)} ${formatRate(r.perSecond).padStart(7)} ${unit}, p50 ${formatMs(r.p50Ms)}, p99 ${formatMs(r.p99Ms)}  ${JSON.stringify(r.statuses)}`;
}

async function coldStart(ctx: SuiteContext): Promise<void> {
  ctx.section("Bundle and cold start under workerd");
  const runs = 3;
  const trivial: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    // The same D1 binding (the primary's), so only the script differs.
    const mf = newMiniflare({ modules: true, script: "export default { fetch: () => new Response('ok') }", compatibilityDate: COMPATIBILITY_DATE, cf: false, d1Databases: { ...D1_DATABASES } });
    await mf.ready;
    trivial.push(performance.now() - t0);
    await (await mf.dispatchFetch("http://x/")).text();
    await mf.dispose();
  }
  const starts: number[] = [];
  const firsts: number[] = [];
  const warms: number[] = [];
  let bundleLine = "";
  for (let i = 0; i < runs; i++) {
    const witnesses = await makeWitnesses(3);
    const w = await startWorkerd([{ name: "cairn", bindings: settings(witnesses, { CAIRN_CLIENT_RATE: "0" }) }], { witnesses });
    try {
      bundleLine = `bundle: ${kib(w.bundle.bytes)}, ${kib(w.bundle.gzipBytes)} gzipped (budget 1024 KiB)`;
      starts.push(w.startMs);
      let t0 = performance.now();
      await (await w.request("/healthz")).text();
      firsts.push(performance.now() - t0);
      t0 = performance.now();
      await (await w.request("/healthz")).text();
      warms.push(performance.now() - t0);
    } finally {
      await w.close();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  ctx.note(bundleLine);
  ctx.note(`workerd start → ready, one-line Worker:   median ${formatMs(median(trivial))} of ${runs} (same D1 bindings)`);
  ctx.note(`workerd start → ready, Cairn bundle:      median ${formatMs(median(starts))} (bundle parse + compile ≈ ${formatMs(median(starts) - median(trivial))})`);
  ctx.note(`first request (config, keys, D1):        median ${formatMs(median(firsts))}; warm request ${formatMs(median(warms))}`);
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly signer: NoteSigner;
  readonly origin: string;
}

async function throughput(ctx: SuiteContext, t: Target): Promise<{ submit: LoadResult; receipts: LoadResult }> {
  const seconds = 8 * ctx.timeScale;
  const notes = await signMany(t.signer, t.origin, Math.ceil(3000 * seconds), `${t.name} single`);
  const ids: string[] = [];
  const submit = await load(
    t.url,
    (i) => (i < notes.length ? { method: "POST", path: "/v1/anchors", body: JSON.stringify({ submission: notes[i] }) } : undefined),
    { connections: CONNECTIONS, durationMs: seconds * 1000 },
  );
  ctx.note(line(`${t.name}: POST /v1/anchors (signed)`, submit));
  // Sealed entries to fetch receipts for: the first ones submitted, once final.
  for (const note of notes.slice(0, 200)) {
    const res = await fetch(`${t.url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission: note }) });
    ids.push(((await res.json()) as { id: string }).id);
  }
  const until = Date.now() + 60_000;
  while ((await fetch(`${t.url}/v1/anchors/${ids.at(-1)}/receipt`)).status !== 200) {
    if (Date.now() > until) throw new Error(`${t.name}: entries not sealed within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const receipts = await load(t.url, (i) => ({ method: "GET", path: `/v1/anchors/${ids[i % ids.length]}/receipt` }), { connections: CONNECTIONS, durationMs: seconds * 1000 });
  ctx.note(line(`${t.name}: GET /v1/anchors/{id}/receipt`, receipts));
  return { submit, receipts };
}

async function worker(ctx: SuiteContext): Promise<{ submit: LoadResult; receipts: LoadResult }> {
  ctx.section(`Through the Worker (local workerd, D1 primary + 3 member witnesses in this process, seal interval 1 s, blocks ≤ 2,500 entries, ${CONNECTIONS} connections)`);
  // As wrangler.toml deploys it: blocks of at most 2,500 entries (one D1 batch each).
  const witnesses = await makeWitnesses(3);
  const w: Workerd = await startWorkerd([{ name: "cairn", bindings: settings(witnesses, { CAIRN_BATCH_LIMIT: "2500", CAIRN_CLIENT_RATE: "0" }) }], { witnesses });
  try {
    const client = await registerClient(w);
    await w.scheduled();
    const result = await throughput(ctx, { name: "Worker", url: w.url, signer: client.signer, origin: ORIGIN });

    const batches = await signMany(client.signer, ORIGIN, 1000 * Math.ceil(20 * ctx.timeScale), "bulk");
    const bulk = await load(
      w.url,
      (i) => ((i + 1) * 1000 <= batches.length ? { method: "POST", path: "/v1/anchors/batch", body: JSON.stringify({ submissions: batches.slice(i * 1000, (i + 1) * 1000) }) } : undefined),
      { connections: 4, durationMs: 8000 * ctx.timeScale },
    );
    ctx.note(`Worker: POST /v1/anchors/batch ×1000   ${formatRate(bulk.perSecond * 1000)} entries/s (p50 ${formatMs(bulk.p50Ms)} a batch) ${JSON.stringify(bulk.statuses)}`);

    // Whatever is still pending, sealed by cron runs of CAIRN_BATCH_LIMIT (2500) entries; each run
    // ends when every witness has answered (a quorum makes the block final; the third is awaited too).
    let blocks = 0;
    let entries = 0;
    const t0 = performance.now();
    for (;;) {
      const before = (await (await w.request("/healthz")).json()) as { blocks: number; pending: number };
      if (before.pending === 0) break;
      await w.scheduled();
      const after = (await (await w.request("/healthz")).json()) as { blocks: number; pending: number };
      blocks += after.blocks - before.blocks;
      entries += before.pending - after.pending;
    }
    const ms = performance.now() - t0;
    if (blocks > 0) ctx.note(`Worker: cron seals (D1 + witnesses): ${blocks} blocks, ${formatRate(entries)} entries in ${formatMs(ms)} (${formatRate((entries / ms) * 1000)} entries/s, ${formatMs(ms / blocks)} a block)`);
    return result;
  } finally {
    await w.close();
  }
}

async function node(ctx: SuiteContext): Promise<{ submit: LoadResult; receipts: LoadResult }> {
  ctx.section(`The same on Node (embedded libSQL, synchronous=FULL, own process, 3 member witnesses in processes of their own, ${CONNECTIONS} connections)`);
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-edge-node-"));
  const child = spawn(process.execPath, ["--import", "tsx", "bench/service-server.ts", dir], { cwd: new URL("..", import.meta.url), stdio: ["ignore", "pipe", "inherit"] });
  try {
    const info = await new Promise<{ url: string }>((resolve, reject) => {
      // The embedded default's witnesses print to the same stdout, each line prefixed with the
      // member's name; the server's one line is the JSON one. Lines after it are read and dropped.
      createInterface({ input: child.stdout! }).on("line", (l) => l.startsWith("{") && resolve(JSON.parse(l) as { url: string }));
      child.once("exit", (code) => reject(new Error(`node server exited with ${code}`)));
    });
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const origin = ((await (await fetch(`${info.url}/v1/trust`)).json()) as { origin: string }).origin;
    return await throughput(ctx, { name: "Node", url: info.url, signer, origin });
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default defineSuite({
  name: "worker",
  description: "the Worker under local workerd: bundle size, cold start, submissions/s and receipts/s next to Node, batch entries/s, seals (D1 + member witnesses)",
  async run(ctx) {
    await coldStart(ctx);
    const w = await worker(ctx);
    const n = await node(ctx);
    ctx.section("Side by side (req/s, p50)");
    ctx.note(`| route | Worker (workerd + D1) | Node (libSQL files) |`);
    ctx.note(`| --- | --- | --- |`);
    ctx.note(`| POST /v1/anchors | ${formatRate(w.submit.perSecond)}/s, ${formatMs(w.submit.p50Ms)} | ${formatRate(n.submit.perSecond)}/s, ${formatMs(n.submit.p50Ms)} |`);
    ctx.note(`| GET receipt | ${formatRate(w.receipts.perSecond)}/s, ${formatMs(w.receipts.p50Ms)} | ${formatRate(n.receipts.perSecond)}/s, ${formatMs(n.receipts.p50Ms)} |`);
  },
});
