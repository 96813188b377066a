/**
 * Configuration from the environment (Node) or Worker bindings, parsed and
 * validated once into the typed CairnConfig. Every mistake is reported with
 * the name of the setting, so a bad deployment fails at start, loudly.
 *
 *   CAIRN_ORIGIN               the log's name (C2SP key name)
 *   CAIRN_OPERATOR_KEY         PRIVATE+KEY+<origin>+… (type 0x01)
 *   CAIRN_OPERATOR_NEXT_KEY    the key to rotate to, same form (README "Rotating keys")
 *   CAIRN_PRIMARY_URL          libSQL URL of the primary (file:, libsql://, https://)
 *   CAIRN_PRIMARY_AUTH_TOKEN   its token, if remote
 *   CAIRN_PRIMARY_D1           Worker only: the primary's D1 binding name, instead of the URL
 *   CAIRN_MEMBERS              JSON: [{ "name", "key", "witness" }]: each member's public
 *                              cosigner key and its witness's URL; never a private key
 *   CAIRN_QUORUM               cosignatures for finality (default: majority)
 *   CAIRN_SEAL_INTERVAL        seconds between seals, e.g. 1, 0.5, 250ms (default 1)
 *   CAIRN_BATCH_LIMIT          most entries per block (default 100000)
 *   CAIRN_MAX_SEAL_DELAY       seconds promised until sealing (default 60)
 *   CAIRN_ADMIN_TOKEN          bearer token of the admin routes (≥ 16 characters)
 *   CAIRN_CLIENT_RATE          submissions a second per client (default 2000; 0: no limit)
 *   CAIRN_CLIENT_BURST         submissions per client at once (default 20000)
 *   CAIRN_OPEN_DIGEST_LOOKUP, CAIRN_OPEN_METRICS, CAIRN_METRICS_TOKEN: who reads what (./read-config.ts)
 *   CAIRN_CONFIG               path of a JSON file with the same keys (Node only; env wins)
 *
 * The Worker passes `worker` in the options: D1 bindings become available
 * (checked to exist) and file: URLs are refused, as a Worker has no files.
 */
import { CairnError } from "../core/errors.js";
import { toHex } from "../core/bytes.js";
import { isValidKeyName, KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseSignerKey, parseVerifierKey } from "../core/keys.js";
import { majority } from "../core/trust.js";
import { parseReadPolicy } from "./read-config.js";
import { DEFAULTS, type CairnConfig, type DatabaseConfig, type LibsqlDatabaseConfig, type MemberConfig } from "../service/config.js";

export type Settings = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  /** Set by the Worker runtime: which names are D1 bindings of this Worker. */
  readonly worker?: { readonly isD1Binding: (name: string) => boolean };
}

function bad(setting: string, message: string): never {
  throw new CairnError("BAD_CONFIG", `${setting}: ${message}`);
}

function required(s: Settings, name: string): string {
  const v = s[name];
  if (v === undefined || v.trim() === "") bad(name, "is required");
  return v.trim();
}

