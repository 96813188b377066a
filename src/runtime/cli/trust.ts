/**
 * The trust document (FORMATS.md §8) on the client side: read one from a
 * file, fetch the server's from GET /v1/trust (to compare, or to pin when
 * its fingerprint is the expected one), and tell whether two say the same
 * thing. Which document a receipt is checked against is ./trust-source.ts's.
 */
import { readFile } from "node:fs/promises";
import { isCairnError } from "../../core/errors.js";
import { parseTrust, type Trust } from "../../core/trust.js";
import { CliError, display, type Io } from "./common.js";
import type { ServerClient } from "./http.js";

export async function readTrustFile(io: Io, path: string): Promise<Trust> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CliError(`cannot read the trust document ${display(io, path)}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    return parseTrust(text);
  } catch (e) {
    throw new CliError(`${display(io, path)} is not a cairn-trust/v1 document: ${isCairnError(e) ? e.message : String(e)}`);
  }
}

export async function fetchTrust(server: ServerClient): Promise<Trust> {
  const { body } = await server.get("/v1/trust");
  try {
    return parseTrust(body);
  } catch (e) {
    throw new CliError(`the trust document from ${server.url}/v1/trust is invalid: ${isCairnError(e) ? e.message : String(e)}`);
  }
}

/** Same origin, operator keys, members and quorum (order of keys and members included). */
export function sameTrust(a: Trust, b: Trust): boolean {
  return JSON.stringify(parseTrust(a)) === JSON.stringify(parseTrust(b));
}

export function describeTrust(t: Trust): string {
  const base = `origin ${t.origin}, ${t.members.length} member${t.members.length === 1 ? "" : "s"}, quorum ${t.quorum}`;
  if (t.version !== "cairn-trust/v2") return base;
  const rotated = t.operatorKeys.length > 1 || t.members.some((m) => m.keys.some((k) => k.until !== undefined));
  return `${base}${t.pqQuorum > 0 ? `, ${t.pqQuorum} of them post-quantum (ML-DSA-44)` : ""}${rotated ? ", keys scheduled by checkpoint size" : ""} (v2)`;
}

/** What differs between two trust documents, for a warning. */
export function trustDifference(a: Trust, b: Trust): string {
  const parts: string[] = [];
  if (a.origin !== b.origin) parts.push(`origin ${a.origin} vs ${b.origin}`);
  if (JSON.stringify(a.operatorKeys) !== JSON.stringify(b.operatorKeys)) parts.push("operator keys");
  if (JSON.stringify(a.members) !== JSON.stringify(b.members)) parts.push("members or their keys");
  if (a.quorum !== b.quorum) parts.push(`quorum ${a.quorum} vs ${b.quorum}`);
  if (a.version !== b.version) parts.push(`version ${a.version} vs ${b.version}`);
  const pq = (t: Trust) => (t.version === "cairn-trust/v2" ? t.pqQuorum : 0);
  if (pq(a) !== pq(b)) parts.push(`post-quantum quorum ${pq(a)} vs ${pq(b)}`);
  return parts.join(", ") || "nothing";
}
