/**
 * `npm run faults [-- --small] [--only NAME[,NAME…]] [--seed N] [--keep] [--record]`:
 * the fault suite (issue 13.1, ./run.ts) against real processes of the
 * embedded default, printed as the table docs/RELIABILITY.md shows;
 * `--record` writes it there between the faults markers. Exit status 0
 * when nothing was lost or doubled and every re-check held, 1 otherwise,
 * 2 when the suite could not run.
 */
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../wrangler.js";
import { isPass, runFaults, type FaultRow, type FaultRun } from "./run.js";

const BEGIN = "<!-- faults:begin (written by npm run faults -- --record) -->";
const END = "<!-- faults:end -->";

const seconds = (ms: number | undefined) => (ms === undefined ? "not final" : `${(ms / 1000).toFixed(1)} s`);

function refusedText(r: FaultRow): string {
  const total = [...r.refused.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return "0";
  return `${total} (${[...r.refused].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")})`;
}

export function table(run: FaultRun): string[] {
  const lines = [
    "| scenario | fault | acknowledged | refused (by reason) | lost | doubled | final again | re-check | what happened |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of run.rows) {
    if (r.skipped) {
      lines.push(`| ${r.name} | ${r.fault} | — | — | — | — | — | skipped | ${r.skipped} |`);
      continue;
    }
    lines.push(
      `| ${r.name} | ${r.fault} | ${r.acked} | ${refusedText(r)} | ${r.lost} | ${r.doubled} | ${seconds(r.finalAgainMs)} | ${r.recheck?.ok ? "✓" : "✗"} ${r.recheck?.detail ?? ""} | ${r.note} |`,
    );
  }
  return lines;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { small: { type: "boolean" }, only: { type: "string" }, seed: { type: "string" }, keep: { type: "boolean" }, record: { type: "boolean" } },
  });
  const load0 = os.loadavg()[0]!;
  const run = await runFaults({
    small: values.small === true,
    ...(values.only ? { only: values.only.split(",") } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    keep: values.keep === true,
    log: (line) => console.error(line),
  });
  const pass = run.rows.every(isPass);
  const lines = table(run);
  console.log(lines.join("\n"));
  console.log(`\n${pass ? "PASS" : "FAIL"}: ${run.rows.filter((r) => !r.skipped).length} scenarios in ${run.seconds.toFixed(0)} s`);
  if (values.record) {
    const cpu = os.cpus();
    const command = `npm run faults --${values.small ? " --small" : ""}${values.only ? ` --only ${values.only}` : ""}${values.seed ? ` --seed ${values.seed}` : ""} --record`;
    const header = `Run ${run.startedAt.toISOString().slice(0, 16)}Z: \`${command}\` on ${cpu[0]?.model.trim() ?? "?"} (${cpu.length} cores), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, primary on ${run.primaryOn === "tmpfs" ? "a tmpfs of its own" : "disk"}; load average ${load0.toFixed(2)} before; ${run.seconds.toFixed(0)} s in all; ${pass ? "PASS" : "FAIL"}.`;
    const file = join(ROOT, "docs", "RELIABILITY.md");
    const text = readFileSync(file, "utf8");
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    if (a === -1 || b === -1) throw new Error(`docs/RELIABILITY.md has no faults markers (${BEGIN} … ${END})`);
    writeFileSync(file, `${text.slice(0, a + BEGIN.length)}\n${header}\n\n${lines.join("\n")}\n${text.slice(b)}`);
    console.error(`recorded in ${file}`);
  }
  return pass ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`faults: ${(e as Error).stack ?? e}`);
  process.exitCode = 2;
}
