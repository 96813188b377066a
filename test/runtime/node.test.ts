/**
 * `npm start`'s runtime as it runs: the embedded default in a temp data dir,
 * the seal in its own worker thread. A submission gets sealed by the
 * thread's timer, the thread's seal metrics show in /metrics, "seal now"
 * reaches the thread, and close() ends everything.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CairnClient } from "../../src/client/index.js";
import { utf8 } from "../../src/core/index.js";
import { startNode, type RunningNode } from "../../src/runtime/node.js";
import { silentLogger } from "../../src/service/log.js";

let node: RunningNode;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-node-"));
  node = await startNode({ env: { CAIRN_DATA_DIR: dir, CAIRN_SEAL_INTERVAL: "100ms" }, port: 0, durability: "normal", log: silentLogger });
});
afterAll(() => node.close());

describe("Node runtime with the seal thread", () => {
  it("seals a submission on the thread's timer; the receipt verifies", async () => {
    // As an app would: the client library, the dev client's key, trust read once and kept.
    const client = new CairnClient({ server: node.url, key: readFileSync(join(dir, "client.key"), "utf8").trim() });
    const trust = await client.serverTrust();
    const doc = utf8("sealed by the thread\n");
    const { prepared, ack } = await client.anchor(doc);
    expect(ack.status).toBe("pending");
    // The wait is far above need; it only fails before the test timeout.
    const receipt = await client.waitForReceipt(prepared, { timeoutMs: 45_000 });
    await client.verify(receipt, trust, doc);
  });

  it("shows the thread's seal metrics once, and 'seal now' goes to the thread", async () => {
    const token = readFileSync(join(dir, "admin-token"), "utf8").trim();
    const report = await (await fetch(`${node.url}/v1/admin/seal`, { method: "POST", headers: { Authorization: `Bearer ${token}` } })).json();
    // Block 0 holds the dev client's registration; block 1 the submission.
    expect(report).toMatchObject({ final: true, head: { size: 2 } });
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics.match(/^# TYPE cairn_seals_total /gm)).toHaveLength(1);
    expect(metrics).toMatch(/cairn_seals_total\{outcome="block"\} 2/);
    expect(metrics).toMatch(/cairn_sealed_entries_total 2/);
  });
});
