/**
 * Scoped reads (README "Privacy", src/service/read-scopes.ts), on the real
 * server over 127.0.0.1 with real libSQL files, real member witnesses and
 * real signatures: every route of the who-sees-what table asked with no
 * credential, a wrong client's, the right client's, a member's and the
 * admin's; the guessing attack of issue 10 (it fails without credentials,
 * and works only with the right client's signature or where a deployment
 * opened digest lookup); signed requests that must not hold (stale, from
 * the future, over another target, origin or method, by a revoked or
 * unknown key, malformed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSignerKey, requestSigner, sha256, signRequest, toHex, utf8, type RequestSigner } from "../../src/core/index.js";
import { ADMIN_TOKEN, anchor, memberSignerKey, ORIGIN, registerClient, sealFully, startCluster, submission, type Cluster } from "../service/harness.js";

let cluster: Cluster;
let right: Awaited<ReturnType<typeof registerClient>>;
let wrong: Awaited<ReturnType<typeof registerClient>>;
let signers: { right: RequestSigner; wrong: RequestSigner; member: RequestSigner };
/** The anchored licence, the entry both clients anchored, and the other client's own. */
let licence: { digest: string; id: string };
let shared: { digest: string; right: string; wrong: string };

const licenceText = (n: number) => `licence 2026-00${String(n).padStart(2, "0")}\n`;
const ANCHORED = 43;

beforeAll(async () => {
  cluster = await startCluster();
  right = await registerClient(cluster, "app.test");
  wrong = await registerClient(cluster, "other.test");
  signers = {
    right: requestSigner(parseSignerKey(right.signerKey)),
    wrong: requestSigner(parseSignerKey(wrong.signerKey)),
    member: requestSigner(parseSignerKey(memberSignerKey(1))),
  };
  // Block 0: the two registrations; block 1: the anchors.
  await sealFully(cluster);
  const doc = utf8(licenceText(ANCHORED));
  licence = { digest: toHex(sha256(doc)), id: (await anchor(cluster, await submission(cluster, right, doc))).body.id };
  const both = utf8("a document both clients anchored\n");
  shared = {
    digest: toHex(sha256(both)),
    right: (await anchor(cluster, await submission(cluster, right, both))).body.id,
    wrong: (await anchor(cluster, await submission(cluster, wrong, both))).body.id,
  };
  // Final with all three witnesses: each read the entries with its own signed requests.
  expect(await sealFully(cluster)).toMatchObject({ final: true });
});
afterAll(() => cluster?.close());

type Who = "none" | "wrong client" | "right client" | "member" | "admin";
const WHO: readonly Who[] = ["none", "wrong client", "right client", "member", "admin"];

async function authorization(who: Who, method: string, target: string): Promise<string | undefined> {
  if (who === "none") return undefined;
  if (who === "admin") return `Bearer ${ADMIN_TOKEN}`;
  const signer = who === "member" ? signers.member : who === "right client" ? signers.right : signers.wrong;
  return signRequest({ origin: ORIGIN, method, target, time: cluster.clock.now() }, signer);
}

async function ask(who: Who, target: string, init: { method?: string; json?: unknown } = {}, c = cluster): Promise<Response> {
  const method = init.method ?? "GET";
  const auth = await authorization(who, method, target);
  return c.request(target, { method, ...(init.json === undefined ? {} : { json: init.json }), headers: auth === undefined ? {} : { Authorization: auth } });
}

/** What a route answers each reader: a status, and for a 200 what the body must show; for a refusal words of its message. */
type Expect = { status: 200; check?: (body: any) => void } | { status: 401 | 403; words: string };
const ok = (check?: (body: any) => void): Expect => ({ status: 200, ...(check ? { check } : {}) });
const everyone = (e: Expect): Record<Who, Expect> => Object.fromEntries(WHO.map((w) => [w, e])) as Record<Who, Expect>;
const ids = (body: any) => body.anchors.map((a: any) => a.id);

interface Row {
  readonly route: string;
  readonly target: () => string;
  readonly init?: () => Promise<{ method: string; json: unknown }>;
  readonly expect: Record<Who, Expect>;
}

