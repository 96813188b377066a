/**
 * RFC 6962 / RFC 9162 Merkle trees over SHA-256 (RFC 9162 §2.1): leaf and
 * node hashes (§2.1.1), tree roots, inclusion proofs (§2.1.3) and consistency
 * proofs (§2.1.4), both made from a list of leaf hashes and verified.
 *
 * Verification is the bit-walking of RFC 9162 §2.1.3.2 and §2.1.4.2: it needs
 * nothing but the proof, never recurses, and handles any size up to
 * Number.MAX_SAFE_INTEGER. Building works on flat Uint8Arrays (32 bytes per
 * hash) so that a million-leaf batch costs tens of megabytes and no object per
 * node. Proofs from stored complete-subtree hashes are in tlog.ts.
 */
import { bytesEqual } from "./bytes.js";
import { check, type ErrorCode } from "./errors.js";
import { EMPTY_ROOT, HASH_SIZE, sha256Into } from "./hash.js";

const PAIR = 2 * HASH_SIZE;

// Node hashing dominates tree building. Every node input has the same 65-byte
// shape, so one input buffer and one output buffer are reused.
// Safe because everything here is synchronous and never re-enters itself.
const nodeInput = new Uint8Array(1 + PAIR);
nodeInput[0] = 0x01;
const digest = new Uint8Array(HASH_SIZE);

/** digest = SHA-256(nodeInput), i.e. the node hash of whatever pair was copied in. */
function hashNodeInput(): void {
  sha256Into(nodeInput, digest);
}

/**
 * Writes the node hash of the pair src[from, from + 64) into dst at `to`.
 * The pair is copied out before anything is written, so `to` may overlap it
 * (in-place level reduction writes node i over leaves 2i and 2i+1).
 */
function hashPairAt(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  nodeInput.set(src.subarray(from, from + PAIR), 1);
  hashNodeInput();
  dst.set(digest, to);
}

function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  hashNodeInput();
  return digest.slice();
}

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array || (ArrayBuffer.isView(x) && x.constructor.name === "Uint8Array");
}

function checkHash(h: unknown, code: ErrorCode, what: string): asserts h is Uint8Array {
  check(isBytes(h) && h.length === HASH_SIZE, code, `${what} must be a ${HASH_SIZE}-byte hash`);
}

function checkCount(n: number, code: ErrorCode, what: string): void {
  check(Number.isSafeInteger(n) && n >= 0, code, `${what} must be a non-negative safe integer`);
}

/** Largest power of two strictly below x (x >= 2): where RFC 6962 splits a tree of x leaves. */
function splitPoint(x: number): number {
  // Math.log2 rounds up just below large powers of two (log2(2^53 - 1) is 53),
  // so the estimate is corrected with exact arithmetic.
  let k = 2 ** Math.floor(Math.log2(x));
  while (k >= x) k /= 2;
  while (k * 2 < x) k *= 2;
  return k;
}

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

function half(x: number): number {
  return Math.floor(x / 2);
}

function isOdd(x: number): boolean {
  return x % 2 === 1;
}

/** The leaf hashes as one flat buffer, so levels can be reduced in place. */
function flatten(leafHashes: readonly Uint8Array[]): Uint8Array {
  const flat = new Uint8Array(leafHashes.length * HASH_SIZE);
  for (let i = 0; i < leafHashes.length; i++) {
    const h = leafHashes[i];
    checkHash(h, "BAD_PROOF", `leaf hash ${i}`);
    flat.set(h, i * HASH_SIZE);
  }
  return flat;
}

/**
 * Replaces the first `count` hashes of buf by the next level up and returns
 * its length. An unpaired last node moves up unchanged: level by level, that
 * builds exactly RFC 6962's tree, whose left subtree is always the largest
 * complete one.
 */
function reduceLevel(buf: Uint8Array, count: number): number {
  const pairs = Math.floor(count / 2);
  for (let i = 0; i < pairs; i++) hashPairAt(buf, i * PAIR, buf, i * HASH_SIZE);
  if (isOdd(count)) buf.copyWithin(pairs * HASH_SIZE, (count - 1) * HASH_SIZE, count * HASH_SIZE);
  return pairs + (count % 2);
}

/** Root of `count` (>= 1) leaf hashes held flat in buf, which is overwritten. */
function reduceToRoot(buf: Uint8Array, count: number): Uint8Array {
  while (count > 1) count = reduceLevel(buf, count);
  return buf.slice(0, HASH_SIZE);
}

/** MTH(D[lo:hi]) for lo < hi, leaving flat untouched. */
function rangeRoot(flat: Uint8Array, lo: number, hi: number): Uint8Array {
  return reduceToRoot(flat.slice(lo * HASH_SIZE, hi * HASH_SIZE), hi - lo);
}

/** SHA-256(0x00 || data): the hash of a leaf (RFC 9162 §2.1.1). */
export function leafHash(data: Uint8Array): Uint8Array {
  check(isBytes(data), "BAD_PROOF", "leaf data must be a Uint8Array");
  const input = new Uint8Array(1 + data.length); // input[0] = 0x00, the leaf prefix
  input.set(data, 1);
  const out = new Uint8Array(HASH_SIZE);
  sha256Into(input, out);
  return out;
}

