/**
 * libSQL over HTTP against a Hrana v2 server on 127.0.0.1 (./hrana-server.ts,
 * real SQLite behind it): the store contract of `@libsql/client/web`
 * (src/store/libsql-web.ts) from Node; the Worker in workerd with its primary
 * reached that way, migrated ahead of time by `npm run db:migrate`; and a
 * member's witness whose own replica is a libSQL URL with a token, following
 * a Worker — verifying and cosigning, refusing while its database fails (the
 * operator shows the refusal) and catching up when the database is back.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseNote, verifyReceipt } from "../../src/core/index.js";
import { openLibsqlStore } from "../../src/store/libsql.js";
import { openLibsqlWebStore } from "../../src/store/libsql-web.js";
import { ROOT } from "../../scripts/wrangler.js";
import { storeContract } from "../store/contract.js";
import { startHranaServer, type HranaServer } from "./hrana-server.js";
import { anchor, document, makeWitnesses, ORIGIN, registerClient, settings, startWorkerd, submission, type TestWitness, type Workerd } from "./harness.js";

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

/** `npm run db:migrate -- <url>` with the token in LIBSQL_AUTH_TOKEN, as an operator or member runs it once. */
async function dbMigrate(url: string, token: string): Promise<string> {
  const { stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts", url], {
    cwd: ROOT,
    env: { ...process.env, LIBSQL_AUTH_TOKEN: token },
  });
  return stderr;
}

const json = async (w: Workerd, path: string): Promise<any> => (await w.request(path)).json();
/** As the admin: a witness's message is not public (src/service/read-scopes.ts). */
const answerOf = async (w: Workerd, name: string) => (await (await w.request("/v1/consortium", { admin: true })).json()).members.find((m: any) => m.name === name).answer;

describe("the Worker with its primary on libSQL over HTTP", () => {
  const TOKEN = "primary-token";
  let primary: HranaServer;
  let w: Workerd;

  beforeAll(async () => {
    primary = await startHranaServer(join(dir, "primary.db"), TOKEN);
    servers.push(primary);
    // The Worker cannot read migration files: the operator migrates its database ahead of use.
    expect(await dbMigrate(primary.url, TOKEN)).toContain("is migrated (0 blocks)");
    const witnesses = await makeWitnesses(3);
    const { CAIRN_PRIMARY_D1: _, ...rest } = settings(witnesses, { CAIRN_SEAL_INTERVAL: "3600" });
    const bindings = { ...rest, CAIRN_PRIMARY_URL: primary.url, CAIRN_PRIMARY_AUTH_TOKEN: TOKEN };
    w = await startWorkerd([{ name: "cairn", bindings, d1Databases: {} }], { witnesses });
  });
  afterAll(() => w?.close());

  it("anchors, seals and serves receipts that verify, its chain in that database", async () => {
    const client = await registerClient(w);
    const doc = document("on a libSQL primary");
    const { status, body } = await anchor(w, await submission(client, doc));
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    const text = await res.text();
    expect(res.status, text + w.logs()).toBe(200);
    const verified = await verifyReceipt(JSON.parse(text), await json(w, "/v1/trust"), { document: doc, clientKeys: [client.verifierKey] });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test", "m3.test"]);
    const stored = openLibsqlWebStore({ url: primary.url, authToken: TOKEN });
    expect((await stored.head()).size).toBe((await json(w, "/healthz")).blocks);
    expect(primary.requests()).toBeGreaterThan(2);
  });
});

describe("a member's witness with its replica on libSQL over HTTP, following the Worker", () => {
  const TOKEN = "member-3-token";
  let replica: HranaServer;
  let witnesses: TestWitness[];
  let w: Workerd;
  let client: Awaited<ReturnType<typeof registerClient>>;

  beforeAll(async () => {
    replica = await startHranaServer(join(dir, "member-3.db"), TOKEN);
    servers.push(replica);
    // What a member may run once before its witness first uses the database (the witness migrates it on open too).
    expect(await dbMigrate(replica.url, TOKEN)).toContain("is migrated (0 blocks)");
    witnesses = await makeWitnesses(3, (i): Record<string, string> => (i === 3 ? { CAIRN_MEMBER_REPLICA_URL: replica.url, CAIRN_MEMBER_REPLICA_AUTH_TOKEN: TOKEN } : {}));
    w = await startWorkerd([{ name: "cairn", bindings: settings(witnesses, { CAIRN_SEAL_INTERVAL: "3600" }) }], { witnesses });
    client = await registerClient(w);
  });
  afterAll(() => w?.close());

  const replicaHead = () => openLibsqlWebStore({ url: replica.url, authToken: TOKEN }).head();

  it("verifies the blocks into that database and cosigns like the other members", async () => {
    const doc = document("to a libSQL replica");
    const { status, body } = await anchor(w, await submission(client, doc));
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    expect(await answerOf(w, "m3.test")).toMatchObject({ status: "cosigned", message: null });
    const res = await w.request(`/v1/anchors/${body.id}/receipt`);
    const text = await res.text();
    expect(res.status, text + w.logs()).toBe(200);
    const verified = await verifyReceipt(JSON.parse(text), await json(w, "/v1/trust"), { document: doc });
    expect([...verified.cosigners].sort()).toEqual(["m1.test", "m2.test", "m3.test"]);
    // The client's registration and its submission, in the member's own database as in the operator's.
    const size = (await json(w, "/healthz")).blocks;
    expect(await replicaHead()).toEqual({ size, hash: (await json(w, `/v1/blocks/${size - 1}`)).hash });
    expect(await witnesses[2]!.status()).toMatchObject({ replica: { size }, latest: { size } });
  });

  it("answers non-200 while its database fails, which the operator shows; cosigns again once it is back", async () => {
    replica.fail(true);
    const doc = document("while the libSQL replica is down");
    const { body } = await anchor(w, await submission(client, doc));
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    const receipt = await (await w.request(`/v1/anchors/${body.id}/receipt`)).json();
    expect([...(await verifyReceipt(receipt, await json(w, "/v1/trust"), { document: doc })).cosigners].sort()).toEqual(["m1.test", "m2.test"]);
    const refused = await answerOf(w, "m3.test");
    expect(refused).toMatchObject({ status: "refused" });
    expect(refused.message).toMatch(/^503: UNAVAILABLE: /);

    replica.fail(false);
    // Nothing pending: this seal only asks the member that has not cosigned the newest checkpoint.
    expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
    expect(await answerOf(w, "m3.test")).toMatchObject({ status: "cosigned", message: null });
    const checkpoint = parseNote(await (await w.request("/v1/checkpoint")).text());
    expect(checkpoint.signatures.map((s) => s.name).sort()).toEqual([ORIGIN, "m1.test", "m2.test", "m3.test"]);
    const size = (await json(w, "/healthz")).blocks;
    expect(await replicaHead()).toEqual({ size, hash: (await json(w, `/v1/blocks/${size - 1}`)).hash });
    expect(await witnesses[2]!.status()).toMatchObject({ replica: { size }, latest: { size }, halted: null });
  });
});
