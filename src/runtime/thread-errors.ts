/**
 * Errors across a worker thread's boundary. A structured clone keeps an
 * Error's message but not its class, and the witness tells a replica's
 * errors apart by class: ConstraintViolation (an entry sealed twice: halt)
 * and CairnError (UNAVAILABLE: retry) against anything else (a fault).
 */
import { CairnError, isCairnError, type ErrorCode } from "../core/errors.js";
import { ConstraintViolation } from "../store/sql-store.js";

export type ThreadError =
  | { readonly kind: "constraint"; readonly statementIndex: number | undefined; readonly message: string }
  | { readonly kind: "cairn"; readonly code: ErrorCode; readonly message: string; readonly retryAfter: number | undefined }
  | { readonly kind: "error"; readonly message: string; readonly stack: string | undefined };

export function toThreadError(e: unknown): ThreadError {
  if (e instanceof ConstraintViolation) return { kind: "constraint", statementIndex: e.statementIndex, message: e.message };
  if (isCairnError(e)) return { kind: "cairn", code: e.code, message: e.message, retryAfter: e.retryAfter };
  return { kind: "error", message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined };
}

export function fromThreadError(t: ThreadError): Error {
  if (t.kind === "constraint") return new ConstraintViolation(t.statementIndex, t.message);
  if (t.kind === "cairn") return new CairnError(t.code, t.message, t.retryAfter === undefined ? {} : { retryAfter: t.retryAfter });
  const e = new Error(t.message);
  if (t.stack !== undefined) e.stack = t.stack;
  return e;
}
