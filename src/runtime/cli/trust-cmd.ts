/**
 * `cairn trust add|list|remove`: the user's pinned trust documents
 * (./trust-store.ts). Pinning is the one step where a person decides whom
 * receipts must be cosigned by, so every document added is shown with its
 * fingerprint, and one fetched from a URL is pinned only if its fingerprint
 * is the one the user was given out of band.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { trustFingerprint, trustRewrites, type Trust } from "../../core/trust.js";
import { CliError, display, EXIT, usageError, type Io } from "./common.js";
import { ServerClient } from "./http.js";
import { describeTrust, fetchTrust, readTrustFile } from "./trust.js";
import { listPinned, pin, pinnedTrust, trustStoreDir, unpin } from "./trust-store.js";

export const usage = `Usage: cairn trust add FILE [--replace]
       cairn trust add --from URL --fingerprint HEX [--replace]
       cairn trust list
       cairn trust remove ORIGIN

Pins the trust document of a log (FORMATS.md §8: its operator keys, its
members' cosigner keys and the quorum) for your user, keyed by the log's
origin, in ${"$"}XDG_CONFIG_HOME/cairn/trust (default ~/.config/cairn/trust).
\`cairn verify\` checks a receipt against the document pinned for the
receipt's origin.

  add FILE            pin the document in FILE (obtained out of band)
  add --from URL      fetch the document from a Cairn server (URL/v1/trust)
    --fingerprint HEX and pin it only if its fingerprint is HEX, the one the
                      consortium gave you out of band
    --replace         pin it even if it rewrites the one pinned for its origin

A document for an origin already pinned replaces it only if it carries it
on, as a key rotation does: every pinned key kept for the sizes it had, new
keys only for later sizes, no member gone, no quorum lowered. Anything else
is refused, with what it would rewrite, unless --replace says you mean it.
  list                the pinned origins, each with its fingerprint
  remove ORIGIN       unpin a log

The fingerprint is the SHA-256 of the document's canonical JSON; compare it
with the one the consortium publishes before you rely on a document.`;

export async function trust(args: string[], io: Io): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === "add") return add(rest, io);
  if (verb === "list") return list(io);
  if (verb === "remove") return remove(rest, io);
  throw usageError(verb === undefined ? "trust needs add, list or remove" : `unknown trust command ${verb}`, "trust");
}

async function add(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { from: { type: "string" }, fingerprint: { type: "string" }, replace: { type: "boolean" } }, allowPositionals: true });
  let doc: Trust;
  let source: string;
  if (values.from !== undefined) {
    if (positionals.length > 0) throw usageError("give either FILE or --from URL, not both", "trust");
    const wanted = values.fingerprint?.toLowerCase();
    if (wanted === undefined || !/^[0-9a-f]{64}$/.test(wanted)) {
      throw usageError("--from needs --fingerprint HEX (64 hex digits): a document fetched over the network is pinned only if it is the one you were told of", "trust");
    }
    const server = new ServerClient(values.from.replace(/\/+$/, ""));
    doc = await fetchTrust(server);
    const got = trustFingerprint(doc);
    if (got !== wanted) {
      throw new CliError(`the trust document from ${server.url}/v1/trust has fingerprint ${got}, not ${wanted}: not pinned (${describeTrust(doc)})`);
    }
    source = `${server.url}/v1/trust`;
  } else {
    if (positionals.length !== 1) throw usageError("trust add takes one FILE (or --from URL --fingerprint HEX)", "trust");
    if (values.fingerprint !== undefined) throw usageError("--fingerprint goes with --from URL", "trust");
    const path = resolve(io.cwd, positionals[0]!);
    doc = await readTrustFile(io, path);
    source = display(io, path);
  }
  const before = await pinnedTrust(io, doc.origin);
  let replaced = "";
  if (before !== undefined && before.fingerprint !== trustFingerprint(doc)) {
    const rewrites = trustRewrites(before.trust, doc);
    if (rewrites.length > 0 && !values.replace) {
      throw new CliError(
        `not pinned: this document for ${doc.origin} would rewrite the one pinned (fingerprint ${before.fingerprint}):\n${rewrites.map((r) => `  - ${r}`).join("\n")}\n` +
          "  A rotation only adds keys for later sizes. If the consortium really changed this, pin it with --replace.",
      );
    }
    replaced = `\n  replaces fingerprint ${before.fingerprint}${rewrites.length > 0 ? ` (--replace: ${rewrites.length} rewrite${rewrites.length === 1 ? "" : "s"} accepted)` : ", which it carries on"}`;
  }
  const pinned = await pin(io, doc);
  io.out(`Pinned ${doc.origin} from ${source}\n  ${describeTrust(doc)}\n  fingerprint ${pinned.fingerprint}${replaced}\n  stored in ${pinned.path}`);
  return EXIT.OK;
}

async function list(io: Io): Promise<number> {
  const all = await listPinned(io);
  if (all.length === 0) io.err(`no trust documents pinned (in ${trustStoreDir(io)}); pin one with \`cairn trust add FILE\``);
  for (const p of all) io.out(`${p.trust.origin}  ${p.fingerprint}  ${describeTrust(p.trust)}`);
  return EXIT.OK;
}

async function remove(args: string[], io: Io): Promise<number> {
  if (args.length !== 1) throw usageError("trust remove takes one ORIGIN", "trust");
  if (!(await unpin(io, args[0]!))) throw new CliError(`no trust document is pinned for ${args[0]} (see \`cairn trust list\`)`);
  io.out(`Unpinned ${args[0]}`);
  return EXIT.OK;
}
