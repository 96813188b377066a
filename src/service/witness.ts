/**
 * A member's witness (docs/ARCHITECTURE.md "The member's witness"): the
 * member's own process, with its own cosigner key, its own replica and its
 * own state, answering the operator's C2SP tlog-witness add-checkpoint.
 *
 * It cosigns a checkpoint only when
 *  1. the request passes the tlog-witness checks (core/witness-protocol.ts):
 *     the pinned log's signature, the size it last cosigned, a consistency
 *     proof from there — so it never signs two roots for one size nor a
 *     smaller size after a larger one;
 *  2. its own replica, which it fills itself from the operator's read API
 *     (its reads signed with its cosigner key, FORMATS.md §10) and in which it stores only blocks that pass every check of
 *     core/verify-block.ts (chain link, batch root, every entry's signature
 *     against the chain's own client registry, times), reaches the
 *     checkpoint's size within a bounded time;
 *  3. its replica's history root at that size is the checkpoint's root.
 * The check and the update of its latest cosigned checkpoint happen under
 * one lock and the state is durable before the answer, so racing requests
 * cannot roll it back. That state is kept apart from the replica: losing the
 * replica cannot make the witness forget what it signed.
 *
 * A block that fails a check is refused and kept as evidence, with the
 * operator-signed checkpoint that asked for it; from then on the witness
 * cosigns nothing for this log until a person clears the halt.
 */
import { parseBlockHeader } from "../core/block.js";
import { fromBase64, toBase64, toHex } from "../core/bytes.js";
import { parseCheckpoint } from "../core/checkpoint.js";
import { ClientRegistry, parseClientRecord } from "../core/client-record.js";
import { isKeyRecordEntry, KeySchedule, parseKeyRecord } from "../core/key-record.js";
import { cosigner } from "../core/cosignature.js";
import type { NoteSigner } from "../core/keys.js";
import { mldsaCosigner } from "../core/mldsa-cosignature.js";
import { CairnError, isCairnError, type ErrorCode } from "../core/errors.js";
import { parseNote } from "../core/note.js";
import { appendHashes, appendRefs, assembleTreeRoot, treeRootRefs } from "../core/tlog.js";
import { verifyBlock, type ChainTip, type VerifiedBlock } from "../core/verify-block.js";
import { requestSigner, signRequest, type RequestSigner } from "../core/signed-request.js";
import { KEY_TYPE_COSIGNATURE_V1 } from "../core/keys.js";
import { cosignatureResponse, judgeAddCheckpoint, parseAddCheckpoint, type WitnessedCheckpoint } from "../core/witness-protocol.js";
import { ConstraintViolation } from "../store/sql-store.js";
import type { BlockRecord, BlockWrite, WitnessReplica } from "../store/types.js";
import type { Clock } from "./clock.js";
import type { Fetch } from "./context.js";
import type { Logger } from "./log.js";
import { readCapped } from "./read-body.js";
import { Metrics } from "./metrics.js";

export interface WitnessConfig {
  /** The member's cosigner name. */
  readonly name: string;
  /** The log this witness follows, pinned: its origin and the operator's verifier key(s). */
  readonly origin: string;
  readonly logKeys: readonly string[];
  /** The operator's public URL, where blocks and entries are read. */
  readonly logUrl: string;
  /** How far a block's `sealed at` may be ahead of this witness's clock. */
  readonly maxSkewSeconds: number;
  /** How far an entry's time may be after its block's `sealed at`. */
  readonly timeWindowSeconds: number;
  /** How long a request may spend catching up before the witness answers "not yet". */
  readonly syncBudgetMs: number;
}

/** Why the witness stopped cosigning: what failed, and the material that proves it. */
export interface Evidence {
  readonly at: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly height?: number;
  /** The operator-signed checkpoint whose request led to the failure. */
  readonly checkpoint: string;
  /** The block header and the offending entry, as the operator served them. */
  readonly header?: string;
  readonly entry?: { readonly index: number; readonly text: string };
}

export interface WitnessState {
  /** The latest checkpoint this witness cosigned: size, root and the note with its cosignature. */
  readonly latest?: { readonly size: number; readonly root: string; readonly note: string };
  /** Set when a check failed: the witness cosigns nothing until a person clears it. */
  readonly halted?: Evidence;
}

