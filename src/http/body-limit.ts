/**
 * A request body size limit that leaves Node's fast path alone. hono's
 * bodyLimit first asks for `c.req.raw.body`, which on @hono/node-server
 * turns the socket into a web ReadableStream and builds a full Request: ≈ 60
 * µs a submission for nothing, as the body is then read whole anyway. A
 * declared Content-Length is what either runtime's HTTP parser will read, so
 * it is checked from the header alone; only a body without one (chunked)
 * goes through hono's streaming count. GET and HEAD bodies are never read by
 * any route, so they are not looked at.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

export function limitBody(maxSize: number, onError: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const streaming = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      // NaN (a malformed length the parser let through) counts as too large.
      if (!(Number(length) <= maxSize)) return onError(c);
      return next();
    }
    return streaming(c, next);
  };
}
