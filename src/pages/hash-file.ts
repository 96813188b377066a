/**
 * SHA-256 of a file the person chose, on this machine (core's @noble/hashes
 * SHA-256, fed chunk by chunk so a large document is never held in memory
 * twice). The bytes and the digest stay in this page: nothing here, or in
 * its callers, sends either anywhere.
 */
import { sha256Hasher } from "../core/hash.js";

export async function hashFile(file: Blob, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
  const hasher = sha256Hasher();
  const reader = file.stream().getReader();
  let done = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    hasher.update(chunk.value);
    done += chunk.value.length;
    onProgress?.(done, file.size);
  }
  return hasher.digest();
}
