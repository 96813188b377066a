/**
 * `cairn audit`: re-verify chain databases from block 0 with the service's
 * auditChain (docs/ARCHITECTURE.md: any member can audit its replica) —
 * every check a witness makes before it stores a block (chain link, batch
 * root, every entry's signature against the chain's own client registry,
 * times) plus the stored hashes and checkpoint. Reports the first bad block.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseBlockHeader } from "../../core/block.js";
import { formatVerifierKey, parseSignerKey } from "../../core/keys.js";
import { auditChain, type AuditReport } from "../../service/audit.js";
import { openLibsqlStore, type LibsqlStore } from "../../store/libsql.js";
import { CliError, dataDir, display, EXIT, fileExists, plural, usageError, type Io } from "./common.js";
import { Progress } from "./progress.js";

export const usage = `Usage: cairn audit [DB...] [--origin ORIGIN] [--log-key KEY]... [--auth-token TOKEN]
       cairn audit [--data-dir DIR]

Re-verifies chain databases from block 0: every block header hashes to its
stored hash and links to the previous one, every entry hashes to its id and
belongs to the log, every client registration and revocation is signed by
the operator and replays cleanly, every submission is signed by a client
registered and not revoked at that point of the chain, no block is dated
before its predecessor or in the future, every batch root and history-tree
hash is recomputed, and the stored checkpoint's root matches. Reports the
first bad block.

  DB                 a libSQL URL (file:…, libsql://…, https://…) or a
                     database file path; repeatable
  --origin ORIGIN    the log's origin (default: from DIR/dev-keys.json when
                     present, else the one block 0 names)
  --log-key KEY      the operator's verifier key (repeatable); client records
                     must be signed by one (default: from DIR/dev-keys.json)
  --auth-token TOKEN token for a remote libSQL database
  --data-dir DIR     without DB: audit every database of the embedded default
                     in DIR (primary.db and each members/<name>/replica.db;
                     default $CAIRN_DATA_DIR, else ./data)

Exit status: 0 every database is sound, 1 a bad block or an unreadable database.`;

/** Block counts above this get a progress display. */
const PROGRESS_ABOVE = 10;

export async function audit(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "data-dir": { type: "string" }, origin: { type: "string" }, "log-key": { type: "string", multiple: true }, "auth-token": { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length > 0 && values["data-dir"] !== undefined) throw usageError("give DB URLs or --data-dir DIR, not both", "audit");

  const dir = dataDir(io, values["data-dir"]);
  const devOrigin = readDevOrigin(dir);
  let targets: Target[];
  if (positionals.length > 0) {
    targets = positionals.map((p) => database(io, p));
  } else {
    if (devOrigin === undefined) {
      throw new CliError(
        `${display(io, dir)} is not the data directory of the embedded default (no dev-keys.json there).\n` +
          "  Give it with --data-dir DIR, or audit a database directly: cairn audit DB_URL --origin ORIGIN",
      );
    }
    const members = fileExists(join(dir, "members")) ? readdirSync(join(dir, "members")).sort((a, b) => a.localeCompare(b, "en", { numeric: true })) : [];
    const files = [join(dir, "primary.db"), ...members.map((m) => join(dir, "members", m, "replica.db"))].filter(fileExists);
    if (files.length === 0) throw new CliError(`no databases in ${display(io, dir)} yet: start the server once (npm start)`);
    targets = files.map((f) => ({ label: display(io, f), url: pathToFileURL(f).href }));
  }

  let bad = 0;
  for (const target of targets) {
    // A file inside an embedded-default data dir takes that dir's origin; other databases name theirs in block 0.
    const origin = values.origin ?? (target.dir === undefined ? devOrigin : readDevOrigin(target.dir));
    const keys = values["log-key"] ?? readDevLogKeys(target.dir ?? dir);
    if (keys === undefined) throw usageError("give the operator's verifier key with --log-key KEY: client records are checked against it", "audit");
    const ok = await auditOne(io, target, origin, keys, values["auth-token"]);
    if (!ok) bad++;
  }
  if (targets.length > 1) io.out(bad === 0 ? `All ${targets.length} databases are sound.` : `FAILED: ${bad} of ${targets.length} databases did not pass the audit.`);
  return bad === 0 ? EXIT.OK : EXIT.FAILED;
}

async function auditOne(io: Io, target: Target, givenOrigin: string | undefined, operatorKeys: readonly string[], authToken: string | undefined): Promise<boolean> {
  let store: LibsqlStore | undefined;
  try {
    store = await openLibsqlStore({ url: target.url, ...(authToken === undefined ? {} : { authToken }) });
    const origin = givenOrigin ?? (await originOfBlock0(io, store, target.label));
    let progress: Progress | undefined;
    const report: AuditReport = await auditChain(store, { origin, operatorKeys, now: Math.floor(Date.now() / 1000) }, (height, of) => {
      progress ??= new Progress(io, `auditing ${target.label}`, of, of > PROGRESS_ABOVE);
      if (height > 0) progress.tick();
    });
    if (progress !== undefined) {
      if (report.ok) progress.tick();
      progress.finish();
    }
    if (report.ok) {
      io.out(`✓ ${target.label}: ${plural(report.blocks, "block")}, ${plural(report.entries, "entry", "entries")}, history root ${report.root || "(empty)"}`);
      return true;
    }
    const { height, reason } = report.firstBad!;
    io.out(`✗ ${target.label}: block ${height} is bad: ${reason}`);
    return false;
  } catch (e) {
    io.out(`✗ ${target.label}: cannot audit: ${(e as Error).message}`);
    return false;
  } finally {
    store?.close();
  }
}

interface Target {
  readonly label: string;
  readonly url: string;
  /** The directory of a database file given on the command line. */
  readonly dir?: string;
}

/** A URL as given, or a path made into a file: URL; a file must exist (opening would create it). */
function database(io: Io, given: string): Target {
  if (/^(libsql|https?|wss?):\/\//.test(given)) return { label: given.replace(/\?.*$/, ""), url: given };
  const file = given.replace(/\?.*$/, "");
  const path = file.startsWith("file://") ? fileURLToPath(file) : resolve(io.cwd, file.startsWith("file:") ? file.slice(5) : file);
  if (!fileExists(path)) throw new CliError(`no database at ${display(io, path)}`);
  return { label: display(io, path), url: pathToFileURL(path).href, dir: dirname(path) };
}

/** The operator's verifier key of an embedded-default data dir (or of the one a member's replica sits in). */
function readDevLogKeys(dir: string): string[] | undefined {
  for (const d of [dir, join(dir, "..", ".."), join(dir, "..", "..", "..")]) {
    const file = join(d, "dev-keys.json");
    if (!fileExists(file)) continue;
    try {
      const k = parseSignerKey((JSON.parse(readFileSync(file, "utf8")) as { operatorKey: string }).operatorKey);
      return [formatVerifierKey(k.name, k.type, k.publicKey)];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function readDevOrigin(dir: string): string | undefined {
  const file = join(dir, "dev-keys.json");
  if (!fileExists(file)) return undefined;
  try {
    const origin = (JSON.parse(readFileSync(file, "utf8")) as { origin?: unknown }).origin;
    return typeof origin === "string" ? origin : undefined;
  } catch {
    return undefined;
  }
}

async function originOfBlock0(io: Io, store: LibsqlStore, label: string): Promise<string> {
  const block = await store.getBlock(0);
  if (block === undefined) return "";
  const origin = parseBlockHeader(block.header).origin;
  io.err(`note: no --origin given; auditing ${label} as the log its block 0 names: ${origin}`);
  return origin;
}
