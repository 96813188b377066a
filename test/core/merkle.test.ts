import { describe, expect, it } from "vitest";
import fc from "fast-check";
import vectors from "../vectors/rfc6962.json" with { type: "json" };
import { bytesEqual, fromBase64, fromHex, toHex, utf8 } from "../../src/core/bytes.js";
import { CairnError } from "../../src/core/errors.js";
import { EMPTY_ROOT, sha256 } from "../../src/core/hash.js";
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  rootFromInclusionProof,
  rootFromLevels,
  treeLevels,
  verifyConsistency,
  verifyInclusion,
} from "../../src/core/merkle.js";

// ---------------------------------------------------------------------------
// A reference written straight from the recursive definitions of RFC 9162
// §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF/SUBPROOF), slow and
// obviously right, to check the level-by-level code against.

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function refRoot(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array(0));
  if (d.length === 1) return d[0]!;
  const k = split(d.length);
  return nodeHash(refRoot(d.slice(0, k)), refRoot(d.slice(k)));
}

function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k
    ? [...refPath(m, d.slice(0, k)), refRoot(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), refRoot(d.slice(0, k))];
}

function refSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [refRoot(d)];
  const k = split(d.length);
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), b), refRoot(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), refRoot(d.slice(0, k))];
}

function refProof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  return m === 0 ? [] : refSubproof(m, d, true);
}

// ---------------------------------------------------------------------------

const LEAVES = Array.from({ length: 70 }, (_, i) => leafHash(utf8(`leaf ${i}`)));
const ROOTS = Array.from({ length: LEAVES.length + 1 }, (_, n) => refRoot(LEAVES.slice(0, n)));
const MAX = 64;

/** The error code thrown by fn, or "ok". Cheaper than expect().toThrow in hot loops. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof CairnError) return e.code;
    throw e;
  }
}

function flipBit(hashes: readonly Uint8Array[], i: number, byte: number, bit: number): Uint8Array[] {
  const out = hashes.slice();
  const h = out[i]!.slice();
  h[byte]! ^= 1 << bit;
  out[i] = h;
  return out;
}

function flip(h: Uint8Array, byte = 0, bit = 0): Uint8Array {
  const out = h.slice();
  out[byte]! ^= 1 << bit;
  return out;
}

const hexes = (hs: readonly Uint8Array[]) => hs.map(toHex);
const ALL_BYTES = Array.from({ length: 32 }, (_, b) => b);
const ALL_BITS = [0, 1, 2, 3, 4, 5, 6, 7];
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
/** x's neighbours, bit-flips, double, half and the ends of [lo, hi]. */
const near = (x: number, lo: number, hi: number) =>
  [...new Set([lo, hi, x - 1, x + 1, x - 2, x + 2, x ^ 1, x ^ 2, x ^ 4, 2 * x, Math.floor(x / 2)])].filter(
    (y) => y >= lo && y <= hi,
  );
const ZERO = new Uint8Array(32);

