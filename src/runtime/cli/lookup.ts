/**
 * `cairn lookup FILE… | --digest HEX…`: the anchors of a document's digest
 * (GET /v1/digests/{digest}), asked as the client whose key signs the
 * request (FORMATS.md §10). The server lists only the anchors this client
 * signed, unless its operator opened digest lookup: a stranger who guesses a
 * document learns nothing from it (README "Privacy").
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { requestSigner, signRequest } from "../../core/signed-request.js";
import { EXIT, hashFile, hex64, isoTime, loadClientKey, serverUrl, usageError, type Io } from "./common.js";
import { ServerClient } from "./http.js";
import { fetchTrust } from "./trust.js";

export const usage = `Usage: cairn lookup FILE... [options]
       cairn lookup --digest HEX [--digest HEX...] [options]

Finds the anchors of each FILE's SHA-256 (hashed on this machine; the
document is never sent) or of each digest. The request is signed with the
client key, and the server answers with the anchors that key signed (all
anchors only where the operator opened digest lookup). Prints one line per
anchor: entry id, status, where it is, when it was received, and the FILE
or digest. Fetch a receipt with \`cairn receipt ID\`. A salted anchor is not
found by its document: its receipt is the only way back to it.

  --digest HEX   look up a SHA-256 digest you computed (repeatable)
  --key FILE     client signer key (default: $CAIRN_CLIENT_KEY, else
                 $CAIRN_DATA_DIR/client.key, the dev key of \`npm start\`)
  --server URL   Cairn server (default: $CAIRN_SERVER, else http://127.0.0.1:8787)

Exit status: 0 every item has an anchor, 4 some item has none, 1 an error.`;

interface Anchor {
  readonly id: string;
  readonly status: string;
  readonly receivedAt: number;
  readonly block?: { readonly height: number; readonly index: number };
}

export async function lookup(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { digest: { type: "string", multiple: true }, key: { type: "string" }, server: { type: "string" } },
    allowPositionals: true,
  });
  const items: { label: string; digest: string }[] = [];
  for (const file of positionals) items.push({ label: file, digest: await hashFile(io, resolve(io.cwd, file)) });
  for (const d of values.digest ?? []) items.push({ label: hex64(d, "--digest", "lookup"), digest: hex64(d, "--digest", "lookup") });
  if (items.length === 0) throw usageError("nothing to look up: give FILEs or --digest HEX", "lookup");

  const { key } = await loadClientKey(io, values.key);
  const url = serverUrl(io, values.server);
  // The origin goes into every signed request; the trust document names it and needs no credential.
  const { origin } = await fetchTrust(new ServerClient(url));
  const signer = requestSigner(key);
  const server = new ServerClient(url, (method, target) => signRequest({ origin, method, target, time: Math.floor(Date.now() / 1000) }, signer));

  let missing = 0;
  for (const item of items) {
    const { body } = await server.get(`/v1/digests/${item.digest}`);
    const anchors = ((body as { anchors?: Anchor[] }).anchors ?? []) as Anchor[];
    if (anchors.length === 0) {
      missing++;
      io.err(`none  ${item.label}: no anchor of ${item.digest} signed by ${key.name}`);
    }
    for (const a of anchors) {
      const where = a.block === undefined ? "not in a block yet" : `block ${a.block.height} index ${a.block.index}`;
      io.out(`${a.id}  ${a.status}  ${where}  received ${isoTime(a.receivedAt)}  ${item.label}`);
    }
  }
  return missing > 0 ? EXIT.UNKNOWN : EXIT.OK;
}