/**
 * Where the witness keeps its state; `save` is durable when it resolves. A
 * port shared by several instances fails a save (UNAVAILABLE) when the state
 * changed since its last load.
 */
export interface WitnessStatePort {
  load(): Promise<WitnessState>;
  save(state: WitnessState): Promise<void>;
}

export interface WitnessDeps {
  readonly config: WitnessConfig;
  /** Ed25519 seed of the member's cosigner key (type 0x04). */
  readonly seed: Uint8Array;
  readonly verifierKey: string;
  /**
   * The member's next cosigner key (type 0x04), made when it rotates (`cairn
   * member rotate-key`): once the chain's key record moves the member to it,
   * the witness cosigns the sizes the record gives it with this one. Read
   * when first needed, so the running witness picks up a key made after it
   * started.
   */
  readonly next?: () => { readonly seed: Uint8Array; readonly verifierKey: string } | undefined;
  /** The member's ML-DSA-44 cosigner key (type 0x06), if it cosigns post-quantum too: every cosignature then carries both lines. */
  readonly pq?: { readonly seed: Uint8Array; readonly verifierKey: string };
  readonly replica: WitnessReplica;
  readonly state: WitnessStatePort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fetch?: Fetch;
  /** Test hook (see WitnessFaultStep); never set in production. */
  readonly fault?: WitnessFault;
  /** Where its metrics go; instances of one witness share one registry. */
  readonly metrics?: Metrics;
}

/** An answer in tlog-witness terms: an HTTP status, a content type and a body. */
export interface WitnessReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * Test hook: where a test may stop the witness (test/service/witness-attacks.test.ts
 * kills the process at "persisted", after the cosigned state is durable and
 * before the answer is sent). Production passes none.
 */
export type WitnessFaultStep = "persisted";
export type WitnessFault = (step: WitnessFaultStep) => void | Promise<void>;

/** Blocks a request fetches per page of entries (the operator's page limit). */
const PAGE = 1000;
/** Largest JSON body read from the operator per request. */
const MAX_READ_BYTES = 8 * 1024 * 1024;
/** A block whose catch-up takes this long gets a log line with its phases (a seal every second would flood the log otherwise). */
const SLOW_BLOCK_MS = 1000;

export class Witness {
  private state: WitnessState = {};
  private registry = ClientRegistry.empty();
  /** Who signs which sizes: the pinned log keys, moved on by the key records of the replica. */
  private keys: KeySchedule;
  /** How many blocks `registry` and `keys` reflect (-1: not loaded yet). */
  private registryAt = -1;
  private next?: () => { readonly seed: Uint8Array; readonly verifierKey: string } | undefined;
  /**
   * One of several instances of this witness sharing its replica and state
   * (the Worker makes one per request, as workerd forbids one request to
   * wait on another's I/O): no in-process lock; the state is loaded before
   * each judgement and saved by compare-and-set, and the registry is rebuilt
   * from the replica.
   */
  private shared = false;
  private lock: Promise<unknown> = Promise.resolve();
  private fault: WitnessFault = () => {};
  /** ML-DSA-44 cosigning, when the member has that key. */
  private pq?: { readonly verifierKey: string; signer(timestamp: number): NoteSigner };
  /** Signs its reads of the log's entries with its cosigner key (FORMATS.md §10): a member's credential, no other secret. */
  private readonly reads: RequestSigner;
  private readonly blocksVerified;
  private readonly entriesVerified;
  private readonly refusals;
  private readonly cosigned;
  private readonly haltedGauge;
  private readonly headGauge;
  private readonly blockSeconds;