describe("RFC 6962 reference vectors (CT test suite)", () => {
  const leaves = vectors.leaves.map((h) => leafHash(fromHex(h)));

  it("leaf and node hashes match the published ones, level by level", () => {
    expect(hexes(leaves)).toEqual(vectors.nodeHashes[0]);
    const levels = treeLevels(flat(leaves));
    expect(levels.map((l) => hexes(unflat(l)))).toEqual(vectors.nodeHashes);
  });

  it("roots of every size 0..8 match", () => {
    for (let n = 0; n <= 8; n++) {
      expect(toHex(merkleRoot(leaves.slice(0, n))), `size ${n}`).toBe(vectors.roots[n]);
      expect(toHex(rootFromLevels(treeLevels(flat(leaves)), n)), `size ${n} from levels`).toBe(vectors.roots[n]);
    }
    expect(toHex(EMPTY_ROOT)).toBe(vectors.roots[0]);
  });

  it("inclusion proofs match and verify", () => {
    for (const v of vectors.inclusion) {
      const tree = leaves.slice(0, v.size);
      const root = fromHex(vectors.roots[v.size]!);
      expect(hexes(inclusionProof(tree, v.index)), `${v.index}/${v.size}`).toEqual(v.path);
      const path = v.path.map((h) => fromHex(h));
      verifyInclusion(leaves[v.index]!, v.index, v.size, path, root);
      expect(toHex(rootFromInclusionProof(leaves[v.index]!, v.index, v.size, path))).toBe(vectors.roots[v.size]);
    }
  });

  it("consistency proofs match and verify", () => {
    for (const v of vectors.consistency) {
      const tree = leaves.slice(0, v.newSize);
      expect(hexes(consistencyProof(tree, v.oldSize)), `${v.oldSize}->${v.newSize}`).toEqual(v.path);
      verifyConsistency(
        v.oldSize,
        v.newSize,
        fromHex(vectors.roots[v.oldSize]!),
        fromHex(vectors.roots[v.newSize]!),
        v.path.map((h) => fromHex(h)),
      );
    }
  });

  // The probes transparency-dev/merkle runs against these vectors (proof/verify_test.go).
  it("rejects the corrupted variants of the published inclusion proofs", () => {
    const some = fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (const v of vectors.inclusion.filter((v) => v.path.length > 0)) {
      const { index: i, size: n } = v;
      const p = v.path.map((h) => fromHex(h));
      const root = fromHex(vectors.roots[n]!);
      const leaf = leaves[i]!;
      const probes: [string, () => void][] = [
        ["index - 1", () => verifyInclusion(leaf, i - 1, n, p, root)],
        ["index + 1", () => verifyInclusion(leaf, i + 1, n, p, root)],
        ["index ^ 2", () => verifyInclusion(leaf, i ^ 2, n, p, root)],
        ["size * 2", () => verifyInclusion(leaf, i, n * 2, p, root)],
        ["size / 2", () => verifyInclusion(leaf, i, Math.floor(n / 2), p, root)],
        ["wrong leaf", () => verifyInclusion(utf8("WrongLeaf"), i, n, p, root)],
        ["empty root", () => verifyInclusion(leaf, i, n, p, EMPTY_ROOT)],
        ["random root", () => verifyInclusion(leaf, i, n, p, some)],
        ["trailing garbage", () => verifyInclusion(leaf, i, n, [...p, new Uint8Array(0)], root)],
        ["trailing root", () => verifyInclusion(leaf, i, n, [...p, root], root)],
        ["preceding garbage", () => verifyInclusion(leaf, i, n, [new Uint8Array(0), ...p], root)],
        ["preceding root", () => verifyInclusion(leaf, i, n, [root, ...p], root)],
        ["removed component", () => verifyInclusion(leaf, i, n, p.slice(0, -1), root)],
        ["inserted component", () => verifyInclusion(leaf, i, n, [p[0]!, some, ...p.slice(1)], root)],
        ...p.map((_, k): [string, () => void] => [`proof[${k}] bit 3`, () => verifyInclusion(leaf, i, n, flipBit(p, k, 0, 3), root)]),
      ];
      for (const [what, probe] of probes) {
        expect(outcome(probe), `${i}/${n}: ${what}`).toMatch(/^(INCLUSION_PROOF_INVALID|INDEX_OUT_OF_RANGE)$/);
      }
    }
  });

  it("rejects the corrupted variants of the published consistency proofs", () => {
    for (const v of vectors.consistency.filter((v) => v.path.length > 0)) {
      const { oldSize: m, newSize: n } = v;
      const p = v.path.map((h) => fromHex(h));
      const r1 = fromHex(vectors.roots[m]!);
      const r2 = fromHex(vectors.roots[n]!);
      const probes: [string, () => void][] = [
        ["size1 - 1", () => verifyConsistency(m - 1, n, r1, r2, p)],
        ["size1 + 1", () => verifyConsistency(m + 1, n, r1, r2, p)],
        ["size1 ^ 2", () => verifyConsistency(m ^ 2, n, r1, r2, p)],
        ["size2 * 2", () => verifyConsistency(m, n * 2, r1, r2, p)],
        ["size2 / 2", () => verifyConsistency(m, Math.floor(n / 2), r1, r2, p)],
        ["wrong root1", () => verifyConsistency(m, n, utf8("WrongRoot"), r2, p)],
        ["wrong root2", () => verifyConsistency(m, n, r1, utf8("WrongRoot"), p)],
        ["swapped roots", () => verifyConsistency(m, n, r2, r1, p)],
        ["empty proof", () => verifyConsistency(m, n, r1, r2, [])],
        ["trailing garbage", () => verifyConsistency(m, n, r1, r2, [...p, new Uint8Array(0)])],
        ["trailing root1", () => verifyConsistency(m, n, r1, r2, [...p, r1])],
        ["trailing root2", () => verifyConsistency(m, n, r1, r2, [...p, r2])],
        ["preceding garbage", () => verifyConsistency(m, n, r1, r2, [new Uint8Array(0), ...p])],
        ["preceding root1", () => verifyConsistency(m, n, r1, r2, [r1, ...p])],
        ["preceding root2", () => verifyConsistency(m, n, r1, r2, [r2, ...p])],
        ["preceding proof[0]", () => verifyConsistency(m, n, r1, r2, [p[0]!, ...p])],
        ["truncated proof", () => verifyConsistency(m, n, r1, r2, p.slice(0, -1))],
        ...p.map((_, k): [string, () => void] => [`proof[${k}] bit 4`, () => verifyConsistency(m, n, r1, r2, flipBit(p, k, 0, 4))]),
      ];
      for (const [what, probe] of probes) {
        expect(outcome(probe), `${m}->${n}: ${what}`).toMatch(/^(CONSISTENCY_PROOF_INVALID|INDEX_OUT_OF_RANGE)$/);
      }
    }
  });

  it("verifies real proofs from a Certificate Transparency log of ~962M entries", () => {
    const ct = vectors.ctLog;
    const leaf = leafHash(fromBase64(ct.leafInput));
    const root = fromBase64(ct.root, 32);
    const path = ct.auditPath.map((h) => fromBase64(h, 32));
    verifyInclusion(leaf, ct.leafIndex, ct.treeSize, path, root);
    expect(outcome(() => verifyInclusion(leaf, ct.leafIndex + 1, ct.treeSize, path, root))).toBe("INCLUSION_PROOF_INVALID");
    expect(outcome(() => verifyInclusion(leaf, ct.leafIndex, ct.treeSize, flipBit(path, 29, 31, 7), root))).toBe(
      "INCLUSION_PROOF_INVALID",
    );
    const cons = ct.consistency.map((h) => fromBase64(h, 32));
    verifyConsistency(ct.oldSize, ct.treeSize, fromBase64(ct.oldRoot, 32), root, cons);
    expect(outcome(() => verifyConsistency(ct.oldSize + 1, ct.treeSize, fromBase64(ct.oldRoot), root, cons))).toBe(
      "CONSISTENCY_PROOF_INVALID",
    );
    expect(outcome(() => verifyConsistency(ct.oldSize, ct.treeSize, fromBase64(ct.oldRoot), root, cons.slice(1)))).toBe(
      "CONSISTENCY_PROOF_INVALID",
    );
  });
});

