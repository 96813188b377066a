/**
 * `npm run soak -- --minutes N [--rate R] [--sample-seconds S] [--record]`:
 * the embedded default as `npm start` runs it (the operator and its three
 * member witnesses, each a process, in a temporary data dir, on loopback
 * ports) under a fixed rate of signed submissions well below capacity, with
 * reads mixed in (receipts of earlier anchors, the checkpoint, /healthz),
 * for N minutes (issue 13.3).
 *
 * Every sample window (a minute by default) it prints: submissions
 * acknowledged, errors, p50/p99 of the submission's round trip, the median
 * submit → final receipt time of a sample of anchors, the most entries seen
 * pending, and the resident memory of each process. Then it judges the run
 * after its warm-up (the first window):
 *
 *  - memory flat: each process's RSS stays within max(32 MiB, 20 % of its
 *    median) — what a leak of even 1 KiB a submission would break within
 *    minutes at the default rate, while the page cache and V8's heap
 *    breathing stay inside it;
 *  - pending bounded: never more than 10 s of arrivals (a seal runs every
 *    second, so a growing backlog means sealing fell behind);
 *  - p99 stable: every window's p99 within 3× the median window's p99 and
 *    under 250 ms;
 *  - no errors: every submission 202, every read 200 (202 for a receipt not
 *    final yet), no transport error.
 *
 * Exit status 0 when every criterion passes, 1 otherwise. `--record` writes
 * the run into docs/RELIABILITY.md between its soak markers. Loopback only;
 * nothing is left behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CairnClient } from "../src/client/index.js";
import { utf8 } from "../src/core/bytes.js";
import { freePorts } from "../src/runtime/dev-members.js";
import { installNodeEd25519 } from "../src/runtime/node-ed25519.js";
import { memoryMiB, processTree } from "../bench/proc.js";
import { ROOT } from "./wrangler.js";

interface Options {
  readonly minutes: number;
  readonly rate: number;
  readonly sampleSeconds: number;
  readonly record: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (flag: string, fallback: number): number => {
    const at = argv.indexOf(flag);
    if (at === -1) return fallback;
    const n = Number(argv[at + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
    return n;
  };
  const known = new Set(["--minutes", "--rate", "--sample-seconds", "--record"]);
  for (const a of argv) if (a.startsWith("--") && !known.has(a)) throw new Error(`unknown flag ${a} (known: ${[...known].join(", ")})`);
  if (!argv.includes("--minutes")) throw new Error("usage: npm run soak -- --minutes N [--rate R] [--sample-seconds S] [--record]");
  return { minutes: value("--minutes", 10), rate: value("--rate", 200), sampleSeconds: value("--sample-seconds", 60), record: argv.includes("--record") };
}

async function startCairn(dir: string, port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/runtime/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, CAIRN_DATA_DIR: dir, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const m = /Cairn is serving \S+ at (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`npm start's process exited with ${code}: ${text}`)));
  });
  child.stderr!.resume();
  return { child, url };
}

/** The operator and its witnesses, by role: the witnesses name themselves in their environment. */
function roles(rootPid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, cmdline] of processTree(rootPid)) {
    if (pid === rootPid) out.set("operator", pid);
    else if (cmdline.includes("member-main")) {
      const name = /(?:^|\0)CAIRN_MEMBER_NAME=([^\0]*)/.exec(readFileSync(`/proc/${pid}/environ`, "utf8"))?.[1] ?? String(pid);
      out.set(name.replace(/\.localhost$/, ""), pid);
    }
  }
  return out;
}

const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Window {
  readonly at: number;
  ok: number;
  errors: number;
  reads: number;
  latencies: number[];
  finals: number[];
  pendingMax: number;
  rss: Record<string, number>;
}

