import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, toHex } from "../../src/core/bytes.js";
import { formatCheckpoint, parseCheckpoint } from "../../src/core/checkpoint.js";
import { EMPTY_ROOT } from "../../src/core/hash.js";
import { generateKeyPair, noteSigner } from "../../src/core/keys.js";
import { openNote, parseNote, signNote } from "../../src/core/note.js";
import vectors from "../vectors/checkpoint.json" with { type: "json" };

const { c2spExample, arche } = vectors;

function expectBad(body: string): void {
  expect(() => parseCheckpoint(body), JSON.stringify(body)).toThrow(expect.objectContaining({ code: "BAD_CHECKPOINT" }));
}

describe("checkpoint vectors", () => {
  it("C2SP tlog-checkpoint example: parse and format byte for byte", () => {
    const c = parseCheckpoint(c2spExample.body);
    expect(c.origin).toBe(c2spExample.origin);
    expect(c.size).toBe(c2spExample.size);
    expect(toBase64(c.root)).toBe(c2spExample.rootBase64);
    expect(c.extensions).toEqual([]);
    expect(formatCheckpoint(c)).toBe(c2spExample.body);
    expect(parseNote(c2spExample.signedNote).text).toBe(c2spExample.body);
  });

  it("a real static-ct checkpoint: open with the log key, then parse", async () => {
    const n = await openNote(arche.signedNote, [arche.logVerifierKey]);
    expect(n.verified.map((s) => s.name)).toEqual([arche.origin]);
    // The RFC 6962 (type 0x05) signature and the witnesses are unknown keys here.
    expect(n.unverified).toHaveLength(5);
    const c = parseCheckpoint(n.text);
    expect(c).toEqual({ origin: arche.origin, size: arche.size, root: fromBase64(arche.rootBase64), extensions: [] });
  });

  it("the log signature fails if the size is changed", async () => {
    const forged = arche.signedNote.replace(String(arche.size), String(arche.size + 1));
    await expect(openNote(forged, [arche.logVerifierKey])).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  });
});

describe("checkpoint malformations (each its own case)", () => {
  const [origin, size, root] = c2spExample.body.slice(0, -1).split("\n") as [string, string, string];
  const body = (...lines: string[]) => lines.map((l) => l + "\n").join("");

  it("leading zero in size", () => expectBad(body(origin, "0" + size, root)));
  it("size 00", () => expectBad(body(origin, "00", root)));
  it("plus sign in size", () => expectBad(body(origin, "+" + size, root)));
  it("negative size", () => expectBad(body(origin, "-1", root)));
  it("exponent in size", () => expectBad(body(origin, "2e7", root)));
  it("space in size", () => expectBad(body(origin, size + " ", root)));
  it("size beyond 2^53 - 1", () => expectBad(body(origin, "9007199254740992", root)));
  it("root of 31 bytes", () => expectBad(body(origin, size, toBase64(new Uint8Array(31)))));
  it("root of 33 bytes", () => expectBad(body(origin, size, toBase64(new Uint8Array(33)))));
  it("root without padding", () => expectBad(body(origin, size, root.replace("=", ""))));
  it("root with non-zero pad bits", () => expectBad(body(origin, size, root.slice(0, -2) + "J=")));
  it("root in URL-safe base64", () => expectBad(body(origin, size, toBase64(new Uint8Array(32).fill(0xfb)).replace(/\+/g, "-"))));
  it("root in hex", () => expectBad(body(origin, size, toHex(new Uint8Array(32)))));
  it("missing root line", () => expectBad(body(origin, size)));
  it("empty origin", () => expectBad(body("", size, root)));
  it("empty extension line", () => expectBad(body(origin, size, root, "")));
  it("empty line between extensions", () => expectBad(body(origin, size, root, "a", "", "b")));
  it("no trailing newline", () => expectBad(c2spExample.body.slice(0, -1)));
  it("CR at a line end", () => expectBad(body(origin + "\r", size, root)));
  it("control character in an extension", () => expectBad(body(origin, size, root, "ext\u0007")));
  it("empty input", () => expectBad(""));

  it("accepts extension lines and size 0 with the empty root", () => {
    const c = parseCheckpoint(body(origin, "0", toBase64(EMPTY_ROOT), "ext one", "— two"));
    expect(c.size).toBe(0);
    expect(c.extensions).toEqual(["ext one", "— two"]);
  });
});

describe("formatCheckpoint", () => {
  const root = new Uint8Array(32).fill(7);

  it("formats lines in order, each ending in a newline", () => {
    expect(formatCheckpoint({ origin: "example.com/log", size: 3, root, extensions: ["x"] })).toBe(
      `example.com/log\n3\n${toBase64(root)}\nx\n`,
    );
  });

  it("refuses what it could not parse back", () => {
    const bad = [
      { origin: "", size: 1, root },
      { origin: "a\nb", size: 1, root },
      { origin: "a", size: -1, root },
      { origin: "a", size: 1.5, root },
      { origin: "a", size: 2 ** 53, root },
      { origin: "a", size: 1, root: root.subarray(1) },
      { origin: "a", size: 1, root, extensions: [""] },
      { origin: "a", size: 1, root, extensions: ["x\ny"] },
    ];
    for (const c of bad) expect(() => formatCheckpoint(c)).toThrow(expect.objectContaining({ code: "BAD_CHECKPOINT" }));
  });

  it("round trips (property)", () => {
    const line = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(line, fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(line, { maxLength: 3 }), (origin, size, r, extensions) => {
        const text = formatCheckpoint({ origin, size, root: r, extensions });
        const c = parseCheckpoint(text);
        expect(c).toEqual({ origin, size, root: r, extensions });
        expect(formatCheckpoint(c)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("signs and opens as a note", async () => {
    const { signerKey, verifierKey } = generateKeyPair("example.com/log", new Uint8Array(32).fill(1));
    const note = await signNote(formatCheckpoint({ origin: "example.com/log", size: 42, root }), [noteSigner(signerKey)]);
    const c = parseCheckpoint((await openNote(note, [verifierKey])).text);
    expect(c.size).toBe(42);
  });
});
