/**
 * Which trust a verification uses, and how the page describes it: a file the
 * person picked (what they pinned), or the document the server publishes at
 * /v1/trust, which is only the server's word about whose signatures count.
 */
import { parseTrust, trustFingerprint, type Trust } from "../core/trust.js";

export type TrustChoice =
  | { readonly ok: true; readonly source: "file" | "published"; readonly name: string; readonly trust: Trust; readonly fingerprint: string }
  | { readonly ok: false; readonly source: "file" | "published"; readonly name: string; readonly problem: string };

export type UsableTrust = Extract<TrustChoice, { readonly ok: true }>;

/** Reads a trust document (text or parsed JSON); a document core refuses is a problem to show, not an exception. */
export function chooseTrust(source: "file" | "published", name: string, input: unknown): TrustChoice {
  try {
    const doc = typeof input === "string" ? (JSON.parse(input) as unknown) : input;
    const trust = parseTrust(doc);
    return { ok: true, source, name, trust, fingerprint: trustFingerprint(trust) };
  } catch (e) {
    const what = source === "file" ? `${name} is not a trust document Cairn accepts` : "the server's published trust document is not one Cairn accepts";
    return { ok: false, source, name, problem: `${what}: ${(e as Error).message}` };
  }
}

/** "3 members, quorum 2" */
export function describeTrust(trust: Trust): string {
  const pq = trust.version === "cairn-trust/v2" && trust.pqQuorum > 0 ? `, ${trust.pqQuorum} of them post-quantum too` : "";
  return `log ${trust.origin}: ${trust.members.length} members, quorum ${trust.quorum}${pq}`;
}