async function soak(o: Options): Promise<boolean> {
  installNodeEd25519();
  const dir = mkdtempSync(join(os.tmpdir(), "cairn-soak-"));
  const port = await freePorts(4); // the operator's, then its three witnesses'
  const load0 = os.loadavg();
  const { child, url } = await startCairn(dir, port);
  const errors: string[] = [];
  try {
    const client = new CairnClient({ server: url, key: readFileSync(join(dir, "client.key"), "utf8").trim() });
    const procs = roles(child.pid!);
    if (procs.size !== 4) throw new Error(`expected the operator and three witnesses, found ${[...procs.keys()].join(", ")}`);

    const windows: Window[] = [];
    const newWindow = (): Window => {
      const w: Window = { at: windows.length, ok: 0, errors: 0, reads: 0, latencies: [], finals: [], pendingMax: 0, rss: {} };
      windows.push(w);
      return w;
    };
    let current = newWindow();
    const acked: string[] = [];
    const fail = (what: string) => {
      current.errors++;
      if (errors.length < 20) errors.push(what);
    };
    const inFlight = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };

    const submitOne = async (n: number) => {
      const prepared = await client.prepare(utf8(`soak ${process.pid} ${n} ${Date.now()}`));
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission: prepared.entry }) });
        await res.arrayBuffer();
        const w = current;
        if (res.status !== 202) return fail(`POST /v1/anchors: ${res.status}`);
        w.ok++;
        w.latencies.push(performance.now() - t0);
        acked.push(prepared.id);
        // One anchor in a hundred is followed to its final receipt.
        if (n % 100 === 0) track(followToFinal(prepared.id, t0));
      } catch (e) {
        fail(`POST /v1/anchors: ${(e as Error).message}`);
      }
    };
    const followToFinal = async (id: string, t0: number) => {
      for (;;) {
        const res = await fetch(`${url}/v1/anchors/${id}/receipt`).catch((e: Error) => e);
        if (res instanceof Error) return fail(`GET receipt: ${res.message}`);
        await res.arrayBuffer();
        if (res.status === 200) {
          current.finals.push(performance.now() - t0);
          return;
        }
        if (res.status !== 202) return fail(`GET receipt: ${res.status}`);
        await sleep(100);
      }
    };
    const read = async (path: string, ok: readonly number[]) => {
      try {
        const res = await fetch(`${url}${path}`);
        const body = await res.text();
        if (!ok.includes(res.status)) return fail(`GET ${path}: ${res.status}`);
        current.reads++;
        if (path === "/healthz") current.pendingMax = Math.max(current.pendingMax, (JSON.parse(body) as { pending: number }).pending);
      } catch (e) {
        fail(`GET ${path}: ${(e as Error).message}`);
      }
    };
    const sampleMemory = () => {
      for (const [role, pid] of procs) current.rss[role] = memoryMiB(pid).rss;
    };

    const totalMs = o.minutes * 60_000;
    const windowMs = Math.min(o.sampleSeconds * 1000, totalMs);
    const start = performance.now();
    let sent = 0;
    let nextWindowAt = start + windowMs;
    let nextHealthAt = start;
    console.log(`soak: ${o.minutes} min at ${o.rate} submissions/s against ${url} (data ${dir}), windows of ${windowMs / 1000} s`);
    while (performance.now() - start < totalMs) {
      const now = performance.now();
      // Open loop: the submissions due by now, whatever the answers are doing.
      const due = Math.floor(((now - start) / 1000) * o.rate);
      for (; sent < due; sent++) {
        track(submitOne(sent));
        // Reads mixed in: a receipt per ten submissions, the checkpoint per fifty.
        if (sent % 10 === 0 && acked.length > 0) track(read(`/v1/anchors/${acked[Math.floor(Math.random() * acked.length)]}/receipt`, [200, 202]));
        if (sent % 50 === 0) track(read("/v1/checkpoint", [200]));
      }
      if (now >= nextHealthAt) {
        track(read("/healthz", [200]));
        nextHealthAt = now + 1000;
      }
      if (now >= nextWindowAt) {
        sampleMemory();
        current = newWindow();
        nextWindowAt += windowMs;
      }
      await sleep(5);
    }
    await Promise.all([...inFlight]);
    // A last window shorter than half the others (the run's length not a multiple of them) joins the one before.
    if (windows.length > 1 && nextWindowAt - performance.now() > windowMs / 2) {
      const last = windows.pop()!;
      const prev = windows.at(-1)!;
      Object.assign(prev, { ok: prev.ok + last.ok, errors: prev.errors + last.errors, reads: prev.reads + last.reads, pendingMax: Math.max(prev.pendingMax, last.pendingMax) });
      prev.latencies.push(...last.latencies);
      prev.finals.push(...last.finals);
    } else sampleMemory();

    return judge(o, windows, errors, { url, load0, load1: os.loadavg(), windowMs });
  } finally {
    // Ctrl-C, as a person stops `npm start`; SIGKILL if it has not stopped in 15 s.
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.kill("SIGINT");
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

function judge(o: Options, windows: readonly Window[], errors: readonly string[], run: { url: string; load0: number[]; load1: number[]; windowMs: number }): boolean {
  const warm = windows.length > 1 ? 1 : 0;
  const steady = windows.slice(warm);
  const roleNames = Object.keys(windows[0]?.rss ?? {});
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "—");
  const lines: string[] = [];
  lines.push(`| window | submissions ok | errors | reads | p50 | p99 | final (median) | pending max | ${roleNames.map((r) => `RSS ${r}`).join(" | ")} |`);
  lines.push(`| --- | --- | --- | --- | --- | --- | --- | --- | ${roleNames.map(() => "---").join(" | ")} |`);
  for (const w of windows) {
    lines.push(
      `| ${w.at + 1}${w.at < warm ? " (warm-up)" : ""} | ${w.ok} | ${w.errors} | ${w.reads} | ${ms(median(w.latencies))} | ${ms(quantile(w.latencies, 0.99))} | ${ms(median(w.finals))} | ${w.pendingMax} | ${roleNames.map((r) => `${(w.rss[r] ?? NaN).toFixed(0)} MiB`).join(" | ")} |`,
    );
  }

  const verdicts: [string, boolean, string][] = [];
  for (const r of roleNames) {
    const values = steady.map((w) => w.rss[r]!).filter(Number.isFinite);
    const band = Math.max(32, 0.2 * median(values));
    const spread = Math.max(...values) - Math.min(...values);
    verdicts.push([`RSS of ${r} flat`, spread <= band, `max − min ${spread.toFixed(1)} MiB after warm-up, band ${band.toFixed(1)} MiB`]);
  }
  const pendingBound = o.rate * 10;
  const pendingMax = Math.max(0, ...steady.map((w) => w.pendingMax));
  verdicts.push(["pending bounded", pendingMax <= pendingBound, `at most ${pendingMax} pending, bound ${pendingBound} (10 s of arrivals)`]);
  const p99s = steady.map((w) => quantile(w.latencies, 0.99)).filter(Number.isFinite);
  const mid = median(p99s);
  const worst = Math.max(...p99s);
  verdicts.push(["p99 stable", p99s.length > 0 && worst <= 3 * mid && worst <= 250, `worst window ${ms(worst)}, median window ${ms(mid)} (limits 3× median and 250 ms)`]);
  const errorCount = windows.reduce((n, w) => n + w.errors, 0);
  verdicts.push(["no errors", errorCount === 0, `${errorCount} errors${errors.length ? `: ${errors.slice(0, 5).join("; ")}` : ""}`]);
  const acked = windows.reduce((n, w) => n + w.ok, 0);
  const pass = verdicts.every(([, ok]) => ok);

  const out = [
    ...lines,
    "",
    ...verdicts.map(([name, ok, detail]) => `- ${ok ? "PASS" : "FAIL"} ${name}: ${detail}`),
    "",
    `${acked.toLocaleString("en")} submissions acknowledged in ${o.minutes} min at ${o.rate}/s; ${pass ? "PASS" : "FAIL"}`,
  ];
  console.log(out.join("\n"));

  if (o.record) {
    const cpu = os.cpus();
    const header = [
      `Run ${new Date().toISOString().slice(0, 16)}Z: \`npm run soak -- --minutes ${o.minutes}${o.rate !== 200 ? ` --rate ${o.rate}` : ""}\` on ${cpu[0]?.model.trim() ?? "?"} (${cpu.length} cores), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average ${run.load0[0]!.toFixed(2)} before, ${run.load1[0]!.toFixed(2)} after; windows of ${run.windowMs / 1000} s, the first the warm-up.`,
      "",
    ];
    const file = join(ROOT, "docs", "RELIABILITY.md");
    const text = readFileSync(file, "utf8");
    const begin = "<!-- soak:begin (written by npm run soak -- --record) -->";
    const end = "<!-- soak:end -->";
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a === -1 || b === -1) throw new Error(`docs/RELIABILITY.md has no soak markers (${begin} … ${end})`);
    writeFileSync(file, `${text.slice(0, a + begin.length)}\n${[...header, ...out].join("\n")}\n${text.slice(b)}`);
    console.log(`recorded in ${file}`);
  }
  return pass;
}

try {
  process.exitCode = (await soak(parseOptions(process.argv.slice(2)))) ? 0 : 1;
} catch (e) {
  console.error(`soak: ${(e as Error).message}`);
  process.exitCode = 2;
}
