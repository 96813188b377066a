/**
 * The trust document (FORMATS.md §8): what a verifier pins to check receipts
 * offline — the log's origin, the operator's keys, the members' cosigner keys
 * and how many cosignatures make a checkpoint final. The service publishes it
 * at GET /v1/trust; a verifier should obtain it once, out of band, and keep it.
 *
 * Version 2 adds what outlives a key: each operator and member key carries
 * the checkpoint sizes it may sign (`from`, and `until` once retired), so a
 * rotated key still verifies the receipts made in its time and nothing
 * after; a member may hold an ML-DSA-44 cosigner key (type 0x06) beside its
 * Ed25519 one, and `pqQuorum` says how many members' post-quantum
 * cosignatures a checkpoint needs. Version 1 documents are read as they
 * always were: every key valid at every size, no post-quantum requirement.
 *
 * A document that parses can still be hollow: no members, a quorum of
 * nobody, one key under two names, the operator posing as a member. Each of
 * those is refused with a code of its own (TRUST_*), apart from BAD_TRUST
 * for documents that are malformed, so a caller can tell "this file is
 * broken" from "this file would let one party vouch for itself".
 */
import { toHex, utf8 } from "./bytes.js";
import { sha256 } from "./hash.js";
import { CairnError, check } from "./errors.js";
import { isCount, isObject, jsonInput } from "./json.js";
import { KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseVerifierKey } from "./keys.js";

export const TRUST_VERSION = "cairn-trust/v1";
export const TRUST_VERSION_V2 = "cairn-trust/v2";

export interface TrustMember {
  readonly name: string;
  readonly key: string;
}

/** Version 1: one key per party, valid for ever. */
export interface TrustV1 {
  readonly version: typeof TRUST_VERSION;
  readonly origin: string;
  readonly operatorKeys: readonly string[];
  readonly members: readonly TrustMember[];
  readonly quorum: number;
}

/** A key and the checkpoint sizes it may sign: `from` ≤ size ≤ `until` (no `until`: still in use). */
export interface ScheduledKey {
  readonly key: string;
  readonly from: number;
  readonly until?: number;
}

export interface TrustMemberV2 {
  readonly name: string;
  readonly keys: readonly ScheduledKey[];
}

export interface TrustV2 {
  readonly version: typeof TRUST_VERSION_V2;
  readonly origin: string;
  readonly operatorKeys: readonly ScheduledKey[];
  readonly members: readonly TrustMemberV2[];
  readonly quorum: number;
  /** Members whose ML-DSA-44 cosignature a checkpoint needs (0: none). */
  readonly pqQuorum: number;
}

export type Trust = TrustV1 | TrustV2;

