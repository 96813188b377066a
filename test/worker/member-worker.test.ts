/**
 * A member's witness as its own Worker with its own D1 (src/runtime/member-worker.ts,
 * wrangler.member.toml), in workerd: the bundle `wrangler deploy --dry-run
 * --config wrangler.member.toml` makes, its replica and state in a D1
 * database of its own, its cosigner key a secret of its own. A Node operator
 * with two Node witnesses and this Worker as its third member: the Worker
 * fetches and verifies the blocks over HTTP and cosigns, with ML-DSA-44 too;
 * receipts verify with its cosignatures; its state moves by compare-and-set; a wrong setting
 * answers 500 BAD_CONFIG naming it.
 */
import { readFileSync } from "node:fs";
import type { D1Database } from "@cloudflare/workers-types";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, KEY_TYPE_COSIGNATURE_MLDSA44, parseNote, sha256, utf8, verifyReceipt } from "../../src/core/index.js";
import { d1WitnessState } from "../../src/store/witness-state.js";
import { cachedWorkerBundle } from "../../scripts/wrangler.js";
import { anchor, document, memberSignerKey, operatorVerifierKey, ORIGIN, registerClient, sealFully, startCluster, submission, TestClock, type Cluster } from "../service/harness.js";
import { COMPATIBILITY_DATE, migrate } from "./harness.js";
import { newMiniflare } from "./miniflare.js";

let cluster: Cluster;
let mf: Miniflare;
let workerUrl: string;
let bundleFile: string;
const M3_PQ = generateKeyPair("m3.test", sha256(utf8("m3 ML-DSA-44 key")), KEY_TYPE_COSIGNATURE_MLDSA44);

beforeAll(async () => {
  const bundle = await cachedWorkerBundle("wrangler.member.toml");
  bundleFile = bundle.file;
  // The Worker keeps real time: so does this operator.
  // Its member cosigns post-quantum too (CAIRN_MEMBER_MLDSA_KEY): the operator knows that key as its pqKey.
  cluster = await startCluster({
    clock: new TestClock(Math.floor(Date.now() / 1000)),
    configure: (config) => ({ ...config, members: config.members.map((m, i) => (i === 2 ? { ...m, pqKey: M3_PQ.verifierKey } : m)) }),
  });
  // Member 3 runs as a Worker, on the port the operator knows as its witness.
  const m3 = cluster.witnesses[2]!;
  await m3.stop();
  const bindings = {
    CAIRN_MEMBER_NAME: "m3.test",
    CAIRN_MEMBER_KEY: memberSignerKey(3),
    CAIRN_MEMBER_MLDSA_KEY: M3_PQ.signerKey,
    CAIRN_LOG_ORIGIN: ORIGIN,
    CAIRN_LOG_KEYS: operatorVerifierKey(),
    CAIRN_LOG_URL: cluster.url,
    CAIRN_REPLICA_D1: "REPLICA",
    CAIRN_SYNC_BUDGET: "30",
  };
  mf = newMiniflare({
    workers: [
      { name: "witness", modules: true, scriptPath: bundle.file, modulesRoot: bundle.dir, compatibilityDate: COMPATIBILITY_DATE, bindings, d1Databases: { REPLICA: "replica" } },
      { name: "misconfigured", modules: true, scriptPath: bundle.file, modulesRoot: bundle.dir, compatibilityDate: COMPATIBILITY_DATE, bindings: { ...bindings, CAIRN_MEMBER_KEY: memberSignerKey(2) }, d1Databases: { REPLICA: "other" } },
      { name: "unmigrated", modules: true, scriptPath: bundle.file, modulesRoot: bundle.dir, compatibilityDate: COMPATIBILITY_DATE, bindings, d1Databases: { REPLICA: "unmigrated" } },
    ],
    host: "127.0.0.1",
    port: m3.port,
    cf: false,
  });
  workerUrl = (await mf.ready).href.replace(/\/$/, "");
  await migrate((await mf.getD1Database("REPLICA", "witness")) as unknown as D1Database);
});
afterAll(async () => {
  await cluster?.close();
  await mf?.dispose();
});

