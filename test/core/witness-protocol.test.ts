import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toBase64, utf8 } from "../../src/core/bytes.js";
import { formatCheckpoint } from "../../src/core/checkpoint.js";
import { cosigner } from "../../src/core/cosignature.js";
import { isCairnError, type ErrorCode } from "../../src/core/errors.js";
import { EMPTY_ROOT } from "../../src/core/hash.js";
import { generateKeyPair, KEY_TYPE_COSIGNATURE_V1, noteSigner, type NoteSigner } from "../../src/core/keys.js";
import { consistencyProof, leafHash, merkleRoot } from "../../src/core/merkle.js";
import { formatNote, openNote, parseNote, signNote } from "../../src/core/note.js";
import {
  checkpointOrigin,
  cosignatureResponse,
  cosignaturesFromResponse,
  formatAddCheckpoint,
  formatTlogSize,
  judgeAddCheckpoint,
  MAX_ADD_CHECKPOINT_SIZE,
  MAX_PROOF_LINES,
  parseAddCheckpoint,
  parseTlogSize,
  TLOG_SIZE_CONTENT_TYPE,
  type AddCheckpointRequest,
  type AddCheckpointVerdict,
  type WitnessedCheckpoint,
} from "../../src/core/witness-protocol.js";
import vectors from "../vectors/tlog-witness.json" with { type: "json" };

const ORIGIN = "example.com/cairn-log";
const seed = (b: number) => new Uint8Array(32).fill(b);
const log = generateKeyPair(ORIGIN, seed(1));
const log2 = generateKeyPair("example.com/cairn-log-backup", seed(4));
const impostor = generateKeyPair(ORIGIN, seed(3)); // same name, another key
const W1 = "witness.example/w1";
const W2 = "witness.example/w2";
const w1 = generateKeyPair(W1, seed(2), KEY_TYPE_COSIGNATURE_V1);
const w2 = generateKeyPair(W2, seed(5), KEY_TYPE_COSIGNATURE_V1);
const T = 1_760_000_000;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const N = 40;
const leaves = Array.from({ length: N }, (_, i) => leafHash(utf8(`leaf ${i}`)));
const forked = leaves.map((h, i) => (i === 3 ? leafHash(utf8("forked leaf 3")) : h));
const rootAt = (size: number, of = leaves) => merkleRoot(of.slice(0, size));
const proofFor = (oldSize: number, size: number, of = leaves) => consistencyProof(of.slice(0, size), oldSize);

function body(size: number, root = rootAt(size), origin = ORIGIN): string {
  return formatCheckpoint({ origin, size, root });
}

async function signed(size: number, opts: { root?: Uint8Array; signers?: NoteSigner[]; origin?: string } = {}): Promise<string> {
  return signNote(body(size, opts.root ?? rootAt(size), opts.origin ?? ORIGIN), opts.signers ?? [noteSigner(log.signerKey)]);
}

async function state(size: number, root = rootAt(size)): Promise<WitnessedCheckpoint> {
  return { size, root, note: await signed(size, { root }) };
}

const NOTE7 = await signed(7);

function judge(request: AddCheckpointRequest, latest: WitnessedCheckpoint | undefined, logKeys = [log.verifierKey]) {
  return judgeAddCheckpoint({ request, origin: ORIGIN, logKeys, latest });
}

