/**
 * Pure index math for how tree hashes are laid out in the database.
 *
 * Batch trees are stored as tiles: row (height, level, tile) holds up to
 * TILE_WIDTH consecutive 32-byte hashes of one level, tile = index >> 8, the
 * layout of C2SP tlog-tiles. History-tree hashes are stored one per row.
 * Nothing here touches the database, so the layout can be tested alone.
 */
import type { NodeRef } from "../core/tlog.js";

export const HASH_BYTES = 32;
export const TILE_BITS = 8;
export const TILE_WIDTH = 1 << TILE_BITS;
const TILE_BYTES = TILE_WIDTH * HASH_BYTES;

export interface Tile {
  readonly level: number;
  readonly tile: number;
  readonly hashes: Uint8Array;
}

/**
 * Cuts each flat level into tiles. An empty level still gets one empty tile,
 * so reading the tiles back reproduces the exact list of levels.
 */
export function levelsToTiles(levels: readonly Uint8Array[]): Tile[] {
  const tiles: Tile[] = [];
  levels.forEach((flat, level) => {
    if (flat.length % HASH_BYTES !== 0) {
      throw new Error(`batch level ${level} is ${flat.length} bytes, not a whole number of hashes`);
    }
    if (flat.length === 0) tiles.push({ level, tile: 0, hashes: flat });
    for (let offset = 0, tile = 0; offset < flat.length; offset += TILE_BYTES, tile++) {
      tiles.push({ level, tile, hashes: flat.subarray(offset, offset + TILE_BYTES) });
    }
  });
  return tiles;
}

/** Inverse of levelsToTiles; `tiles` sorted by (level, tile). */
export function tilesToLevels(tiles: readonly Tile[]): Uint8Array[] {
  const byLevel: Tile[][] = [];
  for (const t of tiles) (byLevel[t.level] ??= []).push(t);
  return Array.from(byLevel, (row, level) => {
    if (row === undefined) throw new Error(`batch level ${level} has no tiles`);
    return joinTiles(level, row);
  });
}

function joinTiles(level: number, row: readonly Tile[]): Uint8Array {
  const out = new Uint8Array(row.reduce((n, t) => n + t.hashes.length, 0));
  let offset = 0;
  row.forEach((t, i) => {
    // Every tile but the last is full; anything else means rows are missing.
    if (t.tile !== i || (i < row.length - 1 && t.hashes.length !== TILE_BYTES)) {
      throw new Error(`batch level ${level}: tiles are not contiguous at tile ${t.tile}`);
    }
    out.set(t.hashes, offset);
    offset += t.hashes.length;
  });
  return out;
}

export function describeRef(ref: NodeRef): string {
  return `(level ${ref.level}, index ${ref.index})`;
}
