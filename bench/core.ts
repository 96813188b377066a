/**
 * Core suite: what src/core costs in Node, with no I/O. Tree roots (side by
 * side with merkletreejs, whose roots must equal ours), proofs from stored
 * complete-subtree hashes on a 1M-leaf tree, offline receipt verification,
 * and the two primitives everything else is made of: Ed25519 verify and
 * SHA-256 of a 65-byte node.
 *
 * Inputs are deterministic (fixed seeds, a xorshift fill for leaf hashes) so
 * every run measures the same work; nothing here asserts on timings, only on
 * results (a wrong root or a failing proof aborts the run).
 */
import { createHash, createPublicKey, hash as nodeCryptoHash, verify as nodeCryptoVerify } from "node:crypto";
import { MerkleTree } from "merkletreejs";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import {
  blockHash,
  buildReceipt,
  cosign,
  ed25519Sign,
  ed25519Verify,
  ed25519PublicKey,
  formatBlockHeader,
  formatCheckpoint,
  generateKeyPair,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  leafHash,
  inclusionProof,
  merkleRoot,
  mldsaCosign,
  nodeHash,
  noteSigner,
  parseSignerKey,
  ReceiptVerifier,
  rootFromLevels,
  sha256,
  signNote,
  signSubmission,
  tlog,
  toHex,
  treeLevels,
  utf8,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
  type NodeRef,
  type Trust,
} from "../src/core/index.js";
import { ed25519WebCryptoAvailable } from "../src/core/ed25519.js";
import { defineSuite, formatRate, type SuiteContext } from "./harness.js";

const HASH = 32;

// ---------------------------------------------------------------------------
// Inputs.

/** xorshift32: cheap deterministic bytes, so leaf sets are identical across runs and tools. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** A deterministic index sequence over [0, n), for picking leaves and sizes. */
function indexStream(n: number, seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/** One 32-byte array per leaf, as a batch of leafHash() results would be. */
function separateLeaves(flat: Uint8Array, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => flat.slice(i * HASH, (i + 1) * HASH));
}

/** The stored hash of a NodeRef out of treeLevels output (a view, no copy). */
function fromLevels(levels: readonly Uint8Array[], ref: NodeRef): Uint8Array {
  return levels[ref.level]!.subarray(ref.index * HASH, (ref.index + 1) * HASH);
}

// ---------------------------------------------------------------------------
// merkletreejs, configured for RFC 6962.
//
// Leaves go in already hashed as SHA-256(0x00 || data) (hashLeaves false, the
// default), and the concatenator puts 0x01 before each pair, so every node is
// SHA-256(0x01 || left || right). Its default tree (duplicateOdd, complete,
// isBitcoinTree, sort* all off) carries an unpaired last node up a level
// unchanged, which is exactly RFC 6962's tree for every size, not only powers
// of two; the bench checks that its root equals ours at every size it times.

const NODE_PREFIX = Buffer.from([0x01]);
const rfc6962Concat = (pair: Buffer[]): Buffer => Buffer.concat([NODE_PREFIX, ...pair]);
/** The hash function of merkletreejs's own usage example: node:crypto, one createHash per node. */
const nodeCryptoSha256 = (data: Buffer): Buffer => createHash("sha256").update(data).digest();
/** The same pure-JS SHA-256 core uses, to separate tree code from hash speed. */
const nobleSha256Buffer = (data: Buffer): Uint8Array => nobleSha256(data);

function merkletreejsRoot(leaves: readonly Uint8Array[], hashFn: (data: Buffer) => Uint8Array): Uint8Array {
  return new MerkleTree(leaves as Uint8Array[], hashFn, { concatenator: rfc6962Concat }).getRoot();
}

// ---------------------------------------------------------------------------
// A realistic receipt: entry in a block of 1,000 entries, block 500 of a
// history of 1,000 blocks, checkpoint signed by the operator and cosigned by
// all 3 members of a quorum-2 trust document.

const ORIGIN = "bench.example/log";
// In the past: a verifier refuses cosignatures dated after its own clock (+300 s).
const T0 = 1_780_000_000;
const BATCH = 1000;
const HISTORY = 1000;
const HEIGHT = 500;

function keyPair(label: string, name: string, type: number = KEY_TYPE_ED25519) {
  return generateKeyPair(name, sha256(utf8(label)), type);
}

const documentOf = (i: number) => utf8(`bench document ${i}\n`);

export interface ReceiptFixture {
  readonly trust: Trust;
  /** Receipt JSON texts, one per entry of the block, as a verifier receives them. */
  readonly receipts: readonly string[];
  readonly digests: readonly Uint8Array[];
}

