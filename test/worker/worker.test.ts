/**
 * The built Worker in workerd (Miniflare) with a D1 primary and three D1
 * member replicas: anchor → cron → receipt → offline verification with
 * src/core; concurrent cron runs making one block; concurrent and batched
 * submissions; the bad-input table answered as on Node; a member's database
 * failing during a seal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatVerifierKey, KEY_TYPE_ED25519, parseCheckpoint, parseNote, parseSignerKey, sha256, toHex, verifyReceipt } from "../../src/core/index.js";
import { badInputCases } from "../service/bad-input.js";
import { anchor, document, now, operatorKey, ORIGIN, registerClient, startWorkerd, submission, THREE_D1_MEMBERS, settings, type Workerd } from "./harness.js";

let w: Workerd;
let client: Awaited<ReturnType<typeof registerClient>>;

beforeAll(async () => {
  // Cron-driven here (an hour between request-started seals), so each test decides when a seal runs;
  // cluster.test.ts covers seals started by requests.
  w = await startWorkerd([{ name: "cairn", bindings: settings(THREE_D1_MEMBERS, { CAIRN_SEAL_INTERVAL: "3600" }) }]);
  client = await registerClient(w);
});
afterAll(() => w?.close());

async function json(path: string): Promise<any> {
  const res = await w.request(path);
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return res.json();
}

async function head(): Promise<number> {
  return (await json("/healthz")).blocks;
}

/** The trust document a verifier pins, built from the keys alone (not from the server). */
function localTrust() {
  const op = parseSignerKey(operatorKey());
  return { version: "cairn-trust/v1", origin: ORIGIN, operatorKeys: [formatVerifierKey(op.name, KEY_TYPE_ED25519, op.publicKey)], quorum: 2 };
}

describe("the Worker in workerd", () => {
  it("serves, and the first cron run publishes the size-0 checkpoint", async () => {
    const health = await json("/healthz");
    expect(health).toMatchObject({ ok: true, origin: ORIGIN, blocks: 0 });
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request("/v1/checkpoint");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(parseCheckpoint(parseNote(await res.text()).text).size).toBe(0);
  });

  it("anchor → scheduled → receipt → offline verification with src/core", async () => {
    const doc = document("worker first");
    const { status, body } = await anchor(w, await submission(client, doc));
    expect(status).toBe(202);
    expect((await w.request(`/v1/anchors/${body.id}/receipt`)).status).toBe(202);

    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    expect(res.status).toBe(200);
    const receipt = await res.json();

    const trust = await json("/v1/trust");
    expect(trust.operatorKeys).toEqual(localTrust().operatorKeys);
    const verified = await verifyReceipt(receipt, trust, { document: doc, clientKeys: [client.verifierKey] });
    expect(verified.cosigners.length).toBe(3);
    expect(verified.blockHeight).toBe(0);
    // The same verifier runs inside the Worker too (POST /v1/verify).
    const onServer = await (await w.request("/v1/verify", { method: "POST", json: { receipt, digest: toHex(sha256(doc)) } })).json();
    expect(onServer).toMatchObject({ ok: true });
  });

  it("concurrent cron runs in one isolate make one block, not two", async () => {
    const before = await head();
    const ids = await Promise.all([1, 2, 3].map(async (i) => (await anchor(w, await submission(client, document(`race ${i}`)))).body.id as string));
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => w.scheduled()));
    expect(outcomes.every((o) => o.outcome === "ok")).toBe(true);
    expect(await head()).toBe(before + 1);
    const { entries } = await json(`/v1/blocks/${before}/entries`);
    expect(entries.map((e: any) => e.id).sort()).toEqual([...ids].sort());
  });

  it("concurrent submissions (each request commits its own) are all acknowledged and sealed exactly once", async () => {
    const notes = await Promise.all(Array.from({ length: 100 }, (_, i) => submission(client, document(`concurrent ${i}`))));
    const answers = await Promise.all(notes.map((n) => anchor(w, n)));
    expect(answers.map((a) => a.status)).toEqual(notes.map(() => 202));
    const before = await head();
    await w.scheduled();
    expect(await head()).toBe(before + 1);
    const { entries } = await json(`/v1/blocks/${before}/entries?limit=1000`);
    expect(new Set(entries.map((e: any) => e.id))).toEqual(new Set(answers.map((a) => a.body.id)));
  });

  it("a batch request is committed as one group and answered per item", async () => {
    const notes = await Promise.all(Array.from({ length: 300 }, (_, i) => submission(client, document(`batch ${i}`))));
    const res = await w.request("/v1/anchors/batch", { method: "POST", json: { submissions: [...notes, notes[0], 42] } });
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results.slice(0, 300).every((r: any) => r.created === true && r.status === "pending")).toBe(true);
    expect(results[300]).toMatchObject({ id: results[0].id, created: false });
    expect(results[301].error.code).toBe("BAD_NOTE");
    expect((await json("/healthz")).pending).toBe(300);
    await w.scheduled();
    expect((await json("/healthz")).pending).toBe(0);
  });
});

describe("bad input is answered as on Node", () => {
  const send = (body: string | object, path = "/v1/anchors") =>
    w.request(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const pending = async () => (await json("/healthz")).pending as number;

  for (const c of badInputCases({ origin: ORIGIN, now, signer: () => client.signer, registeredName: "app.test" })) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await pending();
      const res = await send(await c.body(), c.path);
      expect(res.status).toBe(c.status);
      const body = await res.json();
      expect(body.error.code).toBe(c.code);
      expect(body.error.message.length).toBeGreaterThan(10);
      if (c.words) expect(body.error.message).toContain(c.words);
      expect(await pending()).toBe(before);
    });
  }
});

describe("a member's D1 database failing during a seal", () => {
  it("leaves the other two as the quorum: the block is final and its receipt verifies", async () => {
    // The replica's tables vanish under the running Worker: every query to it now fails.
    const member3 = await w.d1("MEMBER_3");
    await member3.batch(["blocks", "entries", "history_hashes", "batch_tiles", "checkpoints"].map((t) => member3.prepare(`DROP TABLE ${t}`)));

    const doc = document("one replica down");
    const { body } = await anchor(w, await submission(client, doc));
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    expect(res.status).toBe(200);
    const verified = await verifyReceipt(await res.json(), await json("/v1/trust"), { document: doc });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test"]);

    const consortium = await json("/v1/consortium");
    const status = Object.fromEntries(consortium.members.map((m: any) => [m.name, m.replica.status]));
    expect(status).toEqual({ "m1.test": "ok", "m2.test": "ok", "m3.test": "unreachable" });
    const metrics = await (await w.request("/metrics")).text();
    expect(metrics).toMatch(/cairn_replica_lag_blocks\{member="m3.test"\} -1/);
  });
});
