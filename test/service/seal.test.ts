/**
 * The seal under failure, on real libSQL files: replicas down (quorum met and
 * not met), a lagging replica caught up, a tampered replica detected with
 * evidence, a failure after each write step followed by a restart, a reply
 * lost after the primary committed, and two sealers at once. After every
 * scenario a checker re-verifies: each acknowledged entry is sealed exactly
 * once, every receipt verifies offline, and every database audits clean
 * from block 0.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "@libsql/client";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { verifyReceipt } from "../../src/core/index.js";
import { auditChain } from "../../src/service/audit.js";
import type { SealStep } from "../../src/service/seal.js";
import { anchor, document, ORIGIN, registerClient, startCluster, submission, type Cluster } from "./harness.js";

const open: Cluster[] = [];
async function cluster(options: Parameters<typeof startCluster>[0] = {}) {
  const c = await startCluster(options);
  open.push(c);
  return c;
}
afterEach(async () => {
  for (const c of open.splice(0)) await c.close().catch(() => {});
});

async function acknowledge(c: Cluster, client: Awaited<ReturnType<typeof registerClient>>, n: number, tag: string): Promise<string[]> {
  const answers = await Promise.all(Array.from({ length: n }, async (_, i) => anchor(c, await submission(c, client, document(`${tag} ${i}`)))));
  for (const a of answers) expect(a.status).toBe(202);
  return answers.map((a) => a.body.id);
}

/** Every acknowledged id sealed exactly once, receipts verify, every database audits clean. */
async function checkEverything(c: Cluster, acknowledged: readonly string[]) {
  const head = await c.primary.head();
  let total = 0;
  for (let h = 0; h < head.size; h++) total += (await c.primary.getBlock(h))!.size;
  expect(total).toBe(acknowledged.length);
  expect((await c.primary.pendingStats()).count).toBe(0);
  const trust = await (await c.request("/v1/trust")).json();
  for (const id of acknowledged) {
    const res = await c.request(`/v1/anchors/${id}/receipt`);
    expect(res.status, `receipt of ${id}`).toBe(200);
    await verifyReceipt(await res.json(), trust);
  }
  for (const store of [c.primary, ...c.replicas.map((r) => r.real)]) {
    const report = await auditChain(store, ORIGIN);
    expect(report, "audit").toMatchObject({ ok: true, blocks: head.size, entries: acknowledged.length });
  }
}

describe("replicas and quorum", () => {
  it("one replica down: the block is final with the other two; the replica is caught up when it returns", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    c.replicas[2]!.down = true;
    const ids = await acknowledge(c, client, 5, "one down");
    const report = await c.services.sealer.seal();
    expect(report).toMatchObject({ final: true, block: { height: 0, size: 5 } });
    expect(report.cosigners).toEqual(["m1.test", "m2.test"]);
    const consortium = await (await c.request("/v1/consortium")).json();
    expect(consortium.members[2].replica.status).toBe("unreachable");

    // Two more blocks while it is away: it lags by three when it returns.
    for (const tag of ["away 1", "away 2"]) {
      ids.push(...(await acknowledge(c, client, 3, tag)));
      await c.services.sealer.seal();
    }
    c.replicas[2]!.down = false;
    await c.services.sealer.seal();
    expect(await c.replicas[2]!.real.head()).toEqual(await c.primary.head());
    const after = await (await c.request("/v1/consortium")).json();
    expect(after.members[2].replica).toMatchObject({ status: "ok", head: { height: 2 } });
    await checkEverything(c, ids);
  });

  it("two replicas down: no quorum, entries stay pending with the reason shown; finality comes when they return", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    await c.services.sealer.seal();
    c.replicas[1]!.down = true;
    c.replicas[2]!.down = true;
    const ids = await acknowledge(c, client, 4, "no quorum");
    const report = await c.services.sealer.seal();
    expect(report.final).toBe(false);
    expect(report.reason).toContain("1 of 2 cosignatures");
    expect((await c.request(`/v1/anchors/${ids[0]}/receipt`)).status).toBe(202);
    expect((await (await c.request(`/v1/anchors/${ids[0]}`)).json()).status).toBe("pending");

    // More entries arrive; no new block is made while the newest one lacks a quorum.
    ids.push(...(await acknowledge(c, client, 2, "waiting")));
    const again = await c.services.sealer.seal();
    expect(again.block).toBeUndefined();
    expect((await c.primary.head()).size).toBe(1);
    const metrics = await (await c.request("/metrics")).text();
    expect(metrics).toMatch(/cairn_seals_total\{outcome="not_final"\} [1-9]/);
    const consortium = await (await c.request("/v1/consortium")).json();
    expect(consortium.members.map((m: any) => m.replica.status)).toEqual(["ok", "unreachable", "unreachable"]);

    c.replicas[1]!.down = false;
    c.replicas[2]!.down = false;
    const recovered = await c.services.sealer.seal();
    expect(recovered).toMatchObject({ final: true, block: { height: 1, size: 2 } });
    await checkEverything(c, ids);
  });

  it("a tampered replica is reported diverged with both headers and left out of the quorum", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    const ids = await acknowledge(c, client, 3, "tamper");
    await c.services.sealer.seal();

    // Someone with write access to member 2's database rewrites its block 0.
    const db = createClient({ url: pathToFileURL(join(c.dir, "member-2.db")).href });
    const { rows } = await db.execute("SELECT header FROM blocks WHERE height = 0");
    const forged = String(rows[0]!.header).replace(/\n(\d+)\n$/, (_, t) => `\n${Number(t) + 7}\n`);
    await db.execute({ sql: "UPDATE blocks SET header = ? WHERE height = 0", args: [forged] });
    db.close();

    ids.push(...(await acknowledge(c, client, 2, "after tamper")));
    const report = await c.services.sealer.seal();
    expect(report).toMatchObject({ final: true, block: { height: 1 } });
    expect(report.cosigners).toEqual(["m1.test", "m3.test"]);
    const member = (await (await c.request("/v1/consortium")).json()).members[1];
    expect(member.replica.status).toBe("diverged");
    expect(member.replica.evidence.primary).not.toBe(member.replica.evidence.replica);
    expect(member.replica.evidence.replica).toBe(forged);
    expect(await c.replicas[1]!.real.head()).toMatchObject({ size: 1 });

    const audit = await auditChain(c.replicas[1]!.real, ORIGIN);
    expect(audit).toMatchObject({ ok: false, firstBad: { height: 0 } });
  });

  it("an entry altered in a replica (headers untouched) is found by the rolling audit", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    const ids = await acknowledge(c, client, 4, "entry tamper");
    await c.services.sealer.seal();
    const db = createClient({ url: pathToFileURL(join(c.dir, "member-3.db")).href });
    await db.execute({ sql: "UPDATE entries SET entry = replace(entry, 'cairn.test/log', 'cairn.test/LOG') WHERE id = ?", args: [ids[2]!] });
    db.close();
    const report = await c.services.sealer.seal();
    expect(report.final).toBe(true);
    const member = (await (await c.request("/v1/consortium")).json()).members[2];
    expect(member.replica.status).toBe("diverged");
    expect(member.replica.evidence).toMatchObject({ height: 0, reason: expect.stringContaining("entry") });
    expect(member.replica.evidence.replica).toContain("cairn.test/LOG");
    ids.push(...(await acknowledge(c, client, 1, "after entry tamper")));
    expect((await c.services.sealer.seal()).cosigners).toEqual(["m1.test", "m2.test"]);
  });
});

