/**
 * Benchmark harness: suite registration, a timing helper and the report
 * format. Suites are modules that default-export a `Suite`; bench/run.ts maps
 * names to them. Nothing here knows about Cairn, so service and edge suites
 * can reuse it unchanged.
 *
 * Timing model: a benchmark is a function doing `opsPerCall` operations per
 * call (sync or async). It is warmed up (so V8 has optimised it and caches
 * are hot), then called until both a minimum time and a minimum number of
 * calls are reached. Sync functions are timed in chunks, because reading the
 * clock around a sub-microsecond call would be most of what is measured;
 * latency benches time each call and report p50/p99. With `concurrency` > 1,
 * that many "lanes" each await calls back to back, so exactly that many are
 * in flight at any time (no Promise.all barriers idling between rounds).
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

export interface BenchOptions {
  /** Warm-up: calls made before measuring (default: as many as fit in `warmupMs`). */
  readonly warmup?: number;
  /** Warm-up time when `warmup` is not given (default 200 ms). */
  readonly warmupMs?: number;
  /** Measure for at least this long (default 1000 ms)... */
  readonly minTime?: number;
  /** ...and at least this many calls (default 5). */
  readonly minIterations?: number;
  /** Stop after this many calls even if minTime is not reached (default: no limit). */
  readonly maxIterations?: number;
  /** Operations done by one call, e.g. a call that verifies 100 proofs (default 1). */
  readonly opsPerCall?: number;
  /** Also print units/s, e.g. { count: 1_000_000, name: "leaves" } for a 1M-leaf root per op. */
  readonly units?: { readonly count: number; readonly name: string };
  /** Time every call and report p50/p99 (forced on when concurrency > 1). */
  readonly latency?: boolean;
  /** Calls kept in flight at once (async functions only; default 1). */
  readonly concurrency?: number;
}

export interface BenchResult {
  readonly name: string;
  /** Operations per second (calls/s × opsPerCall). */
  readonly opsPerSec: number;
  /** Mean wall time per operation, ms. */
  readonly meanMs: number;
  /** Per-call latency percentiles, ms (latency benches only). */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly calls: number;
  readonly elapsedMs: number;
  readonly unitsPerSec?: number;
  readonly unitName?: string;
}

export interface SuiteContext {
  /** Runs and prints one benchmark. */
  bench(name: string, fn: () => unknown, options?: BenchOptions): Promise<BenchResult>;
  /**
   * Times a single call, no warm-up: for one-shot jobs too long to repeat
   * (building a large store). Only `opsPerCall` and `units` apply.
   */
  once(name: string, fn: () => unknown, options?: Pick<BenchOptions, "opsPerCall" | "units">): Promise<BenchResult>;
  /** Prints a free-form line (a check, a comparison, a note) in the suite's output. */
  note(text: string): void;
  /** Prints a sub-heading. */
  section(title: string): void;
  /** Scale applied to every minTime / warmupMs (run.ts sets it from --quick). */
  readonly timeScale: number;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(ctx: SuiteContext): Promise<void>;
}

/** Identity helper so suite modules get type checking: `export default defineSuite({...})`. */
export function defineSuite(suite: Suite): Suite {
  return suite;
}

// ---------------------------------------------------------------------------
// Machine facts.

export function machineFacts(): string[] {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(" / ") || "unknown";
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  return [
    `date:     ${new Date().toISOString()}`,
    // Virtual machines often report 0 MHz; print the clock only when known.
    `cpu:      ${models} (${cpus.length} logical cores${cpus[0]?.speed ? `, ${cpus[0].speed} MHz` : ""})`,
    `memory:   ${gib(os.totalmem())} total, ${gib(os.freemem())} free`,
    `runtime:  Node ${process.version}, V8 ${process.versions.v8}, ${process.platform}/${process.arch}`,
    `load avg: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (1/5/15 min, before the run)`,
  ];
}

// ---------------------------------------------------------------------------
// Formatting.

