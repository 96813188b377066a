/**
 * Benchmark entry point: `npm run bench` runs every suite, `npm run bench --
 * core` (or several names) runs those only, `--list` names them, `--quick`
 * cuts every time budget to a fifth for a smoke run (figures then noisier).
 *
 * Suites are imported lazily so that running one never loads another's
 * dependencies (a service suite may open a database). To add one, write
 * bench/<name>.ts default-exporting defineSuite({...}) and add a line below.
 */
import { consoleContext, machineFacts, type Suite } from "./harness.js";

/** A mistake on the command line: reported without a stack trace. */
class UsageError extends Error {}

const SUITES: Record<string, () => Promise<{ default: Suite }>> = {
  core: () => import("./core.js"),
  service: () => import("./service.js"),
  worker: () => import("./worker.js"),
  cost: () => import("./cost.js"),
  d1: () => import("./d1-cost.js"),
  // These two install node:crypto's Ed25519, which would change later suites' figures: last.
  browser: () => import("./browser.js"),
  cosignature: () => import("./cosignature.js"),
};

async function main(argv: readonly string[]): Promise<void> {
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  const names = argv.filter((a) => !a.startsWith("--"));
  for (const f of flags) {
    if (f !== "--list" && f !== "--quick") throw new UsageError(`unknown flag ${f} (known: --list, --quick)`);
  }
  if (flags.has("--list")) {
    for (const name of Object.keys(SUITES)) console.log(`${name.padEnd(12)} ${(await SUITES[name]!()).default.description}`);
    return;
  }
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) throw new UsageError(`unknown suite ${unknown.join(", ")} (known: ${Object.keys(SUITES).join(", ")})`);
  const selected = names.length > 0 ? names : Object.keys(SUITES);
  const timeScale = flags.has("--quick") ? 0.2 : 1;

  console.log("# Cairn benchmarks");
  for (const line of machineFacts()) console.log(line);
  console.log(`suites:   ${selected.join(", ")}${timeScale === 1 ? "" : ` (--quick: time budgets ×${timeScale})`}`);

  for (const name of selected) {
    const suite = (await SUITES[name]!()).default;
    const ctx = consoleContext(timeScale);
    const t0 = performance.now();
    console.log(`\n# Suite ${suite.name}: ${suite.description}`);
    await suite.run(ctx);
    console.log(`\n(suite ${suite.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof UsageError ? e.message : e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
