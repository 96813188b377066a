/**
 * node:crypto's SHA-256 as core's native hash (core/hash.ts): OpenSSL's,
 * with the CPU's SHA extensions where it has them, against @noble/hashes in
 * JavaScript. Every Node process of Cairn installs it once at start, beside
 * node:crypto's Ed25519.
 */
import { createHash, hash } from "node:crypto";
import { installNativeSha256 } from "../core/hash.js";

let installed: boolean | undefined;

/** Installs node:crypto's SHA-256 (idempotent); false if it failed core's probe and noble stays. */
export function installNodeSha256(): boolean {
  // crypto.hash, one call per digest, is Node ≥ 20.12; createHash is the same OpenSSL call in three.
  const digest =
    typeof hash === "function"
      ? (data: Uint8Array) => hash("sha256", data, "buffer")
      : (data: Uint8Array) => createHash("sha256").update(data).digest();
  installed ??= installNativeSha256((data) => {
    const b = digest(data);
    // A plain view of the Buffer's own bytes: callers compare and store it as a Uint8Array.
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  });
  return installed;
}
