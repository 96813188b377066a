/**
 * Who sees what (README "Privacy", docs/ARCHITECTURE.md "Read scopes"): the
 * one owner of that table. Public, with no credential: checkpoints, block
 * headers, proofs, trust, the consortium's public facts, and an anchor's
 * status and receipt by entry id. Beyond those:
 *
 *   read                       anyone          client               member      admin
 *   digest lookup              401 (or open)   its own anchors      all         all
 *   a block's entries          401             403                  yes         yes
 *   witnesses' messages        hidden          hidden               shown       shown
 *   /metrics                   401 (or open)   401                  401         yes (and the metrics token)
 *
 * A digest lookup is answered the same way whether or not the digest exists:
 * refused before any read for a reader without credentials, and filtered in
 * the query for a client, so another client's anchor looks like no anchor.
 * Members see everything in blocks because they replicate it; anything
 * derived from entries (the witnesses' refusal messages quote block and
 * entry positions and client names) is theirs and the admin's only.
 */
import { constantTimeEqual, utf8 } from "../core/bytes.js";
import { CairnError } from "../core/errors.js";
import type { ReadPolicy } from "./config.js";

/** Who is asking, as request-auth.ts established it. */
export type Reader =
  | { readonly kind: "anyone" }
  | { readonly kind: "client"; readonly name: string }
  | { readonly kind: "member"; readonly name: string }
  | { readonly kind: "admin" };

export const ANYONE: Reader = { kind: "anyone" };

/** The scoped reads, each with the credential its refusals name. */
export const WANTS = {
  digest:
    "a digest lookup needs the signed request of a client (Authorization: Cairn-Signed <name>+<key id> <unix seconds> <signature>, docs/FORMATS.md §10), which sees the anchors it signed, or a member's, or the admin token",
  entries: "a block's entries are for the consortium's members: a request signed with the member's cosigner key (Authorization: Cairn-Signed …, docs/FORMATS.md §10), or the admin token",
  consortium: "the consortium's public facts need no credential; the witnesses' messages need a member's signed request or the admin token",
} as const;

export type ScopedRead = keyof typeof WANTS;

function unauthorized(message: string): CairnError {
  return new CairnError("UNAUTHORIZED", message);
}

/**
 * Whose anchors a digest lookup lists: every anchor (`{}`), or those one
 * client signed. Throws UNAUTHORIZED for a reader without credentials unless
 * the deployment opened digest lookup.
 */
export function digestScope(reader: Reader, policy: ReadPolicy): { readonly client?: string } {
  if (reader.kind === "client" && !policy.openDigestLookup) return { client: reader.name };
  if (reader.kind === "anyone" && !policy.openDigestLookup) throw unauthorized(`${WANTS.digest}; open digest lookup is off on this deployment`);
  return {};
}

/** Throws unless the reader may read whole blocks: members (they replicate them) and the admin. */
export function checkEntriesReader(reader: Reader): void {
  if (reader.kind === "member" || reader.kind === "admin") return;
  if (reader.kind === "anyone") throw unauthorized(WANTS.entries);
  throw new CairnError("FORBIDDEN", `${WANTS.entries}; a client key reads only its own anchors, by entry id or by digest`);
}

/** Whether the reader sees the witnesses' messages and evidence on /v1/consortium. */
export function seesWitnessMessages(reader: Reader): boolean {
  return reader.kind === "member" || reader.kind === "admin";
}

/**
 * /metrics: open when the deployment says so, else for `Authorization:
 * Bearer` with the metrics token or the admin token (compared in constant
 * time). Anything else is refused 401 naming the token it wants.
 */
export function checkMetricsReader(authorization: string | undefined, policy: ReadPolicy, adminToken: string): void {
  if (policy.openMetrics) return;
  const bearer = authorization !== undefined && /^bearer /i.test(authorization) ? utf8(authorization.slice(7).trim()) : undefined;
  const tokens = [adminToken, ...(policy.metricsToken === undefined ? [] : [policy.metricsToken])];
  // Every token is compared, so the time says nothing about which one matched.
  let ok = false;
  for (const t of tokens) ok = (bearer !== undefined && constantTimeEqual(bearer, utf8(t))) || ok;
  if (!ok) {
    const wanted = policy.metricsToken === undefined ? "Bearer <CAIRN_ADMIN_TOKEN> (set CAIRN_METRICS_TOKEN for a token that reads only /metrics)" : "Bearer <CAIRN_METRICS_TOKEN> (or the admin token)";
    throw unauthorized(`GET /metrics needs Authorization: ${wanted}`);
  }
}
