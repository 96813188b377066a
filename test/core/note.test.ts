import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from "../../src/core/bytes.js";
import { ed25519PublicKey, smallOrderEncodings } from "../../src/core/ed25519.js";
import { CairnError } from "../../src/core/errors.js";
import {
  formatSignerKey,
  formatVerifierKey,
  generateKeyPair,
  isValidKeyName,
  keyId,
  keyIdHex,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  noteVerifier,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
} from "../../src/core/keys.js";
import {
  addSignatures,
  formatNote,
  MAX_NOTE_SIZE,
  openNote,
  parseNote,
  signNote,
} from "../../src/core/note.js";
import vectors from "../vectors/signed-note.json" with { type: "json" };

const go = vectors.go;
const c2sp = vectors.c2sp;
const TEXT = go.text;
const PETER_SIG = go.peterSignatureLine;
const ENOCH_SIG = go.enochSignatureLine;

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: "CairnError", code }));
}

async function expectReject(p: Promise<unknown>, code: string, message?: RegExp): Promise<CairnError> {
  const e = await p.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CairnError);
  expect((e as CairnError).code).toBe(code);
  if (message) expect((e as CairnError).message).toMatch(message);
  return e as CairnError;
}

function seedOf(i: number): Uint8Array {
  const s = new Uint8Array(32).fill(0x5a);
  new DataView(s.buffer).setUint32(0, i);
  return s;
}

function pair(name: string, i: number) {
  const { signerKey, verifierKey } = generateKeyPair(name, seedOf(i));
  return { signer: noteSigner(signerKey), verifierKey };
}

// ---------------------------------------------------------------------------

describe("keys: Go sumdb/note vectors", () => {
  it("parses the PeterNeumann verifier key", () => {
    const k = parseVerifierKey(go.peterVerifierKey);
    expect(k.name).toBe("PeterNeumann");
    expect(keyIdHex(k.keyId)).toBe(go.peterKeyId);
    expect(k.type).toBe(KEY_TYPE_ED25519);
    expect(k.text).toBe(go.peterVerifierKey);
    expect(keyId(k.name, k.type, k.publicKey)).toBe(k.keyId);
    expect(formatVerifierKey(k.name, k.type, k.publicKey)).toBe(go.peterVerifierKey);
  });

  it("parses the PeterNeumann signer key and derives its verifier key", () => {
    const s = parseSignerKey(go.peterSignerKey);
    expect(s.name).toBe("PeterNeumann");
    expect(keyIdHex(s.keyId)).toBe(go.peterKeyId);
    expect(formatVerifierKey(s.name, s.type, s.publicKey)).toBe(go.peterVerifierKey);
    expect(formatSignerKey(s.name, s.type, s.seed)).toBe(go.peterSignerKey);
    expect(generateKeyPair("PeterNeumann", s.seed)).toEqual({
      signerKey: go.peterSignerKey,
      verifierKey: go.peterVerifierKey,
    });
  });

  it("parses the EnochRoot and C2SP example keys", () => {
    expect(keyIdHex(parseVerifierKey(go.enochVerifierKey).keyId)).toBe(go.enochKeyId);
    const foo = parseVerifierKey(c2sp.verifierKey);
    expect(toHex(foo.publicKey)).toBe(c2sp.publicKey);
  });

  it("rejects every substring and every one-byte change of the keys (as Go's tests)", () => {
    for (const [key, parse] of [
      [go.peterVerifierKey, parseVerifierKey],
      [go.peterSignerKey, parseSignerKey],
    ] as const) {
      for (let i = 0; i <= key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i === 0 && j === key.length) continue;
          expect(() => parse(key.slice(i, j)), key.slice(i, j)).toThrow(CairnError);
        }
      }
      for (let i = 0; i < key.length; i++) {
        const mangled = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(() => parse(mangled), mangled).toThrow(CairnError);
      }
    }
  });

  it("rejects Go's bad keys: wrong length and unknown algorithm (with matching ids)", () => {
    expectCode(() => parseVerifierKey(go.badVerifierKeys[0]!), "BAD_KEY");
    expectCode(() => parseVerifierKey(go.badVerifierKeys[1]!), "UNSUPPORTED_ALGORITHM");
  });
});

