/**
 * The seal under failure, with each member's own witness (its own key,
 * replica and HTTP server on 127.0.0.1): witnesses down (quorum met and not
 * met), a witness catching up by itself when it returns, a witness whose
 * replica is deleted re-verifying from block 0, a failure after each write
 * step followed by a restart, and two sealers at once. After every scenario
 * a checker re-verifies: each acknowledged entry is sealed exactly once,
 * every receipt verifies offline, and the primary and every witness's
 * replica audit clean from block 0.
 */
import { rmSync } from "node:fs";
import { createServer, get, request as httpRequest } from "node:http";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cosignatureResponse, cosigner, parseAddCheckpoint, parseNote, parseSignerKey, sha256, utf8, verifyReceipt } from "../../src/core/index.js";
import { auditChain } from "../../src/service/audit.js";
import type { Logger } from "../../src/service/log.js";
import type { SealStep } from "../../src/service/seal.js";
import { openLibsqlStore } from "../../src/store/libsql.js";
import { anchor, document, memberSignerKey, operatorVerifierKey, ORIGIN, registerClient, sealedSubmissions, startCluster, submission, TestClock, type Cluster } from "./harness.js";

/** A wall clock that can be stepped (`offset`) while its monotonic reading goes on with `t`, as when NTP steps a machine's time. */
class SteppedClock extends TestClock {
  offset = 0;
  override now(): number {
    return this.t + this.offset;
  }
  elapsedMs(): number {
    return this.t * 1000;
  }
}

/** Another machine's clock, right (or `lag` seconds off) whatever the stepped one says. */
class WallOf extends TestClock {
  constructor(
    private readonly of: TestClock,
    private readonly lag = 0,
  ) {
    super();
  }
  override now(): number {
    return this.of.t + this.lag;
  }
}

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

/** Every acknowledged id sealed exactly once, receipts verify, primary and replicas (but those of `behind`) audit clean. */
async function checkEverything(c: Cluster, acknowledged: readonly string[], behind: readonly string[] = []) {
  const sealed = await sealedSubmissions(c);
  expect([...sealed].sort()).toEqual([...acknowledged].sort());
  expect((await c.primary.pendingStats()).count).toBe(0);
  const trust = await (await c.request("/v1/trust")).json();
  for (const id of acknowledged) {
    const res = await c.request(`/v1/anchors/${id}/receipt`);
    expect(res.status, `receipt of ${id}`).toBe(200);
    await verifyReceipt(await res.json(), trust, { noDocument: true, now: c.clock.now() });
  }
  const head = await c.primary.head();
  const audits = { origin: ORIGIN, operatorKeys: [operatorVerifierKey()], now: c.clock.now() };
  expect(await auditChain(c.primary, audits), "primary audit").toMatchObject({ ok: true, blocks: head.size });
  for (const w of c.witnesses) {
    const replica = await openLibsqlStore({ url: pathToFileURL(w.replicaFile).href });
    try {
      expect(await auditChain(replica, audits), `${w.name} audit`).toMatchObject({ ok: true, blocks: behind.includes(w.name) ? 0 : head.size });
    } finally {
      replica.close();
    }
  }
}

/** GET JSON on a connection of its own: the witness may just have been restarted on that port. */
function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(JSON.parse(body)));
    }).on("error", reject);
  });
}

async function consortium(c: Cluster) {
  // The witnesses' messages are for members and admin (read-scopes.ts).
  return (await c.request("/v1/consortium", { admin: true })).json();
}

