/**
 * The seal (DESIGN.md "Storage", "Consortium replication"): pending entries
 * become block h, linked to h−1, appended to the history tree, committed to
 * the primary, replicated to the members, and vouched for by a quorum.
 *
 * Order of writes, and why it is crash-safe:
 *  1. finish the previous seal: replicate any block the replicas lack and
 *     collect cosignatures for the newest checkpoint (idempotent);
 *  2. only if that checkpoint is final, make block h from the oldest pending
 *     entries and commit it to the primary in ONE atomic batch — block,
 *     entries, tree hashes, operator-signed checkpoint, and the removal of
 *     those entries from pending. A second sealer racing for h loses on the
 *     block's primary key and its batch rolls back whole;
 *  3. replicate block h and cosign its checkpoint (step 1 again).
 * A crash before 2 leaves the entries pending; a crash after 2 leaves a
 * committed block that the next run finishes in step 1. Nothing is sealed
 * twice because step 2 consumes exactly the entries it seals, atomically.
 * While the newest block lacks a quorum no further block is made, so entries
 * stay pending and the reason is logged, counted and shown per replica.
 */
import { blockHash, formatBlockHeader } from "../core/block.js";
import { fromHex, toHex } from "../core/bytes.js";
import { formatCheckpoint } from "../core/checkpoint.js";
import { rootFromLevels, treeLevels } from "../core/merkle.js";
import { addSignatures, signNote } from "../core/note.js";
import { appendHashes, appendRefs, assembleTreeRoot, refKey, treeRootRefs } from "../core/tlog.js";
import type { BlockWrite, CheckpointRecord, Head, PendingRecord, ReplicaStatusRecord } from "../store/types.js";
import type { ChainView } from "./chain.js";
import type { Context } from "./context.js";
import { syncReplica, type AuditCursor } from "./replicate.js";
import { vouch } from "./witness.js";

/** Points at which tests may inject a failure: after each write step of a seal. */
export type SealStep = "primary-committed" | `replica-synced:${string}` | "checkpoint-cosigned";
export type FaultHook = (step: SealStep) => void | Promise<void>;

export interface SealReport {
  /** The block this run made, if any. */
  readonly block?: { readonly height: number; readonly size: number; readonly hash: string };
  readonly head: Head;
  /** Whether the newest block is final (its checkpoint carries a quorum). */
  readonly final: boolean;
  readonly cosigners: readonly string[];
  readonly replicas: readonly ReplicaStatusRecord[];
  /** Why no block was made, or why the chain is not final. */
  readonly reason?: string;
}

/** What runs seals: a Sealer here, or one in another thread (Node). */
export interface SealRunner {
  seal(): Promise<SealReport>;
  /** Resolves when no seal is running (for shutdown). */
  idle(): Promise<void>;
}

export class Sealer implements SealRunner {
  private running: Promise<SealReport> | undefined;
  private readonly seals;
  private readonly duration;
  private readonly pendingGauge;
  private readonly lagGauge;
  private readonly sealedEntries;

  constructor(
    private readonly ctx: Context,
    private readonly chain: ChainView,
    private readonly fault: FaultHook = () => {},
    /** Where each member's rolling audit resumes; sealers of one process or isolate share it. */
    readonly audits: Map<string, AuditCursor> = new Map(),
  ) {
    const m = ctx.metrics;
    this.seals = m.counter("cairn_seals_total", "Seal runs, by outcome (block, idle, not_final, conflict, error).");
    this.duration = m.histogram("cairn_seal_duration_seconds", "Time a seal run takes, including replication and cosigning.");
    this.pendingGauge = m.gauge("cairn_pending_entries", "Entries accepted and not yet in a block, after the last seal.");
    this.lagGauge = m.gauge("cairn_replica_lag_blocks", "Blocks a member's replica is behind the primary (-1: unreachable).");
    this.sealedEntries = m.counter("cairn_sealed_entries_total", "Entries committed to blocks.");
  }

  /** Resolves when no seal of this sealer is running (for shutdown). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Runs one seal; concurrent calls in this process share the run in progress. */
  seal(): Promise<SealReport> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<SealReport> {
    const started = performance.now();
    try {
      const report = await this.sealOnce();
      const outcome = report.block ? "block" : !report.final ? "not_final" : report.reason?.startsWith("another") ? "conflict" : "idle";
      this.seals({ outcome });
      if (report.reason !== undefined && outcome !== "idle") this.ctx.log.warn("seal", { outcome, reason: report.reason, head: report.head.size });
      else if (report.block) this.ctx.log.info("seal", { outcome, ...report.block, cosigners: report.cosigners.length });
      return report;
    } catch (e) {
      this.seals({ outcome: "error" });
      this.ctx.log.error("seal_failed", { error: (e as Error).message });
      throw e;
    } finally {
      this.duration((performance.now() - started) / 1000);
    }
  }

  private async sealOnce(): Promise<SealReport> {
    const { primary, config } = this.ctx;
    let head = await primary.head();
    const before = await this.finalize(head);
    if (!before.final) return { ...before, reason: before.reason ?? "the newest block has no quorum yet" };

    const pending = await primary.takePending(config.batchLimit);
    const stats = await primary.pendingStats();
    this.pendingGauge(stats.count);
    if (pending.length === 0) return { ...before, reason: "no pending entries" };

    const write = await this.buildBlock(head, pending);
    const { block } = write;
    const checkpoint = await this.checkpointFor(block.height + 1, write);
    const outcome = await primary.appendBlock(write, { consumePending: true, checkpoint });
    if (outcome === "conflict") return { ...before, reason: `another sealer made block ${block.height}` };
    this.sealedEntries({}, block.size);
    this.pendingGauge(Math.max(0, stats.count - block.size));
    await this.fault("primary-committed");

    head = { size: block.height + 1, hash: block.hash };
    const after = await this.finalize(head, new Map([[block.height, write]]));
    return { ...after, block: { height: block.height, size: block.size, hash: block.hash } };
  }

