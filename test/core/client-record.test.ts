import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, utf8 } from "../../src/core/bytes.js";
import {
  CLIENT_RECORD_HEADER,
  ClientRegistry,
  formatClientRecord,
  isClientRecordEntry,
  MAX_CLIENT_RECORD_BYTES,
  openClientRecord,
  parseClientRecord,
  parseClientRecordEntry,
  signClientRecord,
  type ClientRecordBody,
  isPlainClientName,
} from "../../src/core/client-record.js";
import { CairnError } from "../../src/core/errors.js";
import { sha256 } from "../../src/core/hash.js";
import { generateKeyPair, isValidKeyName, KEY_TYPE_COSIGNATURE_V1, noteSigner, parseVerifierKey } from "../../src/core/keys.js";
import { signNote } from "../../src/core/note.js";
import { entryId, signSubmission } from "../../src/core/submission.js";
import vectors from "../vectors/client-record-v1.json" with { type: "json" };

const ORIGIN = "cairn.test/log";
const T = 1_800_000_000;

function keyPair(label: string, name: string, type = 0x01) {
  return generateKeyPair(name, sha256(utf8(label)), type);
}

const operator = keyPair("client-record test operator", ORIGIN);
const operator2 = keyPair("client-record test operator 2", ORIGIN); // a rotated key, same name
const impostor = keyPair("client-record test impostor", ORIGIN); // named like the operator, not listed
const stranger = keyPair("client-record test stranger", "stranger.example");
const alice = keyPair("client-record test alice", "alice.example/app");
const aliceOther = keyPair("client-record test alice, another key", "alice.example/app");
const bob = keyPair("client-record test bob", "bob.example/app");
const opSigner = noteSigner(operator.signerKey);

function body(action: "register" | "revoke", key = alice.verifierKey, time = T): ClientRecordBody {
  return { origin: ORIGIN, action, key, time };
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(CairnError);
  expect((thrown as CairnError).code).toBe(code);
  if (message) expect((thrown as CairnError).message).toMatch(message);
}

async function expectReject(p: Promise<unknown>, code: string, message?: RegExp): Promise<CairnError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(CairnError);
  expect((e as CairnError).code).toBe(code);
  if (message) expect((e as CairnError).message).toMatch(message);
  return e as CairnError;
}

const lines = (...ls: string[]) => ls.map((l) => l + "\n").join("");

describe("client-record-v1 vectors", () => {
  it("cite their source", () => {
    expect(vectors.source).toBe("Cairn FORMATS v2, client records");
  });

  it("use the FORMATS §3 keys made from fixed seeds", () => {
    expect(generateKeyPair("cairn.example/log", sha256(utf8(vectors.operator.label)))).toEqual({
      signerKey: vectors.operator.signerKey,
      verifierKey: vectors.operator.verifierKey,
    });
    expect(generateKeyPair("registry.example/app", sha256(utf8(vectors.client.label)))).toEqual({
      signerKey: vectors.client.signerKey,
      verifierKey: vectors.client.verifierKey,
    });
  });

  for (const v of vectors.records) {
    const b: ClientRecordBody = { origin: v.origin, action: v.action as "register" | "revoke", key: v.key, time: v.time };

    it(`${v.action}: the text is the five lines, byte for byte`, () => {
      expect(v.text).toBe(`${CLIENT_RECORD_HEADER}\n${v.origin}\n${v.action}\n${v.key}\n${v.time}\n`);
      expect(formatClientRecord(b)).toBe(v.text);
      expect(parseClientRecord(v.text)).toEqual({ ...b, name: v.name });
    });

    it(`${v.action}: the entry is the operator-signed note, byte for byte (Ed25519 is deterministic)`, async () => {
      expect(await signClientRecord(b, noteSigner(vectors.operator.signerKey))).toBe(v.entry);
      expect(v.entry.startsWith(v.text + "\n— cairn.example/log ")).toBe(true);
      expect(isClientRecordEntry(v.entry)).toBe(true);
      expect(await openClientRecord(v.entry, [vectors.operator.verifierKey])).toEqual({ ...b, name: v.name });
    });

    it(`${v.action}: id is SHA-256(0x00 ‖ entry) and the signature verifies with node:crypto`, () => {
      expect(createHash("sha256").update(Buffer.from([0])).update(v.entry).digest("hex")).toBe(v.id);
      expect(entryId(v.entry)).toBe(v.id);
      // Independently of src/core: signature line = key id (4) ‖ Ed25519 signature (64) over the text.
      const sigLine = v.entry.slice(v.text.length + 1, -1);
      const raw = Buffer.from(sigLine.split(" ")[2]!, "base64");
      expect(raw.subarray(0, 4).toString("hex")).toBe(vectors.operator.verifierKey.split("+")[1]);
      const publicKey = Buffer.from(vectors.operator.verifierKey.split("+")[2]!, "base64").subarray(1);
      const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicKey.toString("base64url") }, format: "jwk" });
      expect(nodeVerify(null, Buffer.from(v.text), key, raw.subarray(4))).toBe(true);
    });
  }
});