const answerShown = (withMessage: boolean) => (body: any) => {
  for (const m of body.members) {
    expect(m.answer.status).toBe("cosigned");
    expect("message" in m.answer, m.name).toBe(withMessage);
    expect("evidence" in m.answer, m.name).toBe(withMessage);
  }
};

const TABLE: readonly Row[] = [
  { route: "GET /v1/checkpoint", target: () => "/v1/checkpoint", expect: everyone(ok()) },
  { route: "GET /v1/blocks", target: () => "/v1/blocks?from=0&limit=10", expect: everyone(ok((b) => expect(b.blocks.length).toBeGreaterThan(0))) },
  { route: "GET /v1/blocks/{h}", target: () => "/v1/blocks/0", expect: everyone(ok((b) => expect(b.header).toContain("cairn/block/v1"))) },
  { route: "GET /v1/proofs/block", target: () => "/v1/proofs/block?height=0", expect: everyone(ok()) },
  { route: "GET /v1/proofs/consistency", target: () => "/v1/proofs/consistency?from=1&to=2", expect: everyone(ok()) },
  { route: "GET /v1/trust", target: () => "/v1/trust", expect: everyone(ok((b) => expect(b.origin).toBe(ORIGIN))) },
  { route: "GET /v1/anchors/{id}", target: () => `/v1/anchors/${licence.id}`, expect: everyone(ok((b) => expect(b.status).toBe("sealed"))) },
  { route: "GET /v1/anchors/{id}/receipt", target: () => `/v1/anchors/${licence.id}/receipt`, expect: everyone(ok((b) => expect(b.version).toBe("cairn-receipt/v1"))) },
  {
    route: "POST /v1/verify",
    target: () => "/v1/verify",
    init: async () => ({ method: "POST", json: { receipt: await (await cluster.request(`/v1/anchors/${licence.id}/receipt`)).json(), digest: licence.digest } }),
    expect: everyone(ok((b) => expect(b.ok).toBe(true))),
  },
  { route: "GET /healthz", target: () => "/healthz", expect: everyone(ok((b) => expect(b.ok).toBe(true))) },
  { route: "GET /openapi.json", target: () => "/openapi.json", expect: everyone(ok()) },
  {
    route: "GET /v1/consortium",
    target: () => "/v1/consortium",
    expect: { none: ok(answerShown(false)), "wrong client": ok(answerShown(false)), "right client": ok(answerShown(false)), member: ok(answerShown(true)), admin: ok(answerShown(true)) },
  },
  {
    route: "GET /v1/digests/{digest} (one client's)",
    target: () => `/v1/digests/${licence.digest}`,
    expect: {
      none: { status: 401, words: "Cairn-Signed" },
      "wrong client": ok((b) => expect(ids(b)).toEqual([])),
      "right client": ok((b) => expect(ids(b)).toEqual([licence.id])),
      member: ok((b) => expect(ids(b)).toEqual([licence.id])),
      admin: ok((b) => expect(ids(b)).toEqual([licence.id])),
    },
  },
  {
    route: "GET /v1/digests/{digest} (both clients')",
    target: () => `/v1/digests/${shared.digest}`,
    expect: {
      none: { status: 401, words: "Cairn-Signed" },
      "wrong client": ok((b) => expect(ids(b)).toEqual([shared.wrong])),
      "right client": ok((b) => expect(ids(b)).toEqual([shared.right])),
      member: ok((b) => expect(ids(b)).toEqual([shared.right, shared.wrong])),
      admin: ok((b) => expect(ids(b)).toEqual([shared.right, shared.wrong])),
    },
  },
  {
    route: "GET /v1/blocks/{h}/entries",
    target: () => "/v1/blocks/1/entries?offset=0&limit=1000",
    expect: {
      none: { status: 401, words: "cosigner key" },
      "wrong client": { status: 403, words: "a client key reads only its own anchors" },
      "right client": { status: 403, words: "a client key reads only its own anchors" },
      member: ok((b) => expect(b.entries.map((e: any) => e.id)).toEqual([licence.id, shared.right, shared.wrong])),
      admin: ok((b) => expect(b.entries.map((e: any) => e.id)).toEqual([licence.id, shared.right, shared.wrong])),
    },
  },
  {
    route: "GET /metrics",
    target: () => "/metrics",
    expect: { none: { status: 401, words: "Bearer" }, "wrong client": { status: 401, words: "Bearer" }, "right client": { status: 401, words: "Bearer" }, member: { status: 401, words: "Bearer" }, admin: ok() },
  },
  {
    route: "GET /v1/admin/clients",
    target: () => "/v1/admin/clients",
    expect: { none: { status: 401, words: "Bearer" }, "wrong client": { status: 401, words: "Bearer" }, "right client": { status: 401, words: "Bearer" }, member: { status: 401, words: "Bearer" }, admin: ok((b) => expect(b.clients.length).toBe(2)) },
  },
];

