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
import { CliError, display, EXIT, fileExists, hashFile, hex64, isoTime, usageError, type Io } from "./common.js";
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
    },
    allowPositionals: true,
  });
  const noDocument = values["no-document"] === true;
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
  io.out(
    [
      digest === undefined
        ? `OK, BUT NO DOCUMENT WAS CHECKED: the receipt is sound, so some document with digest ${result.digest} is anchored; which one, it does not say`
        : `OK: ${documentPath === undefined ? `digest ${digest}` : display(io, documentPath)} is anchored`,
      `  entry id:     ${result.entryId}`,
      `  client:       ${result.client}, submitted at ${isoTime(result.submittedAt)}`,
      `  block:        ${result.blockHeight}`,
      `  sealed at:    ${isoTime(result.sealedAt)}`,
      `  checkpoint:   ${result.checkpointSize} blocks`,
      `  cosigners:    ${result.cosigners.length > 0 ? result.cosigners.join(", ") : "none"} (quorum ${trust.quorum})`,
      `  proven:       the ${digest === undefined ? "digest" : "document"} existed by ${isoTime(result.interval.by)}, when a quorum of members had cosigned; the client dated it ${isoTime(result.interval.from)}`,
    ].join("\n"),
  );
  return EXIT.OK;
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
