/**
 * Guessing the admin token (issue 13.4): against the real server on
 * 127.0.0.1, a source gets ten wrong tokens, then 429 with a Retry-After
 * that says when, before its next token is even compared — the right one
 * included, so a guess cannot be confirmed by the answer. Another source is
 * not held back, the budget comes back with time, and a right token costs
 * nothing.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startCluster, type Cluster } from "../service/harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ members: 1, quorum: 1 });
});
afterAll(() => c?.close());

/** GET /v1/admin/clients with `token`, from the local address `from`. */
function asAdmin(token: string, from = "127.0.0.1"): Promise<{ status: number; retryAfter: string | undefined; body: any }> {
  return new Promise((done, fail) => {
    const url = new URL(`${c.url}/v1/admin/clients`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, localAddress: from, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d));
      res.on("end", () => done({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined, body: JSON.parse(text) }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("the admin token cannot be guessed quickly", () => {
  it("ten wrong tokens, then 429 + Retry-After for the source, the right token included; others unaffected; the budget refills", async () => {
    for (let i = 0; i < 10; i++) expect((await asAdmin(`guess-${i}-0123456789abcdef`)).status).toBe(403);
    const held = await asAdmin("guess-10-0123456789abcdef");
    expect(held.status).toBe(429);
    expect(held.body.error.code).toBe("RATE_LIMITED");
    expect(Number(held.retryAfter)).toBeGreaterThan(0);
    // Not compared: the right token gets the same answer while the source is held.
    expect((await asAdmin(ADMIN_TOKEN)).status).toBe(429);
    // Another address on this machine is its own source.
    expect((await asAdmin(ADMIN_TOKEN, "127.0.0.2")).status).toBe(200);
    // When the Retry-After has passed, one more attempt is allowed.
    c.clock.t += Number(held.retryAfter);
    expect((await asAdmin(ADMIN_TOKEN)).status).toBe(200);
    expect((await asAdmin("guess-11-0123456789abcdef")).status).toBe(403);
    expect((await asAdmin("guess-12-0123456789abcdef")).status).toBe(429);
  });

  it("right tokens cost nothing", async () => {
    c.clock.t += 3600;
    for (let i = 0; i < 30; i++) expect((await asAdmin(ADMIN_TOKEN, "127.0.0.3")).status).toBe(200);
  });
});
