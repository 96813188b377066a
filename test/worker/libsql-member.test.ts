/**
 * libSQL over HTTP (`@libsql/client/web`, src/store/libsql-web.ts) against a
 * Hrana v2 server on 127.0.0.1 (./hrana-server.ts, real SQLite behind it):
 * the store contract from Node; `npm run db:migrate` migrating such a
 * database ahead of time; and, in workerd, a member whose replica is reached
 * that way — written to, cosigning, dropping out when its server fails and
 * caught up when it returns.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../src/core/index.js";
import { openLibsqlStore } from "../../src/store/libsql.js";
import { openLibsqlWebStore } from "../../src/store/libsql-web.js";
import { ROOT } from "../../scripts/wrangler.js";
import { storeContract } from "../store/contract.js";
import { startHranaServer, type HranaServer } from "./hrana-server.js";
import { anchor, document, registerClient, settings, startWorkerd, submission, type Workerd } from "./harness.js";

const servers: HranaServer[] = [];
const dir = mkdtempSync(join(tmpdir(), "cairn-libsql-http-"));
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh database behind a Hrana server, migrated over HTTP by the same migrator `npm run db:migrate` runs. */
async function freshServer(): Promise<HranaServer> {
  const server = await startHranaServer(":memory:");
  servers.push(server);
  (await openLibsqlStore({ url: server.url })).close();
  return server;
}

storeContract("libSQL over HTTP (@libsql/client/web)", async () => openLibsqlWebStore({ url: (await freshServer()).url }), {
  twins: async () => {
    const { url } = await freshServer();
    return [openLibsqlWebStore({ url }), openLibsqlWebStore({ url })];
  },
});

describe("a member replica on libSQL over HTTP, from the Worker", () => {
  const TOKEN = "member-3-token";
  let member: HranaServer;
  let w: Workerd;
  let client: Awaited<ReturnType<typeof registerClient>>;

  beforeAll(async () => {
    member = await startHranaServer(join(dir, "member-3.db"), TOKEN);
    servers.push(member);
    // What a member (or the operator) runs once, before the Worker uses the database.
    const { stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts", member.url], {
      cwd: ROOT,
      env: { ...process.env, LIBSQL_AUTH_TOKEN: TOKEN },
    });
    expect(stderr).toContain("is migrated (0 blocks)");
    w = await startWorkerd([{ name: "cairn", bindings: settings([{ d1: "MEMBER_1" }, { d1: "MEMBER_2" }, { url: member.url, authToken: TOKEN }], { CAIRN_SEAL_INTERVAL: "3600" }) }]);
    client = await registerClient(w);
  });
  afterAll(() => w?.close());

  const status = async () => Object.fromEntries(((await (await w.request("/v1/consortium")).json()) as any).members.map((m: any) => [m.name, m.replica]));
  const memberHead = () => openLibsqlWebStore({ url: member.url, authToken: TOKEN }).head();

  it("is written to and cosigns like the D1 members", async () => {
    const doc = document("to a libSQL member");
    const { status: code, body } = await anchor(w, await submission(client, doc));
    expect(code, JSON.stringify(body)).toBe(202);
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    expect((await status())["m3.test"]).toMatchObject({ status: "ok", detail: null });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    const text = await res.text();
    expect(res.status, text + w.logs()).toBe(200);
    const verified = await verifyReceipt(JSON.parse(text), await (await w.request("/v1/trust")).json(), { document: doc });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test", "m3.test"]);
    expect((await memberHead()).size).toBe(1);
    expect(member.requests()).toBeGreaterThan(2);
  });

  it("drops out of the quorum while its server fails, and is caught up when it is back", async () => {
    member.fail(true);
    const doc = document("while the libSQL member is down");
    const { body } = await anchor(w, await submission(client, doc));
    await w.scheduled();
    const receipt = await (await w.request(`/v1/anchors/${body.id}/receipt`)).json();
    expect([...(await verifyReceipt(receipt, await (await w.request("/v1/trust")).json(), { document: doc })).cosigners].sort()).toEqual(["m1.test", "m2.test"]);
    expect((await status())["m3.test"].status).toBe("unreachable");

    member.fail(false);
    await w.scheduled();
    const after = await status();
    expect(after["m3.test"]).toEqual(after["m1.test"]);
    expect((await memberHead()).size).toBe(2);
  });
});
