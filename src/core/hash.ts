/**
 * SHA-256, synchronous. @noble/hashes is as fast as node:crypto for the short
 * inputs of Merkle trees and runs unchanged in browsers and workerd; WebCrypto's
 * digest is async and an order of magnitude slower per call.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

export const HASH_SIZE = 32;

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Incremental hasher, for inputs assembled from parts without copying. */
export function sha256Hasher() {
  return nobleSha256.create();
}

/** SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));