  /** Makes block `head.size` from the pending entries (oldest first). */
  private async buildBlock(head: Head, pending: readonly PendingRecord[]): Promise<BlockWrite> {
    const { config, clock, primary } = this.ctx;
    const leaves = new Uint8Array(pending.length * 32);
    pending.forEach((p, i) => leaves.set(fromHex(p.id, 32), i * 32));
    const levels = treeLevels(leaves);
    const previous = head.size === 0 ? undefined : await primary.getBlock(head.size - 1);
    // Never before the previous block, so the chain's times never run backwards.
    const sealedAt = Math.max(clock.now(), previous?.sealedAt ?? 0);
    const header = formatBlockHeader({
      origin: config.origin,
      height: head.size,
      prevHash: fromHex(head.hash, 32),
      size: pending.length,
      root: rootFromLevels(levels, pending.length),
      sealedAt,
    });
    const hash = blockHash(header);
    const historyHashes = appendHashes(head.size, hash, await primary.readHistoryHashes(appendRefs(head.size)));
    return {
      block: { height: head.size, hash: toHex(hash), prevHash: head.hash, header, size: pending.length, sealedAt },
      entries: pending.map(({ id, entry, digest, client, receivedAt, promise }) => ({ id, entry, digest, client, receivedAt, promise })),
      batchLevels: levels,
      historyHashes,
    };
  }

  /** The operator-signed checkpoint of the history tree once `write` is appended. */
  private async checkpointFor(size: number, write: BlockWrite): Promise<CheckpointRecord> {
    const created = new Map(write.historyHashes.map((h) => [refKey(h.ref), h.hash]));
    const refs = treeRootRefs(size);
    const missing = refs.filter((r) => !created.has(refKey(r)));
    const read = missing.length === 0 ? [] : await this.ctx.primary.readHistoryHashes(missing);
    missing.forEach((r, i) => created.set(refKey(r), read[i]!));
    const root = assembleTreeRoot(size, refs.map((r) => created.get(refKey(r))!));
    const note = await signNote(formatCheckpoint({ origin: this.ctx.config.origin, size, root }), [this.ctx.operator]);
    return { size, note, cosigners: [], createdAt: this.ctx.clock.now() };
  }

  /**
   * Replicates up to `head` and gathers cosignatures for the newest
   * checkpoint. Safe to run any number of times.
   */
  private async finalize(head: Head, fresh?: ReadonlyMap<number, BlockWrite>): Promise<Omit<SealReport, "block">> {
    const { primary, members, config } = this.ctx;
    const cursor = (name: string) => this.audits.get(name) ?? this.audits.set(name, { height: 0, offset: 0 }).get(name)!;
    const replicas = await Promise.all(members.map((m) => syncReplica(this.ctx, m, head, fresh, cursor(m.name))));
    for (const status of replicas) {
      await primary.putReplicaStatus(status);
      this.lagGauge(status.status === "unreachable" ? -1 : head.size - status.size, { member: status.member });
      await this.fault(`replica-synced:${status.member}`);
    }

    let checkpoint = await primary.latestCheckpoint(0);
    if (checkpoint === undefined || checkpoint.size < head.size) {
      if (head.size > 0) throw new Error(`no checkpoint stored for the head (${head.size} blocks)`);
      checkpoint = await this.emptyCheckpoint();
    }
    if (checkpoint.cosigners.length >= config.quorum) {
      return { head, final: true, cosigners: checkpoint.cosigners, replicas };
    }

    const healthy = new Set(replicas.filter((r) => r.status === "ok").map((r) => r.member));
    const vouches = await Promise.all(members.filter((m) => healthy.has(m.name)).map(async (m) => [m.name, await vouch(this.ctx, m, checkpoint.note)] as const));
    const signers = vouches.flatMap(([, v]) => (v.ok ? [v.signer] : []));
    const cosigners = [...new Set([...checkpoint.cosigners, ...vouches.filter(([, v]) => v.ok).map(([name]) => name)])];
    if (signers.length > 0) {
      const note = await addSignatures(checkpoint.note, signers);
      await primary.putCheckpoint({ size: checkpoint.size, note, cosigners, createdAt: this.ctx.clock.now() });
      this.chain.refresh();
      await this.fault("checkpoint-cosigned");
    }
    const final = cosigners.length >= config.quorum;
    const refusals = [
      ...replicas.filter((r) => r.status !== "ok").map((r) => `${r.member}: ${r.status}${r.detail ? ` (${r.detail})` : ""}`),
      ...vouches.flatMap(([name, v]) => (v.ok ? [] : [`${name}: ${v.reason}`])),
    ];
    return {
      head,
      final,
      cosigners,
      replicas,
      ...(final ? {} : { reason: `${cosigners.length} of ${config.quorum} cosignatures needed; ${refusals.join("; ") || "no member vouched"}` }),
    };
  }

  private async emptyCheckpoint(): Promise<CheckpointRecord> {
    const { config, operator, clock } = this.ctx;
    const note = await signNote(formatCheckpoint({ origin: config.origin, size: 0, root: assembleTreeRoot(0, []) }), [operator]);
    const record = { size: 0, note, cosigners: [], createdAt: clock.now() };
    await this.ctx.primary.putCheckpoint(record);
    return record;
  }
}


