/**
 * Salted commitments (FORMATS.md §9, cairn-receipt/v2): the entry holds
 * SHA-256(salt ‖ SHA-256(document)); the salt lives in the receipt alone.
 * A real one-block chain built with core from the fixture's keys.
 */
import { describe, expect, it } from "vitest";
import {
  blockHash,
  buildReceipt,
  formatBlockHeader,
  inclusionProof,
  isCairnError,
  leafHash,
  merkleRoot,
  noteSigner,
  parseReceipt,
  saltedDigest,
  sha256,
  signSubmission,
  toBase64,
  toHex,
  utf8,
  verifyReceipt,
  withSalt,
} from "../../src/core/index.js";
import { client, ORIGIN, signedCheckpoint, T0, trust } from "./chain-fixture.js";

const NOW = T0 + 1000;
const doc = utf8("licence 2026-0042\n");
const salt = sha256(utf8("a salt for the tests")); // 32 bytes; a real one is random

async function saltedReceipt() {
  const entry = await signSubmission({ origin: ORIGIN, digest: saltedDigest(salt, sha256(doc)), time: T0 }, noteSigner(client.signerKey));
  const header = formatBlockHeader({ origin: ORIGIN, height: 0, prevHash: new Uint8Array(32), size: 1, root: merkleRoot([leafHash(utf8(entry))]), sealedAt: T0 + 1 });
  const checkpoint = await signedCheckpoint(1, merkleRoot([blockHash(header)]));
  const plain = buildReceipt({ entry, block: header, inclusion: { index: 0, size: 1, path: [] }, history: { index: 0, size: 1, path: inclusionProof([blockHash(header)], 0) }, checkpoint, client: client.verifierKey });
  return { plain, salted: withSalt(plain, salt) };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    return isCairnError(e) ? e.code : "THREW";
  }
}

describe("salted commitments", () => {
  it("the commitment is SHA-256(salt ‖ SHA-256(document)), computed independently", () => {
    const expected = sha256(new Uint8Array([...salt, ...sha256(doc)]));
    expect(toHex(saltedDigest(salt, sha256(doc)))).toBe(toHex(expected));
    expect(() => saltedDigest(salt.slice(1), sha256(doc))).toThrow();
  });

  it("a v2 receipt verifies against the document, never reveals its digest, and fails for another document", async () => {
    const { plain, salted } = await saltedReceipt();
    expect(salted.version).toBe("cairn-receipt/v2");
    expect(salted.salt).toBe(toBase64(salt));
    expect(plain.entry).not.toContain(toHex(sha256(doc)));
    const result = await verifyReceipt(salted, trust, { document: doc, now: NOW });
    expect(result.salted).toBe(true);
    expect(result.digest).toBe(toHex(saltedDigest(salt, sha256(doc))));
    expect(await code(verifyReceipt(salted, trust, { document: utf8("licence 2026-0043\n"), now: NOW }))).toBe("DIGEST_MISMATCH");
    // Without its salt the receipt cannot be matched to the document: the v1 receipt of a salted entry fails.
    expect(await code(verifyReceipt(plain, trust, { document: doc, now: NOW }))).toBe("DIGEST_MISMATCH");
  });

  it("a changed salt fails; a v1 receipt with a salt, or a v2 without one, is malformed", async () => {
    const { salted } = await saltedReceipt();
    const other = { ...salted, salt: toBase64(sha256(utf8("another salt"))) };
    expect(await code(verifyReceipt(other, trust, { document: doc, now: NOW }))).toBe("DIGEST_MISMATCH");
    expect(() => parseReceipt({ ...salted, version: "cairn-receipt/v1" })).toThrow(/a cairn-receipt\/v1 has no salt/);
    const { salt: _, ...unsalted } = salted;
    expect(() => parseReceipt(unsalted)).toThrow(/carries its salt/);
    expect(() => parseReceipt({ ...salted, salt: "AAAA" })).toThrow(/canonical base64 of 32 bytes/);
    expect(() => withSalt(salted, salt)).toThrow(/already carries a salt/);
  });
});
