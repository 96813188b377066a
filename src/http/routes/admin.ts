/**
 * The admin's routes, behind `Authorization: Bearer <CAIRN_ADMIN_TOKEN>`
 * (compared in constant time): client keys, seal now, key rotations.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { constantTimeEqual, utf8 } from "../../core/bytes.js";
import { adminErrors, adminSecurity as security, errors, json, routes, type AppEnv } from "../env.js";
import type { AttemptLimiter } from "../attempt-limiter.js";
import { errorResponse } from "../errors.js";
import * as S from "../schemas.js";

/**
 * Refuses a request without the admin token: 401 when it is missing, 403
 * when it is wrong, and 429 + Retry-After, before any comparison, for a
 * source that has spent its budget of wrong tokens (./attempt-limiter.ts).
 */
export function adminOnly(adminToken: string, limiter: AttemptLimiter, sourceOf: (c: Context<AppEnv>) => string): MiddlewareHandler<AppEnv> {
  const token = utf8(adminToken);
  return async (c, next) => {
    const source = sourceOf(c);
    const wait = limiter.retryAfter(source);
    if (wait > 0) {
      return errorResponse(c, "RATE_LIMITED", `too many wrong admin tokens from ${source}; try again in ${wait} s`, 429, wait);
    }
    const header = c.req.header("Authorization");
    if (header === undefined || !header.startsWith("Bearer ")) {
      return errorResponse(c, "UNAUTHORIZED", "admin routes need Authorization: Bearer <CAIRN_ADMIN_TOKEN>");
    }
    if (!constantTimeEqual(utf8(header.slice(7)), token)) {
      limiter.failed(source);
      return errorResponse(c, "FORBIDDEN", "the admin token is wrong");
    }
    await next();
  };
}

export function adminRoutes() {
  const app = routes();

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/clients",
      summary: "Register a client key",
      security,
      request: { body: { content: { "application/json": { schema: S.RegisterBody } }, required: true } },
      responses: {
        201: json(S.Client, "Registered"),
        200: json(S.Client, "Already registered with this key"),
        409: json(S.ErrorBody, "The name is registered with another key"),
        ...errors,
        ...adminErrors,
      },
    }),
    async (c) => {
      const { created, client } = await c.var.services.clients.register(c.req.valid("json").key);
      return c.json(client, created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/clients",
      summary: "List client keys",
      security,
      responses: { 200: json(z.object({ clients: z.array(S.Client) }), "Clients"), ...adminErrors },
    }),
    async (c) => c.json({ clients: await c.var.services.clients.list() }, 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/admin/clients/{name}",
      summary: "Revoke a client key (its past anchors stay valid)",
      security,
      request: { params: z.object({ name: z.string().openapi({ param: { name: "name", in: "path" } }) }) },
      responses: { 200: json(S.Client, "Revoked"), 404: json(S.ErrorBody, "No such client"), ...adminErrors },
    }),
    async (c) => c.json(await c.var.services.clients.revoke(c.req.valid("param").name), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/seal",
      summary: "Seal now",
      security,
      responses: { 200: json(S.SealReport, "What the seal did"), ...adminErrors },
    }),
    async (c) => {
      const { block, head, final, cosigners, reason } = await c.var.request.sealer.seal();
      return c.json({ ...(block ? { block } : {}), head, final, cosigners: [...cosigners], ...(reason ? { reason } : {}) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/keys/operator",
      summary: "Rotate the operator key to CAIRN_OPERATOR_NEXT_KEY (a chain record signed by both keys)",
      security,
      responses: {
        202: json(S.KeyRecordAck, "Queued; checkpoints move to the new key two sizes after the block that seals it"),
        200: json(S.KeyRecordAck, "Already queued or sealed"),
        409: json(S.ErrorBody, "Another rotation is waiting"),
        ...errors,
        ...adminErrors,
      },
    }),
    async (c) => {
      const r = await c.var.services.keys.rotateOperator();
      return c.json({ id: r.id, role: r.role, name: r.name, entry: r.entry }, r.created ? 202 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/keys/member",
      summary: "Countersign and queue a member's key rotation (made by cairn member rotate-key)",
      security,
      request: { body: { content: { "application/json": { schema: S.MemberKeyBody } }, required: true } },
      responses: {
        202: json(S.KeyRecordAck, "Queued; the member's cosignatures move to the new key two sizes after the block that seals it"),
        200: json(S.KeyRecordAck, "Already queued or sealed"),
        404: json(S.ErrorBody, "No such member"),
        409: json(S.ErrorBody, "The record does not retire the member's key in use, or another rotation is waiting"),
        ...errors,
        ...adminErrors,
      },
    }),
    async (c) => {
      const r = await c.var.services.keys.rotateMember(c.req.valid("json").record);
      return c.json({ id: r.id, role: r.role, name: r.name, entry: r.entry }, r.created ? 202 : 200);
    },
  );

  return app;
}
