/**
 * The tile layout of batch trees and the history refs a block append creates
 * (core tlog appendedRefs, which the store copies to replicas):
 * pure index math, checked by round trips and against brute force.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { treeLevels } from "../../src/core/merkle.js";
import { appendedRefs, appendHashes, appendRefs } from "../../src/core/tlog.js";
import { levelsToTiles, TILE_WIDTH, tilesToLevels } from "../../src/store/tiles.js";

function leaves(n: number): Uint8Array {
  return Uint8Array.from({ length: n * 32 }, (_, i) => (i * 7 + (i >> 5)) & 255);
}

describe("batch tiles", () => {
  it("round-trips the levels of trees of any size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1100 }), (n) => {
        const levels = treeLevels(leaves(n));
        const tiles = levelsToTiles(levels);
        // Compared as hex: deep equality of large typed arrays is slow in vitest.
        expect(tilesToLevels(tiles).map(toHex)).toEqual(levels.map(toHex));
        for (const t of tiles) expect(t.hashes.length).toBeLessThanOrEqual(TILE_WIDTH * 32);
      }),
      { numRuns: 60 },
    );
  });

  // readBatchHashes cuts hashes out of tiles in SQL by exactly this layout.
  it("puts index i of a level in tile i >> 8 at offset i & 255", () => {
    const levels = treeLevels(leaves(700));
    const tiles = levelsToTiles(levels);
    for (const index of [0, 255, 256, 511, 512, 699]) {
      const tile = tiles.find((t) => t.level === 0 && t.tile === index >> 8)!;
      const offset = (index & 255) * 32;
      expect(tile.hashes.slice(offset, offset + 32)).toEqual(levels[0]!.slice(index * 32, index * 32 + 32));
    }
    expect(tiles.find((t) => t.level === 0 && t.tile === 2)!.hashes.length).toBe((700 - 512) * 32);
  });

  it("refuses levels that are not whole hashes and tiles with holes", () => {
    expect(() => levelsToTiles([new Uint8Array(33)])).toThrow(/not a whole number of hashes/);
    const tiles = levelsToTiles(treeLevels(leaves(600)));
    expect(() => tilesToLevels(tiles.filter((t) => !(t.level === 0 && t.tile === 1)))).toThrow(/not contiguous/);
  });
});

describe("history refs created by a leaf", () => {
  it("are exactly the complete subtrees ending at that leaf", () => {
    for (let leaf = 0; leaf < 300; leaf++) {
      const expected = [];
      for (let level = 0; 2 ** level <= leaf + 1; level++) {
        const width = 2 ** level;
        if ((leaf + 1) % width === 0) expected.push({ level, index: (leaf + 1) / width - 1 });
      }
      expect(appendedRefs(leaf)).toEqual(expected);
    }
  });

  it("match the refs core tlog appendHashes creates, in the same order", () => {
    const h = new Uint8Array(32);
    for (let leaf = 0; leaf < 130; leaf++) {
      const made = appendHashes(leaf, h, appendRefs(leaf).map(() => h)).map((x) => x.ref);
      expect(appendedRefs(leaf)).toEqual(made);
    }
  });

  it("stay exact beyond 32-bit indices", () => {
    expect(appendedRefs(2 ** 40 - 1).at(-1)).toEqual({ level: 40, index: 0 });
  });
});
