/**
 * The built Worker in workerd (Miniflare) with a D1 primary and three member
 * witnesses on 127.0.0.1 (each its own key, replica and state, following the
 * Worker over its public API): the client's registration sealed as a chain
 * record; anchor → cron → receipt → offline verification with src/core
 * against keys the verifier pins itself; concurrent cron runs making one
 * block; concurrent and batched submissions; the bad-input table answered
 * as on Node; a member's witness down during a seal, and caught up when it
 * returns.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzRequest, sendFuzz } from "../http/fuzz-requests.js";
import { DEFAULTS } from "../../src/service/config.js";
import { openClientRecord } from "../../src/core/client-record.js";
import { parseCheckpoint, parseNote, parseSignerKey, requestSigner, sha256, signRequest, toHex, verifyReceipt, type Trust } from "../../src/core/index.js";
import { openLibsqlStore } from "../../src/store/libsql.js";
import { badInputCases } from "../service/bad-input.js";
import {
  ADMIN_TOKEN,
  anchor,
  document,
  eventually,
  makeWitnesses,
  memberKey,
  memberName,
  memberSignerKey,
  now,
  operatorVerifierKey,
  ORIGIN,
  registerClient,
  settings,
  startWorkerd,
  submission,
  type TestWitness,
  type Workerd,
} from "./harness.js";

let w: Workerd;
let witnesses: TestWitness[];
let client: Awaited<ReturnType<typeof registerClient>>;

beforeAll(async () => {
  witnesses = await makeWitnesses(3);
  // Cron-driven here (an hour between request-started seals), so each test decides when a seal runs;
  // cluster.test.ts covers seals started by requests.
  w = await startWorkerd([{ name: "cairn", bindings: settings(witnesses, { CAIRN_SEAL_INTERVAL: "3600" }) }], { witnesses });
  client = await registerClient(w);
});
afterAll(() => w?.close());

async function json(path: string, init: { admin?: boolean } = {}): Promise<any> {
  const res = await w.request(path, init);
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return res.json();
}

async function head(): Promise<number> {
  return (await json("/healthz")).blocks;
}

/** The trust document a verifier pins, built from the keys alone (not from the server). */
const localTrust: Trust = {
  version: "cairn-trust/v1",
  origin: ORIGIN,
  operatorKeys: [operatorVerifierKey()],
  members: [1, 2, 3].map((i) => ({ name: memberName(i), key: memberKey(i) })),
  quorum: 2,
};

/** Each witness's answers as the operator shows them on /v1/consortium. */
async function answers(): Promise<Record<string, string | undefined>> {
  return Object.fromEntries((await json("/v1/consortium")).members.map((m: any) => [m.name, m.answer?.status]));
}

describe("the Worker in workerd, with its members' witnesses", () => {
  it("serves, and the first cron run seals the client's registration as block 0, which every witness verifies and cosigns", async () => {
    expect(await json("/healthz")).toMatchObject({ ok: true, origin: ORIGIN });
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request("/v1/checkpoint");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(parseCheckpoint(parseNote(await res.text()).text).size).toBe(1);

    // The registration is a chain record signed by the operator, before any submission of the client.
    const { entries } = await json("/v1/blocks/0/entries", { admin: true });
    expect(entries).toHaveLength(1);
    expect(await openClientRecord(entries[0].entry, [operatorVerifierKey()])).toMatchObject({ action: "register", key: client.verifierKey, name: "app.test" });

    // Each witness read block 0 back from the Worker, verified it and stored it in its own replica.
    const { hash } = await json("/v1/blocks/0");
    for (const witness of witnesses) {
      expect(await witness.status()).toMatchObject({ replica: { size: 1, hash }, latest: { size: 1 }, halted: null });
    }
    expect(await answers()).toEqual({ "m1.test": "cosigned", "m2.test": "cosigned", "m3.test": "cosigned" });
  });

  it("anchor → scheduled → receipt → offline verification with src/core, cosigned by the members' witnesses", async () => {
    const doc = document("worker first");
    const { status, body } = await anchor(w, await submission(client, doc));
    expect(status).toBe(202);
    expect((await w.request(`/v1/anchors/${body.id}/receipt`)).status).toBe(202);

    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    expect(res.status).toBe(200);
    const receipt = await res.json();

    const trust = await json("/v1/trust");
    expect(trust).toEqual(localTrust);
    const verified = await verifyReceipt(receipt, localTrust, { document: doc, clientKeys: [client.verifierKey] });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test", "m3.test"]);
    expect(verified.blockHeight).toBe((await json(`/v1/anchors/${body.id}`)).block.height);
    // The cosignature lines are those the witnesses returned: each serves its latest cosigned checkpoint.
    for (const witness of witnesses) {
      const latest = await (await fetch(`${witness.url}/checkpoint`)).text();
      const line = latest.split("\n").find((l) => l.startsWith(`— ${witness.name} `))!;
      expect(receipt.checkpoint).toContain(line);
    }
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
    const { entries } = await json(`/v1/blocks/${before}/entries`, { admin: true });
    expect(entries.map((e: any) => e.id).sort()).toEqual([...ids].sort());
  });

  it("concurrent submissions (each request commits its own) are all acknowledged and sealed exactly once", async () => {
    const notes = await Promise.all(Array.from({ length: 100 }, (_, i) => submission(client, document(`concurrent ${i}`))));
    const answered = await Promise.all(notes.map((n) => anchor(w, n)));
    expect(answered.map((a) => a.status)).toEqual(notes.map(() => 202));
    const before = await head();
    await w.scheduled();
    expect(await head()).toBe(before + 1);
    const { entries } = await json(`/v1/blocks/${before}/entries?limit=1000`, { admin: true });
    expect(new Set(entries.map((e: any) => e.id))).toEqual(new Set(answered.map((a) => a.body.id)));
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
    // The witnesses verified all 300 signatures before cosigning.
    const size = await head();
    for (const witness of witnesses) expect(await witness.status()).toMatchObject({ replica: { size }, latest: { size } });
  });
});

