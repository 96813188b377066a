/**
 * A batch does not hold up everyone else: its 1,000 items are checked in
 * slices with the event loop free between them, so a single submission made
 * meanwhile is answered first; concurrent batches take turns, each keeping
 * its items in order; garbage is refused item by item across slice
 * boundaries; every item is anchored exactly once. Real services
 * and libSQL files (test/service/harness.ts), real signatures.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPair, KEY_TYPE_ED25519, noteSigner } from "../../src/core/index.js";
import type { BatchItemResult } from "../../src/service/submit.js";
import { document, registerClient, sealedSubmissions, sealFully, startCluster, submission, type Cluster } from "./harness.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

const idOf = (r: BatchItemResult) => {
  if ("error" in r) throw new Error(`item refused: ${r.error.code} ${r.error.message}`);
  return r.ack.id;
};

describe("batches beside other submissions", () => {
  it("a single submission made while a 1,000-item batch is checked is answered before the batch; both are anchored once, the batch in its order", async () => {
    c = await startCluster({ members: 1, quorum: 1 });
    const client = await registerClient(c);
    const notes = await Promise.all(Array.from({ length: 1000 }, (_, i) => submission(c!, client, document(`bulk ${i}`))));
    const lone = await submission(c, client, document("lone"));

    const order: string[] = [];
    const batch = c.services.submitter.submitMany(notes).then((results) => (order.push("batch"), results));
    // Made once the batch has started: its first slice runs before this macrotask.
    const single = new Promise((r) => setImmediate(r))
      .then(() => c!.services.submitter.submit(lone))
      .then((result) => (order.push("single"), result));
    const [results, answer] = await Promise.all([batch, single]);

    expect(order).toEqual(["single", "batch"]);
    expect(answer.created).toBe(true);
    const batchIds = results.map(idOf);
    expect(results.every((r) => "ack" in r && r.created)).toBe(true);

    await sealFully(c);
    const sealed = await sealedSubmissions(c);
    expect(sealed.length).toBe(1001);
    expect(sealed.filter((id) => id !== answer.ack.id)).toEqual(batchIds);
    expect(sealed).toContain(answer.ack.id);
  });

  it("two batches sent together take turns: the first is answered first and sealed first, each in its own order", async () => {
    c = await startCluster({ members: 1, quorum: 1 });
    const client = await registerClient(c);
    const first = await Promise.all(Array.from({ length: 300 }, (_, i) => submission(c!, client, document(`first ${i}`))));
    const second = await Promise.all(Array.from({ length: 300 }, (_, i) => submission(c!, client, document(`second ${i}`))));

    const order: string[] = [];
    const answers = await Promise.all([
      c.services.submitter.submitMany(first).then((r) => (order.push("first"), r)),
      c.services.submitter.submitMany(second).then((r) => (order.push("second"), r)),
    ]);
    expect(order).toEqual(["first", "second"]);

    await sealFully(c);
    expect(await sealedSubmissions(c)).toEqual([...answers[0].map(idOf), ...answers[1].map(idOf)]);
  });

  it("garbage on both sides of a slice boundary is refused item by item; the rest is anchored once, in order, a repeat answered as known", async () => {
    c = await startCluster({ members: 1, quorum: 1 });
    const client = await registerClient(c);
    // The client's name with another key: what someone who knows the name but not the key can send.
    const impostor = { signer: noteSigner(generateKeyPair("app.test", randomBytes(32), KEY_TYPE_ED25519).signerKey) };
    const items: unknown[] = await Promise.all(Array.from({ length: 40 }, (_, i) => submission(c!, client, document(`mixed ${i}`))));
    items[15] = 42; // last of the first slice
    items[16] = await submission(c, impostor, document("forged")); // first of the second
    items[17] = items[2]; // the same entry again, in a later slice
    items[31] = await submission(c, client, document("elsewhere"), { origin: "other.test/log" });
    items[32] = "not a note";

    const results = await c.services.submitter.submitMany(items);
    const codes = results.map((r) => ("error" in r ? r.error.code : r.created ? "new" : "known"));
    const expected = items.map(() => "new");
    Object.assign(expected, { 15: "BAD_NOTE", 16: "BAD_SIGNATURE", 17: "known", 31: "WRONG_ORIGIN", 32: "BAD_NOTE" });
    expect(codes).toEqual(expected);
    const repeat = results[17]!;
    expect("ack" in repeat && repeat.ack.id).toBe(idOf(results[2]!));

    await sealFully(c);
    const accepted = results.filter((r, i) => "ack" in r && i !== 17).map(idOf);
    expect(accepted.length).toBe(35);
    expect(await sealedSubmissions(c)).toEqual(accepted);
  });
});
