/**
 * Byte encodings with one canonical form each: lowercase hex, standard padded
 * base64 (RFC 4648 §4), UTF-8, and canonical decimals. Decoders reject every
 * non-canonical spelling, because two honest parsers must never disagree on
 * what a signed text says.
 */
import { CairnError, check } from "./errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences rather than substituting U+FFFD. */
export function fromUtf8(bytes: Uint8Array, code: "BAD_NOTE" | "BAD_RECEIPT" = "BAD_NOTE"): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new CairnError(code, "text is not valid UTF-8", { cause });
  }
}

/** The two lowercase hex digits of each byte value, as character codes: byte b at 2b and 2b + 1. */
const HEX_CODES = Uint8Array.from({ length: 512 }, (_, i) => "0123456789abcdef".charCodeAt(i % 2 === 0 ? i >> 5 : (i >> 1) & 15));

/** Bytes per String.fromCharCode call: twice as many arguments, far inside every engine's limit. */
const HEX_BYTES_PER_CALL = 4096;

/**
 * Lowercase hex. One String.fromCharCode per 4 kB, not a string
 * concatenated two digits at a time: every entry id and digest is written
 * out this way on each party's hot path, and the concatenation cost 2.7×
 * as much (a rope of 32 pieces, flattened again when used as a key).
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let start = 0; start < bytes.length; start += HEX_BYTES_PER_CALL) {
    const end = Math.min(bytes.length, start + HEX_BYTES_PER_CALL);
    const codes = new Array<number>((end - start) * 2);
    for (let i = start, o = 0; i < end; i++) {
      const at = bytes[i]! * 2;
      codes[o++] = HEX_CODES[at]!;
      codes[o++] = HEX_CODES[at + 1]!;
    }
    out += String.fromCharCode.apply(null, codes);
  }
  return out;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** Lowercase hex only; `length` (in bytes) is enforced when given. */
export function fromHex(hex: string, length?: number): Uint8Array {
  check(hex.length % 2 === 0, "BAD_HEX", "hex must have an even number of digits");
  if (length !== undefined) {
    check(hex.length === length * 2, "BAD_HEX", `hex must be ${length * 2} digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    check(hi >= 0 && lo >= 0, "BAD_HEX", "hex must be lowercase 0-9a-f");
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Standard, padded, canonical base64: no whitespace, no URL alphabet, and the
 * unused bits of the last symbol must be zero (so each byte string has exactly
 * one accepted spelling).
 */
export function fromBase64(text: string, length?: number): Uint8Array {
  check(text.length % 4 === 0, "BAD_BASE64", "base64 must be padded to a multiple of 4 characters");
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* = */ && last && j >= 4 - pad) v = 0;
      else v = c < 128 ? B64_INDEX[c]! : -1;
      check(v >= 0, "BAD_BASE64", "base64 must use the standard alphabet with '=' padding only at the end");
      n = (n << 6) | v;
    }
    out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    if (last && pad > 0) {
      const unused = pad === 2 ? n & 0xffff : n & 0xff;
      check(unused === 0, "BAD_BASE64", "base64 is not canonical (non-zero padding bits)");
    }
  }
  if (length !== undefined) check(out.length === length, "BAD_BASE64", `base64 must decode to ${length} bytes`);
  return out;
}

/**
 * Canonical unsigned decimal: digits only, no sign, no leading zeros, and
 * within Number.MAX_SAFE_INTEGER so it round-trips exactly.
 */
export function parseDecimal(text: string, what = "number"): number {
  check(/^(0|[1-9][0-9]*)$/.test(text), "BAD_DECIMAL", `${what} must be a decimal without leading zeros`);
  const n = Number(text);
  check(Number.isSafeInteger(n), "BAD_DECIMAL", `${what} is too large`);
  return n;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Comparison whose time does not depend on where the inputs first differ (for secrets). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
