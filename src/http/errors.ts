/**
 * The one place where error codes become HTTP statuses and the JSON error
 * body `{ "error": { "code", "message" } }` (README "The HTTP API").
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CairnError, type ErrorCode } from "../core/errors.js";
import { StorageUnavailable } from "../store/sql-store.js";

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  UNKNOWN_CLIENT: 403,
  CLIENT_REVOKED: 403,
  BAD_SIGNATURE: 403,
  ENTRY_SIGNATURE_INVALID: 403,
  FORBIDDEN: 403,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CLIENT_CONFLICT: 409,
  KEY_RECORD_CONFLICT: 409,
  TOO_LARGE: 413,
  TOO_MANY_ITEMS: 413,
  OVERLOADED: 503,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/** Seconds a client should wait before retrying after pushback. */
export const RETRY_AFTER_SECONDS = 1;

export function statusOf(code: string): ContentfulStatusCode {
  const known = STATUS[code as ErrorCode];
  if (known !== undefined) return known;
  // Everything else a CairnError names is a problem with the input.
  return 400;
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The error body with its status; pushback (503, 429) says when to retry: `retryAfter` seconds, by default RETRY_AFTER_SECONDS. */
export function errorResponse(c: Context, code: string, message: string, status = statusOf(code), retryAfter = RETRY_AFTER_SECONDS): Response {
  if (status === 503 || status === 429) c.header("Retry-After", String(retryAfter));
  return c.json(errorBody(code, message), status);
}

/** Maps anything thrown by a handler to the error body; unknown errors are logged, never echoed. */
export function toResponse(c: Context, e: unknown, log: (e: unknown) => void): Response {
  // Pushback for the caller, and news for the operator: a disk that filled up is not the caller's to fix.
  if (e instanceof StorageUnavailable) log(e);
  if (e instanceof CairnError) return errorResponse(c, e.code, e.message, undefined, e.retryAfter);
  if (e instanceof HTTPException) {
    if (e.status === 413) return errorResponse(c, "TOO_LARGE", "request body is too large");
    if (e.status === 400) return errorResponse(c, "BAD_JSON", "request body must be valid JSON with Content-Type: application/json");
    return errorResponse(c, "BAD_REQUEST", e.message, e.status as ContentfulStatusCode);
  }
  log(e);
  return errorResponse(c, "INTERNAL", "internal error; the operator has been told", 500);
}
