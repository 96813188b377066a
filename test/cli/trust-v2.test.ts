/**
 * The real `cairn` with a version 2 trust document (FORMATS.md §8): pinned
 * with its recorded fingerprint and described as v2, and the FORMATS
 * example receipt verified under it, offline.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cairnRunner } from "./run-cairn.js";

const vectors = JSON.parse(fs.readFileSync(new URL("../vectors/cairn-v1.json", import.meta.url), "utf8"));
let root: string;
const cairn = cairnRunner(() => root);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-trust-v2-"));
  fs.writeFileSync(path.join(root, "trust-v2.json"), JSON.stringify(vectors.trustV2.document, null, 2));
  fs.writeFileSync(path.join(root, "receipt.json"), JSON.stringify(vectors.receipt));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("cairn with a v2 trust document", () => {
  it("pins it by its recorded fingerprint, lists it as v2, and verifies the example receipt under the key of its time", async () => {
    const added = await cairn(["trust", "add", "trust-v2.json"]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout + added.stderr).toContain(vectors.trustV2.fingerprint);
    const listed = await cairn(["trust", "list"]);
    expect(listed.stdout).toMatch(/keys scheduled by checkpoint size \(v2\)/);
    const verified = await cairn(["verify", "--digest", vectors.submissions[0].digest, "receipt.json"]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`fingerprint ${vectors.trustV2.fingerprint}`);
    expect(verified.stdout).toMatch(/^OK: digest /m);
  });
});
