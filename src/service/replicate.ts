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
 */
import { blockHash } from "../core/block.js";
import { toHex } from "../core/bytes.js";
import { assembleTreeRoot, treeRootRefs } from "../core/tlog.js";
import type { BlockWrite, Head, ReplicaStatusRecord } from "../store/types.js";
import type { Context, Member } from "./context.js";

export interface Divergence {
  readonly height: number;
  readonly primary: string | null;
  readonly replica: string | null;
  readonly reason: string;
}

/** Stores at most this many blocks in one sync so a long-absent replica cannot stall a seal. */
const MAX_CATCH_UP_BLOCKS = 1000;

export async function syncReplica(
  ctx: Context,
  member: Member,
  primaryHead: Head,
  /** Blocks the caller already holds in memory (the one just sealed), by height. */
  fresh: ReadonlyMap<number, BlockWrite> = new Map(),
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
    const divergence = await compare(ctx, member, head, primaryHead);
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