/** Proof from treeLevels output through the same tlog path a store uses. */
function proofFromLevels(levels: readonly Uint8Array[], index: number, size: number): Uint8Array[] {
  const refs = tlog.inclusionProofRefs(index, size);
  return tlog.assembleInclusionProof(index, size, refs.map((r) => fromLevels(levels, r)));
}

function flatOf(hashes: readonly Uint8Array[]): Uint8Array {
  const flat = new Uint8Array(hashes.length * HASH);
  hashes.forEach((h, i) => flat.set(h, i * HASH));
  return flat;
}

/**
 * Exported so a profiling script can drive exactly the receipts the suite
 * times (docs/BENCHMARKS.md shows how), and bench/browser.ts the same in
 * Chromium. `v2`: a cairn-trust/v2 document whose members each have an
 * ML-DSA-44 key too, pqQuorum 2, and a checkpoint that all three also
 * cosigned post-quantum (three 2,428-byte signatures more to check).
 */
export async function receiptFixture(options: { v2?: boolean } = {}): Promise<ReceiptFixture> {
  const operator = keyPair("bench operator", ORIGIN);
  const members = ["m1.bench.example", "m2.bench.example", "m3.bench.example"].map((name) => ({
    name,
    ...keyPair(`bench member ${name}`, name, KEY_TYPE_COSIGNATURE_V1),
  }));
  const client = keyPair("bench client", "client.bench.example/app");
  const pq = members.map((m) => keyPair(`bench member ${m.name} ML-DSA-44`, m.name, KEY_TYPE_COSIGNATURE_MLDSA44));
  const trust: Trust = options.v2
    ? {
        version: "cairn-trust/v2",
        origin: ORIGIN,
        operatorKeys: [{ key: operator.verifierKey, from: 0 }],
        members: members.map((m, i) => ({ name: m.name, keys: [{ key: m.verifierKey, from: 0 }, { key: pq[i]!.verifierKey, from: 0 }] })),
        quorum: 2,
        pqQuorum: 2,
      }
    : {
        version: "cairn-trust/v1",
        origin: ORIGIN,
        operatorKeys: [operator.verifierKey],
        members: members.map((m) => ({ name: m.name, key: m.verifierKey })),
        quorum: 2,
      };

  // The block the receipts are for holds 1,000 really signed entries; the
  // other 999 blocks only need well-formed, chained headers for the history
  // tree, so their batch roots are stand-ins.
  const signer = noteSigner(client.signerKey);
  const digests = Array.from({ length: BATCH }, (_, i) => sha256(documentOf(i)));
  const entries = await Promise.all(digests.map((digest, i) => signSubmission({ origin: ORIGIN, digest, time: T0 + i }, signer)));
  const batchLevels = treeLevels(flatOf(entries.map((e) => leafHash(utf8(e)))));

  const headers: string[] = [];
  let prevHash: Uint8Array = new Uint8Array(HASH);
  for (let height = 0; height < HISTORY; height++) {
    const root = height === HEIGHT ? rootFromLevels(batchLevels, BATCH) : sha256(utf8(`stand-in root ${height}`));
    const header = formatBlockHeader({ origin: ORIGIN, height, prevHash, size: BATCH, root, sealedAt: T0 + 10 * height });
    prevHash = blockHash(header);
    headers.push(header);
  }
  const historyLevels = treeLevels(flatOf(headers.map(blockHash)));

  let checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, size: HISTORY, root: rootFromLevels(historyLevels, HISTORY) }), [
    noteSigner(operator.signerKey),
  ]);
  for (const m of members) checkpoint = await cosign(checkpoint, parseSignerKey(m.signerKey).seed, m.name, T0 + 10 * HISTORY);
  if (options.v2) {
    for (const [i, m] of members.entries()) checkpoint = await mldsaCosign(checkpoint, parseSignerKey(pq[i]!.signerKey).seed, m.name, T0 + 10 * HISTORY);
  }

  const historyPath = proofFromLevels(historyLevels, HEIGHT, HISTORY);
  const receipts = entries.map((entry, index) =>
    JSON.stringify(
      buildReceipt({
        entry,
        block: headers[HEIGHT]!,
        inclusion: { index, size: BATCH, path: proofFromLevels(batchLevels, index, BATCH) },
        history: { index: HEIGHT, size: HISTORY, path: historyPath },
        checkpoint,
        client: client.verifierKey,
      }),
    ),
  );
  return { trust, receipts, digests };
}