function expectRefusal(v: AddCheckpointVerdict, status: number, code: ErrorCode): void {
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect({ status: v.status, code: v.code }).toEqual({ status, code });
  expect(v.message.length).toBeGreaterThan(0);
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode, message?: RegExp): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(isCairnError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    if (message) expect((e as Error).message).toMatch(message);
    return;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

/** Replaces the signature bytes of line `i` of a note with a bit-flipped copy. */
function forgeLine(note: string, i: number): string {
  const p = parseNote(note);
  const sigs = p.signatures.map((s, j) => {
    const sig = s.signature.slice();
    if (j === i) sig[sig.length - 1]! ^= 1;
    return { name: s.name, keyId: s.keyId, signature: sig };
  });
  return formatNote(p.text, sigs);
}

describe("C2SP tlog-witness example bodies", () => {
  const { exampleRequest: ex, exampleResponse: resp } = vectors;

  it("parses the spec's example request and formats it back byte for byte", () => {
    const req = parseAddCheckpoint(ex.body);
    expect(req.oldSize).toBe(ex.oldSize);
    expect(req.proof.map(toBase64)).toEqual(ex.proof);
    expect(parseNote(req.checkpoint).text).toBe(ex.checkpointText);
    expect(parseNote(req.checkpoint).signatures.map((s) => s.keyId.toString(16).padStart(8, "0"))).toEqual(ex.signatureKeyIds);
    expect(checkpointOrigin(req.checkpoint)).toBe(ex.origin);
    expect(formatAddCheckpoint(req)).toBe(ex.body);
    expect(parseAddCheckpoint(utf8(ex.body))).toEqual(req);
  });

  it("judges the example: 404 for another origin, 403 under keys that did not sign it", async () => {
    const request = parseAddCheckpoint(ex.body);
    const other = await judgeAddCheckpoint({ request, origin: ORIGIN, logKeys: [log.verifierKey], latest: undefined });
    expectRefusal(other, 404, "UNKNOWN_LOG");
    const unsigned = await judgeAddCheckpoint({ request, origin: ex.origin, logKeys: [log.verifierKey], latest: undefined });
    expectRefusal(unsigned, 403, "LOG_SIGNATURE_INVALID");
  });

  it("the example response is well-formed signature lines; none is by our witness", async () => {
    const lines = parseNote(`${ex.checkpointText}\n${resp.body}`).signatures;
    expect(lines.map((s) => s.name)).toEqual(resp.names);
    const note = await signed(5);
    await expectCode(cosignaturesFromResponse(resp.body, note, w1.verifierKey), "BAD_COSIGNATURE", /no cosignature by/);
  });
});

describe("formatAddCheckpoint / parseAddCheckpoint", () => {
  it("formats the wire shape: old line, one hash per line, empty line, note", async () => {
    const note = await signed(7);
    const proof = proofFor(3, 7);
    const text = formatAddCheckpoint({ oldSize: 3, proof, checkpoint: note });
    expect(text).toBe(`old 3\n${proof.map((h) => toBase64(h) + "\n").join("")}\n${note}`);
    expect(formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: note })).toBe(`old 0\n\n${note}`);
    expect(parseAddCheckpoint(text)).toEqual({ oldSize: 3, proof, checkpoint: note });
  });

  it("accepts exactly 63 proof lines and the largest safe size", async () => {
    const note = await signed(7);
    const proof = Array.from({ length: MAX_PROOF_LINES }, (_, i) => leaves[i % N]!);
    const req = { oldSize: Number.MAX_SAFE_INTEGER, proof, checkpoint: note };
    expect(parseAddCheckpoint(formatAddCheckpoint(req))).toEqual(req);
  });

  it("format refuses requests it could not send", async () => {
    const note = await signed(7);
    const h = leaves[0]!;
    for (const req of [
      { oldSize: -1, proof: [], checkpoint: note },
      { oldSize: 1.5, proof: [], checkpoint: note },
      { oldSize: 2 ** 53, proof: [], checkpoint: note },
      { oldSize: 1, proof: Array(64).fill(h), checkpoint: note },
      { oldSize: 1, proof: [h.subarray(0, 31)], checkpoint: note },
      { oldSize: 1, proof: [], checkpoint: body(7) }, // not a signed note
      { oldSize: 1, proof: [], checkpoint: note + "x" },
    ]) {
      await expectCode(() => formatAddCheckpoint(req), "BAD_WITNESS_REQUEST");
    }
  });

  describe("refuses every malformed body shape", () => {
    const note = NOTE7;
    const [p0, p1] = proofFor(3, 7).map(toBase64) as [string, string];
    const hash31 = toBase64(leaves[0]!.subarray(0, 31));
    const hash33 = toBase64(new Uint8Array(33));
    // The last symbol before '=' in 44 characters carries two unused bits: set the lowest.
    const symbol = B64.indexOf(p0[42]!);
    const nonCanonical = p0.slice(0, 42) + B64[symbol ^ 1] + "=";
    const slashy = toBase64(new Uint8Array(32).fill(0xfb)); // "+/v7+/v7…"
    const cases: [string, string, RegExp][] = [
      ["empty body", "", /old size line/],
      ["no newline at all", "old 3", /old size line/],
      ["leading zero", `old 03\n${p0}\n${p1}\n\n${note}`, /leading zeros/],
      ["leading zero on zero", `old 00\n\n${note}`, /leading zeros/],
      ["sign", `old +3\n${p0}\n\n${note}`, /leading zeros/],
      ["negative", `old -1\n\n${note}`, /leading zeros/],
      ["exponent", `old 3e0\n\n${note}`, /leading zeros/],
      ["empty size", `old \n\n${note}`, /leading zeros/],
      ["too large", `old 9007199254740992\n\n${note}`, /too large/],
      ["two spaces", `old  3\n${p0}\n\n${note}`, /leading zeros/],
      ["tab", `old\t3\n${p0}\n\n${note}`, /'old <size>'/],
      ["capitalised", `Old 3\n${p0}\n\n${note}`, /'old <size>'/],
      ["trailing space on old line", `old 3 \n${p0}\n\n${note}`, /leading zeros/],
      ["BOM", `\ufeffold 3\n${p0}\n\n${note}`, /'old <size>'/],
      ["missing blank line", `old 3\n${p0}\n${p1}\n${note}`, /neither a consistency proof hash/],
      ["missing blank line and note", `old 3\n${p0}\n${p1}\n`, /no empty line/],
      ["no checkpoint after blank line", `old 3\n${p0}\n\n`, /no checkpoint/],
      ["64 proof lines", `old 3\n${Array(64).fill(p0).join("\n")}\n\n${note}`, /more than 63/],
      ["non-canonical base64", `old 3\n${nonCanonical}\n${p1}\n\n${note}`, /canonical base64 of 32 bytes/],
      ["unpadded base64", `old 3\n${p0.slice(0, -1)}\n\n${note}`, /canonical base64 of 32 bytes/],
      ["URL-safe base64", `old 3\n${slashy.replace(/\+/g, "-").replace(/\//g, "_")}\n\n${note}`, /canonical base64/],
      ["31-byte hash", `old 3\n${hash31}\n\n${note}`, /32 bytes/],
      ["33-byte hash", `old 3\n${hash33}\n\n${note}`, /32 bytes/],
      ["hex hash", `old 3\n${"ab".repeat(32)}\n\n${note}`, /32 bytes/],
      ["space-indented hash", `old 3\n ${p0}\n\n${note}`, /canonical base64/],
      ["two blank lines", `old 3\n${p0}\n\n\n${note}`, /more than one empty line/],
      ["trailing garbage after the note", `old 3\n${p0}\n${p1}\n\n${note}garbage\n`, /signed note/],
      ["trailing bytes without newline", `old 3\n${p0}\n${p1}\n\n${note}x`, /signed note/],
      ["unsigned checkpoint", `old 3\n${p0}\n\n${body(7)}`, /signed note/],
      ["CRLF everywhere", `old 3\r\n${p0}\r\n\r\n${note.replace(/\n/g, "\r\n")}`, /carriage return/],
      ["CRLF only on the old line", `old 3\r\n${p0}\n\n${note}`, /carriage return/],
      ["CR in the note", `old 3\n${p0}\n\n${note.replace("\n", "\r\n")}`, /carriage return/],
      ["NUL in the note", `old 3\n${p0}\n\n${note.replace("\n", "\u0000\n")}`, /control character/],
    ];
    it("(baseline: the standard alphabet, '+' and '/' included, is accepted)", () => {
      expect(parseAddCheckpoint(`old 3\n${slashy}\n\n${note}`).proof).toEqual([new Uint8Array(32).fill(0xfb)]);
    });
    for (const [name, text, message] of cases) {
      it(name, async () => {
        await expectCode(() => parseAddCheckpoint(text), "BAD_WITNESS_REQUEST", message);
        await expectCode(() => parseAddCheckpoint(utf8(text)), "BAD_WITNESS_REQUEST", message);
      });
    }
  });

  it("refuses invalid UTF-8, oversized bodies and non-text input", async () => {
    const note = await signed(7);
    const bytes = utf8(`old 0\n\n${note}`);
    const broken = new Uint8Array([...bytes.subarray(0, 10), 0xff, ...bytes.subarray(10)]);
    await expectCode(() => parseAddCheckpoint(broken), "BAD_WITNESS_REQUEST", /UTF-8/);
    await expectCode(() => parseAddCheckpoint(new Uint8Array(MAX_ADD_CHECKPOINT_SIZE + 1)), "BAD_WITNESS_REQUEST", /exceeds/);
    await expectCode(() => parseAddCheckpoint("o".repeat(MAX_ADD_CHECKPOINT_SIZE + 1)), "BAD_WITNESS_REQUEST", /exceeds/);
    await expectCode(() => parseAddCheckpoint(42 as unknown as string), "BAD_WITNESS_REQUEST");
  });

  it("property: parse(format(req)) = req and format(parse(body)) = body", () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const name = fc.stringMatching(/^[a-z0-9./-]{1,20}$/);
    const note = fc
      .record({
        origin: name,
        size: fc.nat(),
        root: hash,
        sigs: fc.uniqueArray(
          fc.record({ name, keyId: fc.nat({ max: 0xffffffff }), signature: fc.uint8Array({ minLength: 1, maxLength: 80 }) }),
          { minLength: 1, maxLength: 4, selector: (s) => `${s.name}+${s.keyId}` },
        ),
      })
      .map(({ origin, size, root, sigs }) => formatNote(formatCheckpoint({ origin, size, root }), sigs));
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.array(hash, { maxLength: MAX_PROOF_LINES }), note, (oldSize, proof, checkpoint) => {
        const req = { oldSize, proof, checkpoint };
        const text = formatAddCheckpoint(req);
        const back = parseAddCheckpoint(text);
        expect(back).toEqual(req);
        expect(formatAddCheckpoint(back)).toBe(text);
        expect(parseAddCheckpoint(utf8(text))).toEqual(req);
      }),
      { numRuns: 300 },
    );
  });
});

