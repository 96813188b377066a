/**
 * RFC 9162 tree roots and proofs (§2.1.1, §2.1.3.1, §2.1.4.1) made from the
 * stored hashes of complete subtrees, the way golang.org/x/mod/sumdb/tlog
 * does it: a store never holds a whole tree in memory, it keeps the hash of
 * every complete subtree, written once when its last leaf arrives.
 *
 * Each operation is split around one I/O: `*Refs` says which stored hashes
 * it needs (O(log n) of them), the store reads them all in one batch, and
 * `assemble*` / `appendHashes` computes the answer from those hashes, taken
 * in exactly the order of the refs. Refs lists never contain duplicates.
 * Nothing here reads or writes storage.
 *
 * Also Go tlog's flat stored-hash index (Crosby & Wallach, "Efficient Data
 * Structures for Tamper-Evident Logging", §3.3), for stores that want one
 * integer key per hash.
 */
import { check } from "./errors.js";
import { EMPTY_ROOT, HASH_SIZE } from "./hash.js";
import { nodeHash } from "./merkle.js";

/** The complete subtree of leaves [index * 2^level, (index + 1) * 2^level). */
export interface NodeRef {
  readonly level: number;
  readonly index: number;
}

type Range = readonly [lo: number, hi: number];

function checkCount(n: number, what: string): void {
  check(Number.isSafeInteger(n) && n >= 0, "INDEX_OUT_OF_RANGE", `${what} must be a non-negative safe integer`);
}