describe("witnesses and quorum", () => {
  it("the honest path: each witness verifies the block into its own replica and cosigns; receipts carry the cosignatures", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    const ids = await acknowledge(c, client, 5, "honest");
    const report = await c.services.sealer.seal();
    expect(report).toMatchObject({ final: true, block: { height: 0, size: 6 } }); // 5 submissions and the client's registration
    await c.services.sealer.idle();
    const members = (await consortium(c)).members;
    expect(members.map((m: any) => [m.witness, m.answer.status])).toEqual(c.witnesses.map((w) => [w.url, "cosigned"]));
    for (const w of c.witnesses) {
      const status = await getJson(`${w.url}/status`);
      expect(status).toMatchObject({ replica: { size: 1 }, latest: { size: 1 }, halted: null });
      const cosigned = await (await fetch(`${w.url}/checkpoint`)).text();
      expect(cosigned).toContain(`— ${w.name} `);
    }
    await checkEverything(c, ids);
  });

  it("a witness whose clock runs 10 minutes ahead: the operator refuses its signed reads as out of time, so it cannot cosign; the other two make the block final", async () => {
    const c = await cluster({ witnessClock: (i) => (i === 3 ? new TestClock(new TestClock().t + 600) : undefined) });
    const client = await registerClient(c);
    const ids = await acknowledge(c, client, 2, "skewed");
    expect(await c.services.sealer.seal()).toMatchObject({ final: true });
    await c.services.sealer.idle();
    const answers = new Map<string, any>((await consortium(c)).members.map((m: any) => [m.name, m.answer]));
    expect(answers.get("m1.test").status).toBe("cosigned");
    const skewed = answers.get("m3.test");
    expect(skewed.status).toBe("refused");
    expect(skewed.message).toMatch(/^503: UNAVAILABLE: cannot read \/v1\/blocks\/0\/entries.*401 .*600 s from this server's clock .*check the signer's clock/);
    const final = await (await c.request("/v1/checkpoint")).text();
    expect(final).not.toContain("— m3.test ");
    // It read no entries, so it stored no block: a witness stores only what it verified.
    await checkEverything(c, ids, ["m3.test"]);
  });

  it("the operator's clock jumping 2 minutes ahead (past the 60 s a witness allows, within the 300 s a verifier allows cosignatures): it holds its pending entries instead of sealing a block every witness would refuse; put right, it seals and the block is final", async () => {
    // The operator's wall clock can be stepped; its monotonic clock, and the witnesses' clocks, cannot.
    const clock = new SteppedClock();
    const c = await cluster({ clock, witnessClock: () => new WallOf(clock) });
    const client = await registerClient(c);
    const ids = await acknowledge(c, client, 2, "before");
    expect(await c.services.sealer.seal()).toMatchObject({ final: true, block: { height: 0 } });
    await c.services.sealer.idle();
    ids.push(...(await acknowledge(c, client, 2, "waiting")));

    clock.offset = 120;
    const held = await c.services.sealer.seal();
    expect(held.block).toBeUndefined();
    expect(held.reason).toMatch(/^this operator's clock is ahead of the members' by about 120 s/);
    expect((await c.primary.head()).size).toBe(1);
    expect((await c.primary.pendingStats()).count).toBe(2);
    expect(await (await c.request("/metrics", { admin: true })).text()).toMatch(/cairn_seals_total\{outcome="clock_ahead"\} 1/);

    clock.offset = 0;
    expect(await c.services.sealer.seal()).toMatchObject({ final: true, block: { height: 1, size: 2 } });
    await c.services.sealer.idle();
    await checkEverything(c, ids);
  });

  it("a member dating its cosignatures as far back as a witness lets a block be ahead (59 s) holds nothing back, even where the quorum needs it (3 of 3)", async () => {
    const clock = new SteppedClock();
    const c = await cluster({ clock, quorum: 3, witnessClock: (i) => (i === 3 ? new WallOf(clock, -59) : new WallOf(clock)) });
    const client = await registerClient(c);
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      ids.push(...(await acknowledge(c, client, 2, `round ${round}`)));
      // (The first block holds the client's registration too.)
      expect(await c.services.sealer.seal()).toMatchObject({ final: true, block: { height: round, size: round === 0 ? 3 : 2 } });
      await c.services.sealer.idle();
      clock.t += 1;
    }
    await checkEverything(c, ids);
  });

  it("one witness down: final with the other two; it catches up by itself, verifying every block, when it returns", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    await c.witnesses[2]!.stop();
    const ids = await acknowledge(c, client, 5, "one down");
    const report = await c.services.sealer.seal();
    expect(report).toMatchObject({ final: true, block: { height: 0 } });
    expect([...report.cosigners].sort()).toEqual(["m1.test", "m2.test"]);
    await c.services.sealer.idle();
    expect((await consortium(c)).members[2].answer.status).toBe("unreachable");

    for (const tag of ["away 1", "away 2"]) {
      ids.push(...(await acknowledge(c, client, 3, tag)));
      await c.services.sealer.seal();
    }
    await c.witnesses[2]!.start();
    ids.push(...(await acknowledge(c, client, 1, "back")));
    const back = await c.services.sealer.seal();
    expect(back.final).toBe(true);
    // Asked while it catches up on the checkpoint before; the next seal asks it for the newest.
    await c.services.sealer.idle();
    await c.services.sealer.seal();
    await c.services.sealer.idle();
    const status = await getJson(`${c.witnesses[2]!.url}/status`);
    expect(status).toMatchObject({ replica: { size: 4 }, latest: { size: 4 }, halted: null });
    expect((await consortium(c)).members[2].answer.status).toBe("cosigned");
    await checkEverything(c, ids);
  });

  it("a member that stays down is logged when its answer changes and once a minute meanwhile, not at every seal", async () => {
    const lines: { level: string; event: string; fields: Record<string, unknown> }[] = [];
    const log = Object.fromEntries(
      (["info", "warn", "error"] as const).map((level) => [level, (event: string, fields: Record<string, unknown> = {}) => lines.push({ level, event, fields })]),
    ) as unknown as Logger;
    const c = await cluster({ log });
    await c.services.sealer.seal();
    const answers = () => lines.filter((l) => l.event === "witness_answer").map((l) => `${l.level} ${l.fields.member} ${l.fields.status}`);
    expect(answers()).toEqual([]); // cosignatures as usual are not news
    await c.witnesses[2]!.stop();
    const client = await registerClient(c);
    for (let i = 0; i < 5; i++) {
      await acknowledge(c, client, 1, `down ${i}`);
      c.clock.t += 1;
      await c.services.sealer.seal();
      await c.services.sealer.idle();
    }
    expect(answers()).toEqual(["warn m3.test unreachable"]);
    // Each block's seal line says where its time went.
    const seals = lines.filter((l) => l.event === "seal");
    expect(seals).toHaveLength(5);
    for (const l of seals) {
      expect(l).toMatchObject({ level: "info", fields: { outcome: "block", size: expect.any(Number), cosigners: 2 } });
      for (const phase of ["takeMs", "buildMs", "commitMs", "cosignMs"]) expect(l.fields[phase]).toEqual(expect.any(Number));
    }
    c.clock.t += 60;
    await c.services.sealer.seal();
    await c.services.sealer.idle();
    expect(answers()).toEqual(["warn m3.test unreachable", "warn m3.test unreachable"]);
    await c.witnesses[2]!.start();
    await c.services.sealer.seal();
    await c.services.sealer.idle();
    expect(answers()).toEqual(["warn m3.test unreachable", "warn m3.test unreachable", "info m3.test cosigned"]);
    // Every answer is still counted and stored, logged or not.
    expect(await (await c.request("/metrics", { admin: true })).text()).toMatch(/cairn_witness_answers_total\{member="m3.test",status="unreachable"\} ([6-9]|\d\d)/);
  });

  it("two witnesses down: no quorum, entries stay pending with the reason shown; finality comes when one returns", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    await c.services.sealer.seal();
    await c.witnesses[1]!.stop();
    await c.witnesses[2]!.stop();
    const ids = await acknowledge(c, client, 4, "no quorum");
    const report = await c.services.sealer.seal();
    expect(report.final).toBe(false);
    expect(report.reason).toContain("1 of 2 cosignatures");
    expect((await c.request(`/v1/anchors/${ids[0]}/receipt`)).status).toBe(202);

    // More entries arrive; no new block is made while the newest one lacks a quorum (fail closed).
    ids.push(...(await acknowledge(c, client, 2, "waiting")));
    const again = await c.services.sealer.seal();
    expect(again.block).toBeUndefined();
    const heightBefore = (await c.primary.head()).size;
    const metrics = await (await c.request("/metrics", { admin: true })).text();
    expect(metrics).toMatch(/cairn_seals_total\{outcome="not_final"\} [1-9]/);
    expect(metrics).toMatch(/cairn_witness_answers_total\{member="m2.test",status="unreachable"\} [1-9]/);
    expect((await consortium(c)).members.map((m: any) => m.answer.status)).toEqual(["cosigned", "unreachable", "unreachable"]);

    await c.witnesses[1]!.start();
    const recovered = await c.services.sealer.seal();
    expect(recovered).toMatchObject({ final: true, block: { height: heightBefore, size: 2 } });
    await c.witnesses[2]!.start();
    // The chain is final; the member that was away is still asked, catches up and cosigns.
    await c.services.sealer.seal();
    await c.services.sealer.idle();
    expect((await consortium(c)).members.map((m: any) => m.answer.status)).toEqual(["cosigned", "cosigned", "cosigned"]);
    await checkEverything(c, ids);
  });

  it("a witness whose replica is deleted re-verifies from block 0 and cosigns again, its cosigned state intact", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    const ids: string[] = [];
    for (const tag of ["first", "second"]) {
      ids.push(...(await acknowledge(c, client, 3, tag)));
      await c.services.sealer.seal();
    }
    await c.services.sealer.idle();
    const w = c.witnesses[0]!;
    await w.stop();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(w.replicaFile + suffix, { force: true });
    await w.start();
    expect(await getJson(`${w.url}/status`)).toMatchObject({ replica: { size: 0 }, latest: { size: 2 } });
    ids.push(...(await acknowledge(c, client, 2, "third")));
    await c.services.sealer.seal();
    await c.services.sealer.idle();
    expect(await getJson(`${w.url}/status`)).toMatchObject({ replica: { size: 3 }, latest: { size: 3 }, halted: null });
    await checkEverything(c, ids);
  });
});

