/**
 * What every `cairn` command shares: the exit codes, the one error type the
 * CLI reports (a message for a person, plus an exit code), the settings read
 * once from flags and environment (server URL, data dir, client key), and
 * small helpers for files and concurrency.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve, isAbsolute } from "node:path";
import { isCairnError } from "../../core/errors.js";
import { KEY_TYPE_ED25519, parseSignerKey, type SignerKey } from "../../core/keys.js";

/** Exit codes: documented in `cairn --help`. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  PENDING: 3,
  UNKNOWN: 4,
} as const;

export const DEFAULT_SERVER = "http://127.0.0.1:8787";

/** An error meant for the person at the terminal: the message says what went wrong and what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILED,
  ) {
    super(message);
  }
}

export function usageError(message: string, command?: string): CliError {
  return new CliError(`${message}\nSee: cairn ${command ? `${command} ` : ""}--help`, EXIT.USAGE);
}

/** Where output goes and what the process was started with; commands never read process.* themselves. */
export interface Io {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A line (or lines) to stdout: results another program may read. */
  out(text: string): void;
  /** A line to stderr: progress, hints, warnings. */
  err(text: string): void;
  /** Raw stderr writes for a redrawn progress line; undefined when stderr is not a TTY. */
  readonly tty?: { write(text: string): void; columns: number };
}

export function processIo(): Io {
  const tty = process.stderr.isTTY ? { write: (t: string) => void process.stderr.write(t), get columns() { return process.stderr.columns || 80; } } : undefined;
  return {
    cwd: process.cwd(),
    env: process.env,
    out: (t) => void process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => void process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
    ...(tty ? { tty } : {}),
  };
}

// ---------------------------------------------------------------------------
// Settings shared by the commands.

/** The server URL: --server, else CAIRN_SERVER, else the `npm start` default. */
export function serverUrl(io: Io, flag: string | undefined): string {
  const raw = flag ?? nonEmpty(io.env.CAIRN_SERVER) ?? DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`the server must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`the server must be an http(s) URL, got ${JSON.stringify(raw)}`);
  return url.href.replace(/\/+$/, "");
}

/** The embedded default's data directory: CAIRN_DATA_DIR, else ./data. */
export function dataDir(io: Io, flag?: string): string {
  return resolve(io.cwd, flag ?? nonEmpty(io.env.CAIRN_DATA_DIR) ?? "data");
}

/** Reads the client signer key: --key, else CAIRN_CLIENT_KEY, else <data dir>/client.key. */
export async function loadClientKey(io: Io, flag: string | undefined): Promise<{ key: SignerKey; file: string }> {
  const given = flag ?? nonEmpty(io.env.CAIRN_CLIENT_KEY);
  const file = given === undefined ? join(dataDir(io), "client.key") : resolve(io.cwd, given);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new CliError(`cannot read the client key ${display(io, file)}: ${(e as Error).message}`);
    const how =
      given === undefined
        ? `\`npm start\` makes one there for the embedded default (it uses CAIRN_DATA_DIR, default ./data);\n` +
          `otherwise make a key with \`cairn keygen NAME\`, have the operator register it, and pass --key FILE or set CAIRN_CLIENT_KEY.`
        : "make one with `cairn keygen NAME` and have the operator register its verifier key.";
    throw new CliError(`no client key at ${display(io, file)}: ${how}`);
  }
  let key: SignerKey;
  try {
    key = parseSignerKey(text.trim());
  } catch (e) {
    throw new CliError(`${display(io, file)} is not a signer key (PRIVATE+KEY+name+id+base64): ${isCairnError(e) ? e.message : String(e)}`);
  }
  if (key.type !== KEY_TYPE_ED25519) {
    throw new CliError(`${display(io, file)} is a cosigner key (type 0x04); anchoring needs a client key (type 0x01) from \`cairn keygen NAME\``);
  }
  return { key, file };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** A path as the user would type it: relative to the cwd when inside it. */
export function display(io: Io, path: string): string {
  const rel = relative(io.cwd, path);
  if (rel === "") return ".";
  if (rel.startsWith("..") || isAbsolute(rel)) return path;
  return rel.startsWith(".") ? rel : `./${rel}`;
}

export async function writeJsonFile(path: string, value: unknown, mode?: number): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + "\n", mode === undefined ? {} : { mode });
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}

/** SHA-256 of a file, hex, streamed: a large document is never held in memory. */
export async function hashFile(io: Io, path: string): Promise<string> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new CliError(`${display(io, path)} is a directory, not a document`);
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest("hex");
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${display(io, path)}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// Small utilities.

/** Lowercase 64-hex SHA-256 digest or entry id; uppercase is accepted and lowered. */
export function hex64(value: string, what: string, command: string): string {
  const v = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(v)) throw usageError(`${what} must be 64 hex digits (SHA-256), got ${JSON.stringify(value)}`, command);
  return v;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
