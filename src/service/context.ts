/**
 * What every service shares: configuration, the primary store, the members
 * (each with its replica store and cosigner key), the operator's signer, the
 * clock, logs and metrics. Built once per process (Node) or per isolate
 * (Worker) by the runtime.
 */
import { formatVerifierKey, KEY_TYPE_ED25519, noteSigner, parseSignerKey, type NoteSigner } from "../core/keys.js";
import type { Trust } from "../core/trust.js";
import type { ChainStore, PrimaryStore } from "../store/types.js";
import type { Clock } from "./clock.js";
import type { CairnConfig } from "./config.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";

export interface Member {
  readonly name: string;
  readonly store: ChainStore;
  /** Ed25519 seed of the member's cosigner key (type 0x04). */
  readonly cosignerSeed: Uint8Array;
  /** C2SP verifier key, type 0x04. */
  readonly verifierKey: string;
}

export interface Context {
  readonly config: CairnConfig;
  readonly primary: PrimaryStore;
  readonly members: readonly Member[];
  readonly operator: NoteSigner;
  readonly operatorKey: string;
  readonly trust: Trust;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
}

export function createContext(deps: {
  config: CairnConfig;
  primary: PrimaryStore;
  replicas: readonly ChainStore[];
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
}): Context {
  const { config } = deps;
  const operatorKey = parseSignerKey(config.operatorKey);
  const members = config.members.map((m, i): Member => {
    const key = parseSignerKey(m.cosignerKey);
    return {
      name: m.name,
      store: deps.replicas[i]!,
      cosignerSeed: key.seed,
      verifierKey: formatVerifierKey(key.name, key.type, key.publicKey),
    };
  });
  const operatorVerifierKey = formatVerifierKey(operatorKey.name, KEY_TYPE_ED25519, operatorKey.publicKey);
  return {
    config,
    primary: deps.primary,
    members,
    operator: noteSigner(operatorKey),
    operatorKey: operatorVerifierKey,
    trust: {
      version: "cairn-trust/v1",
      origin: config.origin,
      operatorKeys: [operatorVerifierKey],
      members: members.map((m) => ({ name: m.name, key: m.verifierKey })),
      quorum: config.quorum,
    },
    clock: deps.clock,
    log: deps.log,
    metrics: deps.metrics ?? new Metrics(),
  };
}
