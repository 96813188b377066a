/**
 * The trust document (FORMATS.md §8): what a verifier pins to check receipts
 * offline — the log's origin, the operator's keys, the members' cosigner keys
 * and how many cosignatures make a checkpoint final. The service publishes it
 * at GET /v1/trust; a verifier should obtain it once, out of band, and keep it.
 *
 * A document that parses can still be hollow: no members, a quorum of
 * nobody, one key under two names, the operator posing as a member. Each of
 * those is refused with a code of its own (TRUST_*), apart from BAD_TRUST
 * for documents that are malformed, so a caller can tell "this file is
 * broken" from "this file would let one party vouch for itself".
 *
 *   { "version": "cairn-trust/v1", "origin": "...",
 *     "operatorKeys": ["<vkey, type 0x01, named origin>"],
 *     "members": [{ "name": "...", "key": "<vkey, type 0x04>" }],
 *     "quorum": 2 }
 */
import { toHex, utf8 } from "./bytes.js";
import { sha256 } from "./hash.js";
import { CairnError, check } from "./errors.js";
import { isObject, jsonInput } from "./json.js";
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseVerifierKey } from "./keys.js";

export const TRUST_VERSION = "cairn-trust/v1";

export interface TrustMember {
  readonly name: string;
  readonly key: string;
}

export interface Trust {
  readonly version: typeof TRUST_VERSION;
  readonly origin: string;
  readonly operatorKeys: readonly string[];
  readonly members: readonly TrustMember[];
  readonly quorum: number;
}

/** The default quorum: a strict majority of the members. */
export function majority(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** Validates a trust document (parsed JSON, or its text) and returns it typed. */
export function parseTrust(input: unknown): Trust {
  const doc = jsonInput(input, "BAD_TRUST", "trust document");
  check(isObject(doc), "BAD_TRUST", "trust document must be a JSON object");
  check(doc.version === TRUST_VERSION, "BAD_TRUST", `trust document version must be "${TRUST_VERSION}"`);
  const { origin, operatorKeys, members, quorum } = doc;
  check(typeof origin === "string" && origin.length > 0, "BAD_TRUST", "trust origin must be a non-empty string");
  check(Array.isArray(operatorKeys) && operatorKeys.length > 0, "BAD_TRUST", "trust operatorKeys must be a non-empty array");
  // One party's key counts once: a key seen again, under any name and in
  // any role, would let one signer stand for two of the quorum.
  const operatorPublicKeys = new Set<string>();
  for (const key of operatorKeys) {
    const vk = parseKey(key, "operator key");
    check(vk.type === KEY_TYPE_ED25519, "BAD_TRUST", "operator keys must be Ed25519 note keys (type 0x01)");
    check(vk.name === origin, "BAD_TRUST", "operator keys must be named after the origin");
    operatorPublicKeys.add(toHex(vk.publicKey));
  }
  check(Array.isArray(members), "BAD_TRUST", "trust members must be an array");
  const names = new Set<string>();
  const memberOfKey = new Map<string, string>();
  for (const m of members) {
    check(isObject(m) && typeof m.name === "string", "BAD_TRUST", "each member must have a name and a key");
    const vk = parseKey(m.key, `member ${m.name} key`);
    check(vk.type === KEY_TYPE_COSIGNATURE_V1, "BAD_TRUST", `member ${m.name} key must be a cosignature/v1 key (type 0x04)`);
    check(vk.name === m.name, "BAD_TRUST", `member ${m.name} key must carry the member's name`);
    check(!names.has(m.name), "BAD_TRUST", `member ${m.name} is listed twice`);
    check(m.name !== origin, "TRUST_MEMBER_IS_OPERATOR", `member ${m.name} has the log's own name: the operator cannot witness itself`);
    const publicKey = toHex(vk.publicKey);
    check(!operatorPublicKeys.has(publicKey), "TRUST_MEMBER_IS_OPERATOR", `member ${m.name}'s public key is the operator's: the operator cannot witness itself`);
    const other = memberOfKey.get(publicKey);
    if (other !== undefined) throw new CairnError("TRUST_DUPLICATE_KEY", `member ${m.name}'s public key is also listed for member ${other}: one key would count twice towards the quorum`);
    memberOfKey.set(publicKey, m.name);
    names.add(m.name);
  }
  // A consortium of nobody vouches for nothing: "0 of 0 cosigners" is not a quorum.
  check(members.length > 0, "TRUST_NO_MEMBERS", "the trust document lists no members: a receipt it accepts would carry only the operator's word");
  check(
    Number.isSafeInteger(quorum) && (quorum as number) >= 1 && (quorum as number) <= members.length,
    "TRUST_BAD_QUORUM",
    `quorum must be an integer from 1 to the number of members (${members.length}), got ${JSON.stringify(quorum)}`,
  );
  return {
    version: TRUST_VERSION,
    origin,
    operatorKeys: operatorKeys as string[],
    members: (members as TrustMember[]).map((m) => ({ name: m.name, key: m.key })),
    quorum: quorum as number,
  };
}

function parseKey(key: unknown, what: string) {
  check(typeof key === "string", "BAD_TRUST", `${what} must be a verifier key string`);
  try {
    return parseVerifierKey(key);
  } catch (cause) {
    throw new CairnError("BAD_TRUST", `${what} is not a valid verifier key`, { cause });
  }
}

/**
 * A trust document's fingerprint: SHA-256, in hex, of its canonical JSON
 * (the fields in the order of FORMATS.md §8, no whitespace: what
 * `JSON.stringify(parseTrust(doc))` writes). Two documents that say the same
 * thing have the same fingerprint however they were spaced or ordered, so a
 * person can compare it read aloud or over another channel.
 */
export function trustFingerprint(trust: unknown): string {
  return toHex(sha256(utf8(JSON.stringify(parseTrust(trust)))));
}
