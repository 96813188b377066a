/**
 * Split views caught by the real CLI (bin/cairn.js): an operator that shows
 * one history to a verifier and another later, to `cairn verify` (which
 * remembers the checkpoints it verified) and to `cairn monitor` (which
 * compares the operator's checkpoint with the witnesses'). The lying
 * operator and witnesses are real HTTP servers on 127.0.0.1 serving real
 * signed notes and proofs made with core from the fixture's keys, as a
 * colluding operator and quorum could; the trust is the fixture's.
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { consistencyProof, generateKeyPair, cosign, parseNote, parseSignerKey, signNote, noteSigner, toBase64, toHex, sha256 } from "../../src/core/index.js";
import { buildChain, documentOf, members, trust, type Chain } from "../core/chain-fixture.js";
import { cairnRunner, spawnCairn } from "./run-cairn.js";
import { freePort } from "../../src/runtime/dev-members.js";

/** Entries and cosignatures dated a little before now, so the verifier's clock accepts them. */
const T = Math.floor(Date.now() / 1000) - 3600;

let root: string;
let trustFile: string;
const cairn = cairnRunner(() => root);
const servers: Server[] = [];

/** What a route serves: text as text/plain, anything else as JSON; a function is called per request with the query. */
type Route = string | object | ((q: URLSearchParams) => string | object);

/** A server answering GET paths from `routes`. */
async function serve(routes: Record<string, Route>): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const route = routes[url.pathname];
    if (route === undefined) return void res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
    const body = typeof route === "function" ? route(url.searchParams) : route;
    if (typeof body === "string") return void res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end(body);
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The operator's consistency proofs for `chain`'s history. */
function proofsOf(chain: Chain) {
  return (q: URLSearchParams) => {
    const from = Number(q.get("from"));
    const to = Number(q.get("to"));
    return { from, to, path: consistencyProof(chain.history.slice(0, to), from).map(toBase64) };
  };
}

function writeReceipt(name: string, chain: Chain, height = 0, index = 0): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, JSON.stringify(chain.receipts[height]![index]));
  return file;
}

function digestOf(height: number, index: number, fork = ""): string {
  return toHex(sha256(documentOf(height, index, fork)));
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-split-"));
  trustFile = path.join(root, "trust.json");
  fs.writeFileSync(trustFile, JSON.stringify(trust));
});

afterEach(() => {
  // Each test starts with no memory of earlier views.
  fs.rmSync(path.join(root, "state"), { recursive: true, force: true });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  fs.rmSync(root, { recursive: true, force: true });
});

