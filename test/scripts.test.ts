/**
 * Every script in package.json runs from a fresh clone (issue 7): each one
 * is run here through npm, in a copy of the repository's tracked files (with
 * this checkout's node_modules linked in: what a clone of this work tree
 * would hold), so what a script writes — dist/,
 * .dev.vars, regenerated docs — lands in the copy, not in the checkout.
 * A script added to package.json without a check here fails the first test.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../scripts/wrangler.js";
import { wranglerDevArgs } from "../scripts/dev-worker-args.js";
import { startHranaServer } from "./worker/hrana-server.js";
import { haveBrowser } from "./pages/browser.js";
import { freePorts } from "../src/runtime/dev-members.js";

const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** Scripts not run here, and why. Every other script is run by a test below. */
const NOT_RUN: Record<string, string> = {
  test: "it is this suite",
  typecheck: "`npm test` runs it before vitest (checked below)",
  faults: "test/faults.test.ts runs its small size through scripts/faults/run.ts; the full run takes 10–20 minutes",
};

let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "cairn-scripts-"));
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\0").filter((f) => f !== "");
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the work tree
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

interface Ran {
  readonly code: number | null;
  readonly out: string;
}

/** `npm run NAME -- ARGS` in the copy, to its end. */
function npmRun(name: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", name, ...(args.length > 0 ? ["--", ...args] : [])], { cwd: copy, env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

/**
 * A long-running script: started in a process group of its own, resolved
 * once its output says it is up, then stopped with Ctrl-C (SIGINT to the
 * group, as a terminal sends it).
 */
async function serve(name: string, args: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ out: () => string; stop: () => Promise<number | null> }> {
  const child = spawn("npm", ["run", "--silent", name, "--", ...args], { cwd: copy, env: { ...process.env, ...env }, detached: true });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`npm run ${name} exited (${code}) before it was ready:\n${out}`)));
  });
  return {
    out: () => out,
    stop: async () => {
      process.kill(-child.pid!, "SIGINT");
      return exited;
    },
  };
}

