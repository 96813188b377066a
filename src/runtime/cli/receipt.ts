/**
 * `cairn receipt ID`: fetch a receipt (GET /v1/anchors/{id}/receipt) and
 * print it or write it to a file. It is not verified here: `cairn verify`
 * does that, offline, against the document.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { CliError, display, EXIT, hex64, serverUrl, usageError, writeJsonFile, type Io } from "./common.js";
import { HttpError, ServerClient } from "./http.js";

export const usage = `Usage: cairn receipt ID [--out FILE] [--server URL]

Fetches the receipt of the anchor with entry id ID (as printed by
\`cairn anchor\`) and prints it, or writes it to FILE.

  --out FILE     write the receipt JSON to FILE instead of stdout
  --server URL   Cairn server (default: $CAIRN_SERVER, else http://127.0.0.1:8787)

Exit status: 0 receipt fetched, 3 still pending (not sealed or not final
yet), 4 unknown id, 1 other errors.`;

export async function receipt(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: "string", short: "o" }, server: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw usageError("receipt takes one entry ID", "receipt");
  const id = hex64(positionals[0]!, "the entry id", "receipt");
  const server = new ServerClient(serverUrl(io, values.server));

  let answer;
  try {
    answer = await server.get(`/v1/anchors/${id}/receipt`, [200, 202]);
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) {
      io.err(`cairn: ${server.url} knows no anchor with id ${id}`);
      return EXIT.UNKNOWN;
    }
    throw e;
  }
  if (answer.status === 202) {
    const after = Math.ceil((answer.retryAfterMs ?? 1000) / 1000);
    io.err(`${id} is pending: not sealed into a final block yet. Try again in ${after} s.`);
    return EXIT.PENDING;
  }
  if (values.out === undefined) {
    io.out(JSON.stringify(answer.body, null, 2));
  } else {
    const file = resolve(io.cwd, values.out);
    try {
      await writeJsonFile(file, answer.body);
    } catch (e) {
      throw new CliError(`cannot write ${display(io, file)}: ${(e as Error).message}`);
    }
    io.err(`Wrote the receipt of ${id} to ${display(io, file)}; check it with: cairn verify DOCUMENT ${display(io, file)}`);
  }
  return EXIT.OK;
}
