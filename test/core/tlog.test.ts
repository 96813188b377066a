import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { bytesEqual, toHex, utf8 } from "../../src/core/bytes.js";
import { CairnError } from "../../src/core/errors.js";
import { EMPTY_ROOT } from "../../src/core/hash.js";
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  treeLevels,
  verifyConsistency,
  verifyInclusion,
} from "../../src/core/merkle.js";
import {
  appendHashes,
  appendRefs,
  assembleConsistencyProof,
  assembleInclusionProof,
  assembleTreeRoot,
  consistencyProofRefs,
  inclusionProofRefs,
  type NodeRef,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  treeRootRefs,
} from "../../src/core/tlog.js";

function outcome(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof CairnError) return e.code;
    throw e;
  }
}

const key = (r: NodeRef) => `${r.level}/${r.index}`;

/** Go tlog's layout, from its definition: each leaf's hash, then the hashes of the subtrees it completes, lowest first. */
function goLayout(leaves: number): NodeRef[] {
  const out: NodeRef[] = [];
  for (let n = 0; n < leaves; n++) {
    out.push({ level: 0, index: n });
    for (let level = 1; (n + 1) % 2 ** level === 0; level++) out.push({ level, index: (n + 1) / 2 ** level - 1 });
  }
  return out;
}

/** Every ref names a complete subtree inside the tree, and none repeats. */
function expectWellFormed(refs: readonly NodeRef[], size: number): void {
  const outside = refs.filter((r) => (r.index + 1) * 2 ** r.level > size);
  if (outside.length > 0) expect(outside, `refs beyond size ${size}`).toEqual([]);
  if (new Set(refs.map(key)).size !== refs.length) expect(refs.map(key), "duplicate refs").toEqual([]);
}

/** Byte-for-byte equality of two proofs; expect() (slow on typed arrays) only runs on a mismatch. */
function expectSameProof(got: readonly Uint8Array[], want: readonly Uint8Array[], what: string): void {
  if (got.length !== want.length || got.some((h, k) => !bytesEqual(h, want[k]!))) {
    expect(got.map(toHex), what).toEqual(want.map(toHex));
  }
}

describe("stored hash index (Go tlog layout)", () => {
  it("matches Go's StoredHashIndex for the first leaves", () => {
    // StoredHashIndex(0, n) in golang.org/x/mod/sumdb/tlog: n + n/2 + n/4 + ...
    const level0 = [0, 1, 3, 4, 7, 8, 10, 11, 15, 16, 18, 19, 22, 23, 25, 26, 31];
    expect(level0.map((_, n) => storedHashIndex(0, n))).toEqual(level0);
    // The first 16 slots: leaf 0; leaf 1, (1,0); leaf 2; leaf 3, (1,1), (2,0); ...
    const slots: [number, number][] = [
      [0, 0], [0, 1], [1, 0], [0, 2], [0, 3], [1, 1], [2, 0], [0, 4],
      [0, 5], [1, 2], [0, 6], [0, 7], [1, 3], [2, 1], [3, 0], [0, 8],
    ];
    slots.forEach(([level, index], i) => {
      expect(storedHashIndex(level, index), `(${level}, ${index})`).toBe(i);
      expect(splitStoredHashIndex(i)).toEqual({ level, index });
    });
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map(storedHashCount)).toEqual([0, 1, 3, 4, 7, 8, 10, 11, 15]);
  });

  it("agrees with the layout built leaf by leaf, for 5000 leaves", () => {
    const layout = goLayout(5000);
    layout.forEach((ref, i) => {
      if (storedHashIndex(ref.level, ref.index) !== i) expect(storedHashIndex(ref.level, ref.index), key(ref)).toBe(i);
      const back = splitStoredHashIndex(i);
      if (back.level !== ref.level || back.index !== ref.index) expect(back, `slot ${i}`).toEqual(ref);
    });
    for (let size = 0, count = 0; size <= 5000; size++) {
      if (size > 0) count += 1 + appendRefs(size - 1).length;
      if (storedHashCount(size) !== count) expect(storedHashCount(size), `size ${size}`).toBe(count);
    }
  });

  it("round-trips for every level < 20 and index < 200 (Go's TestSplitStoredHashIndex, wider)", () => {
    for (let level = 0; level < 20; level++) {
      for (let n = 0; n < 200; n++) {
        const x = storedHashIndex(level, n);
        const back = splitStoredHashIndex(x);
        if (back.level !== level || back.index !== n) expect(back).toEqual({ level, index: n });
      }
    }
  });

  it("round-trips up to 2^53 (no 32-bit truncation)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 52 }), fc.maxSafeNat(), (level, seed) => {
        const n = seed % Math.floor(2 ** (52 - level));
        const x = storedHashIndex(level, n);
        expect(Number.isSafeInteger(x)).toBe(true);
        expect(splitStoredHashIndex(x)).toEqual({ level, index: n });
      }),
      { numRuns: 2000 },
    );
    expect(storedHashIndex(0, 2 ** 40)).toBe(2 ** 41 - 1);
    expect(storedHashCount(2 ** 50)).toBe(2 ** 51 - 1);
    expect(splitStoredHashIndex(2 ** 41 - 1)).toEqual({ level: 0, index: 2 ** 40 });
  });

  it("rejects indexes that are negative, fractional or unsafe", () => {
    expect(outcome(() => storedHashIndex(-1, 0))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => storedHashIndex(0, 1.5))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => storedHashIndex(60, 0))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => storedHashIndex(0, Number.MAX_SAFE_INTEGER))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => splitStoredHashIndex(-1))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => splitStoredHashIndex(Number.NaN))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => storedHashCount(2 ** 53))).toBe("INDEX_OUT_OF_RANGE");
  });
});

