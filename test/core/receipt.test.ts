import { beforeAll, describe, expect, it } from "vitest";
import {
  CairnError,
  fromBase64,
  merkleRoot,
  blockHash,
  noteSigner,
  ReceiptVerifier,
  stepsOf,
  toBase64,
  verifyReceipt,
  type ErrorCode,
  type ReceiptJson,
  type VerifyReceiptOptions,
  buildReceipt,
  cosign,
  formatBlockHeader,
  leafHash,
  parseSignerKey,
  sha256,
  signSubmission,
  utf8,
} from "../../src/core/index.js";
import { buildChain, client, documentOf, T0, keyPair, members, ORIGIN, signedCheckpoint, trust, type Chain } from "./chain-fixture.js";

let chain: Chain;
beforeAll(async () => {
  chain = await buildChain([5, 1, 7]);
});

const mutable = (r: ReceiptJson) => JSON.parse(JSON.stringify(r)) as { -readonly [K in keyof ReceiptJson]: any };

/** The verifier's clock: the fixture's chain was sealed and cosigned around T0. */
const NOW = T0 + 1000;
/** Receipts checked for their own structure need no document: say so, as a caller must. */
const NO_DOCUMENT = { noDocument: true, now: NOW } as const;

async function expectFailure(receipt: unknown, code: ErrorCode, step: string, options: VerifyReceiptOptions = {}) {
  const withDocument = options.digest !== undefined || options.document !== undefined;
  const error = await verifyReceipt(receipt, trust, withDocument ? { now: NOW, ...options } : { ...NO_DOCUMENT, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "verification should have failed").toBeInstanceOf(CairnError);
  expect((error as CairnError).code).toBe(code);
  expect((error as CairnError).step).toBe(step);
  return error as CairnError;
}

function flipPathByte(path: string[], at: number): string[] {
  const bytes = fromBase64(path[at]!);
  bytes[0]! ^= 1;
  return path.map((h, i) => (i === at ? toBase64(bytes) : h));
}

describe("verifyReceipt", () => {
  it("accepts every entry of every block, reporting each step by name", async () => {
    const verifier = new ReceiptVerifier(trust);
    for (const [height, receipts] of chain.receipts.entries()) {
      for (const [index, receipt] of receipts.entries()) {
        const r = await verifier.verify(receipt, { document: documentOf(height, index), clientKeys: [client.verifierKey], now: NOW });
        expect(r.blockHeight).toBe(height);
        expect(r.cosigners).toEqual(["m1.example", "m2.example"]);
        expect(r.steps.every((s) => s.status === "ok")).toBe(true);
      }
    }
  });

  it("refuses to verify with no document or digest unless asked to, never skipping in silence", async () => {
    await expect(verifyReceipt(chain.receipts[0]![0], trust)).rejects.toMatchObject({ code: "DOCUMENT_REQUIRED", step: "digest" });
    await expect(verifyReceipt(chain.receipts[0]![0], trust, { noDocument: true, document: documentOf(0, 0) })).rejects.toMatchObject({ code: "DOCUMENT_REQUIRED" });
    const r = await verifyReceipt(chain.receipts[0]![0], trust, NO_DOCUMENT);
    expect(r.documentChecked).toBe(false);
    const digest = r.steps.find((s) => s.step === "digest")!;
    expect(digest.status).toBe("skipped");
    expect(digest.detail).toContain("NOT CHECKED");
    const checked = await verifyReceipt(chain.receipts[0]![0], trust, { document: documentOf(0, 0), now: NOW });
    expect(checked.documentChecked).toBe(true);
  });

  it("accepts the receipt as JSON text", async () => {
    await verifyReceipt(JSON.stringify(chain.receipts[1]![0]), trust, NO_DOCUMENT);
  });

  it("accepts a later checkpoint for the same block (receipts are not byte-stable)", async () => {
    const grown = await buildChain([5, 1, 7, 2, 2]);
    // Block 1 of the longer chain is the same block: same entries, same header.
    expect(grown.headers[1]).toBe(chain.headers[1]);
    await verifyReceipt(grown.receipts[1]![0], trust, NO_DOCUMENT);
  });

  it("DIGEST_MISMATCH for another document", async () => {
    const e = await expectFailure(chain.receipts[0]![0], "DIGEST_MISMATCH", "digest", { document: documentOf(0, 1) });
    expect(stepsOf(e).map((s) => s.step)).toEqual(["receipt"]);
  });

  it("ENTRY_SIGNATURE_INVALID when the entry text was altered", async () => {
    const r = mutable(chain.receipts[0]![2]!);
    r.entry = r.entry.replace(String(1_800_000_000), String(1_800_000_001));
    await expectFailure(r, "ENTRY_SIGNATURE_INVALID", "entry-signature");
  });

  it("ENTRY_SIGNATURE_INVALID when the receipt's client key is not the signer", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    r.client = keyPair("someone else", "client.example/app").verifierKey;
    await expectFailure(r, "ENTRY_SIGNATURE_INVALID", "entry-signature");
  });

  it("ENTRY_SIGNATURE_INVALID when the signer is not among pinned client keys", async () => {
    const other = keyPair("pinned other", "other.example/app").verifierKey;
    await expectFailure(chain.receipts[0]![0], "ENTRY_SIGNATURE_INVALID", "entry-signature", { clientKeys: [other] });
  });

  it("ENTRY_SIGNATURE_INVALID when there is no client key at all", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    delete r.client;
    await expectFailure(r, "ENTRY_SIGNATURE_INVALID", "entry-signature");
  });

  it("WRONG_ORIGIN for an entry of another log, properly signed", async () => {
    const foreign = await buildChain([1]);
    const r = mutable(foreign.receipts[0]![0]!);
    const t = { ...trust, origin: "elsewhere.example/log" };
    const e = await verifyReceipt(r, { ...t, operatorKeys: [keyPair("x", "elsewhere.example/log").verifierKey] }, NO_DOCUMENT).catch((x) => x);
    expect((e as CairnError).code).toBe("WRONG_ORIGIN");
  });

  it("INCLUSION_PROOF_INVALID for every flipped path hash, a wrong index, a short or long path", async () => {
    const base = chain.receipts[2]![3]!;
    for (let at = 0; at < base.inclusion.path.length; at++) {
      const r = mutable(base);
      r.inclusion.path = flipPathByte(r.inclusion.path, at);
      await expectFailure(r, "INCLUSION_PROOF_INVALID", "inclusion");
    }
    const wrongIndex = mutable(base);
    wrongIndex.inclusion.index = 4;
    await expectFailure(wrongIndex, "INCLUSION_PROOF_INVALID", "inclusion");
    const short = mutable(base);
    short.inclusion.path.pop();
    await expectFailure(short, "INCLUSION_PROOF_INVALID", "inclusion");
    const long = mutable(base);
    long.inclusion.path.push(long.inclusion.path[0]);
    await expectFailure(long, "INCLUSION_PROOF_INVALID", "inclusion");
  });

  it("BLOCK_MISMATCH when the proof's batch size is not the header's", async () => {
    const r = mutable(chain.receipts[2]![3]!);
    r.inclusion.size = 8;
    await expectFailure(r, "BLOCK_MISMATCH", "inclusion");
  });

  it("INCLUSION_PROOF_INVALID when the entry is moved to another block's header", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    r.block = chain.headers[2];
    r.inclusion.size = 7;
    await expectFailure(r, "INCLUSION_PROOF_INVALID", "inclusion");
  });

  it("HISTORY_PROOF_INVALID for a flipped history hash, an altered header, a size not the checkpoint's", async () => {
    const base = chain.receipts[1]![0]!;
    for (let at = 0; at < base.history.path.length; at++) {
      const r = mutable(base);
      r.history.path = flipPathByte(r.history.path, at);
      await expectFailure(r, "HISTORY_PROOF_INVALID", "history");
    }
    const altered = mutable(base);
    altered.block = altered.block.replace(/\n(\d+)\n$/, (_: string, t: string) => `\n${Number(t) + 1}\n`);
    await expectFailure(altered, "HISTORY_PROOF_INVALID", "history");
    const size = mutable(base);
    size.history.size = 4;
    await expectFailure(size, "HISTORY_PROOF_INVALID", "history");
  });

  it("BLOCK_MISMATCH when the history index is not the header's height", async () => {
    const r = mutable(chain.receipts[1]![0]!);
    r.history.index = 2;
    await expectFailure(r, "BLOCK_MISMATCH", "history");
  });

  it("CHECKPOINT_SIGNATURE_INVALID when the operator signature does not verify or is absent", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    // Same key name and id, signature of other text: a known key that fails.
    const lines = r.checkpoint.split("\n");
    const sigLine = lines.findIndex((l: string) => l.startsWith(`— ${ORIGIN} `));
    const sig = fromBase64(lines[sigLine].split(" ")[2]);
    sig[10]! ^= 1;
    lines[sigLine] = `— ${ORIGIN} ${toBase64(sig)}`;
    r.checkpoint = lines.join("\n");
    await expectFailure(r, "CHECKPOINT_SIGNATURE_INVALID", "checkpoint-signature");

    const unsigned = mutable(chain.receipts[0]![0]!);
    unsigned.checkpoint = unsigned.checkpoint.replace(/— test\.example\/log .*\n/, "");
    await expectFailure(unsigned, "CHECKPOINT_SIGNATURE_INVALID", "checkpoint-signature");
  });

  it("CHECKPOINT_SIGNATURE_INVALID for a checkpoint signed by a key the trust does not name", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    const history = chain.headers.map(blockHash);
    const impostor = keyPair("impostor", ORIGIN);
    const { signNote, formatCheckpoint } = await import("../../src/core/index.js");
    r.checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, size: 3, root: merkleRoot(history) }), [noteSigner(impostor.signerKey)]);
    await expectFailure(r, "CHECKPOINT_SIGNATURE_INVALID", "checkpoint-signature");
  });

  it("QUORUM_NOT_MET with one cosignature of the two required", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    r.checkpoint = await signedCheckpoint(3, merkleRoot(chain.headers.map(blockHash)), 1);
    const e = await expectFailure(r, "QUORUM_NOT_MET", "cosignatures");
    expect(stepsOf(e).map((s) => s.step)).toEqual(["receipt", "digest", "entry-signature", "inclusion", "history", "checkpoint-signature"]);
  });

  it("QUORUM_NOT_MET when a member cosignature was tampered with", async () => {
    const r = mutable(chain.receipts[0]![0]!);
    r.checkpoint = r.checkpoint.replace(new RegExp(`(— ${members[0]!.name} )(.)`), (_: string, p: string, c: string) => p + (c === "A" ? "B" : "A"));
    await expectFailure(r, "QUORUM_NOT_MET", "cosignatures");
  });

  it("BAD_RECEIPT for malformed receipts", async () => {
    const good = chain.receipts[0]![0]!;
    const cases: unknown[] = [
      "{not json",
      null,
      [],
      { ...good, version: "cairn-receipt/v2" },
      { ...good, entry: 7 },
      { ...good, inclusion: { index: 0, size: 0, path: [] } },
      { ...good, inclusion: { ...good.inclusion, index: -1 } },
      { ...good, inclusion: { ...good.inclusion, path: ["not base64!"] } },
      { ...good, inclusion: { ...good.inclusion, path: [toBase64(new Uint8Array(31))] } },
      { ...good, history: { ...good.history, path: Array(65).fill(good.history.path[0]) } },
      { ...good, block: good.block.replace("cairn/block/v1", "cairn/block/v0") },
      { ...good, entry: good.entry.replace("\n\n", "\n") },
    ];
    for (const c of cases) await expectFailure(c, "BAD_RECEIPT", "receipt");
  });

  it("a ReceiptVerifier reuses a checkpoint it verified, and still rejects a different one", async () => {
    const verifier = new ReceiptVerifier(trust);
    await verifier.verify(chain.receipts[0]![0], NO_DOCUMENT);
    await verifier.verify(chain.receipts[0]![1], NO_DOCUMENT);
    const r = mutable(chain.receipts[0]![2]!);
    r.checkpoint = await signedCheckpoint(3, merkleRoot(chain.headers.map(blockHash)), 1);
    await expect(verifier.verify(r, NO_DOCUMENT)).rejects.toMatchObject({ code: "QUORUM_NOT_MET" });
  });
});