describe("cairn verify remembers the checkpoints it verified", () => {
  it("refuses a receipt whose checkpoint has a remembered size and another root, printing both signed checkpoints", async () => {
    const honest = await buildChain([2, 1], undefined, { t0: T });
    const fork = await buildChain([2, 1], undefined, { t0: T, fork: "forged " });
    const first = await cairn(["verify", "--digest", digestOf(0, 0), writeReceipt("honest.json", honest), "--trust", trustFile]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/views: +the first checkpoint remembered/);

    const again = await cairn(["verify", "--digest", digestOf(0, 1), writeReceipt("honest2.json", honest, 0, 1), "--trust", trustFile]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/views: +a checkpoint of 2 blocks seen before/);

    const forked = await cairn(["verify", "--digest", digestOf(0, 0, "forged "), writeReceipt("forked.json", fork), "--trust", trustFile]);
    expect(forked.code).toBe(1);
    expect(forked.stdout).toContain("FAILED: SPLIT_VIEW");
    expect(forked.stdout).toContain(honest.checkpoint.trimEnd());
    expect(forked.stdout).toContain(fork.checkpoint.trimEnd());
    expect(forked.stdout).toMatch(/receipt \.\/honest\.json, seen/);
    expect(forked.stdout).not.toMatch(/^OK/m);
  });

  it("records a checkpoint of another size unproven, then proves it with --online from the operator's proof", async () => {
    const small = await buildChain([2, 1], undefined, { t0: T });
    const big = await buildChain([2, 1, 3], undefined, { t0: T });
    const operator = await serve({ "/v1/proofs/consistency": proofsOf(big) });
    expect((await cairn(["verify", "--digest", digestOf(0, 0), writeReceipt("small.json", small), "--trust", trustFile])).code).toBe(0);

    const offline = await cairn(["verify", "--digest", digestOf(2, 0), writeReceipt("big.json", big, 2, 0), "--trust", trustFile]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/views: +recorded; not yet shown consistent with the 2-block checkpoint/);

    const online = await cairn(["verify", "--digest", digestOf(2, 0), path.join(root, "big.json"), "--trust", trustFile, "--online", "--server", operator]);
    expect(online.code, online.stdout + online.stderr).toBe(0);
    expect(online.stdout).toMatch(/consistent with the largest checkpoint seen for this log \(3 blocks\), proven by the operator/);
  });

  it("refuses a larger checkpoint from another history when --online finds no proof joining it to the remembered one", async () => {
    const honest = await buildChain([2, 1], undefined, { t0: T });
    const fork = await buildChain([2, 1, 1], undefined, { t0: T, fork: "forged " });
    // The lying operator answers with its fork's own proof; no honest proof exists.
    const operator = await serve({ "/v1/proofs/consistency": proofsOf(fork) });
    expect((await cairn(["verify", "--digest", digestOf(0, 0), writeReceipt("honest.json", honest), "--trust", trustFile])).code).toBe(0);
    const run = await cairn(["verify", "--digest", digestOf(2, 0, "forged "), writeReceipt("fork.json", fork, 2, 0), "--trust", trustFile, "--online", "--server", operator]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("FAILED: SPLIT_VIEW: no valid consistency proof joins size 2");
    expect(run.stdout).toContain(honest.checkpoint.trimEnd());
    expect(run.stdout).toContain(fork.checkpoint.trimEnd());
  });

  it("a remembered checkpoint that does not open under the trust in use is not evidence against an honest one", async () => {
    // A receipt checked once against a forged trust file (the attacker's keys) left its checkpoint in memory.
    const evil = generateKeyPair(trust.origin, sha256(new TextEncoder().encode("attacker operator")));
    const honest = await buildChain([2, 1], undefined, { t0: T });
    const forgedCheckpoint = await cosignAll(await signNote(parseNote(honest.checkpoint).text.replace(/^(.*\n.*\n).*\n/, `$1${toBase64(new Uint8Array(32).fill(7))}\n`), [noteSigner(evil.signerKey)]));
    // Plant it in the memory as if it had been verified under the forged trust, then verify the honest receipt.
    const memoryDir = path.join(root, "state", "cairn", "checkpoints");
    fs.mkdirSync(memoryDir, { recursive: true });
    const file = path.join(memoryDir, `${encodeURIComponent(trust.origin).replace(/\./g, "%2E")}.json`);
    fs.writeFileSync(file, JSON.stringify({ version: "cairn-checkpoints/v1", origin: trust.origin, checkpoints: [{ size: 2, root: toBase64(new Uint8Array(32).fill(7)), note: forgedCheckpoint, proven: true, source: "planted", seen: T }] }));
    const run = await cairn(["verify", "--digest", digestOf(0, 0), writeReceipt("honest.json", honest), "--trust", trustFile]);
    expect(run.code, run.stdout).toBe(0);
  });
});

async function cosignAll(note: string): Promise<string> {
  let out = note;
  for (const m of members) out = await cosign(out, parseSignerKey(m.signerKey).seed, m.name, T + 100);
  return out;
}

describe("cairn monitor", () => {
  it("--once reports a witness's checkpoint of the operator's size with another root as a split view, with both notes, and exits 1", async () => {
    const honest = await buildChain([2, 1], undefined, { t0: T });
    const fork = await buildChain([2, 1], undefined, { t0: T, fork: "forged " });
    const [m1] = members;
    // The fork's checkpoint carries m1's cosignature: a colluding member's witness serves it.
    const witness = await serve({ "/checkpoint": fork.checkpoint });
    const operator = await serve({ "/v1/checkpoint": honest.checkpoint, "/v1/proofs/consistency": proofsOf(honest) });
    const run = await cairn(["monitor", "--once", "--server", operator, "--witness", `${m1!.name}=${witness}`, "--trust", trustFile]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^SPLIT VIEW .* signed two different trees of 2 blocks/m);
    expect(run.stdout).toContain(parseNote(honest.checkpoint).text.trimEnd());
    expect(run.stdout).toContain(parseNote(fork.checkpoint).text.trimEnd());
    expect(run.stdout).toContain(`witness ${m1!.name}`);
  });

  it("catches a later fork against the checkpoints it remembered, counts it in its metric, and stops on SIGTERM", async () => {
    const honest = await buildChain([2, 1], undefined, { t0: T });
    const fork = await buildChain([2, 1, 1], undefined, { t0: T, fork: "forged " });
    let served = honest;
    const operator = await serve({ "/v1/checkpoint": () => served.checkpoint, "/v1/proofs/consistency": (q) => proofsOf(served)(q), "/v1/consortium": { members: [] } });
    const port = await freePort();
    const child = spawnCairn(root, ["monitor", "--server", operator, "--trust", trustFile, "--interval", "100ms", "--metrics", `127.0.0.1:${port}`]);
    try {
      await until(() => child.output.stderr.includes("consistent: operator 2"));
      served = fork; // the operator now shows another history
      await until(() => child.output.stdout.includes("SPLIT VIEW"));
      expect(child.output.stdout).toContain("no valid consistency proof joins size 2");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/^cairn_monitor_split_views_total 1$/m);
      expect(metrics).toMatch(/^cairn_monitor_checkpoint_size\{source="operator"\} 3$/m);
      // Reported once, however many rounds see it again.
      const rounds = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).match(/^cairn_monitor_rounds_total (\d+)$/m)![1];
      await untilMetric(port, "cairn_monitor_rounds_total", Number(rounds) + 3);
      expect(child.output.stdout.match(/SPLIT VIEW/g)).toHaveLength(1);
    } finally {
      child.kill("SIGTERM");
      const code = await new Promise<number | null>((done) => child.on("exit", done));
      expect(code).toBe(0);
    }
  });

  it("a witness answer without that member's own cosignature is an error, not a view; the round still passes", async () => {
    const honest = await buildChain([2, 1], undefined, { t0: T });
    const [, , m3] = members; // the fixture checkpoint is cosigned by m1 and m2 only
    const witness = await serve({ "/checkpoint": honest.checkpoint });
    const operator = await serve({ "/v1/checkpoint": honest.checkpoint, "/v1/proofs/consistency": proofsOf(honest) });
    const run = await cairn(["monitor", "--once", "--server", operator, "--witness", `${m3!.name}=${witness}`, "--trust", trustFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`witness ${m3!.name}: its checkpoint does not carry ${m3!.name}'s cosignature`);
    expect(run.stdout).not.toContain("SPLIT VIEW");
  });

  it("refuses to start without trust for the log, and a --witness the trust does not name", async () => {
    const honest = await buildChain([1], undefined, { t0: T });
    const operator = await serve({ "/v1/checkpoint": honest.checkpoint });
    const untrusted = await cairn(["monitor", "--once", "--server", operator]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain(`no trust document is pinned for ${trust.origin}`);
    const stranger = await cairn(["monitor", "--once", "--server", operator, "--trust", trustFile, "--witness", "stranger.example=http://127.0.0.1:9"]);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain("lists no member of that name");
  });
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function untilMetric(port: number, name: string, atLeast: number): Promise<void> {
  const start = Date.now();
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    if (value >= atLeast) return;
    if (Date.now() - start > 20_000) throw new Error(`${name} stayed below ${atLeast}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

