/**
 * The HTTP face of a member's witness (docs/ARCHITECTURE.md "The member's
 * witness"): C2SP tlog-witness `POST /add-checkpoint` with the spec's plain
 * text bodies and statuses, `GET /checkpoint` for monitors, and JSON
 * `GET /status`, `GET /healthz`, `GET /metrics` for the member's own
 * operations. Mounted at the witness URL prefix the operator is given.
 */
import { Hono } from "hono";
import { limitBody } from "./body-limit.js";
import type { Witness } from "../service/witness.js";
import { errorBody } from "./errors.js";

/** A checkpoint note plus 63 proof lines is a few KiB; anything far larger is not a request. */
const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;

export function createWitnessApp(witness: Witness) {
  const app = new Hono();
  const requests = witness.metrics.counter("cairn_witness_http_requests_total", "HTTP requests to the witness by route and status.");
  app.use("*", async (c, next) => {
    await next();
    requests({ route: c.req.routePath, status: String(c.res.status) });
  });
  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
  app.onError((e, c) => {
    console.error(e);
    return c.json(errorBody("INTERNAL", "internal error"), 500);
  });

  app.post(
    "/add-checkpoint",
    limitBody(MAX_ADD_CHECKPOINT_BYTES, (c) => c.text(`TOO_LARGE: an add-checkpoint body is at most ${MAX_ADD_CHECKPOINT_BYTES} bytes\n`, 413)),
    async (c) => {
      const reply = await witness.addCheckpoint(await c.req.text());
      return c.body(reply.body, reply.status as 200, { "Content-Type": reply.contentType, ...(reply.status === 503 ? { "Retry-After": "1" } : {}) });
    },
  );

  app.get("/checkpoint", async (c) => {
    const note = await witness.latestCheckpoint();
    if (note === undefined) return c.text("NOT_FOUND: this witness has cosigned no checkpoint yet\n", 404);
    return c.body(note, 200, { "Content-Type": "text/plain; charset=utf-8" });
  });

  app.get("/status", async (c) => c.json(await witness.status()));
  app.get("/healthz", async (c) => {
    const s = await witness.status();
    return c.json({ ok: s.halted === null, name: s.name, origin: s.origin, blocks: s.replica.size, cosigned: s.latest?.size ?? null, halted: s.halted !== null }, s.halted === null ? 200 : 503);
  });
  app.get("/metrics", (c) => c.body(witness.metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }));
  return app;
}
