import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkChainLink,
  formatBlockHeader,
  formatPromise,
  formatSubmission,
  noteSigner,
  parseBlockHeader,
  parseEntry,
  parsePromise,
  parseSubmission,
  parseTrust,
  signSubmission,
  formatVerifierKey,
  parseVerifierKey,
  ReceiptVerifier,
  KEY_TYPE_COSIGNATURE_V1,
  type ErrorCode,
} from "../../src/core/index.js";
import { client, keyPair, members, operator, ORIGIN, trust } from "./chain-fixture.js";

const HEX = "ab".repeat(32);
const B64 = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";

function rejects(fn: () => unknown, code: ErrorCode) {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

describe("submission", () => {
  const good = `cairn/submission/v1\n${ORIGIN}\n${HEX}\n1800000000\n`;

  it("parses the four-line and five-line forms", () => {
    expect(parseSubmission(good).time).toBe(1_800_000_000);
    expect(parseSubmission(good + `prev ${"cd".repeat(32)}\n`).prev?.length).toBe(32);
  });

  it.each([
    ["wrong version", good.replace("v1", "v2"), "BAD_SUBMISSION"],
    ["no final newline", good.slice(0, -1), "BAD_SUBMISSION"],
    ["empty line", good.replace("\n1800", "\n\n1800"), "BAD_SUBMISSION"],
    ["uppercase digest", good.replace(HEX, HEX.toUpperCase()), "BAD_DIGEST"],
    ["short digest", good.replace(HEX, HEX.slice(2)), "BAD_DIGEST"],
    ["leading zero time", good.replace("1800000000", "01800000000"), "BAD_SUBMISSION"],
    ["negative time", good.replace("1800000000", "-1"), "BAD_SUBMISSION"],
    ["CR line ending", good.replace(/\n/g, "\r\n"), "BAD_SUBMISSION"],
    ["bad prev keyword", good + `previous ${"cd".repeat(32)}\n`, "BAD_SUBMISSION"],
    ["bad prev id", good + `prev ${"cd".repeat(31)}\n`, "BAD_SUBMISSION"],
    ["sixth line", good + `prev ${"cd".repeat(32)}\nextra\n`, "BAD_SUBMISSION"],
    ["three lines", `cairn/submission/v1\n${ORIGIN}\n${HEX}\n`, "BAD_SUBMISSION"],
  ] as const)("rejects %s", (_, text, code) => rejects(() => parseSubmission(text), code));

  it("an entry must carry exactly one signature and stay small", async () => {
    const entry = await signSubmission(parseSubmission(good), noteSigner(client.signerKey));
    expect(parseEntry(entry).signer.name).toBe("client.example/app");
    const twice = entry + entry.slice(entry.lastIndexOf("— ")).replace("client.example/app", "other.example");
    rejects(() => parseEntry(twice), "BAD_NOTE");
    rejects(() => parseEntry(entry.replace(ORIGIN, "x".repeat(1100))), "BAD_NOTE");
  });

  it("round-trips any submission", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }), (digest, time, prev) => {
        const s = { origin: ORIGIN, digest, time, ...(prev ? { prev } : {}) };
        expect(parseSubmission(formatSubmission(s))).toEqual(s);
      }),
    );
  });
});

describe("promise", () => {
  const p = { origin: ORIGIN, id: HEX, receivedAt: 10, deadline: 70 };
  it("round-trips", () => expect(parsePromise(formatPromise(p))).toEqual(p));
  it.each([
    ["a deadline before receipt", formatPromise(p).replace("\n70\n", "\n9\n")],
    ["uppercase id", formatPromise(p).replace(HEX, HEX.toUpperCase())],
    ["a missing line", formatPromise(p).replace("\n70\n", "\n")],
    ["wrong header", formatPromise(p).replace("promise/v1", "promise/v0")],
  ])("rejects %s", (_, text) => rejects(() => parsePromise(text), "BAD_PROMISE"));
});

