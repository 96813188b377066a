/**
 * One verification as the verify page shows it: core's verifier run step by
 * step (src/core/verify-receipt.ts), each step's outcome in plain words, and
 * a verdict with the proven time interval. No DOM and no I/O: the page gives
 * the receipt's text, the trust and the document's digest (hashed in the
 * browser), and this returns what to show.
 */
import { CairnError, isCairnError } from "../core/errors.js";
import { stepsOf, verifyReceipt, type ReceiptVerification, type StepName } from "../core/verify-receipt.js";
import { isoTime, timeInWords } from "./time.js";

export interface StepLine {
  readonly step: StepName;
  readonly title: string;
  readonly state: "ok" | "skipped" | "fail" | "not-run";
  readonly detail: string;
}

export interface Outcome {
  readonly ok: boolean;
  readonly headline: string;
  readonly explanation: readonly string[];
  readonly steps: readonly StepLine[];
  readonly code?: string;
  readonly failedStep?: StepName;
  readonly result?: ReceiptVerification;
}

export interface CheckInput {
  /** The receipt file's text (JSON). */
  readonly receipt: string;
  /** The trust document, parsed JSON. */
  readonly trust: unknown;
  /** SHA-256 of the document, computed on this machine, or the digest the person typed. */
  readonly digest: Uint8Array;
  /** Whether `digest` is of a document the person chose (else they typed it). */
  readonly fromDocument: boolean;
  /** The verifier's clock, unix seconds (default: now). */
  readonly now?: number;
}

/** core's steps, in the order it runs them, with what each one establishes. */
export const STEPS: readonly { readonly step: StepName; readonly title: string; readonly failure: string }[] = [
  { step: "receipt", title: "The receipt is readable", failure: "the receipt file is not a Cairn receipt, or it is damaged" },
  { step: "digest", title: "The document matches the receipt", failure: "the receipt is for another document: this one's digest is not the one anchored" },
  { step: "entry-signature", title: "The submitter's signature holds", failure: "the submitter's signature on the anchored entry does not hold" },
  { step: "inclusion", title: "The entry is in its block", failure: "the entry is not in the block the receipt names" },
  { step: "history", title: "The block is in the log's history", failure: "the block is not in the history the checkpoint commits to" },
  { step: "checkpoint-signature", title: "The operator signed the checkpoint", failure: "the checkpoint is not signed by the operator the trust document names: the receipt is from another log, or the trust is not this log's" },
  { step: "cosignatures", title: "A quorum of members cosigned", failure: "not enough of the consortium's members vouch for the checkpoint" },
  { step: "time", title: "The times fit together", failure: "the entry's time does not fit its block's" },
];

const when = (unix: number) => `${timeInWords(unix)} (${isoTime(unix)})`;

export async function checkReceipt(input: CheckInput): Promise<Outcome> {
  try {
    const result = await verifyReceipt(input.receipt, input.trust, { digest: input.digest, ...(input.now === undefined ? {} : { now: input.now }) });
    return verified(result, input.fromDocument);
  } catch (e) {
    if (!isCairnError(e)) throw e;
    return refused(e);
  }
}

function verified(result: ReceiptVerification, fromDocument: boolean): Outcome {
  const done = new Map(result.steps.map((s) => [s.step, s]));
  const { from, by } = result.interval;
  const steps = STEPS.map(({ step, title }): StepLine => {
    const s = done.get(step);
    // core says the times in unix seconds; a person reads them as dates.
    const detail = step === "time" && s?.status === "ok" ? `dated ${isoTime(from)}; sealed at ${isoTime(result.sealedAt)}; a quorum had cosigned by ${isoTime(by)}` : (s?.detail ?? "");
    return { step, title, state: s?.status ?? "not-run", detail };
  });
  const what = fromDocument ? "this document existed, exactly as you have it," : "a document with this digest existed";
  const explanation = [
    `Anchored between ${when(from)}, when ${result.client} dated its entry, and ${when(by)}, by when ${result.cosigners.length} members of the consortium (${result.cosigners.join(", ")}) had cosigned the log that holds it in block ${result.blockHeight}.`,
  ];
  if (result.salted) explanation.push("The receipt anchors a salted commitment: the log never held this document's digest, only a value that this receipt's salt ties to it.");
  if (!fromDocument) explanation.push("You gave a digest, not the document: this proves a document with that digest existed by then; hash the document yourself to be sure it is this one.");
  return { ok: true, headline: `Verified: ${what} by ${timeInWords(by)}.`, explanation, steps, result };
}

function refused(e: CairnError): Outcome {
  const passed = new Map(stepsOf(e).map((s) => [s.step, s]));
  // A failure outside the steps (a trust document core refuses) names none.
  const failed = STEPS.find((s) => s.step === e.step);
  const steps = STEPS.map(({ step, title }): StepLine => {
    const s = passed.get(step);
    if (s !== undefined) return { step, title, state: s.status, detail: s.detail };
    if (step === failed?.step) return { step, title, state: "fail", detail: `${e.code}: ${e.message}` };
    return { step, title, state: "not-run", detail: "not reached" };
  });
  const headline = failed === undefined ? `Not verified: the trust document cannot be used (${e.code}).` : `Not verified: ${failed.failure}.`;
  const explanation = failed === undefined ? [e.message] : [`The check "${failed.title.toLowerCase()}" failed (${e.code}): ${e.message}`];
  return { ok: false, headline, explanation, steps, code: e.code, ...(failed === undefined ? {} : { failedStep: failed.step }) };
}