function flat(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}

function unflat(buf: Uint8Array): Uint8Array[] {
  return Array.from({ length: buf.length / 32 }, (_, i) => buf.slice(i * 32, i * 32 + 32));
}

describe("hashing", () => {
  it("prefixes leaves with 0x00 and nodes with 0x01 (RFC 9162 §2.1.1)", () => {
    const data = utf8("cairn");
    expect(leafHash(data)).toEqual(sha256(new Uint8Array([0, ...data])));
    const a = LEAVES[0]!;
    const b = LEAVES[1]!;
    expect(nodeHash(a, b)).toEqual(sha256(new Uint8Array([1, ...a, ...b])));
    expect(nodeHash(a, b)).not.toEqual(nodeHash(b, a));
  });

  it("returns fresh arrays (the shared scratch state never leaks)", () => {
    const x = nodeHash(LEAVES[0]!, LEAVES[1]!);
    const y = nodeHash(LEAVES[2]!, LEAVES[3]!);
    expect(x).toEqual(sha256(new Uint8Array([1, ...LEAVES[0]!, ...LEAVES[1]!])));
    expect(x).not.toEqual(y);
    const empty = merkleRoot([]);
    empty[0] = 0;
    expect(toHex(EMPTY_ROOT)).toBe(vectors.roots[0]);
    const one = merkleRoot([LEAVES[0]!]);
    expect(one).toEqual(LEAVES[0]);
    expect(one).not.toBe(LEAVES[0]);
  });

  it("rejects hashes that are not 32 bytes", () => {
    expect(outcome(() => nodeHash(new Uint8Array(31), ZERO))).toBe("BAD_PROOF");
    expect(outcome(() => nodeHash(ZERO, new Uint8Array(33)))).toBe("BAD_PROOF");
    expect(outcome(() => merkleRoot([ZERO, new Uint8Array(31)]))).toBe("BAD_PROOF");
    expect(outcome(() => inclusionProof([ZERO, new Uint8Array(0)], 0))).toBe("BAD_PROOF");
    expect(outcome(() => consistencyProof([ZERO, new Uint8Array(64)], 1))).toBe("BAD_PROOF");
    expect(outcome(() => treeLevels(new Uint8Array(33)))).toBe("BAD_PROOF");
    expect(outcome(() => rootFromLevels([new Uint8Array(31)], 0))).toBe("BAD_PROOF");
  });
});

