/**
 * Two isolates of the Worker (two Workers in one workerd, the same bundle and
 * the same D1 primary) racing to seal, with two member witnesses following
 * them and the third member's witness down (a port nobody listens on): cron
 * runs in both isolates at once make one block per round; seals started by
 * requests in either isolate make entries final within seconds; the two
 * running witnesses are the quorum, and each holds every block in its own
 * replica.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../src/core/index.js";
import { absentMember, anchor, document, eventually, makeWitnesses, registerClient, settings, startWorkerd, submission, type TestWitness, type Workerd } from "./harness.js";

let w: Workerd;
let witnesses: TestWitness[];
let client: Awaited<ReturnType<typeof registerClient>>;

beforeAll(async () => {
  witnesses = await makeWitnesses(2);
  const bindings = settings([...witnesses, await absentMember(3)]);
  w = await startWorkerd(
    [
      { name: "a", bindings },
      { name: "b", bindings },
    ],
    { witnesses },
  );
  client = await registerClient(w, "app.test", "a");
});
afterAll(() => w?.close());

async function json(path: string, worker: string): Promise<any> {
  // As the admin: a block's entries are not public (src/service/read-scopes.ts).
  const res = await w.request(path, { worker, admin: true });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return res.json();
}

describe("two isolates over the same primary", () => {
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
    expect(Object.fromEntries(consortium.members.map((m: any) => [m.name, m.answer?.status]))).toEqual({ "m1.test": "cosigned", "m2.test": "cosigned", "m3.test": "unreachable" });
    // Both witnesses verified and stored every block the two isolates made, as one chain. (The
    // last block may have been made by a request-started seal whose cosigning is still under way.)
    const blocks = (await json("/healthz", "a")).blocks as number;
    const { hash } = await json(`/v1/blocks/${blocks - 1}`, "b");
    for (const witness of witnesses) {
      const status = await eventually(async () => {
        const s = await witness.status();
        return s.latest?.size === blocks ? s : undefined;
      });
      expect(status).toMatchObject({ replica: { size: blocks, hash }, halted: null });
    }
  });

  it("a request in either isolate seals once the oldest entry has waited a seal interval; the receipt verifies with the two running witnesses", async () => {
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
