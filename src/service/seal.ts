/**
 * The seal (docs/ARCHITECTURE.md "A submission's way"): pending entries
 * become block h, linked to h−1, appended to the history tree, committed to
 * the primary, and then cosigned by the members' own witnesses.
 *
 * Order of writes, and why it is crash-safe:
 *  1. finish the previous seal: ask the witnesses that have not cosigned
 *     the newest checkpoint (idempotent: a witness cosigns the same
 *     checkpoint again, and never another root for that size);
 *  2. only if that checkpoint is final, make block h from the oldest pending
 *     entries and commit it to the primary in ONE atomic batch — block,
 *     entries, tree hashes, operator-signed checkpoint, and the removal of
 *     those entries from pending. A second sealer racing for h loses on the
 *     block's primary key and its batch rolls back whole;
 *  3. ask the witnesses to cosign its checkpoint (step 1 again). Each
 *     witness first fetches and verifies the new block from the operator's
 *     public API, in its own process, with its own replica.
 * A crash before 2 leaves the entries pending; a crash after 2 leaves a
 * committed block that the next run finishes in step 1. Nothing is sealed
 * twice because step 2 consumes exactly the entries it seals, atomically.
 * While the newest block lacks a quorum no further block is made (fail
 * closed), so entries stay pending and each witness's answer is logged,
 * counted and shown on /v1/consortium.
 */
import { blockHash, formatBlockHeader } from "../core/block.js";
import { fromHex, toHex } from "../core/bytes.js";
import { formatCheckpoint } from "../core/checkpoint.js";
import { rootFromLevels, treeLevels } from "../core/merkle.js";
import { signNote } from "../core/note.js";
import { appendHashes, appendRefs, assembleTreeRoot, refKey, treeRootRefs } from "../core/tlog.js";
import { DEFAULT_BLOCK_SKEW_SECONDS } from "../core/verify-block.js";
import { cosignatureLineTime } from "../core/witness-protocol.js";
import type { BlockWrite, CheckpointRecord, Head, PendingRecord, WitnessAnswerRecord } from "../store/types.js";
import type { ChainView } from "./chain.js";
import type { ChainKeys } from "./keys.js";
import type { Context } from "./context.js";
import { askWitness, type WitnessAnswer } from "./cosign.js";
import type { Member } from "./context.js";
import { MemberClocks } from "./member-clocks.js";

/**
 * A clock runs ahead far enough to stop sealing once it is past what a
 * witness lets a block be ahead of its own clock (the default: the operator
 * cannot know a member's setting), plus rounding: cosignature times are
 * whole seconds. A member that dates its cosignatures back by as much as a
 * witness allows, honestly or not, holds nothing back.
 */
const CLOCK_SLACK_SECONDS = 2;

/** Points at which tests may inject a failure: after each write step of a seal. */
export type SealStep = "primary-committed" | `witness-answered:${string}` | "checkpoint-cosigned";
export type FaultHook = (step: SealStep) => void | Promise<void>;

export interface SealReport {
  /** The block this run made, if any. */
  readonly block?: { readonly height: number; readonly size: number; readonly hash: string };
  readonly head: Head;
  /** Whether the newest block is final (its checkpoint carries a quorum). */
  readonly final: boolean;
  readonly cosigners: readonly string[];
  /** The answers of the witnesses asked in this run. */
  readonly witnesses: readonly WitnessAnswerRecord[];
  /** Why no block was made, or why the chain is not final. */
  readonly reason?: string;
}

const CLOCK_AHEAD = "this operator's clock is ahead of the members'";

/** What runs seals: a Sealer here, or one in another thread (Node). */
export interface SealRunner {
  seal(): Promise<SealReport>;
  /** Resolves when no seal is running (for shutdown). */
  idle(): Promise<void>;
}

/** While a member's answer stays the same, its log line repeats at most this often. */
const REPEAT_LOG_SECONDS = 60;

export class Sealer implements SealRunner {
  private running: Promise<SealReport> | undefined;
  private readonly seals;
  private readonly duration;
  private readonly pendingGauge;
  private readonly answers;
  private readonly witnessLag;
  private readonly sealedEntries;

