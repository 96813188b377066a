/**
 * The deployable bundle, built as `wrangler deploy --dry-run --outdir` builds
 * it — offline (in a network namespace of its own where the machine allows):
 * within the size budget (≤ 1 MiB gzipped), free of Node built-ins and of the
 * embedded libSQL opener; and the local D1 migrations that `npm run
 * dev:worker` applies with wrangler produce the whole schema, trigger included.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { newMiniflare } from "./miniflare.js";
import { afterAll, describe, expect, it } from "vitest";
import { bundleStats, runWrangler } from "../../scripts/wrangler.js";
import { COMPATIBILITY_DATE } from "./harness.js";

const BUDGET_GZIP_BYTES = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "cairn-worker-build-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

describe("the Worker bundle", () => {
  it("builds offline with wrangler deploy --dry-run, within budget, without Node modules", async () => {
    const outdir = join(dir, "bundle");
    const run = await runWrangler(["deploy", "--dry-run", "--outdir", outdir], { offline: true });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("--dry-run: exiting now.");
    const bundle = bundleStats(outdir, 0);
    console.log(`worker bundle: ${kib(bundle.bytes)}, ${kib(bundle.gzipBytes)} gzipped (budget ${kib(BUDGET_GZIP_BYTES)}); built ${run.isolated ? "with no network" : "without a network namespace (unshare unavailable)"}`);
    expect(bundle.gzipBytes).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);

    const code = readFileSync(bundle.file, "utf8");
    expect(code).not.toMatch(/\bfrom\s*["']node:|\brequire\(\s*["']node:|\bimport\(\s*["']node:/);
    // esbuild marks each bundled module's path in a comment.
    const modules = [...code.matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)].map((m) => m[1]!);
    expect(modules).toContain("src/runtime/worker.ts");
    expect(modules).toContain("src/store/d1.ts");
    expect(modules).toContain("src/store/libsql-web.ts");
    expect(modules).not.toContain("src/store/libsql.ts");
    expect(modules.filter((m) => /node_modules\/(libsql|@libsql\/(linux|darwin|win32))|@libsql\/client\/lib-esm\/(node|sqlite3)\.js|drizzle-orm\/libsql\/migrator/.test(m))).toEqual([]);
  });

  it("applies the migrations to a local D1 database with wrangler, offline, trigger included", async () => {
    const persist = join(dir, "persist");
    const run = await runWrangler(["d1", "migrations", "apply", "cairn-primary", "--local", "--persist-to", persist], { offline: true });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const id = /database_name = "cairn-primary"\s*\ndatabase_id = "([^"]+)"/.exec(readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8"))![1]!;
    const mf = newMiniflare({ modules: true, script: "export default {}", compatibilityDate: COMPATIBILITY_DATE, d1Databases: { DB: id }, d1Persist: join(persist, "v3", "d1") });
    try {
      const db = await mf.getD1Database("DB");
      const { results } = await db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").all<{ type: string; name: string }>();
      const names = results.map((r) => r.name);
      expect(names).toEqual(expect.arrayContaining(["blocks", "blocks_chain_link", "entries", "pending", "history_hashes", "batch_tiles", "checkpoints", "clients", "replica_status", "d1_migrations"]));
      expect(results.find((r) => r.name === "blocks_chain_link")?.type).toBe("trigger");
    } finally {
      await mf.dispose();
    }
  });
});
