/**
 * Replication raced by a second sealer: two syncs of the same missing block
 * to one replica (two Worker isolates sealing at once do this routinely).
 * Whichever append loses finds the very same block there and reports the
 * replica as ok — not diverged, which would claim evidence of tampering.
 */
import { afterAll, expect, it } from "vitest";
import { syncReplica } from "../../src/service/replicate.js";
import { anchor, document, registerClient, startCluster, submission, type Cluster } from "./harness.js";

let c: Cluster | undefined;
afterAll(() => c?.close());

it("two sealers replicating the same block to one replica both find it ok", async () => {
  c = await startCluster();
  const client = await registerClient(c);
  await c.services.sealer.seal();
  c.replicas[0]!.down = true;
  expect((await anchor(c, await submission(c, client, document("raced")))).status).toBe(202);
  expect((await c.services.sealer.seal()).final).toBe(true);
  c.replicas[0]!.down = false;

  const head = await c.primary.head();
  const member = c.services.ctx.members[0]!;
  const results = await Promise.all([syncReplica(c.services.ctx, member, head), syncReplica(c.services.ctx, member, head)]);
  expect(results.map((r) => [r.status, r.size, r.hash])).toEqual([
    ["ok", head.size, head.hash],
    ["ok", head.size, head.hash],
  ]);
  expect(await c.replicas[0]!.real.head()).toEqual(head);
});
