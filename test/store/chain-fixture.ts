/**
 * Builds small but real BlockWrites for the store tests: entries with real
 * ids, batch-tree levels from core treeLevels, headers from core block.ts,
 * and the history-tree hashes each block creates, recomputed here from all
 * headers so far (independently of the store's own index math).
 */
import { formatBlockHeader, blockHash } from "../../src/core/block.js";
import { concatBytes, toHex, utf8 } from "../../src/core/bytes.js";
import { sha256 } from "../../src/core/hash.js";
import { leafHash, merkleRoot, treeLevels } from "../../src/core/merkle.js";
import type { NodeRef } from "../../src/core/tlog.js";
import type { BlockWrite, NewPending } from "../../src/store/types.js";

export const ORIGIN = "cairn.test/log";
export const ZEROS = "0".repeat(64);

/** A pending entry; `tag` makes it unique, `digestOf` lets tests share a digest. */
export function makePending(tag: string, options: { digestOf?: string; receivedAt?: number; size?: number } = {}): NewPending {
  const digest = toHex(sha256(utf8(options.digestOf ?? tag)));
  const padding = "x".repeat(Math.max(0, (options.size ?? 0) - 200));
  const entry = `cairn/submission/v1\n${ORIGIN}\n${digest}\n1700000000\n${padding}\n\n— alice ${tag}\n`;
  return {
    id: toHex(leafHash(utf8(entry))),
    entry,
    digest,
    client: "alice",
    receivedAt: options.receivedAt ?? 1_700_000_000,
    promise: `cairn/promise/v1\n${ORIGIN}\n${tag}\n`,
  };
}

export function makeEntries(prefix: string, n: number, options: { size?: number } = {}): NewPending[] {
  return Array.from({ length: n }, (_, i) => makePending(`${prefix}-${i}`, options));
}

/** Grows a chain one BlockWrite at a time, tracking the history tree. */
export class ChainBuilder {
  readonly writes: BlockWrite[] = [];
  readonly #headerHashes: Uint8Array[] = [];

  get headHash(): string {
    const last = this.writes.at(-1);
    return last ? last.block.hash : ZEROS;
  }

  /** The next block over `entries`, without recording it (for conflict tests). */
  peek(entries: readonly NewPending[], overrides: { height?: number; prevHash?: string; sealedAt?: number } = {}): BlockWrite {
    const height = overrides.height ?? this.writes.length;
    const prevHash = overrides.prevHash ?? this.headHash;
    const leaves = concatBytes(...entries.map((e) => leafHash(utf8(e.entry))));
    const batchLevels = treeLevels(leaves);
    const header = formatBlockHeader({
      origin: ORIGIN,
      height,
      prevHash: hexBytes(prevHash),
      size: entries.length,
      root: merkleRoot(entries.map((e) => leafHash(utf8(e.entry)))),
      sealedAt: overrides.sealedAt ?? 1_700_000_100 + height,
    });
    const hash = blockHash(header);
    return {
      block: { height, hash: toHex(hash), prevHash, header, size: entries.length, sealedAt: overrides.sealedAt ?? 1_700_000_100 + height },
      entries: entries.map(({ id, entry, digest, client, receivedAt, promise }) => ({ id, entry, digest, client, receivedAt, promise })),
      batchLevels,
      historyHashes: historyCreated([...this.#headerHashes.slice(0, height), hash]),
    };
  }

  /** The next block, recorded as appended. */
  next(entries: readonly NewPending[]): BlockWrite {
    const write = this.peek(entries);
    this.writes.push(write);
    this.#headerHashes.push(hexBytes(write.block.hash));
    return write;
  }

  /** Every complete-subtree hash of the history tree so far, with its ref. */
  allHistoryHashes(): { ref: NodeRef; hash: Uint8Array }[] {
    const levels = treeLevels(concatBytes(...this.#headerHashes));
    return levels.flatMap((flat, level) =>
      Array.from({ length: flat.length / 32 }, (_, index) => ({ ref: { level, index }, hash: flat.slice(index * 32, index * 32 + 32) })),
    );
  }
}

/**
 * A log as the code before migration 0004 left it, for the migration's
 * tests: a block of three submissions and a chain record (empty digest),
 * and two submissions still pending. Write it through today's store, then
 * run HEX_TEXT_AS_BEFORE_0004 to turn the ids and digests back into the hex
 * text the old code stored.
 */
export function logBefore0004(): { write: BlockWrite; sealed: NewPending[]; queued: NewPending[] } {
  const sealed = [...makeEntries("old", 3), { ...makePending("a record"), digest: "", promise: "" }];
  return { write: new ChainBuilder().next(sealed), sealed, queued: makeEntries("queued", 2) };
}

export const HEX_TEXT_AS_BEFORE_0004 = ["entries", "pending"].map((table) => `UPDATE ${table} SET id = lower(hex(id)), digest = lower(hex(digest))`);

/** The subtrees whose last leaf is the newest one: recomputed by brute force over the levels. */
function historyCreated(leafHashes: readonly Uint8Array[]): { ref: NodeRef; hash: Uint8Array }[] {
  const levels = treeLevels(concatBytes(...leafHashes));
  const n = leafHashes.length;
  const out: { ref: NodeRef; hash: Uint8Array }[] = [];
  levels.forEach((flat, level) => {
    const width = 2 ** level;
    if (n % width !== 0) return;
    const index = n / width - 1;
    out.push({ ref: { level, index }, hash: flat.slice(index * 32, index * 32 + 32) });
  });
  return out;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Every NodeRef of a batch tree with `n` leaves, as treeLevels lays it out. */
export function allBatchRefs(n: number): NodeRef[] {
  const refs: NodeRef[] = [];
  for (let level = 0, count = n; count >= 1; level++, count = Math.floor(count / 2)) {
    for (let index = 0; index < count; index++) refs.push({ level, index });
    if (count === 1) break;
  }
  return refs;
}

export function hashAt(levels: readonly Uint8Array[], ref: NodeRef): Uint8Array {
  const flat = levels[ref.level]!;
  return flat.slice(ref.index * 32, ref.index * 32 + 32);
}
