/**
 * Configuration of the Worker: what parseConfig gains for it (the primary as
 * a D1 binding or a libSQL URL, never a file) while Node's settings stay as
 * they were; the members as public facts only (a public cosigner key and a
 * witness URL), with every private key or replica database refused by name;
 * and, in workerd, a wrong setting answering every request 500 BAD_CONFIG
 * with a message that names the setting, and failing every cron run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatVerifierKey, generateKeyPair, KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseSignerKey, parseVerifierKey, sha256, utf8 } from "../../src/core/index.js";
import { parseConfig, type Settings } from "../../src/runtime/config.js";
import type { D1Database } from "@cloudflare/workers-types";
import { absentMember, clientKeys, memberKey, memberName, memberSignerKey, migrate, operatorKey, settings, startWorkerd, type MemberSpec, type Workerd } from "./harness.js";

const worker = (bindings: readonly string[]) => ({ worker: { isD1Binding: (name: string) => bindings.includes(name) } });
const D1 = worker(["PRIMARY"]);

/** Members 1..3 with witnesses at example URLs (nothing is contacted while parsing). */
const MEMBERS: readonly MemberSpec[] = [1, 2, 3].map((i) => ({ name: memberName(i), key: memberKey(i), url: `https://witness.m${i}.example/cairn` }));
const member = (i: number, change: Record<string, unknown> = {}) => ({ name: memberName(i), key: memberKey(i), witness: `https://witness.m${i}.example/cairn`, ...change });
const withMembers = (...list: object[]) => ({ ...settings([]), CAIRN_MEMBERS: JSON.stringify(list) });

/** A type 0x04 key named `name` over another key's public key. */
const cosignerKeyOver = (name: string, key: string) => formatVerifierKey(name, KEY_TYPE_COSIGNATURE_V1, parseVerifierKey(key).publicKey);