  private constructor(
    readonly config: WitnessConfig,
    private readonly seed: Uint8Array,
    readonly verifierKey: string,
    private readonly replica: WitnessReplica,
    private readonly statePort: WitnessStatePort,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly fetch: Fetch,
    readonly metrics: Metrics,
  ) {
    this.keys = KeySchedule.pinned(config.logKeys);
    this.reads = requestSigner({ name: config.name, type: KEY_TYPE_COSIGNATURE_V1, seed });
    const m = this.metrics;
    this.blocksVerified = m.counter("cairn_witness_blocks_verified_total", "Blocks this witness verified and stored in its replica.");
    this.entriesVerified = m.counter("cairn_witness_entries_verified_total", "Entries whose signature and registration this witness checked.");
    this.refusals = m.counter("cairn_witness_refusals_total", "add-checkpoint requests refused, by code.");
    this.cosigned = m.counter("cairn_witness_cosigned_total", "Checkpoints cosigned.");
    this.haltedGauge = m.gauge("cairn_witness_halted", "1 while the witness refuses to cosign because it holds evidence against the log.");
    this.headGauge = m.gauge("cairn_witness_replica_blocks", "Blocks in this witness's verified replica.");
    this.blockSeconds = m.histogram("cairn_witness_block_seconds", "Time per block caught up, by phase: fetch (header and entries from the log), verify, store (into the replica).");
  }

  /** A witness that is the only instance of itself (the Node process): its state and registry are loaded once here. */
  static async open(deps: WitnessDeps): Promise<Witness> {
    const w = Witness.make(deps);
    w.state = await deps.state.load();
    const head = await deps.replica.head();
    await w.chainStateFor(head.size);
    w.haltedGauge(w.state.halted ? 1 : 0);
    w.headGauge(head.size);
    return w;
  }

  /** One of several instances of a witness (one per Worker request): made without I/O, loading as it judges. */
  static shared(deps: WitnessDeps): Witness {
    const w = Witness.make(deps);
    w.shared = true;
    return w;
  }

  private static make(deps: WitnessDeps): Witness {
    const w = new Witness(deps.config, deps.seed, deps.verifierKey, deps.replica, deps.state, deps.clock, deps.log, deps.fetch ?? ((i, init) => fetch(i, init)), deps.metrics ?? new Metrics());
    if (deps.fault) w.fault = deps.fault;
    if (deps.next) w.next = deps.next;
    if (deps.pq) {
      const { seed, verifierKey } = deps.pq;
      mldsaCosigner(seed, deps.config.name, 0); // refuses a bad seed or name at start, not at the first cosignature
      w.pq = { verifierKey, signer: (timestamp) => mldsaCosigner(seed, deps.config.name, timestamp) };
    }
    return w;
  }

  /**
   * The registry and the key schedule as of `size` blocks, replayed from this
   * witness's own replica (never taken from the operator): every record in
   * it passed verifyBlock when it was stored.
   */
  private async chainStateFor(size: number): Promise<{ registry: ClientRegistry; keys: KeySchedule }> {
    if (this.registryAt !== size) {
      const draft = ClientRegistry.empty().draft();
      let keys = KeySchedule.pinned(this.config.logKeys);
      for (const { height, entry } of await this.replica.chainRecords(size)) {
        const text = parseNote(entry).text;
        if (isKeyRecordEntry(entry)) keys = keys.apply(parseKeyRecord(text), height);
        else draft.apply(parseClientRecord(text));
      }
      this.registry = draft.done();
      this.keys = keys;
      this.registryAt = size;
    }
    return { registry: this.registry, keys: this.keys };
  }

  /**
   * The cosigner for a checkpoint of `size`: the member's key the chain
   * schedules for that size (its configured one while the chain has no
   * record of it). Undefined when that key is not one this witness holds.
   */
  private cosignerFor(size: number, now: number): NoteSigner | undefined {
    const key = this.keys.memberKeyAt(this.config.name, size) ?? this.verifierKey;
    if (key === this.verifierKey) return cosigner(this.seed, this.config.name, now);
    const next = this.next?.();
    if (key === next?.verifierKey) return cosigner(next.seed, this.config.name, now);
    return undefined;
  }

  private async reload(): Promise<void> {
    if (!this.shared) return;
    this.state = await this.statePort.load();
    this.haltedGauge(this.state.halted ? 1 : 0);
  }

