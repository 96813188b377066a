/**
 * A member's witness configuration (src/runtime/member.ts): read once at
 * start, every mistake refused with the name of the setting; the cosigner key
 * made once in the member's own data dir, 0600, and refused when it does not
 * belong to this member.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatSignerKey, generateKeyPair, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, sha256, utf8 } from "../../src/core/index.js";
import { memberKey, parseMemberSettings } from "../../src/runtime/member.js";

const ORIGIN = "log.example/registry";
const operator = generateKeyPair(ORIGIN, sha256(utf8("member-config operator")), KEY_TYPE_ED25519);
const good = {
  CAIRN_MEMBER_NAME: "witness.bank-a.example",
  CAIRN_LOG_ORIGIN: ORIGIN,
  CAIRN_LOG_KEYS: operator.verifierKey,
  CAIRN_LOG_URL: "https://anchor.example.org/",
};

function refused(change: Record<string, string | undefined>, setting: string, words: string) {
  let error: unknown;
  try {
    parseMemberSettings({ ...good, ...change });
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${setting} to be refused`).toMatchObject({ code: "BAD_CONFIG" });
  expect((error as Error).message).toMatch(new RegExp(`^${setting.replace(/[[\]]/g, "\\$&")}: `));
  expect((error as Error).message).toContain(words);
}

describe("cairn member settings", () => {
  it("reads a correct configuration, with defaults", () => {
    const s = parseMemberSettings({ ...good, CAIRN_MEMBER_DATA_DIR: "/var/lib/w" });
    expect(s.config).toMatchObject({ name: "witness.bank-a.example", origin: ORIGIN, logKeys: [operator.verifierKey], logUrl: "https://anchor.example.org", maxSkewSeconds: 60, timeWindowSeconds: 300, syncBudgetMs: 10_000 });
    expect(s.replica).toEqual({ url: "file:///var/lib/w/replica.db" });
    expect(s).toMatchObject({ port: 8788, host: "127.0.0.1", dataDir: "/var/lib/w" });
    const remote = parseMemberSettings({ ...good, CAIRN_MEMBER_REPLICA_URL: "libsql://w.turso.io", CAIRN_MEMBER_REPLICA_AUTH_TOKEN: "t", CAIRN_MAX_SKEW: "5", CAIRN_SYNC_BUDGET: "2", PORT: "9000" });
    expect(remote.replica).toEqual({ url: "libsql://w.turso.io", authToken: "t" });
    expect(remote.config).toMatchObject({ maxSkewSeconds: 5, syncBudgetMs: 2000 });
    expect(remote.port).toBe(9000);
  });

  it("refuses each mistake, naming the setting", () => {
    refused({ CAIRN_MEMBER_NAME: undefined }, "CAIRN_MEMBER_NAME", "is required");
    refused({ CAIRN_MEMBER_NAME: "two words" }, "CAIRN_MEMBER_NAME", "key name");
    refused({ CAIRN_MEMBER_NAME: ORIGIN }, "CAIRN_MEMBER_NAME", "cannot be the log's origin");
    refused({ CAIRN_LOG_ORIGIN: undefined }, "CAIRN_LOG_ORIGIN", "is required");
    refused({ CAIRN_LOG_KEYS: undefined }, "CAIRN_LOG_KEYS", "is required");
    refused({ CAIRN_LOG_KEYS: "not a key" }, "CAIRN_LOG_KEYS[0]", "is not a verifier key");
    const cosigner = generateKeyPair(ORIGIN, sha256(utf8("x")), KEY_TYPE_COSIGNATURE_V1).verifierKey;
    refused({ CAIRN_LOG_KEYS: `${operator.verifierKey},${cosigner}` }, "CAIRN_LOG_KEYS[1]", "Ed25519");
    const other = generateKeyPair("other.example/log", sha256(utf8("y")), KEY_TYPE_ED25519).verifierKey;
    refused({ CAIRN_LOG_KEYS: other }, "CAIRN_LOG_KEYS[0]", "named after its origin");
    refused({ CAIRN_LOG_URL: undefined }, "CAIRN_LOG_URL", "is required");
    refused({ CAIRN_LOG_URL: "anchor.example.org" }, "CAIRN_LOG_URL", "is not a URL");
    refused({ CAIRN_LOG_URL: "ftp://anchor.example.org" }, "CAIRN_LOG_URL", "http");
    refused({ CAIRN_MEMBER_REPLICA_URL: "postgres://x" }, "CAIRN_MEMBER_REPLICA_URL", "libSQL URL");
    refused({ CAIRN_MAX_SKEW: "-1" }, "CAIRN_MAX_SKEW", "whole seconds");
    refused({ CAIRN_SYNC_BUDGET: "soon" }, "CAIRN_SYNC_BUDGET", "seconds");
    refused({ PORT: "70000" }, "PORT", "port number");
  });
});

describe("the member's cosigner key", () => {
  it("is made once in its data dir, readable by the member alone, and reused", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-member-key-"));
    const first = memberKey(dir, "witness.bank-a.example");
    expect(first.created).toBe(true);
    expect(statSync(join(dir, "cosigner.key")).mode & 0o777).toBe(0o600);
    expect(first.verifierKey).toMatch(/^witness\.bank-a\.example\+[0-9a-f]{8}\+/);
    const again = memberKey(dir, "witness.bank-a.example");
    expect(again).toMatchObject({ created: false, verifierKey: first.verifierKey });
    expect(readFileSync(join(dir, "cosigner.key"), "utf8")).toMatch(/^PRIVATE\+KEY\+witness\.bank-a\.example\+/);
  });

  it("refuses a key named for another member, or a key that is not a cosigner key", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-member-key-"));
    memberKey(dir, "witness.bank-a.example");
    expect(() => memberKey(dir, "witness.bank-b.example")).toThrow(/CAIRN_MEMBER_NAME: .*named witness\.bank-a\.example/);
    const other = mkdtempSync(join(tmpdir(), "cairn-member-key-"));
    writeFileSync(join(other, "cosigner.key"), formatSignerKey("witness.bank-a.example", KEY_TYPE_ED25519, sha256(utf8("z"))) + "\n");
    expect(() => memberKey(other, "witness.bank-a.example")).toThrow(/type 0x04/);
  });
});