describe("judgeAddCheckpoint: accepted", () => {
  it("first checkpoint of a log: old 0, empty proof", async () => {
    const note = await signed(5);
    const v = await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined);
    expect(v).toEqual({ ok: true, checkpoint: { origin: ORIGIN, size: 5, root: rootAt(5), extensions: [] }, body: body(5) });
  });

  it("the empty tree, from nothing and again", async () => {
    const note = await signed(0, { root: EMPTY_ROOT });
    expect((await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined)).ok).toBe(true);
    expect((await judge({ oldSize: 0, proof: [], checkpoint: note }, await state(0))).ok).toBe(true);
  });

  it("every growth old < new <= 20 with a real RFC 6962 proof", async () => {
    for (let size = 1; size <= 20; size++) {
      const note = await signed(size);
      for (let old = 1; old < size; old++) {
        const v = await judge({ oldSize: old, proof: proofFor(old, size), checkpoint: note }, await state(old));
        expect(v.ok, `${old} -> ${size}`).toBe(true);
      }
    }
  });

  it("re-submitting the witnessed checkpoint is ok (cosigned again)", async () => {
    const note = await signed(9);
    const v = await judge({ oldSize: 9, proof: [], checkpoint: note }, await state(9));
    expect(v.ok).toBe(true);
  });

  it("any one of several log keys is enough; unknown signers are ignored", async () => {
    const note = await signed(6, { signers: [noteSigner(impostor.signerKey), noteSigner(log2.signerKey)] });
    const v = await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined, [log.verifierKey, log2.verifierKey]);
    expect(v.ok).toBe(true);
  });

  it("a checkpoint already carrying cosignatures is judged on the log's signature", async () => {
    const note = await signed(6);
    const cosigned = note + (await cosignatureResponse(body(6), [cosigner(seed(5), W2, T)]));
    expect((await judge({ oldSize: 0, proof: [], checkpoint: cosigned }, undefined)).ok).toBe(true);
  });
});