function integer(s: Settings, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = s[name];
  if (v === undefined || v === "") return fallback;
  if (!/^\d+$/.test(v.trim())) bad(name, `must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) bad(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** "1", "0.5", "2s", "250ms" → milliseconds. */
export function parseInterval(name: string, v: string | undefined, fallbackMs: number): number {
  if (v === undefined || v === "") return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v.trim());
  if (m === null) bad(name, `must be seconds (e.g. 1, 0.5, 2s) or milliseconds (250ms), got ${JSON.stringify(v)}`);
  const ms = m[2] === "ms" ? Number(m[1]) : Number(m[1]) * 1000;
  if (ms < 50 || ms > 3_600_000) bad(name, "must be between 50ms and 1 hour");
  return Math.round(ms);
}

function database(name: string, url: string, authToken: string | undefined, options: ParseOptions): DatabaseConfig {
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/|:memory:)/.test(url)) {
    bad(name, `must be a libSQL URL (file:…, libsql://…, https://…), got ${JSON.stringify(url)}`);
  }
  if (options.worker && /^(file:|:memory:)/.test(url)) {
    bad(name, `a Worker has no files: use a D1 binding or a libsql:// / https:// URL, got ${JSON.stringify(url)}`);
  }
  return authToken === undefined || authToken === "" ? { url } : { url, authToken };
}

/** A D1 binding name, where the runtime has D1 (the Worker) and the binding exists. */
function d1Database(name: string, binding: string, options: ParseOptions): DatabaseConfig {
  if (!options.worker) bad(name, "D1 bindings exist only in the Cloudflare Worker; on Node give a libSQL URL");
  if (!options.worker.isD1Binding(binding)) {
    bad(name, `this Worker has no D1 binding named ${JSON.stringify(binding)} (wrangler.toml [[d1_databases]] binding = "${binding}")`);
  }
  return { d1: binding };
}

/** The primary: CAIRN_PRIMARY_URL (libSQL) or, in the Worker, CAIRN_PRIMARY_D1. */
function primaryDatabase(s: Settings, options: ParseOptions): DatabaseConfig {
  const url = s.CAIRN_PRIMARY_URL?.trim() || undefined;
  const d1 = s.CAIRN_PRIMARY_D1?.trim() || undefined;
  if (url !== undefined && d1 !== undefined) bad("CAIRN_PRIMARY_D1", "set either CAIRN_PRIMARY_D1 or CAIRN_PRIMARY_URL, not both");
  if (d1 !== undefined) return d1Database("CAIRN_PRIMARY_D1", d1, options);
  if (url === undefined) {
    bad(options.worker ? "CAIRN_PRIMARY_D1" : "CAIRN_PRIMARY_URL", options.worker ? "is required (a D1 binding name), or set CAIRN_PRIMARY_URL to a libSQL URL" : "is required");
  }
  return database("CAIRN_PRIMARY_URL", url, s.CAIRN_PRIMARY_AUTH_TOKEN, options);
}

/** For runtimes that open libSQL only (Node, tools): the libSQL settings, or a BAD_CONFIG naming `setting`. */
export function libsqlDatabase(db: DatabaseConfig, setting = "database"): LibsqlDatabaseConfig {
  if ("d1" in db) bad(setting, `D1 binding ${db.d1} can only be opened in the Worker`);
  return db;
}

function signerKey(name: string, text: string, type: number, keyName?: string) {
  let key;
  try {
    key = parseSignerKey(text);
  } catch (e) {
    bad(name, `is not a valid signer key (PRIVATE+KEY+name+id+base64): ${(e as Error).message}`);
  }
  if (key.type !== type) bad(name, `must be a key of type 0x0${type}`);
  if (keyName !== undefined && key.name !== keyName) bad(name, `key is named ${key.name}, expected ${keyName}`);
  return key;
}

function members(s: Settings): MemberConfig[] {
  const raw = s.CAIRN_MEMBERS;
  if (raw === undefined || raw.trim() === "") return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    bad("CAIRN_MEMBERS", 'must be a JSON array of { "name", "key", "witness" }');
  }
  if (!Array.isArray(list)) bad("CAIRN_MEMBERS", "must be a JSON array");
  const names = new Set<string>();
  const keys = new Set<string>();
  return list.map((m: unknown, i: number) => {
    const where = `CAIRN_MEMBERS[${i}]`;
    if (typeof m !== "object" || m === null) bad(where, "must be an object");
    const { name, key, pqKey, witness, ...rest } = m as Record<string, unknown>;
    if ("cosignerKey" in rest) {
      bad(`${where}.cosignerKey`, "the operator must not hold a member's private key: give the member's public cosigner key as key; the member keeps its private key in its own witness (cairn member)");
    }
    for (const replica of ["url", "authToken", "d1"]) {
      if (replica in rest) bad(`${where}.${replica}`, "the operator does not write members' replicas any more: each member's witness keeps its own; name its witness URL as witness");
    }
    const unknown = Object.keys(rest);
    if (unknown.length > 0) bad(`${where}.${unknown[0]}`, 'is not a setting of a member (known: name, key, pqKey, witness)');
    if (typeof name !== "string" || !isValidKeyName(name)) bad(`${where}.name`, "must be a key name (no spaces, no '+')");
    if (names.has(name)) bad(`${where}.name`, `${name} is listed twice`);
    names.add(name);
    if (typeof key !== "string") bad(`${where}.key`, "is required: the member's public cosigner key (name+id+base64, type 0x04)");
    // One public key counts once, under one member, in either role.
    const memberKey = (setting: string, text: string, type: number, what: string): string => {
      let parsed;
      try {
        parsed = parseVerifierKey(text);
      } catch (e) {
        bad(setting, `is not a valid verifier key: ${(e as Error).message}`);
      }
      if (parsed.type !== type) bad(setting, `must be ${what}`);
      if (parsed.name !== name) bad(setting, `key is named ${parsed.name}, expected ${name}`);
      if (keys.has(toHex(parsed.publicKey))) bad(setting, "the same public key is listed for another member");
      keys.add(toHex(parsed.publicKey));
      return parsed.text;
    };
    const cosigner = memberKey(`${where}.key`, key, KEY_TYPE_COSIGNATURE_V1, "a cosigner key of type 0x04 (cosignature/v1)");
    const pq = pqKey === undefined ? undefined : memberKey(`${where}.pqKey`, String(pqKey), KEY_TYPE_COSIGNATURE_MLDSA44, "an ML-DSA-44 cosigner key of type 0x06");
    if (typeof witness !== "string") bad(`${where}.witness`, "is required: the URL prefix of the member's witness (e.g. https://witness.member.example/cairn)");
    let url: URL;
    try {
      url = new URL(witness);
    } catch {
      bad(`${where}.witness`, `is not a URL: ${JSON.stringify(witness)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") bad(`${where}.witness`, "must be an http:// or https:// URL");
    return { name, key: cosigner, ...(pq ? { pqKey: pq } : {}), witness: witness.replace(/\/+$/, "") };
  });
}

export function parseConfig(s: Settings, options: ParseOptions = {}): CairnConfig {
  const origin = required(s, "CAIRN_ORIGIN");
  if (!isValidKeyName(origin)) bad("CAIRN_ORIGIN", "must be a key name: no spaces, no '+' (e.g. cairn.example/log)");
  const operatorKey = required(s, "CAIRN_OPERATOR_KEY");
  const operator = signerKey("CAIRN_OPERATOR_KEY", operatorKey, KEY_TYPE_ED25519, origin);
  const nextOperatorKey = s.CAIRN_OPERATOR_NEXT_KEY?.trim() || undefined;
  if (nextOperatorKey !== undefined) {
    const next = signerKey("CAIRN_OPERATOR_NEXT_KEY", nextOperatorKey, KEY_TYPE_ED25519, origin);
    if (toHex(next.publicKey) === toHex(operator.publicKey)) bad("CAIRN_OPERATOR_NEXT_KEY", "is CAIRN_OPERATOR_KEY: the next key must be a new one (cairn keygen makes one)");
  }
  const list = members(s);
  if (list.length === 0) {
    bad("CAIRN_MEMBERS", 'lists no member witnesses: a log no one else witnesses proves only the operator\'s word, and verifiers refuse its trust document. Give at least one [{ "name", "key", "witness" }]');
  }
  const operatorPublicKeys = [operator, ...(nextOperatorKey ? [parseSignerKey(nextOperatorKey)] : [])].map((k) => toHex(k.publicKey));
  list.forEach((m, i) => {
    if (m.name === origin) bad(`CAIRN_MEMBERS[${i}].name`, "a member cannot be named after the log (its origin)");
    if (operatorPublicKeys.includes(toHex(parseVerifierKey(m.key).publicKey))) bad(`CAIRN_MEMBERS[${i}].key`, "a member's cosigner key cannot be the operator's key (CAIRN_OPERATOR_KEY or CAIRN_OPERATOR_NEXT_KEY)");
  });
  const quorum = integer(s, "CAIRN_QUORUM", majority(list.length), 1, list.length);
  // A member with an ML-DSA-44 key counts only with both cosignatures, so a
  // post-quantum quorum is met whenever the quorum is, if every member has one.
  const pqQuorum = integer(s, "CAIRN_PQ_QUORUM", 0, 0, quorum);
  if (pqQuorum > 0 && list.some((m) => m.pqKey === undefined)) {
    bad("CAIRN_PQ_QUORUM", `needs every member to have a pqKey (an ML-DSA-44 cosigner key); ${list.filter((m) => m.pqKey === undefined).map((m) => m.name).join(", ")} has none`);
  }
  const adminToken = required(s, "CAIRN_ADMIN_TOKEN");
  if (adminToken.length < 16) bad("CAIRN_ADMIN_TOKEN", "must be at least 16 characters");
  return {
    origin,
    operatorKey,
    ...(nextOperatorKey ? { nextOperatorKey } : {}),
    primary: primaryDatabase(s, options),
    members: list,
    quorum,
    pqQuorum,
    sealIntervalMs: parseInterval("CAIRN_SEAL_INTERVAL", s.CAIRN_SEAL_INTERVAL, DEFAULTS.sealIntervalMs),
    batchLimit: integer(s, "CAIRN_BATCH_LIMIT", DEFAULTS.batchLimit, 1, 1_000_000),
    maxSealDelaySeconds: integer(s, "CAIRN_MAX_SEAL_DELAY", DEFAULTS.maxSealDelaySeconds, 1, 86_400),
    timeWindowSeconds: DEFAULTS.timeWindowSeconds,
    adminToken,
    reads: parseReadPolicy(s),
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    maxBatchItems: DEFAULTS.maxBatchItems,
    maxQueuedSubmissions: DEFAULTS.maxQueuedSubmissions,
    maxPendingEntries: DEFAULTS.maxPendingEntries,
    clientRate: clientRate(s),
  };
}

/**
 * CAIRN_CLIENT_RATE submissions a second per client (0: no limit) and
 * CAIRN_CLIENT_BURST at once (default ten seconds' worth); a burst holds at
 * least one full batch, or a batch could never pass.
 */
function clientRate(s: Settings): CairnConfig["clientRate"] {
  const perSecond = integer(s, "CAIRN_CLIENT_RATE", DEFAULTS.clientRate.perSecond, 0, 1_000_000);
  const fallback = perSecond === DEFAULTS.clientRate.perSecond ? DEFAULTS.clientRate.burst : Math.max(DEFAULTS.maxBatchItems, perSecond * 10);
  const burst = integer(s, "CAIRN_CLIENT_BURST", Math.min(fallback, 10_000_000), DEFAULTS.maxBatchItems, 10_000_000);
  return { perSecond, burst };
}