function refused(s: Settings, options: Parameters<typeof parseConfig>[1], setting: string, words?: string) {
  let error: unknown;
  try {
    parseConfig(s, options);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${setting} to be refused`).toMatchObject({ code: "BAD_CONFIG" });
  expect((error as Error).message.startsWith(`${setting}: `), (error as Error).message).toBe(true);
  if (words) expect((error as Error).message).toContain(words);
}

describe("parseConfig for the Worker and for Node", () => {
  it("reads the primary's D1 binding in the Worker, and the members as public keys and witness URLs", () => {
    const config = parseConfig(settings(MEMBERS), D1);
    expect(config.primary).toEqual({ d1: "PRIMARY" });
    expect(config.members).toEqual(MEMBERS.map((m) => ({ name: m.name, key: m.key, witness: m.url })));
    expect(config.quorum).toBe(2);
    // A witness URL is a prefix: a trailing slash is dropped, so `${witness}/add-checkpoint` has one.
    expect(parseConfig(withMembers(member(1, { witness: "http://127.0.0.1:8788/" })), D1).members[0]!.witness).toBe("http://127.0.0.1:8788");
  });

  it("takes a libSQL URL with a token for the primary in the Worker", () => {
    const s = { ...settings(MEMBERS), CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "libsql://op.example.turso.io", CAIRN_PRIMARY_AUTH_TOKEN: "tok" };
    expect(parseConfig(s, D1).primary).toEqual({ url: "libsql://op.example.turso.io", authToken: "tok" });
    expect(parseConfig({ ...s, CAIRN_PRIMARY_URL: "https://sqld.op.example", CAIRN_PRIMARY_AUTH_TOKEN: undefined }, D1).primary).toEqual({ url: "https://sqld.op.example" });
  });

  it("keeps Node's settings as they were", () => {
    const s = { ...settings(MEMBERS), CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db" };
    const config = parseConfig(s);
    expect(config.primary).toEqual({ url: "file:/tmp/p.db" });
    expect(config.members.map((m) => m.witness)).toEqual(MEMBERS.map((m) => m.url));
    refused({ ...s, CAIRN_PRIMARY_URL: undefined }, {}, "CAIRN_PRIMARY_URL", "is required");
    refused({ ...s, CAIRN_PRIMARY_URL: "postgres://x" }, {}, "CAIRN_PRIMARY_URL", "libSQL URL");
  });

  it("refuses D1 on Node, files in the Worker, unknown bindings and ambiguous primaries, naming each", () => {
    const s = settings(MEMBERS);
    refused(s, {}, "CAIRN_PRIMARY_D1", "only in the Cloudflare Worker");
    refused({ ...s, CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db" }, D1, "CAIRN_PRIMARY_URL", "has no files");
    refused({ ...s, CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: ":memory:" }, D1, "CAIRN_PRIMARY_URL", "has no files");
    refused({ ...s, CAIRN_PRIMARY_D1: undefined }, D1, "CAIRN_PRIMARY_D1", "is required");
    refused({ ...s, CAIRN_PRIMARY_URL: "libsql://x.example" }, D1, "CAIRN_PRIMARY_D1", "not both");
    refused({ ...s, CAIRN_PRIMARY_D1: "NOPE" }, D1, "CAIRN_PRIMARY_D1", 'no D1 binding named "NOPE"');
    // The bindings the old design gave members are not a primary either.
    refused({ ...s, CAIRN_PRIMARY_D1: "MEMBER_1" }, D1, "CAIRN_PRIMARY_D1", 'no D1 binding named "MEMBER_1"');
  });

  it("refuses a member's private key or replica database: the operator holds neither", () => {
    const privateKey = memberSignerKey(1);
    refused(withMembers(member(1, { cosignerKey: privateKey }), member(2)), D1, "CAIRN_MEMBERS[0].cosignerKey", "must not hold a member's private key");
    refused(withMembers(member(1), member(2, { d1: "MEMBER_2" })), D1, "CAIRN_MEMBERS[1].d1", "witness");
    refused(withMembers(member(1), member(2), member(3, { url: "libsql://m3.example.turso.io" })), D1, "CAIRN_MEMBERS[2].url", "witness");
    refused(withMembers(member(1, { authToken: "t0ken" })), D1, "CAIRN_MEMBERS[0].authToken", "witness");
    // The old shape whole: a private key and a database, and no public key or witness.
    const old = { name: memberName(1), cosignerKey: privateKey, d1: "MEMBER_1" };
    refused(withMembers(old), D1, "CAIRN_MEMBERS[0].cosignerKey");
    refused({ ...withMembers(old), CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db" }, {}, "CAIRN_MEMBERS[0].cosignerKey");
    refused(withMembers(member(1, { replica: "x" })), D1, "CAIRN_MEMBERS[0].replica", "is not a setting of a member");
  });

  it("refuses a member key of the wrong type, named otherwise, listed twice, or the operator's own", () => {
    const clientKey = clientKeys(memberName(1)).verifierKey; // Ed25519 note key, type 0x01
    expect(parseVerifierKey(clientKey).type).toBe(KEY_TYPE_ED25519);
    refused(withMembers(member(1, { key: clientKey })), D1, "CAIRN_MEMBERS[0].key", "type 0x04");
    refused(withMembers(member(1), member(2, { key: memberKey(3) })), D1, "CAIRN_MEMBERS[1].key", `named ${memberName(3)}, expected ${memberName(2)}`);
    refused(withMembers(member(1), member(2, { key: cosignerKeyOver(memberName(2), memberKey(1)) })), D1, "CAIRN_MEMBERS[1].key", "same public key");
    const operatorAsMember = formatVerifierKey(memberName(1), KEY_TYPE_COSIGNATURE_V1, parseSignerKey(operatorKey()).publicKey);
    refused(withMembers(member(1, { key: operatorAsMember })), D1, "CAIRN_MEMBERS[0].key", "operator's key");
    refused(withMembers(member(1, { key: "m1.test+00000000+AAAA" })), D1, "CAIRN_MEMBERS[0].key", "not a valid verifier key");
    refused(withMembers(member(1, { key: undefined })), D1, "CAIRN_MEMBERS[0].key", "is required");
    refused(withMembers(member(1), member(1)), D1, "CAIRN_MEMBERS[1].name", "listed twice");
  });

  it("refuses a log with no member witnesses, and a quorum outside 1..members: verifiers would refuse its trust document", () => {
    refused(withMembers(), D1, "CAIRN_MEMBERS", "no member witnesses");
    const { CAIRN_MEMBERS: _, ...none } = withMembers();
    refused(none, D1, "CAIRN_MEMBERS", "no member witnesses");
    refused({ ...withMembers(member(1), member(2)), CAIRN_QUORUM: "0" }, D1, "CAIRN_QUORUM");
    refused({ ...withMembers(member(1), member(2)), CAIRN_QUORUM: "3" }, D1, "CAIRN_QUORUM");
  });

  it("takes a member's ML-DSA-44 key as pqKey and a post-quantum quorum only when every member has one", () => {
    const pq = (i: number) => generateKeyPair(memberName(i), sha256(utf8(`pq ${i}`)), KEY_TYPE_COSIGNATURE_MLDSA44).verifierKey;
    const both = withMembers(member(1, { pqKey: pq(1) }), member(2, { pqKey: pq(2) }));
    expect(parseConfig({ ...both, CAIRN_PQ_QUORUM: "2" }, D1)).toMatchObject({ pqQuorum: 2, members: [{ pqKey: pq(1) }, { pqKey: pq(2) }] });
    expect(parseConfig(both, D1).pqQuorum).toBe(0);
    refused({ ...withMembers(member(1, { pqKey: pq(1) }), member(2)), CAIRN_PQ_QUORUM: "1" }, D1, "CAIRN_PQ_QUORUM", "has none");
    refused({ ...both, CAIRN_PQ_QUORUM: "3" }, D1, "CAIRN_PQ_QUORUM");
    refused(withMembers(member(1, { pqKey: memberKey(1) })), D1, "CAIRN_MEMBERS[0].pqKey", "type 0x06");
    refused(withMembers(member(1, { pqKey: pq(2) })), D1, "CAIRN_MEMBERS[0].pqKey", "expected");
  });

  it("keeps digest lookup and /metrics closed by default, on Node and in the Worker; opens each only when told to", () => {
    const node = { ...settings(MEMBERS), CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db" };
    for (const [s, options] of [[settings(MEMBERS), D1], [node, {}]] as const) {
      expect(parseConfig(s, options).reads).toEqual({ openDigestLookup: false, openMetrics: false });
      expect(parseConfig({ ...s, CAIRN_OPEN_DIGEST_LOOKUP: "1", CAIRN_OPEN_METRICS: "1", CAIRN_METRICS_TOKEN: "metrics-token-0123456789" }, options).reads).toEqual({
        openDigestLookup: true,
        openMetrics: true,
        metricsToken: "metrics-token-0123456789",
      });
      expect(parseConfig({ ...s, CAIRN_OPEN_DIGEST_LOOKUP: "0" }, options).reads.openDigestLookup).toBe(false);
      refused({ ...s, CAIRN_OPEN_DIGEST_LOOKUP: "yes" }, options, "CAIRN_OPEN_DIGEST_LOOKUP", "must be 1 or 0");
      refused({ ...s, CAIRN_OPEN_METRICS: "true" }, options, "CAIRN_OPEN_METRICS", "must be 1 or 0");
      refused({ ...s, CAIRN_METRICS_TOKEN: "short" }, options, "CAIRN_METRICS_TOKEN", "at least 16");
    }
  });

  it("refuses a witness that is not an http(s) URL", () => {
    refused(withMembers(member(1, { witness: "witness.m1.example" })), D1, "CAIRN_MEMBERS[0].witness", "is not a URL");
    refused(withMembers(member(1), member(2, { witness: "ftp://witness.m2.example" })), D1, "CAIRN_MEMBERS[1].witness", "http:// or https://");
    refused(withMembers(member(1, { witness: "libsql://m1.example.turso.io" })), D1, "CAIRN_MEMBERS[0].witness", "http:// or https://");
    refused(withMembers(member(1, { witness: undefined })), D1, "CAIRN_MEMBERS[0].witness", "is required");
  });
});

describe("a wrong setting in workerd", () => {
  const members = (...list: object[]) => JSON.stringify(list);
  const wrong: [string, Record<string, string | undefined>, string][] = [
    ["no-operator-key", { CAIRN_OPERATOR_KEY: undefined }, "CAIRN_OPERATOR_KEY: is required"],
    ["member-private-key", { CAIRN_MEMBERS: members(member(1, { cosignerKey: memberSignerKey(1) })) }, "CAIRN_MEMBERS[0].cosignerKey: "],
    ["member-d1", { CAIRN_MEMBERS: members(member(1), member(2, { d1: "MEMBER_2" })) }, "CAIRN_MEMBERS[1].d1: "],
    ["member-key-type", { CAIRN_MEMBERS: members(member(1, { key: clientKeys(memberName(1)).verifierKey })) }, "CAIRN_MEMBERS[0].key: must be a cosigner key"],
    ["member-witness", { CAIRN_MEMBERS: members(member(1, { witness: "ftp://witness.m1.example" })) }, "CAIRN_MEMBERS[0].witness: must be an http:// or https:// URL"],
    ["primary-not-d1", { CAIRN_PRIMARY_D1: "CAIRN_ORIGIN" }, "CAIRN_PRIMARY_D1: this Worker has no D1 binding"],
    ["file-url", { CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:primary.db" }, "CAIRN_PRIMARY_URL: a Worker has no files"],
    ["interval", { CAIRN_SEAL_INTERVAL: "soon" }, "CAIRN_SEAL_INTERVAL: must be seconds"],
    ["members-json", { CAIRN_MEMBERS: "[{" }, "CAIRN_MEMBERS: must be a JSON array"],
    ["open-lookup", { CAIRN_OPEN_DIGEST_LOOKUP: "on" }, "CAIRN_OPEN_DIGEST_LOOKUP: must be 1 or 0"],
  ];
  let w: Workerd;
  let running: MemberSpec[];

  beforeAll(async () => {
    // Witness URLs on loopback ports nobody listens on: the good Worker's background seal contacts nothing outside.
    running = await Promise.all([1, 2, 3].map(absentMember));
    const good = settings(running);
    const defined = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
    w = await startWorkerd([
      // The first Worker is fine, and takes CAIRN_MEMBERS as a JSON value, as wrangler.toml [vars] may give it.
      { name: "good", bindings: { ...good, CAIRN_MEMBERS: JSON.parse(good.CAIRN_MEMBERS!) } },
      ...wrong.map(([name, change]) => ({ name, bindings: defined({ ...good, ...change }) })),
      // Right settings, but a primary no migration has touched yet (startWorkerd migrates the first Worker's only).
      { name: "unmigrated", bindings: good, d1Databases: { PRIMARY: "unmigrated" } },
    ]);
  });
  afterAll(() => w?.close());

  it("a correct configuration serves (JSON values from [vars] included)", async () => {
    const res = await w.request("/healthz", { worker: "good" });
    expect(res.status).toBe(200);
    const { members } = await (await w.request("/v1/consortium", { worker: "good" })).json();
    expect(members.map((m: any) => [m.name, m.key, m.witness])).toEqual(running.map((m) => [m.name, m.key, m.url]));
  });

  it("a primary without this release's schema: every request 503 and the cron run fails, writing nothing, until the migrations are applied", async () => {
    const db = (await w.mf.getD1Database("PRIMARY", "unmigrated")) as unknown as D1Database;
    const refusedAll = async () => {
      for (const [method, path] of [["GET", "/healthz"], ["POST", "/v1/anchors"], ["GET", "/v1/checkpoint"]] as const) {
        const res = await w.request(path, { method, worker: "unmigrated", ...(method === "POST" ? { json: { submission: "x" } } : {}) });
        expect(res.status, path).toBe(503);
        expect(res.headers.get("Retry-After")).toBe("30");
        expect((await res.json()).error).toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining("apply this release's migrations") });
      }
      expect((await w.scheduled("unmigrated")).outcome).not.toBe("ok");
    };
    await refusedAll(); // no tables at all
    await migrate(db, (f) => f < "0004");
    await refusedAll(); // the schema before ids were bytes
    expect((await db.prepare("SELECT (SELECT count(*) FROM pending) + (SELECT count(*) FROM blocks) AS n").first<{ n: number }>())!.n).toBe(0);
    await migrate(db, (f) => f >= "0004");
    expect((await w.request("/healthz", { worker: "unmigrated" })).status).toBe(200);
  });

  for (const [name, , message] of wrong) {
    it(`${name}: every request answers 500 BAD_CONFIG naming the setting, and the cron run fails`, async () => {
      for (const [method, path] of [["GET", "/healthz"], ["POST", "/v1/anchors"], ["GET", "/v1/checkpoint"]] as const) {
        const res = await w.request(path, { method, worker: name, ...(method === "POST" ? { json: { submission: "x" } } : {}) });
        expect(res.status).toBe(500);
        const body = await res.json();
        expect(body.error.code).toBe("BAD_CONFIG");
        expect(body.error.message).toContain(message);
      }
      expect((await w.scheduled(name)).outcome).not.toBe("ok");
    });
  }
});
