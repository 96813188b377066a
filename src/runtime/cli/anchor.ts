/**
 * `cairn anchor FILE… | --digest HEX…`: hash locally (documents never leave
 * the machine), sign cairn/submission/v1 notes with the client key (FORMATS.md
 * §4), submit them (POST /v1/anchors, or /v1/anchors/batch in chunks), and
 * with --wait poll each receipt, verify it offline against the pinned trust
 * document and only then write FILE.cairn.json — exactly the receipt JSON of
 * docs/FORMATS.md §9, so any verifier can read it.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CairnClient } from "../../client/client.js";
import { fromHex } from "../../core/bytes.js";
import { withSalt } from "../../core/receipt.js";
import { isCairnError } from "../../core/errors.js";
import { formatVerifierKey, KEY_TYPE_ED25519 } from "../../core/keys.js";
import { entryId } from "../../core/submission.js";
import type { Trust } from "../../core/trust.js";
import { ReceiptVerifier } from "../../core/verify-receipt.js";
import { isSplitView } from "../../core/split-view.js";
import { CheckpointMemory, operatorProofs, splitEvidence, viewOfNote } from "./checkpoint-memory.js";
import {
  CliError,
  display,
  EXIT,
  fileExists,
  hashFile,
  hex64,
  isoTime,
  loadClientKey,
  mapLimit,
  plural,
  serverUrl,
  sleep,
  usageError,
  writeJsonFile,
  type Io,
} from "./common.js";
import { errorOf, HttpError, ServerClient } from "./http.js";
import { Progress } from "./progress.js";
import { fetchTrust, sameTrust, trustDifference } from "./trust.js";
import { howToPin, trustFor } from "./trust-source.js";
import { trustFingerprint } from "../../core/trust.js";

export const usage = `Usage: cairn anchor FILE... [options]
       cairn anchor --digest HEX [--digest HEX...] [options]

Hashes each FILE with SHA-256 on this machine (the document is never sent),
signs a cairn/submission/v1 with the client key and submits it. Prints one
line per item: entry id, status, and the file or digest.

  --wait             wait for each receipt, verify it offline against the
                     trust pinned for the log (\`cairn trust add\`; the dev
                     trust of \`npm start\` for its dev log) and write it to
                     FILE.cairn.json (HEX.cairn.json for --digest). The
                     server's own trust document is never pinned for you.
  --timeout SECONDS  how long --wait waits (default 30)
  --digest HEX       anchor a SHA-256 digest you computed (repeatable)
  --prev ID          entry id of the anchor of the previous version of the
                     document (one item only)
  --salted           anchor SHA-256(salt ‖ SHA-256(document)) with a fresh
                     random 32-byte salt per item, kept only in the receipt
                     (cairn-receipt/v2): the server never sees the document's
                     digest, so nobody can confirm a guess of the document
                     with it. Needs --wait (the salt is written into the
                     receipt); lose the receipt and the anchor proves nothing
  --key FILE         client signer key (default: $CAIRN_CLIENT_KEY, else
                     $CAIRN_DATA_DIR/client.key, the dev key of \`npm start\`)
  --server URL       Cairn server (default: $CAIRN_SERVER, else
                     http://127.0.0.1:8787)

Exit status: 0 all anchored (and with --wait, all receipts written),
1 an error, 3 some receipts still pending at the timeout.`;

/** The batch route's limit (DEFAULTS.maxBatchItems). */
const BATCH_SIZE = 1000;
const BATCH_CONCURRENCY = 3;
const HASH_CONCURRENCY = 4;
const POLL_CONCURRENCY = 8;
/** Above this many items, each phase also shows progress on stderr. */
const PROGRESS_ABOVE = 10;

interface Item {
  /** The file as given, or the digest. */
  readonly label: string;
  readonly path?: string;
  digest: string;
  /** With --salted: the salt, and the document's own digest (`digest` is then the commitment). */
  salt?: Uint8Array;
  documentDigest?: string;
  /** Where the receipt goes. */
  readonly out: string;
  entry?: string;
  id?: string;
  status?: string;
  failed?: string;
}

