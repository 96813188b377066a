/**
 * Reading an answer from another party (a witness, the log) without
 * trusting its size: the body is read chunk by chunk and refused, unread
 * past the limit, once it exceeds `max` bytes.
 */
import { CairnError } from "../core/errors.js";

export async function readCapped(res: Response, max: number, what: string): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new CairnError("UNAVAILABLE", `${what} is larger than ${max} bytes`);
    }
    parts.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}