describe("judgeAddCheckpoint: refusals", () => {
  it("404 UNKNOWN_LOG when the origin is not this log's", async () => {
    const note = await signed(5, { origin: "example.com/other-log" });
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined), 404, "UNKNOWN_LOG");
  });

  it("403 LOG_SIGNATURE_INVALID for a checkpoint signed by a wrong key", async () => {
    const note = await signed(5, { signers: [noteSigner(impostor.signerKey)] });
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined), 403, "LOG_SIGNATURE_INVALID");
  });

  it("403 for a forged log signature, even beside a valid one by another log key", async () => {
    const note = await signed(5);
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: forgeLine(note, 0) }, undefined), 403, "LOG_SIGNATURE_INVALID");
    const both = await signed(5, { signers: [noteSigner(log.signerKey), noteSigner(log2.signerKey)] });
    const v = await judge({ oldSize: 0, proof: [], checkpoint: forgeLine(both, 1) }, undefined, [log.verifierKey, log2.verifierKey]);
    expectRefusal(v, 403, "LOG_SIGNATURE_INVALID");
  });

  it("403 for a witness cosignature without the log's signature", async () => {
    const cosignedOnly = await signNote(body(5), [cosigner(seed(2), W1, T)]);
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: cosignedOnly }, undefined), 403, "LOG_SIGNATURE_INVALID");
  });

  it("400 BAD_CHECKPOINT for a note that is not a checkpoint, or no note at all", async () => {
    const notCheckpoint = await signNote(`${ORIGIN}\n05\n${toBase64(rootAt(5))}\n`, [noteSigner(log.signerKey)]);
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: notCheckpoint }, undefined), 400, "BAD_CHECKPOINT");
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: body(5) }, undefined), 400, "BAD_CHECKPOINT");
  });

  it("400 BAD_WITNESS_REQUEST for a request built wrong in code", async () => {
    const note = await signed(5);
    expectRefusal(await judge({ oldSize: -1, proof: [], checkpoint: note }, undefined), 400, "BAD_WITNESS_REQUEST");
    expectRefusal(await judge({ oldSize: 0, proof: [new Uint8Array(33)], checkpoint: note }, undefined), 400, "BAD_WITNESS_REQUEST");
    const tooLong = Array<Uint8Array>(64).fill(leaves[0]!);
    expectRefusal(await judge({ oldSize: 0, proof: tooLong, checkpoint: note }, undefined), 400, "BAD_WITNESS_REQUEST");
  });

  it("400 BAD_WITNESS_REQUEST when the old size is above the checkpoint size", async () => {
    const note = await signed(5);
    expectRefusal(await judge({ oldSize: 6, proof: [], checkpoint: note }, await state(6)), 400, "BAD_WITNESS_REQUEST");
  });

  it("409 OLD_SIZE_MISMATCH with the witnessed size (0 if none)", async () => {
    const note = await signed(12);
    const fresh = await judge({ oldSize: 5, proof: proofFor(5, 12), checkpoint: note }, undefined);
    expectRefusal(fresh, 409, "OLD_SIZE_MISMATCH");
    expect(fresh.ok === false && fresh.knownSize).toBe(0);
    const behind = await judge({ oldSize: 5, proof: proofFor(5, 12), checkpoint: note }, await state(8));
    expect(behind.ok === false && behind.knownSize).toBe(8);
    const ahead = await judge({ oldSize: 0, proof: [], checkpoint: note }, await state(3));
    expect(ahead.ok === false && [ahead.status, ahead.knownSize]).toEqual([409, 3]);
    // Every 409 carries a size; no other refusal does.
    expect(formatTlogSize(8)).toBe("8\n");
    expect(TLOG_SIZE_CONTENT_TYPE).toBe("text/x.tlog.size");
  });

  it("409 for a rollback: a smaller tree after a larger one", async () => {
    const note = await signed(5);
    const v = await judge({ oldSize: 5, proof: [], checkpoint: note }, await state(10));
    expectRefusal(v, 409, "OLD_SIZE_MISMATCH");
    expect(v.ok === false && v.knownSize).toBe(10);
  });

  it("422 BAD_CHECKPOINT for size 0 with a root other than the empty tree's", async () => {
    const note = await signed(0, { root: rootAt(1) });
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined), 422, "BAD_CHECKPOINT");
  });

  it("422 CONSISTENCY_PROOF_INVALID for a non-empty proof from old size 0", async () => {
    const note = await signed(5);
    const v = await judge({ oldSize: 0, proof: [rootAt(3)], checkpoint: note }, undefined);
    expectRefusal(v, 422, "CONSISTENCY_PROOF_INVALID");
  });

  it("same size: 422 CHECKPOINT_CONFLICT for another root, 422 for a non-empty proof", async () => {
    const fork = await signed(9, { root: rootAt(9, forked) });
    expectRefusal(await judge({ oldSize: 9, proof: [], checkpoint: fork }, await state(9)), 422, "CHECKPOINT_CONFLICT");
    const same = await signed(9);
    const v = await judge({ oldSize: 9, proof: [rootAt(4)], checkpoint: same }, await state(9));
    expectRefusal(v, 422, "CONSISTENCY_PROOF_INVALID");
  });

  it("422 for a proof with any byte flipped, for every pair old < new <= 12", async () => {
    for (let size = 2; size <= 12; size++) {
      const note = await signed(size);
      for (let old = 1; old < size; old++) {
        const latest = await state(old);
        const proof = proofFor(old, size);
        for (let i = 0; i < proof.length; i++) {
          for (let b = 0; b < 32; b++) {
            const bad = proof.map((h) => h.slice());
            bad[i]![b]! ^= 1 << (b % 8);
            const v = await judge({ oldSize: old, proof: bad, checkpoint: note }, latest);
            expectRefusal(v, 422, "CONSISTENCY_PROOF_INVALID");
          }
        }
      }
    }
  });

  it("422 for a truncated, extended or foreign proof, or a forked history", async () => {
    const note = await signed(13);
    const latest = await state(6);
    const proof = proofFor(6, 13);
    for (const bad of [[], proof.slice(1), proof.slice(0, -1), [...proof, leaves[0]!], proofFor(5, 13), proof.slice().reverse()]) {
      expectRefusal(await judge({ oldSize: 6, proof: bad, checkpoint: note }, latest), 422, "CONSISTENCY_PROOF_INVALID");
    }
    // The log rewrote leaf 3 after the witness saw size 6: its honest proof for the new tree fails.
    const fork = await signed(13, { root: rootAt(13, forked) });
    const v = await judge({ oldSize: 6, proof: proofFor(6, 13, forked), checkpoint: fork }, latest);
    expectRefusal(v, 422, "CONSISTENCY_PROOF_INVALID");
  });

  it("checks in the spec's order", async () => {
    const wrongKey = await signed(5, { signers: [noteSigner(impostor.signerKey)], origin: "example.com/other-log" });
    // Unknown origin before signature.
    expectRefusal(await judge({ oldSize: 9, proof: [], checkpoint: wrongKey }, await state(3)), 404, "UNKNOWN_LOG");
    // Signature before sizes.
    const impostorNote = await signed(5, { signers: [noteSigner(impostor.signerKey)] });
    expectRefusal(await judge({ oldSize: 9, proof: [], checkpoint: impostorNote }, await state(3)), 403, "LOG_SIGNATURE_INVALID");
    // Old size above checkpoint size before the mismatch.
    const note = await signed(5);
    expectRefusal(await judge({ oldSize: 9, proof: [], checkpoint: note }, await state(3)), 400, "BAD_WITNESS_REQUEST");
    // Mismatch before the proof, and before the size-0 root.
    expectRefusal(await judge({ oldSize: 2, proof: [rootAt(1)], checkpoint: note }, await state(3)), 409, "OLD_SIZE_MISMATCH");
    const badEmpty = await signed(0, { root: rootAt(1) });
    expectRefusal(await judge({ oldSize: 0, proof: [], checkpoint: badEmpty }, await state(3)), 409, "OLD_SIZE_MISMATCH");
  });

  it("throws for the caller's own bad configuration or state", async () => {
    const note = await signed(5);
    const req = { oldSize: 0, proof: [], checkpoint: note };
    await expectCode(judge(req, undefined, []), "BAD_KEY");
    await expectCode(judge(req, undefined, ["not a key"]), "BAD_KEY");
    await expectCode(judge(req, undefined, [w1.verifierKey]), "BAD_KEY", /type 0x01/);
    await expectCode(judge(req, { size: 0, root: rootAt(1), note }), "BAD_CHECKPOINT");
    await expectCode(judge(req, { size: 3, root: new Uint8Array(31), note }), "BAD_CHECKPOINT");
  });
});