describe("keys: strict parsing", () => {
  const pk = parseVerifierKey(go.peterVerifierKey).publicKey;
  const material = (type: number, key: Uint8Array) => toBase64(concatBytes(Uint8Array.of(type), key));
  const vkey = (name: string, type: number, key: Uint8Array, id = keyId(name, type, key)) =>
    `${name}+${keyIdHex(id)}+${material(type, key)}`;

  it("key id mismatch", () => {
    expectCode(() => parseVerifierKey(vkey("PeterNeumann", 1, pk, 0xc74f20a4)), "BAD_KEY");
    expectCode(() => parseVerifierKey(vkey("PeterNeumann", 1, pk, 0)), "BAD_KEY");
  });

  it("uppercase or short hex id", () => {
    expectCode(() => parseVerifierKey(go.peterVerifierKey.replace("c74f20a3", "C74F20A3")), "BAD_KEY");
    expectCode(() => parseVerifierKey(go.peterVerifierKey.replace("c74f20a3", "c74f20a")), "BAD_KEY");
  });

  it("non-canonical base64", () => {
    // 33 bytes need no padding; an unpadded 32-byte body would be 43 chars.
    expectCode(() => parseVerifierKey(go.peterVerifierKey + "="), "BAD_KEY");
    expectCode(() => parseVerifierKey(go.peterVerifierKey.replace("/", "_")), "BAD_KEY");
    expectCode(() => parseVerifierKey("PeterNeumann+c74f20a3+ ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), "BAD_KEY");
  });

  it("names with space, '+', or nothing", () => {
    expectCode(() => parseVerifierKey(vkey("Peter Neumann", 1, pk)), "BAD_KEY_NAME");
    expectCode(() => parseVerifierKey("+c74f20a3+" + material(1, pk)), "BAD_KEY_NAME");
    expectCode(() => formatVerifierKey("a+b", 1, pk), "BAD_KEY_NAME");
    expectCode(() => formatVerifierKey("a b", 1, pk), "BAD_KEY_NAME");
    expectCode(() => formatVerifierKey("", 1, pk), "BAD_KEY_NAME");
  });

  it("unknown types (0x02 ECDSA, 0x03 reserved, 0x05 RFC 6962) are unsupported", () => {
    expectCode(() => parseVerifierKey(vkey("x", 0x02, pk)), "UNSUPPORTED_ALGORITHM");
    expectCode(() => parseVerifierKey(vkey("x", 0x03, pk)), "UNSUPPORTED_ALGORITHM");
    expectCode(() => formatVerifierKey("x", 0x05, pk), "UNSUPPORTED_ALGORITHM");
  });

  it("small-order, mixed-order and non-canonical keys (with correct ids) are refused", () => {
    const mixed = ed25519.Point.fromBytes(pk, false).add(ed25519.Point.fromBytes(smallOrderEncodings()[5]!, false));
    const bad = [
      ...smallOrderEncodings(),
      mixed.toBytes(),
      Uint8Array.from([0xee, ...new Array<number>(30).fill(0xff), 0x7f]),
    ];
    for (const key of bad) expectCode(() => parseVerifierKey(vkey("x", 1, key)), "BAD_KEY");
  });

  it("keys of type 0x04 (cosignature/v1) parse, with their own key id", () => {
    const k = parseVerifierKey(vkey("witness", KEY_TYPE_COSIGNATURE_V1, pk));
    expect(k.type).toBe(KEY_TYPE_COSIGNATURE_V1);
    expect(k.keyId).not.toBe(keyId("witness", KEY_TYPE_ED25519, pk));
  });

  it("signer keys: prefix, id and seed length", () => {
    const s = go.peterSignerKey;
    expectCode(() => parseSignerKey(s.replace("PRIVATE+KEY+", "PRIVATE+KEYS+")), "BAD_KEY");
    expectCode(() => parseSignerKey(s.replace("c74f20a3", "c74f20a4")), "BAD_KEY");
    expectCode(() => parseSignerKey("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK"), "BAD_KEY");
    let message = "";
    try {
      parseSignerKey(s.replace("c74f20a3", "00000000"));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain("AYEKFALV"); // never echoes the secret
  });

  it("noteSigner refuses cosignature/v1 signer keys", () => {
    const skey = formatSignerKey("w", KEY_TYPE_COSIGNATURE_V1, seedOf(1));
    expect(parseSignerKey(skey).type).toBe(KEY_TYPE_COSIGNATURE_V1);
    expectCode(() => noteSigner(skey), "UNSUPPORTED_ALGORITHM");
  });

  it("key names", () => {
    for (const good of ["PeterNeumann", "example.com/log42", "café.example/ключ", "oid/1.3.6.1.4.1", "a\u00ad"]) {
      expect(isValidKeyName(good), good).toBe(true);
    }
    for (const bad of [
      "",
      "a b",
      "a+b",
      "a\tb",
      "a\nb",
      "a\u0000",
      "a\u007f",
      "a\u0085",
      "a\u00a0",
      "a\u2028",
      "a\u3000",
      "a\u2009",
      "\ufeffa",
      "a\ud800",
      "a\udc00b",
    ]) {
      expect(isValidKeyName(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it("round-trips generated keys (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }).filter(isValidKeyName),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(KEY_TYPE_ED25519, KEY_TYPE_COSIGNATURE_V1),
        (name, seed, type) => {
          const { signerKey, verifierKey } = generateKeyPair(name, seed, type);
          const v = parseVerifierKey(verifierKey);
          const s = parseSignerKey(signerKey);
          expect(v.name).toBe(name);
          expect(v.keyId).toBe(s.keyId);
          expect(toHex(v.publicKey)).toBe(toHex(ed25519PublicKey(seed)));
          expect(formatVerifierKey(name, type, v.publicKey)).toBe(verifierKey);
        },
      ),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------

describe("signed notes: Go and C2SP vectors", () => {
  it("signNote reproduces Go's signature byte for byte", async () => {
    expect(await signNote(TEXT, [noteSigner(go.peterSignerKey)])).toBe(go.signedNote);
  });

  it("opens Go's note", async () => {
    const n = await openNote(go.signedNote, [go.peterVerifierKey]);
    expect(n.text).toBe(TEXT);
    expect(n.verified).toEqual([{ name: "PeterNeumann", keyId: 0xc74f20a3, type: 1 }]);
    expect(n.unverified).toEqual([]);
  });

  it("opens the C2SP example", async () => {
    const n = await openNote(c2sp.signedNote, [c2sp.verifierKey]);
    expect(n.text).toBe("This is an example message.\n");
  });

  it("one verified, one unknown (Go TestOpen)", async () => {
    const n = await openNote(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [go.peterVerifierKey]);
    expect(n.verified.map((s) => s.name)).toEqual(["PeterNeumann"]);
    expect(n.unverified.map((s) => [s.name, keyIdHex(s.keyId), s.line + "\n"])).toEqual([
      ["EnochRoot", go.enochKeyId, ENOCH_SIG],
    ]);
  });

  it("both verified, given as strings or verifier objects", async () => {
    const note = TEXT + "\n" + PETER_SIG + ENOCH_SIG;
    const n = await openNote(note, [go.peterVerifierKey, noteVerifier(go.enochVerifierKey)]);
    expect(n.verified.map((s) => s.name)).toEqual(["PeterNeumann", "EnochRoot"]);
    expect(n.unverified).toEqual([]);
  });

  it("no known key: NOTE_UNVERIFIED", async () => {
    await expectReject(openNote(TEXT + "\n" + PETER_SIG + ENOCH_SIG, []), "NOTE_UNVERIFIED", /PeterNeumann\+c74f20a3/);
  });

  it("a known key's bad signature rejects the whole note, naming the key", async () => {
    const bad = TEXT + "\n" + PETER_SIG.slice(0, 60) + "ABCD" + PETER_SIG.slice(60);
    await expectReject(openNote(bad, [go.peterVerifierKey]), "BAD_SIGNATURE", /PeterNeumann\+c74f20a3/);
    // ... even when another known key verifies.
    await expectReject(
      openNote(TEXT + "\n" + ENOCH_SIG + PETER_SIG.slice(0, 60) + "ABCD" + PETER_SIG.slice(60), [
        go.peterVerifierKey,
        go.enochVerifierKey,
      ]),
      "BAD_SIGNATURE",
      /PeterNeumann/,
    );
  });

  it("a changed text fails under the known key", async () => {
    await expectReject(openNote(TEXT.replace("problem", "Problem") + "\n" + PETER_SIG, [go.peterVerifierKey]), "BAD_SIGNATURE");
  });

  it("unknown keys are ignored, even sharing the name or the id of a known key", async () => {
    const { signer } = pair("PeterNeumann", 9); // same name, other key id
    const sameName = await signNote(TEXT, [signer]);
    const other = parseNote(sameName).signatures[0]!;
    const sameId = `\u2014 PeterNeumann2 ${toBase64(concatBytes(fromBase64("x08go/Y="), new Uint8Array(60)))}`;
    const note = TEXT + "\n" + PETER_SIG + other.line + "\n" + sameId + "\n";
    const n = await openNote(note, [go.peterVerifierKey]);
    expect(n.verified).toHaveLength(1);
    expect(n.unverified.map((s) => s.name)).toEqual(["PeterNeumann", "PeterNeumann2"]);
  });

  it("Go's malformed notes", async () => {
    const bad: (string | Uint8Array)[] = [
      TEXT,
      TEXT + "\n",
      TEXT + "\n" + PETER_SIG.slice(0, -1),
      "\x01" + TEXT + "\n" + PETER_SIG,
      concatBytes(Uint8Array.of(0xff), utf8(TEXT + "\n" + PETER_SIG)),
      TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
      TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ];
    for (const note of bad) await expectReject(openNote(note, [go.peterVerifierKey]), "BAD_NOTE");
  });

  it("ambiguous verifier keys are refused only when used", async () => {
    const peter = noteVerifier(go.peterVerifierKey);
    const impostor: NoteVerifier = { ...peter, verify: async () => ({ ok: true }) };
    await expectReject(openNote(go.signedNote, [peter, impostor]), "BAD_KEY", /ambiguous/);
    // The same key text, or the same verifier object, listed twice is not ambiguous.
    await openNote(go.signedNote, [go.peterVerifierKey, go.peterVerifierKey]);
    await openNote(go.signedNote, [peter, peter]);
    await openNote(TEXT + "\n" + ENOCH_SIG, [peter, impostor, go.enochVerifierKey]);
  });

  it("a bad verifier key string is BAD_KEY", async () => {
    await expectReject(openNote(go.signedNote, ["PeterNeumann+c74f20a3+AQ=="]), "BAD_KEY");
    await expectReject(openNote(go.signedNote, ["PeterNeumann+c74f20a3+AAAA"]), "UNSUPPORTED_ALGORITHM");
  });
});

describe("signed notes: malformations (each its own case)", () => {
  const note = go.signedNote;
  const sigB64 = PETER_SIG.slice("— PeterNeumann ".length, -1);
  const parseBad = (n: string | Uint8Array) => expectCode(() => parseNote(n), "BAD_NOTE");

  it("accepts the well-formed note", () => {
    const p = parseNote(note);
    expect(p.text).toBe(TEXT);
    expect(p.signatures).toHaveLength(1);
    expect(p.signatures[0]!.line + "\n").toBe(PETER_SIG);
    expect(p.signatures[0]!.signature).toHaveLength(64);
  });
  it("missing blank line", () => parseBad(TEXT + PETER_SIG));
  it("hyphen instead of em dash", () => parseBad(TEXT + "\n" + PETER_SIG.replace("—", "-")));
  it("en dash instead of em dash", () => parseBad(TEXT + "\n" + PETER_SIG.replace("—", "\u2013")));
  it("no space after the dash", () => parseBad(TEXT + "\n" + PETER_SIG.replace("— ", "—")));
  it("no trailing newline", () => parseBad(note.slice(0, -1)));
  it("CR before a newline", () => parseBad(note.replace("problem,\n", "problem,\r\n")));
  it("CRLF signature line", () => parseBad(note.slice(0, -1) + "\r\n"));
  it("tab in the text", () => parseBad("a\tb\n\n" + PETER_SIG));
  it("NUL in the text", () => parseBad("a\u0000b\n\n" + PETER_SIG));
  it("ESC in a signature line", () => parseBad(TEXT + "\n" + PETER_SIG.replace("Peter", "Pe\u001bter")));
  it("invalid UTF-8 bytes", () => parseBad(concatBytes(utf8(TEXT), Uint8Array.of(0xc3, 0x28), utf8("\n\n" + PETER_SIG))));
  it("overlong UTF-8", () => parseBad(concatBytes(Uint8Array.of(0xc0, 0xaf), utf8("\n\n" + PETER_SIG))));
  it("lone surrogate in a string", () => parseBad("a\ud800\n\n" + PETER_SIG));
  it("bad base64 (URL alphabet)", () => parseBad(note.replace(sigB64, sigB64.replace(/\//g, "_"))));
  it("bad base64 (no padding)", () => parseBad(note.replace(sigB64, sigB64.replace("=", ""))));
  it("non-canonical base64 (pad bits set)", () => {
    // 68 bytes end in "M=": the last symbol carries 2 unused bits; "N" sets one.
    expect(sigB64.endsWith("M=")).toBe(true);
    parseBad(note.replace(sigB64, sigB64.slice(0, -2) + "N="));
  });
  it("base64 with trailing space", () => parseBad(note.replace(sigB64, sigB64 + " ")));
  it("empty signature", () => parseBad(TEXT + "\n— PeterNeumann \n"));
  it("signature shorter than 5 bytes", () => parseBad(TEXT + `\n— PeterNeumann ${toBase64(Uint8Array.of(1, 2, 3, 4))}\n`));
  it("a 5-byte signature is syntactically fine", () => {
    const p = parseNote(TEXT + `\n— PeterNeumann ${toBase64(Uint8Array.of(1, 2, 3, 4, 5))}\n`);
    expect(p.signatures[0]!.keyId).toBe(0x01020304);
    expect(Array.from(p.signatures[0]!.signature)).toEqual([5]);
  });
  it("name with '+'", () => parseBad(TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann")));
  it("empty name", () => parseBad(TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "")));
  it("name with NBSP", () => parseBad(TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter\u00a0Neumann")));
  it("duplicate signature lines", () => parseBad(note + PETER_SIG));
  it("same name and key id, different signature", () => {
    const other = PETER_SIG.replace(sigB64, toBase64(concatBytes(fromBase64(sigB64).subarray(0, 4), new Uint8Array(64))));
    parseBad(note + other);
  });
  it("101 signatures", async () => {
    const sigs = Array.from({ length: 101 }, (_, i) => ({ name: `k${i}`, keyId: i, signature: new Uint8Array(64) }));
    const lines = sigs.map((s) => `— ${s.name} ${toBase64(concatBytes(Uint8Array.of(0, 0, 0, s.keyId), s.signature))}\n`);
    parseBad(TEXT + "\n" + lines.join(""));
    expect(parseNote(TEXT + "\n" + lines.slice(0, 100).join("")).signatures).toHaveLength(100);
    expectCode(() => formatNote(TEXT, sigs), "BAD_NOTE");
  });
  it("oversize input (default cap)", () => {
    const big = "a".repeat(MAX_NOTE_SIZE) + "\n\n" + PETER_SIG;
    parseBad(big);
    parseBad(utf8(big));
  });
  it("oversize in UTF-8 bytes though not in UTF-16 units", () => {
    const text = "é".repeat(MAX_NOTE_SIZE / 2) + "\n"; // 2 bytes each
    expect(text.length).toBeLessThan(MAX_NOTE_SIZE);
    parseBad(text + "\n" + PETER_SIG);
  });
  it("caller-chosen lower cap", () => {
    expectCode(() => parseNote(note, { maxSize: note.length - 1 }), "BAD_NOTE");
    expect(parseNote(note, { maxSize: utf8(note).length }).text).toBe(TEXT);
  });
  it("text may contain blank lines; the last blank line separates", () => {
    const p = parseNote("a\n\n\nb\n\n\n" + PETER_SIG);
    expect(p.text).toBe("a\n\n\nb\n\n");
  });
  it("bytes and strings parse alike; a leading BOM is kept in the text", async () => {
    expect(parseNote(utf8(note))).toEqual(parseNote(note));
    const withBom = concatBytes(Uint8Array.of(0xef, 0xbb, 0xbf), utf8(note));
    expect(parseNote(withBom).text).toBe("\ufeff" + TEXT);
    await expectReject(openNote(withBom, [go.peterVerifierKey]), "BAD_SIGNATURE");
  });
});

describe("signing notes", () => {
  it("accepts and verifies 16 signatures", async () => {
    const pairs = Array.from({ length: 16 }, (_, i) => pair(`signer${i}.example`, i));
    const note = await signNote("sixteen\n", pairs.map((p) => p.signer));
    const n = await openNote(note, pairs.map((p) => p.verifierKey));
    expect(n.verified).toHaveLength(16);
    expect(n.unverified).toHaveLength(0);
  });

  it("addSignatures appends and keeps existing lines byte for byte", async () => {
    const a = pair("a.example", 1);
    const b = pair("b.example", 2);
    const withPeter = await addSignatures(go.signedNote, [a.signer]);
    expect(withPeter.startsWith(go.signedNote)).toBe(true);
    const both = await addSignatures(withPeter, [b.signer]);
    expect(both.startsWith(withPeter)).toBe(true);
    const n = await openNote(both, [go.peterVerifierKey, a.verifierKey, b.verifierKey]);
    expect(n.verified.map((s) => s.name)).toEqual(["PeterNeumann", "a.example", "b.example"]);
  });

  it("addSignatures by a key that already signed replaces its line (as Go's note.Sign)", async () => {
    const again = await addSignatures(go.signedNote, [noteSigner(go.peterSignerKey)]);
    expect(again).toBe(go.signedNote);
  });

  it("signNote and formatNote check their inputs", async () => {
    const s = noteSigner(go.peterSignerKey);
    await expectReject(signNote("abc", [s]), "BAD_NOTE");
    await expectReject(signNote("", [s]), "BAD_NOTE");
    await expectReject(signNote("a\rb\n", [s]), "BAD_NOTE");
    await expectReject(signNote(TEXT, []), "BAD_NOTE");
    const badName: NoteSigner = { ...s, name: "bad name" };
    await expectReject(signNote(TEXT, [badName]), "BAD_KEY_NAME");
    expectCode(() => formatNote(TEXT, []), "BAD_NOTE");
    expectCode(() => formatNote(TEXT, [{ name: "a", keyId: 2 ** 32, signature: new Uint8Array(1) }]), "BAD_NOTE");
    expectCode(() => formatNote(TEXT, [{ name: "a", keyId: 1, signature: new Uint8Array(0) }]), "BAD_NOTE");
    expectCode(
      () => formatNote(TEXT, [{ name: "a", keyId: 1, signature: new Uint8Array(1) }, { name: "a", keyId: 1, signature: new Uint8Array(2) }]),
      "BAD_NOTE",
    );
  });

  it("a failing signer fails signNote", async () => {
    const boom: NoteSigner = { name: "boom", keyId: 1, sign: () => Promise.reject(new Error("surprise")) };
    await expect(signNote(TEXT, [boom])).rejects.toThrow("surprise");
  });
});

describe("properties", () => {
  // Lines of any text but control characters; blank lines allowed.
  const lineArb = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\u0000-\u001f]/.test(s));
  const textArb = fc.array(lineArb, { minLength: 1, maxLength: 6 }).map((ls) => ls.join("\n") + "\n");
  const nameArb = fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter(isValidKeyName);
  const sigArb = fc.record({ name: nameArb, keyId: fc.nat({ max: 0xffffffff }), signature: fc.uint8Array({ minLength: 1, maxLength: 80 }) });

  it("formatNote / parseNote round trip", () => {
    fc.assert(
      fc.property(textArb, fc.uniqueArray(sigArb, { minLength: 1, maxLength: 20, selector: (s) => `${s.keyId}:${s.name}` }), (text, sigs) => {
        const note = formatNote(text, sigs);
        const p = parseNote(note);
        expect(p.text).toBe(text);
        expect(p.signatures.map((s) => [s.name, s.keyId, toHex(s.signature)])).toEqual(sigs.map((s) => [s.name, s.keyId, toHex(s.signature)]));
        expect(formatNote(p.text, p.signatures)).toBe(note);
        expect(parseNote(utf8(note))).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it("signNote / openNote round trip; any changed text byte fails", async () => {
    const a = pair("a.example", 1);
    const b = pair("b.example", 2);
    await fc.assert(
      fc.asyncProperty(textArb, async (text) => {
        const note = await signNote(text, [a.signer, b.signer]);
        const n = await openNote(note, [a.verifierKey, b.verifierKey]);
        expect(n.text).toBe(text);
        expect(n.verified).toHaveLength(2);
        const tampered = "x" + note;
        await expectReject(openNote(tampered, [a.verifierKey]), "BAD_SIGNATURE");
      }),
      { numRuns: 40 },
    );
  });
});