export async function anchor(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      digest: { type: "string", multiple: true },
      wait: { type: "boolean", short: "w" },
      timeout: { type: "string" },
      prev: { type: "string" },
      salted: { type: "boolean" },
      key: { type: "string" },
      server: { type: "string" },
    },
    allowPositionals: true,
  });
  const items = collectItems(io, positionals, values.digest ?? []);
  const prev = values.prev === undefined ? undefined : hex64(values.prev, "--prev", "anchor");
  if (prev !== undefined && items.length !== 1) throw usageError("--prev links one new version to its previous anchor: give exactly one FILE or --digest", "anchor");
  const timeoutMs = parseTimeout(values.timeout);
  const salted = values.salted === true;
  if (salted && !values.wait) throw usageError("--salted needs --wait: the salt exists only in the receipt it writes", "anchor");

  const { key } = await loadClientKey(io, values.key);
  const clientKey = formatVerifierKey(key.name, KEY_TYPE_ED25519, key.publicKey);
  const server = new ServerClient(serverUrl(io, values.server));
  const serverTrust = await fetchTrust(server);
  const many = items.length > PROGRESS_ABOVE;

  await hashAll(io, items, many);

  // One time for the whole run: the server accepts ±300 s, and a retried run re-signs anyway.
  const time = Math.floor(Date.now() / 1000);
  const client = new CairnClient({ server: server.url, key, origin: serverTrust.origin });
  await mapLimit(items, 16, async (item) => {
    const prepared = await client.prepare({ digest: item.digest }, { salted, time, ...(prev ? { prev } : {}) });
    item.entry = prepared.entry;
    if (prepared.salt !== undefined) {
      // The commitment is what the server sees; the salt and the document's digest stay here.
      item.salt = prepared.salt;
      item.documentDigest = prepared.documentDigest;
      item.digest = prepared.digest;
    }
  });

  await submitAll(io, server, items, many);
  const accepted = items.filter((i) => i.failed === undefined);
  const failures = items.length - accepted.length;

  if (!values.wait) {
    if (accepted.length > 0) {
      const first = accepted[0]!;
      io.err(
        accepted.length === 1
          ? `Fetch the receipt once sealed: cairn receipt ${first.id} --out ${display(io, first.out)}  (or anchor with --wait)`
          : `Fetch receipts once sealed with \`cairn receipt ID --out FILE.cairn.json\`, or anchor with --wait.`,
      );
    }
    return failures > 0 ? EXIT.FAILED : EXIT.OK;
  }
  if (accepted.length === 0) return EXIT.FAILED;

  const trust = await verificationTrust(io, server, serverTrust);
  const outcome = await waitForReceipts(io, server, accepted, trust, clientKey, timeoutMs, many);
  if (failures + outcome.failed > 0) return EXIT.FAILED;
  return outcome.pending > 0 ? EXIT.PENDING : EXIT.OK;
}

function collectItems(io: Io, files: string[], digests: string[]): Item[] {
  if (files.length + digests.length === 0) throw usageError("nothing to anchor: give FILEs or --digest HEX", "anchor");
  const items: Item[] = [];
  const seen = new Set<string>();
  // `cairn anchor dir/*` run twice would otherwise anchor the first run's receipts.
  const receipts = files.length > 1 ? files.filter((f) => f.endsWith(".cairn.json")) : [];
  if (receipts.length > 0) {
    io.err(`note: skipping ${receipts.length === 1 ? "1 receipt file" : `${receipts.length} receipt files`} (*.cairn.json) among the FILEs; anchor one alone to anchor it`);
    files = files.filter((f) => !f.endsWith(".cairn.json"));
  }
  for (const file of files) {
    const path = resolve(io.cwd, file);
    if (seen.has(path)) continue;
    seen.add(path);
    items.push({ label: file, path, digest: "", out: `${path}.cairn.json` });
  }
  for (const d of digests) {
    const digest = hex64(d, "--digest", "anchor");
    if (seen.has(digest)) continue;
    seen.add(digest);
    items.push({ label: digest, digest, out: join(io.cwd, `${digest}.cairn.json`) });
  }
  return items;
}

function parseTimeout(raw: string | undefined): number {
  if (raw === undefined) return 30_000;
  const s = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(s > 0)) throw usageError(`--timeout must be a positive number of seconds, got ${JSON.stringify(raw)}`, "anchor");
  return s * 1000;
}

// ---------------------------------------------------------------------------
// Hashing, streamed: a large document is never held in memory.

