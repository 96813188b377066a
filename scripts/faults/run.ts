/**
 * Runs the fault scenarios one after another against one deployment
 * (./deployment.ts), each under SDK load, and measures each: entries
 * acknowledged and refused, lost and doubled (both must be 0), the time
 * from the fault's end until every entry acknowledged before it was final,
 * and the full re-check (./recheck.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Deployment, sleep } from "./deployment.js";
import { Load } from "./load.js";
import { recheck, waitFinal, type Recheck } from "./recheck.js";
import { SCENARIOS, type Scenario, type ScenarioContext } from "./scenarios.js";

export interface FaultOptions {
  /** `npm test`'s size: the scenarios marked small, shorter holds and load, two operator kills. */
  readonly small: boolean;
  readonly only?: readonly string[];
  readonly seed?: number;
  readonly log?: (line: string) => void;
  /** Keep the data dir (for a look at the processes' logs). */
  readonly keep?: boolean;
}

export interface FaultRow {
  readonly name: string;
  readonly fault: string;
  readonly skipped?: string;
  readonly acked: number;
  readonly refused: ReadonlyMap<string, number>;
  readonly lost: number;
  readonly doubled: number;
  /** From the fault's end until every entry acknowledged before it was final; undefined if not within the scenario's limit. */
  readonly finalAgainMs: number | undefined;
  readonly recheck?: Recheck;
  readonly note: string;
  readonly ms: number;
}

export interface FaultRun {
  readonly rows: readonly FaultRow[];
  readonly startedAt: Date;
  readonly seconds: number;
  readonly primaryOn: string;
}

/** A seeded generator (mulberry32), so a run's random moments can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Unmounts the primary's tmpfs. Once, under the whole test suite's load, it
 * was still busy after every process was gone, held by this one (the files
 * its re-checks opened, though their stores were closed): a busy mount is
 * retried, then detached lazily, and the kernel frees it with its last
 * handle.
 */
async function unmount(at: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (spawnSync("umount", [at], { stdio: "ignore" }).status === 0) return;
    await sleep(500);
  }
  execFileSync("umount", ["-l", at], { stdio: "ignore" });
}

/** A tmpfs of its own for the primary, so that filling it fills nothing else; undefined where mounting is not allowed. */
function mountTmpfs(at: string): boolean {
  mkdirSync(at, { recursive: true });
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=512m,mode=0700", "tmpfs", at], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const isPass = (r: FaultRow) => r.skipped !== undefined || (r.lost === 0 && r.doubled === 0 && r.finalAgainMs !== undefined && r.recheck?.ok === true);

export async function runFaults(o: FaultOptions): Promise<FaultRun> {
  const log = o.log ?? (() => {});
  const scenarios = SCENARIOS.filter((s) => (o.only ? o.only.includes(s.name) : !o.small || s.small));
  if (o.only) for (const n of o.only) if (!SCENARIOS.some((s) => s.name === n)) throw new Error(`no scenario ${n} (known: ${SCENARIOS.map((s) => s.name).join(", ")})`);
  const root = mkdtempSync(join(os.tmpdir(), "cairn-faults-"));
  const primaryDir = join(root, "primary-fs");
  const mounted = mountTmpfs(primaryDir);
  const startedAt = new Date();
  const rows: FaultRow[] = [];
  let d: Deployment | undefined;
  // Ctrl-C mid-run: no process, mount or temp dir left behind (the operator processes would outlive this one).
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the deployment`);
    void (d?.close() ?? Promise.resolve()).finally(() => {
      if (mounted) spawnSync("umount", [primaryDir], { stdio: "ignore" });
      rmSync(root, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    d = await Deployment.start(join(root, "data"), primaryDir);
    log(`deployment up in ${root} (primary on ${mounted ? "a 512 MiB tmpfs of its own" : "the temp dir's filesystem"})`);
    const random = seeded(o.seed ?? 20261203);
    for (const s of scenarios) {
      const row = await runScenario(d, s, { small: o.small, random, primaryMount: mounted ? primaryDir : undefined, log });
      rows.push(row);
      log(`${isPass(row) ? "ok  " : "FAIL"} ${s.name}: ${row.skipped ? `skipped: ${row.skipped}` : `${row.acked} acked, ${row.lost} lost, ${row.doubled} doubled, final again ${row.finalAgainMs === undefined ? "not" : `${(row.finalAgainMs / 1000).toFixed(1)} s`}; ${row.recheck?.detail}; ${row.note}`}`);
    }
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await d?.close();
    if (mounted) await unmount(primaryDir);
    if (o.keep || !rows.every(isPass)) log(`data and process logs kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
  return { rows, startedAt, seconds: (Date.now() - startedAt.getTime()) / 1000, primaryOn: mounted ? "tmpfs" : "disk" };
}

async function runScenario(d: Deployment, s: Scenario, o: { small: boolean; random: () => number; primaryMount: string | undefined; log: (line: string) => void }): Promise<FaultRow> {
  const loads: Load[] = [];
  const ctx: ScenarioContext = {
    d,
    holdMs: o.small ? 1500 : 5000,
    kills: o.small ? 2 : 20,
    primaryMount: o.primaryMount,
    random: o.random,
    acked: () => loads.reduce((n, l) => n + l.acked.length, 0),
    load: (servers, loops) => {
      const l = new Load({ servers, clientKey: d.clientKey, label: s.name, ...(loops ? { loops } : {}) });
      loads.push(l);
      return l;
    },
  };
  const skipped = s.skip?.(ctx);
  if (skipped !== undefined) return { name: s.name, fault: s.fault, skipped, acked: 0, refused: new Map(), lost: 0, doubled: 0, finalAgainMs: undefined, note: "", ms: 0 };

  const t0 = Date.now();
  ctx.load([d.url], o.small ? 1 : 4);
  await sleep(500);
  const note = await s.run(ctx);
  // Final again: every entry acknowledged before the fault ended is in a cosigned checkpoint. The load goes on meanwhile for a second.
  const limit = s.finalWithinMs ?? 120_000;
  // Said before the wait, so that a run cut short (a test's timeout) shows which part of which scenario it was in.
  o.log(`..   ${s.name}: fault over after ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting until final again (at most ${limit / 1000} s)`);
  const before = loads.flatMap((l) => l.lastIds());
  const finalAgain = waitFinal(d.url, before, limit);
  await sleep(1000);
  await Promise.all(loads.map((l) => l.stop()));
  const finalAgainMs = await finalAgain;
  await waitFinal(d.url, loads.flatMap((l) => l.lastIds()), limit);

  const acked = loads.flatMap((l) => l.acked);
  const refused = new Map<string, number>();
  for (const l of loads) for (const [k, v] of l.refused) refused.set(k, (refused.get(k) ?? 0) + v);
  const checked = await recheck(d, acked);
  return { name: s.name, fault: s.fault, acked: new Set(acked).size, refused, lost: checked.lost, doubled: checked.doubled, finalAgainMs, recheck: checked, note, ms: Date.now() - t0 };
}
