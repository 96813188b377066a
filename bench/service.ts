/**
 * Service benchmarks (issue 3): the numbers an operator sizes a deployment by.
 *
 *  - single signed submissions over loopback HTTP, 50 connections, next to a
 *    bare Hono JSON route in the same run (server in its own process);
 *  - bulk entries/s through POST /v1/anchors/batch;
 *  - single submissions' latency while another client sends batches;
 *  - time from submit to receipt at the default seal interval;
 *  - seal time for 10k and 100k pending entries with three member replicas;
 *  - receipts/s and p50 for entries of a 1M-entry block;
 *  - finality: submit → receipt carrying a quorum of cosignatures made by the
 *    member witness processes, idle and under ~1,000 submissions/s; a
 *    witness's verification throughput on one core and the bytes it pulls
 *    per entry.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  ClientRegistry,
  cosign,
  formatVerifierKey,
  KEY_TYPE_COSIGNATURE_V1,
  KeySchedule,
  formatBlockHeader,
  formatSignerKey,
  generateKeyPair,
  KEY_TYPE_ED25519,
  leafHash,
  merkleRoot,
  noteSigner,
  sha256,
  signClientRecord,
  toHex,
  utf8,
  verifyBlock,
  type NoteSigner,
} from "../src/core/index.js";
import { startNode } from "../src/runtime/node.js";
import { silentLogger } from "../src/service/log.js";
import type { NewPending } from "../src/store/types.js";
import { defineSuite, formatMs, formatRate, type SuiteContext } from "./harness.js";
import { load } from "./load.js";
import { getText, signMany, startServerProcess } from "./fixtures.js";


async function http(ctx: SuiteContext) {
  ctx.section("HTTP on loopback (server in its own process; embedded default: 3 witness processes, synchronous=FULL, seal every 1 s)");
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-"));
  const server = await startServerProcess(dir);
  try {
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const origin = ((await (await fetch(`${server.url}/v1/trust`)).json()) as { origin: string }).origin;
    const seconds = 10 * ctx.timeScale;
    const notes = await signMany(signer, origin, Math.ceil(8000 * seconds), "single");
    const body = (i: number) => JSON.stringify({ submission: notes[i % notes.length] });

    const bare = await load(server.bareUrl, (i) => ({ method: "POST", path: "/bare", body: body(i) }), { connections: 50, durationMs: seconds * 1000 });
    ctx.note(`bare Hono JSON POST:          ${formatRate(bare.perSecond)} req/s, p50 ${formatMs(bare.p50Ms)}, p99 ${formatMs(bare.p99Ms)}`);
    const single = await load(server.url, (i) => (i < notes.length ? { method: "POST", path: "/v1/anchors", body: body(i) } : undefined), {
      connections: 50,
      durationMs: seconds * 1000,
    });
    ctx.note(
      `POST /v1/anchors (signed):    ${formatRate(single.perSecond)} req/s, p50 ${formatMs(single.p50Ms)}, p99 ${formatMs(single.p99Ms)}, slowest ${formatMs(single.maxMs)}  statuses ${JSON.stringify(single.statuses)}`,
    );

    const batches = await signMany(signer, origin, 1000 * Math.ceil(60 * ctx.timeScale), "bulk");
    const batchBody = (i: number) => JSON.stringify({ submissions: batches.slice(i * 1000, (i + 1) * 1000) });
    const bulk = await load(server.url, (i) => ((i + 1) * 1000 <= batches.length ? { method: "POST", path: "/v1/anchors/batch", body: batchBody(i) } : undefined), {
      connections: 4,
      durationMs: seconds * 1000,
    });
    ctx.note(`POST /v1/anchors/batch ×1000: ${formatRate(bulk.perSecond * 1000)} entries/s (${formatRate(bulk.perSecond)} batches/s, p50 ${formatMs(bulk.p50Ms)})`);

    // Let the backlog seal before timing latency from submit to receipt.
    await new Promise((r) => setTimeout(r, 3000));
    const waits: number[] = [];
    const probes = await signMany(signer, origin, 15, "probe");
    for (const note of probes) {
      const t0 = performance.now();
      const { id } = (await (await fetch(`${server.url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission: note }) })).json()) as { id: string };
      while ((await fetch(`${server.url}/v1/anchors/${id}/receipt`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
      waits.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 137)); // spread submissions over the seal cycle
    }
    waits.sort((a, b) => a - b);
    ctx.note(`submit → receipt (polling every 20 ms): median ${formatMs(waits[Math.floor(waits.length / 2)]!)}, max ${formatMs(waits.at(-1)!)} over ${waits.length}`);

    await new Promise((r) => setTimeout(r, 3000));
    // Single submissions while another client sends batches: whether one
    // client's 1,000 items hold up everyone else's answers.
    const mixedSeconds = 8 * ctx.timeScale;
    const mixedNotes = await signMany(signer, origin, Math.ceil(3000 * mixedSeconds), "mixed single");
    const mixedBatches = await signMany(signer, origin, 1000 * Math.ceil(4 * mixedSeconds), "mixed bulk");
    const [beside, bulkBeside] = await Promise.all([
      load(server.url, (i) => (i < mixedNotes.length ? { method: "POST", path: "/v1/anchors", body: JSON.stringify({ submission: mixedNotes[i] }) } : undefined), {
        connections: 8,
        durationMs: mixedSeconds * 1000,
      }),
      load(
        server.url,
        (i) => ((i + 1) * 1000 <= mixedBatches.length ? { method: "POST", path: "/v1/anchors/batch", body: JSON.stringify({ submissions: mixedBatches.slice(i * 1000, (i + 1) * 1000) }) } : undefined),
        { connections: 2, durationMs: mixedSeconds * 1000 },
      ),
    ]);
    ctx.note(
      `POST /v1/anchors, 8 connections, beside batches on 2: ${formatRate(beside.perSecond)} req/s, p50 ${formatMs(beside.p50Ms)}, p99 ${formatMs(beside.p99Ms)}, slowest ${formatMs(beside.maxMs)}; batches ${formatRate(bulkBeside.perSecond * 1000)} entries/s, p50 ${formatMs(bulkBeside.p50Ms)}  statuses ${JSON.stringify(beside.statuses)} ${JSON.stringify(bulkBeside.statuses)}`,
    );
  } finally {
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Submit → receipt (final: a quorum of witness cosignatures), `n` probes spread over the seal cycle. */
async function probeFinality(url: string, signer: NoteSigner, origin: string, n: number, tag: string): Promise<number[]> {
  const waits: number[] = [];
  const probes = await signMany(signer, origin, n, tag);
  for (const note of probes) {
    const t0 = performance.now();
    const { id } = (await (await fetch(`${url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission: note }) })).json()) as { id: string };
    while ((await fetch(`${url}/v1/anchors/${id}/receipt`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
    waits.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 113));
  }
  return waits.sort((a, b) => a - b);
}

export async function finality(ctx: SuiteContext) {
  ctx.section("Finality with member witnesses as processes of their own (embedded default, seal every 1 s, quorum 2 of 3)");
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-final-"));
  const server = await startServerProcess(dir);
  try {
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const origin = ((await (await fetch(`${server.url}/v1/trust`)).json()) as { origin: string }).origin;
    const probes = Math.max(10, Math.round(40 * ctx.timeScale));
    const idle = await probeFinality(server.url, signer, origin, probes, "final idle");
    ctx.note(`idle: submit → final receipt median ${formatMs(percentile(idle, 0.5))}, p99 ${formatMs(percentile(idle, 0.99))} over ${idle.length}`);

    // ~1,000 submissions/s in the background (open loop: 20 every 20 ms), probes meanwhile.
    const background = await signMany(signer, origin, Math.ceil(1000 * (probes * 1.3 + 5)), "final load");
    let sent = 0;
    let failed = 0;
    const outcomes: Record<string, number> = {};
    const count = (what: string) => void (outcomes[what] = (outcomes[what] ?? 0) + 1);
    const timer = setInterval(() => {
      for (let i = 0; i < 20 && sent < background.length; i++, sent++) {
        void fetch(`${server.url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission: background[sent] }) })
          .then((r) => {
            count(String(r.status));
            if (r.status !== 202) failed++;
            return r.body?.cancel();
          })
          .catch((e: Error) => {
            failed++;
            count(`error: ${(e.cause as Error | undefined)?.message ?? e.message}`);
          });
      }
    }, 20);
    const t0 = performance.now();
    const loaded = await probeFinality(server.url, signer, origin, probes, "final loaded");
    clearInterval(timer);
    const rate = (sent / (performance.now() - t0)) * 1000;
    ctx.note(`under ${formatRate(rate)} submissions/s: median ${formatMs(percentile(loaded, 0.5))}, p99 ${formatMs(percentile(loaded, 0.99))} over ${loaded.length}; ${failed} background submissions not accepted ${JSON.stringify(outcomes)}`);

    // What a witness pulls: the entries pages of the newest blocks, per entry (as the admin: entries are not public).
    const admin = { headers: { Authorization: `Bearer ${readFileSync(join(dir, "admin-token"), "utf8").trim()}` } };
    const head = ((await (await fetch(`${server.url}/healthz`)).json()) as { blocks: number }).blocks;
    let bytes = 0;
    let entries = 0;
    for (let h = Math.max(0, head - 5); h < head; h++) {
      bytes += (await (await fetch(`${server.url}/v1/blocks/${h}`)).text()).length;
      for (let offset: number | null = 0; offset !== null; ) {
        const page = await (await fetch(`${server.url}/v1/blocks/${h}/entries?offset=${offset}&limit=1000`, admin)).text();
        bytes += page.length;
        const parsed = JSON.parse(page) as { entries: unknown[]; next: number | null };
        entries += parsed.entries.length;
        offset = parsed.next;
      }
    }
    ctx.note(`a witness pulls ${formatRate(bytes / Math.max(1, entries))} bytes per entry (JSON pages of 1,000 and the header, last ${Math.min(5, head)} blocks)`);
  } finally {
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function witnessVerification(ctx: SuiteContext) {
  ctx.section("A witness verifying a block (core/verify-block.ts, in-process, one core)");
  const origin = "bench.localhost/log";
  const operator = generateKeyPair(origin, sha256(utf8("bench operator")), KEY_TYPE_ED25519);
  const client = generateKeyPair("bench.localhost/client", sha256(utf8("bench client")), KEY_TYPE_ED25519);
  const record = await signClientRecord({ origin, action: "register", key: client.verifierKey, time: 1_800_000_000 }, noteSigner(operator.signerKey));
  const n = ctx.timeScale < 1 ? 5_000 : 20_000;
  const entries = [record, ...(await signMany(noteSigner(client.signerKey), origin, n, "verify"))];
  const leaves = new Uint8Array(entries.length * 32);
  entries.forEach((e, i) => leaves.set(leafHash(utf8(e)), i * 32));
  const header = formatBlockHeader({ origin, height: 0, prevHash: new Uint8Array(32), size: entries.length, root: merkleRoot(entries.map((e) => leafHash(utf8(e)))), sealedAt: Math.floor(Date.now() / 1000) });
  const t0 = performance.now();
  await verifyBlock(undefined, header, entries, ClientRegistry.empty(), { origin, keys: KeySchedule.pinned([operator.verifierKey]), now: Math.floor(Date.now() / 1000), maxSkewSeconds: 60, timeWindowSeconds: 1e9 });
  const ms = performance.now() - t0;
  ctx.note(`verifyBlock of ${formatRate(entries.length)} entries: ${formatMs(ms)} (${formatRate((entries.length / ms) * 1000)} entries/s; every client signature checked)`);
}

/** Well-formed signed entries inserted straight into pending, as the submit path would leave them. */
async function pendingRows(signer: NoteSigner, origin: string, n: number, tag: string): Promise<NewPending[]> {
  const notes = await signMany(signer, origin, n, tag);
  const now = Math.floor(Date.now() / 1000);
  return notes.map((entry, i) => ({ id: toHex(leafHash(utf8(entry))), entry, digest: toHex(sha256(utf8(`${tag} ${i}`))), client: "dev-client.localhost", receivedAt: now, promise: "" }));
}

async function seals(ctx: SuiteContext) {
  ctx.section("Seal, cosigned by three member witness processes (embedded libSQL files): until final, and where the time goes");
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-seal-"));
  const sealLines: Record<string, unknown>[] = [];
  const keep = (event: string, fields: Record<string, unknown> = {}) => void (event === "seal" && fields.height !== undefined && sealLines.push(fields));
  const log = { ...silentLogger, info: keep, warn: keep };
  // One client at full speed: its share would be the limit measured (CAIRN_CLIENT_RATE).
  const node = await startNode({ env: { CAIRN_DATA_DIR: dir, CAIRN_CLIENT_RATE: "0" }, port: 0, sealTimer: false, log });
  try {
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const { primary, config, members } = node.services.ctx;
    for (const n of [10_000, 100_000]) {
      const rows = await pendingRows(signer, config.origin, n, `seal ${n}`);
      for (let i = 0; i < rows.length; i += 5000) await primary.insertPending(rows.slice(i, i + 5000));
      const witnessesBefore = await Promise.all(members.map((m) => witnessPhases(m.witness)));
      const t0 = performance.now();
      const report = await node.sealer.seal();
      const ms = performance.now() - t0;
      // Not final within the seal (its wait for answers ran out): seal again, as the timer would, until it is.
      let final = report.final;
      while (!final) {
        await new Promise((r) => setTimeout(r, 250));
        final = (await node.sealer.seal()).final;
      }
      const finalMs = performance.now() - t0;
      const phases = sealLines.at(-1) ?? {};
      ctx.note(`seal of ${formatRate(n)} entries → block ${report.block?.height}, ${report.cosigners.length} cosignatures within the seal: ${formatMs(ms)} (${formatRate((n / ms) * 1000)} entries/s); final (a quorum cosigned) ${formatMs(finalMs)} after it began`);
      ctx.note(`  operator: take ${phases.takeMs} ms, build (tree, checkpoint) ${phases.buildMs} ms, commit ${phases.commitMs} ms, waiting for cosignatures ${phases.cosignMs} ms`);
      // A quorum is two of three: the third may still be catching up. Its phases are counted once it holds the block.
      const caughtUp = await Promise.all(members.map((m) => caughtUpWith(m.witness, report.block!.height + 1)));
      const witnessesAfter = await Promise.all(members.map((m) => witnessPhases(m.witness)));
      members.forEach((m, i) => {
        const d = (phase: string) => formatMs((witnessesAfter[i]![phase]! - witnessesBefore[i]![phase]!) * 1000);
        const when = caughtUp[i]! === 0 ? "held the block when it went final" : `held it ${formatMs(caughtUp[i]!)} after it went final`;
        ctx.note(`  witness ${m.name}: fetch ${d("fetch")}, verify ${d("verify")}, store ${d("store")}; ${when}`);
      });
    }
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the witness's replica holds `size` blocks: ms waited, 0 if it held them at once. */
async function caughtUpWith(url: string, size: number): Promise<number> {
  const t0 = performance.now();
  const held = async () => (JSON.parse(await getText(`${url}/status`)) as { replica: { size: number } }).replica.size >= size;
  if (await held()) return 0;
  while (!(await held())) await new Promise((r) => setTimeout(r, 100));
  return performance.now() - t0;
}

/** A witness's seconds spent catching up so far, by phase (cairn_witness_block_seconds_sum). */
async function witnessPhases(url: string): Promise<Record<string, number>> {
  const text = await getText(`${url}/metrics`);
  const sums: Record<string, number> = { fetch: 0, verify: 0, store: 0 };
  for (const m of text.matchAll(/^cairn_witness_block_seconds_sum\{phase="(\w+)"\} (\S+)$/gm)) sums[m[1]!] = Number(m[2]);
  return sums;
}

/**
 * Single submissions while the seal of a large block runs: the block's
 * commit holds the primary's write lock for about a second, which a
 * submission queued in the same file waited out (an embedded primary now
 * queues them in its intake file). Reports the slowest call too: a closed
 * loop's p99 hides a stall, its lanes send nothing while they wait.
 */
async function submitDuringSeal(ctx: SuiteContext) {
  const n = ctx.timeScale < 1 ? 10_000 : 30_000;
  ctx.section(`Single submissions while a ${formatRate(n)}-entry block is sealed (server in its own process, 8 connections)`);
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-"));
  const server = await startServerProcess(dir, [], { CAIRN_SEAL_INTERVAL: "3600" });
  try {
    const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
    const origin = ((await (await fetch(`${server.url}/v1/trust`)).json()) as { origin: string }).origin;
    const admin = { Authorization: `Bearer ${readFileSync(join(dir, "admin-token"), "utf8").trim()}` };
    const queued = await signMany(signer, origin, n, "during seal, queued");
    const singles = await signMany(signer, origin, 20_000, "during seal, single");
    await load(server.url, (i) => ((i + 1) * 1000 <= queued.length ? { method: "POST", path: "/v1/anchors/batch", body: JSON.stringify({ submissions: queued.slice(i * 1000, (i + 1) * 1000) }) } : undefined), { connections: 4, durationMs: 600_000 });
    const t0 = performance.now();
    const sealed = fetch(`${server.url}/v1/admin/seal`, { method: "POST", headers: admin }).then(async (r) => ({ ms: performance.now() - t0, report: (await r.json()) as { block?: { size: number } } }));
    const r = await load(server.url, (i) => (i < singles.length ? { method: "POST", path: "/v1/anchors", body: JSON.stringify({ submission: singles[i] }) } : undefined), { connections: 8, durationMs: 6000 });
    const seal = await sealed;
    ctx.note(`seal of ${formatRate(seal.report.block?.size ?? 0)} entries (block, then witnesses' cosignatures): ${formatMs(seal.ms)}`);
    ctx.note(`POST /v1/anchors for the first 6 s of it: ${formatRate(r.perSecond)} req/s, p50 ${formatMs(r.p50Ms)}, p99 ${formatMs(r.p99Ms)}, slowest ${formatMs(r.maxMs)}  statuses ${JSON.stringify(r.statuses)}`);
  } finally {
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bigBlockReceipts(ctx: SuiteContext) {
  const n = ctx.timeScale < 1 ? 100_000 : 1_000_000;
  ctx.section(`Receipts for entries of a ${formatRate(n)}-entry block (primary only, in-process server, 50 connections)`);
  const dir = mkdtempSync(join(tmpdir(), "cairn-bench-big-"));
  const origin = "bench.localhost/log";
  // One member whose key the bench holds: it cosigns the block's checkpoint
  // here, in place of a witness process verifying a million entries first
  // (the seal finds its witness URL closed and leaves the block for it).
  const member = { name: "bench-member.localhost", seed: randomBytes(32) };
  const memberKey = formatVerifierKey(member.name, KEY_TYPE_COSIGNATURE_V1, ed25519.getPublicKey(member.seed));
  const node = await startNode({
    env: {
      CAIRN_MEMBERS: JSON.stringify([{ name: member.name, key: memberKey, witness: "http://127.0.0.1:9" }]),
      CAIRN_ORIGIN: origin,
      CAIRN_OPERATOR_KEY: formatSignerKey(origin, KEY_TYPE_ED25519, randomBytes(32)),
      CAIRN_PRIMARY_URL: pathToFileURL(join(dir, "primary.db")).href,
      CAIRN_ADMIN_TOKEN: randomBytes(16).toString("hex"),
      CAIRN_BATCH_LIMIT: String(n),
    },
    port: 0,
    sealTimer: false,
    durability: "normal",
    log: silentLogger,
  });
  try {
    const { primary } = node.services.ctx;
    // Entries shaped like real ones (same length), unsigned: receipts do not re-verify them.
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < n; i += 10_000) {
      const rows: NewPending[] = [];
      for (let j = i; j < Math.min(n, i + 10_000); j++) {
        const entry = `cairn/submission/v1\n${origin}\n${toHex(sha256(utf8(String(j))))}\n1800000000\n\n— bench.localhost/client ${Buffer.from(sha256(utf8(`s${j}`))).toString("base64")}${"A".repeat(56)}\n`;
        const id = toHex(leafHash(utf8(entry)));
        ids.push(id);
        rows.push({ id, entry, digest: id, client: "bench.localhost/client", receivedAt: 1_800_000_000, promise: "" });
      }
      await primary.insertPending(rows);
    }
    const t1 = performance.now();
    // The member cosigns the size-0 checkpoint of the first seal, so that a
    // block may follow it (a seal fails closed on a non-final head), then the block's.
    const cosignLatest = async () => {
      const checkpoint = (await primary.latestCheckpoint())!;
      const note = await cosign(checkpoint.note, member.seed, member.name, Math.floor(Date.now() / 1000));
      await primary.putCheckpoint({ ...checkpoint, note, cosigners: [member.name] });
      node.services.chain.refresh();
    };
    await cosignLatest();
    const report = await node.sealer.seal();
    await cosignLatest();
    ctx.note(`setup (block of ${formatRate(report.block?.size ?? 0)}): ${formatRate(n)} pending rows in ${formatMs(t1 - t0)}, sealed in ${formatMs(performance.now() - t1)}`);

    let k = 12345;
    const pick = () => ids[(k = (k * 1103515245 + 12345) % 2 ** 31) % ids.length]!;
    const r = await load(node.url, () => ({ method: "GET", path: `/v1/anchors/${pick()}/receipt` }), { connections: 50, durationMs: 8000 * ctx.timeScale });
    ctx.note(`GET /v1/anchors/{id}/receipt: ${formatRate(r.perSecond)} req/s, p50 ${formatMs(r.p50Ms)}, p99 ${formatMs(r.p99Ms)} ${JSON.stringify(r.statuses)}`);
    const one = await load(node.url, () => ({ method: "GET", path: `/v1/anchors/${pick()}/receipt` }), { connections: 1, durationMs: 3000 * ctx.timeScale });
    ctx.note(`  one connection (latency alone): p50 ${formatMs(one.p50Ms)}, p99 ${formatMs(one.p99Ms)}`);
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default defineSuite({
  name: "service",
  description: "the Node service: submissions over HTTP vs bare Hono, bulk, submit→receipt, finality with witness processes, witness verification, seal 10k/100k, receipts from a 1M block",
  async run(ctx) {
    const sections = { http, finality, witnessVerification, seals, submitDuringSeal, bigBlockReceipts };
    // BENCH_SERVICE_ONLY=seals,http runs only those sections (names as here).
    const only = process.env.BENCH_SERVICE_ONLY?.split(",");
    for (const [name, section] of Object.entries(sections)) if (only === undefined || only.includes(name)) await section(ctx);
  },
});
