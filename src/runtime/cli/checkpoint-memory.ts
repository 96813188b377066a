/**
 * What the CLI remembers of each log: the signed checkpoints it verified
 * receipts against (and, for `cairn monitor`, the ones the log and its
 * witnesses served), in the user's state directory
 * ($XDG_STATE_HOME/cairn/checkpoints, else ~/.local/state/cairn/checkpoints),
 * one file per origin.
 *
 * A checkpoint seen later is judged against them (core/split-view.ts): the
 * same size with another root is a split view, refused with both notes as
 * evidence; another size is proven consistent with the largest proven one
 * when the caller can ask the operator for a proof (`--online`), and
 * recorded unproven otherwise, for a later online run to prove.
 *
 * A remembered note counts as evidence only if it still opens under the
 * trust in use: one recorded under a trust file that later proved forged
 * cannot make an honest checkpoint look like a fork.
 *
 * Two processes updating one file at once may lose one's record (each
 * write is whole, renamed into place); what is lost is a memory, never a
 * verification.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fromBase64, toBase64 } from "../../core/bytes.js";
import { parseCheckpoint } from "../../core/checkpoint.js";
import { isCairnError } from "../../core/errors.js";
import { parseNote } from "../../core/note.js";
import { checkConsistent, checkSameSize, type SplitViewError, type View } from "../../core/split-view.js";
import type { ReceiptVerifier } from "../../core/verify-receipt.js";
import { CliError, type Io } from "./common.js";
import type { ServerClient } from "./http.js";

const MEMORY_VERSION = "cairn-checkpoints/v1";
/** Enough to catch a fork at any size a user verified recently; the largest proven view is always kept. */
const MAX_RECORDS = 256;

interface Remembered {
  readonly size: number;
  readonly root: string;
  readonly note: string;
  /** Shown consistent with the largest proven view (the first view ever recorded is the baseline). */
  proven: boolean;
  /** Where it was seen, for evidence: "receipt x.cairn.json", "operator", "witness m1". */
  readonly source: string;
  /** Unix seconds it was first recorded. */
  readonly seen: number;
}

/** A consistency proof between two sizes, from the operator. */
export type ProofSource = (from: number, to: number) => Promise<Uint8Array[]>;

export interface Observation {
  /** "known": this exact view was remembered; "first": none was; otherwise whether it is proven consistent with the rest. */
  readonly status: "known" | "first" | "proven" | "unproven";
  /** The largest proven view afterwards. */
  readonly largest: number;
  /** Sizes of views recorded earlier that this call proved. */
  readonly provedNow: readonly number[];
}

export function memoryDir(io: Io): string {
  const base = io.env.XDG_STATE_HOME && io.env.XDG_STATE_HOME.startsWith("/") ? io.env.XDG_STATE_HOME : join(io.env.HOME ?? homedir(), ".local", "state");
  return join(base, "cairn", "checkpoints");
}

function fileOf(io: Io, origin: string): string {
  return join(memoryDir(io), `${encodeURIComponent(origin).replace(/\./g, "%2E")}.json`);
}

/** Notes already opened under a verifier's trust: a monitor judges the same records every round. */
const OPENED = new WeakMap<ReceiptVerifier, Set<string>>();

export class CheckpointMemory {
  private constructor(
    readonly path: string,
    readonly origin: string,
    private records: Remembered[],
    private readonly verifier: ReceiptVerifier,
  ) {}