/** The default quorum: a strict majority of the members. */
export function majority(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** Whether `key` may sign a checkpoint of `size` blocks. */
export function validAt(key: ScheduledKey, size: number): boolean {
  return size >= key.from && (key.until === undefined || size <= key.until);
}

/** Any trust document as version 2's shape: a v1 key is valid from size 0, for ever; no post-quantum quorum. */
export function trustSchedule(t: Trust): TrustV2 {
  if (t.version === TRUST_VERSION_V2) return t;
  return {
    version: TRUST_VERSION_V2,
    origin: t.origin,
    operatorKeys: t.operatorKeys.map((key) => ({ key, from: 0 })),
    members: t.members.map((m) => ({ name: m.name, keys: [{ key: m.key, from: 0 }] })),
    quorum: t.quorum,
    pqQuorum: 0,
  };
}

/** Validates a trust document (parsed JSON, or its text) and returns it typed, in its own version. */
export function parseTrust(input: unknown): Trust {
  const doc = jsonInput(input, "BAD_TRUST", "trust document");
  check(isObject(doc), "BAD_TRUST", "trust document must be a JSON object");
  check(doc.version === TRUST_VERSION || doc.version === TRUST_VERSION_V2, "BAD_TRUST", `trust document version must be "${TRUST_VERSION}" or "${TRUST_VERSION_V2}"`);
  const v2 = doc.version === TRUST_VERSION_V2;
  const { origin, operatorKeys, members, quorum } = doc;
  check(typeof origin === "string" && origin.length > 0, "BAD_TRUST", "trust origin must be a non-empty string");
  check(Array.isArray(operatorKeys) && operatorKeys.length > 0, "BAD_TRUST", "trust operatorKeys must be a non-empty array");
  // One party's key counts once: a key seen again, under any name and in
  // any role, would let one signer stand for two of the quorum.
  const operatorPublicKeys = new Set<string>();
  const operators = operatorKeys.map((entry: unknown) => {
    const scheduled = v2 ? scheduledKey(entry, "operator key") : { key: entry as string, from: 0 };
    const vk = parseKey(scheduled.key, "operator key");
    check(vk.type === KEY_TYPE_ED25519, "BAD_TRUST", "operator keys must be Ed25519 note keys (type 0x01)");
    check(vk.name === origin, "BAD_TRUST", "operator keys must be named after the origin");
    const publicKey = toHex(vk.publicKey);
    if (operatorPublicKeys.has(publicKey)) throw new CairnError("TRUST_DUPLICATE_KEY", "an operator key is listed twice: give one entry per key, with the sizes it signs");
    operatorPublicKeys.add(publicKey);
    return scheduled;
  });
  check(Array.isArray(members), "BAD_TRUST", "trust members must be an array");
  const names = new Set<string>();
  const memberOfKey = new Map<string, string>();
  let pqMembers = 0;
  const parsedMembers = members.map((m: unknown) => {
    check(isObject(m) && typeof m.name === "string", "BAD_TRUST", "each member must have a name and a key");
    const name = m.name;
    check(!names.has(name), "BAD_TRUST", `member ${name} is listed twice`);
    check(name !== origin, "TRUST_MEMBER_IS_OPERATOR", `member ${name} has the log's own name: the operator cannot witness itself`);
    let keys: ScheduledKey[];
    if (v2) {
      check(Array.isArray(m.keys) && m.keys.length > 0, "BAD_TRUST", `member ${name} must have a non-empty array of keys`);
      keys = m.keys.map((k: unknown) => scheduledKey(k, `member ${name} key`));
    } else {
      keys = [{ key: m.key as string, from: 0 }];
    }
    let pq = false;
    for (const k of keys) {
      const vk = parseKey(k.key, `member ${name} key`);
      const allowed = v2 ? vk.type === KEY_TYPE_COSIGNATURE_V1 || vk.type === KEY_TYPE_COSIGNATURE_MLDSA44 : vk.type === KEY_TYPE_COSIGNATURE_V1;
      check(allowed, "BAD_TRUST", `member ${name} key must be a cosignature key (type 0x04${v2 ? ", or 0x06 for ML-DSA-44" : ""})`);
      check(vk.name === name, "BAD_TRUST", `member ${name} key must carry the member's name`);
      pq ||= vk.type === KEY_TYPE_COSIGNATURE_MLDSA44;
      const publicKey = toHex(vk.publicKey);
      check(!operatorPublicKeys.has(publicKey), "TRUST_MEMBER_IS_OPERATOR", `member ${name}'s public key is the operator's: the operator cannot witness itself`);
      const other = memberOfKey.get(publicKey);
      if (other !== undefined) {
        const where = other === name ? `listed twice for member ${name}` : `also listed for member ${other}`;
        throw new CairnError("TRUST_DUPLICATE_KEY", `member ${name}'s public key is ${where}: one key would count twice towards the quorum`);
      }
      memberOfKey.set(publicKey, name);
    }
    if (pq) pqMembers++;
    names.add(name);
    return v2 ? { name, keys } : { name, key: keys[0]!.key };
  });
  // A consortium of nobody vouches for nothing: "0 of 0 cosigners" is not a quorum.
  check(members.length > 0, "TRUST_NO_MEMBERS", "the trust document lists no members: a receipt it accepts would carry only the operator's word");
  check(
    Number.isSafeInteger(quorum) && (quorum as number) >= 1 && (quorum as number) <= members.length,
    "TRUST_BAD_QUORUM",
    `quorum must be an integer from 1 to the number of members (${members.length}), got ${JSON.stringify(quorum)}`,
  );
  if (!v2) {
    return { version: TRUST_VERSION, origin, operatorKeys: operators.map((k) => k.key), members: parsedMembers as TrustMember[], quorum: quorum as number };
  }
  const pqQuorum = doc.pqQuorum ?? 0;
  check(
    Number.isSafeInteger(pqQuorum) && (pqQuorum as number) >= 0 && (pqQuorum as number) <= pqMembers,
    "TRUST_BAD_QUORUM",
    `pqQuorum must be an integer from 0 to the number of members with an ML-DSA-44 key (${pqMembers}), got ${JSON.stringify(doc.pqQuorum)}`,
  );
  return { version: TRUST_VERSION_V2, origin, operatorKeys: operators, members: parsedMembers as TrustMemberV2[], quorum: quorum as number, pqQuorum: pqQuorum as number };
}

/** `{ "key": VKEY, "from": N, "until": M }`, canonical: from defaults to 0, until ≥ from when present. */
function scheduledKey(v: unknown, what: string): ScheduledKey {
  check(isObject(v) && typeof v.key === "string", "BAD_TRUST", `${what} must be an object { "key": "<verifier key>", "from": N, "until": M }`);
  const from = v.from ?? 0;
  check(isCount(from), "BAD_TRUST", `${what}: from must be a checkpoint size (a non-negative integer)`);
  if (v.until === undefined) return { key: v.key, from };
  check(isCount(v.until) && v.until >= from, "BAD_TRUST", `${what}: until must be a checkpoint size no smaller than from (${from})`);
  return { key: v.key, from, until: v.until };
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

/**
 * What a trust document `next` would rewrite of `pinned` if it replaced it
 * (an empty list when it only carries it on): every key pinned stays, for
 * the sizes it had; a key that is new must take over from a later size than
 * any the pinned document already gave its role — a new key valid from 0
 * would vouch for checkpoints signed before anyone had heard of it — unless
 * it is a post-quantum key (0x06) a member added beside its Ed25519 one; no
 * member leaves; neither quorum goes down. A verifier runs this before it
 * re-pins a log after a rotation, so a server that hands out a document
 * swapping one member's key for its own is caught even with a matching
 * fingerprint read off the same server.
 */
export function trustRewrites(pinned: Trust, next: Trust): string[] {
  const a = trustSchedule(pinned);
  const b = trustSchedule(next);
  if (a.origin !== b.origin) return [`it is for ${b.origin}, not ${a.origin}`];
  const problems: string[] = [];
  const carried = (role: string, before: readonly ScheduledKey[], after: readonly ScheduledKey[]) => {
    for (const k of before) {
      const now = after.find((x) => x.key === k.key);
      if (now === undefined) problems.push(`${role}: key ${k.key} is gone`);
      else if (now.from !== k.from) problems.push(`${role}: key ${k.key} now starts at size ${now.from}, not ${k.from}`);
      else if (k.until !== undefined && now.until !== k.until) problems.push(`${role}: key ${k.key} now ends at ${now.until ?? "no size"}, not ${k.until}`);
    }
    const covered = Math.max(...before.map((k) => (k.until ?? k.from)));
    for (const k of after) {
      if (before.some((x) => x.key === k.key)) continue;
      if (parseVerifierKey(k.key).type === KEY_TYPE_COSIGNATURE_MLDSA44) continue;
      if (k.from <= covered) problems.push(`${role}: new key ${k.key} is valid from size ${k.from}, which the pinned keys already cover (up to ${covered})`);
    }
  };
  carried("the operator", a.operatorKeys, b.operatorKeys);
  for (const m of a.members) {
    const now = b.members.find((x) => x.name === m.name);
    if (now === undefined) problems.push(`member ${m.name} is gone`);
    else carried(`member ${m.name}`, m.keys, now.keys);
  }
  if (b.quorum < a.quorum) problems.push(`the quorum goes down from ${a.quorum} to ${b.quorum}`);
  if (b.pqQuorum < a.pqQuorum) problems.push(`the post-quantum quorum goes down from ${a.pqQuorum} to ${b.pqQuorum}`);
  return problems;
}