async function hashAll(io: Io, items: Item[], many: boolean): Promise<void> {
  const files = items.filter((i) => i.path !== undefined);
  const progress = new Progress(io, "hashing", files.length, many);
  await mapLimit(files, HASH_CONCURRENCY, async (item) => {
    item.digest = await hashFile(io, item.path!);
    progress.tick();
  });
  progress.finish();
}

// ---------------------------------------------------------------------------
// Submitting.

async function submitAll(io: Io, server: ServerClient, items: Item[], many: boolean): Promise<void> {
  const progress = new Progress(io, "submitting", items.length, many);
  const report = (item: Item) => {
    if (item.failed !== undefined) io.err(`error  ${item.failed}  ${item.label}`);
    else progress.out(`${item.id}  ${item.status}  ${item.label}`);
  };

  if (items.length === 1) {
    // A refused single submission (unknown key, stale time…) is an HttpError that says why.
    const item = items[0]!;
    // Sent again, unchanged, if the reply is lost: the server knows the entry by its id.
    const { body } = await server.request("POST", "/v1/anchors", { submission: item.entry }, [200, 202], { idempotent: true });
    accept(item, body);
    report(item);
    return;
  }

  const chunks: Item[][] = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) chunks.push(items.slice(i, i + BATCH_SIZE));
  await mapLimit(chunks, BATCH_CONCURRENCY, async (chunk) => {
    const { body } = await server.request("POST", "/v1/anchors/batch", { submissions: chunk.map((i) => i.entry) }, [200], { idempotent: true });
    const results = (body as { results?: unknown }).results;
    if (!Array.isArray(results) || results.length !== chunk.length) {
      throw new CliError(`${server.url}/v1/anchors/batch answered ${Array.isArray(results) ? results.length : "no"} results for ${chunk.length} submissions`);
    }
    for (const [i, item] of chunk.entries()) {
      const error = errorOf(results[i]);
      if (error !== undefined) item.failed = `${error.code}: ${error.message}`;
      else accept(item, results[i]);
      report(item);
    }
    progress.tick(chunk.length);
  });
  progress.finish();
}

/** Records the server's answer, checking that it names the entry we signed. */
function accept(item: Item, body: unknown): void {
  const { id, status } = (body ?? {}) as { id?: unknown; status?: unknown };
  const expected = entryId(item.entry!);
  if (id !== expected) throw new CliError(`the server answered id ${String(id)} for entry ${expected}: not the entry that was signed`);
  item.id = expected;
  item.status = typeof status === "string" ? status : "pending";
}

// ---------------------------------------------------------------------------
// Waiting for receipts.

/**
 * The trust to verify the new receipts against: the one the user pinned for
 * the log (or the dev trust of the embedded default); a server's document
 * that differs from it is reported, never adopted. With none pinned, the
 * receipts are checked against the server's own document, which proves only
 * that the server is consistent with itself, and the output says so.
 */
async function verificationTrust(io: Io, server: ServerClient, serverTrust: Trust): Promise<{ trust: Trust; pinned: boolean }> {
  const chosen = await trustFor(io, serverTrust.origin);
  if (chosen === undefined) {
    io.err(`warning: ${howToPin(serverTrust.origin, { url: server.url, fingerprint: trustFingerprint(serverTrust) })}\n  Until then, receipts are checked only against the server's own trust document, which a lying server would forge too.`);
    return { trust: serverTrust, pinned: false };
  }
  if (!sameTrust(chosen.trust, serverTrust)) {
    io.err(
      `warning: the server's trust document (fingerprint ${trustFingerprint(serverTrust)}) differs from ${chosen.source} (fingerprint ${chosen.fingerprint}): ${trustDifference(serverTrust, chosen.trust)}.\n` +
        "  Receipts are verified against yours. If the consortium legitimately changed its keys, pin its new document with `cairn trust add`.",
    );
  }
  io.err(`Trust: ${chosen.source}, fingerprint ${chosen.fingerprint}`);
  return { trust: chosen.trust, pinned: true };
}

/**
 * Judges each distinct checkpoint the new receipts carry against the views
 * remembered for the log (./checkpoint-memory.ts), one at a time, with the
 * server's consistency proofs (anchoring is online anyway). Resolves to the
 * split view's message and evidence, or undefined when the view fits.
 */
