/**
 * `cairn member`: a consortium member's witness on Node (docs/OPERATING-A-MEMBER.md).
 * Its own cosigner key (made in its data dir on first run, 0600, never sent
 * anywhere), its own replica (a libSQL file by default, or a libSQL URL),
 * its own state file, and the log it follows pinned in its configuration.
 *
 *   CAIRN_MEMBER_NAME            the member's cosigner name (C2SP key name)
 *   CAIRN_MEMBER_DATA_DIR        key, state and default replica (default ./member-data)
 *   CAIRN_MEMBER_REPLICA_URL     replica database (default file:<data dir>/replica.db)
 *   CAIRN_MEMBER_REPLICA_AUTH_TOKEN  its token, if remote
 *   CAIRN_LOG_ORIGIN             the log's origin, pinned
 *   CAIRN_LOG_KEYS               the operator's verifier key(s), pinned; comma-separated
 *   CAIRN_LOG_URL                the operator's public URL, where blocks are read
 *   CAIRN_MAX_SKEW               seconds a block may be dated ahead of this clock (default 60)
 *   CAIRN_SYNC_BUDGET            seconds one request may spend catching up (default 10)
 *   CAIRN_MEMBER_MLDSA           1: cosign with an ML-DSA-44 key too (made in the data dir)
 *   PORT, HOST                   listen address (default 8788, 127.0.0.1)
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import { formatSignerKey, formatVerifierKey, KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, parseSignerKey } from "../core/keys.js";
import { createWitnessApp } from "../http/witness-app.js";
import { systemClock, type Clock } from "../service/clock.js";
import type { Fetch } from "../service/context.js";
import { jsonLogger, type Logger } from "../service/log.js";
import { Witness, type WitnessConfig, type WitnessFault, type WitnessState, type WitnessStatePort } from "../service/witness.js";
import { openLibsqlStore, type Durability } from "../store/libsql.js";
import type { Settings } from "./config.js";
import { bad, parseWitnessConfig } from "./member-config.js";
import { installNodeEd25519 } from "./node-ed25519.js";
import { installNodeSha256 } from "./node-sha256.js";
import { ReplicaThread } from "./replica-runner.js";

export interface MemberSettings {
  readonly config: WitnessConfig;
  readonly dataDir: string;
  readonly replica: { readonly url: string; readonly authToken?: string };
  readonly port: number;
  readonly host: string;
  /** Cosign with an ML-DSA-44 key as well (CAIRN_MEMBER_MLDSA=1). */
  readonly mldsa: boolean;
}

function flag(s: Settings, name: string): boolean {
  const v = s[name]?.trim();
  if (v === undefined || v === "" || v === "0") return false;
  if (v === "1") return true;
  bad(name, `must be 1 or 0, got ${JSON.stringify(v)}`);
}

export function parseMemberSettings(s: Settings): MemberSettings {
  const config = parseWitnessConfig(s);
  const dataDir = resolve(s.CAIRN_MEMBER_DATA_DIR?.trim() || "./member-data");
  const replicaUrl = s.CAIRN_MEMBER_REPLICA_URL?.trim() || pathToFileURL(join(dataDir, "replica.db")).href;
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(replicaUrl)) bad("CAIRN_MEMBER_REPLICA_URL", `must be a libSQL URL (file:…, libsql://…, https://…), got ${JSON.stringify(replicaUrl)}`);
  const token = s.CAIRN_MEMBER_REPLICA_AUTH_TOKEN?.trim();
  const port = s.PORT?.trim() ? Number(s.PORT) : 8788;
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad("PORT", `must be a port number, got ${JSON.stringify(s.PORT)}`);
  return {
    config,
    dataDir,
    replica: token ? { url: replicaUrl, authToken: token } : { url: replicaUrl },
    port,
    host: s.HOST?.trim() || "127.0.0.1",
    mldsa: flag(s, "CAIRN_MEMBER_MLDSA"),
  };
}

/**
 * The member's cosigner key: made once in its data dir, readable by it
 * alone. Ed25519 (0x04) in cosigner.key; with CAIRN_MEMBER_MLDSA=1 also an
 * ML-DSA-44 key (0x06) in cosigner-mldsa44.key.
 */