// ---------------------------------------------------------------------------
// Sections.

// Million-leaf roots take about a second each (merkletreejs several): one
// warm-up call and two timed ones keep the suite near its two-minute budget.
const BIG = { warmup: 1, minTime: 0, minIterations: 2 } as const;

async function treeRoots(ctx: SuiteContext, flat: Uint8Array, leaves: readonly Uint8Array[]): Promise<void> {
  ctx.section("Tree roots from leaf hashes (RFC 6962), ours vs merkletreejs 0.6");
  ctx.note(
    "merkletreejs: leaves passed pre-hashed (0x00 prefix), concatenator prepends 0x01, default options (odd node carried up);\n" +
      "that is RFC 6962's tree at every size, and every root computed below is checked equal to merkleRoot's.",
  );
  const sizes = [100_000, 2 ** 17, 1_000_000, 2 ** 20];
  const summary: string[] = [];
  for (const n of sizes) {
    const part = leaves.slice(0, n);
    const partFlat = flat.subarray(0, n * HASH);
    const opts = n > 200_000 ? BIG : { minTime: 1500, minIterations: 5 };
    const label = n === 2 ** 17 ? "2^17" : n === 2 ** 20 ? "2^20" : n.toLocaleString("en-US");
    const units = { count: n, name: "leaves" };
    const ours = toHex(merkleRoot(part));

    // Every root a timed call returns is compared, so the check costs no
    // extra million-leaf build.
    const checked = (what: string, root: () => Uint8Array) => () => {
      const r = root();
      if (toHex(r) !== ours) throw new Error(`${what}: root of ${n} leaves is ${toHex(r)}, merkleRoot says ${ours}`);
      return r;
    };
    const a = await ctx.bench(`merkleRoot, ${label} leaves`, () => merkleRoot(part), { ...opts, units });
    await ctx.bench(
      `treeLevels + rootFromLevels, ${label} leaves`,
      checked("treeLevels", () => rootFromLevels(treeLevels(partFlat), n)),
      { ...opts, units },
    );
    const b = await ctx.bench(
      `merkletreejs (node:crypto sha256), ${label} leaves`,
      checked("merkletreejs", () => merkletreejsRoot(part, nodeCryptoSha256)),
      { ...opts, units },
    );
    let line = `${label}: root ${ours.slice(0, 16)}… equal in all; merkleRoot ${(a.opsPerSec / b.opsPerSec).toFixed(2)}× merkletreejs+node:crypto`;
    // The noble variant separates merkletreejs's tree code from its hash
    // speed; the per-node cost does not depend on size, so one size will do.
    if (n === 100_000) {
      const c = await ctx.bench(
        `merkletreejs (noble sha256, as core), ${label} leaves`,
        checked("merkletreejs (noble)", () => merkletreejsRoot(part, nobleSha256Buffer)),
        { ...opts, units },
      );
      line += `, ${(a.opsPerSec / c.opsPerSec).toFixed(2)}× merkletreejs+noble`;
    }
    summary.push(line);
  }
  ctx.note(summary.join("\n"));
}

