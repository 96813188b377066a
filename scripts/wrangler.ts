/**
 * The project's pinned wrangler, run offline: no telemetry
 * (WRANGLER_SEND_METRICS=false) and no update check. Used by the npm scripts
 * (`npm run wrangler -- …`, `build:worker`, `dev:worker`) and by the worker
 * tests, so none of them needs an account or the network.
 *
 * Wrangler 3 has no switch for its update check (a registry request made
 * whenever it prints its banner); it skips the request while its own cache
 * says a check ran within the hour. We write that cache entry — the answer a
 * check would give, "the installed version is the latest" — before each run.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

function installedVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", "wrangler", "package.json"), "utf8")) as { version: string }).version;
}

/** Where wrangler 3's `update-check` dependency keeps its answer (os.tmpdir()/update-check/<name>-<tag>.json). */
function skipUpdateCheck(): void {
  try {
    const dir = join(tmpdir(), "update-check");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "wrangler-latest.json"), JSON.stringify({ latest: installedVersion(), lastUpdate: Date.now() }));
  } catch {
    // Worst case wrangler asks the registry and, offline, times out after 2 s.
  }
}

export function wranglerEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, WRANGLER_SEND_METRICS: "false" };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let netnsWorks: boolean | undefined;

// In a new network namespace only loopback exists, and it starts down;
// wrangler talks to its local workerd over loopback, so bring it up.
const NETNS_PRELUDE = 'ip link set lo up && exec "$0" "$@"';

/** Whether `unshare -n` can give a command a network namespace of its own (Linux, root, iproute2). */
export function canIsolateNetwork(): boolean {
  netnsWorks ??= process.platform === "linux" && spawnSync("unshare", ["-n", "sh", "-c", NETNS_PRELUDE, "true"], { stdio: "ignore" }).status === 0;
  return netnsWorks;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run with no network but loopback (a network namespace of its own), where the machine allows it. */
  readonly offline?: boolean;
}

/** Runs wrangler to completion and collects its output (it never reads stdin here). */
export function runWrangler(args: readonly string[], options: RunOptions = {}): Promise<RunResult & { readonly isolated: boolean }> {
  skipUpdateCheck();
  const isolated = options.offline === true && canIsolateNetwork();
  const [command, argv] = isolated ? ["unshare", ["-n", "sh", "-c", NETNS_PRELUDE, process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  return new Promise((done, fail) => {
    const child = spawn(command, argv, { cwd: options.cwd ?? ROOT, env: { ...wranglerEnv(options.env), NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr, isolated }));
  });
}

/** Starts a long-running wrangler (dev) with the terminal attached. */
export function spawnWrangler(args: readonly string[], options: { cwd?: string } = {}) {
  skipUpdateCheck();
  return spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: wranglerEnv(), stdio: "inherit" });
}

export interface WorkerBundle {
  readonly dir: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly buildMs: number;
}

/** `wrangler deploy --dry-run --outdir DIR`: the exact bundle a deploy would upload, built offline. */
export async function buildWorker(outdir: string, options: Pick<RunOptions, "offline"> & { config?: string } = {}): Promise<WorkerBundle> {
  const started = performance.now();
  const result = await runWrangler(["deploy", "--dry-run", "--outdir", outdir, ...(options.config ? ["--config", options.config] : [])], options);
  const buildMs = performance.now() - started;
  if (result.code !== 0) throw new Error(`wrangler deploy --dry-run failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  return bundleStats(outdir, buildMs, options.config === undefined || options.config === "wrangler.toml" ? "worker.js" : "member-worker.js");
}

export function bundleStats(dir: string, buildMs: number, name = "worker.js"): WorkerBundle {
  const file = join(dir, name);
  const code = readFileSync(file);
  return { dir, file, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, buildMs };
}

/** Every input of the bundle: the sources, wrangler.toml and the lockfile. */
function inputsHash(config: string): string {
  const hash = createHash("sha256");
  const add = (path: string) => hash.update(path).update("\0").update(readFileSync(join(ROOT, path))).update("\0");
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else add(path);
    }
  };
  walk("src");
  add(config);
  add("package-lock.json");
  return hash.digest("hex").slice(0, 16);
}

/**
 * The dry-run bundle of the current sources, built once and reused while
 * they are unchanged (test files and benchmarks each need it; a build costs
 * ~2 s). Safe when two processes build at once: each builds into its own
 * directory and renames it into place.
 */
export async function cachedWorkerBundle(config = "wrangler.toml"): Promise<WorkerBundle> {
  const dir = join(ROOT, "node_modules", ".cache", "cairn-worker", `${config.replace(/\W/g, "_")}-${inputsHash(config)}`);
  const file = config === "wrangler.toml" ? "worker.js" : "member-worker.js";
  if (existsSync(join(dir, file))) return bundleStats(dir, 0, file);
  const tmp = `${dir}.${process.pid}.tmp`;
  const built = await buildWorker(tmp, { config });
  try {
    renameSync(tmp, dir);
  } catch {
    // Another process got there first with the same inputs.
    rmSync(tmp, { recursive: true, force: true });
  }
  return { ...bundleStats(dir, built.buildMs, file) };
}

// `tsx scripts/wrangler.ts <args>`: wrangler with the settings above, e.g. `npm run wrangler -- d1 list`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  skipUpdateCheck();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: process.cwd(), env: wranglerEnv(), stdio: "inherit" });
  child.on("close", (code) => process.exit(code ?? 1));
}