describe("exhaustive small trees", () => {
  it(`merkleRoot, treeLevels and rootFromLevels agree with the RFC definition for sizes 0..${LEAVES.length}`, () => {
    const levels = treeLevels(flat(LEAVES));
    for (let n = 0; n <= LEAVES.length; n++) {
      expect(merkleRoot(LEAVES.slice(0, n)), `size ${n}`).toEqual(ROOTS[n]);
      expect(rootFromLevels(levels, n), `size ${n} from levels`).toEqual(ROOTS[n]);
      expect(rootFromLevels(treeLevels(flat(LEAVES.slice(0, n))), n), `size ${n} from own levels`).toEqual(ROOTS[n]);
    }
  });

  it("treeLevels holds every complete subtree and nothing else", () => {
    for (let n = 0; n <= LEAVES.length; n++) {
      const input = flat(LEAVES.slice(0, n));
      const levels = treeLevels(input);
      expect(levels[0]).toBe(input);
      expect(levels.length).toBe(n <= 1 ? 1 : Math.floor(Math.log2(n)) + 1);
      levels.forEach((level, k) => {
        const w = 2 ** k;
        expect(level.length).toBe(Math.floor(n / w) * 32);
        unflat(level).forEach((h, i) => expect(h).toEqual(refRoot(LEAVES.slice(i * w, (i + 1) * w))));
      });
    }
  });

  it(`inclusion proofs for every index of every size 1..${MAX} equal PATH and verify`, () => {
    let count = 0;
    for (let n = 1; n <= MAX; n++) {
      const tree = LEAVES.slice(0, n);
      for (let i = 0; i < n; i++) {
        const p = inclusionProof(tree, i);
        expect(p, `${i}/${n}`).toEqual(refPath(i, tree));
        verifyInclusion(tree[i]!, i, n, p, ROOTS[n]!);
        expect(rootFromInclusionProof(tree[i]!, i, n, p)).toEqual(ROOTS[n]);
        count++;
      }
    }
    expect(count).toBe((MAX * (MAX + 1)) / 2);
  });

  it(`consistency proofs for every 0 <= m <= n <= ${MAX} equal PROOF and verify`, () => {
    let count = 0;
    for (let n = 0; n <= MAX; n++) {
      const tree = LEAVES.slice(0, n);
      for (let m = 0; m <= n; m++) {
        const p = consistencyProof(tree, m);
        expect(p, `${m}->${n}`).toEqual(m === n ? [] : refProof(m, tree));
        verifyConsistency(m, n, ROOTS[m]!, ROOTS[n]!, p);
        count++;
      }
    }
    expect(count).toBe(((MAX + 1) * (MAX + 2)) / 2);
  });

  it(`inclusion: every corrupted proof, index, size, leaf and root is rejected, sizes 1..${MAX}`, () => {
    const bad: string[] = [];
    let probes = 0;
    const expectCode = (what: string, code: string, fn: () => void) => {
      probes++;
      const got = outcome(fn);
      if (got !== code) bad.push(`${what}: ${got}`);
    };
    for (let n = 1; n <= MAX; n++) {
      const tree = LEAVES.slice(0, n);
      const root = ROOTS[n]!;
      for (let i = 0; i < n; i++) {
        const leaf = tree[i]!;
        const p = inclusionProof(tree, i);
        const at = `${i}/${n}`;
        const invalid = (what: string, fn: () => void) => expectCode(`${at} ${what}`, "INCLUSION_PROOF_INVALID", fn);
        // Every bit of every proof hash up to 8 leaves, one bit of every byte
        // up to 32, three bytes beyond (kept under a few seconds on 2 cores).
        for (let k = 0; k < p.length; k++) {
          for (const byte of n <= 32 ? ALL_BYTES : [0, 13 + k, 31]) {
            for (const bit of n <= 8 ? ALL_BITS : [byte % 8]) invalid(`proof[${k}] byte ${byte} bit ${bit}`, () => verifyInclusion(leaf, i, n, flipBit(p, k, byte, bit), root));
          }
          invalid(`proof[${k}] 31 bytes`, () => verifyInclusion(leaf, i, n, p.map((h, j) => (j === k ? h.subarray(1) : h)), root));
          invalid(`proof[${k}] 33 bytes`, () => verifyInclusion(leaf, i, n, p.map((h, j) => (j === k ? new Uint8Array([...h, 0]) : h)), root));
          invalid(`without proof[${k}]`, () => verifyInclusion(leaf, i, n, p.filter((_, j) => j !== k), root));
          if (k > 0 && !bytesEqual(p[k]!, p[k - 1]!)) {
            invalid(`swapped ${k - 1},${k}`, () => verifyInclusion(leaf, i, n, p.map((h, j) => (j === k ? p[k - 1]! : j === k - 1 ? p[k]! : h)), root));
          }
        }
        if (p.length > 0) invalid("truncated", () => verifyInclusion(leaf, i, n, p.slice(0, -1), root));
        invalid("extended by zeros", () => verifyInclusion(leaf, i, n, [...p, ZERO], root));
        invalid("extended by root", () => verifyInclusion(leaf, i, n, [...p, root], root));
        invalid("extended by a leaf", () => verifyInclusion(leaf, i, n, [...p, LEAVES[n]!], root));
        invalid("prefixed by root", () => verifyInclusion(leaf, i, n, [root, ...p], root));
        invalid("prefixed by leaf", () => verifyInclusion(leaf, i, n, [leaf, ...p], root));
        // Every other index and size up to 32 leaves, the nearby ones beyond;
        // a wrong size comes with that size's own root, the one a forger must hit.
        for (const j of n <= 32 ? range(0, n) : near(i, 0, n - 1)) {
          if (j !== i) invalid(`index ${j}`, () => verifyInclusion(leaf, j, n, p, root));
        }
        for (const s of n <= 32 ? range(i + 1, LEAVES.length + 1) : near(n, i + 1, LEAVES.length)) {
          if (s !== n) invalid(`size ${s}`, () => verifyInclusion(leaf, i, s, p, ROOTS[s]!));
        }
        invalid("flipped leaf", () => verifyInclusion(flip(leaf, 31, 7), i, n, p, root));
        invalid("other leaf", () => verifyInclusion(LEAVES[n]!, i, n, p, root));
        invalid("short leaf", () => verifyInclusion(leaf.subarray(0, 31), i, n, p, root));
        invalid("flipped root", () => verifyInclusion(leaf, i, n, p, flip(root, 17, 2)));
        invalid("previous root", () => verifyInclusion(leaf, i, n, p, ROOTS[n - 1]!));
        invalid("empty root", () => verifyInclusion(leaf, i, n, p, EMPTY_ROOT));
        invalid("long root", () => verifyInclusion(leaf, i, n, p, new Uint8Array([...root, 0])));
        expectCode(`${at} index = size`, "INDEX_OUT_OF_RANGE", () => verifyInclusion(leaf, n, n, p, root));
        expectCode(`${at} index > size`, "INDEX_OUT_OF_RANGE", () => verifyInclusion(leaf, n + i + 1, n, p, root));
        expectCode(`${at} index -1`, "INDEX_OUT_OF_RANGE", () => verifyInclusion(leaf, -1, n, p, root));
        expectCode(`${at} index 0.5`, "INDEX_OUT_OF_RANGE", () => verifyInclusion(leaf, i + 0.5, n, p, root));
        expectCode(`${at} size 0`, "INDEX_OUT_OF_RANGE", () => verifyInclusion(leaf, i, 0, p, root));
      }
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(probes).toBeGreaterThan(150_000);
  });

  it(`consistency: every corrupted proof, size and root is rejected, sizes up to ${MAX}`, () => {
    const bad: string[] = [];
    let probes = 0;
    const expectCode = (what: string, code: string, fn: () => void) => {
      probes++;
      const got = outcome(fn);
      if (got !== code) bad.push(`${what}: ${got}`);
    };
    for (let n = 1; n <= MAX; n++) {
      const tree = LEAVES.slice(0, n);
      const r2 = ROOTS[n]!;
      for (let m = 0; m <= n; m++) {
        const r1 = ROOTS[m]!;
        const p = consistencyProof(tree, m);
        const at = `${m}->${n}`;
        const invalid = (what: string, fn: () => void) => expectCode(`${at} ${what}`, "CONSISTENCY_PROOF_INVALID", fn);
        for (let k = 0; k < p.length; k++) {
          // Every bit up to 8 leaves, one bit of every byte up to 24, three bytes beyond.
          for (const byte of n <= 24 ? ALL_BYTES : [0, 13 + k, 31]) {
            for (const bit of n <= 8 ? ALL_BITS : [byte % 8]) invalid(`proof[${k}] byte ${byte} bit ${bit}`, () => verifyConsistency(m, n, r1, r2, flipBit(p, k, byte, bit)));
          }
          invalid(`proof[${k}] 31 bytes`, () => verifyConsistency(m, n, r1, r2, p.map((h, j) => (j === k ? h.subarray(1) : h))));
          invalid(`without proof[${k}]`, () => verifyConsistency(m, n, r1, r2, p.filter((_, j) => j !== k)));
          if (k > 0 && !bytesEqual(p[k]!, p[k - 1]!)) {
            invalid(`swapped ${k - 1},${k}`, () => verifyConsistency(m, n, r1, r2, p.map((h, j) => (j === k ? p[k - 1]! : j === k - 1 ? p[k]! : h))));
          }
        }
        invalid("extended by zeros", () => verifyConsistency(m, n, r1, r2, [...p, ZERO]));
        invalid("extended by old root", () => verifyConsistency(m, n, r1, r2, [...p, r1]));
        invalid("extended by new root", () => verifyConsistency(m, n, r1, r2, [...p, r2]));
        invalid("prefixed by old root", () => verifyConsistency(m, n, r1, r2, [r1, ...p]));
        invalid("prefixed by new root", () => verifyConsistency(m, n, r1, r2, [r2, ...p]));
        if (p.length > 0) {
          invalid("empty", () => verifyConsistency(m, n, r1, r2, []));
          invalid("truncated", () => verifyConsistency(m, n, r1, r2, p.slice(0, -1)));
          invalid("first repeated", () => verifyConsistency(m, n, r1, r2, [p[0]!, ...p]));
        }
        // Another size, with that size's own root: the proof must not fit it
        // (except that the empty proof rightly fits every pair m = 0 or m = n).
        for (const m2 of n <= 32 ? range(0, n + 1) : near(m, 0, n)) {
          if (m2 === m || (p.length === 0 && (m2 === 0 || m2 === n))) continue;
          invalid(`old size ${m2}`, () => verifyConsistency(m2, n, ROOTS[m2]!, r2, p));
        }
        for (const n2 of n <= 32 ? range(m, LEAVES.length + 1) : near(n, m, LEAVES.length)) {
          if (n2 !== n && m > 0) invalid(`new size ${n2}`, () => verifyConsistency(m, n2, r1, ROOTS[n2]!, p));
        }
        invalid("flipped old root", () => verifyConsistency(m, n, flip(r1, 5, 5), r2, p));
        invalid("short old root", () => verifyConsistency(m, n, r1.subarray(0, 31), r2, p));
        invalid("long new root", () => verifyConsistency(m, n, r1, new Uint8Array([...r2, 0]), p));
        // A proof from the empty tree says nothing about the new root.
        if (m !== n && m !== 0) {
          invalid("flipped new root", () => verifyConsistency(m, n, r1, flip(r2, 30, 6), p));
          invalid("swapped roots", () => verifyConsistency(m, n, r2, r1, p));
        }
        expectCode(`${at} reversed`, m === n ? "ok" : "INDEX_OUT_OF_RANGE", () => verifyConsistency(n, m, r2, r1, p));
        expectCode(`${at} old size -1`, "INDEX_OUT_OF_RANGE", () => verifyConsistency(-1, n, r1, r2, p));
        expectCode(`${at} new size 1.5`, "INDEX_OUT_OF_RANGE", () => verifyConsistency(m, n + 0.5, r1, r2, p));
      }
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(probes).toBeGreaterThan(150_000);
  });

  it("handles the empty tree and equal sizes as RFC 9162 §2.1.4 says", () => {
    const r = ROOTS[5]!;
    verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []);
    verifyConsistency(0, 5, EMPTY_ROOT, r, []);
    verifyConsistency(5, 5, r, r, []);
    expect(outcome(() => verifyConsistency(0, 5, EMPTY_ROOT, r, [r]))).toBe("CONSISTENCY_PROOF_INVALID");
    expect(outcome(() => verifyConsistency(0, 5, r, r, []))).toBe("CONSISTENCY_PROOF_INVALID");
    expect(outcome(() => verifyConsistency(0, 0, EMPTY_ROOT, r, []))).toBe("CONSISTENCY_PROOF_INVALID");
    expect(outcome(() => verifyConsistency(5, 5, r, ROOTS[4]!, []))).toBe("CONSISTENCY_PROOF_INVALID");
    expect(outcome(() => verifyConsistency(5, 5, r, r, [r]))).toBe("CONSISTENCY_PROOF_INVALID");
    expect(outcome(() => verifyConsistency(5, 4, r, ROOTS[4]!, []))).toBe("INDEX_OUT_OF_RANGE");
    expect(consistencyProof(LEAVES.slice(0, 5), 0)).toEqual([]);
    expect(consistencyProof(LEAVES.slice(0, 5), 5)).toEqual([]);
    expect(consistencyProof([], 0)).toEqual([]);
    expect(outcome(() => consistencyProof(LEAVES.slice(0, 5), 6))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => consistencyProof(LEAVES.slice(0, 5), -1))).toBe("INDEX_OUT_OF_RANGE");
  });

  it("rejects out-of-range indexes when proving", () => {
    expect(outcome(() => inclusionProof([], 0))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => inclusionProof(LEAVES.slice(0, 3), 3))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => inclusionProof(LEAVES.slice(0, 3), -1))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => inclusionProof(LEAVES.slice(0, 3), 1.5))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => rootFromLevels(treeLevels(flat(LEAVES.slice(0, 3))), 4))).toBe("INDEX_OUT_OF_RANGE");
    expect(outcome(() => rootFromLevels([flat(LEAVES.slice(0, 3))], 3))).toBe("BAD_PROOF");
    expect(outcome(() => rootFromLevels([], 0))).toBe("BAD_PROOF");
  });
});

