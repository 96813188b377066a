/**
 * The user's pinned trust documents, one per log origin, in the user's
 * config directory ($XDG_CONFIG_HOME/cairn/trust, else ~/.config/cairn/trust).
 * A document gets here only by `cairn trust add`, from a file or from a URL
 * whose fingerprint the user gave; verification then looks it up by the
 * receipt's origin, so no file lying next to a receipt can stand in for it.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { isCairnError } from "../../core/errors.js";
import { parseTrust, trustFingerprint, type Trust } from "../../core/trust.js";
import { CliError, type Io } from "./common.js";

export function trustStoreDir(io: Io): string {
  const base = io.env.XDG_CONFIG_HOME && io.env.XDG_CONFIG_HOME.startsWith("/") ? io.env.XDG_CONFIG_HOME : join(io.env.HOME ?? homedir(), ".config");
  return join(base, "cairn", "trust");
}

/** An origin as a file name: reversible, and no '/' or '..' can escape the directory. */
function fileOf(io: Io, origin: string): string {
  return join(trustStoreDir(io), `${encodeURIComponent(origin).replace(/\./g, "%2E")}.json`);
}

export interface Pinned {
  readonly trust: Trust;
  readonly fingerprint: string;
  readonly path: string;
}

export async function pinnedTrust(io: Io, origin: string): Promise<Pinned | undefined> {
  const path = fileOf(io, origin);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read the pinned trust document ${path}: ${(e as Error).message}`);
  }
  let trust: Trust;
  try {
    trust = parseTrust(text);
  } catch (e) {
    throw new CliError(`the pinned trust document ${path} is not valid (${isCairnError(e) ? `${e.code}: ${e.message}` : String(e)}); remove it with \`cairn trust remove ${origin}\``);
  }
  if (trust.origin !== origin) throw new CliError(`the pinned trust document ${path} is for origin ${trust.origin}, not ${origin}`);
  return { trust, fingerprint: trustFingerprint(trust), path };
}

/** Pins `trust` for its origin (replacing any earlier one); written whole, then renamed into place. */
export async function pin(io: Io, trust: Trust): Promise<Pinned> {
  const path = fileOf(io, trust.origin);
  await mkdir(trustStoreDir(io), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(trust, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, path);
  return { trust, fingerprint: trustFingerprint(trust), path };
}

export async function unpin(io: Io, origin: string): Promise<boolean> {
  const path = fileOf(io, origin);
  try {
    await rm(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

export async function listPinned(io: Io): Promise<Pinned[]> {
  let names: string[];
  try {
    names = (await readdir(trustStoreDir(io))).filter((n) => n.endsWith(".json"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: Pinned[] = [];
  for (const n of names.sort()) {
    const p = await pinnedTrust(io, decodeURIComponent(n.slice(0, -".json".length)));
    if (p !== undefined) out.push(p);
  }
  return out;
}