function checkHashes(hashes: readonly Uint8Array[], count: number, what: string): void {
  check(hashes.length === count, "BAD_PROOF", `${what} needs ${count} stored hashes, got ${hashes.length}`);
  hashes.forEach((h, i) =>
    check(h instanceof Uint8Array && h.length === HASH_SIZE, "BAD_PROOF", `stored hash ${i} must be ${HASH_SIZE} bytes`),
  );
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Set bits of a safe integer (bitwise operators would cut it to 32 bits). */
function popcount(x: number): number {
  return popcount32(Math.floor(x / 2 ** 32)) + popcount32(x >>> 0);
}

/** Largest power of two <= x, for x >= 1. */
function floorPow2(x: number): number {
  // Math.log2 rounds up just below large powers of two (log2(2^53 - 1) is 53),
  // so the estimate is corrected with exact arithmetic.
  let k = 2 ** Math.floor(Math.log2(x));
  while (k > x) k /= 2;
  while (k * 2 <= x) k *= 2;
  return k;
}

/**
 * Where the hashes written with leaf r start in the flat layout. Leaf j is
 * followed by the hashes of the subtrees it completes, one per trailing 1 bit
 * of j; so leaves 0..r-1 fill r + (r - popcount(r)) slots, since the trailing
 * zeros of 1..r sum to r - popcount(r).
 */
function leafGroupStart(r: number): number {
  return 2 * r - popcount(r);
}

/** The flat layout takes about two slots per leaf; this keeps every slot a safe integer. */
const MAX_LAYOUT_LEAVES = 2 ** 52;

/**
 * Go tlog's StoredHashIndex: the position of node (level, n) when every leaf's
 * hash is written followed by the hashes of the subtrees it completes, lowest
 * first. Node (level, n) is completed by its last leaf, (n + 1) * 2^level - 1.
 */
export function storedHashIndex(level: number, n: number): number {
  checkCount(level, "level");
  checkCount(n, "node index");
  const lastLeaf = (n + 1) * 2 ** level - 1;
  check(lastLeaf < MAX_LAYOUT_LEAVES, "INDEX_OUT_OF_RANGE", "node is beyond the stored-hash layout's range");
  return leafGroupStart(lastLeaf) + level;
}

/** Inverse of storedHashIndex. */
export function splitStoredHashIndex(index: number): NodeRef {
  checkCount(index, "stored hash index");
  // Find the leaf whose group holds `index`. Groups start at 2r - popcount(r),
  // which is at most index for r = floor(index / 2) and at least 2r - 53, so
  // at most a few dozen steps forward from there find it.
  let r = Math.floor(index / 2);
  while (leafGroupStart(r + 1) <= index) r++;
  const level = index - leafGroupStart(r);
  // The group of leaf r holds levels 0..(trailing ones of r), so level is one
  // of them and 2^level divides r + 1.
  return { level, index: (r + 1) / 2 ** level - 1 };
}

/** Go tlog's StoredHashCount: how many hashes a store holds for a tree of `size` leaves. */
export function storedHashCount(size: number): number {
  checkCount(size, "tree size");
  check(size <= MAX_LAYOUT_LEAVES, "INDEX_OUT_OF_RANGE", "tree is beyond the stored-hash layout's range");
  return leafGroupStart(size);
}

/** Refs whose hashes must be read before appending leaf number `size` (the left siblings that complete subtrees), lowest level first. */
export function appendRefs(size: number): NodeRef[] {
  checkCount(size, "tree size");
  check(size < Number.MAX_SAFE_INTEGER, "INDEX_OUT_OF_RANGE", "tree is full");
  // Leaf `size` completes one subtree per trailing 1 bit of size; at each of
  // those levels the new subtree's left half is already stored.
  const refs: NodeRef[] = [];
  let n = size;
  for (let level = 0; n % 2 === 1; level++) {
    refs.push({ level, index: n - 1 });
    n = (n - 1) / 2;
  }
  return refs;
}

/**
 * The complete subtrees that appending leaf `size` creates (those ending at
 * that leaf), lowest level first: the refs of appendHashes' result, and what
 * a store must copy to move one appended leaf elsewhere.
 */
export function appendedRefs(size: number): NodeRef[] {
  return [{ level: 0, index: size }, ...appendRefs(size).map((_, i) => ({ level: i + 1, index: Math.floor(size / 2 ** (i + 1)) }))];
}

/** A ref as a map key. */
export function refKey(ref: NodeRef): string {
  return `${ref.level}/${ref.index}`;
}

/**
 * The new complete-subtree hashes (with refs) created by appending leaf `size`
 * with hash leafHash, given the hashes of appendRefs(size) in order: the leaf
 * itself first, then one per completed subtree, lowest level first.
 */
export function appendHashes(
  size: number,
  leafHash: Uint8Array,
  hashes: readonly Uint8Array[],
): { ref: NodeRef; hash: Uint8Array }[] {
  const created = appendedRefs(size);
  checkHashes(hashes, created.length - 1, "appending a leaf");
  checkHashes([leafHash], 1, "appending a leaf");
  const out: { ref: NodeRef; hash: Uint8Array }[] = [{ ref: created[0]!, hash: new Uint8Array(leafHash) }];
  let h = leafHash;
  for (let i = 1; i < created.length; i++) {
    h = nodeHash(hashes[i - 1]!, h);
    out.push({ ref: created[i]!, hash: h });
  }
  return out;
}

/**
 * The complete subtrees that make up leaves [lo, hi), left to right. Every
 * range an RFC 9162 tree or proof uses starts at a multiple of its largest
 * power-of-two part, so the greedy split is always aligned.
 */
function rangeRefs(lo: number, hi: number, into: NodeRef[]): void {
  while (lo < hi) {
    const width = floorPow2(hi - lo);
    if (lo % width !== 0) throw new Error(`tlog: range [${lo}, ${hi}) is not aligned`);
    into.push({ level: Math.round(Math.log2(width)), index: lo / width });
    lo += width;
  }
}

/** How many refs rangeRefs gives: an aligned range splits into one subtree per set bit of its width. */
function rangeRefCount(lo: number, hi: number): number {
  return popcount(hi - lo);
}

/** MTH of a range from the hashes of its rangeRefs: the subtrees join from the right. */
function joinRange(hashes: readonly Uint8Array[], from: number, count: number): Uint8Array {
  let h = hashes[from + count - 1]!;
  for (let i = from + count - 2; i >= from; i--) h = nodeHash(hashes[i]!, h);
  return h === hashes[from + count - 1] ? new Uint8Array(h) : h;
}

function refsOf(ranges: readonly Range[]): NodeRef[] {
  const refs: NodeRef[] = [];
  for (const [lo, hi] of ranges) rangeRefs(lo, hi, refs);
  return refs;
}

function assemble(ranges: readonly Range[], hashes: readonly Uint8Array[], what: string): Uint8Array[] {
  let total = 0;
  for (const [lo, hi] of ranges) total += rangeRefCount(lo, hi);
  checkHashes(hashes, total, what);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const [lo, hi] of ranges) {
    const count = rangeRefCount(lo, hi);
    out.push(joinRange(hashes, at, count));
    at += count;
  }
  return out;
}