describe("formatClientRecord / parseClientRecord", () => {
  it("round-trips", () => {
    const keys = [alice, bob, stranger].map((k) => k.verifierKey);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).filter(isValidKeyName),
        fc.constantFrom("register" as const, "revoke" as const),
        fc.constantFrom(...keys),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (origin, action, key, time) => {
          const r = { origin, action, key, time };
          const text = formatClientRecord(r);
          expect(parseClientRecord(text)).toEqual({ ...r, name: parseVerifierKey(key).name });
          expect(formatClientRecord(parseClientRecord(text))).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses look-alike client names: a verifier reads the name to decide who signed", () => {
    for (const name of ["b\u0430nk-a.example", "Bank-A.example", "bank-a.example.", "-bank", "bank\u200d-a.example", "bánk.example", "bank-a.example/", "x".repeat(129)]) {
      const key = keyPair(`look-alike ${name}`, name).verifierKey;
      expect(isPlainClientName(name), name).toBe(false);
      expectCode(() => formatClientRecord(body("register", key)), "BAD_CLIENT_RECORD", /is not plain/);
      expectCode(() => parseClientRecord(lines(CLIENT_RECORD_HEADER, ORIGIN, "register", key, String(T))), "BAD_CLIENT_RECORD", /look-alike names are refused/);
    }
    for (const name of ["bank-a.example", "registry.example/app", "app_1", "a", "x".repeat(128)]) expect(isPlainClientName(name), name).toBe(true);
  });

  it("returns the key's name", () => {
    expect(parseClientRecord(formatClientRecord(body("revoke", bob.verifierKey))).name).toBe("bob.example/app");
  });

  const good = [CLIENT_RECORD_HEADER, ORIGIN, "register", alice.verifierKey, String(T)];
  const replace = (i: number, v: string) => good.map((l, j) => (j === i ? v : l));
  const cosignerKey = keyPair("client-record test cosigner", "cosigner.example", KEY_TYPE_COSIGNATURE_V1).verifierKey;
  const [kName, kId, kB64] = alice.verifierKey.split("+") as [string, string, string];
  const malformed: [string, string][] = [
    ["empty", ""],
    ["no final newline", lines(...good).slice(0, -1)],
    ["CRLF line endings", good.map((l) => l + "\r\n").join("")],
    ["a trailing blank line", lines(...good) + "\n"],
    ["an empty line inside", lines(good[0]!, good[1]!, "", good[2]!, good[3]!, good[4]!)],
    ["four lines", lines(...good.slice(0, 4))],
    ["six lines", lines(...good, "extra")],
    ["a missing origin", lines(good[0]!, ...good.slice(2))],
    ["header v2", lines(...replace(0, "cairn/client/v2"))],
    ["header with a trailing space", lines(...replace(0, CLIENT_RECORD_HEADER + " "))],
    ["header in upper case", lines(...replace(0, CLIENT_RECORD_HEADER.toUpperCase()))],
    ["a submission header", lines(...replace(0, "cairn/submission/v1"))],
    ["origin with a space", lines(...replace(1, "cairn test/log"))],
    ["origin with a plus", lines(...replace(1, "cairn+test/log"))],
    ["origin with a tab", lines(...replace(1, "cairn\ttest/log"))],
    ["origin with a no-break space", lines(...replace(1, "cairn\u00a0test/log"))],
    ["action capitalised", lines(...replace(2, "Register"))],
    ["action unknown", lines(...replace(2, "delete"))],
    ["action with a trailing space", lines(...replace(2, "revoke "))],
    ["key not a key", lines(...replace(3, "alice"))],
    ["key with a wrong key id", lines(...replace(3, `${kName}+00000000+${kB64}`))],
    ["key with an upper-case key id", lines(...replace(3, `${kName}+${kId.toUpperCase()}+${kB64}`))],
    ["key renamed (id no longer matches)", lines(...replace(3, `mallory.example/app+${kId}+${kB64}`))],
    ["key material altered (id no longer matches)", lines(...replace(3, `${kName}+${kId}+${kB64.slice(0, -2)}${kB64.endsWith("AA") ? "BA" : "AA"}`))],
    ["key material truncated", lines(...replace(3, `${kName}+${kId}+${kB64.slice(0, -4)}`))],
    ["key with padding appended", lines(...replace(3, `${alice.verifierKey}====`))],
    ["key in the URL-safe alphabet", lines(...replace(3, `${kName}+${kId}+${kB64.replace(/[A-Z]/, "-")}`))],
    ["key with a space", lines(...replace(3, ` ${alice.verifierKey}`))],
    ["a cosignature (0x04) key", lines(...replace(3, cosignerKey))],
    ["time with a leading zero", lines(...replace(4, "0" + T))],
    ["time negative", lines(...replace(4, "-1"))],
    ["time with a plus sign", lines(...replace(4, "+" + T))],
    ["time fractional", lines(...replace(4, `${T}.5`))],
    ["time in hex", lines(...replace(4, "0x10"))],
    ["time beyond 2^53 - 1", lines(...replace(4, "9007199254740992"))],
    ["time with spaces", lines(...replace(4, ` ${T}`))],
    ["a NUL", lines(...replace(4, `${T}\u0000`))],
  ];

  for (const [what, text] of malformed) {
    it(`refuses ${what}`, () => expectCode(() => parseClientRecord(text), "BAD_CLIENT_RECORD"));
  }

  it("accepts 0 as a time, and refuses non-strings", () => {
    expect(parseClientRecord(lines(...replace(4, "0"))).time).toBe(0);
    expectCode(() => parseClientRecord(undefined as unknown as string), "BAD_CLIENT_RECORD");
  });

  const badBodies: [string, Partial<ClientRecordBody>][] = [
    ["an origin with a space", { origin: "a b" }],
    ["an empty origin", { origin: "" }],
    ["an unknown action", { action: "delete" as "register" }],
    ["a malformed key", { key: "alice" }],
    ["a cosignature key", { key: cosignerKey }],
    ["a negative time", { time: -1 }],
    ["a fractional time", { time: 1.5 }],
    ["an unsafe time", { time: 2 ** 53 }],
    ["a NaN time", { time: Number.NaN }],
  ];
  for (const [what, patch] of badBodies) {
    it(`formatClientRecord refuses ${what}`, () => expectCode(() => formatClientRecord({ ...body("register"), ...patch }), "BAD_CLIENT_RECORD"));
  }
});