describe("who sees what: every route, asked by each kind of reader", () => {
  for (const row of TABLE) {
    for (const who of WHO) {
      const e = row.expect[who];
      it(`${row.route} · ${who} → ${e.status}`, async () => {
        const init = row.init ? await row.init() : {};
        const res = await ask(who, row.target(), init);
        const text = await res.text();
        expect(res.status, text).toBe(e.status);
        if (e.status === 200) {
          e.check?.(res.headers.get("Content-Type")?.includes("json") ? JSON.parse(text) : text);
        } else {
          const { error } = JSON.parse(text);
          expect(error.code).toBe(e.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN");
          expect(error.message).toContain(e.words);
        }
      });
    }
  }
});

describe("the guessing attack: 100 guesses of a licence number, the anchored one among them", () => {
  const guesses = Array.from({ length: 100 }, (_, n) => toHex(sha256(utf8(licenceText(n)))));

  it("finds nothing without credentials: 100 identical refusals, whether or not the digest exists", async () => {
    const answers = await Promise.all(guesses.map(async (d) => ((r: Response) => r.text().then((t) => `${r.status} ${t}`))(await ask("none", `/v1/digests/${d}`))));
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^401 .*"UNAUTHORIZED"/);
    expect(answers[0]).not.toContain(licence.digest);
  });

  it("finds nothing with another client's signature: 100 empty answers, alike but for the digest", async () => {
    for (const d of guesses) {
      const res = await ask("wrong client", `/v1/digests/${d}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ digest: d, anchors: [] });
    }
  });

  it("finds exactly the anchored one with the right client's signature", async () => {
    const found: number[] = [];
    for (const [n, d] of guesses.entries()) {
      const { anchors } = await (await ask("right client", `/v1/digests/${d}`)).json();
      if (anchors.length > 0) found.push(n);
    }
    expect(found).toEqual([ANCHORED]);
  });

  it("finds it with no credential only where the deployment opened digest lookup; that deployment's /metrics wants its token", async () => {
    const metricsToken = "metrics-token-0123456789";
    // A second operator process on the same primary, configured open: the witnesses are the first's.
    const open = await startCluster({ dir: cluster.dir, witnesses: cluster.witnesses, clock: cluster.clock, config: { reads: { openDigestLookup: true, openMetrics: false, metricsToken } } });
    try {
      const found: number[] = [];
      for (const [n, d] of guesses.entries()) {
        const res = await ask("none", `/v1/digests/${d}`, {}, open);
        expect(res.status).toBe(200);
        if ((await res.json()).anchors.length > 0) found.push(n);
      }
      expect(found).toEqual([ANCHORED]);
      // Open lookup lists everyone's anchors, to everyone.
      expect(ids(await (await ask("wrong client", `/v1/digests/${shared.digest}`, {}, open)).json())).toEqual([shared.right, shared.wrong]);
      expect((await open.request("/metrics")).status).toBe(401);
      expect((await open.request("/metrics", { headers: { Authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
      expect((await open.request("/metrics", { headers: { Authorization: `Bearer ${metricsToken}` } })).status).toBe(200);
      expect((await open.request("/metrics", { admin: true })).status).toBe(200);
      // The metrics token is no admin token.
      expect((await open.request(`/v1/blocks/0/entries`, { headers: { Authorization: `Bearer ${metricsToken}` } })).status).toBe(401);
    } finally {
      await open.close({ keepWitnesses: true });
    }
  });
});

describe("signed requests that must not hold", () => {
  const target = () => `/v1/digests/${licence.digest}`;
  const send = (auth: string, path = target()) => cluster.request(path, { headers: { Authorization: auth } });
  const sign = (facts: Partial<{ origin: string; method: string; target: string; time: number }>, signer = signers.right) =>
    signRequest({ origin: ORIGIN, method: "GET", target: target(), time: cluster.clock.now(), ...facts }, signer);
  const refused = async (res: Response, words: string) => {
    const text = await res.text();
    expect(res.status, text).toBe(401);
    const { error } = JSON.parse(text);
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain(words);
    // Whatever the reason, the refusal names the credential the route wants.
    expect(error.message).toContain("Cairn-Signed");
  };

  it("within the skew it holds; a time 301 s stale or ahead is refused, naming the clock", async () => {
    const now = cluster.clock.now();
    expect((await send(await sign({ time: now - 300 }))).status).toBe(200);
    expect((await send(await sign({ time: now + 300 }))).status).toBe(200);
    await refused(await send(await sign({ time: now - 301 })), "check the signer's clock");
    await refused(await send(await sign({ time: now + 301 })), "check the signer's clock");
  });

  it("a signature over another path, query, method or origin is refused", async () => {
    await refused(await send(await sign({ target: `/v1/digests/${shared.digest}` })), "does not verify");
    const entries = "/v1/blocks/0/entries?offset=0&limit=1000";
    const member = await sign({ target: entries }, signers.member);
    expect((await send(member, entries)).status).toBe(200);
    await refused(await send(member, "/v1/blocks/0/entries?offset=1&limit=1000"), "does not verify");
    await refused(await send(await sign({ method: "POST" })), "does not verify");
    await refused(await send(await sign({ origin: "another.test/log" })), "does not verify");
  });

  it("a key the log does not know, a revoked client's key, and one name with another's key are refused", async () => {
    const stranger = requestSigner(parseSignerKey((await import("../service/harness.js")).clientKeys("stranger.test").signerKey));
    await refused(await send(await sign({}, stranger)), "no client or member named stranger.test");
    const gone = await registerClient(cluster, "gone.test");
    const goneSigner = requestSigner(parseSignerKey(gone.signerKey));
    expect((await send(await sign({}, goneSigner))).status).toBe(200);
    expect((await cluster.request("/v1/admin/clients/gone.test", { method: "DELETE", admin: true })).status).toBe(200);
    // The registry's cache lives a few seconds; the test clock moves past it.
    cluster.clock.t += 10;
    await refused(await send(await sign({}, goneSigner)), "revoked");
    cluster.clock.t -= 10;
    // other.test's signature presented under app.test's name and key id.
    const forged = (await sign({}, signers.wrong)).replace(/other\.test\+[0-9a-f]{8}/, `app.test+${signers.right.keyId.toString(16).padStart(8, "0")}`);
    await refused(await send(forged), "does not verify");
  });

  it("malformed credentials and wrong tokens are refused, never taken for none", async () => {
    const good = await sign({});
    const cases: [string, string][] = [
      ["Bearer not-the-admin-token", "not the admin token"],
      ["Basic dXNlcjpwYXNz", "Authorization must be Cairn-Signed or Bearer"],
      [good.replace(/ (\d+) /, " 0$1 "), "leading zeros"],
      [good.replace(/ [^ ]+$/, " AAAA"), "base64"],
      [good.replace(/\+[0-9a-f]{8} /, "+XYZ "), "8 lowercase hex"],
      [good.replace(" ", "  "), "single spaces"],
      [`${good} extra`, "single spaces"],
    ];
    for (const [auth, words] of cases) await refused(await send(auth), words);
    // The scheme's name is case-insensitive (RFC 9110).
    expect((await send(good.replace("Cairn-Signed", "cairn-signed"))).status).toBe(200);
  });

  it("without credentials, a malformed digest is refused like any other lookup: no route tells a stranger more", async () => {
    const res = await cluster.request("/v1/digests/NOTHEX");
    expect(res.status).toBe(401);
    expect((await ask("right client", "/v1/digests/NOTHEX")).status).toBe(400);
  });
});
