/**
 * Everything readers ask for: anchor status and receipts, digest lookup,
 * blocks and their entries, history-tree proofs, the consortium's state.
 * Every proof is a bounded number of queries (the refs of core/tlog.ts, read
 * in one batch), whatever the size of the block or the chain.
 */
import { CairnError, check } from "../core/errors.js";
import { buildReceipt, type ReceiptJson } from "../core/receipt.js";
import { assembleConsistencyProof, assembleInclusionProof, consistencyProofRefs, inclusionProofRefs } from "../core/tlog.js";
import { toBase64 } from "../core/bytes.js";
import type { BlockRecord, CheckpointRecord, EntryRecord, PendingRecord } from "../store/types.js";
import { publicStatus, type ChainView } from "./chain.js";
import type { ClientRegistry } from "./clients.js";
import type { Context } from "./context.js";
import { checkEntriesReader, digestScope, seesWitnessMessages, type Reader } from "./read-scopes.js";

export interface AnchorView {
  readonly id: string;
  readonly status: "pending" | "sealed";
  readonly promise: string;
  readonly receivedAt: number;
  /** Where the entry is, once it is in a block. */
  readonly block?: { readonly height: number; readonly index: number };
  readonly receipt?: ReceiptJson;
}

export type ReceiptAnswer = { readonly state: "sealed"; readonly receipt: ReceiptJson } | { readonly state: "pending"; readonly id: string };

export const MAX_PAGE = 1000;

export class Reads {
  constructor(
    private readonly ctx: Context,
    private readonly chain: ChainView,
    private readonly clients: ClientRegistry,
  ) {}

  async anchor(id: string): Promise<AnchorView> {
    checkId(id);
    const found = await this.chain.lookup(id);
    if (found === undefined) throw new CairnError("NOT_FOUND", `no anchor with id ${id}`);
    if (found.state === "pending") return { id, status: "pending", promise: found.promise, receivedAt: found.pending.receivedAt };
    const { entry } = found;
    const view = { id, status: publicStatus(found.state), promise: found.promise, receivedAt: entry.receivedAt, block: { height: entry.height, index: entry.index } };
    if (found.state !== "sealed") return view;
    const final = await this.chain.finalCheckpoint();
    return { ...view, receipt: await this.receiptOf(entry, final!) };
  }

  async receipt(id: string): Promise<ReceiptAnswer> {
    checkId(id);
    const found = await this.chain.lookup(id);
    if (found === undefined) throw new CairnError("NOT_FOUND", `no anchor with id ${id}`);
    if (found.state !== "sealed") return { state: "pending", id };
    return { state: "sealed", receipt: await this.receiptOf(found.entry, (await this.chain.finalCheckpoint())!) };
  }

  /**
   * The anchors of a digest that `reader` may see (read-scopes.ts): a client
   * its own, members and admin all. The scope is decided before anything is
   * read, and a client's is applied in the query, so the answer is the same
   * whether or not others anchored the digest.
   */
  async anchorsOfDigest(digest: string, reader: Reader): Promise<{ digest: string; anchors: { id: string; status: "pending" | "sealed"; receivedAt: number; block?: { height: number; index: number } }[] }> {
    const { client } = digestScope(reader, this.ctx.config.reads);
    check(/^[0-9a-f]{64}$/.test(digest), "BAD_DIGEST", "a digest is 64 lowercase hex digits (SHA-256)");
    const rows = await this.ctx.primary.anchorsOfDigest(digest, MAX_PAGE, client);
    const final = await this.chain.finalCheckpoint();
    return {
      digest,
      anchors: rows.map((r: EntryRecord | PendingRecord) =>
        "height" in r
          ? { id: r.id, status: final !== undefined && r.height < final.size ? "sealed" : "pending", receivedAt: r.receivedAt, block: { height: r.height, index: r.index } }
          : { id: r.id, status: "pending", receivedAt: r.receivedAt },
      ),
    };
  }

  /** The newest final checkpoint's signed note. */
  async checkpoint(): Promise<string> {
    const final = await this.chain.finalCheckpoint();
    if (final === undefined) throw new CairnError("UNAVAILABLE", "no checkpoint has reached a quorum of cosignatures yet");
    return final.note;
  }

  async block(height: number): Promise<BlockView> {
    const block = await this.ctx.primary.getBlock(height);
    if (block === undefined) throw new CairnError("NOT_FOUND", `no block at height ${height}`);
    return blockView(block);
  }

  async blocks(from: number, limit: number): Promise<{ blocks: BlockView[]; next: number | null }> {
    const rows = await this.ctx.primary.listBlocks(from, Math.min(limit, MAX_PAGE));
    const head = await this.ctx.primary.head();
    const last = rows.at(-1);
    return { blocks: rows.map(blockView), next: last !== undefined && last.height + 1 < head.size ? last.height + 1 : null };
  }

