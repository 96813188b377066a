import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/core/bytes.js";

/** Hex by the plainest means there is, to hold the fast one to. */
function referenceHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

describe("hex", () => {
  it("writes every byte value as two lowercase digits", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(all)).toBe(referenceHex(all));
    expect(toHex(Uint8Array.of(0x00, 0x0f, 0xa0, 0xff))).toBe("000fa0ff");
    expect(toHex(new Uint8Array(0))).toBe("");
  });

  it("is exact at every length around the 4 kB a call writes at once, and round-trips", () => {
    let seed = 7;
    for (const n of [1, 31, 32, 33, 4095, 4096, 4097, 8192, 8193, 100_000]) {
      const bytes = Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      const hex = toHex(bytes);
      expect(hex).toHaveLength(2 * n);
      expect(hex).toBe(referenceHex(bytes));
      expect(fromHex(hex)).toEqual(bytes);
    }
  });

  it("reads a view as its own bytes, not its buffer's", () => {
    const buffer = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(toHex(buffer.subarray(10, 14))).toBe("0a0b0c0d");
  });
});
