/**
 * `cairn verify FILE RECEIPT`: offline receipt verification (FORMATS.md §9)
 * with core's ReceiptVerifier. The document is hashed here; the trust
 * document is the one the user chose or pinned (./trust-source.ts), never
 * one fetched from the network. Every step is printed.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { fromHex } from "../../core/bytes.js";
import { isCairnError } from "../../core/errors.js";
import { parseVerifierKey } from "../../core/keys.js";
import { ReceiptVerifier, stepsOf, type ReceiptVerification, type StepName, type StepResult } from "../../core/verify-receipt.js";
import { isSplitView } from "../../core/split-view.js";
import { CheckpointMemory, operatorProofs, splitEvidence, viewOfNote, type Observation, type ProofSource } from "./checkpoint-memory.js";
import { CliError, display, EXIT, fileExists, hashFile, hex64, isoTime, plural, serverUrl, usageError, type Io } from "./common.js";
import { ServerClient } from "./http.js";
import { describeTrust } from "./trust.js";
import { howToPin, trustFor } from "./trust-source.js";
import { parseReceipt } from "../../core/receipt.js";
import { parseEntry } from "../../core/submission.js";

export const usage = `Usage: cairn verify FILE RECEIPT [options]
       cairn verify --digest HEX RECEIPT [options]
       cairn verify --no-document RECEIPT [options]

Checks offline that RECEIPT (a cairn-receipt/v1 JSON file, e.g. FILE.cairn.json)
proves FILE was anchored: the document's SHA-256 matches the entry, the client
signed it, the entry is in the block, the block is in the checkpoint, and the
checkpoint is signed by the operator and cosigned by a quorum of members.

  --trust FILE        check against this trust document (default: the one
                      pinned for the receipt's origin with \`cairn trust add\`;
                      for the dev log of \`npm start\`, its data dir's
                      trust.json). Trust is never fetched from a server.
  --client-key VKEY   require the entry to be signed by this client verifier
                      key (or a file holding one); repeatable. Without it the
                      key carried in the receipt is used.
  --digest HEX        verify against a SHA-256 digest instead of a FILE
  --no-document       check the receipt alone, with no document or digest: it
                      then proves only that some document with the entry's
                      digest was anchored, and the output says NOT CHECKED
  --online            also ask the operator (--server, else CAIRN_SERVER, else
                      http://127.0.0.1:8787) to prove the receipt's checkpoint
                      consistent with the largest one remembered for its log
  --server URL        the operator to ask with --online

Split views: every checkpoint a receipt is verified against is remembered
per log (in $XDG_STATE_HOME/cairn/checkpoints, default ~/.local/state). A
receipt whose checkpoint has the size of a remembered one but another root
is refused, with both signed checkpoints printed as evidence; one of another
size is proven consistent with --online, and recorded until then.

Exit status: 0 the receipt verifies, 1 it does not (the failing step and its
code are printed), 2 usage errors.`;

const STEPS: readonly StepName[] = ["receipt", "digest", "entry-signature", "inclusion", "history", "checkpoint-signature", "cosignatures", "time"];

export async function verify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      trust: { type: "string" },
      "client-key": { type: "string", multiple: true },
      digest: { type: "string" },
      "no-document": { type: "boolean" },
      online: { type: "boolean" },
      server: { type: "string" },
    },
    allowPositionals: true,
  });
  const noDocument = values["no-document"] === true;
  if (values.server !== undefined && values.online !== true) throw usageError("--server is for --online: verification itself never asks a server", "verify");
  const proofs = values.online === true ? operatorProofs(new ServerClient(serverUrl(io, values.server))) : undefined;
  if (noDocument && values.digest !== undefined) throw usageError("give either --digest HEX or --no-document, not both", "verify");
  const byFile = values.digest === undefined && !noDocument;
  const wanted = byFile ? 2 : 1;
  if (positionals.length !== wanted) {
    throw usageError(byFile ? "verify takes a FILE and its RECEIPT (or --digest HEX, or --no-document, with the RECEIPT alone)" : `with ${noDocument ? "--no-document" : "--digest"}, verify takes only the RECEIPT`, "verify");
  }
  const receiptPath = resolve(io.cwd, positionals[wanted - 1]!);
  const documentPath = byFile ? resolve(io.cwd, positionals[0]!) : undefined;
  const clientKeys = await Promise.all((values["client-key"] ?? []).map((k) => clientKey(io, k)));

  let receiptText: string;
  try {
    receiptText = await readFile(receiptPath, "utf8");
  } catch (e) {
    throw new CliError(`cannot read the receipt ${display(io, receiptPath)}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const digest = noDocument ? undefined : documentPath === undefined ? hex64(values.digest!, "--digest", "verify") : await hashFile(io, documentPath);
  const origin = receiptOrigin(receiptText);
  const chosen = await trustFor(io, origin, values.trust);
  if (chosen === undefined) {
    // Without a parsable origin there is nothing to look up; the receipt step reports what is wrong with it.
    if (origin !== undefined) throw new CliError(howToPin(origin));
    throw new CliError(`${display(io, receiptPath)} is not a receipt this can verify (no origin could be read); give --trust FILE to see every step`);
  }
  const { trust, source } = chosen;

  const subject = digest === undefined ? "NO DOCUMENT (--no-document: the digest will not be checked)" : documentPath === undefined ? `digest ${digest}` : `${display(io, documentPath)} (sha256 ${digest})`;
  io.out(`Verifying ${display(io, receiptPath)} for ${subject}`);
  io.out(`Trust: ${source} (${describeTrust(trust)}; fingerprint ${chosen.fingerprint})`);

  const verifier = new ReceiptVerifier(trust);
  let result: ReceiptVerification;
  try {
    // The text, not our parse of it: the verifier reports malformed JSON as a failed "receipt" step.
    const against = digest === undefined ? { noDocument: true } : { digest: fromHex(digest, 32) };
    result = await verifier.verify(receiptText, { ...against, ...(clientKeys.length > 0 ? { clientKeys } : {}) });
  } catch (e) {
    if (!isCairnError(e)) throw e;
    const step = (e.step ?? "receipt") as StepName;
    // The verifier prefixes its messages with the step's name; the step column already says it.
    const message = e.message.startsWith(`${step}: `) ? e.message.slice(step.length + 2) : e.message;
    printSteps(io, stepsOf(e), { step, line: `${e.code}: ${message}` });
    io.out(`FAILED: ${e.code} at step ${step}`);
    return EXIT.FAILED;
  }
  printSteps(io, result.steps);
  const views = await rememberView(io, verifier, result, `receipt ${display(io, receiptPath)}`, proofs);
  if (views.failed) return EXIT.FAILED;
  io.out(
    [
      digest === undefined
        ? `OK, BUT NO DOCUMENT WAS CHECKED: the receipt is sound, so some document with digest ${result.digest} is anchored; which one, it does not say`
        : `OK: ${documentPath === undefined ? `digest ${digest}` : display(io, documentPath)} is anchored`,
      `  entry id:     ${result.entryId}`,
      ...(result.salted ? [`  salted:       yes: the log holds only SHA-256(salt ‖ digest); the salt is in this receipt alone`] : []),
      `  client:       ${result.client}, submitted at ${isoTime(result.submittedAt)}`,
      `  block:        ${result.blockHeight}`,
      `  sealed at:    ${isoTime(result.sealedAt)}`,
      `  checkpoint:   ${result.checkpointSize} blocks`,
      `  cosigners:    ${result.cosigners.length > 0 ? result.cosigners.join(", ") : "none"} (quorum ${trust.quorum})`,
      `  proven:       the ${digest === undefined ? "digest" : "document"} existed by ${isoTime(result.interval.by)}, when a quorum of members had cosigned; the client dated it ${isoTime(result.interval.from)}`,
      `  views:        ${views.line}`,
    ].join("\n"),
  );
  return EXIT.OK;
}

/**
 * Judges the receipt's checkpoint against the views remembered for its log
 * (./checkpoint-memory.ts) and records it. A split view is printed with
 * both signed checkpoints and fails the verification.
 */
