/**
 * Two isolates of the Worker (two Workers in one workerd, the same bundle and
 * the same D1 databases) racing to seal, with the third member's replica a
 * libSQL URL nobody answers: cron runs in both isolates at once make one
 * block per round; seals started by requests in either isolate make entries
 * final within seconds; the two reachable members are the quorum.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../src/core/index.js";
import { anchor, document, eventually, registerClient, settings, startWorkerd, submission, type MemberDatabase, type Workerd } from "./harness.js";

// Port 1 on loopback: connection refused at once.
const MEMBERS: MemberDatabase[] = [{ d1: "MEMBER_1" }, { d1: "MEMBER_2" }, { url: "http://127.0.0.1:1" }];
const D1 = { PRIMARY: "primary", MEMBER_1: "member-1", MEMBER_2: "member-2" };

let w: Workerd;
let client: Awaited<ReturnType<typeof registerClient>>;

beforeAll(async () => {
  const bindings = settings(MEMBERS);
  w = await startWorkerd([
    { name: "a", bindings, d1Databases: D1 },
    { name: "b", bindings, d1Databases: D1 },
  ]);
  client = await registerClient(w, "app.test", "a");
});
afterAll(() => w?.close());

async function json(path: string, worker: string): Promise<any> {
  const res = await w.request(path, { worker });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return res.json();
}

describe("two isolates over the same databases", () => {
  it("cron runs in both at once make exactly one block per round, holding every entry", async () => {
    await w.scheduled("a");
    for (let round = 0; round < 5; round++) {
      const before = (await json("/healthz", "a")).blocks as number;
      const ids = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => (await anchor(w, await submission(client, document(`round ${round} ${i}`)), i % 2 ? "a" : "b")).body.id as string),
      );
      const outcomes = await Promise.all(["a", "b", "a", "b"].map((name) => w.scheduled(name)));
      expect(outcomes.map((o) => o.outcome)).toEqual(["ok", "ok", "ok", "ok"]);
      const health = await json("/healthz", "b");
      // A request-started seal may have sealed part of the round first; never a block twice.
      const sealed = [];
      for (let h = before; h < health.blocks; h++) sealed.push(...(await json(`/v1/blocks/${h}/entries?limit=1000`, "b")).entries.map((e: any) => e.id));
      expect(sealed.sort(), `round ${round}`).toEqual([...ids].sort());
      expect(health.pending).toBe(0);
    }
    const consortium = await json("/v1/consortium", "a");
    expect(Object.fromEntries(consortium.members.map((m: any) => [m.name, m.replica.status]))).toEqual({ "m1.test": "ok", "m2.test": "ok", "m3.test": "unreachable" });
  });

  it("a request in either isolate seals once the oldest entry has waited a seal interval; the receipt verifies with the two reachable members", async () => {
    const doc = document("sealed by a request");
    const { status, body } = await anchor(w, await submission(client, doc), "a");
    expect(status).toBe(202);
    // A client polling for its receipt, here through the other isolate; no
    // cron runs in this test, so only a request-started seal can make it.
    const receipt = await eventually(async () => {
      const res = await w.request(`/v1/anchors/${body.id}/receipt`, { worker: "b" });
      return res.status === 200 ? res.json() : undefined;
    });
    const verified = await verifyReceipt(receipt, await json("/v1/trust", "a"), { document: doc, clientKeys: [client.verifierKey] });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test"]);
  });
});