describe("a log grown leaf by leaf in a hash store", () => {
  const N = 130; // past 128, so the tree crosses a power of two
  const store = new Map<string, Uint8Array>();
  let reads = 0;
  /** The store's one batched read: all refs at once, every one must exist. */
  const read = (refs: readonly NodeRef[]): Uint8Array[] => {
    reads++;
    return refs.map((r) => {
      const h = store.get(key(r));
      if (h === undefined) throw new Error(`read of missing node ${key(r)}`);
      return h;
    });
  };
  const leaves = Array.from({ length: N }, (_, i) => leafHash(utf8(`leaf ${i}`)));
  const roots = Array.from({ length: N + 1 }, (_, n) => merkleRoot(leaves.slice(0, n)));

  it(`grows to ${N} leaves; at every size the root, every inclusion and every consistency proof equal merkle.ts's`, () => {
    let proofs = 0;
    for (let size = 0; size <= N; size++) {
      if (size > 0) {
        // Append leaf size - 1.
        const refs = appendRefs(size - 1);
        expectWellFormed(refs, size - 1);
        const created = appendHashes(size - 1, leaves[size - 1]!, read(refs));
        expect(created[0]!.ref).toEqual({ level: 0, index: size - 1 });
        for (const { ref, hash } of created) {
          expect(store.has(key(ref)), `rewrote ${key(ref)}`).toBe(false);
          expect((ref.index + 1) * 2 ** ref.level).toBe(size); // completed by this leaf
          expect(storedHashIndex(ref.level, ref.index)).toBe(store.size); // Go's append order
          store.set(key(ref), hash);
        }
      }
      expect(store.size).toBe(storedHashCount(size));
      const tree = leaves.slice(0, size);
      const root = roots[size]!;
      const log2 = Math.ceil(Math.log2(Math.max(size, 1)));

      const rootRefs = treeRootRefs(size);
      expectWellFormed(rootRefs, size);
      expect(rootRefs.length).toBeLessThanOrEqual(log2 + 1);
      reads = 0;
      expect(assembleTreeRoot(size, read(rootRefs))).toEqual(root);

      for (let i = 0; i < size; i++) {
        const refs = inclusionProofRefs(i, size);
        expectWellFormed(refs, size);
        if (refs.length > 2 * log2) expect(refs.length, `${i}/${size}`).toBeLessThanOrEqual(2 * log2);
        const p = assembleInclusionProof(i, size, read(refs));
        expectSameProof(p, inclusionProof(tree, i), `inclusion ${i}/${size}`);
        verifyInclusion(tree[i]!, i, size, p, root);
        proofs++;
      }
      for (let m = 0; m <= size; m++) {
        const refs = consistencyProofRefs(m, size);
        expectWellFormed(refs, size);
        if (refs.length > 2 * log2 + 1) expect(refs.length, `${m}->${size}`).toBeLessThanOrEqual(2 * log2 + 1);
        const p = assembleConsistencyProof(m, size, read(refs));
        expectSameProof(p, consistencyProof(tree, m), `consistency ${m}->${size}`);
        verifyConsistency(m, size, roots[m]!, root, p);
        proofs++;
      }
      expect(reads).toBe(1 + size + (size + 1)); // one batched read per answer
    }
    expect(proofs).toBe((N * (N + 1)) / 2 + ((N + 1) * (N + 2)) / 2);
  });

  it("rejects assembly from the wrong number or size of hashes", () => {
    const size = 100;
    const some = read(inclusionProofRefs(37, size));
    expect(outcome(() => assembleInclusionProof(37, size, some.slice(1)))).toBe("BAD_PROOF");
    expect(outcome(() => assembleInclusionProof(37, size, [...some, some[0]!]))).toBe("BAD_PROOF");
    expect(outcome(() => assembleInclusionProof(37, size, [some[0]!.subarray(1), ...some.slice(1)]))).toBe("BAD_PROOF");
    const cons = read(consistencyProofRefs(37, size));
    expect(outcome(() => assembleConsistencyProof(37, size, cons.slice(0, -1)))).toBe("BAD_PROOF");
    expect(outcome(() => assembleTreeRoot(size, []))).toBe("BAD_PROOF");
    expect(outcome(() => assembleTreeRoot(0, [leaves[0]!]))).toBe("BAD_PROOF");
    expect(outcome(() => appendHashes(3, leaves[3]!, []))).toBe("BAD_PROOF");
    expect(outcome(() => appendHashes(2, leaves[2]!.subarray(0, 31), []))).toBe("BAD_PROOF");
  });
});