async function viewJudge(io: Io, server: ServerClient, verifier: ReceiptVerifier): Promise<(note: string) => Promise<string | undefined>> {
  const memory = await CheckpointMemory.open(io, verifier);
  const proofs = operatorProofs(server);
  const judged = new Map<string, Promise<string | undefined>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (note) => {
    let verdict = judged.get(note);
    if (verdict === undefined) {
      verdict = queue.then(async () => {
        try {
          await memory.observe(viewOfNote(note), `anchor --wait from ${server.url}`, Math.floor(Date.now() / 1000), proofs);
          return undefined;
        } catch (e) {
          if (isSplitView(e)) return `SPLIT_VIEW: ${e.message}\n${splitEvidence(e)}`;
          throw e;
        }
      });
      queue = verdict.catch(() => undefined);
      judged.set(note, verdict);
    }
    return verdict;
  };
}

async function waitForReceipts(
  io: Io,
  server: ServerClient,
  items: Item[],
  { trust, pinned }: { trust: Trust; pinned: boolean },
  clientKey: string,
  timeoutMs: number,
  many: boolean,
): Promise<{ failed: number; pending: number }> {
  const verifier = new ReceiptVerifier(trust);
  const views = pinned ? await viewJudge(io, server, verifier) : undefined;
  const deadline = Date.now() + timeoutMs;
  const progress = new Progress(io, "receipts", items.length, many);
  const order = new Map(items.map((item, i) => [item, i]));
  let pending = items.slice();
  let failed = 0;

  const settle = async (item: Item, receipt: unknown) => {
    progress.tick();
    let result;
    try {
      if (item.salt !== undefined) receipt = withSalt(receipt, item.salt);
      result = await verifier.verify(receipt, { digest: fromHex(item.documentDigest ?? item.digest, 32), clientKeys: [clientKey] });
    } catch (e) {
      failed++;
      const why = isCairnError(e) ? `${e.code}${e.step ? ` at step ${e.step}` : ""}: ${e.message}` : (e as Error).message;
      io.err(`error  the receipt of ${item.label} (${item.id}) does not verify, not written: ${why}`);
      return;
    }
    const split = await views?.(result.checkpointNote);
    if (split !== undefined) {
      failed++;
      io.err(`error  the receipt of ${item.label} (${item.id}) is on a split view, not written: ${split}`);
      return;
    }
    await writeOrFail(io, item.out, receipt);
    const checked = `${pinned ? "receipt verified" : "receipt checked against the server's own trust only (none pinned)"}${item.salt ? ", salted" : ""}`;
    progress.out(`${item.id}  sealed in block ${result.blockHeight} at ${isoTime(result.sealedAt)}, ${checked} → ${display(io, item.out)}`);
  };

  while (pending.length > 0) {
    let waitMs = 0;
    const still: Item[] = [];
    // In acceptance order: once one is still pending, later ones almost surely are too.
    for (let i = 0; i < pending.length; i += POLL_CONCURRENCY) {
      const window = pending.slice(i, i + POLL_CONCURRENCY);
      if (waitMs > 0) {
        still.push(...window);
        continue;
      }
      await mapLimit(window, POLL_CONCURRENCY, async (item) => {
        const answer = await server.get(`/v1/anchors/${item.id}/receipt`, [200, 202]).catch((e: unknown) => {
          if (e instanceof HttpError && e.status === 404) return undefined;
          throw e;
        });
        if (answer === undefined) {
          failed++;
          io.err(`error  the server no longer knows ${item.id} (${item.label})`);
          progress.tick();
        } else if (answer.status === 202) {
          still.push(item);
          waitMs = Math.max(waitMs, answer.retryAfterMs ?? 1000);
        } else {
          await settle(item, answer.body);
        }
      });
    }
    pending = still.sort((a, b) => order.get(a)! - order.get(b)!);
    if (pending.length === 0) break;
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(waitMs || 1000, left));
  }
  progress.finish();

  if (pending.length > 0) {
    io.err(`${plural(pending.length, "receipt")} still pending after ${timeoutMs / 1000} s; fetch later with:`);
    for (const item of pending.slice(0, 5)) io.err(`  cairn receipt ${item.id} --out ${display(io, item.out)}`);
    if (pending.length > 5) io.err(`  … and ${pending.length - 5} more`);
  }
  return { failed, pending: pending.length };
}

async function writeOrFail(io: Io, path: string, value: unknown): Promise<void> {
  try {
    await writeJsonFile(path, value);
  } catch (e) {
    throw new CliError(`cannot write ${display(io, path)}: ${(e as Error).message}`);
  }
}
