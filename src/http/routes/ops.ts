/** Operations: health (counts only) and the Prometheus metrics, behind a token unless the deployment opened them. */
import { checkMetricsReader } from "../../service/read-scopes.js";
import { RETRY_AFTER_SECONDS } from "../errors.js";
import { routes } from "../env.js";

export function opsRoutes() {
  const app = routes();

  app.get("/healthz", async (c) => {
    const { ctx } = c.var.services;
    try {
      const [head, pending] = await Promise.all([ctx.primary.head(), ctx.primary.pendingStats()]);
      return c.json({ ok: true, origin: ctx.config.origin, blocks: head.size, pending: pending.count, queued: c.var.request.submitter.queued });
    } catch (e) {
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      return c.json({ ok: false, error: { code: "UNAVAILABLE", message: `primary database: ${(e as Error).message}` } }, 503);
    }
  });

  app.get("/metrics", (c) => {
    const { ctx } = c.var.services;
    checkMetricsReader(c.req.header("Authorization"), ctx.config.reads, ctx.config.adminToken);
    return c.text(ctx.metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  return app;
}
