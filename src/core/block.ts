/**
 * Block headers and the hash chain they form (FORMATS.md §6).
 *
 *   cairn/block/v1
 *   <origin>
 *   <height, from 0>
 *   <previous block hash: 64 lowercase hex; 64 zeros for block 0>
 *   <number of entries>
 *   <batch root: base64>
 *   <sealed at: unix seconds>
 *
 * The block hash is the RFC 6962 leaf hash of the header bytes, which is also
 * the header's leaf in the history tree: one hash serves the chain and the tree.
 */
import { fromBase64, fromHex, parseDecimal, toBase64, toHex, utf8 } from "./bytes.js";
import { CairnError, check, withCode } from "./errors.js";
import { formatLines, splitLines } from "./lines.js";
import { leafHash } from "./merkle.js";

export const BLOCK_HEADER = "cairn/block/v1";
export const ZERO_HASH_HEX = "0".repeat(64);

export interface BlockHeader {
  readonly origin: string;
  readonly height: number;
  /** 32 bytes; all zeros for block 0. */
  readonly prevHash: Uint8Array;
  /** Number of entries, at least 1: no pending entries, no block. */
  readonly size: number;
  /** Root of the batch tree of the entries. */
  readonly root: Uint8Array;
  readonly sealedAt: number;
}

export function formatBlockHeader(h: BlockHeader): string {
  check(h.prevHash.length === 32 && h.root.length === 32, "BAD_BLOCK", "block hashes must be 32 bytes");
  check(h.size >= 1, "BAD_BLOCK", "a block has at least one entry");
  return formatLines([
    BLOCK_HEADER,
    h.origin,
    String(h.height),
    toHex(h.prevHash),
    String(h.size),
    toBase64(h.root),
    String(h.sealedAt),
  ]);
}

export function parseBlockHeader(text: string): BlockHeader {
  const lines = splitLines(text, "BAD_BLOCK", "block header");
  check(lines.length === 7, "BAD_BLOCK", "block header must have 7 lines");
  const [header, origin, height, prev, size, root, sealedAt] = lines as [string, string, string, string, string, string, string];
  check(header === BLOCK_HEADER, "BAD_BLOCK", `block header must start with "${BLOCK_HEADER}"`);
  const decimal = (v: string, what: string) => withCode("BAD_BLOCK", `${what} must be a canonical decimal`, () => parseDecimal(v));
  const h: BlockHeader = {
    origin,
    height: decimal(height, "height"),
    prevHash: withCode("BAD_BLOCK", "previous hash must be 64 lowercase hex digits", () => fromHex(prev, 32)),
    size: decimal(size, "number of entries"),
    root: withCode("BAD_BLOCK", "batch root must be canonical base64 of 32 bytes", () => fromBase64(root, 32)),
    sealedAt: decimal(sealedAt, "sealed-at"),
  };
  check(h.size >= 1, "BAD_BLOCK", "a block has at least one entry");
  check(h.height > 0 || h.prevHash.every((b) => b === 0), "BAD_BLOCK", "block 0 must have an all-zero previous hash");
  return h;
}

/** The block hash: RFC 6962 leaf hash of the header text's bytes. */
export function blockHash(headerText: string): Uint8Array {
  return leafHash(utf8(headerText));
}

/**
 * Checks that `next` follows `prev` in the chain: same origin, height + 1,
 * previous-hash link, and time not running backwards. Throws CHAIN_BROKEN.
 */
export function checkChainLink(prevText: string, nextText: string): void {
  const prev = parseBlockHeader(prevText);
  const next = parseBlockHeader(nextText);
  const fail = (why: string) => {
    throw new CairnError("CHAIN_BROKEN", `block ${next.height} does not follow block ${prev.height}: ${why}`);
  };
  if (next.origin !== prev.origin) fail("origin differs");
  if (next.height !== prev.height + 1) fail("height is not consecutive");
  if (toHex(next.prevHash) !== toHex(blockHash(prevText))) fail("previous-hash link does not match");
  if (next.sealedAt < prev.sealedAt) fail("sealed before its predecessor");
}
