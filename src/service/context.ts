/**
 * What every service shares: configuration, the primary store, the members
 * (public facts only: name, cosigner verifier key, witness URL), the
 * operator's signer, the clock, logs, metrics and the way to reach a witness
 * (fetch). Built once per process (Node) or per isolate (Worker) by the
 * runtime. The operator holds no member secret (docs/ARCHITECTURE.md).
 */
import { formatVerifierKey, KEY_TYPE_ED25519, noteSigner, parseSignerKey, type NoteSigner } from "../core/keys.js";
import type { PrimaryStore } from "../store/types.js";
import type { Clock } from "./clock.js";
import type { CairnConfig } from "./config.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";

export interface Member {
  readonly name: string;
  /** C2SP verifier key, type 0x04. */
  readonly verifierKey: string;
  /** Its ML-DSA-44 verifier key (type 0x06), when it cosigns with one too. */
  readonly pqKey?: string;
  /** URL prefix of the member's witness. */
  readonly witness: string;
}

/** How the operator reaches witnesses: the platform's fetch (tests may pass their own). */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface Context {
  readonly config: CairnConfig;
  readonly primary: PrimaryStore;
  readonly members: readonly Member[];
  readonly operator: NoteSigner;
  readonly operatorKey: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly fetch: Fetch;
}

export function createContext(deps: {
  config: CairnConfig;
  primary: PrimaryStore;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  fetch?: Fetch;
}): Context {
  const { config } = deps;
  const operatorKey = parseSignerKey(config.operatorKey);
  const members = config.members.map((m): Member => ({ name: m.name, verifierKey: m.key, ...(m.pqKey ? { pqKey: m.pqKey } : {}), witness: m.witness }));
  const operatorVerifierKey = formatVerifierKey(operatorKey.name, KEY_TYPE_ED25519, operatorKey.publicKey);
  return {
    config,
    primary: deps.primary,
    members,
    operator: noteSigner(operatorKey),
    operatorKey: operatorVerifierKey,
    clock: deps.clock,
    log: deps.log,
    metrics: deps.metrics ?? new Metrics(),
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
  };
}