/** 3 significant digits, thousands separated: figures that read well in a table. */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  // toPrecision(3) of 999.6 would print "1.00e+3": round to an integer first there.
  if (x >= 999.5) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(3);
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  if (ms >= 1) return `${ms.toPrecision(3)} ms`;
  if (ms >= 0.001) return `${(ms * 1000).toPrecision(3)} µs`;
  return `${(ms * 1e6).toPrecision(3)} ns`;
}

function report(r: BenchResult): string {
  const parts = [`${formatRate(r.opsPerSec)} ops/s`, `mean ${formatMs(r.meanMs)}`];
  if (r.p50Ms !== undefined && r.p99Ms !== undefined) parts.push(`p50 ${formatMs(r.p50Ms)}`, `p99 ${formatMs(r.p99Ms)}`);
  if (r.unitsPerSec !== undefined) parts.push(`${formatRate(r.unitsPerSec)} ${r.unitName}/s`);
  parts.push(`(${r.calls} calls, ${formatMs(r.elapsedMs)})`);
  return `  ${r.name.padEnd(64)} ${parts.join("  ")}`;
}

// ---------------------------------------------------------------------------
// Timing.

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";
}

/** Growable list of per-call times, without boxing a number per call. */
class Samples {
  private data = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  /** Nearest-rank percentile (p in [0, 100]). */
  percentiles(ps: readonly number[]): number[] {
    const sorted = this.data.slice(0, this.length).sort();
    return ps.map((p) => sorted[Math.min(this.length - 1, Math.max(0, Math.ceil((p / 100) * this.length) - 1))]!);
  }
}

// Results are written here so V8 cannot drop a call whose value is unused.
let sink: unknown;
/** For benches that want to keep a value alive explicitly. */
export function consume(x: unknown): void {
  sink = x;
}

// A full collection before each measurement, so garbage left by the previous
// bench (a million-leaf tree is hundreds of MB of Buffers) is not collected
// on the next one's clock. Exposing gc at run time avoids needing
// --expose-gc on the command line (npm run bench runs plain tsx); the flag
// only becomes visible to contexts created after it is set.
let fullGc: (() => void) | undefined;
try {
  v8.setFlagsFromString("--expose-gc");
  fullGc = vm.runInNewContext("gc") as () => void;
} catch {
  fullGc = undefined;
}

export function collectGarbage(): void {
  fullGc?.();
}

interface Plan {
  readonly minTime: number;
  readonly minIterations: number;
  readonly maxIterations: number;
}

/** Sync, throughput only: doubling chunks between clock reads, so the clock costs nothing. */
function timeSyncChunks(fn: () => unknown, plan: Plan): { calls: number; elapsed: number } {
  let calls = 0;
  let elapsed = 0;
  let chunk = 1;
  while ((elapsed < plan.minTime || calls < plan.minIterations) && calls < plan.maxIterations) {
    const n = Math.min(chunk, plan.maxIterations - calls);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink = fn();
    const dt = performance.now() - t0;
    elapsed += dt;
    calls += n;
    // Aim for ~20 ms per chunk: long enough to hide the clock, short enough
    // to stop close to minTime.
    if (dt < 20) chunk *= 2;
  }
  return { calls, elapsed };
}

/** Sync with per-call latency. */
function timeSyncEach(fn: () => unknown, plan: Plan, samples: Samples): { calls: number; elapsed: number } {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while ((now - start < plan.minTime || calls < plan.minIterations) && calls < plan.maxIterations) {
    const t0 = now;
    sink = fn();
    now = performance.now();
    samples.push(now - t0);
    calls++;
  }
  return { calls, elapsed: now - start };
}

