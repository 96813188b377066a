/**
 * A batch does not hold up everyone else: its 1,000 items are checked in
 * slices with the event loop free between them, so a single submission made
 * meanwhile is answered first; concurrent batches take turns, each keeping
 * its items in order; every item is anchored exactly once. Real services
 * and libSQL files (test/service/harness.ts), real signatures.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isClientRecordEntry, isKeyRecordEntry } from "../../src/core/index.js";
import type { BatchItemResult } from "../../src/service/submit.js";
import { document, registerClient, sealFully, startCluster, submission, type Cluster } from "./harness.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

const idOf = (r: BatchItemResult) => {
  if ("error" in r) throw new Error(`item refused: ${r.error.code} ${r.error.message}`);
  return r.ack.id;
};

async function sealedIds(cluster: Cluster): Promise<string[]> {
  const ids: string[] = [];
  for (let h = 0; h < (await cluster.primary.head()).size; h++) {
    const entries = await cluster.primary.blockEntries(h, 0, 100_000);
    ids.push(...entries.filter((e) => !isClientRecordEntry(e.entry) && !isKeyRecordEntry(e.entry)).map((e) => e.id));
  }
  return ids;
}

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
    const sealed = await sealedIds(c);
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
    expect(await sealedIds(c)).toEqual([...answers[0].map(idOf), ...answers[1].map(idOf)]);
  });
});