export function memberKey(dataDir: string, name: string, type: typeof KEY_TYPE_COSIGNATURE_V1 | typeof KEY_TYPE_COSIGNATURE_MLDSA44 = KEY_TYPE_COSIGNATURE_V1): { seed: Uint8Array; verifierKey: string; created: boolean } {
  const file = join(dataDir, type === KEY_TYPE_COSIGNATURE_V1 ? "cosigner.key" : "cosigner-mldsa44.key");
  mkdirSync(dataDir, { recursive: true });
  const created = !existsSync(file);
  if (created) writeFileSync(file, formatSignerKey(name, type, randomBytes(32)) + "\n", { mode: 0o600, flag: "wx" });
  let key;
  try {
    key = parseSignerKey(readFileSync(file, "utf8").trim());
  } catch (e) {
    bad(file, `is not a cosigner key: ${(e as Error).message}`);
  }
  if (key.type !== type) bad(file, `must hold a cosigner key of type 0x0${type}`);
  if (key.name !== name) bad("CAIRN_MEMBER_NAME", `is ${name}, but the key in ${file} is named ${key.name}`);
  return { seed: key.seed, verifierKey: formatVerifierKey(key.name, key.type, key.publicKey), created };
}

/** Where `cairn member rotate-key` puts the key the member moves to. */
export function nextKeyFile(dataDir: string): string {
  return join(dataDir, "cosigner-next.key");
}

/** The member's next cosigner key, if `cairn member rotate-key` made one. */
export function nextMemberKey(dataDir: string, name: string): { seed: Uint8Array; verifierKey: string } | undefined {
  const file = nextKeyFile(dataDir);
  if (!existsSync(file)) return undefined;
  let key;
  try {
    key = parseSignerKey(readFileSync(file, "utf8").trim());
  } catch (e) {
    bad(file, `is not a cosigner key: ${(e as Error).message}`);
  }
  if (key.type !== KEY_TYPE_COSIGNATURE_V1 || key.name !== name) bad(file, `must hold a cosigner key (type 0x04) named ${name}`);
  return { seed: key.seed, verifierKey: formatVerifierKey(key.name, key.type, key.publicKey) };
}

/** The witness state as a JSON file, replaced atomically (write, fsync, rename, fsync the folder). */
export function fileState(path: string): WitnessStatePort {
  return {
    async load(): Promise<WitnessState> {
      if (!existsSync(path)) return {};
      return JSON.parse(readFileSync(path, "utf8")) as WitnessState;
    },
    async save(state: WitnessState): Promise<void> {
      const tmp = `${path}.tmp`;
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, JSON.stringify(state, null, 2) + "\n");
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      const dir = openSync(dirname(path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    },
  };
}

export interface RunningMember {
  readonly url: string;
  readonly witness: Witness;
  readonly keyCreated: boolean;
  close(): Promise<void>;
}

export async function startMember(
  options: {
    env?: Settings;
    port?: number;
    clock?: Clock;
    log?: Logger;
    fetch?: Fetch;
    durability?: Durability;
    /** Test hook, see WitnessFaultStep. */
    fault?: WitnessFault;
    /**
     * false: the replica in this thread. For tests that start many witnesses
     * in one process, where a thread costs ~0.5 s to start under tsx and a
     * block is a few entries.
     */
    replicaThread?: boolean;
  } = {},
): Promise<RunningMember> {
  installNodeEd25519();
  installNodeSha256();
  const settings = parseMemberSettings(options.env ?? process.env);
  const key = memberKey(settings.dataDir, settings.config.name);
  const pq = settings.mldsa ? memberKey(settings.dataDir, settings.config.name, KEY_TYPE_COSIGNATURE_MLDSA44) : undefined;
  // A replica answers no digest lookups: no index for them (LibsqlStoreOptions.digestIndex).
  const replicaOptions = { ...settings.replica, digestIndex: false, ...(options.durability ? { durability: options.durability } : {}) };
  // In a thread of its own (./replica-runner.ts): storing a large block must not stall this thread's requests.
  const replica = options.replicaThread === false ? await openLibsqlStore(replicaOptions) : await ReplicaThread.start(replicaOptions);
  const witness = await Witness.open({
    config: settings.config,
    seed: key.seed,
    verifierKey: key.verifierKey,
    ...(pq ? { pq: { seed: pq.seed, verifierKey: pq.verifierKey } } : {}),
    next: () => nextMemberKey(settings.dataDir, settings.config.name),
    replica,
    state: fileState(join(settings.dataDir, "witness-state.json")),
    clock: options.clock ?? systemClock,
    log: options.log ?? jsonLogger(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.fault ? { fault: options.fault } : {}),
  });
  const app = createWitnessApp(witness);
  const server: ServerType = await new Promise((ready) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? settings.port, hostname: settings.host }, () => ready(s));
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url,
    witness,
    keyCreated: key.created,
    async close() {
      await new Promise<void>((done) => server.close(() => done()));
      await witness.idle();
      if (replica instanceof ReplicaThread) await replica.stop();
      else replica.close();
    },
  };
}
