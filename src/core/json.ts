/** Small guards for the JSON documents core parses (receipts, trust). */
import { CairnError, type ErrorCode } from "./errors.js";

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A JSON number that is a non-negative safe integer. */
export function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Accepts a document as already-parsed JSON or as its text. */
export function jsonInput(input: unknown, code: ErrorCode, what: string): unknown {
  if (typeof input !== "string") return input;
  try {
    return JSON.parse(input);
  } catch (cause) {
    throw new CairnError(code, `${what} is not valid JSON`, { cause });
  }
}
