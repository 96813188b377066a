/**
 * What an anchor costs on Cloudflare (issue 12.5): D1 rows read and rows
 * written per anchored entry on the operator's primary and on a member's
 * witness replica, D1 calls and subrequests per request and per seal, and
 * workerd's CPU per submission and per seal, with the bill for a million
 * anchors a month worked out from Cloudflare's published prices
 * (docs/BENCHMARKS.md "What an anchor costs on Cloudflare" cites them).
 *
 * The operator is the Worker bundle `wrangler deploy --dry-run` makes, with
 * a D1 primary; member 1 is the member Worker bundle (wrangler.member.toml)
 * with a D1 replica, in a workerd of its own; members 2 and 3 are Node
 * witnesses (test/worker/harness.ts), so that the quorum is the real one.
 * Both Workers run behind bench/d1-meter-worker.ts, which sums D1's own
 * `meta.rows_read` / `meta.rows_written` (what D1 bills) and counts calls
 * and outgoing fetches. Row counts do not depend on the machine; CPU times
 * do, and local workerd runs D1's SQLite in its own process, so its CPU is
 * an upper bound on what the Worker itself is billed for.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { D1Database } from "@cloudflare/workers-types";
import { transformSync } from "esbuild";
import type { Miniflare } from "miniflare";
import { cachedWorkerBundle, ROOT } from "../scripts/wrangler.js";
import { bundleModules, COMPATIBILITY_DATE, makeWitnesses, memberName, memberSignerKey, migrate, operatorVerifierKey, ORIGIN, registerClient, settings, startWorkerd, type Workerd } from "../test/worker/harness.js";
import { newMiniflare } from "../test/worker/miniflare.js";
import { signMany } from "./fixtures.js";
import { defineSuite, formatMs, type SuiteContext } from "./harness.js";
import { load } from "./load.js";
import { childPids, cpuMs, memoryMiB } from "./proc.js";

interface Tally {
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly calls: number;
  readonly statements: number;
}
interface Meter {
  readonly subrequests: number;
  readonly d1: Record<string, Tally>;
}

const METER_ENTRY = transformSync(readFileSync(join(ROOT, "bench", "d1-meter-worker.ts"), "utf8"), { loader: "ts", format: "esm" }).code;

async function meter(get: (path: string, init?: RequestInit) => Promise<Response>, reset = false): Promise<Meter> {
  if (reset) {
    await get("/__meter/reset", { method: "POST" });
    return { subrequests: 0, d1: {} };
  }
  return (await (await get("/__meter")).json()) as Meter;
}

const ZERO: Tally = { rowsRead: 0, rowsWritten: 0, calls: 0, statements: 0 };
const tally = (m: Meter, binding: string): Tally => m.d1[binding] ?? ZERO;

/** The workerd processes Miniflare started since `before` (each Miniflare runs one). */
function newWorkerd(before: ReadonlySet<number>): number {
  const pids = childPids(process.pid).filter((p) => !before.has(p.pid) && p.cmdline.includes("workerd"));
  if (pids.length !== 1) throw new Error(`expected one new workerd process, found ${pids.length}`);
  return pids[0]!.pid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Phase {
  readonly label: string;
  readonly entries: number;
  readonly primary: Tally;
  readonly member: Tally;
  readonly operatorSubrequests: number;
  readonly memberSubrequests: number;
  readonly operatorCpuMs: number;
  readonly memberCpuMs: number;
}

function perEntry(n: number, of: number): string {
  return (n / of).toFixed(2);
}

async function run(ctx: SuiteContext): Promise<void> {
  // BENCH_D1_ENTRIES: a block of another size (the largest-block question in docs/BENCHMARKS.md).
  const entries = Number(process.env.BENCH_D1_ENTRIES ?? Math.max(200, Math.round(2000 * ctx.timeScale)));
  ctx.section(`D1 rows, calls and CPU per anchored entry (${entries.toLocaleString("en")} single submissions, then one cron seal of them all; member 1 a Worker on D1)`);
  const operatorBundle = await cachedWorkerBundle();
  const memberBundle = await cachedWorkerBundle("wrangler.member.toml");
  const witnesses = await makeWitnesses(3);
  const [m1, ...nodeWitnesses] = witnesses;

  const beforeOp = new Set(childPids(process.pid).map((p) => p.pid));
  const w: Workerd = await startWorkerd(
    [{ name: "cairn", entry: METER_ENTRY, bindings: settings(witnesses, { CAIRN_BATCH_LIMIT: String(entries + 10), CAIRN_CLIENT_RATE: "0", CAIRN_SEAL_INTERVAL: "3600" }) }],
    { witnesses: nodeWitnesses },
  );
  const operatorPid = newWorkerd(beforeOp);
  const beforeMember = new Set(childPids(process.pid).map((p) => p.pid));
  const member = await startMemberWorker(memberBundle, m1!.port, w.url);
  const memberPid = newWorkerd(beforeMember);
  const opGet = (path: string, init?: RequestInit) => w.request(path, init as never);
  const memberGet = async (path: string, init?: RequestInit) => (await member.dispatchFetch(`http://127.0.0.1:${m1!.port}${path}`, init as never)) as unknown as Response;
  try {
    const client = await registerClient(w);
    await w.scheduled();
    await finalAt(w, memberGet, 1);
    const notes = await signMany(client.signer, ORIGIN, entries, "d1 cost");

    const phases: Phase[] = [];
    const measure = async (label: string, n: number, work: () => Promise<void>) => {
      await meter(opGet, true);
      await meter(memberGet, true);
      await sleep(200);
      const cpu0 = [cpuMs(operatorPid), cpuMs(memberPid)];
      await work();
      const cpu1 = [cpuMs(operatorPid), cpuMs(memberPid)];
      const [op, mem] = [await meter(opGet), await meter(memberGet)];
      phases.push({
        label,
        entries: n,
        primary: tally(op, "PRIMARY"),
        member: tally(mem, "REPLICA"),
        operatorSubrequests: op.subrequests,
        memberSubrequests: mem.subrequests,
        operatorCpuMs: cpu1[0]! - cpu0[0]!,
        memberCpuMs: cpu1[1]! - cpu0[1]!,
      });
    };

    await measure("submit (POST /v1/anchors, one entry a request)", entries, async () => {
      const r = await load(w.url, (i) => (i < notes.length ? { method: "POST", path: "/v1/anchors", body: JSON.stringify({ submission: notes[i] }) } : undefined), { connections: 8, durationMs: 600_000 });
      if (r.statuses["202"] !== entries) throw new Error(`submissions: ${JSON.stringify(r.statuses)}`);
      // The after-request seal check runs in waitUntil: let the last ones finish before the meters are read.
      await sleep(300);
    });
    const mem0 = memoryMiB(operatorPid);
    const t0 = performance.now();
    await measure(`cron seal of ${entries} entries, until final (quorum) and member 1 has cosigned`, entries, async () => {
      await w.scheduled();
      await finalAt(w, memberGet, 2);
    });
    const sealMs = performance.now() - t0;
    const mem1 = memoryMiB(operatorPid);

    ctx.note("| phase | primary rows read / entry | primary rows written / entry | primary D1 calls | member-1 rows read / entry | member-1 rows written / entry | member-1 D1 calls | subrequests (operator / member) | workerd CPU (operator / member) |");
    ctx.note("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const p of phases) {
      ctx.note(
        `| ${p.label} | ${perEntry(p.primary.rowsRead, p.entries)} | ${perEntry(p.primary.rowsWritten, p.entries)} | ${p.primary.calls} (${p.primary.statements} statements) | ${perEntry(p.member.rowsRead, p.entries)} | ${perEntry(p.member.rowsWritten, p.entries)} | ${p.member.calls} (${p.member.statements} statements) | ${p.operatorSubrequests} / ${p.memberSubrequests} | ${formatMs(p.operatorCpuMs)} / ${formatMs(p.memberCpuMs)} |`,
      );
    }
    const [submit, seal] = phases as [Phase, Phase];
    ctx.note(`seal wall time, cron event → member 1 cosigned: ${formatMs(sealMs)}`);
    // The isolate's heap is not visible from here; the process's peak RSS rising during the seal bounds what the seal added.
    ctx.note(`operator workerd memory: RSS ${mem0.rss.toFixed(0)} MiB before the seal, peak ${mem1.peak.toFixed(0)} MiB by its end (peak before: ${mem0.peak.toFixed(0)} MiB)`);
    ctx.note(`workerd CPU per submission (operator, D1's SQLite included): ${(submit.operatorCpuMs / entries * 1000).toFixed(0)} µs; per seal of ${entries}: ${formatMs(seal.operatorCpuMs)} (${(seal.operatorCpuMs / entries * 1000).toFixed(0)} µs an entry), member 1: ${(seal.memberCpuMs / entries * 1000).toFixed(0)} µs an entry`);
    const primaryWritten = (submit.primary.rowsWritten + seal.primary.rowsWritten) / entries;
    const primaryRead = (submit.primary.rowsRead + seal.primary.rowsRead) / entries;
    const memberWritten = (submit.member.rowsWritten + seal.member.rowsWritten) / entries;
    const memberRead = (submit.member.rowsRead + seal.member.rowsRead) / entries;
    ctx.note(`per anchored entry, submit + seal: primary ${primaryRead.toFixed(2)} rows read, ${primaryWritten.toFixed(2)} written; member 1's replica ${memberRead.toFixed(2)} read, ${memberWritten.toFixed(2)} written`);
    ctx.note(`JSON ${JSON.stringify({ entries, sealMs: Math.round(sealMs), primaryRead, primaryWritten, memberRead, memberWritten, submitCpuUs: (submit.operatorCpuMs / entries) * 1000, sealCpuMs: seal.operatorCpuMs, memberSealCpuMs: seal.memberCpuMs, sealCalls: seal.primary.calls, sealSubrequests: seal.operatorSubrequests, memberCalls: seal.member.calls, memberSubrequests: seal.memberSubrequests, rssBeforeMiB: Math.round(mem0.rss), peakAfterMiB: Math.round(mem1.peak) })}`);
  } finally {
    await w.close();
    await member.dispose();
    rmSync(m1!.dir, { recursive: true, force: true });
  }
}

/** Member 1 as its own Worker on D1, following the operator at `logUrl`, on the port the operator knows it by. */
async function startMemberWorker(bundle: Awaited<ReturnType<typeof cachedWorkerBundle>>, port: number, logUrl: string): Promise<Miniflare> {
  const mf = newMiniflare({
    workers: [
      {
        ...bundleModules(bundle, METER_ENTRY),
        name: "witness",
        compatibilityDate: COMPATIBILITY_DATE,
        d1Databases: { REPLICA: "replica" },
        bindings: {
          CAIRN_MEMBER_NAME: memberName(1),
          CAIRN_MEMBER_KEY: memberSignerKey(1),
          CAIRN_LOG_ORIGIN: ORIGIN,
          CAIRN_LOG_KEYS: operatorVerifierKey(),
          CAIRN_LOG_URL: logUrl,
          CAIRN_REPLICA_D1: "REPLICA",
          CAIRN_SYNC_BUDGET: "60",
        },
      },
    ],
    host: "127.0.0.1",
    port,
    cf: false,
  });
  await mf.ready;
  await migrate((await mf.getD1Database("REPLICA", "witness")) as unknown as D1Database);
  return mf;
}

/** Waits until the checkpoint of `size` blocks is final and member 1 (the D1 Worker) has cosigned it. */
async function finalAt(w: Workerd, memberGet: (path: string) => Promise<Response>, size: number): Promise<void> {
  const until = Date.now() + 300_000;
  for (;;) {
    const status = (await (await memberGet("/status")).json()) as { latest: { size: number } | null };
    const head = (await (await w.request("/healthz")).json()) as { finalSize?: number; blocks: number };
    if ((status.latest?.size ?? 0) >= size && head.blocks >= size) return;
    if (Date.now() > until) throw new Error(`not final at ${size} within 300 s: member 1 ${JSON.stringify(status)}, operator ${JSON.stringify(head)}`);
    await sleep(100);
  }
}

export default defineSuite({
  name: "d1",
  description: "what an anchor costs on Cloudflare: D1 rows read/written per entry (primary and a member's D1 replica), D1 calls and subrequests per seal, workerd CPU per submission and per seal",
  run,
});