  /** POST /add-checkpoint. */
  addCheckpoint(body: string): Promise<WitnessReply> {
    if (this.shared) {
      return this.reload()
        .then(() => this.judge(body))
        .catch((e: unknown) => {
          // Another instance saved the state meanwhile: judged again on the retry.
          if (isCairnError(e, "UNAVAILABLE")) return this.refuse(503, e);
          throw e;
        });
    }
    const run = this.lock.then(() => this.judge(body));
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * judgeRequest, with whatever escapes it (its replica or state failing) as
   * "not now": the request was not judged, so nothing is held against the log.
   */
  private async judge(body: string): Promise<WitnessReply> {
    try {
      return await this.judgeRequest(body);
    } catch (e) {
      if (isCairnError(e, "UNAVAILABLE")) return this.refuse(503, e);
      this.log.error("witness_failed", { error: String((e as Error)?.stack ?? e) });
      return this.refuse(503, new CairnError("UNAVAILABLE", `this witness failed while judging the request (${(e as Error).message}); retry`));
    }
  }

  private async judgeRequest(body: string): Promise<WitnessReply> {
    let request;
    try {
      request = parseAddCheckpoint(body);
    } catch (e) {
      return this.refuse(400, e as CairnError);
    }
    const latest: WitnessedCheckpoint | undefined = this.state.latest && {
      size: this.state.latest.size,
      root: fromBase64(this.state.latest.root, 32),
      note: this.state.latest.note,
    };
    const claimed = claimedSize(request.checkpoint);
    const judgeAt = async () => {
      const { keys } = await this.chainStateFor((await this.replica.head()).size);
      return judgeAddCheckpoint({ request, origin: this.config.origin, logKeys: keys.operatorKeysAt(claimed ?? 0), latest });
    };
    let verdict = await judgeAt();
    // Signed by a key this replica has not heard of yet: the record that
    // hands the log to it may be in the blocks up to the checkpoint's size,
    // so catch up (every block verified as always) and judge again.
    if (!verdict.ok && verdict.code === "LOG_SIGNATURE_INVALID" && claimed !== undefined && claimed > (await this.replica.head()).size && !this.state.halted) {
      const failed = await this.catchUp(claimed, request.checkpoint);
      if (failed !== undefined) return failed;
      verdict = await judgeAt();
    }
    if (!verdict.ok) {
      this.refusals({ code: verdict.code });
      this.log.warn("add_checkpoint_refused", { status: verdict.status, code: verdict.code, message: verdict.message });
      // Same size, another root, under the log's own signature: with the note
      // this witness cosigned for that size, proof of a split view.
      if (verdict.code === "CHECKPOINT_CONFLICT" && !this.state.halted) {
        await this.halt({ at: this.clock.now(), code: verdict.code, message: verdict.message, checkpoint: request.checkpoint });
      }
      if (verdict.knownSize !== undefined) return { status: verdict.status, contentType: "text/x.tlog.size", body: `${verdict.knownSize}\n` };
      return { status: verdict.status, contentType: "text/plain; charset=utf-8", body: `${verdict.code}: ${verdict.message}\n` };
    }
    if (this.state.halted) {
      return this.refuse(422, new CairnError("CHAIN_BROKEN", `this witness holds evidence against ${this.config.origin} (${this.state.halted.code} at ${new Date(this.state.halted.at * 1000).toISOString()}) and cosigns nothing until a person clears it`));
    }
    const { checkpoint } = verdict;
    const failed = await this.catchUp(checkpoint.size, request.checkpoint);
    if (failed !== undefined) return failed;
    const root = assembleTreeRoot(checkpoint.size, await this.replica.readHistoryHashes(treeRootRefs(checkpoint.size)));
    if (toHex(root) !== toHex(checkpoint.root)) {
      const e = new CairnError("CHECKPOINT_CONFLICT", `the checkpoint's root for ${checkpoint.size} blocks is not the root of the blocks the log published`);
      await this.halt({ at: this.clock.now(), code: e.code, message: e.message, checkpoint: request.checkpoint });
      return this.refuse(422, e);
    }
    const now = this.clock.now();
    await this.chainStateFor(checkpoint.size);
    const own = this.cosignerFor(checkpoint.size, now);
    if (own === undefined) {
      const key = this.keys.memberKeyAt(this.config.name, checkpoint.size);
      return this.refuse(503, new CairnError("UNAVAILABLE", `the chain schedules key ${key} for ${this.config.name} at size ${checkpoint.size}, and this witness does not hold it: give it that key (cairn member rotate-key made it) and retry`));
    }
    const signers = [own, ...(this.pq ? [this.pq.signer(now)] : [])];
    const lines = await cosignatureResponse(verdict.body, signers);
    const note = `${request.checkpoint}${lines}`;
    await this.save({ ...this.state, latest: { size: checkpoint.size, root: toBase64(checkpoint.root), note } });
    await this.fault("persisted");
    this.cosigned();
    this.log.info("cosigned", { size: checkpoint.size });
    return { status: 200, contentType: "text/plain; charset=utf-8", body: lines };
  }

  /** Resolves when no request is being judged (for shutdown). */
  async idle(): Promise<void> {
    await this.lock;
  }

  /** GET /checkpoint: the latest checkpoint this witness cosigned, with its cosignature. */
  async latestCheckpoint(): Promise<string | undefined> {
    await this.reload();
    return this.state.latest?.note;
  }

  async status() {
    await this.reload();
    const head = await this.replica.head();
    return {
      name: this.config.name,
      key: this.verifierKey,
      nextKey: this.next?.()?.verifierKey ?? null,
      pqKey: this.pq?.verifierKey ?? null,
      origin: this.config.origin,
      log: this.config.logUrl,
      replica: { size: head.size, hash: head.hash },
      latest: this.state.latest ? { size: this.state.latest.size, root: this.state.latest.root } : null,
      halted: this.state.halted ?? null,
    };
  }

  /** Clears a halt after a person has looked at the evidence (it stays in the logs and the caller's records). */
  async resume(): Promise<Evidence | undefined> {
    const run = this.lock.then(async () => {
      const evidence = this.state.halted;
      const { halted: _, ...rest } = this.state;
      await this.save(rest);
      return evidence;
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** syncTo, with its failures as answers: undefined once the replica holds `size` blocks. */
  private async catchUp(size: number, checkpointNote: string): Promise<WitnessReply | undefined> {
    try {
      await this.syncTo(size, checkpointNote);
      return undefined;
    } catch (e) {
      if (isCairnError(e) && e.code === "UNAVAILABLE") return this.refuse(503, e);
      if (!isCairnError(e)) {
        this.log.error("witness_failed", { error: String((e as Error)?.stack ?? e) });
        return this.refuse(503, new CairnError("UNAVAILABLE", `this witness failed while catching up (${(e as Error).message}); retry`));
      }
      return this.refuse(422, e);
    }
  }

  /** Fetches, verifies and stores blocks until the replica holds `size` of them. */
  private async syncTo(size: number, checkpointNote: string): Promise<void> {
    const deadline = Date.now() + this.config.syncBudgetMs;
    let head = await this.replica.head();
    let tip = head.size === 0 ? undefined : tipOf((await this.replica.getBlock(head.size - 1))!);
    // Kept in step with the tip: each block is checked against the registry and keys of the blocks before it.
    let { registry, keys } = head.size < size ? await this.chainStateFor(head.size) : { registry: this.registry, keys: this.keys };
    while (head.size < size) {
      if (Date.now() > deadline) throw new CairnError("UNAVAILABLE", `catching up: the replica holds ${head.size} of ${size} blocks; retry`);
      const height = head.size;
      const started = performance.now();
      const block = await this.readJson<{ header: string }>(`/v1/blocks/${height}`);
      // Read no more entries than the header counts (a header that does not parse is verifyBlock's to report).
      const declared = declaredSize(block.header);
      const entries = declared === undefined ? [] : await this.readEntries(height, declared, deadline);
      const fetched = performance.now();
      let verified;
      try {
        verified = await verifyBlock(tip, block.header, entries, registry, {
          origin: this.config.origin,
          keys,
          now: this.clock.now(),
          maxSkewSeconds: this.config.maxSkewSeconds,
          timeWindowSeconds: this.config.timeWindowSeconds,
        });
      } catch (e) {
        if (!isCairnError(e)) throw e;
        // A block dated ahead of this clock is refused, not held against the
        // log: once the time has come it is acceptable, so a fast operator
        // clock must not halt every witness for good.
        if (e.code === "BLOCK_FROM_FUTURE") throw e;
        const index = /entry (\d+)/.exec(e.message)?.[1];
        await this.halt({
          at: this.clock.now(),
          code: e.code,
          message: e.message,
          height,
          checkpoint: checkpointNote,
          header: block.header,
          ...(index !== undefined && entries[Number(index)] !== undefined ? { entry: { index: Number(index), text: entries[Number(index)]! } } : {}),
        });
        throw e;
      }
      // The one member whose keys this witness knows is its own: a record
      // moving it from a key it never held is the operator's invention.
      const ownProblem = this.ownRotationProblem(keys, verified.keys);
      if (ownProblem !== undefined) {
        const e = new CairnError("KEY_RECORD_CONFLICT", `block ${height}: ${ownProblem}`);
        await this.halt({ at: this.clock.now(), code: e.code, message: e.message, height, checkpoint: checkpointNote, header: block.header });
        throw e;
      }
      const checked = performance.now();
      const write = await this.blockWrite(height, block.header, entries, verified);
      let appended;
      try {
        appended = await this.replica.appendBlock(write);
      } catch (e) {
        // The replica holds each entry once: an entry of an earlier block sealed again.
        if (!(e instanceof ConstraintViolation && /entries\.id/.test(e.message))) throw e;
        const duplicate = new CairnError("DUPLICATE_ENTRY", `block ${height}: an entry of this block is already in an earlier block`);
        await this.halt({ at: this.clock.now(), code: duplicate.code, message: duplicate.message, height, checkpoint: checkpointNote, header: block.header });
        throw duplicate;
      }
      if (appended === "conflict") throw new CairnError("UNAVAILABLE", `the replica's head moved while block ${height} was stored; retry`);
      registry = verified.registry;
      keys = verified.keys;
      this.registry = registry;
      this.keys = keys;
      this.registryAt = height + 1;
      this.blocksVerified();
      this.entriesVerified({}, entries.length);
      this.timed(height, entries.length, { fetch: fetched - started, verify: checked - fetched, store: performance.now() - checked });
      head = { size: height + 1, hash: write.block.hash };
      tip = tipOf(write.block);
      this.headGauge(head.size);
    }
  }

  /** Where a block's catch-up went, for the metrics and, for a block worth a line, the log. */
  private timed(height: number, entries: number, ms: { fetch: number; verify: number; store: number }): void {
    for (const [phase, took] of Object.entries(ms)) this.blockSeconds(took / 1000, { phase });
    const total = ms.fetch + ms.verify + ms.store;
    if (total >= SLOW_BLOCK_MS) this.log.info("replicated", { height, entries, fetchMs: Math.round(ms.fetch), verifyMs: Math.round(ms.verify), storeMs: Math.round(ms.store) });
  }

  /**
   * Why a block's key record about this member is not its own doing, if it
   * is not. It is when it retires the key this member had in use, or moves
   * it to a key this witness holds (after a replica rebuilt from block 0 by
   * a member that kept only its new key, say); a record the operator made
   * up does neither.
   */
  private ownRotationProblem(before: KeySchedule, after: KeySchedule): string | undefined {
    const name = this.config.name;
    const was = before.memberKeys(name);
    const now = after.memberKeys(name);
    if (now === undefined || now === was) return undefined;
    const inUse = before.memberKeyAt(name, Number.MAX_SAFE_INTEGER) ?? this.verifierKey;
    const retired = now.find((k) => k.until !== undefined && !was?.some((x) => x.key === k.key && x.until !== undefined));
    const fresh = now.at(-1)?.key;
    if (retired?.key === inUse || fresh === this.verifierKey || fresh === this.next?.()?.verifierKey) return undefined;
    return `a key record moves ${name} from ${retired?.key ?? "a key"}, not its key in use (${inUse}), to ${fresh}, not a key it holds`;
  }

  private async blockWrite(height: number, header: string, entries: readonly string[], v: VerifiedBlock): Promise<BlockWrite> {
    const historyHashes = appendHashes(height, v.hash, await this.replica.readHistoryHashes(appendRefs(height)));
    return {
      block: { height, hash: toHex(v.hash), prevHash: toHex(v.header.prevHash), header, size: entries.length, sealedAt: v.header.sealedAt },
      // The replica's columns, from what verifyBlock parsed: digest and client for lookups, no promise.
      entries: entries.map((entry, i) => {
        const e = v.entries[i]!;
        return { id: toHex(v.leafHashes.subarray(i * 32, i * 32 + 32)), entry, digest: e.digest === undefined ? "" : toHex(e.digest), client: e.client, receivedAt: e.time, promise: "" };
      }),
      batchLevels: v.levels,
      historyHashes,
    };
  }

  private async readEntries(height: number, declared: number, deadline: number): Promise<string[]> {
    const out: string[] = [];
    for (let offset: number | null = 0; offset !== null; ) {
      if (Date.now() > deadline) throw new CairnError("UNAVAILABLE", `reading block ${height}: ${out.length} of ${declared} entries read; retry`);
      const page: { entries: { index: number; entry: string }[]; next: number | null } = await this.readJson(`/v1/blocks/${height}/entries?offset=${offset}&limit=${PAGE}`);
      if (!Array.isArray(page.entries)) throw new CairnError("BAD_BLOCK", `the log's page of block ${height} entries has no list of entries`);
      if (page.entries.length === 0 && page.next !== null) throw new CairnError("BAD_BLOCK", `the log's page of block ${height} entries at ${offset} is empty and not the last`);
      for (const e of page.entries) {
        if (e.index !== out.length || typeof e.entry !== "string") throw new CairnError("BAD_BLOCK", `the log served entry ${e.index} of block ${height} out of order`);
        out.push(e.entry);
      }
      if (page.next !== null && page.next !== out.length) throw new CairnError("BAD_BLOCK", `the log's page of block ${height} entries does not continue where it stopped`);
      // Past the header's count, verifyBlock refuses whatever else there is.
      offset = out.length < declared ? page.next : null;
    }
    return out;
  }

  /** A JSON answer of the log; anything short of one is "not yet" (503), never evidence. */
  private async readJson<T>(path: string): Promise<T> {
    const unavailable = (why: string) => new CairnError("UNAVAILABLE", `cannot read ${path} from the log at ${this.config.logUrl}: ${why}; retry`);
    let text: string;
    let status: number;
    try {
      // Every read is signed, though only the entries need it: one code path, one Ed25519 signature each.
      const authorization = await signRequest({ origin: this.config.origin, method: "GET", target: path, time: this.clock.now() }, this.reads);
      const res = await this.fetch(`${this.config.logUrl}${path}`, { headers: { Authorization: authorization }, signal: AbortSignal.timeout(this.config.syncBudgetMs) });
      status = res.status;
      text = await readCapped(res, MAX_READ_BYTES, "the log's answer");
    } catch (e) {
      throw isCairnError(e) ? e : unavailable((e as Error).message);
    }
    if (status !== 200) throw unavailable(`${status} ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw unavailable("the answer is not JSON");
    }
  }

  private async halt(evidence: Evidence): Promise<void> {
    this.log.error("evidence", { ...evidence });
    await this.save({ ...this.state, halted: evidence });
    this.haltedGauge(1);
  }

  private async save(state: WitnessState): Promise<void> {
    await this.statePort.save(state);
    this.state = state;
    this.haltedGauge(state.halted ? 1 : 0);
  }

  private refuse(status: number, e: CairnError): WitnessReply {
    this.refusals({ code: e.code });
    this.log.warn("add_checkpoint_refused", { status, code: e.code, message: e.message });
    return { status, contentType: "text/plain; charset=utf-8", body: `${e.code}: ${e.message}\n` };
  }
}

/** The size a checkpoint note claims, read before its signature is checked (undefined if it does not parse). */
function claimedSize(note: string): number | undefined {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return undefined;
  }
}

/** The entry count a block header states, or undefined if it is not a header. */
function declaredSize(header: unknown): number | undefined {
  try {
    return typeof header === "string" ? parseBlockHeader(header).size : undefined;
  } catch {
    return undefined;
  }
}

function tipOf(b: BlockRecord): ChainTip {
  return { height: b.height, hash: b.hash, sealedAt: b.sealedAt };
}

