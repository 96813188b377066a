/**
 * CPU time and process trees from /proc (Linux), for the benchmarks that
 * sum what every process of a topology spent (bench/cost.ts, bench/d1-cost.ts).
 */
import { readFileSync, readdirSync } from "node:fs";

const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** utime + stime, in ms, of a process (all its threads) or of one thread (`/proc/<pid>/task/<tid>`). */
export function cpuMs(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
}

/** The process and all its descendants, by pid → command line. */
export function processTree(rootPid: number): Map<number, string> {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Map<number, string>();
  const visit = (pid: number) => {
    tree.set(pid, readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "));
    for (const [child, p] of parent) if (p === pid) visit(child);
  };
  visit(rootPid);
  return tree;
}

/** The descendants of `rootPid` (not itself), with their command lines. */
export function childPids(rootPid: number): { pid: number; cmdline: string }[] {
  return [...processTree(rootPid)].filter(([pid]) => pid !== rootPid).map(([pid, cmdline]) => ({ pid, cmdline }));
}

/** A process's resident memory now and at its peak so far (VmRSS, VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}
