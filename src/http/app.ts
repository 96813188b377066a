/**
 * The operator's Hono app: every route of the README's "The HTTP API",
 * composed from route modules (./routes/: anchors, chain, consortium, admin,
 * ops, pages), each a thin layer over the services that middleware puts on every
 * request, validated by the schemas in ./schemas.ts, with errors mapped in
 * one place (./errors.ts). The same app serves Node and the Worker.
 */
import type { Context as HonoContext } from "hono";
import type { Services } from "../service/index.js";
import { ADMIN_ATTEMPTS, AttemptLimiter } from "./attempt-limiter.js";
import { limitBody } from "./body-limit.js";
import { routes, type RequestServices } from "./env.js";
import { errorResponse, toResponse } from "./errors.js";
import { adminOnly, adminRoutes } from "./routes/admin.js";
import { anchorRoutes } from "./routes/anchors.js";
import { chainRoutes } from "./routes/chain.js";
import { consortiumRoutes } from "./routes/consortium.js";
import { opsRoutes } from "./routes/ops.js";
import { pagesRoutes } from "./routes/pages.js";

export interface AppOptions {
  /** Called for errors that are not the client's fault. */
  readonly onInternalError?: (e: unknown) => void;
  /** Runs after a request (the Worker uses it to start a seal when entries wait too long). */
  readonly afterRequest?: (c: HonoContext) => void;
  /**
   * The submitter and sealer a request uses; by default those of `services`.
   * The Worker gives each request its own (requestServices), as workerd
   * forbids one request to wait on another's I/O, while the app and every
   * other service stay built once per isolate.
   */
  readonly forRequest?: (c: HonoContext) => RequestServices;
  /**
   * Who is on the other end, for limits on guessing (the peer's address on
   * Node, CF-Connecting-IP on the Worker); one shared source when unknown.
   */
  readonly sourceOf?: (c: HonoContext) => string | undefined;
}

export function createApp(services: Services, options: AppOptions = {}) {
  const { ctx } = services;
  const { config } = ctx;
  const forRequest = options.forRequest ?? (() => services);
  const requests = ctx.metrics.counter("cairn_http_requests_total", "HTTP requests by route and status.");
  const logInternal = options.onInternalError ?? ((e: unknown) => ctx.log.error("internal", { error: String((e as Error)?.stack ?? e) }));

  const app = routes();
  app.onError((e, c) => toResponse(c, e, logInternal));
  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.use("*", async (c, next) => {
    c.set("services", services);
    c.set("request", forRequest(c));
    await next();
    requests({ route: c.req.routePath, status: String(c.res.status) });
    options.afterRequest?.(c);
  });
  app.use(
    "/v1/*",
    limitBody(config.maxBodyBytes, (c) => {
      // The rest of the body is not read: the connection cannot be reused.
      c.header("Connection", "close");
      return errorResponse(c, "TOO_LARGE", `request body exceeds ${config.maxBodyBytes} bytes`);
    }),
  );
  const adminAttempts = new AttemptLimiter(ADMIN_ATTEMPTS, () => ctx.clock.now());
  app.use("/v1/admin/*", adminOnly(config.adminToken, adminAttempts, (c) => options.sourceOf?.(c) ?? "an unknown address"));

  app.route("/", anchorRoutes(config));
  app.route("/", chainRoutes());
  app.route("/", consortiumRoutes());
  app.route("/", adminRoutes());
  app.route("/", opsRoutes());
  app.route("/", pagesRoutes());

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "signed", {
    type: "http",
    scheme: "Cairn-Signed",
    description: "A request signed with a client's registered key or a member's cosigner key: docs/FORMATS.md §10",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Cairn", version: "1", description: "Consortium anchoring: signed digests, Merkle batches, a replicated hash chain, offline receipts." },
  });

  return app;
}