describe("signClientRecord / openClientRecord", () => {
  it("signs with the operator key and opens with any listed operator key", async () => {
    const entry = await signClientRecord(body("register"), opSigner);
    expect(await openClientRecord(entry, [operator.verifierKey])).toEqual({ ...body("register"), name: "alice.example/app" });
    const rotated = await signClientRecord(body("register"), noteSigner(operator2.signerKey));
    expect((await openClientRecord(rotated, [operator.verifierKey, operator2.verifierKey])).key).toBe(alice.verifierKey);
  });

  it("refuses to sign with a key not named after the origin", async () => {
    await expectReject(signClientRecord(body("register"), noteSigner(stranger.signerKey)), "BAD_CLIENT_RECORD", /named cairn\.test\/log/);
  });

  it("refuses to sign a record beyond the entry size cap", async () => {
    const long = keyPair("long", "x".repeat(MAX_CLIENT_RECORD_BYTES)).verifierKey;
    await expectReject(signClientRecord(body("register", long), opSigner), "BAD_CLIENT_RECORD", /at most/);
  });

  it("refuses a record signed by a key that is not an operator key", async () => {
    const entry = await signClientRecord(body("register"), noteSigner(impostor.signerKey));
    const e = await expectReject(openClientRecord(entry, [operator.verifierKey]), "BAD_CLIENT_RECORD", /not signed by an operator key/);
    expect((e.cause as CairnError).code).toBe("NOTE_UNVERIFIED");
  });

  it("refuses a record signed by a key named otherwise, even when that key is listed", async () => {
    const entry = await signNote(formatClientRecord(body("register")), [noteSigner(stranger.signerKey)]);
    await expectReject(openClientRecord(entry, [operator.verifierKey, stranger.verifierKey]), "BAD_CLIENT_RECORD", /not stranger\.example/);
  });

  it("refuses a record with two signatures (operator and another; two operator keys)", async () => {
    const text = formatClientRecord(body("register"));
    const two = await signNote(text, [opSigner, noteSigner(stranger.signerKey)]);
    await expectReject(openClientRecord(two, [operator.verifierKey]), "BAD_CLIENT_RECORD", /exactly one signature.*has 2/);
    const both = await signNote(text, [opSigner, noteSigner(operator2.signerKey)]);
    await expectReject(openClientRecord(both, [operator.verifierKey, operator2.verifierKey]), "BAD_CLIENT_RECORD", /exactly one signature/);
  });

  it("refuses a record with no signature", async () => {
    const text = formatClientRecord(body("register"));
    for (const entry of [text, text + "\n", text + "\n\n"]) {
      await expectReject(openClientRecord(entry, [operator.verifierKey]), "BAD_CLIENT_RECORD", /not a valid signed note/);
    }
  });

  it("refuses a record whose signature or text was altered", async () => {
    const entry = await signClientRecord(body("register"), opSigner);
    const split = entry.lastIndexOf("\n\n") + 2;
    const line = entry.slice(split, -1);
    const space = line.lastIndexOf(" ");
    const raw = fromBase64(line.slice(space + 1));
    for (const i of [4, 20, 67]) {
      const flipped = raw.slice();
      flipped[i]! ^= 0x01;
      const bad = entry.slice(0, split) + line.slice(0, space + 1) + toBase64(flipped) + "\n";
      const e = await expectReject(openClientRecord(bad, [operator.verifierKey]), "BAD_CLIENT_RECORD");
      expect((e.cause as CairnError).code).toBe("BAD_SIGNATURE");
    }
    const later = entry.replace(`\n${T}\n`, `\n${T + 1}\n`);
    await expectReject(openClientRecord(later, [operator.verifierKey]), "BAD_CLIENT_RECORD");
    const revoke = entry.replace("\nregister\n", "\nrevoke\n");
    await expectReject(openClientRecord(revoke, [operator.verifierKey]), "BAD_CLIENT_RECORD");
  });

  it("refuses an operator-signed note that is not a client record", async () => {
    const sub = await signSubmission({ origin: ORIGIN, digest: sha256(utf8("doc")), time: T }, opSigner);
    await expectReject(openClientRecord(sub, [operator.verifierKey]), "BAD_CLIENT_RECORD", /must have 5 lines/);
    const malformed = await signNote(lines(CLIENT_RECORD_HEADER, ORIGIN, "register", alice.verifierKey, "0" + T), [opSigner]);
    await expectReject(openClientRecord(malformed, [operator.verifierKey]), "BAD_CLIENT_RECORD", /leading zeros/);
  });

  it("refuses oversized and non-UTF-8-clean entries", async () => {
    const entry = await signClientRecord(body("register"), opSigner);
    await expectReject(openClientRecord(entry + "x".repeat(MAX_CLIENT_RECORD_BYTES), [operator.verifierKey]), "BAD_CLIENT_RECORD", /at most/);
    // Under the UTF-16 cap but over the UTF-8 one.
    const wide = entry.replace(ORIGIN, "é".repeat(450));
    expect(wide.length).toBeLessThanOrEqual(MAX_CLIENT_RECORD_BYTES);
    expect(utf8(wide).length).toBeGreaterThan(MAX_CLIENT_RECORD_BYTES);
    expectCode(() => parseClientRecordEntry(wide), "BAD_CLIENT_RECORD", /exceeds/);
    expectCode(() => parseClientRecordEntry(entry.replace(ORIGIN, `${ORIGIN}\ud800`)), "BAD_CLIENT_RECORD");
  });

  it("isClientRecordEntry looks at the first line only", async () => {
    const entry = await signClientRecord(body("register"), opSigner);
    expect(isClientRecordEntry(entry)).toBe(true);
    expect(isClientRecordEntry(CLIENT_RECORD_HEADER + "\nanything")).toBe(true);
    expect(isClientRecordEntry(await signSubmission({ origin: ORIGIN, digest: sha256(utf8("doc")), time: T }, noteSigner(alice.signerKey)))).toBe(false);
    expect(isClientRecordEntry(CLIENT_RECORD_HEADER)).toBe(false);
    expect(isClientRecordEntry(CLIENT_RECORD_HEADER + "0\n")).toBe(false);
    expect(isClientRecordEntry(" " + entry)).toBe(false);
    expect(isClientRecordEntry(undefined as unknown as string)).toBe(false);
  });
});