describe("cosignatures, both sides", () => {
  async function accepted(size = 8): Promise<{ note: string; text: string }> {
    const note = await signed(size);
    const v = await judge({ oldSize: 0, proof: [], checkpoint: note }, undefined);
    if (!v.ok) throw new Error("setup: not accepted");
    return { note, text: v.body };
  }

  it("a witness's response verifies on the operator side and completes the note", async () => {
    const { note, text } = await accepted();
    const resp = await cosignatureResponse(text, [cosigner(seed(2), W1, T)]);
    expect(resp).toMatch(/^— witness\.example\/w1 [A-Za-z0-9+/]+=*\n$/);
    const lines = await cosignaturesFromResponse(resp, note, w1.verifierKey);
    expect(lines).toEqual([resp]);
    const opened = await openNote(note + lines.join(""), [log.verifierKey, w1.verifierKey]);
    expect(opened.verified.map((s) => [s.name, s.timestamp])).toEqual([
      [ORIGIN, undefined],
      [W1, T],
    ]);
  });

  it("several witness keys in one response: each member takes its own line", async () => {
    const { note, text } = await accepted();
    const resp = await cosignatureResponse(text, [cosigner(seed(2), W1, T), cosigner(seed(5), W2, T + 1)]);
    expect(resp.split("\n")).toHaveLength(3);
    const [l1, l2] = resp.split(/(?<=\n)/) as [string, string];
    expect(await cosignaturesFromResponse(resp, note, w1.verifierKey)).toEqual([l1]);
    expect(await cosignaturesFromResponse(resp, note, w2.verifierKey)).toEqual([l2]);
  });

  it("ignores lines by other keys, refuses when none is the member's", async () => {
    const { note, text } = await accepted();
    const other = await cosignatureResponse(text, [cosigner(seed(5), W2, T)]);
    await expectCode(cosignaturesFromResponse(other, note, w1.verifierKey), "BAD_COSIGNATURE", /no cosignature by/);
    // A stranger's line with garbage bytes is not checked at all.
    const junk = `— stranger.example/w ${toBase64(new Uint8Array(76).fill(7))}\n`;
    const mine = await cosignatureResponse(text, [cosigner(seed(2), W1, T)]);
    expect(await cosignaturesFromResponse(junk + mine, note, w1.verifierKey)).toEqual([mine]);
  });

  it("refuses a forged cosignature, even beside valid lines by other keys", async () => {
    const { note, text } = await accepted();
    const resp = await cosignatureResponse(text, [cosigner(seed(5), W2, T), cosigner(seed(2), W1, T)]);
    const forged = forgeLine(`${text}\n${resp}`, 1).slice(text.length + 1);
    await expectCode(cosignaturesFromResponse(forged, note, w1.verifierKey), "BAD_COSIGNATURE", /does not verify/);
    // The other member's line still stands on its own.
    expect(await cosignaturesFromResponse(forged, note, w2.verifierKey)).toHaveLength(1);
  });

  it("refuses a genuine cosignature over another checkpoint", async () => {
    const { note } = await accepted(8);
    const elsewhere = await cosignatureResponse(body(9), [cosigner(seed(2), W1, T)]);
    await expectCode(cosignaturesFromResponse(elsewhere, note, w1.verifierKey), "BAD_COSIGNATURE", /does not verify/);
  });

  it("refuses a zero timestamp (the spec forbids it in add-checkpoint)", async () => {
    const { note, text } = await accepted();
    const resp = await cosignatureResponse(text, [cosigner(seed(2), W1, 0)]);
    await expectCode(cosignaturesFromResponse(resp, note, w1.verifierKey), "BAD_COSIGNATURE", /zero timestamp/);
  });

  it("refuses response bodies that are not signature lines", async () => {
    const { note, text } = await accepted();
    const good = await cosignatureResponse(text, [cosigner(seed(2), W1, T)]);
    for (const bad of ["", "\n", good.slice(0, -1), good + "\n", "\n" + good, good + "hello\n", good.replace("— ", "- "), good + good, good.replace("\n", "\r\n")]) {
      await expectCode(cosignaturesFromResponse(bad, note, w1.verifierKey), "BAD_COSIGNATURE");
    }
  });

  it("refuses a member key that is not a cosignature/v1 key, and a note that is not a checkpoint", async () => {
    const { note, text } = await accepted();
    const good = await cosignatureResponse(text, [cosigner(seed(2), W1, T)]);
    await expectCode(cosignaturesFromResponse(good, note, log.verifierKey), "BAD_KEY");
    await expectCode(cosignaturesFromResponse(good, text, w1.verifierKey), "BAD_NOTE");
  });

  it("cosignatureResponse refuses texts that are not checkpoints and empty signer lists", async () => {
    await expectCode(cosignatureResponse("hello\n", [cosigner(seed(2), W1, T)]), "BAD_CHECKPOINT");
    await expectCode(cosignatureResponse(body(3), []), "BAD_COSIGNATURE");
  });
});

describe("text/x.tlog.size bodies", () => {
  it("round-trip and strictness", async () => {
    for (const n of [0, 1, 20852014, Number.MAX_SAFE_INTEGER]) expect(parseTlogSize(formatTlogSize(n))).toBe(n);
    for (const bad of ["", "5", "05\n", "5\r\n", " 5\n", "5\n\n", "-1\n", "9007199254740992\n"]) {
      await expectCode(() => parseTlogSize(bad), "BAD_DECIMAL");
    }
    await expectCode(() => formatTlogSize(-1), "BAD_DECIMAL");
  });
});
