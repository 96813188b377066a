/**
 * The settings every member witness reads, on Node (./member.ts) and as a
 * Worker (./member-worker.ts): who it is, the log it follows (pinned), and
 * its time bounds. Parsed once at start; every mistake names its setting.
 * No Node modules here: the Worker bundle imports it.
 */
import { CairnError } from "../core/errors.js";
import { isValidKeyName, KEY_TYPE_ED25519, parseVerifierKey } from "../core/keys.js";
import { DEFAULT_BLOCK_SKEW_SECONDS } from "../core/verify-block.js";
import type { WitnessConfig } from "../service/witness.js";
import { parseInterval, type Settings } from "./config.js";

export function bad(setting: string, message: string): never {
  throw new CairnError("BAD_CONFIG", `${setting}: ${message}`);
}

function required(s: Settings, name: string, what: string): string {
  const v = s[name]?.trim();
  if (v === undefined || v === "") bad(name, `is required: ${what}`);
  return v;
}

export function parseWitnessConfig(s: Settings): WitnessConfig {
  const name = required(s, "CAIRN_MEMBER_NAME", "the member's cosigner name, e.g. witness.bank-a.example");
  if (!isValidKeyName(name)) bad("CAIRN_MEMBER_NAME", "must be a key name: no spaces, no '+'");
  const origin = required(s, "CAIRN_LOG_ORIGIN", "the origin of the log this witness follows");
  if (!isValidKeyName(origin)) bad("CAIRN_LOG_ORIGIN", "must be a key name: no spaces, no '+'");
  if (origin === name) bad("CAIRN_MEMBER_NAME", "cannot be the log's origin");
  const logKeys = required(s, "CAIRN_LOG_KEYS", "the operator's verifier key(s), comma-separated, pinned from the consortium's agreement")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "")
    .map((k, i) => {
      let key;
      try {
        key = parseVerifierKey(k);
      } catch (e) {
        bad(`CAIRN_LOG_KEYS[${i}]`, `is not a verifier key: ${(e as Error).message}`);
      }
      if (key.type !== KEY_TYPE_ED25519) bad(`CAIRN_LOG_KEYS[${i}]`, "must be an Ed25519 note key (type 0x01)");
      if (key.name !== origin) bad(`CAIRN_LOG_KEYS[${i}]`, `is named ${key.name}; the log's keys are named after its origin, ${origin}`);
      return key.text;
    });
  const logUrl = required(s, "CAIRN_LOG_URL", "the operator's public URL, e.g. https://anchor.example.org").replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(logUrl);
  } catch {
    bad("CAIRN_LOG_URL", `is not a URL: ${JSON.stringify(logUrl)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") bad("CAIRN_LOG_URL", "must be an http:// or https:// URL");
  const seconds = (setting: string, fallback: number, max: number) => {
    const v = s[setting]?.trim();
    if (v === undefined || v === "") return fallback;
    if (!/^\d+$/.test(v) || Number(v) > max) bad(setting, `must be whole seconds between 0 and ${max}, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  return {
    name,
    origin,
    logKeys,
    logUrl,
    maxSkewSeconds: seconds("CAIRN_MAX_SKEW", DEFAULT_BLOCK_SKEW_SECONDS, 3600),
    timeWindowSeconds: 300,
    syncBudgetMs: parseInterval("CAIRN_SYNC_BUDGET", s.CAIRN_SYNC_BUDGET, 10_000),
  };
}
