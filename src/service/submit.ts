/**
 * Accepting signed submissions (docs/ARCHITECTURE.md "A submission's way", FORMATS.md §4).
 *
 * The happy path costs one signature verification, one promise signature
 * and a share of one group-committed insert: no read of the database at all.
 * Only when a check fails, or the insert finds the id already there, does the
 * service look the id up — so a resubmission of a known entry is answered
 * with its original promise (200) whatever its age, as the design requires,
 * without making every fresh submission pay for the lookup.
 */
import { CairnError, isCairnError } from "../core/errors.js";
import { openParsedNote } from "../core/note.js";
import { signPromise } from "../core/promise.js";
import { parseEntry, type Entry } from "../core/submission.js";
import { toHex } from "../core/bytes.js";
import type { NewPending } from "../store/types.js";
import { publicStatus, type ChainView } from "./chain.js";
import type { ClientRegistry } from "./clients.js";
import type { Context } from "./context.js";
import { ClientRates } from "./client-rates.js";
import { GroupCommit } from "./group-commit.js";

export interface AnchorAck {
  readonly id: string;
  readonly status: "pending" | "sealed";
  readonly promise: string;
}

/** created: newly accepted (HTTP 202); otherwise a known entry (HTTP 200). */
export interface SubmitResult {
  readonly created: boolean;
  readonly ack: AnchorAck;
}

/** Pending entries as last counted, and when (ms). */
export interface Backlog {
  count: number;
  at: number;
}

/** A submission checked and promised (row), or one the log already had (known). */
type Prepared = { known: SubmitResult } | { row: NewPending };

export type BatchItemResult = SubmitResult | { readonly error: { readonly code: string; readonly message: string } };

/** Rows per insert statement group; bounded so one huge burst still commits in reasonable slices. */
const MAX_GROUP = 2000;
/**
 * How long a submission may wait for others to share its durable commit,
 * while they arrive this close together. 8 ms at 500 a second makes groups
 * of ≈ 5 and takes 130–170 µs of CPU off each submission (BENCHMARKS, "A
 * commit window"); the acknowledgement comes ≤ 8 ms later, against a seal
 * every second.
 */
const COMMIT_WINDOW_MS = 8;
/** Items of a batch checked between two turns of the event loop (≈ 5 ms of work). */
const PREPARE_SLICE = 16;