async function proofs(ctx: SuiteContext, flat: Uint8Array, leaves: readonly Uint8Array[]): Promise<void> {
  const n = 1_000_000;
  ctx.section(`Proofs on a ${n.toLocaleString("en-US")}-leaf tree from stored hashes (tlog refs)`);
  const levels = treeLevels(flat.subarray(0, n * HASH));
  const root = rootFromLevels(levels, n);

  // The write path of a store: every leaf appended through appendRefs /
  // appendHashes into a Map keyed by Go tlog's stored-hash index.
  const store = new Map<number, Uint8Array>();
  const key = (r: NodeRef) => tlog.storedHashIndex(r.level, r.index);
  await ctx.once(
    "append 1M leaves to a Map store (appendRefs + appendHashes)",
    () => {
      for (let i = 0; i < n; i++) {
        const hashes = tlog.appendRefs(i).map((r) => store.get(key(r))!);
        for (const { ref, hash } of tlog.appendHashes(i, leaves[i]!, hashes)) store.set(key(ref), hash);
      }
    },
    { opsPerCall: n },
  );
  const lookup = (refs: readonly NodeRef[]) =>
    refs.map((r) => {
      const h = store.get(key(r));
      if (h === undefined) throw new Error(`store lacks ${r.level}/${r.index}`);
      return h;
    });
  const storeRoot = tlog.assembleTreeRoot(n, lookup(tlog.treeRootRefs(n)));
  if (toHex(storeRoot) !== toHex(root)) throw new Error("Map store root differs from treeLevels root");
  ctx.note(`store holds ${store.size.toLocaleString("en-US")} hashes (storedHashCount ${tlog.storedHashCount(n).toLocaleString("en-US")}); its root equals treeLevels'`);

  const pick = indexStream(n, 0x1234567);
  await ctx.bench("inclusion proof: refs + Map store + assemble", () => {
    const i = pick();
    return tlog.assembleInclusionProof(i, n, lookup(tlog.inclusionProofRefs(i, n)));
  });
  await ctx.bench("inclusion proof: refs + treeLevels + assemble", () => {
    const i = pick();
    return tlog.assembleInclusionProof(i, n, tlog.inclusionProofRefs(i, n).map((r) => fromLevels(levels, r)));
  });
  // For contrast: the all-leaves path rehashes the whole tree per proof.
  const million = leaves.slice(0, n);
  await ctx.bench("inclusion proof: merkle.inclusionProof from 1M leaf hashes", () => inclusionProof(million, pick()), {
    warmup: 1,
    minTime: 0,
    minIterations: 1,
  });

  const POOL = 1024;
  const incl = Array.from({ length: POOL }, () => {
    const i = pick();
    return { i, leaf: leaves[i]!, proof: tlog.assembleInclusionProof(i, n, lookup(tlog.inclusionProofRefs(i, n))) };
  });
  let k = 0;
  await ctx.bench("inclusion proof verified (verifyInclusion)", () => {
    const c = incl[k++ % POOL]!;
    verifyInclusion(c.leaf, c.i, n, c.proof, root);
  });
  ctx.note(`inclusion proofs in a ${n.toLocaleString("en-US")}-leaf tree are ${incl[0]!.proof.length} hashes`);

  const pickOld = indexStream(n - 1, 0x7654321);
  await ctx.bench(`consistency proof (random old size → ${n.toLocaleString("en-US")}): refs + Map store + assemble`, () => {
    const m = pickOld() + 1;
    return tlog.assembleConsistencyProof(m, n, lookup(tlog.consistencyProofRefs(m, n)));
  });
  const cons = Array.from({ length: POOL }, () => {
    const m = pickOld() + 1;
    return { m, oldRoot: rootFromLevels(levels, m), proof: tlog.assembleConsistencyProof(m, n, lookup(tlog.consistencyProofRefs(m, n))) };
  });
  k = 0;
  await ctx.bench("consistency proof verified (verifyConsistency)", () => {
    const c = cons[k++ % POOL]!;
    verifyConsistency(c.m, n, c.oldRoot, root, c.proof);
  });
  const lengths = cons.map((c) => c.proof.length);
  ctx.note(`consistency proofs to ${n.toLocaleString("en-US")} leaves are ${Math.min(...lengths)}–${Math.max(...lengths)} hashes`);
}

async function receipts(ctx: SuiteContext): Promise<void> {
  ctx.section("Receipt verification (offline, Node)");
  const fx = await receiptFixture();
  const size = fx.receipts[0]!.length;
  ctx.note(
    `receipt: entry in a block of ${BATCH}, block ${HEIGHT} of ${HISTORY}, checkpoint with 3 cosignatures, quorum 2; ${size} bytes of JSON;\n` +
      `verified from JSON text with the document digest, cycling through ${fx.receipts.length} distinct receipts of one checkpoint`,
  );
  // Sanity: every step runs and passes, and all three cosigners count.
  const first = await verifyReceipt(fx.receipts[0]!, fx.trust, { digest: fx.digests[0]! });
  if (first.steps.some((s) => s.status !== "ok") || first.cosigners.length !== 3) {
    throw new Error(`fixture receipt does not fully verify: ${JSON.stringify(first.steps)}`);
  }

  const count = fx.receipts.length;
  const next = () => {
    let i = 0;
    return () => {
      const j = i++ % count;
      return [fx.receipts[j]!, fx.digests[j]!] as const;
    };
  };
  const TARGET = 5000;
  const results: [string, number][] = [];
  const run = async (name: string, fn: () => unknown, concurrency = 1) => {
    const r = await ctx.bench(name, fn, { concurrency, latency: true, minTime: 1500 });
    results.push([name, r.opsPerSec]);
  };

  const a = next();
  await run("(a) verifyReceipt one-shot, awaited one at a time", () => {
    const [text, digest] = a();
    return verifyReceipt(text, fx.trust, { digest });
  });
  const verifier = new ReceiptVerifier(fx.trust);
  const b = next();
  await run("(b) one ReceiptVerifier reused, awaited one at a time", () => {
    const [text, digest] = b();
    return verifier.verify(text, { digest });
  });
  const c = next();
  await run("(c) one ReceiptVerifier reused, 64 in flight", () => {
    const [text, digest] = c();
    return verifier.verify(text, { digest });
  }, 64);
  const d = next();
  await run("(d) verifyReceipt one-shot, 64 in flight", () => {
    const [text, digest] = d();
    return verifyReceipt(text, fx.trust, { digest });
  }, 64);

  const reach = results.filter(([, ops]) => ops >= TARGET).map(([name]) => name.slice(0, 3));
  ctx.note(
    `target ≥ ${formatRate(TARGET)} receipts/s: ${reach.length > 0 ? `reached by ${reach.join(" ")}` : "not reached by any configuration"}` +
      ` (best ${formatRate(Math.max(...results.map(([, ops]) => ops)))}/s)`,
  );
}