  /** Answers still arriving after a seal returned at the quorum. */
  private readonly late = new Set<Promise<void>>();
  /** Members with a request in flight. */
  private readonly asking = new Set<string>();
  /** The newest checkpoint this sealer asked witnesses for. */
  private newest: CheckpointRecord | undefined;
  /** Cosignatures are merged into the stored checkpoint one at a time. */
  private merging: Promise<unknown> = Promise.resolve();
  /** Each member's last logged answer and when (see worthLogging). */
  private readonly logged = new Map<string, { key: string; at: number }>();
  private readonly memberClocks: MemberClocks;
  /** Where the last block's seal went, in ms, for its log line. */
  private phases: Record<string, number> | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly chain: ChainView,
    private readonly keys: ChainKeys,
    private readonly fault: FaultHook = () => {},
  ) {
    this.memberClocks = new MemberClocks(ctx.clock);
    const m = ctx.metrics;
    this.seals = m.counter("cairn_seals_total", "Seal runs, by outcome (block, idle, not_final, conflict, clock_ahead, error).");
    this.duration = m.histogram("cairn_seal_duration_seconds", "Time a seal run takes, including replication and cosigning.");
    this.pendingGauge = m.gauge("cairn_pending_entries", "Entries accepted and not yet in a block, after the last seal.");
    this.answers = m.counter("cairn_witness_answers_total", "Answers of members' witnesses to add-checkpoint, by member and status (cosigned, refused, unreachable).");
    this.witnessLag = m.gauge("cairn_witness_lag_blocks", "Blocks between the head and a member witness's latest cosigned checkpoint.");
    this.sealedEntries = m.counter("cairn_sealed_entries_total", "Entries committed to blocks.");
  }

  /** Resolves when no seal of this sealer is running (for shutdown). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
    // Answers may start follow-up requests; wait until none is left.
    while (this.late.size > 0) await Promise.all(this.late);
  }

  /** Runs one seal; concurrent calls in this process share the run in progress. */
  seal(): Promise<SealReport> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<SealReport> {
    const started = performance.now();
    this.phases = undefined;
    try {
      const report = await this.sealOnce();
      const outcome = report.block ? "block" : !report.final ? "not_final" : report.reason?.startsWith("another") ? "conflict" : report.reason?.startsWith(CLOCK_AHEAD) ? "clock_ahead" : "idle";
      this.seals({ outcome });
      const made = report.block && { ...report.block, cosigners: report.cosigners.length, ...(this.phases ?? {}) };
      if (report.reason !== undefined && outcome !== "idle") this.ctx.log.warn("seal", { outcome, reason: report.reason, head: report.head.size, ...made });
      else if (made) this.ctx.log.info("seal", { outcome, ...made });
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

    const ahead = await this.clockAhead();
    if (ahead !== undefined) {
      return {
        ...before,
        reason: `${CLOCK_AHEAD} by about ${ahead} s, by their cosignatures' times: a block dated now would not get a quorum, and the next blocks could be dated no earlier; not sealing until this machine's time is right (pending entries wait)`,
      };
    }

    let mark = performance.now();
    /** ms since the previous lap. */
    const lap = () => {
      const now = performance.now();
      const ms = Math.round(now - mark);
      mark = now;
      return ms;
    };
    const pending = await primary.takePending(config.batchLimit);
    const stats = await primary.pendingStats();
    this.pendingGauge(stats.count);
    if (pending.length === 0) return { ...before, reason: "no pending entries" };
    const takeMs = lap();

    const write = await this.buildBlock(head, pending);
    const { block } = write;
    const checkpoint = await this.checkpointFor(block.height + 1, write);
    const buildMs = lap();
    const outcome = await primary.appendBlock(write, { consumePending: true, checkpoint });
    if (outcome === "conflict") return { ...before, reason: `another sealer made block ${block.height}` };
    const commitMs = lap();
    this.sealedEntries({}, block.size);
    this.pendingGauge(Math.max(0, stats.count - block.size));
    await this.fault("primary-committed");

    head = { size: block.height + 1, hash: block.hash };
    const after = await this.finalize(head);
    this.phases = { takeMs, buildMs, commitMs, cosignMs: lap() };
    return { ...after, block: { height: block.height, size: block.size, hash: block.hash } };
  }

  /**
   * Seconds this clock is ahead of a quorum of members' by what they last
   * said (./member-clocks.ts), asked again before it counts: a witness
   * cosigns the checkpoint it already cosigned again, with its time now, so
   * a member whose clock was put right since (or an old impression of it)
   * never holds the log back.
   */
  private async clockAhead(): Promise<number | undefined> {
    const { members, config, primary } = this.ctx;
    const skew = DEFAULT_BLOCK_SKEW_SECONDS + CLOCK_SLACK_SECONDS;
    if (this.memberClocks.aheadOfQuorum(members.length, config.quorum, skew) === undefined) return undefined;
    const checkpoint = await primary.latestCheckpoint(0);
    if (checkpoint !== undefined) {
      const last = new Map((await primary.witnessAnswers()).map((a) => [a.member, a]));
      await Promise.allSettled(members.filter((m) => !this.asking.has(m.name)).map((m) => this.ask(m, checkpoint, last.get(m.name), () => {})));
    }
    return this.memberClocks.aheadOfQuorum(members.length, config.quorum, skew);
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
    const note = await signNote(formatCheckpoint({ origin: this.ctx.config.origin, size, root }), [await this.keys.signerFor(size)]);
    return { size, note, cosigners: [], createdAt: this.ctx.clock.now() };
  }

  /**
   * Gathers cosignatures for the newest checkpoint from the witnesses that
   * have not given one. Returns once the quorum is met or every witness has
   * answered; answers that come later still join the stored checkpoint.
   * Safe to run any number of times.
   */
  private async finalize(head: Head): Promise<Omit<SealReport, "block">> {
    const { primary, members, config } = this.ctx;
    let checkpoint = await primary.latestCheckpoint(0);
    if (checkpoint === undefined || checkpoint.size < head.size) {
      if (head.size > 0) throw new Error(`no checkpoint stored for the head (${head.size} blocks)`);
      checkpoint = await this.emptyCheckpoint();
    }
    const target = checkpoint;
    const cosigners = new Set(target.cosigners);
    const answered: WitnessAnswerRecord[] = [];
    const missing = members.filter((m) => !cosigners.has(m.name) && !this.asking.has(m.name));
    if (missing.length === 0 && cosigners.size >= config.quorum) return { head, final: true, cosigners: target.cosigners, witnesses: [] };

    // Every witness that has not cosigned is asked, even once the quorum is
    // met, so a member that was away catches up and adds its cosignature;
    // at most one request per member is in flight.
    this.newest = target;
    const last = new Map((await primary.witnessAnswers()).map((a) => [a.member, a]));
    const asking = missing.map((m) =>
      this.ask(m, target, last.get(m.name), (answer) => {
        answered.push(answer.record);
        if (answer.cosignatures.length > 0) cosigners.add(m.name);
      }),
    );
    await untilQuorumOrAll(asking, () => cosigners.size >= config.quorum);

    const final = cosigners.size >= config.quorum;
    const refusals = answered.filter((a) => a.status !== "cosigned").map((a) => `${a.member}: ${a.status}${a.detail ? ` (${a.detail})` : ""}`);
    return {
      head,
      final,
      cosigners: [...cosigners],
      witnesses: answered,
      ...(final ? {} : { reason: `${cosigners.size} of ${config.quorum} cosignatures needed; ${refusals.join("; ") || "no witness answered yet"}` }),
    };
  }

  /**
   * Asks one member and records its answer. If a newer checkpoint was made
   * while it answered (it was still catching up, say), it is asked for that
   * one next, so a slow member converges without waiting for another seal.
   */
  private ask(member: Member, target: CheckpointRecord, last: WitnessAnswerRecord | undefined, seen: (answer: WitnessAnswer) => void): Promise<void> {
    this.asking.add(member.name);
    const run = this.keys
      .memberKeyAt(member, target.size)
      .then((key) => askWitness(this.ctx, member, key, target, last))
      .then(async (answer) => {
        await this.record(target, answer);
        seen(answer);
      })
      .finally(() => {
        this.asking.delete(member.name);
        const newer = this.newest;
        if (newer !== undefined && newer.size > target.size && !this.asking.has(member.name)) {
          this.track(this.ctx.primary.witnessAnswers().then((answers) => this.ask(member, newer, answers.find((a) => a.member === member.name), () => {})));
        }
      });
    this.track(run);
    return run;
  }

  /** Keeps `work` for idle() (shutdown, tests) without letting its failure escape. */
  private track(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    ).finally(() => this.late.delete(tracked));
    this.late.add(tracked);
  }

  /**
   * A member that is down is asked again at every seal, once a second by
   * default; its log line is written when its answer changes (down, back,
   * another refusal) and at most once a minute while it stays the same, so
   * the log says what changed instead of repeating it. Cosignatures are
   * logged only as a change (a member back after a failure).
   */
  private worthLogging(record: WitnessAnswerRecord): boolean {
    const key = `${record.status}\n${record.detail}`;
    const now = this.ctx.clock.now();
    const prev = this.logged.get(record.member);
    const changed = prev === undefined ? record.status !== "cosigned" : prev.key !== key;
    if (!changed && (record.status === "cosigned" || now - prev!.at < REPEAT_LOG_SECONDS)) return false;
    this.logged.set(record.member, { key, at: now });
    return true;
  }

  /** Stores a witness's answer, and its cosignature into the checkpoint of that size. */
  private async record(checkpoint: CheckpointRecord, answer: WitnessAnswer): Promise<void> {
    const { primary } = this.ctx;
    const { record, cosignatures } = answer;
    await primary.putWitnessAnswer(record);
    this.answers({ member: record.member, status: record.status });
    if (record.status === "cosigned") this.witnessLag(0, { member: record.member });
    if (this.worthLogging(record)) {
      const fields = { member: record.member, status: record.status, detail: record.detail, size: checkpoint.size };
      if (record.status === "cosigned") this.ctx.log.info("witness_answer", fields);
      else this.ctx.log.warn("witness_answer", fields);
    }
    await this.fault(`witness-answered:${record.member}`);
    if (cosignatures.length === 0) return;
    this.memberClocks.observe(record.member, Math.max(...cosignatures.map(cosignatureLineTime)));
    const merged = this.merging.then(async () => {
      // Re-read: other answers may have joined the stored note meanwhile.
      const stored = (await primary.checkpointAt(checkpoint.size)) ?? checkpoint;
      if (stored.cosigners.includes(record.member)) return;
      const note = withSignatureLines(stored.note, cosignatures);
      await primary.putCheckpoint({ size: stored.size, note, cosigners: [...stored.cosigners, record.member], createdAt: this.ctx.clock.now() });
      this.chain.refresh();
      await this.fault("checkpoint-cosigned");
    });
    this.merging = merged.catch(() => undefined);
    await merged;
  }

  private async emptyCheckpoint(): Promise<CheckpointRecord> {
    const { config, clock } = this.ctx;
    const note = await signNote(formatCheckpoint({ origin: config.origin, size: 0, root: assembleTreeRoot(0, []) }), [await this.keys.signerFor(0)]);
    const record = { size: 0, note, cosigners: [], createdAt: clock.now() };
    await this.ctx.primary.putCheckpoint(record);
    return record;
  }
}



/**
 * Resolves when `done()` holds after one of `tasks` settles, or when all
 * have; rejects with the first failure (a failure to store an answer is the
 * seal's, not the witness's).
 */
function untilQuorumOrAll(tasks: readonly Promise<void>[], done: () => boolean): Promise<void> {
  if (tasks.length === 0 || done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let left = tasks.length;
    for (const t of tasks) {
      t.then(() => {
        left--;
        if (left === 0 || done()) resolve();
      }, reject);
    }
  });
}

/** The note with `lines` (verified signature lines) appended to its signatures. */
function withSignatureLines(note: string, lines: readonly string[]): string {
  return note + lines.map((l) => (l.endsWith("\n") ? l : `${l}\n`)).join("");
}