/** Lets the event loop run: setImmediate where it exists (Node), else a timer (workerd). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

export class Submitter {
  private readonly commits: GroupCommit<NewPending, boolean>;
  /** The batch being checked now; the next batch's check starts when it ends. */
  private batchTurn: Promise<void> = Promise.resolve();
  private backlogRead: Promise<void> | undefined;
  private readonly submitted;
  private readonly refused;

  constructor(
    private readonly ctx: Context,
    private readonly clients: ClientRegistry,
    private readonly chain: ChainView,
    /** Entries waiting to be sealed, as last read; submitters of one process or isolate share it. */
    readonly backlog: Backlog = { count: 0, at: 0 },
    /** Each client's share; submitters of one process or isolate share it too. */
    readonly rates: ClientRates = new ClientRates(ctx.config.clientRate, ctx.clock),
  ) {
    this.commits = new GroupCommit((items) => this.insert(items), ctx.config.maxQueuedSubmissions, MAX_GROUP, COMMIT_WINDOW_MS);
    this.submitted = ctx.metrics.counter("cairn_submissions_total", "Submissions answered, by outcome (accepted, known).");
    this.refused = ctx.metrics.counter("cairn_submissions_refused_total", "Submissions refused, by error code.");
  }

  /** Submissions waiting for their group commit. */
  get queued(): number {
    return this.commits.queued;
  }

  /** Waits for queued inserts to finish (graceful shutdown). */
  drain(): Promise<void> {
    return this.commits.drain();
  }

  async submit(note: unknown): Promise<SubmitResult> {
    return this.counted(this.prepare(note).then((p) => this.commit(p)));
  }

  /**
   * Each item is judged on its own; one bad item does not fail the others.
   * Items are checked a slice at a time (prepareSliced) and enter the group
   * commit in array order once all are checked, so the batch's order is its
   * acceptance order.
   */
  async submitMany(notes: readonly unknown[]): Promise<BatchItemResult[]> {
    // Batches take turns (first come, first checked), so that slicing them
    // does not make concurrent batches all finish as late as the last one.
    const turn = this.batchTurn.then(() => this.prepareSliced(notes));
    // prepareSliced answers every failure per item; should it ever throw, the next batch still gets its turn.
    this.batchTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    const prepared = await turn;
    return Promise.all(
      prepared.map((p) =>
        this.counted("failed" in p ? Promise.reject(p.failed) : this.commit(p)).catch((e: unknown): BatchItemResult => {
          // A client over its share gets RATE_LIMITED per item, as any refusal of an item.
          if (!isCairnError(e) || e.code === "OVERLOADED") throw e;
          return { error: { code: e.code, message: e.message } };
        }),
      ),
    );
  }

  /**
   * Verifying and signing are synchronous: 1,000 items in one go would hold
   * the event loop for ≈ 300 ms, and every other client's request with it.
   * Between slices the loop serves them. Never rejects: a failure is the item's.
   */
  private async prepareSliced(notes: readonly unknown[]): Promise<(Prepared | { failed: unknown })[]> {
    const prepared: (Prepared | { failed: unknown })[] = [];
    for (let at = 0; at < notes.length; at += PREPARE_SLICE) {
      if (at > 0) await nextMacrotask();
      const slice = notes.slice(at, at + PREPARE_SLICE);
      prepared.push(...(await Promise.all(slice.map((note) => this.prepare(note).catch((e: unknown) => ({ failed: e }))))));
    }
    return prepared;
  }

  private async counted(result: Promise<SubmitResult>): Promise<SubmitResult> {
    try {
      const r = await result;
      this.submitted({ outcome: r.created ? "accepted" : "known" });
      return r;
    } catch (e) {
      this.refused({ code: isCairnError(e) ? e.code : "INTERNAL" });
      throw e;
    }
  }

  /** Parses, checks and promises; a known entry is answered here, whatever failed. */
  private async prepare(note: unknown): Promise<Prepared> {
    if (typeof note !== "string") throw new CairnError("BAD_NOTE", "submission must be a signed note as a string");
    const entry = parseEntry(note);
    try {
      await this.check(entry);
    } catch (e) {
      const known = await this.known(entry.id);
      if (known === undefined) throw e;
      return { known };
    }
    const now = this.ctx.clock.now();
    const promise = await signPromise(
      { origin: this.ctx.config.origin, id: entry.id, receivedAt: now, deadline: now + this.ctx.config.maxSealDelaySeconds },
      this.ctx.operator,
    );
    const row = { id: entry.id, entry: entry.entry, digest: toHex(entry.submission.digest), client: entry.signer.name, receivedAt: now, promise };
    return { row };
  }

  /** Joins the group commit at once (no await before add), which keeps callers' order. */
  private async commit(p: Prepared): Promise<SubmitResult> {
    if ("known" in p) return p.known;
    const { row } = p;
    if (await this.commits.add(row)) return { created: true, ack: { id: row.id, status: "pending", promise: row.promise } };
    const known = await this.known(row.id);
    if (known === undefined) throw new Error(`entry ${row.id} was neither inserted nor found`);
    return known;
  }

  private async check(entry: Entry): Promise<void> {
    await this.checkBacklog();
    const { config, clock } = this.ctx;
    const s = entry.submission;
    if (s.origin !== config.origin) {
      throw new CairnError("WRONG_ORIGIN", `submission is for origin ${s.origin}; this log is ${config.origin}`);
    }
    const skew = s.time - clock.now();
    if (Math.abs(skew) > config.timeWindowSeconds) {
      throw new CairnError(
        "STALE_TIME",
        `submission time ${s.time} is ${Math.abs(skew)} s ${skew < 0 ? "in the past" : "in the future"}; sign it again with the current time (±${config.timeWindowSeconds} s)`,
      );
    }
    const client = await this.clients.lookup(entry.signer.name);
    if (client === undefined) throw new CairnError("UNKNOWN_CLIENT", `no client named ${entry.signer.name} is registered`);
    if (client.record.status === "revoked") throw new CairnError("CLIENT_REVOKED", `the key of client ${entry.signer.name} was revoked`);
    if (client.verifier.keyId !== entry.signer.keyId) {
      throw new CairnError("BAD_SIGNATURE", `the submission is signed with a key id that is not ${entry.signer.name}'s registered key`);
    }
    try {
      await openParsedNote(entry.note, [client.verifier]);
    } catch (cause) {
      throw new CairnError("BAD_SIGNATURE", `the signature of ${entry.signer.name} does not verify`, { cause });
    }
    this.rates.take(entry.signer.name);
    if (s.prev !== undefined) {
      const prev = toHex(s.prev);
      if ((await this.chain.lookup(prev)) === undefined) {
        throw new CairnError("UNKNOWN_PREV", `prev names entry ${prev}, which this log does not know`);
      }
    }
  }

  /**
   * Pushback when sealing has fallen far behind (replicas without quorum for
   * a long time): refuse new work with 503 rather than grow without bound.
   * The count is read at most once a second and advanced locally between.
   */
  private async checkBacklog(): Promise<void> {
    if (Date.now() - this.backlog.at > 1000) {
      // One read for all the submissions checked meanwhile (a batch checks all its items at once).
      // The refresh is claimed in the shared estimate before it is read: on the Worker each request
      // has a submitter of its own and may not wait on another's read, and without the claim every
      // request arriving meanwhile would count the pending table again (D1 bills each row scanned).
      const claimed = this.backlog.at;
      this.backlog.at = Date.now();
      this.backlogRead ??= this.ctx.primary
        .pendingStats()
        .then(({ count }) => void Object.assign(this.backlog, { count, at: Date.now() }))
        .catch((e: unknown) => {
          this.backlog.at = claimed;
          throw e;
        })
        .finally(() => (this.backlogRead = undefined));
      await this.backlogRead;
    }
    if (this.backlog.count >= this.ctx.config.maxPendingEntries) {
      throw new CairnError("OVERLOADED", `${this.backlog.count} entries are waiting to be sealed; retry later`);
    }
  }

  private async known(id: string): Promise<SubmitResult | undefined> {
    const found = await this.chain.lookup(id);
    return found && { created: false, ack: { id, status: publicStatus(found.state), promise: found.promise } };
  }

  private async insert(items: NewPending[]): Promise<boolean[]> {
    const inserted = await this.ctx.primary.insertPending(items);
    this.backlog.count += inserted.size;
    // The same entry twice in one group: only its first occurrence counts as new.
    const seen = new Set<string>();
    return items.map((item) => {
      const fresh = inserted.has(item.id) && !seen.has(item.id);
      seen.add(item.id);
      return fresh;
    });
  }
}
