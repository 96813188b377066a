/**
 * The read-scope settings of an operator (docs/ARCHITECTURE.md "Read
 * scopes"), parsed once with the rest of its configuration (./config.ts),
 * on Node and in the Worker alike:
 *
 *   CAIRN_OPEN_DIGEST_LOOKUP   1: anyone may look any digest up (default 0: a client
 *                              sees its own anchors, members and admin all)
 *   CAIRN_OPEN_METRICS         1: /metrics answers anyone (default 0)
 *   CAIRN_METRICS_TOKEN        bearer token that reads /metrics (≥ 16 characters);
 *                              the admin token reads it too
 *
 * Both openings default to off on every runtime: opening is a deployment's
 * decision, spelled out in its settings. (The embedded default opens
 * /metrics only while it listens on loopback: ./node.ts.)
 */
import { CairnError } from "../core/errors.js";
import type { ReadPolicy } from "../service/config.js";
import type { Settings } from "./config.js";

function bad(setting: string, message: string): never {
  throw new CairnError("BAD_CONFIG", `${setting}: ${message}`);
}

function flag(s: Settings, name: string): boolean {
  const v = s[name]?.trim();
  if (v === undefined || v === "" || v === "0") return false;
  if (v === "1") return true;
  bad(name, `must be 1 or 0, got ${JSON.stringify(v)}`);
}

export function parseReadPolicy(s: Settings): ReadPolicy {
  const token = s.CAIRN_METRICS_TOKEN?.trim();
  if (token !== undefined && token !== "" && token.length < 16) bad("CAIRN_METRICS_TOKEN", "must be at least 16 characters");
  return {
    openDigestLookup: flag(s, "CAIRN_OPEN_DIGEST_LOOKUP"),
    openMetrics: flag(s, "CAIRN_OPEN_METRICS"),
    ...(token ? { metricsToken: token } : {}),
  };
}