/** SHA-256(0x01 || left || right): the hash of an interior node (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  checkHash(left, "BAD_PROOF", "left hash");
  checkHash(right, "BAD_PROOF", "right hash");
  return hashPair(left, right);
}

/** MTH of the given leaf hashes; the empty tree's root is SHA-256("") (RFC 9162 §2.1.1). */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_ROOT.slice();
  return reduceToRoot(flatten(leafHashes), leafHashes.length);
}

/**
 * The audit path PATH(index, D[n]) of RFC 9162 §2.1.3.1, leaf end first.
 * Made level by level: the path holds the node beside the leaf's ancestor at
 * every level where that ancestor has one (an unpaired last node has none).
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  const size = leafHashes.length;
  checkCount(index, "INDEX_OUT_OF_RANGE", "leaf index");
  check(index < size, "INDEX_OUT_OF_RANGE", `leaf index ${index} is not below the tree size ${size}`);
  const buf = flatten(leafHashes);
  const proof: Uint8Array[] = [];
  let count = size;
  let pos = index;
  while (count > 1) {
    const sibling = isOdd(pos) ? pos - 1 : pos + 1;
    if (sibling < count) proof.push(buf.slice(sibling * HASH_SIZE, (sibling + 1) * HASH_SIZE));
    count = reduceLevel(buf, count);
    pos = half(pos);
  }
  return proof;
}

/**
 * Recomputes the root from a leaf hash and its audit path (RFC 9162
 * §2.1.3.2). Throws INDEX_OUT_OF_RANGE unless index < size, and
 * INCLUSION_PROOF_INVALID if a hash is not 32 bytes or the path has the wrong
 * length for (index, size). It does not compare with any root: see
 * verifyInclusion.
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkCount(size, "INDEX_OUT_OF_RANGE", "tree size");
  checkCount(index, "INDEX_OUT_OF_RANGE", "leaf index");
  check(index < size, "INDEX_OUT_OF_RANGE", `leaf index ${index} is not below the tree size ${size}`);
  checkHash(leafHash, "INCLUSION_PROOF_INVALID", "leaf hash");
  proof.forEach((p, i) => checkHash(p, "INCLUSION_PROOF_INVALID", `inclusion proof hash ${i}`));

  // fn walks the leaf's position up the tree and sn the last node's; when
  // they meet, the leaf's ancestor is the unpaired last node and moves up
  // without a sibling, so the levels where that happens are skipped.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    check(sn !== 0, "INCLUSION_PROOF_INVALID", "inclusion proof is too long");
    if (isOdd(fn) || fn === sn) {
      r = hashPair(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashPair(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  check(sn === 0, "INCLUSION_PROOF_INVALID", "inclusion proof is too short");
  return r === leafHash ? new Uint8Array(r) : r;
}

/**
 * Checks that `proof` shows the leaf with hash `leafHash` at `index` in the
 * tree of `size` leaves with root `root` (RFC 9162 §2.1.3.2). Throws
 * INDEX_OUT_OF_RANGE if index >= size, INCLUSION_PROOF_INVALID otherwise.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  checkHash(root, "INCLUSION_PROOF_INVALID", "root");
  check(bytesEqual(computed, root), "INCLUSION_PROOF_INVALID", "inclusion proof does not lead to the root");
}

/**
 * PROOF(oldSize, D[n]) of RFC 9162 §2.1.4.1, smallest subtree first; empty
 * when oldSize is 0 or n.
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  const size = leafHashes.length;
  checkCount(oldSize, "INDEX_OUT_OF_RANGE", "old size");
  check(oldSize <= size, "INDEX_OUT_OF_RANGE", `old size ${oldSize} is above the tree size ${size}`);
  const flat = flatten(leafHashes);
  if (oldSize === 0 || oldSize === size) return [];

  // SUBPROOF(m, D[lo:hi], b) unrolled from the top: at each split, keep the
  // side that holds the old tree's right edge and record the other side.
  // `whole` is b: it stays true while the old tree is a prefix of [lo, hi),
  // in which case the verifier already knows the common subtree's hash.
  const proof: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  let whole = true;
  while (oldSize !== hi) {
    const k = splitPoint(hi - lo);
    if (oldSize <= lo + k) {
      proof.push(rangeRoot(flat, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(rangeRoot(flat, lo, lo + k));
      lo += k;
      whole = false;
    }
  }
  if (!whole) proof.push(rangeRoot(flat, lo, hi));
  return proof.reverse();
}

/**
 * Checks that `proof` shows the tree of oldSize leaves with root oldRoot to be
 * a prefix of the tree of newSize leaves with root newRoot (RFC 9162
 * §2.1.4.2). Throws INDEX_OUT_OF_RANGE if oldSize > newSize and
 * CONSISTENCY_PROOF_INVALID otherwise.
 *
 * Equal sizes need an empty proof and equal roots. Size 0 needs an empty
 * proof and, stricter than RFC 9162 requires, oldRoot = SHA-256(""): the empty
 * tree has exactly one root, and a checkpoint claiming another is malformed.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  checkCount(oldSize, "INDEX_OUT_OF_RANGE", "old size");
  checkCount(newSize, "INDEX_OUT_OF_RANGE", "new size");
  check(oldSize <= newSize, "INDEX_OUT_OF_RANGE", `old size ${oldSize} is above the new size ${newSize}`);
  checkHash(oldRoot, "CONSISTENCY_PROOF_INVALID", "old root");
  checkHash(newRoot, "CONSISTENCY_PROOF_INVALID", "new root");
  proof.forEach((p, i) => checkHash(p, "CONSISTENCY_PROOF_INVALID", `consistency proof hash ${i}`));

  if (oldSize === 0 || oldSize === newSize) {
    check(proof.length === 0, "CONSISTENCY_PROOF_INVALID", "a proof from the empty tree or between equal sizes must be empty");
    if (oldSize === 0) {
      check(bytesEqual(oldRoot, EMPTY_ROOT), "CONSISTENCY_PROOF_INVALID", "the empty tree's root is SHA-256 of the empty string");
    }
    if (oldSize === newSize) {
      check(bytesEqual(oldRoot, newRoot), "CONSISTENCY_PROOF_INVALID", "equal sizes with different roots");
    }
    return;
  }
  check(proof.length > 0, "CONSISTENCY_PROOF_INVALID", "consistency proof is empty");

  // When the old tree is a complete subtree, the proof leaves out its root,
  // which the verifier has; put it back so both cases walk the same path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // Skip the levels where the old tree's last node is a right child inside
  // the common subtree whose hash starts the path.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    check(sn !== 0, "CONSISTENCY_PROOF_INVALID", "consistency proof is too long");
    if (isOdd(fn) || fn === sn) {
      fr = hashPair(c, fr);
      sr = hashPair(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashPair(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  check(sn === 0, "CONSISTENCY_PROOF_INVALID", "consistency proof is too short");
  check(bytesEqual(fr, oldRoot), "CONSISTENCY_PROOF_INVALID", "consistency proof does not lead to the old root");
  check(bytesEqual(sr, newRoot), "CONSISTENCY_PROOF_INVALID", "consistency proof does not lead to the new root");
}

/**
 * All levels of the tree: levels[0] = the leaf hashes concatenated (the very
 * array passed in, not a copy), levels[k] = the hashes of the complete
 * subtrees of 2^k leaves, floor(n / 2^k) of them, flat, 32 bytes each. The
 * last level always holds one hash; it is the root only when n is a power of
 * two (rootFromLevels joins the others). These are exactly the hashes a
 * tlog.ts store keeps, so `levels[ref.level]` answers any NodeRef of the tree.
 */