/** Refs of the complete subtrees whose hashes make the root of the tree of `size` leaves, left to right. */
export function treeRootRefs(size: number): NodeRef[] {
  checkCount(size, "tree size");
  return size === 0 ? [] : refsOf([[0, size]]);
}

/** The root of the tree of `size` leaves from the hashes of treeRootRefs(size); SHA-256("") for size 0. */
export function assembleTreeRoot(size: number, hashes: readonly Uint8Array[]): Uint8Array {
  checkCount(size, "tree size");
  if (size === 0) {
    checkHashes(hashes, 0, "the empty tree");
    return EMPTY_ROOT.slice();
  }
  return assemble([[0, size]], hashes, "a tree root")[0]!;
}

/**
 * The leaf ranges whose roots form PATH(index, D[size]) (RFC 9162 §2.1.3.1),
 * in proof order (leaf end first). Walking down from the root, each split
 * puts the leaf on one side and the other side into the path.
 */
function inclusionRanges(index: number, size: number): Range[] {
  checkCount(size, "tree size");
  checkCount(index, "leaf index");
  check(index < size, "INDEX_OUT_OF_RANGE", `leaf index ${index} is not below the tree size ${size}`);
  const ranges: Range[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = floorPow2(hi - lo - 1);
    if (index < lo + k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      lo += k;
    }
  }
  return ranges.reverse();
}

/**
 * The leaf ranges whose roots form PROOF(oldSize, D[newSize]) (RFC 9162
 * §2.1.4.1), in proof order. `whole` is SUBPROOF's b: while the old tree is a
 * prefix of [lo, hi), the verifier already knows the common subtree's root.
 */
function consistencyRanges(oldSize: number, newSize: number): Range[] {
  checkCount(oldSize, "old size");
  checkCount(newSize, "new size");
  check(oldSize <= newSize, "INDEX_OUT_OF_RANGE", `old size ${oldSize} is above the new size ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const ranges: Range[] = [];
  let lo = 0;
  let hi = newSize;
  let whole = true;
  while (oldSize !== hi) {
    const k = floorPow2(hi - lo - 1);
    if (oldSize <= lo + k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      lo += k;
      whole = false;
    }
  }
  if (!whole) ranges.push([lo, hi]);
  return ranges.reverse();
}

/** Refs needed for the inclusion proof of leaf `index` in the tree of `size` leaves (at most 2 log2(size) of them). */
export function inclusionProofRefs(index: number, size: number): NodeRef[] {
  return refsOf(inclusionRanges(index, size));
}

/** The inclusion proof of leaf `index` in the tree of `size` leaves, from the hashes of inclusionProofRefs. */
export function assembleInclusionProof(index: number, size: number, hashes: readonly Uint8Array[]): Uint8Array[] {
  return assemble(inclusionRanges(index, size), hashes, "an inclusion proof");
}

/** Refs needed for the consistency proof from `oldSize` to `newSize` leaves (at most 2 log2(newSize) + 1 of them). */
export function consistencyProofRefs(oldSize: number, newSize: number): NodeRef[] {
  return refsOf(consistencyRanges(oldSize, newSize));
}

/** The consistency proof from `oldSize` to `newSize` leaves, from the hashes of consistencyProofRefs. */
export function assembleConsistencyProof(oldSize: number, newSize: number, hashes: readonly Uint8Array[]): Uint8Array[] {
  return assemble(consistencyRanges(oldSize, newSize), hashes, "a consistency proof");
}
