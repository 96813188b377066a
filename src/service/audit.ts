/**
 * Auditing a chain from block 0 (what any member can do with its replica,
 * and the operator with its primary): every block is replayed through the
 * same checks a witness makes before it stores a block (core/verify-block.ts:
 * chain link, batch root, every entry's signature against the chain's own
 * client registry, times), and the store's own derived data is checked too:
 * each stored hash is its header's, each entry hashes to its id, the stored
 * batch tree and history hashes match, and the stored checkpoint's root is
 * the chain's. The first bad block is reported with the reason.
 */
import { bytesEqual, toHex } from "../core/bytes.js";
import { parseCheckpoint } from "../core/checkpoint.js";
import { ClientRegistry } from "../core/client-record.js";
import { KeySchedule } from "../core/key-record.js";
import { rootFromLevels } from "../core/merkle.js";
import { parseNote } from "../core/note.js";
import { appendHashes, appendRefs, assembleTreeRoot, refKey, treeRootRefs } from "../core/tlog.js";
import { DEFAULT_BLOCK_SKEW_SECONDS, verifyBlock, type ChainTip } from "../core/verify-block.js";
import type { ChainStore } from "../store/types.js";

export interface AuditReport {
  readonly ok: boolean;
  readonly blocks: number;
  readonly entries: number;
  /** Root of the history tree recomputed from the headers, hex. */
  readonly root: string;
  readonly firstBad?: { readonly height: number; readonly reason: string; readonly code?: string };
}

export interface AuditOptions {
  readonly origin: string;
  /** The operator's verifier keys as pinned at block 0 (the chain's key records move them on): records must be signed by one. */
  readonly operatorKeys: readonly string[];
  /** Unix seconds; blocks dated after now + skew are refused. */
  readonly now: number;
  readonly maxSkewSeconds?: number;
  readonly timeWindowSeconds?: number;
}

export async function auditChain(store: ChainStore, options: AuditOptions, onBlock: (height: number, of: number) => void = () => {}): Promise<AuditReport> {
  const head = await store.head();
  const history = new Map<string, Uint8Array>();
  let entries = 0;
  let tip: ChainTip | undefined;
  let registry = ClientRegistry.empty();
  let keys = KeySchedule.pinned(options.operatorKeys);
  const bad = (height: number, reason: string, code?: string): AuditReport => ({ ok: false, blocks: height, entries, root: "", firstBad: { height, reason, ...(code ? { code } : {}) } });

  for (let height = 0; height < head.size; height++) {
    onBlock(height, head.size);
    const write = await store.readBlockWrite(height);
    if (write === undefined) return bad(height, "block is missing");
    const { block } = write;
    let verified;
    try {
      verified = await verifyBlock(tip, block.header, write.entries.map((e) => e.entry), registry, {
        origin: options.origin,
        keys,
        now: options.now,
        maxSkewSeconds: options.maxSkewSeconds ?? DEFAULT_BLOCK_SKEW_SECONDS,
        timeWindowSeconds: options.timeWindowSeconds ?? 300,
      });
    } catch (e) {
      return bad(height, (e as Error).message, (e as { code?: string }).code);
    }
    if (toHex(verified.hash) !== block.hash) return bad(height, "header does not hash to the stored block hash");
    for (const [i, e] of write.entries.entries()) {
      if (toHex(verified.leafHashes.subarray(i * 32, i * 32 + 32)) !== e.id) return bad(height, `entry ${i} does not hash to its id ${e.id}`);
    }
    if (!bytesEqual(rootFromLevels(write.batchLevels, verified.header.size), verified.header.root)) return bad(height, "stored batch tree does not match the header");

    const created = appendHashes(height, verified.hash, appendRefs(height).map((r) => history.get(refKey(r))!));
    for (const [i, c] of created.entries()) {
      const stored = write.historyHashes[i];
      if (stored === undefined || !bytesEqual(stored.hash, c.hash)) return bad(height, "stored history hashes do not match the headers");
      history.set(refKey(c.ref), c.hash);
    }
    entries += write.entries.length;
    registry = verified.registry;
    keys = verified.keys;
    tip = { height, hash: block.hash, sealedAt: verified.header.sealedAt };
  }

  const root = assembleTreeRoot(head.size, treeRootRefs(head.size).map((r) => history.get(refKey(r))!));
  if (head.size > 0 && tip!.hash !== head.hash) return bad(head.size - 1, "the store's head is not its last block");
  const checkpoint = await store.latestCheckpoint(0);
  if (checkpoint !== undefined && checkpoint.size === head.size) {
    const c = parseCheckpoint(parseNote(checkpoint.note).text);
    if (!bytesEqual(c.root, root)) return bad(head.size, "the stored checkpoint's root is not the chain's");
  }
  return { ok: true, blocks: head.size, entries, root: toHex(root) };
}