export function treeLevels(leafHashes: Uint8Array): Uint8Array[] {
  check(isBytes(leafHashes), "BAD_PROOF", "leaf hashes must be a Uint8Array");
  check(leafHashes.length % HASH_SIZE === 0, "BAD_PROOF", `leaf hashes must be a multiple of ${HASH_SIZE} bytes`);
  const levels = [leafHashes];
  let prev = leafHashes;
  let count = leafHashes.length / HASH_SIZE;
  while (count >= 2) {
    count = Math.floor(count / 2);
    const next = new Uint8Array(count * HASH_SIZE);
    for (let i = 0; i < count; i++) hashPairAt(prev, i * PAIR, next, i * HASH_SIZE);
    levels.push(next);
    prev = next;
  }
  return levels;
}

/**
 * The root of the tree of the first `size` leaves, from treeLevels output
 * (any size up to the number of leaves in levels[0]).
 */
export function rootFromLevels(levels: readonly Uint8Array[], size: number): Uint8Array {
  const leaves = levels[0];
  check(isBytes(leaves) && leaves.length % HASH_SIZE === 0, "BAD_PROOF", "levels[0] must hold whole leaf hashes");
  const n = leaves.length / HASH_SIZE;
  checkCount(size, "INDEX_OUT_OF_RANGE", "tree size");
  check(size <= n, "INDEX_OUT_OF_RANGE", `tree size ${size} is above the ${n} leaves given`);
  if (size === 0) return EMPTY_ROOT.slice();

  // The tree splits into one complete subtree per set bit of size, largest
  // on the left (RFC 9162 §2.1.1 splits at the largest power of two below
  // the size), and they join from the right.
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let level = Math.floor(Math.log2(size)) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (start + width > size) continue;
    const index = start / width;
    const hashes = levels[level];
    check(
      isBytes(hashes) && hashes.length >= (index + 1) * HASH_SIZE,
      "BAD_PROOF",
      `levels[${level}] lacks the hash of subtree ${index}`,
    );
    parts.push(hashes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE));
    start += width;
  }
  let root = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) root = hashPair(parts[i]!, root);
  return parts.length === 1 ? new Uint8Array(root) : root;
}
