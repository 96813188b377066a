/**
 * The embedded default: what the operator of `npm start` needs, made on
 * first run in the data directory and reused after — an operator key, an
 * admin token, and a dev client key that the CLI finds without flags. The
 * three members make their own cosigner keys in their own data dirs
 * (./dev-members.ts); the operator learns only their public keys. Keys are
 * random, written 0600, and meant for development only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import { formatSignerKey, generateKeyPair, KEY_TYPE_ED25519 } from "../core/keys.js";
import type { Settings } from "./config.js";

export const DEV_ORIGIN = "cairn.localhost/dev";
export const DEV_CLIENT = "dev-client.localhost";
export const DEV_MEMBERS = ["member-1.localhost", "member-2.localhost", "member-3.localhost"];

export interface DevFiles {
  readonly dir: string;
  /** Signer key of the dev client, for the CLI. */
  readonly clientKeyFile: string;
  readonly clientVerifierKey: string;
  readonly adminTokenFile: string;
  readonly created: boolean;
}

interface DevKeys {
  origin: string;
  operatorKey: string;
  client: { signerKey: string; verifierKey: string };
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
}

/** Makes (once) and reads the dev keys; returns settings for parseConfig (CAIRN_MEMBERS is added once the witnesses run) plus where the files are. */
export function devSettings(dataDir: string, env: Settings): { settings: Settings; files: DevFiles } {
  mkdirSync(dataDir, { recursive: true });
  const keysFile = join(dataDir, "dev-keys.json");
  const tokenFile = join(dataDir, "admin-token");
  const clientKeyFile = join(dataDir, "client.key");
  const created = !existsSync(keysFile);
  if (created) {
    const client = generateKeyPair(DEV_CLIENT, randomBytes(32), KEY_TYPE_ED25519);
    const keys: DevKeys = {
      origin: DEV_ORIGIN,
      operatorKey: formatSignerKey(DEV_ORIGIN, KEY_TYPE_ED25519, randomBytes(32)),
      client,
    };
    writeSecret(keysFile, JSON.stringify(keys, null, 2) + "\n");
    writeSecret(clientKeyFile, client.signerKey + "\n");
  }
  if (!existsSync(tokenFile)) writeSecret(tokenFile, randomBytes(24).toString("base64url") + "\n");
  const keys = JSON.parse(readFileSync(keysFile, "utf8")) as DevKeys;
  const file = (name: string) => pathToFileURL(join(dataDir, name)).href;
  const settings: Settings = {
    CAIRN_ORIGIN: keys.origin,
    CAIRN_OPERATOR_KEY: keys.operatorKey,
    CAIRN_PRIMARY_URL: file("primary.db"),
    CAIRN_ADMIN_TOKEN: env.CAIRN_ADMIN_TOKEN ?? readFileSync(tokenFile, "utf8").trim(),
    CAIRN_SEAL_INTERVAL: env.CAIRN_SEAL_INTERVAL,
    CAIRN_BATCH_LIMIT: env.CAIRN_BATCH_LIMIT,
    CAIRN_MAX_SEAL_DELAY: env.CAIRN_MAX_SEAL_DELAY,
    CAIRN_QUORUM: env.CAIRN_QUORUM,
    CAIRN_PQ_QUORUM: env.CAIRN_PQ_QUORUM,
    // A key to rotate to (README "Rotating keys"); the witnesses keep the dev key above pinned, as a genesis key.
    CAIRN_OPERATOR_NEXT_KEY: env.CAIRN_OPERATOR_NEXT_KEY,
    CAIRN_CLIENT_RATE: env.CAIRN_CLIENT_RATE,
    CAIRN_CLIENT_BURST: env.CAIRN_CLIENT_BURST,
    // Closed unless asked for, as in a deployment (node.ts opens /metrics on loopback).
    CAIRN_OPEN_DIGEST_LOOKUP: env.CAIRN_OPEN_DIGEST_LOOKUP,
    CAIRN_OPEN_METRICS: env.CAIRN_OPEN_METRICS,
    CAIRN_METRICS_TOKEN: env.CAIRN_METRICS_TOKEN,
  };
  return {
    settings,
    files: { dir: dataDir, clientKeyFile, clientVerifierKey: keys.client.verifierKey, adminTokenFile: tokenFile, created },
  };
}
