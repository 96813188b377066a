/**
 * Auditing a chain from block 0 (what any member can do with its replica):
 * every header parses and hashes to its stored hash, every link holds, every
 * entry's id is its leaf hash, every batch root is recomputed from the
 * entries and matches both the header and the stored tree hashes, and the
 * history tree rebuilt leaf by leaf matches the stored history hashes and the
 * stored checkpoint. The first bad block is reported with the reason.
 */
import { blockHash, checkChainLink, parseBlockHeader } from "../core/block.js";
import { bytesEqual, toHex, utf8 } from "../core/bytes.js";
import { parseCheckpoint } from "../core/checkpoint.js";
import { leafHash, rootFromLevels, treeLevels } from "../core/merkle.js";
import { parseNote } from "../core/note.js";
import { parseEntry } from "../core/submission.js";
import { appendHashes, appendRefs, assembleTreeRoot, refKey, treeRootRefs } from "../core/tlog.js";
import type { ChainStore } from "../store/types.js";

export interface AuditReport {
  readonly ok: boolean;
  readonly blocks: number;
  readonly entries: number;
  /** Root of the history tree recomputed from the headers, hex. */
  readonly root: string;
  readonly firstBad?: { readonly height: number; readonly reason: string };
}

export async function auditChain(
  store: ChainStore,
  origin: string,
  onBlock: (height: number, of: number) => void = () => {},
): Promise<AuditReport> {
  const head = await store.head();
  const history = new Map<string, Uint8Array>();
  let entries = 0;
  let prevHeader: string | undefined;
  const bad = (height: number, reason: string): AuditReport => ({ ok: false, blocks: height, entries, root: "", firstBad: { height, reason } });

  for (let height = 0; height < head.size; height++) {
    onBlock(height, head.size);
    const write = await store.readBlockWrite(height);
    if (write === undefined) return bad(height, "block is missing");
    const { block } = write;
    let header;
    try {
      header = parseBlockHeader(block.header);
      if (prevHeader !== undefined) checkChainLink(prevHeader, block.header);
    } catch (e) {
      return bad(height, (e as Error).message);
    }
    if (header.origin !== origin) return bad(height, `origin is ${header.origin}, expected ${origin}`);
    if (header.height !== height) return bad(height, `header says height ${header.height}`);
    if (height === 0 && !header.prevHash.every((b) => b === 0)) return bad(height, "block 0 links to a previous block");
    const hash = blockHash(block.header);
    if (toHex(hash) !== block.hash) return bad(height, "header does not hash to the stored block hash");
    if (write.entries.length !== header.size) return bad(height, `header counts ${header.size} entries, the store holds ${write.entries.length}`);

    const leaves = new Uint8Array(write.entries.length * 32);
    for (const [i, e] of write.entries.entries()) {
      const id = leafHash(utf8(e.entry));
      if (toHex(id) !== e.id) return bad(height, `entry ${i} does not hash to its id ${e.id}`);
      try {
        if (parseEntry(e.entry).submission.origin !== origin) return bad(height, `entry ${i} is for another origin`);
      } catch (err) {
        return bad(height, `entry ${i} is malformed: ${(err as Error).message}`);
      }
      leaves.set(id, i * 32);
    }
    const levels = treeLevels(leaves);
    if (!bytesEqual(rootFromLevels(levels, header.size), header.root)) return bad(height, "batch root does not match the entries");
    if (!bytesEqual(rootFromLevels(write.batchLevels, header.size), header.root)) return bad(height, "stored batch tree does not match the header");

    const created = appendHashes(height, hash, appendRefs(height).map((r) => history.get(refKey(r))!));
    for (const [i, c] of created.entries()) {
      const stored = write.historyHashes[i];
      if (stored === undefined || !bytesEqual(stored.hash, c.hash)) return bad(height, "stored history hashes do not match the headers");
      history.set(refKey(c.ref), c.hash);
    }
    entries += write.entries.length;
    prevHeader = block.header;
  }

  const root = assembleTreeRoot(head.size, treeRootRefs(head.size).map((r) => history.get(refKey(r))!));
  if (head.size > 0 && toHex(blockHash(prevHeader!)) !== head.hash) return bad(head.size - 1, "the store's head is not its last block");
  const checkpoint = await store.latestCheckpoint(0);
  if (checkpoint !== undefined && checkpoint.size === head.size) {
    const c = parseCheckpoint(parseNote(checkpoint.note).text);
    if (!bytesEqual(c.root, root)) return bad(head.size, "the stored checkpoint's root is not the chain's");
  }
  return { ok: true, blocks: head.size, entries, root: toHex(root) };
}