async function rememberView(io: Io, verifier: ReceiptVerifier, result: ReceiptVerification, source: string, proofs: ProofSource | undefined): Promise<{ failed: boolean; line: string }> {
  const memory = await CheckpointMemory.open(io, verifier);
  let seen: Observation;
  try {
    seen = await memory.observe(viewOfNote(result.checkpointNote), source, Math.floor(Date.now() / 1000), proofs);
  } catch (e) {
    if (isSplitView(e)) {
      io.out(`FAILED: SPLIT_VIEW: ${e.message}`);
      io.out(splitEvidence(e));
      return { failed: true, line: "" };
    }
    if (e instanceof CliError) throw new CliError(`the receipt verifies, but its checkpoint could not be checked for consistency: ${e.message}`);
    throw e;
  }
  const size = result.checkpointSize;
  const line = {
    first: `the first checkpoint remembered for ${memory.origin} (${memory.path})`,
    known: `a checkpoint of ${size} blocks seen before`,
    proven: `consistent with the largest checkpoint seen for this log (${seen.largest} blocks), proven by the operator`,
    unproven: `recorded; not yet shown consistent with the ${seen.largest}-block checkpoint seen before (--online asks the operator for a proof)`,
  }[seen.status];
  const more = seen.provedNow.length > 0 ? `; also proved ${plural(seen.provedNow.length, "earlier checkpoint")} consistent` : "";
  return { failed: false, line: line + more };
}

function printSteps(io: Io, done: readonly StepResult[], failure?: { step: StepName; line: string }): void {
  const width = Math.max(...STEPS.map((s) => s.length));
  const byName = new Map(done.map((s) => [s.step, s]));
  for (const name of STEPS) {
    const s = byName.get(name);
    const label = name.padEnd(width);
    if (s !== undefined) io.out(`  ${s.status === "ok" ? "✓" : "!"} ${label}  ${s.detail}`);
    else if (name === failure?.step) io.out(`  ✗ ${label}  ${failure.line}`);
    else io.out(`  – ${label}  not checked`);
  }
}

/** The origin a receipt claims, to find the trust pinned for it; undefined when it does not parse (the verifier says why). */
function receiptOrigin(text: string): string | undefined {
  try {
    return parseEntry(parseReceipt(text).entry).submission.origin;
  } catch {
    return undefined;
  }
}

/** A verifier key given inline, or a file that holds one. */
async function clientKey(io: Io, value: string): Promise<string> {
  let text = value.trim();
  const path = resolve(io.cwd, value);
  if (fileExists(path)) text = (await readFile(path, "utf8")).trim();
  try {
    return parseVerifierKey(text).text;
  } catch (e) {
    throw usageError(`--client-key ${JSON.stringify(value)} is not a verifier key (name+id+base64) or a file holding one: ${isCairnError(e) ? e.message : String(e)}`, "verify");
  }
}