describe("ClientRegistry", () => {
  const reg = (action: "register" | "revoke", key = alice.verifierKey) => body(action, key);

  it("registers, revokes, and is immutable", () => {
    const empty = ClientRegistry.empty();
    const one = empty.apply(reg("register"));
    const two = one.apply(reg("register", bob.verifierKey));
    const revoked = two.apply(reg("revoke"));
    expect(empty.lookup("alice.example/app")).toBeUndefined();
    expect(empty.size).toBe(0);
    expect(one.lookup("alice.example/app")).toEqual({ key: alice.verifierKey, status: "active" });
    expect(two.size).toBe(2);
    expect(revoked.lookup("alice.example/app")).toEqual({ key: alice.verifierKey, status: "revoked" });
    expect(two.lookup("alice.example/app")?.status).toBe("active");
    expect([...revoked.entries()]).toEqual([
      ["alice.example/app", { key: alice.verifierKey, status: "revoked" }],
      ["bob.example/app", { key: bob.verifierKey, status: "active" }],
    ]);
    expect(Object.isFrozen(revoked.lookup("alice.example/app"))).toBe(true);
  });

  const conflicts: [string, ClientRegistry, ClientRecordBody, RegExp][] = [
    ["register twice with the same key", ClientRegistry.empty().apply(reg("register")), reg("register"), /already registered \(active\) with this key/],
    ["register the same name with another key", ClientRegistry.empty().apply(reg("register")), reg("register", aliceOther.verifierKey), /already registered \(active\) with another key/],
    ["register again after revocation", ClientRegistry.empty().apply(reg("register")).apply(reg("revoke")), reg("register"), /already registered \(revoked\)/],
    ["re-register a revoked name with a new key", ClientRegistry.empty().apply(reg("register")).apply(reg("revoke")), reg("register", aliceOther.verifierKey), /already registered \(revoked\) with another key/],
    ["revoke an unknown name", ClientRegistry.empty(), reg("revoke"), /not registered/],
    ["revoke twice", ClientRegistry.empty().apply(reg("register")).apply(reg("revoke")), reg("revoke"), /already revoked/],
    ["revoke with another key", ClientRegistry.empty().apply(reg("register")), reg("revoke", aliceOther.verifierKey), /registered with another key/],
  ];
  for (const [what, registry, record, message] of conflicts) {
    it(`refuses to ${what} (REGISTRY_CONFLICT)`, () => {
      const before = [...registry.entries()];
      expectCode(() => registry.apply(record), "REGISTRY_CONFLICT", message);
      expect([...registry.entries()]).toEqual(before);
    });
  }

  it("applies parsed records as they are, and re-checks anything derived from them", () => {
    const parsed = parseClientRecord(formatClientRecord(reg("register")));
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(ClientRegistry.empty().apply(parsed).lookup("alice.example/app")?.status).toBe("active");
    expectCode(() => ClientRegistry.empty().apply({ ...parsed, key: "alice.example/app+00000000+AA==" }), "BAD_CLIENT_RECORD");
  });

  it("refuses malformed records (BAD_CLIENT_RECORD)", () => {
    expectCode(() => ClientRegistry.empty().apply({ ...reg("register"), key: "nope" }), "BAD_CLIENT_RECORD");
    expectCode(() => ClientRegistry.empty().apply({ ...reg("register"), action: "rename" as "register" }), "BAD_CLIENT_RECORD");
  });

  it("from() rebuilds stored state and checks it for consistency", () => {
    const r = ClientRegistry.from([
      { name: "alice.example/app", key: alice.verifierKey, status: "revoked" },
      { name: "bob.example/app", key: bob.verifierKey, status: "active" },
    ]);
    expect(r.lookup("alice.example/app")?.status).toBe("revoked");
    expectCode(() => r.apply(reg("revoke")), "REGISTRY_CONFLICT", /already revoked/);
    expect(r.apply(reg("revoke", bob.verifierKey)).lookup("bob.example/app")?.status).toBe("revoked");
    expectCode(
      () =>
        ClientRegistry.from([
          { name: "alice.example/app", key: alice.verifierKey, status: "active" },
          { name: "alice.example/app", key: aliceOther.verifierKey, status: "active" },
        ]),
      "REGISTRY_CONFLICT",
    );
    expectCode(() => ClientRegistry.from([{ name: "bob.example/app", key: alice.verifierKey, status: "active" }]), "BAD_CLIENT_RECORD");
    expectCode(() => ClientRegistry.from([{ name: "alice.example/app", key: alice.verifierKey, status: "paused" as "active" }]), "BAD_CLIENT_RECORD");
    expectCode(() => ClientRegistry.from([{ name: "a b", key: "a b+", status: "active" }]), "BAD_CLIENT_RECORD");
  });

  it("parses each key's verifier once and shares it with the registries derived from it", () => {
    const r = ClientRegistry.empty().apply(reg("register"));
    const v = r.verifier("alice.example/app")!;
    expect(v.name).toBe("alice.example/app");
    expect(r.verifier("alice.example/app")).toBe(v);
    const later = r.apply(reg("register", bob.verifierKey)).apply(reg("revoke"));
    expect(later.verifier("alice.example/app")).toBe(v);
    expect(r.verifier("nobody")).toBeUndefined();
  });

  it("a draft applies records with lookups in between, and leaves its base alone", () => {
    const base = ClientRegistry.empty().apply(reg("register", bob.verifierKey));
    const draft = base.draft();
    expect(draft.lookup("alice.example/app")).toBeUndefined();
    draft.apply(reg("register"));
    expect(draft.lookup("alice.example/app")?.status).toBe("active");
    expectCode(() => draft.apply(reg("register")), "REGISTRY_CONFLICT");
    expect(draft.lookup("alice.example/app")?.status).toBe("active"); // unchanged by the failed apply
    draft.apply(reg("revoke"));
    const after = draft.done();
    expect(after.lookup("alice.example/app")?.status).toBe("revoked");
    expect(base.lookup("alice.example/app")).toBeUndefined();
    expect(() => draft.done()).toThrow(/after done/);
    expect(() => draft.apply(reg("revoke", bob.verifierKey))).toThrow(/after done/);
    expect([...base.draft().done().entries()]).toEqual([...base.entries()]);
  });
});