/** Resolves once nothing listens at `url` any more (a process finishing its shutdown). */
async function refusedEventually(url: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await (await fetch(`${url}/healthz`)).body?.cancel();
    } catch {
      return;
    }
    if (Date.now() > until) throw new Error(`${url} still answers 30 s after Ctrl-C`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("package.json scripts", () => {
  it("are all accounted for: run by a test here, or named with the reason why not", () => {
    const checked = ["build", "prepack", "bench", "formats", "pages", "screenshots", "soak", "db:generate", "db:migrate", "build:worker", "dev:worker", "wrangler", "start"];
    expect(Object.keys(PACKAGE.scripts).sort()).toEqual([...checked, ...Object.keys(NOT_RUN)].sort());
    expect(PACKAGE.scripts.test).toMatch(/^npm run typecheck && /);
  });

  // One test for both: `npm pack` runs prepack, which is the build, so a
  // separate `npm run build` compiled the same files twice (~15 s).
  it("build and prepack: `npm pack` compiles src/ to JavaScript that plain Node imports, into a tarball that an empty project installs and imports cairn/client and cairn/verify from, with types", async () => {
    expect(PACKAGE.scripts.prepack).toBe("npm run build");
    expect(existsSync(join(copy, "dist"))).toBe(false);
    const packed = spawnSync("npm", ["pack", "--silent", "--pack-destination", copy], { cwd: copy, encoding: "utf8" });
    expect(packed.status, packed.stdout + packed.stderr).toBe(0);
    const check = spawnSync(process.execPath, ["--input-type=module", "-e", "const m = await import('./dist/core/index.js'); console.log(m.toHex(m.sha256(new Uint8Array())))"], { cwd: copy, encoding: "utf8" });
    expect(check.stdout.trim(), check.stderr).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(existsSync(join(copy, "dist", "core", "index.d.ts"))).toBe(true);
    const tarball = packed.stdout.trim().split("\n").at(-1)!;
    const app = mkdtempSync(join(tmpdir(), "cairn-app-"));
    try {
      cpSync(join(copy, tarball), join(app, tarball));
      // The app's lockfile pins the versions this repository's lockfile pins, so
      // `npm ci --offline` installs them from the npm cache `npm ci` filled: no network.
      const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; link?: boolean; version?: string; dependencies?: object; license?: string }> };
      const self = lock.packages[""]!;
      const packages: Record<string, unknown> = {
        "": { name: "app", version: "1.0.0", dependencies: { cairn: `file:${tarball}` } },
        "node_modules/cairn": { version: self.version, resolved: `file:${tarball}`, license: self.license, dependencies: self.dependencies },
      };
      for (const [path, entry] of Object.entries(lock.packages)) if (path.startsWith("node_modules/") && !entry.dev && !entry.link) packages[path] = entry;
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true, dependencies: { cairn: `file:${tarball}` } }));
      writeFileSync(join(app, "package-lock.json"), JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages }));
      const installed = spawnSync("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: app, encoding: "utf8" });
      expect(installed.status, installed.stdout + installed.stderr).toBe(0);

      // Plain Node: the FORMATS.md example receipt verifies through the packed code.
      const vectors = join(ROOT, "test", "vectors", "cairn-v1.json");
      writeFileSync(
        join(app, "check.mjs"),
        `import { readFileSync } from "node:fs";
import { CairnClient } from "cairn/client";
import { verifyReceipt, trustFingerprint } from "cairn/verify";
const v = JSON.parse(readFileSync(${JSON.stringify(vectors)}, "utf8"));
const r = await verifyReceipt(v.receipt, v.trust, { document: new TextEncoder().encode(v.submissions[0].document) });
const key = CairnClient.makeKey("app.example");
console.log(r.blockHeight, r.cosigners.length, trustFingerprint(v.trust) === v.trustV2.fingerprintV1, key.verifierKey.startsWith("app.example+"));
`,
      );
      const ran = spawnSync(process.execPath, ["check.mjs"], { cwd: app, encoding: "utf8" });
      expect(ran.stdout.trim(), ran.stderr).toBe("0 2 true true");

      // TypeScript: the declarations resolve through the package's exports.
      writeFileSync(
        join(app, "app.ts"),
        `import { CairnClient, type PreparedAnchor, type ReceiptJson } from "cairn/client";
import { verifyReceipt } from "cairn/verify";
const client = new CairnClient({ server: "https://anchor.example.org", key: CairnClient.makeKey("app.example").signerKey });
export async function anchorOne(doc: Uint8Array): Promise<ReceiptJson> {
  const { prepared }: { prepared: PreparedAnchor } = await client.anchor(doc, { salted: true });
  return client.waitForReceipt(prepared);
}
export const check = (receipt: ReceiptJson, trust: unknown, doc: Uint8Array) => verifyReceipt(receipt, trust, { document: doc });
`,
      );
      const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2023,dom", "app.ts"], { cwd: app, encoding: "utf8" });
      expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it("bench: the entry point loads every suite (--list); the figures themselves take minutes and a quiet machine", async () => {
    const ran = await npmRun("bench", ["--list"]);
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).toMatch(/^core /m);
    expect(ran.out).toMatch(/^service /m);
    expect(ran.out).toMatch(/^worker /m);
    const wrong = await npmRun("bench", ["--no-such-flag"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/unknown flag --no-such-flag/);
  });

  it("formats: regenerates docs/FORMATS.md byte for byte as committed", async () => {
    const ran = await npmRun("formats");
    expect(ran.code, ran.out).toBe(0);
    expect(readFileSync(join(copy, "docs", "FORMATS.md"), "utf8")).toBe(readFileSync(join(ROOT, "docs", "FORMATS.md"), "utf8"));
  });

  it("pages: rebuilds the pages' assets from src/pages/ byte for byte as committed", async () => {
    const ran = await npmRun("pages");
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).toMatch(/\/assets\/verify\.[0-9a-f]{12}\.js .* gzipped/);
    const file = "src/http/pages-assets.generated.ts";
    expect(readFileSync(join(copy, file), "utf8") === readFileSync(join(ROOT, file), "utf8"), `${file} is out of date: run \`npm run pages\``).toBe(true);
  });

  it.skipIf(!haveBrowser)("screenshots: pictures the explorer and a verified receipt from the embedded default, in Chromium", async () => {
    const out = join(copy, "shots");
    const ran = await npmRun("screenshots", ["--out", out]);
    expect(ran.code, ran.out).toBe(0);
    for (const name of ["explorer.png", "verify.png"]) {
      const png = readFileSync(join(out, name));
      expect(png.subarray(0, 8).toString("hex"), name).toBe("89504e470d0a1a0a");
      expect(png.readUInt32BE(16), `${name} width`).toBe(1100);
    }
  });

  it("soak: runs the embedded default under a steady load with reads, samples every process, and judges the run", async () => {
    const ran = await npmRun("soak", ["--minutes", "0.25", "--sample-seconds", "5", "--rate", "40"]);
    // 0: every criterion passed; 1: one failed. The timing criteria (p99) are the soak's to judge on a
    // quiet machine, not this test's under the suite's load: here the run must complete, without errors.
    expect([0, 1], ran.out).toContain(ran.code);
    expect(ran.out).toMatch(/\| window \| submissions ok \| errors \| reads \| p50 \| p99 \| final \(median\) \| pending max \| RSS operator \| RSS member-1 \| RSS member-2 \| RSS member-3 \|/);
    expect(ran.out).toMatch(/^\| 3 \| \d+ \| 0 \| \d+ \|/m);
    for (const criterion of ["RSS of operator flat", "RSS of member-3 flat", "pending bounded", "p99 stable"]) expect(ran.out).toMatch(new RegExp(`^- (PASS|FAIL) ${criterion}: `, "m"));
    expect(ran.out).toMatch(/^- PASS no errors: 0 errors$/m);
  });

  it("db:generate: drizzle-kit finds the committed migrations in step with the schema", async () => {
    const ran = await npmRun("db:generate");
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).toMatch(/No schema changes/);
  });

  it("db:migrate: migrates a libSQL database over HTTP, and explains its usage when called wrong", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-migrate-"));
    const server = await startHranaServer(join(dir, "remote.db"), "token-for-migrate");
    try {
      const ran = await npmRun("db:migrate", [server.url], { LIBSQL_AUTH_TOKEN: "token-for-migrate" });
      expect(ran.code, ran.out).toBe(0);
      expect(ran.out).toMatch(/is migrated \(0 blocks\)/);
      const again = await npmRun("db:migrate", [server.url], { LIBSQL_AUTH_TOKEN: "token-for-migrate" });
      expect(again.code, again.out).toBe(0);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const usage = await npmRun("db:migrate");
    expect(usage.code).not.toBe(0);
    expect(usage.out).toMatch(/usage: npm run db:migrate/);
  });

  it("build:worker: bundles the Worker offline", async () => {
    const ran = await npmRun("build:worker");
    expect(ran.code, ran.out).toBe(0);
    expect(existsSync(join(copy, "dist", "worker", "worker.js"))).toBe(true);
  });

  it("wrangler: runs the pinned wrangler", async () => {
    const ran = await npmRun("wrangler", ["--version"]);
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).toContain(JSON.parse(readFileSync(join(ROOT, "node_modules", "wrangler", "package.json"), "utf8")).version);
  });

  it("dev:worker: serves the Worker where the user's --ip and --port say, and stops on Ctrl-C", async () => {
    const port = await freePorts(4); // the Worker's, then its three witnesses' (port + 1 … + 3)
    const dev = await serve("dev:worker", ["--ip", "127.0.0.1", "--port", String(port)], {}, /Anchor a document/);
    try {
      expect(dev.out()).toContain(`serving http://127.0.0.1:${port}`);
      expect(dev.out()).toMatch(/dev client \S+ registered/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(existsSync(join(copy, ".dev.vars"))).toBe(true);
    } finally {
      await dev.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("start: the operator and three member witnesses, each its own process, serve; Ctrl-C stops them all", async () => {
    const port = await freePorts(4); // the operator's, then its three witnesses'
    const data = join(copy, "data-start");
    const node = await serve("start", [], { PORT: String(port), CAIRN_DATA_DIR: data }, new RegExp(`Cairn is serving \\S+ at http://127\\.0\\.0\\.1:${port}`));
    const witnesses = [1, 2, 3].map((i) => `http://127.0.0.1:${port + i}`);
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(existsSync(join(data, "client.key"))).toBe(true);
      const consortium = await (await fetch(`http://127.0.0.1:${port}/v1/consortium`)).json();
      expect(consortium.members.map((m: { witness: string }) => m.witness)).toEqual(witnesses);
      for (const [i, url] of witnesses.entries()) {
        const status = await (await fetch(`${url}/status`)).json();
        expect(status.name).toBe(`member-${i + 1}.localhost`);
        expect(status.key).toBe(consortium.members[i].key);
        // The member's own key, in its own data dir.
        expect(existsSync(join(data, "members", status.name, "cosigner.key"))).toBe(true);
      }
    } finally {
      await node.stop();
    }
    expect(node.out()).toMatch(/SIGINT: finishing queued submissions and closing/);
    // The witnesses got the same Ctrl-C; each is gone once its port refuses.
    for (const url of [`http://127.0.0.1:${port}`, ...witnesses]) await refusedEventually(url);
  });
});

describe("dev:worker's command line", () => {
  it("defaults to loopback and port 8787", () => {
    expect(wranglerDevArgs([])).toEqual({ args: ["dev", "--local", "--ip", "127.0.0.1", "--port", "8787", "--test-scheduled"], base: "http://127.0.0.1:8787" });
  });

  it("lets the user's flags win, in either form", () => {
    expect(wranglerDevArgs(["--ip", "127.0.0.2", "--port", "8790"])).toEqual({ args: ["dev", "--local", "--test-scheduled", "--ip", "127.0.0.2", "--port", "8790"], base: "http://127.0.0.2:8790" });
    expect(wranglerDevArgs(["--port=9000"]).args).toEqual(["dev", "--local", "--ip", "127.0.0.1", "--test-scheduled", "--port=9000"]);
    expect(wranglerDevArgs(["--ip=0.0.0.0"]).base).toBe("http://127.0.0.1:8787");
  });
});