  /** Reads the memory of `verifier.trust.origin` (empty if none yet). */
  static async open(io: Io, verifier: ReceiptVerifier): Promise<CheckpointMemory> {
    const origin = verifier.trust.origin;
    const path = fileOf(io, origin);
    let records: Remembered[] = [];
    try {
      const doc = JSON.parse(await readFile(path, "utf8")) as { version?: unknown; origin?: unknown; checkpoints?: unknown };
      if (doc.version !== MEMORY_VERSION || doc.origin !== origin || !Array.isArray(doc.checkpoints)) throw new Error(`not a ${MEMORY_VERSION} file for ${origin}`);
      records = doc.checkpoints as Remembered[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new CliError(`the checkpoint memory ${path} cannot be read (${(e as Error).message}); move it aside to start afresh`);
    }
    return new CheckpointMemory(path, origin, records, verifier);
  }

  /** How many views are remembered. */
  get size(): number {
    return this.records.length;
  }

  /**
   * Judges `view` against every remembered view and records it. Throws
   * SplitViewError (core) on a fork; with `prove`, also proves it and any
   * view recorded unproven consistent with the largest proven one.
   */
  async observe(view: View, source: string, now: number, prove?: ProofSource): Promise<Observation> {
    const usable = await this.usableRecords();
    const incoming: SeenView = { ...view, source: `${source}, now` };
    for (const r of usable) checkSameSize(viewOf(r), incoming);
    const root = toBase64(view.checkpoint.root);
    let record = usable.find((r) => r.size === view.checkpoint.size && r.root === root);
    const known = record !== undefined;
    const wasProven = record?.proven ?? false;
    if (record === undefined) {
      record = { size: view.checkpoint.size, root, note: view.note, proven: !usable.some((r) => r.proven), source, seen: now };
      this.records.push(record);
    }
    const provedNow: number[] = [];
    if (prove !== undefined) {
      for (const r of usable.concat(known ? [] : [record]).filter((r) => !r.proven).sort((a, b) => a.size - b.size)) {
        const largest = this.largestProven(usable.concat(record))!;
        const [from, to] = r.size < largest.size ? [r.size, largest.size] : [largest.size, r.size];
        checkConsistent(viewOf(largest), viewOf(r), await prove(from, to));
        r.proven = true;
        if (r !== record) provedNow.push(r.size);
      }
    }
    this.prune();
    await this.save();
    const status = known && wasProven ? "known" : this.records.length === 1 ? "first" : record.proven ? "proven" : "unproven";
    return { status, largest: this.largestProven(this.records)?.size ?? view.checkpoint.size, provedNow };
  }

  /** The remembered views whose notes open under the trust in use, in record order. */
  private async usableRecords(): Promise<Remembered[]> {
    let opened = OPENED.get(this.verifier);
    if (opened === undefined) OPENED.set(this.verifier, (opened = new Set()));
    const out: Remembered[] = [];
    for (const r of this.records) {
      if (!opened.has(r.note)) {
        try {
          await this.verifier.openCheckpoint(r.note);
          opened.add(r.note);
        } catch (e) {
          if (!isCairnError(e)) throw e;
          continue;
        }
      }
      out.push(r);
    }
    return out;
  }

  private largestProven(records: readonly Remembered[]): Remembered | undefined {
    return records.filter((r) => r.proven).reduce<Remembered | undefined>((best, r) => (best === undefined || r.size > best.size ? r : best), undefined);
  }

  private prune(): void {
    if (this.records.length <= MAX_RECORDS) return;
    const keep = this.largestProven(this.records);
    const rest = this.records.filter((r) => r !== keep).sort((a, b) => b.seen - a.seen).slice(0, MAX_RECORDS - 1);
    this.records = (keep ? [keep, ...rest] : rest).sort((a, b) => a.seen - b.seen);
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: MEMORY_VERSION, origin: this.origin, checkpoints: this.records }, null, 2) + "\n", { mode: 0o600 });
    await rename(tmp, this.path);
  }
}

/** A remembered view: the note, and where and when it was seen. */
interface SeenView extends View {
  readonly source: string;
}

function viewOf(r: Remembered): SeenView {
  return { checkpoint: parseCheckpoint(parseNote(r.note).text), note: r.note, source: `${r.source}, seen ${new Date(r.seen * 1000).toISOString().replace(".000Z", "Z")}` };
}

/** Both signed checkpoints of a split view, as a person (or a program cutting at the rules) reads them. */
export function splitEvidence(e: SplitViewError): string {
  const out = [`Evidence: two checkpoints signed by the operator of ${e.evidence[0].checkpoint.origin} that cannot share one history:`];
  for (const v of e.evidence) {
    const seen = (v as Partial<SeenView>).source;
    out.push(`--- ${seen ?? "checkpoint"}, ${v.checkpoint.size} blocks`, v.note.trimEnd());
  }
  out.push("---");
  return out.join("\n");
}

/** The view a signed checkpoint note stands for. */
export function viewOfNote(note: string): View {
  return { checkpoint: parseCheckpoint(parseNote(note).text), note };
}

/** Consistency proofs from a Cairn operator (GET /v1/proofs/consistency); an answer that is not one is an error, not a proof. */
export function operatorProofs(server: ServerClient): ProofSource {
  return async (from, to) => {
    const { body } = await server.get(`/v1/proofs/consistency?from=${from}&to=${to}`);
    const path = (body as { path?: unknown } | null)?.path;
    if (!Array.isArray(path) || !path.every((h) => typeof h === "string")) throw new CliError(`${server.url} answered a consistency proof request with something that is not one`);
    try {
      return path.map((h: string) => fromBase64(h, 32));
    } catch {
      throw new CliError(`${server.url} answered a consistency proof holding a hash that is not base64 of 32 bytes`);
    }
  };
}