async function get(path: string): Promise<any> {
  const res = await mf.dispatchFetch(`${workerUrl}${path}`);
  return res.headers.get("Content-Type")?.includes("json") ? res.json() : res.text();
}

describe("a member's witness as its own Worker with its own D1", () => {
  it("bundles from wrangler.member.toml with no Node module in it", () => {
    const code = readFileSync(bundleFile, "utf8");
    expect(code).not.toMatch(/\bfrom\s*["']node:|\brequire\(\s*["']node:|\bimport\(\s*["']node:/);
    expect(code).toContain("src/runtime/member-worker.ts");
  });

  it("verifies the operator's blocks into its own D1 and cosigns; receipts carry its cosignature", async () => {
    expect(workerUrl).toBe(cluster.witnesses[2]!.url);
    const client = await registerClient(cluster);
    const doc = document("cosigned by a Worker");
    const { body } = await anchor(cluster, await submission(cluster, client, doc));
    const report = await sealFully(cluster);
    expect(report.final).toBe(true);
    const consortium = await (await cluster.request("/v1/consortium")).json();
    expect(consortium.members[2], JSON.stringify(consortium.members[2].answer)).toMatchObject({ name: "m3.test", witness: workerUrl, answer: { status: "cosigned" } });
    const receipt = await (await cluster.request(`/v1/anchors/${body.id}/receipt`)).json();
    const verified = await verifyReceipt(receipt, await (await cluster.request("/v1/trust")).json(), { document: doc });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test", "m3.test"]);
    // Both of its lines: Ed25519 (76 bytes with the key id) and ML-DSA-44 (4 + 8 + 2420).
    const m3Lines = parseNote(receipt.checkpoint).signatures.filter((x) => x.name === "m3.test");
    expect(m3Lines.map((x) => x.signature.length).sort((a, b) => a - b)).toEqual([72, 2428]);

    const size = (await (await cluster.request("/healthz")).json()).blocks;
    expect(await get("/status")).toMatchObject({ name: "m3.test", replica: { size }, latest: { size }, halted: null });
    expect(await get("/checkpoint")).toContain("— m3.test ");
    const d1 = (await mf.getD1Database("REPLICA", "witness")) as unknown as D1Database;
    const blocks = await d1.prepare("SELECT count(*) AS n FROM blocks").first<{ n: number }>();
    expect(blocks?.n).toBe(size);
    const state = await d1.prepare("SELECT version, state FROM witness_state WHERE id = 1").first<{ version: number; state: string }>();
    expect(JSON.parse(state!.state).latest.size).toBe(size);
  });

  it("keeps its state by compare-and-set: a save from a stale read is refused", async () => {
    const d1 = (await mf.getD1Database("REPLICA", "witness")) as unknown as D1Database;
    const a = d1WitnessState(d1);
    const b = d1WitnessState(d1);
    const text = (await a.load())!;
    await b.load();
    await a.save(text);
    await expect(b.save(text)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await b.load();
    await b.save(text);
  });

  it("answers 503 until its replica has this release's schema, then serves (the migration applied meanwhile)", async () => {
    const worker = await mf.getWorker("unmigrated");
    const replica = (await mf.getD1Database("REPLICA", "unmigrated")) as unknown as D1Database;
    await migrate(replica, (f) => f < "0004");
    for (const path of ["/status", "/healthz", "/add-checkpoint"]) {
      const res = await worker.fetch(`http://witness.test${path}`, path === "/add-checkpoint" ? { method: "POST", body: "old 0\n\n" } : {});
      expect(res.status, path).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("30");
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining("apply this release's migrations") });
    }
    expect((await replica.prepare("SELECT count(*) AS n FROM witness_state").first<{ n: number }>())!.n).toBe(0);
    await migrate(replica, (f) => f >= "0004");
    expect((await worker.fetch("http://witness.test/healthz")).status).toBe(200);
  });

  it("answers 500 BAD_CONFIG naming the setting when its key is not its member's", async () => {
    const res = await (await mf.getWorker("misconfigured")).fetch("http://witness.test/status");
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: "BAD_CONFIG", message: expect.stringContaining("CAIRN_MEMBER_KEY: is named m2.test") });
  });
});