describe("refs and their bounds", () => {
  it("handle the empty tree and the trivial proofs", () => {
    expect(treeRootRefs(0)).toEqual([]);
    expect(assembleTreeRoot(0, [])).toEqual(EMPTY_ROOT);
    expect(assembleTreeRoot(0, [])).not.toBe(EMPTY_ROOT);
    expect(appendRefs(0)).toEqual([]);
    expect(inclusionProofRefs(0, 1)).toEqual([]);
    expect(assembleInclusionProof(0, 1, [])).toEqual([]);
    expect(consistencyProofRefs(0, 9)).toEqual([]);
    expect(consistencyProofRefs(9, 9)).toEqual([]);
    expect(consistencyProofRefs(0, 0)).toEqual([]);
  });

  it("append refs are the left siblings closed by the new leaf, lowest level first", () => {
    expect(appendRefs(1)).toEqual([{ level: 0, index: 0 }]);
    expect(appendRefs(2)).toEqual([]);
    expect(appendRefs(7)).toEqual([
      { level: 0, index: 6 },
      { level: 1, index: 2 },
      { level: 2, index: 0 },
    ]);
    expect(appendRefs(2 ** 40 - 1).length).toBe(40);
  });

  it("reject out-of-range indexes and sizes", () => {
    expect(outcome(() => inclusionProofRefs(5, 5))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => inclusionProofRefs(-1, 5))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => assembleInclusionProof(0, 0, []))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => consistencyProofRefs(6, 5))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => assembleConsistencyProof(6, 5, []))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => treeRootRefs(-1))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => treeRootRefs(2 ** 53))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => appendRefs(Number.MAX_SAFE_INTEGER))).toBe("INDEX_OUT_OF_RANGE");
  });

  it("stay O(log n), distinct and inside the tree for any size up to 2^53 - 1", () => {
    const size = fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
    fc.assert(
      fc.property(size, fc.maxSafeNat(), (n, seed) => {
        const log2 = Math.ceil(Math.log2(n));
        const i = seed % n;
        const m = seed % (n + 1);
        const inc = inclusionProofRefs(i, n);
        const cons = consistencyProofRefs(m, n);
        const roots = treeRootRefs(n);
        expectWellFormed(inc, n);
        expectWellFormed(cons, n);
        expectWellFormed(roots, n);
        expect(inc.length).toBeLessThanOrEqual(2 * log2);
        expect(cons.length).toBeLessThanOrEqual(2 * log2 + 1);
        expect(roots.length).toBeLessThanOrEqual(log2 + 1);
        // The root's subtrees tile [0, n) left to right.
        let start = 0;
        for (const r of roots) {
          expect(r.index * 2 ** r.level).toBe(start);
          start += 2 ** r.level;
        }
        expect(start).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });

  it("treeLevels is a complete store: proofs from its levels equal merkle.ts's (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 700 }), fc.nat(), fc.nat(), (n, a, b) => {
        const leaves = Array.from({ length: n }, (_, k) => leafHash(utf8(`${a} ${k}`)));
        const flat = new Uint8Array(n * 32);
        leaves.forEach((h, k) => flat.set(h, k * 32));
        const levels = treeLevels(flat);
        const read = (refs: readonly NodeRef[]) =>
          refs.map((r) => levels[r.level]!.slice(r.index * 32, (r.index + 1) * 32));
        // The tree may be any prefix of the stored leaves.
        const size = 1 + (b % n);
        const tree = leaves.slice(0, size);
        const i = a % size;
        const m = b % (size + 1);
        expect(assembleTreeRoot(size, read(treeRootRefs(size)))).toEqual(merkleRoot(tree));
        expect(assembleInclusionProof(i, size, read(inclusionProofRefs(i, size)))).toEqual(inclusionProof(tree, i));
        expect(assembleConsistencyProof(m, size, read(consistencyProofRefs(m, size)))).toEqual(consistencyProof(tree, m));
      }),
      { numRuns: 200 },
    );
  });
});