describe("scoped reads, enforced by the Worker as on Node (test/http/read-scopes.test.ts has the whole table)", () => {
  const signed = async (path: string, key: string) =>
    w.request(path, { headers: { Authorization: await signRequest({ origin: ORIGIN, method: "GET", target: path, time: now() }, requestSigner(parseSignerKey(key))) } });

  it("a block's entries: 401 with no credential, 403 for a client, 200 for a member signing with its cosigner key", async () => {
    const path = "/v1/blocks/0/entries?offset=0&limit=10";
    const none = await w.request(path);
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringContaining("cosigner key") });
    const byClient = await signed(path, client.signerKey);
    expect(byClient.status).toBe(403);
    expect((await byClient.json()).error.code).toBe("FORBIDDEN");
    const byMember = await signed(path, memberSignerKey(2));
    expect(byMember.status).toBe(200);
    expect((await byMember.json()).entries).toHaveLength(1);
  });

  it("a digest lookup: 401 with no credential, the client's own anchors with its signature; /metrics wants a token", async () => {
    const doc = document("worker lookup");
    const { body } = await anchor(w, await submission(client, doc));
    const path = `/v1/digests/${toHex(sha256(doc))}`;
    expect((await w.request(path)).status).toBe(401);
    expect((await (await signed(path, client.signerKey)).json()).anchors.map((a: any) => a.id)).toEqual([body.id]);
    expect((await w.request("/metrics")).status).toBe(401);
    // Anyone sees each witness's status, not its words.
    const { members } = await json("/v1/consortium");
    expect(members.every((m: any) => m.answer === null || !("message" in m.answer))).toBe(true);
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

describe("a member's witness down during a seal", () => {
  it("leaves the other two as the quorum: the block is final, its receipt verifies, and the operator shows the witness unreachable", async () => {
    const m3 = witnesses[2]!;
    await m3.stop();

    const doc = document("one witness down");
    const { body } = await anchor(w, await submission(client, doc));
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    expect(res.status).toBe(200);
    const verified = await verifyReceipt(await res.json(), localTrust, { document: doc });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test"]);

    // The witness's message is for members and the admin; anyone sees its status.
    const m3Shown = (await json("/v1/consortium", { admin: true })).members.find((m: any) => m.name === "m3.test");
    expect(m3Shown).toMatchObject({ key: m3.key, witness: m3.url, answer: { status: "unreachable" } });
    expect(m3Shown.answer.message.length).toBeGreaterThan(0);
    expect(await answers()).toEqual({ "m1.test": "cosigned", "m2.test": "cosigned", "m3.test": "unreachable" });
    const metrics = await (await w.request("/metrics", { admin: true })).text();
    expect(metrics).toMatch(/cairn_witness_answers_total\{member="m3\.test",status="unreachable"\} [1-9]/);
  });

  it("is asked again when it is back: it catches up from the Worker, cosigns, and its replica holds the operator's blocks", async () => {
    const m3 = witnesses[2]!;
    await m3.start();
    const size = await head();
    // The next seal (nothing pending) asks the member that has not cosigned the newest checkpoint.
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    await eventually(async () => ((await answers())["m3.test"] === "cosigned" ? true : undefined));
    expect(await m3.status()).toMatchObject({ replica: { size }, latest: { size }, halted: null });
    const checkpoint = parseNote(await (await w.request("/v1/checkpoint")).text());
    expect(checkpoint.signatures.map((s) => s.name).sort()).toEqual([ORIGIN, "m1.test", "m2.test", "m3.test"]);

    // Block by block, its own replica file holds what the operator published.
    await m3.stop();
    const replica = await openLibsqlStore({ url: `file:${m3.replicaFile}` });
    try {
      for (let h = 0; h < size; h++) expect((await replica.getBlock(h))?.hash, `block ${h}`).toBe((await json(`/v1/blocks/${h}`)).hash);
    } finally {
      replica.close();
    }
    await m3.start();
  });
});

describe("fuzzing the Worker's HTTP boundary (test/http/fuzz-requests.ts)", () => {
  it("no 5xx and always the error body, for requests of every shape; a refused one registers or revokes nothing", async () => {
    let runs = 0;
    const clients = async () => JSON.stringify((await json("/v1/admin/clients", { admin: true })).clients);
    // Bodies past the limit are left to the bad-input table: workerd answers 413 and resets the
    // connection while Miniflare's client is still writing, which is a transport error here.
    const requests = fuzzRequest(ADMIN_TOKEN).filter((r) => (r.body?.data.length ?? 0) <= DEFAULTS.maxBodyBytes);
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        runs++;
        const before = await clients();
        // From a source of its own (as Cloudflare's edge names it), so the wrong admin tokens it
        // sends hold back that source only, not this test's own admin reads.
        const { status } = await sendFuzz("", r, (url, init) => w.request(url, { ...init, headers: { ...(init.headers as Record<string, string>), "CF-Connecting-IP": "203.0.113.7" } } as never));
        if (status >= 400) expect(await clients()).toBe(before);
      }),
      { numRuns: 300, seed: 20261204 },
    );
    console.log(`Worker HTTP fuzz: ${runs} requests`);
  });
});