describe("crash safety", () => {
  const steps: SealStep[] = ["primary-committed", "replica-synced:m1.test", "replica-synced:m2.test", "replica-synced:m3.test", "checkpoint-cosigned"];

  for (const step of steps) {
    it(`a crash after ${step}, then a restart: nothing lost, nothing doubled`, async () => {
      let armed = false;
      const first = await startCluster({
        fault: (s) => {
          if (armed && s === step) {
            armed = false;
            throw new Error(`injected crash after ${s}`);
          }
        },
      });
      const client = await registerClient(first);
      await first.services.sealer.seal();
      armed = true;
      const ids = await acknowledge(first, client, 7, `crash ${step}`);
      await expect(first.services.sealer.seal()).rejects.toThrow(/injected crash/);
      await first.close();

      const restarted = await cluster({ dir: first.dir, clock: first.clock });
      ids.push(...(await acknowledge(restarted, client, 2, `after restart ${step}`)));
      await restarted.services.sealer.seal();
      await restarted.services.sealer.seal();
      await checkEverything(restarted, ids);
    });
  }

  it("a reply lost after the primary committed: the next seal finishes the block, no entry twice", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    const ids = await acknowledge(c, client, 4, "lost reply");
    c.replicas[0]!.loseNextAppendReply = true;
    const report = await c.services.sealer.seal();
    expect(report.final).toBe(true); // m2 and m3 are enough
    expect((await (await c.request("/v1/consortium")).json()).members[0].replica.status).toBe("unreachable");
    await c.services.sealer.seal();
    expect(await c.replicas[0]!.real.head()).toEqual(await c.primary.head());
    await checkEverything(c, ids);
  });

  it("two sealers at once (two processes' worth of connections) make one block per height", async () => {
    const a = await cluster();
    const b = await cluster({ dir: a.dir, clock: a.clock });
    const client = await registerClient(a);
    const ids: string[] = [];
    for (let round = 0; round < 5; round++) {
      ids.push(...(await acknowledge(round % 2 ? a : b, client, 6, `race ${round}`)));
      const [ra, rb] = await Promise.all([a.services.sealer.seal(), b.services.sealer.seal()]);
      const made = [ra.block, rb.block].filter((x) => x !== undefined);
      expect(made.length, `round ${round}`).toBeLessThanOrEqual(1);
      if (made.length === 0) await a.services.sealer.seal();
    }
    await a.services.sealer.seal();
    await checkEverything(a, ids);
  });
});
