/**
 * The embedded default's real topology: the operator here, each of the three
 * member witnesses a process of its own (src/runtime/dev-members.ts) with its
 * own key, replica and state in data/members/<name>/. Receipts verify offline
 * with cosignatures the member processes made; one witness killed keeps the
 * chain final (quorum 2 of 3); two killed stop finality until one is back,
 * which then catches up by itself; the operator never opened a member's files.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noteSigner, sha256, signSubmission, utf8, verifyReceipt } from "../../src/core/index.js";
import { startNode, type RunningNode } from "../../src/runtime/node.js";
import { silentLogger } from "../../src/service/log.js";

let node: RunningNode;
let dir: string;
let trust: any;
let signer: ReturnType<typeof noteSigner>;
let admin: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-topology-"));
  // Sealing by hand ("seal now"), so each step is one seal.
  node = await startNode({ env: { CAIRN_DATA_DIR: dir }, port: 0, durability: "normal", log: silentLogger, sealTimer: false });
  trust = await (await fetch(`${node.url}/v1/trust`)).json();
  signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
  admin = readFileSync(join(dir, "admin-token"), "utf8").trim();
});
afterAll(() => node?.close());

async function anchor(text: string): Promise<{ id: string; doc: Uint8Array }> {
  const doc = utf8(text);
  const submission = await signSubmission({ origin: trust.origin, digest: sha256(doc), time: Math.floor(Date.now() / 1000) }, signer);
  const res = await fetch(`${node.url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission }) });
  expect(res.status).toBe(202);
  return { id: (await res.json()).id, doc };
}

async function sealNow(): Promise<{ final: boolean; cosigners: string[]; reason?: string }> {
  const res = await fetch(`${node.url}/v1/admin/seal`, { method: "POST", headers: { Authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  return res.json();
}

async function receipt(id: string): Promise<Response> {
  return fetch(`${node.url}/v1/anchors/${id}/receipt`);
}

function kill(name: string): Promise<void> {
  const p = node.devMembers!.processes.get(name)!;
  return new Promise((done) => {
    p.once("exit", () => done());
    p.kill("SIGKILL");
  });
}

describe("npm start's topology: an operator and three witness processes", () => {
  it("the trust document names the members' own public keys, and the witnesses' processes are not the operator's", async () => {
    expect(trust.members.map((m: any) => m.name)).toEqual(["member-1.localhost", "member-2.localhost", "member-3.localhost"]);
    for (const [name, p] of node.devMembers!.processes) {
      expect(p.pid).not.toBe(process.pid);
      const key = readFileSync(join(dir, "members", name, "cosigner.key"), "utf8");
      expect(key).toMatch(new RegExp(`^PRIVATE\\+KEY\\+${name.replace(/\./g, "\\.")}\\+`));
      // Only the public half is anywhere in the operator's view.
      const published = trust.members.find((m: any) => m.name === name).key;
      expect(published).not.toContain("PRIVATE");
    }
  });

  it("receipts verify offline with a quorum of cosignatures made by the member processes", async () => {
    const { id, doc } = await anchor("topology: honest\n");
    expect(await sealNow()).toMatchObject({ final: true });
    await node.sealer.idle();
    const verified = await verifyReceipt(await (await receipt(id)).json(), trust, { document: doc });
    expect(verified.cosigners.length).toBeGreaterThanOrEqual(2);
  });

  it("one witness killed: still final; two killed: not final, entries wait; one back: it catches up and the chain is final again", async () => {
    await kill("member-3.localhost");
    const one = await anchor("topology: one down\n");
    // Under a loaded machine a witness may answer after the seal stopped
    // waiting; the next seal asks it again and makes no new block meanwhile.
    let report = await sealNow();
    for (let i = 0; !report.final && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      report = await sealNow();
    }
    expect(report.final, JSON.stringify(report)).toBe(true);
    expect(report.cosigners.sort()).toEqual(["member-1.localhost", "member-2.localhost"]);
    await verifyReceipt(await (await receipt(one.id)).json(), trust, { document: one.doc });

    await kill("member-2.localhost");
    const two = await anchor("topology: two down\n");
    const stuck = await sealNow();
    expect(stuck.final).toBe(false);
    expect(stuck.reason).toMatch(/1 of 2 cosignatures/);
    expect((await receipt(two.id)).status).toBe(202);
    const consortium = await (await fetch(`${node.url}/v1/consortium`)).json();
    expect(consortium.members.map((m: any) => m.answer.status)).toEqual(["cosigned", "unreachable", "unreachable"]);

    await node.devMembers!.restart("member-3.localhost");
    const back = await sealNow();
    expect(back.final).toBe(true);
    const verified = await verifyReceipt(await (await receipt(two.id)).json(), trust, { document: two.doc });
    expect([...verified.cosigners].sort()).toEqual(["member-1.localhost", "member-3.localhost"]);
    const status = await (await fetch(`${consortium.members[2].witness}/status`)).json();
    expect(status.replica.size).toBe(status.latest.size);
    await node.devMembers!.restart("member-2.localhost");
  });
});
