/**
 * core's SHA-256 with node:crypto installed as its native hash (what every
 * Node process of Cairn runs) against @noble/hashes (what browsers and
 * workerd run): the RFC 6962 vectors under both, and the probe that keeps a
 * wrong native hash out.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { afterAll, describe, expect, it } from "vitest";
import vectors from "../vectors/rfc6962.json" with { type: "json" };
import { fromHex, toHex } from "../../src/core/bytes.js";
import { installNativeSha256, sha256, sha256Into } from "../../src/core/hash.js";
import { leafHash, merkleRoot, rootFromLevels, treeLevels } from "../../src/core/merkle.js";
import { installNodeSha256 } from "../../src/runtime/node-sha256.js";

// A native hash that fails the probe leaves noble in place: the way back after each test.
const useNoble = () => expect(installNativeSha256(() => new Uint8Array(32))).toBe(false);
afterAll(useNoble);

const backends = [
  ["@noble/hashes", useNoble],
  ["node:crypto", () => expect(installNodeSha256()).toBe(true)],
] as const;

describe.each(backends)("with %s", (_name, use) => {
  it("RFC 6962's leaf hashes, every level and every root of sizes 0..8", () => {
    use();
    const leaves = vectors.leaves.map((h) => leafHash(fromHex(h)));
    expect(leaves.map(toHex)).toEqual(vectors.nodeHashes[0]);
    const flat = new Uint8Array(leaves.length * 32);
    leaves.forEach((l, i) => flat.set(l, i * 32));
    const levels = treeLevels(flat);
    expect(levels.map((l) => Array.from({ length: l.length / 32 }, (_, i) => toHex(l.subarray(i * 32, i * 32 + 32))))).toEqual(vectors.nodeHashes);
    for (let n = 0; n <= 8; n++) {
      expect(toHex(merkleRoot(leaves.slice(0, n))), `size ${n}`).toBe(vectors.roots[n]);
      if (n > 0) expect(toHex(rootFromLevels(levels, n)), `size ${n} from levels`).toBe(vectors.roots[n]);
    }
  });

  it("FIPS 180-2's one-block and two-block messages, as values and written in place", () => {
    use();
    const abc = new TextEncoder().encode("abc");
    const two = new TextEncoder().encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    expect(toHex(sha256(abc))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(sha256(two))).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const out = new Uint8Array(40).fill(7);
    sha256Into(abc, out.subarray(4, 36));
    expect(toHex(out.subarray(4, 36))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect([...out.subarray(0, 4), ...out.subarray(36)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
  });

  it("gives noble's answer for every length up to four blocks, and a plain Uint8Array", () => {
    use();
    for (let n = 0; n <= 256; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
      const got = sha256(data);
      expect(got.constructor, `length ${n}`).toBe(Uint8Array);
      expect(toHex(got), `length ${n}`).toBe(toHex(nobleSha256(data)));
    }
  });
});

describe("the probe", () => {
  it("refuses a native hash that is wrong at one padding edge, short, or throwing, and noble answers meanwhile", () => {
    const wrongAt56: (d: Uint8Array) => Uint8Array = (d) => (d.length === 56 ? nobleSha256(new Uint8Array(56)) : nobleSha256(d));
    expect(installNativeSha256(wrongAt56)).toBe(false);
    expect(installNativeSha256((d) => nobleSha256(d).subarray(0, 31))).toBe(false);
    expect(
      installNativeSha256(() => {
        throw new Error("no SHA-256 here");
      }),
    ).toBe(false);
    const data = new Uint8Array(56).fill(1);
    expect(toHex(sha256(data))).toBe(toHex(nobleSha256(data)));
  });
});
