/**
 * trustRewrites: what re-pinning a log's trust document would rewrite. A
 * rotation carries the pinned document on; swapping a member's key for one
 * valid from size 0, dropping a member or a key, or lowering a quorum does
 * not, however the new document's fingerprint was obtained.
 */
import { describe, expect, it } from "vitest";
import { generateKeyPair, KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, sha256, trustRewrites, utf8, type TrustV1, type TrustV2 } from "../../src/core/index.js";

const ORIGIN = "rewrites.example/log";
const key = (label: string, name: string, type?: number) => generateKeyPair(name, sha256(utf8(`trust rewrites ${label}`)), type as never).verifierKey;
const op = key("operator", ORIGIN);
const op2 = key("operator 2", ORIGIN);
const names = ["a.example", "b.example", "c.example"];
const members = names.map((n) => ({ name: n, key: key(n, n, KEY_TYPE_COSIGNATURE_V1) }));
const pinned: TrustV1 = { version: "cairn-trust/v1", origin: ORIGIN, operatorKeys: [op], members, quorum: 2 };

/** The pinned consortium after the operator rotated at block 4 (sizes ≤ 5 old, ≥ 6 new) and member a at block 9. */
const rotated: TrustV2 = {
  version: "cairn-trust/v2",
  origin: ORIGIN,
  operatorKeys: [
    { key: op, from: 0, until: 5 },
    { key: op2, from: 6 },
  ],
  members: members.map((m, i) => ({ name: m.name, keys: i === 0 ? [{ key: m.key, from: 0, until: 10 }, { key: key("a next", m.name, KEY_TYPE_COSIGNATURE_V1), from: 11 }] : [{ key: m.key, from: 0 }] })),
  quorum: 2,
  pqQuorum: 0,
};

describe("trustRewrites", () => {
  it("a rotation carries the pinned document on, and so does adding a member's ML-DSA-44 key", () => {
    expect(trustRewrites(pinned, rotated)).toEqual([]);
    expect(trustRewrites(rotated, rotated)).toEqual([]);
    const pq = { ...rotated, members: rotated.members.map((m, i) => (i === 1 ? { ...m, keys: [...m.keys, { key: key("b pq", m.name, KEY_TYPE_COSIGNATURE_MLDSA44), from: 0 }] } : m)) };
    expect(trustRewrites(rotated, pq)).toEqual([]);
  });

  it("refuses a member's key swapped for one valid from the start (the server's own key, say)", () => {
    const swapped: TrustV2 = { ...rotated, members: rotated.members.map((m, i) => (i === 2 ? { name: m.name, keys: [{ key: key("attacker", m.name, KEY_TYPE_COSIGNATURE_V1), from: 0 }] } : m)) };
    const problems = trustRewrites(rotated, swapped);
    expect(problems).toContain(`member c.example: key ${members[2]!.key} is gone`);
    expect(problems.some((p) => p.startsWith("member c.example: new key") && p.includes("valid from size 0"))).toBe(true);
  });

  it("refuses an earlier start, a changed end, a dropped member, a lowered quorum, another origin", () => {
    const earlier = { ...rotated, operatorKeys: [rotated.operatorKeys[0]!, { key: op2, from: 3 }] };
    expect(trustRewrites(rotated, earlier)).toEqual([`the operator: key ${op2} now starts at size 3, not 6`]);
    const longer = { ...rotated, operatorKeys: [{ key: op, from: 0, until: 9 }, rotated.operatorKeys[1]!] };
    expect(trustRewrites(rotated, longer)).toEqual([`the operator: key ${op} now ends at 9, not 5`]);
    expect(trustRewrites(rotated, { ...rotated, members: rotated.members.slice(0, 2) })).toEqual(["member c.example is gone"]);
    expect(trustRewrites(rotated, { ...rotated, quorum: 1 })).toEqual(["the quorum goes down from 2 to 1"]);
    expect(trustRewrites(pinned, { ...pinned, origin: "other.example/log" })).toEqual(["it is for other.example/log, not rewrites.example/log"]);
  });
});
