/**
 * The HTTP API end to end, on the real server over 127.0.0.1 with real
 * libSQL files and real signatures: anchor → seal → receipt → offline verify,
 * batches, idempotency, every kind of bad input (and that it writes nothing),
 * revocation, admin auth, and the read routes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fromBase64,
  leafHash,
  noteSigner,
  openNote,
  openPromise,
  parseCheckpoint,
  parseNote,
  sha256,
  toHex,
  utf8,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
  blockHash,
  merkleRoot,
  parseSignerKey,
  requestSigner,
  signRequest,
} from "../../src/core/index.js";
import { BlockEntries } from "../../src/http/schemas.js";
import { badInputCases } from "./bad-input.js";
import { anchor, clientKeys, document, registerClient, sealFully, startCluster, submission, type Cluster, ORIGIN } from "./harness.js";

let cluster: Cluster;
let client: Awaited<ReturnType<typeof registerClient>>;

beforeAll(async () => {
  cluster = await startCluster();
  client = await registerClient(cluster);
  await sealFully(cluster); // publishes the size-0 checkpoint
});
afterAll(() => cluster.close());

async function pendingCount() {
  return (await cluster.primary.pendingStats()).count;
}

async function trust() {
  return (await cluster.request("/v1/trust")).json();
}

describe("anchor → seal → receipt → offline verification", () => {
  it("answers 202 with a promise the operator signed, seals it, and the receipt verifies offline", async () => {
    const doc = document("first");
    const note = await submission(cluster, client, doc);
    const { status, body } = await anchor(cluster, note);
    expect(status).toBe(202);
    expect(body.status).toBe("pending");
    expect(body.id).toBe(toHex(leafHash(utf8(note))));
    const t = await trust();
    const promise = await openPromise(body.promise, t.operatorKeys);
    expect(promise).toMatchObject({ id: body.id, origin: ORIGIN, receivedAt: cluster.clock.now(), deadline: cluster.clock.now() + 60 });

    const pending = await cluster.request(`/v1/anchors/${body.id}/receipt`);
    expect(pending.status).toBe(202);
    expect(pending.headers.get("Retry-After")).toBe("1");
    expect(await pending.json()).toEqual({ id: body.id, status: "pending" });

    const report = await sealFully(cluster);
    expect(report.block?.size).toBe(1);
    expect(report.final).toBe(true);

    const res = await cluster.request(`/v1/anchors/${body.id}/receipt`);
    expect(res.status).toBe(200);
    const receipt = await res.json();
    expect(receipt.entry).toBe(note);
    const verified = await verifyReceipt(receipt, t, { document: doc, clientKeys: [client.verifierKey], now: cluster.clock.now() });
    expect(verified.cosigners.length).toBeGreaterThanOrEqual(2);

    const status2 = await (await cluster.request(`/v1/anchors/${body.id}`)).json();
    expect(status2).toMatchObject({ id: body.id, status: "sealed", promise: body.promise, block: { height: receipt.history.index, index: 0 } });
    expect(status2.receipt.entry).toBe(note);
  });

  it("proofs in the receipt check by hand too: RFC 6962 hashes, C2SP checkpoint", async () => {
    const note = await submission(cluster, client, document("by hand"));
    const { body } = await anchor(cluster, note);
    await sealFully(cluster);
    const r = await (await cluster.request(`/v1/anchors/${body.id}/receipt`)).json();
    const header = r.block.split("\n");
    verifyInclusion(leafHash(utf8(r.entry)), r.inclusion.index, r.inclusion.size, r.inclusion.path.map((p: string) => fromBase64(p)), fromBase64(header[5]));
    const cp = parseCheckpoint(parseNote(r.checkpoint).text);
    verifyInclusion(blockHash(r.block), r.history.index, r.history.size, r.history.path.map((p: string) => fromBase64(p)), cp.root);
    const checkpoint = await (await cluster.request("/v1/checkpoint")).text();
    expect(checkpoint).toBe(r.checkpoint);
  });
});

describe("batches and idempotency", () => {
  it("answers each item of a batch on its own, in order", async () => {
    const notes = await Promise.all([1, 2, 3].map((i) => submission(cluster, client, document(`batch ${i}`))));
    const stranger = { signer: noteSigner(clientKeys("stranger.test").signerKey) };
    const bad = await submission(cluster, stranger, document("batch x"));
    const res = await cluster.request("/v1/anchors/batch", { method: "POST", json: { submissions: [notes[0], bad, notes[1], 42, notes[2], notes[0]] } });
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results.map((r: any) => r.error?.code ?? (r.created ? "new" : "known"))).toEqual(["new", "UNKNOWN_CLIENT", "new", "BAD_NOTE", "new", "known"]);
    expect(results[5].id).toBe(results[0].id);
  });

  it("a resubmission gets 200 with the same id and the original promise, even once stale", async () => {
    const note = await submission(cluster, client, document("again"));
    const first = await anchor(cluster, note);
    const before = await pendingCount();
    const second = await anchor(cluster, note);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await pendingCount()).toBe(before);
    await sealFully(cluster);
    cluster.clock.t += 3600;
    try {
      const third = await anchor(cluster, note);
      expect(third.status).toBe(200);
      expect(third.body).toMatchObject({ id: first.body.id, status: "sealed", promise: first.body.promise });
    } finally {
      cluster.clock.t -= 3600;
    }
  });

  it("many concurrent submissions are all acknowledged and all sealed exactly once", async () => {
    const notes = await Promise.all(Array.from({ length: 200 }, (_, i) => submission(cluster, client, document(`concurrent ${i}`))));
    const answers = await Promise.all(notes.map((n) => anchor(cluster, n)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const report = await sealFully(cluster);
    expect(report.block?.size).toBe(200);
    const entries = await cluster.primary.blockEntries(report.block!.height, 0, 1000);
    expect(new Set(entries.map((e) => e.id))).toEqual(new Set(answers.map((a) => a.body.id)));
  });
});

describe("bad input gets a clear 4xx and writes nothing", () => {
  const send = (body: string | object, path = "/v1/anchors") =>
    cluster.request(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  const cases = badInputCases({ origin: ORIGIN, now: () => cluster.clock.now(), signer: () => client.signer, registeredName: "app.test" });
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await pendingCount();
      const res = await send(await c.body(), c.path);
      expect(res.status).toBe(c.status);
      const json = await res.json();
      expect(json.error.code).toBe(c.code);
      expect(json.error.message.length).toBeGreaterThan(10);
      if (c.words) expect(json.error.message).toContain(c.words);
      expect(await pendingCount()).toBe(before);
    });
  }

  // A body sent chunked has no Content-Length to check up front: it is
  // counted as it streams in, and refused past the limit all the same.
  const chunked = (text: string) =>
    fetch(`${cluster.url}/v1/anchors`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < text.length; i += 65_536) c.enqueue(utf8(text.slice(i, i + 65_536)));
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit);

  it("an oversize body sent chunked (no Content-Length) → 413 TOO_LARGE", async () => {
    const before = await pendingCount();
    const res = await chunked(JSON.stringify({ submission: "x".repeat(3_000_000) }));
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("TOO_LARGE");
    expect(await pendingCount()).toBe(before);
  });

  it("a good submission sent chunked is accepted like any other", async () => {
    const res = await chunked(JSON.stringify({ submission: await submission(cluster, client, document("chunked")) }));
    expect(res.status).toBe(202);
  });
});

describe("clients and admin", () => {
  it("admin routes need the bearer token, compared exactly", async () => {
    const none = await cluster.request("/v1/admin/seal", { method: "POST" });
    expect(none.status).toBe(401);
    const wrong = await cluster.request("/v1/admin/seal", { method: "POST", headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).error.code).toBe("FORBIDDEN");
    const ok = await cluster.request("/v1/admin/seal", { method: "POST", admin: true });
    expect(ok.status).toBe(200);
  });

  it("registration: 201 new, 200 the same key again, 409 the same name with another key, 400 a bad key", async () => {
    const k = clientKeys("reg.test");
    const reg = (key: string) => cluster.request("/v1/admin/clients", { method: "POST", admin: true, json: { key } });
    expect((await reg(k.verifierKey)).status).toBe(201);
    expect((await reg(k.verifierKey)).status).toBe(200);
    const other = clientKeys("reg.test-2").verifierKey;
    const { generateKeyPair, sha256: h } = await import("../../src/core/index.js");
    const sameName = generateKeyPair("reg.test", h(utf8("another seed"))).verifierKey;
    const conflict = await reg(sameName);
    expect(conflict.status).toBe(409);
    expect((await conflict.json()).error.code).toBe("CLIENT_CONFLICT");
    const badKey = await reg(other.slice(0, -4));
    expect(badKey.status).toBe(400);
  });

  it("registration refuses a look-alike client name with 400 BAD_KEY_NAME, and registers nothing", async () => {
    const { generateKeyPair, sha256: h } = await import("../../src/core/index.js");
    const lookalike = generateKeyPair("\u0430pp.test", h(utf8("cyrillic a"))).verifierKey; // "аpp.test", Cyrillic а
    const res = await cluster.request("/v1/admin/clients", { method: "POST", admin: true, json: { key: lookalike } });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("BAD_KEY_NAME");
    expect(error.message).toContain("lowercase ASCII letters and digits");
    expect((await cluster.request("/v1/admin/clients/%D0%B0pp.test", { method: "DELETE", admin: true })).status).toBe(404);
  });

  it("a revoked key is refused with 403 CLIENT_REVOKED; its earlier anchors still verify", async () => {
    const c = await registerClient(cluster, "revoked.test");
    const doc = document("before revocation");
    const { body } = await anchor(cluster, await submission(cluster, c, doc));
    await sealFully(cluster);
    const del = await cluster.request("/v1/admin/clients/revoked.test", { method: "DELETE", admin: true });
    expect(del.status).toBe(200);
    expect((await del.json()).status).toBe("revoked");
    const after = await anchor(cluster, await submission(cluster, c, document("after revocation")));
    expect(after.status).toBe(403);
    expect(after.body.error.code).toBe("CLIENT_REVOKED");
    const receipt = await (await cluster.request(`/v1/anchors/${body.id}/receipt`)).json();
    await verifyReceipt(receipt, await trust(), { document: doc, now: cluster.clock.now() });
    expect((await cluster.request("/v1/admin/clients/nobody", { method: "DELETE", admin: true })).status).toBe(404);
  });
});

describe("read routes", () => {
  it("receipts: 404 for an unknown id, 400 for something that is not an id", async () => {
    const unknown = await cluster.request(`/v1/anchors/${"ab".repeat(32)}/receipt`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("NOT_FOUND");
    const notId = await cluster.request(`/v1/anchors/XYZ/receipt`);
    expect(notId.status).toBe(400);
  });

  it("digest lookup lists the anchors of a digest, oldest first", async () => {
    const doc = document("twice");
    const a = await anchor(cluster, await submission(cluster, client, doc));
    cluster.clock.t += 1;
    const b = await anchor(cluster, await submission(cluster, client, doc));
    // As the client that anchored it (test/http/read-scopes.test.ts covers who else may look).
    const signer = requestSigner(parseSignerKey(client.signerKey));
    const lookup = async (target: string) =>
      cluster.request(target, { headers: { Authorization: await signRequest({ origin: ORIGIN, method: "GET", target, time: cluster.clock.now() }, signer) } });
    const res = await (await lookup(`/v1/digests/${toHex(sha256(doc))}`)).json();
    expect(res.anchors.map((x: any) => x.id)).toEqual([a.body.id, b.body.id]);
    expect((await lookup(`/v1/digests/NOTHEX`)).status).toBe(400);
  });

  it("a prev line links to a known entry", async () => {
    const first = await anchor(cluster, await submission(cluster, client, document("v1")));
    const second = await anchor(cluster, await submission(cluster, client, document("v2"), { prev: fromBase64(Buffer.from(first.body.id, "hex").toString("base64")) }));
    expect(second.status).toBe(202);
  });

  it("checkpoint is text/plain, signed by the operator, cosigned by a quorum", async () => {
    await sealFully(cluster);
    const res = await cluster.request("/v1/checkpoint");
    expect(res.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    const t = await trust();
    const opened = await openNote(await res.text(), [...t.operatorKeys, ...t.members.map((m: any) => m.key)]);
    expect(opened.verified.length).toBeGreaterThanOrEqual(1 + t.quorum);
  });

  it("blocks, entries, block proofs and consistency proofs agree with each other", async () => {
    const cp = parseCheckpoint(parseNote(await (await cluster.request("/v1/checkpoint")).text()).text);
    const { blocks } = await (await cluster.request(`/v1/blocks?from=0&limit=1000`)).json();
    expect(blocks.length).toBe(cp.size);
    for (const b of blocks) {
      const proof = await (await cluster.request(`/v1/proofs/block?height=${b.height}&size=${cp.size}`)).json();
      verifyInclusion(blockHash(b.header), b.height, cp.size, proof.path.map((p: string) => fromBase64(p)), cp.root);
    }
    const entries = await (await cluster.request(`/v1/blocks/${blocks[0].height}/entries?offset=0&limit=1`, { admin: true })).json();
    expect(entries.entries[0].id).toBe(toHex(leafHash(utf8(entries.entries[0].entry))));
    const hashes = blocks.map((b: any) => blockHash(b.header));
    for (let m = 1; m < cp.size; m++) {
      const { path } = await (await cluster.request(`/v1/proofs/consistency?from=${m}&to=${cp.size}`)).json();
      verifyConsistency(m, cp.size, merkleRoot(hashes.slice(0, m)), cp.root, path.map((p: string) => fromBase64(p)));
    }
    expect((await (await cluster.request(`/v1/proofs/consistency?from=0&to=${cp.size}`)).json()).path).toEqual([]);
    expect((await (await cluster.request(`/v1/proofs/consistency?from=2&to=2`)).json()).path).toEqual([]);
    expect((await cluster.request(`/v1/proofs/consistency?from=3&to=2`)).status).toBe(400);
    expect((await cluster.request(`/v1/proofs/consistency?from=1&to=${cp.size + 5}`)).status).toBe(400);
    expect((await cluster.request(`/v1/blocks/999999`)).status).toBe(404);
  });

  it("serves a block's entries as JSON the store serialised: the shape the API declares, paged as it says", async () => {
    for (const a of await Promise.all([1, 2, 3, 4, 5].map(async (i) => anchor(cluster, await submission(cluster, client, document(`paged ${i}`)))))) {
      expect(a.status).toBe(202);
    }
    const { block } = await sealFully(cluster);
    const big = { height: block!.height, size: block!.size };
    expect(big.size).toBe(5);
    const pageOf = async (offset: number, limit: number) => {
      const res = await cluster.request(`/v1/blocks/${big.height}/entries?offset=${offset}&limit=${limit}`, { admin: true });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      return BlockEntries.parse(await res.json());
    };
    const head = await pageOf(0, 2);
    expect(head).toMatchObject({ height: big.height, size: big.size, next: 2 });
    expect(head.entries.map((e) => e.index)).toEqual([0, 1]);
    const whole = await pageOf(0, 1000);
    expect(whole.next).toBeNull();
    expect(whole.entries.slice(0, 2)).toEqual(head.entries);
    expect(whole.entries.map((e) => e.index)).toEqual([...Array(big.size).keys()]);
    for (const e of whole.entries) expect(e.id).toBe(toHex(leafHash(utf8(e.entry))));
    expect(await pageOf(big.size, 5)).toEqual({ height: big.height, size: big.size, entries: [], next: null });
  });

  it("consortium, trust, health, metrics and the OpenAPI document", async () => {
    const consortium = await (await cluster.request("/v1/consortium")).json();
    await cluster.services.sealer.idle();
    expect(consortium.members.map((m: any) => m.witness)).toEqual(cluster.witnesses.map((w) => w.url));
    expect(consortium.members.map((m: any) => m.answer.status)).toEqual(["cosigned", "cosigned", "cosigned"]);
    expect(consortium.quorum).toBe(2);
    expect(typeof consortium.members[0].head.size).toBe("number");
    expect(consortium.members[0].key).toMatch(/^m1\.test\+[0-9a-f]{8}\+/);
    expect((await (await cluster.request("/healthz")).json()).ok).toBe(true);
    const metrics = await (await cluster.request("/metrics", { admin: true })).text();
    expect(metrics).toContain("cairn_submissions_total");
    expect(metrics).toContain("cairn_seal_duration_seconds_bucket");
    const openapi = await (await cluster.request("/openapi.json")).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/v1/anchors", "/v1/anchors/{id}/receipt", "/v1/proofs/consistency", "/v1/admin/clients"]));
    const unknown = await cluster.request("/v1/nothing");
    expect(unknown.status).toBe(404);
  });

  it("POST /v1/verify checks a receipt on the server and names a failing step", async () => {
    const doc = document("verify route");
    const { body } = await anchor(cluster, await submission(cluster, client, doc));
    await sealFully(cluster);
    const receipt = await (await cluster.request(`/v1/anchors/${body.id}/receipt`)).json();
    const ok = await (await cluster.request("/v1/verify", { method: "POST", json: { receipt, digest: toHex(sha256(doc)) } })).json();
    expect(ok.ok).toBe(true);
    const bad = await (await cluster.request("/v1/verify", { method: "POST", json: { receipt, digest: "00".repeat(32) } })).json();
    expect(bad).toMatchObject({ ok: false, error: { code: "DIGEST_MISMATCH", step: "digest" } });
    // No digest is not "success with the digest skipped": the request is refused.
    const none = await cluster.request("/v1/verify", { method: "POST", json: { receipt } });
    expect(none.status).toBe(400);
    expect((await none.json()).error).toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("pushback", () => {
  it("refuses new submissions with 503 + Retry-After when the backlog is full, and accepts known ones", async () => {
    // Three submissions and the client's registration record fill a backlog of four.
    const small = await startCluster({ config: { maxPendingEntries: 4 } });
    try {
      const c = await registerClient(small);
      const first = await submission(small, c, document("bp 0"));
      expect((await anchor(small, first)).status).toBe(202);
      for (let i = 1; i < 3; i++) expect((await anchor(small, await submission(small, c, document(`bp ${i}`)))).status).toBe(202);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await anchor(small, first)).status).toBe(200);
      const res = await small.request("/v1/anchors", { method: "POST", json: { submission: await submission(small, c, document("bp x")) } });
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("1");
      expect((await res.json()).error.code).toBe("OVERLOADED");
      await sealFully(small);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await anchor(small, await submission(small, c, document("bp y")))).status).toBe(202);
    } finally {
      await small.close();
    }
  });
});