async function primitives(ctx: SuiteContext): Promise<void> {
  ctx.section("Primitives");
  const backend = (await ed25519WebCryptoAvailable()) ? "WebCrypto" : "noble (WebCrypto unusable here)";
  ctx.note(`ed25519Verify backend: ${backend}`);
  const seed = sha256(utf8("bench ed25519"));
  const publicKey = ed25519PublicKey(seed);
  // A message the size of a submission note's text.
  const message = utf8(`cairn/submission/v1\n${ORIGIN}\n${toHex(sha256(utf8("doc")))}\n${T0}\n`);
  const signature = await ed25519Sign(seed, message);
  if (!(await ed25519Verify(publicKey, message, signature))) throw new Error("ed25519 self-check failed");
  await ctx.bench("ed25519Verify, awaited one at a time", () => ed25519Verify(publicKey, message, signature), { minTime: 1500 });
  await ctx.bench("ed25519Verify, 64 in flight", () => ed25519Verify(publicKey, message, signature), { minTime: 1500, concurrency: 64 });
  await ctx.bench("ed25519Verify, noble backend (fallback), awaited", () => ed25519Verify(publicKey, message, signature, { backend: "noble" }), {
    minTime: 500,
  });
  // References for "where time goes": the same verification straight through
  // WebCrypto (what core's checks and key cache add) and node:crypto's
  // synchronous verify (the signature math alone, no thread-pool hop).
  const subtleKey = await crypto.subtle.importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, ["verify"]);
  const sigBuf = new Uint8Array(signature);
  const msgBuf = new Uint8Array(message);
  await ctx.bench("reference: crypto.subtle.verify, key imported once, awaited", () =>
    crypto.subtle.verify({ name: "Ed25519" }, subtleKey, sigBuf, msgBuf),
  );
  const keyObject = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") }, format: "jwk" });
  await ctx.bench("reference: node:crypto verify(), synchronous", () => {
    if (!nodeCryptoVerify(null, message, keyObject, signature)) throw new Error("node:crypto verify failed");
  });

  const left = pseudoRandomBytes(HASH, 11);
  const right = pseudoRandomBytes(HASH, 12);
  const node = new Uint8Array([0x01, ...left, ...right]);
  if (toHex(nodeHash(left, right)) !== toHex(sha256(node))) throw new Error("nodeHash self-check failed");
  await ctx.bench("SHA-256 of a 65-byte node: core nodeHash (noble, reused state)", () => nodeHash(left, right));
  await ctx.bench("SHA-256 of a 65-byte node: core sha256 (noble one-shot)", () => sha256(node));
  await ctx.bench("SHA-256 of a 65-byte node: node:crypto createHash", () => createHash("sha256").update(node).digest());
  await ctx.bench("SHA-256 of a 65-byte node: node:crypto hash() one-shot", () => nodeCryptoHash("sha256", node, "buffer"));
}

export default defineSuite({
  name: "core",
  description: "src/core in Node: tree roots vs merkletreejs, tlog proofs on 1M leaves, receipt verification, Ed25519, SHA-256",
  async run(ctx) {
    const maxLeaves = 2 ** 20;
    const flat = pseudoRandomBytes(maxLeaves * HASH, 0x9e3779b9);
    const leaves = separateLeaves(flat, maxLeaves);
    ctx.note(`leaf hashes: ${maxLeaves.toLocaleString("en-US")} × 32 pseudo-random bytes (xorshift), prefixes taken for smaller trees`);
    await primitives(ctx);
    await treeRoots(ctx, flat, leaves);
    await proofs(ctx, flat, leaves);
    await receipts(ctx);
  },
});
