/**
 * One error type for the whole project, carrying a machine-readable code.
 *
 * Core functions that check something (verify*, open*, parse*) throw a
 * CairnError rather than returning false, so a caller cannot forget to look.
 * Only the http layer maps codes to statuses.
 */

export type ErrorCode =
  // Encodings and text formats.
  | "BAD_HEX"
  | "BAD_BASE64"
  | "BAD_DECIMAL"
  | "BAD_NOTE"
  | "BAD_KEY"
  | "BAD_KEY_NAME"
  | "BAD_CHECKPOINT"
  | "BAD_COSIGNATURE"
  | "BAD_SUBMISSION"
  | "BAD_DIGEST"
  | "BAD_PROMISE"
  | "BAD_BLOCK"
  | "BAD_RECEIPT"
  | "BAD_TRUST"
  // Trust documents that parse but cannot stand for a consortium (core/trust.ts).
  | "TRUST_NO_MEMBERS"
  | "TRUST_BAD_QUORUM"
  | "TRUST_DUPLICATE_KEY"
  | "TRUST_MEMBER_IS_OPERATOR"
  // Signatures.
  | "BAD_SIGNATURE"
  | "NOTE_UNVERIFIED"
  | "UNSUPPORTED_ALGORITHM"
  // Merkle math.
  | "BAD_PROOF"
  | "INDEX_OUT_OF_RANGE"
  | "INCLUSION_PROOF_INVALID"
  | "CONSISTENCY_PROOF_INVALID"
  // Receipt verification steps.
  | "DOCUMENT_REQUIRED"
  | "DIGEST_MISMATCH"
  | "ENTRY_SIGNATURE_INVALID"
  | "WRONG_ORIGIN"
  | "BLOCK_MISMATCH"
  | "HISTORY_PROOF_INVALID"
  | "CHECKPOINT_SIGNATURE_INVALID"
  | "QUORUM_NOT_MET"
  | "PQ_QUORUM_NOT_MET"
  | "KEY_NOT_VALID"
  | "COSIGNATURE_TIME_INVALID"
  | "CHAIN_BROKEN"
  // Two signed checkpoints of one log that cannot share a history (core/split-view.ts).
  | "SPLIT_VIEW"
  // Blocks as a member's witness checks them before storing (core/verify-block.ts).
  | "BAD_CLIENT_RECORD"
  | "REGISTRY_CONFLICT"
  | "BAD_KEY_RECORD"
  | "KEY_RECORD_CONFLICT"
  | "BLOCK_NOT_CONTIGUOUS"
  | "BLOCK_PREV_MISMATCH"
  | "BATCH_ROOT_MISMATCH"
  | "BLOCK_BACKDATED"
  | "BLOCK_FROM_FUTURE"
  | "ENTRY_UNREGISTERED"
  | "ENTRY_REVOKED"
  | "ENTRY_AFTER_SEAL"
  | "DUPLICATE_ENTRY"
  // The C2SP tlog-witness protocol (core/witness-protocol.ts).
  | "BAD_WITNESS_REQUEST"
  | "UNKNOWN_LOG"
  | "LOG_SIGNATURE_INVALID"
  | "OLD_SIZE_MISMATCH"
  | "CHECKPOINT_CONFLICT"
  // Signed requests, the credential of scoped reads (core/signed-request.ts).
  | "BAD_AUTHORIZATION"
  | "REQUEST_TIME_INVALID"
  | "REQUEST_SIGNATURE_INVALID"
  // Service requests: refused or malformed input, and pushback.
  | "BAD_JSON"
  | "BAD_REQUEST"
  | "STALE_TIME"
  | "UNKNOWN_PREV"
  | "UNKNOWN_CLIENT"
  | "CLIENT_REVOKED"
  | "CLIENT_CONFLICT"
  | "TOO_LARGE"
  | "TOO_MANY_ITEMS"
  | "NOT_FOUND"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "OVERLOADED"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "BAD_CONFIG";

export class CairnError extends Error {
  override readonly name = "CairnError";
  /** For multi-step checks (receipt verification): the step that failed. */
  readonly step?: string;
  /** For pushback (RATE_LIMITED, OVERLOADED): seconds until a retry may succeed. */
  readonly retryAfter?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; step?: string; retryAfter?: number },
  ) {
    super(message, options);
    if (options?.step !== undefined) this.step = options.step;
    if (options?.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** Throws a CairnError with the given code unless `condition` holds. */
export function check(condition: unknown, code: ErrorCode, message: string): asserts condition {
  if (!condition) throw new CairnError(code, message);
}

export function isCairnError(e: unknown, code?: ErrorCode): e is CairnError {
  return e instanceof CairnError && (code === undefined || e.code === code);
}

/** Runs `fn`, re-raising any failure as a CairnError with `code` (the original kept as cause). */
export function withCode<T>(code: ErrorCode, message: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw new CairnError(code, message, { cause });
  }
}