describe("trees too big to build", () => {
  // With every leaf equal, every complete subtree of 2^k leaves has the same
  // hash, so trees of any size can be proved without building them. That
  // checks the index arithmetic well past 32 bits.
  const level = [LEAVES[0]!];
  for (let k = 1; k <= 53; k++) level.push(nodeHash(level[k - 1]!, level[k - 1]!));

  function rootOf(size: number): Uint8Array {
    // MTH of the first `size` equal leaves: join the perfect subtrees per set bit.
    const parts: Uint8Array[] = [];
    for (let k = 53; k >= 0; k--) if (Math.floor(size / 2 ** k) % 2 === 1) parts.push(level[k]!);
    return parts.reduceRight((acc, h) => nodeHash(h, acc));
  }

  function pathOf(index: number, size: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let lo = 0;
    let hi = size;
    while (hi - lo > 1) {
      const k = split(hi - lo);
      if (index < lo + k) {
        out.push(rootOf(hi - lo - k));
        hi = lo + k;
      } else {
        out.push(level[Math.log2(k)]!);
        lo += k;
      }
    }
    return out.reverse();
  }

  it("verifies inclusion in trees of up to 2^53 - 1 leaves", () => {
    const sizes = [2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
    for (const size of sizes) {
      for (const index of [0, 1, 2 ** 31, size - 2, size - 1, Math.floor(size / 3)]) {
        const p = pathOf(index, size);
        verifyInclusion(LEAVES[0]!, index, size, p, rootOf(size));
        expect(outcome(() => verifyInclusion(LEAVES[0]!, index, size, p.slice(1), rootOf(size)))).toBe("INCLUSION_PROOF_INVALID");
        expect(outcome(() => verifyInclusion(LEAVES[0]!, index, size, [...p, ZERO], rootOf(size)))).toBe("INCLUSION_PROOF_INVALID");
      }
      expect(outcome(() => verifyInclusion(LEAVES[0]!, size, size, [], rootOf(size)))).toBe("INDEX_OUT_OF_RANGE");
    }
    expect(outcome(() => verifyInclusion(LEAVES[0]!, 0, 2 ** 53, [], ZERO))).toBe("INDEX_OUT_OF_RANGE");
  });
});

describe("properties (fast-check)", () => {
  const tree = (max: number) =>
    fc
      .array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: max })
      .map((data) => data.map(leafHash));

  it("inclusion proofs round-trip", () => {
    fc.assert(
      fc.property(tree(300), fc.nat(), (leaves, seed) => {
        const i = seed % leaves.length;
        const root = merkleRoot(leaves);
        const p = inclusionProof(leaves, i);
        verifyInclusion(leaves[i]!, i, leaves.length, p, root);
        expect(rootFromInclusionProof(leaves[i]!, i, leaves.length, p)).toEqual(root);
        expect(p.length).toBeLessThanOrEqual(Math.ceil(Math.log2(leaves.length)));
      }),
      { numRuns: 150 },
    );
  });

  it("consistency proofs round-trip", () => {
    fc.assert(
      fc.property(tree(300), fc.nat(), (leaves, seed) => {
        const m = seed % (leaves.length + 1);
        const p = consistencyProof(leaves, m);
        verifyConsistency(m, leaves.length, merkleRoot(leaves.slice(0, m)), merkleRoot(leaves), p);
      }),
      { numRuns: 150 },
    );
  });

  it("treeLevels + rootFromLevels equal merkleRoot for every prefix", () => {
    fc.assert(
      fc.property(tree(200), fc.nat(), (leaves, seed) => {
        const levels = treeLevels(flat(leaves));
        const size = seed % (leaves.length + 1);
        expect(rootFromLevels(levels, size)).toEqual(merkleRoot(leaves.slice(0, size)));
        expect(rootFromLevels(levels, leaves.length)).toEqual(merkleRoot(leaves));
      }),
      { numRuns: 150 },
    );
  });

  it("a proof never verifies for another leaf", () => {
    fc.assert(
      fc.property(tree(100), fc.nat(), fc.nat(), (leaves, a, b) => {
        const i = a % leaves.length;
        const j = b % leaves.length;
        fc.pre(!bytesEqual(leaves[i]!, leaves[j]!));
        const p = inclusionProof(leaves, i);
        expect(outcome(() => verifyInclusion(leaves[j]!, i, leaves.length, p, merkleRoot(leaves)))).toBe("INCLUSION_PROOF_INVALID");
      }),
      { numRuns: 100 },
    );
  });
});