  /**
   * A block's entries, for members (replication) and the admin only: each
   * entry names its client, digest and time. The page comes as JSON text
   * (S.BlockEntries) with the entries as the store serialised them, so a
   * witness's read never turns rows into objects and back.
   */
  async blockEntries(height: number, offset: number, limit: number, reader: Reader): Promise<string> {
    checkEntriesReader(reader);
    const block = await this.ctx.primary.getBlock(height);
    if (block === undefined) throw new CairnError("NOT_FOUND", `no block at height ${height}`);
    const page = await this.ctx.primary.blockEntriesJson(height, offset, Math.min(limit, MAX_PAGE));
    const end = offset + page.count;
    return `{"height":${height},"size":${block.size},"entries":${page.json},"next":${end < block.size ? end : null}}`;
  }

  /** Inclusion of block `height` in the history tree of `size` blocks (default: the final checkpoint's). */
  async blockProof(height: number, size?: number): Promise<{ height: number; size: number; hash: string; path: string[] }> {
    const head = await this.ctx.primary.head();
    const n = size ?? (await this.chain.finalCheckpoint())?.size ?? head.size;
    check(n <= head.size, "BAD_REQUEST", `size ${n} is beyond the head (${head.size} blocks)`);
    check(height < n, "BAD_REQUEST", `block ${height} is not in a tree of ${n} blocks`);
    const [block, hashes] = await Promise.all([
      this.ctx.primary.getBlock(height),
      this.ctx.primary.readHistoryHashes(inclusionProofRefs(height, n)),
    ]);
    return { height, size: n, hash: block!.hash, path: assembleInclusionProof(height, n, hashes).map(toBase64) };
  }

  async consistency(from: number, to: number): Promise<{ from: number; to: number; path: string[] }> {
    const head = await this.ctx.primary.head();
    check(from <= to, "BAD_REQUEST", `from (${from}) must not exceed to (${to})`);
    check(to <= head.size, "BAD_REQUEST", `to (${to}) is beyond the head (${head.size} blocks)`);
    if (from === 0 || from === to) return { from, to, path: [] };
    const hashes = await this.ctx.primary.readHistoryHashes(consistencyProofRefs(from, to));
    return { from, to, path: assembleConsistencyProof(from, to, hashes).map(toBase64) };
  }

  /**
   * The consortium's public facts, and each member witness's last answer as
   * the operator saw it: its status and time for anyone; its message and
   * evidence, which may quote the entries of a block it refused, for members
   * and the admin.
   */
  async consortium(reader: Reader) {
    const detail = seesWitnessMessages(reader);
    const answers = new Map((await this.ctx.primary.witnessAnswers()).map((a) => [a.member, a]));
    const { ctx } = this;
    return {
      origin: ctx.config.origin,
      operator: { name: ctx.config.origin, key: ctx.operatorKey },
      members: ctx.members.map((m) => {
        const a = answers.get(m.name);
        return {
          name: m.name,
          key: m.verifierKey,
          ...(m.pqKey ? { pqKey: m.pqKey } : {}),
          witness: m.witness,
          answer:
            a === undefined
              ? null
              : { status: a.status, at: a.updatedAt, ...(detail ? { message: a.detail, evidence: a.evidence === null ? null : (JSON.parse(a.evidence) as unknown) } : {}) },
          // The witness's latest cosigned checkpoint, as far as the operator knows.
          head: a === undefined || a.hash === "" ? null : { size: a.size, root: a.hash },
        };
      }),
      quorum: ctx.config.quorum,
    };
  }

  private async receiptOf(entry: EntryRecord, final: CheckpointRecord): Promise<ReceiptJson> {
    const { primary } = this.ctx;
    const block = (await primary.getBlock(entry.height))!;
    const [batchHashes, historyHashes, client] = await Promise.all([
      primary.readBatchHashes(entry.height, inclusionProofRefs(entry.index, block.size)),
      primary.readHistoryHashes(inclusionProofRefs(entry.height, final.size)),
      this.clients.lookup(entry.client),
    ]);
    return buildReceipt({
      entry: entry.entry,
      block: block.header,
      inclusion: { index: entry.index, size: block.size, path: assembleInclusionProof(entry.index, block.size, batchHashes) },
      history: { index: entry.height, size: final.size, path: assembleInclusionProof(entry.height, final.size, historyHashes) },
      checkpoint: final.note,
      ...(client === undefined ? {} : { client: client.record.key }),
    });
  }
}

export interface BlockView {
  readonly height: number;
  readonly hash: string;
  readonly size: number;
  readonly sealedAt: number;
  readonly header: string;
}

function blockView(b: BlockRecord): BlockView {
  return { height: b.height, hash: b.hash, size: b.size, sealedAt: b.sealedAt, header: b.header };
}

function checkId(id: string): void {
  check(/^[0-9a-f]{64}$/.test(id), "BAD_REQUEST", "an anchor id is 64 lowercase hex digits");
}