describe("time: what a receipt can show about when", () => {
  let chain: Chain;
  beforeAll(async () => {
    chain = await buildChain([3]);
  });

  /** The receipt's checkpoint, operator-signed as before, cosigned anew by m1 and m2 at `times`. */
  async function cosignedAt(receipt: ReceiptJson, times: readonly number[]): Promise<ReceiptJson> {
    const r = mutable(receipt);
    const lines = r.checkpoint.split("\n");
    const operatorOnly = lines.filter((l: string) => !l.startsWith("\u2014 ") || l.startsWith(`\u2014 ${ORIGIN} `)).join("\n");
    let note = operatorOnly;
    for (const [i, t] of times.entries()) note = await cosign(note, parseSignerKey(members[i]!.signerKey).seed, members[i]!.name, t);
    r.checkpoint = note;
    return r;
  }

  it("reports the interval proven: from the entry's signed time to when a quorum had cosigned", async () => {
    const sealedAt = T0 + 1;
    const r = await verifyReceipt(await cosignedAt(chain.receipts[0]![0]!, [sealedAt + 50, sealedAt + 20]), trust, { document: documentOf(0, 0), now: NOW });
    expect(r.interval).toEqual({ from: T0, by: sealedAt + 50 }); // quorum 2: the later of the two
    expect(r.steps.find((s) => s.step === "time")?.status).toBe("ok");
  });

  it.each([
    ["0 (1970)", 0],
    ["2^53 - 1", Number.MAX_SAFE_INTEGER],
    ["more than the skew (300 s) before the block was sealed", T0 + 1 - 301],
    ["a day ahead of the verifier's clock", NOW + 86_400],
  ])("does not count a cosignature dated %s; with too few left, COSIGNATURE_TIME_INVALID", async (_, t) => {
    const bad = await cosignedAt(chain.receipts[0]![0]!, [t, t]);
    const e = await expectFailure(bad, "COSIGNATURE_TIME_INVALID", "cosignatures");
    expect(e.message).toContain(`m1.example at ${t}`);
    // One good cosignature and one bad: still not a quorum of two.
    await expectFailure(await cosignedAt(chain.receipts[0]![0]!, [T0 + 30, t]), "COSIGNATURE_TIME_INVALID", "cosignatures");
  });

  it("accepts a cosignature a little ahead of the verifier's clock (within the skew), and not beyond a stated one", async () => {
    const r = await cosignedAt(chain.receipts[0]![0]!, [NOW + 200, NOW + 200]);
    await verifyReceipt(r, trust, { noDocument: true, now: NOW });
    await expect(verifyReceipt(r, trust, { noDocument: true, now: NOW, maxSkewSeconds: 60 })).rejects.toMatchObject({ code: "COSIGNATURE_TIME_INVALID" });
  });

  it("accepts a cosignature from a witness whose clock runs a little behind the operator's (dated before the seal, within the skew)", async () => {
    const sealedAt = T0 + 1;
    const r = await cosignedAt(chain.receipts[0]![0]!, [sealedAt - 30, sealedAt - 30]);
    expect((await verifyReceipt(r, trust, { noDocument: true, now: NOW })).interval.by).toBe(sealedAt - 30);
    await expect(verifyReceipt(r, trust, { noDocument: true, now: NOW, maxSkewSeconds: 10 })).rejects.toMatchObject({ code: "COSIGNATURE_TIME_INVALID" });
  });

  it("refuses an entry dated after its block was sealed plus the window (a block 'sealed' in 2001 holding an entry of 2025)", async () => {
    const signer = noteSigner(client.signerKey);
    const entry = await signSubmission({ origin: ORIGIN, digest: sha256(documentOf(9, 0)), time: 1_750_000_000 }, signer);
    const header = formatBlockHeader({ origin: ORIGIN, height: 0, prevHash: new Uint8Array(32), size: 1, root: merkleRoot([leafHash(utf8(entry))]), sealedAt: 1_000_000_000 });
    const checkpoint = await signedCheckpoint(1, merkleRoot([blockHash(header)]));
    const receipt = buildReceipt({ entry, block: header, inclusion: { index: 0, size: 1, path: [] }, history: { index: 0, size: 1, path: [] }, checkpoint, client: client.verifierKey });
    await expectFailure(receipt, "ENTRY_AFTER_SEAL", "time", { document: documentOf(9, 0) });
    // Within the window it passes; beyond a tighter window it does not.
    const ok = await verifyReceipt(chain.receipts[0]![0]!, trust, { document: documentOf(0, 0), now: NOW, timeWindowSeconds: 0 });
    expect(ok.interval.from).toBe(T0);
  });
});
