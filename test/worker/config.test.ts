/**
 * Configuration of the Worker: the settings parseConfig gains for it (D1
 * bindings, no files) while Node's stay as they were; and, in workerd, a
 * wrong setting answering every request 500 BAD_CONFIG with a message that
 * names the setting, and failing every cron run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type Settings } from "../../src/runtime/config.js";
import { cosignerKey, memberName, settings, startWorkerd, THREE_D1_MEMBERS, type Workerd } from "./harness.js";

const worker = (bindings: readonly string[]) => ({ worker: { isD1Binding: (name: string) => bindings.includes(name) } });
const D1 = worker(["PRIMARY", "MEMBER_1", "MEMBER_2", "MEMBER_3"]);
const libsqlMembers = JSON.stringify([1, 2, 3].map((i) => ({ name: memberName(i), cosignerKey: cosignerKey(i), url: `file:/tmp/m${i}.db` })));

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
  it("reads D1 bindings for the primary and members in the Worker", () => {
    const config = parseConfig(settings(THREE_D1_MEMBERS), D1);
    expect(config.primary).toEqual({ d1: "PRIMARY" });
    expect(config.members.map((m) => m.database)).toEqual([{ d1: "MEMBER_1" }, { d1: "MEMBER_2" }, { d1: "MEMBER_3" }]);
    expect(config.quorum).toBe(2);
  });

  it("mixes D1 and libSQL URLs with tokens in the Worker", () => {
    const s = settings([{ d1: "MEMBER_1" }, { url: "libsql://m2.example.turso.io", authToken: "t0ken" }, { url: "https://sqld.m3.example" }]);
    expect(parseConfig(s, D1).members.map((m) => m.database)).toEqual([
      { d1: "MEMBER_1" },
      { url: "libsql://m2.example.turso.io", authToken: "t0ken" },
      { url: "https://sqld.m3.example" },
    ]);
    const remotePrimary = parseConfig({ ...s, CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "libsql://op.example", CAIRN_PRIMARY_AUTH_TOKEN: "tok" }, D1);
    expect(remotePrimary.primary).toEqual({ url: "libsql://op.example", authToken: "tok" });
  });

  it("keeps Node's settings as they were", () => {
    const s = { ...settings([]), CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db", CAIRN_MEMBERS: libsqlMembers };
    const config = parseConfig(s);
    expect(config.primary).toEqual({ url: "file:/tmp/p.db" });
    expect(config.members.map((m) => m.database)).toEqual([1, 2, 3].map((i) => ({ url: `file:/tmp/m${i}.db` })));
    refused({ ...s, CAIRN_PRIMARY_URL: undefined }, {}, "CAIRN_PRIMARY_URL", "is required");
    refused({ ...s, CAIRN_PRIMARY_URL: "postgres://x" }, {}, "CAIRN_PRIMARY_URL", "libSQL URL");
  });

  it("refuses D1 on Node, files in the Worker, unknown bindings and ambiguous settings, naming each", () => {
    const s = settings(THREE_D1_MEMBERS);
    refused({ ...s, CAIRN_MEMBERS: libsqlMembers }, {}, "CAIRN_PRIMARY_D1", "only in the Cloudflare Worker");
    refused({ ...s, CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db" }, {}, "CAIRN_MEMBERS[0].d1", "only in the Cloudflare Worker");
    refused({ ...s, CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:/tmp/p.db" }, D1, "CAIRN_PRIMARY_URL", "has no files");
    refused({ ...s, CAIRN_PRIMARY_D1: undefined }, D1, "CAIRN_PRIMARY_D1", "is required");
    refused({ ...s, CAIRN_PRIMARY_URL: "libsql://x.example" }, D1, "CAIRN_PRIMARY_D1", "not both");
    refused({ ...s, CAIRN_PRIMARY_D1: "NOPE" }, D1, "CAIRN_PRIMARY_D1", 'no D1 binding named "NOPE"');
    refused(settings([{ d1: "MEMBER_1" }, { d1: "MEMBER_9" }]), D1, "CAIRN_MEMBERS[1].d1", "MEMBER_9");
    refused(settings([{ d1: "MEMBER_1" }, { url: "file:/tmp/m2.db" }]), D1, "CAIRN_MEMBERS[1].url", "has no files");
    const both = JSON.stringify([{ name: memberName(1), cosignerKey: cosignerKey(1), d1: "MEMBER_1", url: "libsql://x" }]);
    refused({ ...s, CAIRN_MEMBERS: both }, D1, "CAIRN_MEMBERS[0].d1", "not both");
    const neither = JSON.stringify([{ name: memberName(1), cosignerKey: cosignerKey(1) }]);
    refused({ ...s, CAIRN_MEMBERS: neither }, D1, "CAIRN_MEMBERS[0].url", "or d1");
  });
});

describe("a wrong setting in workerd", () => {
  const wrong: [string, Record<string, string | undefined>, string][] = [
    ["no-operator-key", { CAIRN_OPERATOR_KEY: undefined }, "CAIRN_OPERATOR_KEY: is required"],
    ["member-binding", { CAIRN_MEMBERS: JSON.stringify([{ name: memberName(1), cosignerKey: cosignerKey(1), d1: "MEMBER_7" }]) }, "CAIRN_MEMBERS[0].d1: "],
    ["primary-not-d1", { CAIRN_PRIMARY_D1: "CAIRN_ORIGIN" }, "CAIRN_PRIMARY_D1: this Worker has no D1 binding"],
    ["file-url", { CAIRN_PRIMARY_D1: undefined, CAIRN_PRIMARY_URL: "file:primary.db" }, "CAIRN_PRIMARY_URL: a Worker has no files"],
    ["interval", { CAIRN_SEAL_INTERVAL: "soon" }, "CAIRN_SEAL_INTERVAL: must be seconds"],
    ["members-json", { CAIRN_MEMBERS: "[{" }, "CAIRN_MEMBERS: must be a JSON array"],
  ];
  let w: Workerd;

  beforeAll(async () => {
    const good = settings(THREE_D1_MEMBERS);
    const defined = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
    w = await startWorkerd([
      // The first Worker is fine, and takes CAIRN_MEMBERS as a JSON value, as wrangler.toml [vars] may give it.
      { name: "good", bindings: { ...good, CAIRN_MEMBERS: JSON.parse(good.CAIRN_MEMBERS!) } },
      ...wrong.map(([name, change]) => ({ name, bindings: defined({ ...good, ...change }) })),
    ]);
  });
  afterAll(() => w?.close());

  it("a correct configuration serves (JSON values from [vars] included)", async () => {
    const res = await w.request("/healthz", { worker: "good" });
    expect(res.status).toBe(200);
    expect((await (await w.request("/v1/consortium", { worker: "good" })).json()).members).toHaveLength(3);
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
