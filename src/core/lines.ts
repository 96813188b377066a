/**
 * The line discipline shared by every Cairn text format: each line ends in
 * "\n" (the last one included), no line is empty, and nothing but "\n" is a
 * control character. Parsers split strictly so that one text has one meaning.
 */
import { check, type ErrorCode } from "./errors.js";

export function formatLines(lines: readonly string[]): string {
  return lines.map((line) => line + "\n").join("");
}

/** Splits `text` into its lines, rejecting a missing final newline, empty lines and control characters. */
export function splitLines(text: string, code: ErrorCode, what: string): string[] {
  check(text.endsWith("\n"), code, `${what} must end with a newline`);
  const lines = text.slice(0, -1).split("\n");
  for (const line of lines) {
    check(line.length > 0, code, `${what} must not contain empty lines`);
    check(!/[\u0000-\u001f\u007f]/.test(line), code, `${what} must not contain control characters`);
  }
  return lines;
}
