/**
 * Which trust document a receipt is checked against, decided the same way
 * by `cairn verify` and `cairn anchor --wait`, and never taken from the
 * network or from a file that merely lies in the current folder:
 *   1. `--trust FILE`, the user's explicit choice;
 *   2. the document the user pinned for the receipt's origin (`cairn trust add`);
 *   3. for the embedded default's dev log only, the dev trust that `npm
 *      start` wrote into its data dir, as the dev client key is found there.
 * Otherwise there is none, and the caller says how to pin one.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { trustFingerprint, type Trust } from "../../core/trust.js";
import { DEV_ORIGIN } from "../dev-setup.js";
import { display, type Io } from "./common.js";
import { readTrustFile } from "./trust.js";
import { pinnedTrust } from "./trust-store.js";

export interface TrustChoice {
  readonly trust: Trust;
  /** Where it came from, in words for the output. */
  readonly source: string;
  readonly fingerprint: string;
}

export function devTrustPath(io: Io): string {
  return join(resolve(io.cwd, io.env.CAIRN_DATA_DIR ?? "data"), "trust.json");
}

export async function trustFor(io: Io, origin: string | undefined, explicitFile?: string): Promise<TrustChoice | undefined> {
  if (explicitFile !== undefined) {
    const path = resolve(io.cwd, explicitFile);
    const trust = await readTrustFile(io, path);
    return { trust, source: `${display(io, path)} (--trust)`, fingerprint: trustFingerprint(trust) };
  }
  if (origin === undefined) return undefined;
  const pinned = await pinnedTrust(io, origin);
  if (pinned !== undefined) return { trust: pinned.trust, source: `pinned for ${origin} (${pinned.path})`, fingerprint: pinned.fingerprint };
  const dev = devTrustPath(io);
  if (origin === DEV_ORIGIN && existsSync(dev)) {
    const trust = await readTrustFile(io, dev);
    if (trust.origin === DEV_ORIGIN) {
      return { trust, source: `the embedded default's dev trust (${display(io, dev)}, written by \`npm start\`; for its dev log only)`, fingerprint: trustFingerprint(trust) };
    }
  }
  return undefined;
}

/** What to tell a user who has no trust for `origin`. */
export function howToPin(origin: string, serverFingerprint?: { url: string; fingerprint: string }): string {
  const lines = [
    `no trust document is pinned for ${origin}. Pin the consortium's, obtained out of band, once:`,
    "  cairn trust add FILE",
    `  cairn trust add --from URL --fingerprint HEX   (HEX: the fingerprint the consortium gave you)`,
    "or name one for this run with --trust FILE.",
  ];
  if (serverFingerprint) lines.push(`The server ${serverFingerprint.url} offers a document with fingerprint ${serverFingerprint.fingerprint}; pin it only if that is the one you were given.`);
  return lines.join("\n");
}
