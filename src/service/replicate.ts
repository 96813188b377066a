/**
 * Bringing one member's replica up to the primary's head (DESIGN.md
 * "Consortium replication").
 *
 * Before writing, the replica's own head is compared with the primary's
 * block at the same height; a replica whose copy differs (tampered, or forked
 * by someone writing to it) is reported as diverged with the two conflicting
 * headers and is not written to. A replica that is behind receives the
 * missing blocks in order, each in one atomic append; a replica that cannot
 * be reached is reported as such and retried on the next seal.
 *
 * Headers and history roots do not cover the entries' text, so each sync
 * also re-hashes a slice of the replica's entries (a rolling audit that
 * resumes where the previous sync stopped): an entry altered in a replica is
 * found within (entries in the chain / AUDIT_BUDGET) seals.
 */
import { blockHash } from "../core/block.js";
import { toHex, utf8 } from "../core/bytes.js";
import { leafHash } from "../core/merkle.js";
import { assembleTreeRoot, treeRootRefs } from "../core/tlog.js";
import type { BlockWrite, Head, ReplicaStatusRecord } from "../store/types.js";
import type { Context, Member } from "./context.js";

export interface Divergence {
  readonly height: number;
  /** The conflicting texts: headers, or entries (then `index` says which). */
  readonly primary: string | null;
  readonly replica: string | null;
  readonly index?: number;
  readonly reason: string;
}

/** Where a member's rolling audit resumes. */
export interface AuditCursor {
  height: number;
  offset: number;
}

/** Entries re-hashed per replica per sync. */
const AUDIT_BUDGET = 256;

/** Stores at most this many blocks in one sync so a long-absent replica cannot stall a seal. */
const MAX_CATCH_UP_BLOCKS = 1000;

export async function syncReplica(
  ctx: Context,
  member: Member,
  primaryHead: Head,
  /** Blocks the caller already holds in memory (the one just sealed), by height. */
  fresh: ReadonlyMap<number, BlockWrite> = new Map(),
  cursor: AuditCursor = { height: 0, offset: 0 },
): Promise<ReplicaStatusRecord> {
  const now = ctx.clock.now();
  const status = (s: Omit<ReplicaStatusRecord, "member" | "updatedAt">): ReplicaStatusRecord => ({
    member: member.name,
    updatedAt: now,
    ...s,
  });
  let head: Head;
  try {
    head = await member.store.head();
    const divergence = (await compare(ctx, member, head, primaryHead)) ?? (await auditSlice(ctx, member, head, cursor));
    if (divergence !== undefined) {
      return status({ ...head, status: "diverged", detail: divergence.reason, evidence: JSON.stringify(divergence) });
    }
    const target = Math.min(primaryHead.size, head.size + MAX_CATCH_UP_BLOCKS);
    for (let height = head.size; height < target; height++) {
      const write = fresh.get(height) ?? (await ctx.primary.readBlockWrite(height));
      if (write === undefined) throw new Error(`primary lacks block ${height} below its head`);
      const outcome = await member.store.appendBlock(write);
      if (outcome === "conflict") {
        // Someone else wrote this height meanwhile; judge what is there now.
        const theirs = await member.store.getBlock(height);
        if (theirs !== undefined && theirs.header === write.block.header && theirs.hash === write.block.hash) {
          // Another sealer (another Worker isolate, another process) stored
          // this very block first: the replica agrees with the chain.
          head = { size: height + 1, hash: write.block.hash };
          continue;
        }
        const evidence: Divergence = {
          height,
          primary: write.block.header,
          replica: theirs?.header ?? null,
          reason: `replica refused block ${height}: it holds another block at that height`,
        };
        return status({ ...(await member.store.head()), status: "diverged", detail: evidence.reason, evidence: JSON.stringify(evidence) });
      }
      head = { size: height + 1, hash: write.block.hash };
    }
  } catch (e) {
    return status({ size: -1, hash: "", status: "unreachable", detail: (e as Error).message, evidence: null });
  }
  if (head.size < primaryHead.size) {
    return status({ ...head, status: "behind", detail: `${primaryHead.size - head.size} blocks behind; catching up`, evidence: null });
  }
  return status({ ...head, status: "ok", detail: null, evidence: null });
}

/**
 * Compares the replica's head with the primary: its last block must be the
 * primary's block at that height (same header bytes, and the header must hash
 * to the hash the replica stored), its history root must be the primary's at
 * that size, and it must not be longer than the primary.
 */
async function compare(ctx: Context, member: Member, head: Head, primaryHead: Head): Promise<Divergence | undefined> {
  if (head.size === 0) return undefined;
  const top = head.size - 1;
  const [mine, theirs] = await Promise.all([ctx.primary.getBlock(Math.min(top, primaryHead.size - 1)), member.store.getBlock(top)]);
  if (head.size > primaryHead.size) {
    return {
      height: primaryHead.size,
      primary: null,
      replica: (await member.store.getBlock(primaryHead.size))?.header ?? null,
      reason: `replica holds ${head.size} blocks, more than the primary's ${primaryHead.size}`,
    };
  }
  if (theirs === undefined || mine === undefined) {
    return { height: top, primary: mine?.header ?? null, replica: theirs?.header ?? null, reason: `block ${top} is missing` };
  }
  const differs = (why: string): Divergence => ({ height: top, primary: mine.header, replica: theirs.header, reason: why });
  if (theirs.header !== mine.header) return differs(`replica's block ${top} differs from the primary's`);
  if (toHex(blockHash(theirs.header)) !== theirs.hash) return differs(`replica's block ${top} does not hash to its stored hash`);
  const refs = treeRootRefs(head.size);
  const [ours, replica] = await Promise.all([ctx.primary.readHistoryHashes(refs), member.store.readHistoryHashes(refs)]);
  if (toHex(assembleTreeRoot(head.size, ours)) !== toHex(assembleTreeRoot(head.size, replica))) {
    return differs(`replica's history tree at ${head.size} blocks differs from the primary's`);
  }
  return undefined;
}


/**
 * Re-hashes up to AUDIT_BUDGET of the replica's entries from `cursor` on:
 * each must hash to its id, and the id must be the primary's at that place.
 */
async function auditSlice(ctx: Context, member: Member, head: Head, cursor: AuditCursor): Promise<Divergence | undefined> {
  let budget = AUDIT_BUDGET;
  let blocksSeen = 0;
  while (budget > 0 && head.size > 0 && blocksSeen <= head.size) {
    if (cursor.height >= head.size) Object.assign(cursor, { height: 0, offset: 0 });
    const { height, offset } = cursor;
    const limit = Math.min(budget, 1000);
    const [theirs, ours] = await Promise.all([
      member.store.blockEntries(height, offset, limit),
      ctx.primary.blockEntries(height, offset, limit),
    ]);
    for (const [i, mine] of ours.entries()) {
      const copy = theirs[i];
      if (copy === undefined || copy.id !== mine.id || toHex(leafHash(utf8(copy.entry))) !== mine.id) {
        return {
          height,
          index: mine.index,
          primary: mine.entry,
          replica: copy?.entry ?? null,
          reason: `replica's entry ${mine.index} of block ${height} differs from the primary's`,
        };
      }
    }
    budget -= ours.length;
    if (ours.length < limit) {
      Object.assign(cursor, { height: height + 1, offset: 0 });
      blocksSeen++;
    } else {
      cursor.offset += ours.length;
    }
  }
  return undefined;
}
