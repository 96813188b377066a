/**
 * Each client's share of the submission path (issue 13.4), on the real
 * server: a client past its burst gets 429 RATE_LIMITED with a Retry-After
 * that says when, single or per batch item, while another client is served;
 * its share comes back with time; a refused submission was not accepted, so
 * sending it again once allowed anchors it exactly once; a forged signature
 * under its name does not spend its share.
 */
import { afterEach, describe, expect, it } from "vitest";
import { noteSigner, sha256, signSubmission, utf8, type NoteSigner } from "../../src/core/index.js";
import { anchor, clientKeys, document, registerClient, sealFully, startCluster, submission, ORIGIN, type Cluster } from "./harness.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe("per-client submission limits", () => {
  it("a client past its share gets 429 + Retry-After; the others do not; the share refills; nothing is lost or doubled", async () => {
    c = await startCluster({ members: 1, quorum: 1, config: { clientRate: { perSecond: 2, burst: 5 } } });
    const greedy = await registerClient(c, "greedy.test");
    const modest = await registerClient(c, "modest.test");
    for (let i = 0; i < 5; i++) expect((await anchor(c, await submission(c, greedy, document(`greedy ${i}`)))).status).toBe(202);
    const over = await submission(c, greedy, document("greedy 5"));
    const res = await c.request("/v1/anchors", { method: "POST", json: { submission: over } });
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect((await res.json()).error.code).toBe("RATE_LIMITED");
    // Someone else is served meanwhile.
    expect((await anchor(c, await submission(c, modest, document("modest 0")))).status).toBe(202);
    // In a batch, the items past the share are refused one by one.
    const batch = await Promise.all([6, 7].map(async (i) => submission(c!, greedy, document(`greedy ${i}`))));
    const results = (await (await c.request("/v1/anchors/batch", { method: "POST", json: { submissions: batch } })).json()).results;
    expect(results.map((r: { error?: { code: string } }) => r.error?.code)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);

    // A second later, two more go through: the refused one sent again is anchored once.
    c.clock.t += 1;
    expect((await anchor(c, over)).status).toBe(202);
    expect((await anchor(c, batch[0]!)).status).toBe(202);
    expect((await anchor(c, batch[1]!)).status).toBe(429);
    await sealFully(c);
    const anchors = await (await c.request(`/v1/digests/${Buffer.from(sha256(document("greedy 5"))).toString("hex")}`, { admin: true })).json();
    expect(anchors.anchors).toHaveLength(1);
  });

  it("a submission with a forged signature under a client's name does not spend that client's share", async () => {
    c = await startCluster({ members: 1, quorum: 1, config: { clientRate: { perSecond: 1, burst: 2 } } });
    const victim = await registerClient(c, "victim.test");
    // The victim's name and key id on the signature line, another key's signature.
    const other = noteSigner(clientKeys("someone-else.test").signerKey);
    const forging: NoteSigner = { name: victim.signer.name, keyId: victim.signer.keyId, sign: (text) => other.sign(text) };
    for (let i = 0; i < 5; i++) {
      const forged = await signSubmission({ origin: ORIGIN, digest: sha256(utf8(`forged ${i}`)), time: c.clock.now() }, forging);
      expect((await anchor(c, forged)).status).toBe(403);
    }
    expect((await anchor(c, await submission(c, victim, document("victim 0")))).status).toBe(202);
    expect((await anchor(c, await submission(c, victim, document("victim 1")))).status).toBe(202);
    expect((await anchor(c, await submission(c, victim, document("victim 2")))).status).toBe(429);
  });
});