describe("a member that lies, and a client that sends its witness garbage", () => {
  /** Serves on the port of witness 3 (stopped): whatever `answer` makes of each add-checkpoint body. */
  async function impostor(c: Cluster, answer: (body: string) => Promise<{ status: number; body: string }>) {
    const w = c.witnesses[2]!;
    await w.stop();
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        void answer(body).then((a) => res.writeHead(a.status, { "Content-Type": "text/plain" }).end(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(w.port, "127.0.0.1", () => r()));
    return { close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  const lies: [string, (body: string) => Promise<{ status: number; body: string }>, RegExp][] = [
    [
      "a cosignature under its name made with another key",
      async (body) => ({ status: 200, body: await cosignatureResponse(parseNote(parseAddCheckpoint(body).checkpoint).text, [cosigner(sha256(utf8("not m3's key")), "m3.test", 1_900_000_000)]) }),
      /^200 without a valid cosignature by m3\.test/,
    ],
    [
      "its own valid cosignature, dated 10 minutes ahead",
      async (body) => ({ status: 200, body: await cosignatureResponse(parseNote(parseAddCheckpoint(body).checkpoint).text, [cosigner(parseSignerKey(memberSignerKey(3)).seed, "m3.test", new TestClock().t + 600)]) }),
      /verifiers would not count it; check the witness's clock/,
    ],
    ["a 200 with garbage", async () => ({ status: 200, body: "— m3.test AAAA\n" }), /^200 without a valid cosignature by m3\.test/],
    ["a 200 larger than any answer", async () => ({ status: 200, body: "x".repeat(200_000) }), /larger than/],
  ];
  for (const [what, answer, message] of lies) {
    it(`a witness answering ${what} is counted for nothing; the chain is final with the honest two`, async () => {
      const c = await cluster();
      const fake = await impostor(c, answer);
      try {
        const client = await registerClient(c);
        const ids = await acknowledge(c, client, 2, `lie ${what}`);
        const report = await c.services.sealer.seal();
        await c.services.sealer.idle();
        expect(report.final).toBe(true);
        const stored = await c.primary.latestCheckpoint(0);
        expect(stored!.cosigners).not.toContain("m3.test");
        expect(parseNote(stored!.note).signatures.map((s) => s.name)).not.toContain("m3.test");
        const m3 = (await consortium(c)).members[2];
        expect(m3.answer.status).not.toBe("cosigned");
        expect(m3.answer.message).toMatch(message);
        const trust = await (await c.request("/v1/trust")).json();
        for (const id of ids) expect([...(await verifyReceipt(await (await c.request(`/v1/anchors/${id}/receipt`)).json(), trust, { noDocument: true, now: c.clock.now() })).cosigners].sort()).toEqual(["m1.test", "m2.test"]);
      } finally {
        await fake.close();
      }
    });
  }

  it("a witness refuses garbage, an empty body, an oversized body and other methods, and nothing it holds changes", async () => {
    const c = await cluster();
    const client = await registerClient(c);
    await acknowledge(c, client, 1, "before garbage");
    await c.services.sealer.seal();
    await c.services.sealer.idle();
    const w = c.witnesses[0]!;
    const before = await getJson(`${w.url}/status`);
    const post = (body: string, method = "POST") =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${w.url}/add-checkpoint`, { method, agent: false, headers: { "Content-Type": "text/plain" } }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    expect((await post("not a request")).status).toBe(400);
    expect((await post("")).status).toBe(400);
    expect((await post("old 0\n\n" + "\u0000".repeat(100))).status).toBe(400);
    const big = await post("old 0\n" + "A".repeat(70_000));
    expect(big.status).toBe(413);
    expect((await post("", "PUT")).status).toBe(404);
    expect(await getJson(`${w.url}/status`)).toEqual(before);
  });
});

describe("crash safety", () => {
  const steps: SealStep[] = ["primary-committed", "witness-answered:m1.test", "witness-answered:m2.test", "witness-answered:m3.test", "checkpoint-cosigned"];

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
      // Answers come in any order, so the crash may end the seal's run or
      // one of the answers still arriving after the quorum: either way the
      // process "dies" right after the step, here by closing it.
      await first.services.sealer.seal().catch((e: Error) => expect(e.message).toMatch(/injected crash/));
      await first.services.sealer.idle();
      expect(armed, `the fault after ${step} fired`).toBe(false);
      await first.close();

      const restarted = await cluster({ dir: first.dir, clock: first.clock });
      ids.push(...(await acknowledge(restarted, client, 2, `after restart ${step}`)));
      await restarted.services.sealer.seal();
      await restarted.services.sealer.seal();
      await checkEverything(restarted, ids);
    });
  }

  it("two sealers at once (two processes' worth of connections) make one block per height", async () => {
    const a = await cluster();
    const b = await cluster({ dir: a.dir, clock: a.clock, witnesses: a.witnesses });
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