/** Async: `lanes` loops each awaiting one call at a time, all timed per call. */
async function timeAsync(
  fn: () => unknown,
  plan: Plan,
  lanes: number,
  samples: Samples,
): Promise<{ calls: number; elapsed: number }> {
  let started = 0;
  let finished = 0;
  const start = performance.now();
  const more = () => (performance.now() - start < plan.minTime || started < plan.minIterations) && started < plan.maxIterations;
  const lane = async () => {
    while (more()) {
      started++;
      const t0 = performance.now();
      sink = await fn();
      samples.push(performance.now() - t0);
      finished++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { calls: finished, elapsed: performance.now() - start };
}

async function warm(fn: () => unknown, count: number | undefined, ms: number, lanes: number): Promise<void> {
  const start = performance.now();
  let done = 0;
  const more = () => (count === undefined ? performance.now() - start < ms || done < 1 : done < count);
  const lane = async () => {
    while (more()) {
      done++;
      const r = fn();
      sink = isThenable(r) ? await r : r;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
}

export async function runBench(name: string, fn: () => unknown, options: BenchOptions = {}, timeScale = 1): Promise<BenchResult> {
  const lanes = options.concurrency ?? 1;
  const plan: Plan = {
    minTime: (options.minTime ?? 1000) * timeScale,
    minIterations: options.minIterations ?? 5,
    maxIterations: options.maxIterations ?? Number.POSITIVE_INFINITY,
  };

  collectGarbage();
  // One probing call tells sync from async; it counts as warm-up.
  const probe = fn();
  const isAsync = isThenable(probe);
  sink = isAsync ? await probe : probe;
  if (lanes > 1 && !isAsync) throw new Error(`bench "${name}": concurrency needs an async function`);
  await warm(fn, options.warmup === undefined ? undefined : Math.max(0, options.warmup - 1), (options.warmupMs ?? 200) * timeScale, lanes);

  collectGarbage();
  const samples = new Samples();
  const wantLatency = options.latency === true || lanes > 1;
  const { calls, elapsed } = isAsync
    ? await timeAsync(fn, plan, lanes, samples)
    : wantLatency
      ? timeSyncEach(fn, plan, samples)
      : timeSyncChunks(fn, plan);

  const opsPerCall = options.opsPerCall ?? 1;
  const ops = calls * opsPerCall;
  const opsPerSec = (ops / elapsed) * 1000;
  const [p50, p99] = wantLatency ? samples.percentiles([50, 99]) : [];
  return {
    name,
    opsPerSec,
    meanMs: elapsed / ops,
    ...(wantLatency ? { p50Ms: p50!, p99Ms: p99! } : {}),
    calls,
    elapsedMs: elapsed,
    ...(options.units ? { unitsPerSec: opsPerSec * options.units.count, unitName: options.units.name } : {}),
  };
}

export async function runOnce(
  name: string,
  fn: () => unknown,
  options: Pick<BenchOptions, "opsPerCall" | "units"> = {},
): Promise<BenchResult> {
  collectGarbage();
  const t0 = performance.now();
  const r = fn();
  sink = isThenable(r) ? await r : r;
  const elapsed = performance.now() - t0;
  const ops = options.opsPerCall ?? 1;
  const opsPerSec = (ops / elapsed) * 1000;
  return {
    name,
    opsPerSec,
    meanMs: elapsed / ops,
    calls: 1,
    elapsedMs: elapsed,
    ...(options.units ? { unitsPerSec: opsPerSec * options.units.count, unitName: options.units.name } : {}),
  };
}

/** A context that prints to stdout and collects results. */
export function consoleContext(timeScale = 1): SuiteContext & { readonly results: BenchResult[] } {
  const results: BenchResult[] = [];
  return {
    results,
    timeScale,
    async bench(name, fn, options) {
      const r = await runBench(name, fn, options, timeScale);
      results.push(r);
      console.log(report(r));
      return r;
    },
    async once(name, fn, options) {
      const r = await runOnce(name, fn, options);
      results.push(r);
      console.log(report(r));
      return r;
    },
    note(text) {
      for (const line of text.split("\n")) console.log(`  · ${line}`);
    },
    section(title) {
      console.log(`\n## ${title}`);
    },
  };
}
