/**
 * node:crypto's Ed25519 as core's native backend (core/ed25519.ts). On Node,
 * a WebCrypto verify costs a promise and a round trip through the libuv
 * thread pool on top of the curve arithmetic (≈ 110 µs of CPU against ≈ 65
 * µs for the same OpenSSL call made synchronously, docs/BENCHMARKS.md);
 * every Node process of Cairn installs this once at start.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { installNativeEd25519 } from "../core/ed25519.js";

// DER prefixes that wrap a raw Ed25519 key: SubjectPublicKeyInfo (RFC 8410
// §4) for a 32-byte public key, PKCS#8 PrivateKeyInfo (§7) for a 32-byte seed.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

// Importing a key costs as much as a verify; the keys a process sees again
// and again (its clients', the operator's, the members') stay imported.
const KEY_CACHE_LIMIT = 4096;
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
  let key = publicKeys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
    if (publicKeys.size >= KEY_CACHE_LIMIT) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(id, key);
  }
  return key;
}

let installed: boolean | undefined;

/** Installs node:crypto's Ed25519 (idempotent); false if it failed core's probe and WebCrypto stays. */
export function installNodeEd25519(): boolean {
  installed ??= installNativeEd25519({
    verify: (publicKey, message, signature) => verify(null, message, publicKeyObject(publicKey), signature),
    signer(seed) {
      const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
      return (message) => new Uint8Array(sign(null, message, key));
    },
  });
  return installed;
}
