/**
 * Miniflare as the tests and benchmarks start it: every request from Node to
 * workerd (dispatchFetch, and the binding proxy behind getD1Database) goes on
 * a TCP connection of its own.
 *
 * Why (issue 7): workerd closes an idle HTTP connection after 5 s and sends
 * no Keep-Alive hint; Miniflare 3 reaches it through an undici 5 Pool that
 * keeps idle sockets for 4 s, checked on a 1 s coarse timer, so a socket
 * stays in the pool for 4–6 s. When workerd's FIN arrives while this
 * process's event loop is busy (both cores loaded by other test files), the
 * FIN is still unread when the next request is written on that socket, and
 * the request fails with `SocketError: other side closed`.
 * test/worker/d1-store.test.ts › "the binding proxy survives workerd closing
 * an idle connection" reproduces it deterministically. A deployed Worker's D1
 * binding involves no such connection, so the store is not what changes;
 * later Miniflare releases make the same choice (one connection per
 * dispatched request).
 *
 * Requests to workerd are marked `reset`, which makes undici send
 * `Connection: close` and never reuse the socket. The binding proxy's
 * synchronous calls (prepare, bind) go through a separate thread of
 * Miniflare's with its own pool; that thread is idle between its one-at-a-time
 * calls, so it reads a FIN as it arrives and cannot meet this race.
 */
import { createRequire } from "node:module";
import { Miniflare, type MiniflareOptions } from "miniflare";

export function newMiniflare(options: MiniflareOptions): Miniflare {
  freshConnectionsToWorkerd();
  return new Miniflare(options);
}

let installed = false;

function freshConnectionsToWorkerd(): void {
  if (installed) return;
  installed = true;
  // The undici that Miniflare itself loads (not Node's built-in fetch's).
  const undici = createRequire(createRequire(import.meta.url).resolve("miniflare"))("undici") as {
    Pool: { prototype: { dispatch(options: object, handler: unknown): boolean } };
  };
  const dispatch = undici.Pool.prototype.dispatch;
  // Miniflare's only Pools are its connections to workerd's loopback sockets.
  undici.Pool.prototype.dispatch = function (this: unknown, options: object, handler: unknown) {
    return dispatch.call(this, { ...options, reset: true }, handler);
  };
}
