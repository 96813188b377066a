/**
 * A small, real chain built with src/core for tests: keys from fixed seeds,
 * signed submissions, blocks, the history tree, a cosigned checkpoint and a
 * receipt for every entry.
 */
import {
  addSignatures,
  blockHash,
  buildReceipt,
  cosign,
  formatBlockHeader,
  formatCheckpoint,
  generateKeyPair,
  inclusionProof,
  KEY_TYPE_COSIGNATURE_V1,
  leafHash,
  merkleRoot,
  noteSigner,
  parseSignerKey,
  sha256,
  signNote,
  signSubmission,
  utf8,
  type ReceiptJson,
  type Trust,
} from "../../src/core/index.js";

export const ORIGIN = "test.example/log";
export const T0 = 1_800_000_000;

export function keyPair(label: string, name: string, type = 0x01) {
  return generateKeyPair(name, sha256(utf8(label)), type);
}

export const operator = keyPair("fixture operator", ORIGIN);
export const members = ["m1.example", "m2.example", "m3.example"].map((name) => ({
  name,
  ...keyPair(`fixture ${name}`, name, KEY_TYPE_COSIGNATURE_V1),
}));
export const client = keyPair("fixture client", "client.example/app");
export const trust: Trust = {
  version: "cairn-trust/v1",
  origin: ORIGIN,
  operatorKeys: [operator.verifierKey],
  members: members.map((m) => ({ name: m.name, key: m.verifierKey })),
  quorum: 2,
};

/** A document of the fixture; `fork` names another history with other documents. */
export function documentOf(block: number, index: number, fork = ""): Uint8Array {
  return utf8(`document ${fork}${block}.${index}\n`);
}

export async function signedCheckpoint(size: number, root: Uint8Array, cosigners = 2, origin = ORIGIN, cosignedAt = T0 + 100): Promise<string> {
  let note = await signNote(formatCheckpoint({ origin, size, root }), [noteSigner(operator.signerKey)]);
  for (const m of members.slice(0, cosigners)) note = await cosign(note, parseSignerKey(m.signerKey).seed, m.name, cosignedAt);
  return note;
}

export interface Chain {
  headers: string[];
  entries: string[][];
  receipts: ReceiptJson[][];
  /** Block hashes: the history tree's leaves. */
  history: Uint8Array[];
  checkpoint: string;
}

export interface ChainOptions {
  /** Another history: other documents (documentOf's `fork`), hence other roots. */
  readonly fork?: string;
  /** The time of block 0's entries (default T0); blocks are a second apart, cosigned 100 s after t0. */
  readonly t0?: number;
}

/** Builds blocks of the given sizes and a receipt for every entry at the final checkpoint. */
export async function buildChain(sizes: readonly number[], signer = noteSigner(client.signerKey), options: ChainOptions = {}): Promise<Chain> {
  const t0 = options.t0 ?? T0;
  const headers: string[] = [];
  const entries: string[][] = [];
  let prevHash: Uint8Array = new Uint8Array(32);
  for (const [height, size] of sizes.entries()) {
    const batch: string[] = [];
    for (let i = 0; i < size; i++) {
      batch.push(await signSubmission({ origin: ORIGIN, digest: sha256(documentOf(height, i, options.fork)), time: t0 + height }, signer));
    }
    const root = merkleRoot(batch.map((e) => leafHash(utf8(e))));
    const header = formatBlockHeader({ origin: ORIGIN, height, prevHash, size, root, sealedAt: t0 + height + 1 });
    prevHash = blockHash(header);
    headers.push(header);
    entries.push(batch);
  }
  const history = headers.map(blockHash);
  const checkpoint = await signedCheckpoint(headers.length, merkleRoot(history), 2, ORIGIN, t0 + 100);
  const receipts = entries.map((batch, height) => {
    const leaves = batch.map((e) => leafHash(utf8(e)));
    return batch.map((entry, index) =>
      buildReceipt({
        entry,
        block: headers[height]!,
        inclusion: { index, size: batch.length, path: inclusionProof(leaves, index) },
        history: { index: height, size: headers.length, path: inclusionProof(history, height) },
        checkpoint,
        client: client.verifierKey,
      }),
    );
  });
  return { headers, entries, receipts, history, checkpoint };
}

export { addSignatures };