describe("block header", () => {
  const zero = new Uint8Array(32);
  const h = { origin: ORIGIN, height: 0, prevHash: zero, size: 3, root: new Uint8Array(32).fill(0xab), sealedAt: 5 };
  const text = formatBlockHeader(h);

  it("round-trips", () => expect(parseBlockHeader(text)).toEqual(h));
  it.each([
    ["zero entries", text.replace("\n3\n", "\n0\n")],
    ["non-canonical base64 root", text.replace(B64, B64.replace("s=", "t="))],
    ["root of 31 bytes", text.replace(B64, "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6ur")],
    ["block 0 with a non-zero previous hash", text.replace("0".repeat(64), "1".repeat(64))],
    ["leading zero height", text.replace(`${ORIGIN}\n0\n`, `${ORIGIN}\n00\n`)],
    ["eight lines", text + "x\n"],
  ])("rejects %s", (_, bad) => rejects(() => parseBlockHeader(bad), "BAD_BLOCK"));

  it("chain links: consecutive height, previous hash, origin, time", async () => {
    const { blockHash } = await import("../../src/core/index.js");
    const next = { ...h, height: 1, prevHash: blockHash(text), sealedAt: 6 };
    checkChainLink(text, formatBlockHeader(next));
    for (const bad of [
      { ...next, height: 2 },
      { ...next, prevHash: new Uint8Array(32).fill(1) },
      { ...next, origin: "other.example/log" },
      { ...next, sealedAt: 4 },
    ]) {
      rejects(() => checkChainLink(text, formatBlockHeader(bad)), "CHAIN_BROKEN");
    }
  });
});

describe("trust document", () => {
  it("accepts the fixture's", () => expect(parseTrust(JSON.stringify(trust))).toEqual(trust));
  it.each([
    ["another version", { ...trust, version: "cairn-trust/v2" }],
    ["no operator keys", { ...trust, operatorKeys: [] }],
    ["an operator key named otherwise", { ...trust, operatorKeys: [client.verifierKey] }],
    ["a member key of type 0x01", { ...trust, members: [{ name: "client.example/app", key: client.verifierKey }] }],
    ["a member whose name differs from its key's", { ...trust, members: [{ name: "x", key: members[0]!.verifierKey }] }],
    ["a member listed twice", { ...trust, members: [trust.members[0], trust.members[0]] }],
  ])("rejects %s", (_, doc) => rejects(() => parseTrust(doc), "BAD_TRUST"));

  // Documents that parse but would let one party vouch for itself: each
  // has a code of its own, apart from the format errors above.
  const key = (name: string, publicKeyOf: string) => formatVerifierKey(name, KEY_TYPE_COSIGNATURE_V1, parseVerifierKey(publicKeyOf).publicKey);
  it.each<[string, object, ErrorCode]>([
    ["no members, quorum 0 ('0 of 0')", { ...trust, members: [], quorum: 0 }, "TRUST_NO_MEMBERS"],
    ["no members, quorum 1", { ...trust, members: [], quorum: 1 }, "TRUST_NO_MEMBERS"],
    ["quorum 0", { ...trust, quorum: 0 }, "TRUST_BAD_QUORUM"],
    ["quorum above the members", { ...trust, quorum: 4 }, "TRUST_BAD_QUORUM"],
    ["quorum not an integer", { ...trust, quorum: 1.5 }, "TRUST_BAD_QUORUM"],
    ["quorum missing", { ...trust, quorum: undefined }, "TRUST_BAD_QUORUM"],
    ["one member's key again under a second name", { ...trust, members: [...trust.members, { name: "m4.example", key: key("m4.example", members[0]!.verifierKey) }], quorum: 2 }, "TRUST_DUPLICATE_KEY"],
    ["the operator's key as a member's", { ...trust, members: [...trust.members.slice(1), { name: "m9.example", key: key("m9.example", operator.verifierKey) }] }, "TRUST_MEMBER_IS_OPERATOR"],
    ["a member named after the origin", { ...trust, members: [...trust.members.slice(1), { name: ORIGIN, key: keyPair("posing", ORIGIN, KEY_TYPE_COSIGNATURE_V1).verifierKey }] }, "TRUST_MEMBER_IS_OPERATOR"],
  ])("refuses a hollow consortium: %s", (_, doc, code) => {
    rejects(() => parseTrust(doc), code);
    expect(() => new ReceiptVerifier(doc)).toThrow(expect.objectContaining({ code }));
  });
});
