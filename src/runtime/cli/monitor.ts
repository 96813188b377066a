/**
 * `cairn monitor`: follows a log and its member witnesses and reports any
 * split view (docs/ARCHITECTURE.md "Split views"). Each round reads the
 * operator's newest final checkpoint and each witness's latest cosigned
 * one, believes each only as far as the pinned trust vouches (the
 * operator's signature; for a witness's answer, that member's own
 * cosignature), and judges them all, with every checkpoint remembered for
 * the log, as views of one history (./checkpoint-memory.ts), asking the
 * operator for the consistency proofs. The operator's proofs need no trust:
 * a proof either joins two signed roots or it does not.
 */
import { createServer, type Server } from "node:http";
import { parseArgs } from "node:util";
import { parseCheckpoint } from "../../core/checkpoint.js";
import { isCairnError } from "../../core/errors.js";
import { parseNote } from "../../core/note.js";
import { isSplitView, type SplitViewError } from "../../core/split-view.js";
import { ReceiptVerifier } from "../../core/verify-receipt.js";
import { Metrics } from "../../service/metrics.js";
import { parseInterval } from "../config.js";
import { CheckpointMemory, operatorProofs, splitEvidence, viewOfNote } from "./checkpoint-memory.js";
import { CliError, EXIT, isoTime, serverUrl, sleep, usageError, type Io } from "./common.js";
import { ServerClient } from "./http.js";
import { howToPin, trustFor } from "./trust-source.js";

export const usage = `Usage: cairn monitor [--server URL] [--witness NAME=URL]... [--trust FILE]
                     [--interval DURATION] [--once] [--metrics HOST:PORT]

Watches a log for split views. Every DURATION (default 10s) it reads the
operator's newest checkpoint (GET /v1/checkpoint) and each member witness's
latest cosigned checkpoint (GET WITNESS/checkpoint), checks each against
the trust pinned for the log (the operator's signature; on a witness's
answer, that member's own cosignature), and checks that all of them, and
every checkpoint remembered for the log (as \`cairn verify\` remembers
them), fit one append-only history: equal sizes must have equal roots,
other sizes are joined by a consistency proof the operator gives.

  --server URL        the operator (default CAIRN_SERVER, else http://127.0.0.1:8787)
  --witness NAME=URL  a member's witness; repeatable. Default: the witnesses
                      the operator lists at /v1/consortium (an answer counts
                      only if it carries that member's pinned key's cosignature,
                      so a wrong URL can hide a witness but not impersonate one)
  --trust FILE        the trust document (default: the one pinned for the
                      log's origin, as for \`cairn verify\`)
  --interval D        time between rounds: 10s, 500ms, … (default 10s)
  --once              one round, then exit
  --metrics H:P       serve Prometheus metrics at http://H:P/metrics

A split view is reported on stdout as a line starting "SPLIT VIEW" followed
by both signed checkpoints, and counted in cairn_monitor_split_views_total.

Exit status (--once): 0 every view fits one history, 1 a split view was
found or the operator's checkpoint could not be read or verified.`;

interface Source {
  readonly name: string;
  readonly url: string;
}

interface Round {
  readonly splits: number;
  readonly operatorOk: boolean;
}

