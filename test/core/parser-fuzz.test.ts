/**
 * The parsers a verifier feeds with files it was handed — receipts, trust
 * documents, signed notes, key and client records — under fast-check
 * (fixed seeds): whatever the input, they return or throw a CairnError with
 * a code, never anything else (a TypeError from a missing field, a
 * RangeError from a huge number), and never hang on size.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { CairnError, parseClientRecord, parseKeyRecord, parseNote, parseReceipt, parseTrust, verifyReceipt } from "../../src/core/index.js";

const vectors = JSON.parse(readFileSync(new URL("../vectors/cairn-v1.json", import.meta.url), "utf8"));

/** Mutations of a valid document: drop, retype or replace one field at any depth. */
function mutations(valid: unknown): fc.Arbitrary<unknown> {
  const replace = (v: unknown, path: readonly (string | number)[], by: unknown): unknown => {
    if (path.length === 0) return by;
    const [head, ...rest] = path;
    if (Array.isArray(v)) return v.map((x, i) => (i === head ? replace(x, rest, by) : x));
    if (typeof v === "object" && v !== null) return { ...(v as object), [head!]: replace((v as Record<string, unknown>)[head!], rest, by) };
    return v;
  };
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    paths.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  walk(valid, []);
  return fc.tuple(fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.string({ maxLength: 2000 }), fc.constant(2 ** 60))).map(([p, by]) => replace(valid, p, by));
}

function onlyCairnErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(CairnError);
  }
}

describe("parsers of what a verifier is handed", () => {
  it("receipts and trust documents, mutated anywhere: a CairnError or a value", () => {
    fc.assert(fc.property(mutations(vectors.receipt), (r) => onlyCairnErrors(() => parseReceipt(r))), { numRuns: 2000, seed: 1 });
    fc.assert(fc.property(mutations(vectors.trust), (t) => onlyCairnErrors(() => parseTrust(t))), { numRuns: 2000, seed: 2 });
    fc.assert(fc.property(mutations(vectors.trustV2.document), (t) => onlyCairnErrors(() => parseTrust(t))), { numRuns: 2000, seed: 3 });
    fc.assert(fc.property(fc.jsonValue(), (v) => (onlyCairnErrors(() => parseReceipt(v)), onlyCairnErrors(() => parseTrust(v)))), { numRuns: 1000, seed: 4 });
  });

  it("a mutated receipt never verifies as something else: it fails with a CairnError or is the genuine one", async () => {
    const document = new TextEncoder().encode(vectors.submissions[0].document);
    await fc.assert(
      fc.asyncProperty(mutations(vectors.receipt), async (r) => {
        try {
          const result = await verifyReceipt(r, vectors.trust, { document, now: 1764000100 });
          expect(result.entryId).toBe(vectors.submissions[0].id);
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(CairnError);
        }
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it("notes and records, from text of any shape", () => {
    const text = fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: "binary", maxLength: 600 }), fc.constantFrom(vectors.clientRecord.entry, vectors.keyRecords.operator.entry).chain((e: string) => fc.nat(e.length).map((i) => e.slice(0, i) + "\u0000" + e.slice(i))));
    fc.assert(
      fc.property(text, (t) => {
        onlyCairnErrors(() => parseNote(t));
        onlyCairnErrors(() => parseClientRecord(t));
        onlyCairnErrors(() => parseKeyRecord(t));
      }),
      { numRuns: 3000, seed: 6 },
    );
  });
});
