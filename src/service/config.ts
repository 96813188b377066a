/**
 * The typed configuration every service is built from. It is parsed and
 * validated once, at the edge of the program (src/runtime/config.ts), so the
 * services never see a string they would have to interpret.
 */

/** A libSQL database. */
export interface LibsqlDatabaseConfig {
  /** libSQL URL: `file:…` (embedded), `libsql://…` or `https://…` (Turso, sqld). */
  readonly url: string;
  readonly authToken?: string;
}

/** A Cloudflare D1 database, by the name of its binding (Worker only). */
export interface D1DatabaseConfig {
  readonly d1: string;
}

/** Where one role's database is; the runtime opens it (the services only ever see the store). */
export type DatabaseConfig = LibsqlDatabaseConfig | D1DatabaseConfig;

/** A member as the operator knows it: public facts only (docs/ARCHITECTURE.md). */
export interface MemberConfig {
  /** The member's cosigner name (C2SP key name). */
  readonly name: string;
  /** Its public cosigner key: C2SP verifier key, type 0x04 (cosignature/v1). */
  readonly key: string;
  /** Its ML-DSA-44 cosigner key (type 0x06), if it cosigns post-quantum too; its cosignatures then count only with both lines. */
  readonly pqKey?: string;
  /** URL prefix of its witness (C2SP tlog-witness): `${witness}/add-checkpoint`. */
  readonly witness: string;
}

/**
 * Who may read what beyond the public routes (docs/ARCHITECTURE.md "Read
 * scopes"; the table itself is src/service/read-scopes.ts). Both openings
 * are a deployment's explicit choice and off by default everywhere.
 */
export interface ReadPolicy {
  /** Anyone may look any digest up (CAIRN_OPEN_DIGEST_LOOKUP=1): the service is then a digest oracle. */
  readonly openDigestLookup: boolean;
  /** /metrics: open to anyone (CAIRN_OPEN_METRICS=1), else for this bearer token (CAIRN_METRICS_TOKEN) or the admin token. */
  readonly openMetrics: boolean;
  readonly metricsToken?: string;
}

export interface CairnConfig {
  /** The log's name, in every format; also the operator key's name. */
  readonly origin: string;
  /** Operator signer key text: PRIVATE+KEY+<origin>+<id>+base64(0x01 ‖ seed). */
  readonly operatorKey: string;
  /**
   * The key the operator moves to, while it rotates (same form). Checkpoints
   * switch to it at the size the chain's key record gives; until then, and
   * for everything but checkpoints until a restart makes it
   * CAIRN_OPERATOR_KEY, the current key signs.
   */
  readonly nextOperatorKey?: string;
  readonly primary: DatabaseConfig;
  readonly members: readonly MemberConfig[];
  /** Cosignatures needed for a checkpoint to be final. */
  readonly quorum: number;
  /** Of those, how many must be ML-DSA-44 too (published as the trust's pqQuorum; 0 unless every member has a pqKey). */
  readonly pqQuorum: number;
  /** How often the scheduled seal runs. */
  readonly sealIntervalMs: number;
  /** Most entries one block takes. */
  readonly batchLimit: number;
  /** The promise's deadline: received-at + this many seconds. */
  readonly maxSealDelaySeconds: number;
  /** Accepted distance between a submission's time and the server clock. */
  readonly timeWindowSeconds: number;
  readonly adminToken: string;
  readonly reads: ReadPolicy;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Most submissions one batch request may carry. */
  readonly maxBatchItems: number;
  /** Most accepted submissions waiting to be made durable before new ones get 503. */
  readonly maxQueuedSubmissions: number;
  /** Most entries pending a seal before new submissions get 503. */
  readonly maxPendingEntries: number;
  /**
   * Each client's share: `perSecond` submissions a second sustained, `burst`
   * at once (0 per second: no limit). Beyond it, 429 + Retry-After, so one
   * client cannot fill the queue the others wait in.
   */
  readonly clientRate: { readonly perSecond: number; readonly burst: number };
}

export const DEFAULTS = {
  sealIntervalMs: 1000,
  batchLimit: 100_000,
  maxSealDelaySeconds: 60,
  timeWindowSeconds: 300,
  maxBatchItems: 1000,
  // A submission note is at most 1 KiB; JSON escaping can double it.
  maxBodyBytes: 1000 * 2 * 1024 + 4096,
  maxQueuedSubmissions: 20_000,
  maxPendingEntries: 1_000_000,
  clientRate: { perSecond: 2000, burst: 20_000 },
  reads: { openDigestLookup: false, openMetrics: false },
} as const;
