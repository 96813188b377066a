/**
 * Configuration from the environment (Node) or Worker bindings, parsed and
 * validated once into the typed CairnConfig. Every mistake is reported with
 * the name of the setting, so a bad deployment fails at start, loudly.
 *
 *   CAIRN_ORIGIN               the log's name (C2SP key name)
 *   CAIRN_OPERATOR_KEY         PRIVATE+KEY+<origin>+… (type 0x01)
 *   CAIRN_PRIMARY_URL          libSQL URL of the primary (file:, libsql://, https://)
 *   CAIRN_PRIMARY_AUTH_TOKEN   its token, if remote
 *   CAIRN_MEMBERS              JSON: [{ "name", "cosignerKey", "url", "authToken"? }]
 *   CAIRN_QUORUM               cosignatures for finality (default: majority)
 *   CAIRN_SEAL_INTERVAL        seconds between seals, e.g. 1, 0.5, 250ms (default 1)
 *   CAIRN_BATCH_LIMIT          most entries per block (default 100000)
 *   CAIRN_MAX_SEAL_DELAY       seconds promised until sealing (default 60)
 *   CAIRN_ADMIN_TOKEN          bearer token of the admin routes (≥ 16 characters)
 *   CAIRN_CONFIG               path of a JSON file with the same keys (Node only; env wins)
 */
import { CairnError } from "../core/errors.js";
import { isValidKeyName, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseSignerKey } from "../core/keys.js";
import { majority } from "../core/trust.js";
import { DEFAULTS, type CairnConfig, type DatabaseConfig, type MemberConfig } from "../service/config.js";

export type Settings = Readonly<Record<string, string | undefined>>;

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

function database(name: string, url: string, authToken: string | undefined): DatabaseConfig {
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/|:memory:)/.test(url)) {
    bad(name, `must be a libSQL URL (file:…, libsql://…, https://…), got ${JSON.stringify(url)}`);
  }
  return authToken === undefined || authToken === "" ? { url } : { url, authToken };
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
    bad("CAIRN_MEMBERS", "must be a JSON array of { name, cosignerKey, url, authToken? }");
  }
  if (!Array.isArray(list)) bad("CAIRN_MEMBERS", "must be a JSON array");
  const seen = new Set<string>();
  return list.map((m: unknown, i: number) => {
    const where = `CAIRN_MEMBERS[${i}]`;
    if (typeof m !== "object" || m === null) bad(where, "must be an object");
    const { name, cosignerKey, url, authToken } = m as Record<string, unknown>;
    if (typeof name !== "string" || !isValidKeyName(name)) bad(`${where}.name`, "must be a key name (no spaces, no '+')");
    if (seen.has(name)) bad(`${where}.name`, `${name} is listed twice`);
    seen.add(name);
    if (typeof cosignerKey !== "string") bad(`${where}.cosignerKey`, "is required");
    signerKey(`${where}.cosignerKey`, cosignerKey, KEY_TYPE_COSIGNATURE_V1, name);
    if (typeof url !== "string") bad(`${where}.url`, "is required");
    if (authToken !== undefined && typeof authToken !== "string") bad(`${where}.authToken`, "must be a string");
    return { name, cosignerKey, database: database(`${where}.url`, url, authToken as string | undefined) };
  });
}

export function parseConfig(s: Settings): CairnConfig {
  const origin = required(s, "CAIRN_ORIGIN");
  if (!isValidKeyName(origin)) bad("CAIRN_ORIGIN", "must be a key name: no spaces, no '+' (e.g. cairn.example/log)");
  const operatorKey = required(s, "CAIRN_OPERATOR_KEY");
  signerKey("CAIRN_OPERATOR_KEY", operatorKey, KEY_TYPE_ED25519, origin);
  const list = members(s);
  const quorum = integer(s, "CAIRN_QUORUM", list.length === 0 ? 0 : majority(list.length), list.length === 0 ? 0 : 1, list.length);
  const adminToken = required(s, "CAIRN_ADMIN_TOKEN");
  if (adminToken.length < 16) bad("CAIRN_ADMIN_TOKEN", "must be at least 16 characters");
  return {
    origin,
    operatorKey,
    primary: database("CAIRN_PRIMARY_URL", required(s, "CAIRN_PRIMARY_URL"), s.CAIRN_PRIMARY_AUTH_TOKEN),
    members: list,
    quorum,
    sealIntervalMs: parseInterval("CAIRN_SEAL_INTERVAL", s.CAIRN_SEAL_INTERVAL, DEFAULTS.sealIntervalMs),
    batchLimit: integer(s, "CAIRN_BATCH_LIMIT", DEFAULTS.batchLimit, 1, 1_000_000),
    maxSealDelaySeconds: integer(s, "CAIRN_MAX_SEAL_DELAY", DEFAULTS.maxSealDelaySeconds, 1, 86_400),
    timeWindowSeconds: DEFAULTS.timeWindowSeconds,
    adminToken,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    maxBatchItems: DEFAULTS.maxBatchItems,
    maxQueuedSubmissions: DEFAULTS.maxQueuedSubmissions,
    maxPendingEntries: DEFAULTS.maxPendingEntries,
  };
}
