/**
 * SHA-256, synchronous. @noble/hashes runs unchanged in browsers and workerd
 * (WebCrypto's digest is async and an order of magnitude slower per call);
 * a runtime with a faster synchronous one installs it (`installNativeSha256`:
 * node:crypto on Node, which hashes the 65-byte node inputs of a tree about
 * twice and 300-byte entries about three times as fast). A native one must
 * give noble's answers on the probe below before it is used.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesEqual } from "./bytes.js";

export const HASH_SIZE = 32;

/** A synchronous SHA-256 of the runtime's own; its result must not be written to by anyone else. */
export type NativeSha256 = (data: Uint8Array) => Uint8Array;

let native: NativeSha256 | undefined;

export function sha256(data: Uint8Array): Uint8Array {
  return native !== undefined ? native(data) : nobleSha256(data);
}

// Without a native hash, sha256Into resets one reused noble state by copying
// a pristine one into it: ~40 % faster per call than a fresh hasher on the
// short inputs of trees. Safe because it is synchronous and never re-enters.
const pristine = nobleSha256.create();
const reused = nobleSha256.create();

/** Writes SHA-256(data) into out[0, 32): the hot path of tree building, without a result per call. */
export function sha256Into(data: Uint8Array, out: Uint8Array): void {
  if (native !== undefined) {
    out.set(native(data));
    return;
  }
  pristine._cloneInto(reused);
  reused.update(data);
  reused.digestInto(out);
}

/** Incremental hasher, for inputs assembled from parts without copying (a file, chunk by chunk). */
export function sha256Hasher() {
  return nobleSha256.create();
}

/**
 * Makes `impl` core's SHA-256 if it agrees with noble on the empty input,
 * FIPS 180-2's "abc", and inputs across the 55/56/64-byte padding edges and
 * several blocks. Returns whether it was installed.
 */
export function installNativeSha256(impl: NativeSha256): boolean {
  let ok: boolean;
  try {
    ok = [0, 3, 55, 56, 63, 64, 65, 1000].every((n) => {
      const input = Uint8Array.from({ length: n }, (_, i) => (n === 3 ? 0x61 + i : (i * 31 + n) & 0xff));
      const got = impl(input);
      return got instanceof Uint8Array && got.length === HASH_SIZE && bytesEqual(got, nobleSha256(input));
    });
  } catch {
    ok = false;
  }
  native = ok ? impl : undefined;
  return ok;
}

/** SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT: Uint8Array = nobleSha256(new Uint8Array(0));