export async function monitor(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      server: { type: "string" },
      witness: { type: "string", multiple: true },
      trust: { type: "string" },
      interval: { type: "string" },
      once: { type: "boolean" },
      metrics: { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw usageError(`monitor takes no arguments, got ${JSON.stringify(positionals[0])}`, "monitor");
  let intervalMs: number;
  try {
    intervalMs = parseInterval("--interval", values.interval, 10_000);
  } catch (e) {
    throw usageError((e as Error).message, "monitor");
  }
  const witnessFlags = (values.witness ?? []).map(parseWitnessFlag);
  const server = new ServerClient(serverUrl(io, values.server));

  // The origin comes from the log's own checkpoint; what vouches for it is the pinned trust.
  const first = await readNote(server, "/v1/checkpoint");
  const origin = originOf(first);
  const chosen = await trustFor(io, origin, values.trust);
  if (chosen === undefined) throw new CliError(howToPin(origin));
  if (chosen.trust.origin !== origin) throw new CliError(`the trust document is for ${chosen.trust.origin}, but ${server.url} serves the log ${origin}`);
  const verifier = new ReceiptVerifier(chosen.trust);
  const memberNames = new Set(chosen.trust.members.map((m) => m.name));
  for (const w of witnessFlags) if (!memberNames.has(w.name)) throw usageError(`--witness ${w.name}: the trust document lists no member of that name`, "monitor");
  io.err(`monitoring ${origin} at ${server.url}\n  trust: ${chosen.source} (fingerprint ${chosen.fingerprint})`);

  const metrics = new Metrics();
  const m = {
    rounds: metrics.counter("cairn_monitor_rounds_total", "Rounds of reading and judging every view."),
    splits: metrics.counter("cairn_monitor_split_views_total", "Distinct split views found: two signed checkpoints of the log that cannot share one history."),
    errors: metrics.counter("cairn_monitor_source_errors_total", "Answers that could not be read or did not verify, by source."),
    size: metrics.gauge("cairn_monitor_checkpoint_size", "Size of the newest verified checkpoint, by source."),
    last: metrics.gauge("cairn_monitor_last_round_timestamp_seconds", "When the last round ended."),
  };
  const http = values.metrics === undefined ? undefined : await serveMetrics(values.metrics, metrics);
  if (http !== undefined) io.err(`  metrics: http://${values.metrics}/metrics`);

  const proofs = operatorProofs(server);
  const reported = new Set<string>();

  const round = async (): Promise<Round> => {
    const witnesses = witnessFlags.length > 0 ? witnessFlags : await listedWitnesses(server, io, memberNames);
    const views: { source: string; note: string }[] = [];
    let operatorOk = false;
    const fail = (source: string, why: string) => {
      m.errors({ source });
      io.err(`${isoTime(Math.floor(Date.now() / 1000))} ${source}: ${why}`);
    };
    try {
      const note = await readNote(server, "/v1/checkpoint");
      const opened = await verifier.openCheckpoint(note);
      views.push({ source: "operator", note });
      m.size(opened.checkpoint.size, { source: "operator" });
      operatorOk = true;
    } catch (e) {
      fail("operator", messageOf(e));
    }
    for (const w of witnesses) {
      const source = `witness ${w.name}`;
      try {
        const note = await readNoteIfAny(new ServerClient(w.url), "/checkpoint");
        if (note === undefined) continue; // has cosigned nothing yet
        const opened = await verifier.openCheckpoint(note);
        if (!opened.cosigners.some((c) => c.name === w.name)) throw new CliError(`its checkpoint does not carry ${w.name}'s cosignature under the pinned key`);
        views.push({ source, note });
        m.size(opened.checkpoint.size, { source });
      } catch (e) {
        fail(source, messageOf(e));
      }
    }
    const memory = await CheckpointMemory.open(io, verifier);
    let splits = 0;
    const now = Math.floor(Date.now() / 1000);
    for (const v of views) {
      try {
        await memory.observe(viewOfNote(v.note), v.source, now, proofs);
      } catch (e) {
        if (!isSplitView(e)) {
          fail(v.source, `its checkpoint could not be checked for consistency: ${messageOf(e)}`);
          continue;
        }
        splits++;
        const key = evidenceKey(e);
        if (!reported.has(key)) {
          reported.add(key);
          m.splits();
          io.out(`SPLIT VIEW ${isoTime(now)} ${e.message}`);
          io.out(splitEvidence(e));
        }
      }
    }
    m.rounds();
    m.last(now);
    if (splits === 0 && views.length > 0) {
      const sizes = views.map((v) => `${v.source} ${parseCheckpoint(parseNote(v.note).text).size}`).join(", ");
      io.err(`${isoTime(now)} consistent: ${sizes}`);
    }
    return { splits, operatorOk };
  };

  try {
    if (values.once === true) {
      const r = await round();
      return r.splits > 0 || !r.operatorOk ? EXIT.FAILED : EXIT.OK;
    }
    let stopping = false;
    const stop = () => void (stopping = true);
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    while (!stopping) {
      await round();
      for (let waited = 0; waited < intervalMs && !stopping; waited += 100) await sleep(Math.min(100, intervalMs - waited));
    }
    return EXIT.OK;
  } finally {
    await new Promise<void>((done) => (http ? http.close(() => done()) : done()));
  }
}

function parseWitnessFlag(value: string): Source {
  const eq = value.indexOf("=");
  const name = value.slice(0, eq);
  const url = value.slice(eq + 1).replace(/\/+$/, "");
  if (eq <= 0 || !/^https?:\/\//.test(url)) throw usageError(`--witness must be NAME=URL with an http(s) URL, got ${JSON.stringify(value)}`, "monitor");
  return { name, url };
}

/** The witnesses the operator lists, keeping only members the trust names. */
async function listedWitnesses(server: ServerClient, io: Io, members: ReadonlySet<string>): Promise<Source[]> {
  try {
    const { body } = await server.get("/v1/consortium");
    const listed = (body as { members?: { name?: unknown; witness?: unknown }[] } | null)?.members ?? [];
    return listed.filter((w): w is { name: string; witness: string } => typeof w.name === "string" && typeof w.witness === "string" && members.has(w.name)).map((w) => ({ name: w.name, url: w.witness.replace(/\/+$/, "") }));
  } catch (e) {
    io.err(`cannot list the witnesses at ${server.url}/v1/consortium (${messageOf(e)}); give --witness NAME=URL`);
    return [];
  }
}

/** A signed note served as text at `path`. */
async function readNote(client: ServerClient, path: string): Promise<string> {
  return (await readNoteIfAny(client, path, [200]))!;
}

/** The same, or undefined when the server has none yet (404). */
async function readNoteIfAny(client: ServerClient, path: string, expect: readonly number[] = [200, 404]): Promise<string | undefined> {
  const answer = await client.get(path, expect);
  if (answer.status === 404) return undefined;
  if (typeof answer.body !== "string") throw new CliError(`${client.url}${path} did not answer a signed note`);
  return answer.body;
}

function originOf(note: string): string {
  try {
    return parseCheckpoint(parseNote(note).text).origin;
  } catch (e) {
    throw new CliError(`the server's checkpoint is not a signed checkpoint note: ${messageOf(e)}`);
  }
}

function evidenceKey(e: SplitViewError): string {
  return e.evidence.map((v) => `${v.checkpoint.size}/${Buffer.from(v.checkpoint.root).toString("base64")}`).sort().join(" ");
}

function messageOf(e: unknown): string {
  if (isCairnError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function serveMetrics(address: string, metrics: Metrics): Promise<Server> {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon) || "127.0.0.1";
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--metrics must be HOST:PORT, got ${JSON.stringify(address)}`, "monitor");
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics.render());
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("only GET /metrics here\n");
    }
  });
  await new Promise<void>((done, fail) => {
    server.once("error", (e) => fail(new CliError(`cannot serve metrics at ${address}: ${e.message}`)));
    server.listen(port, host, done);
  });
  return server;
}
