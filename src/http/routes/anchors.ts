/**
 * Anchoring and what an anchor became: submit one or a batch, an anchor's
 * status and receipt by id (public: an id is the hash of the signed entry),
 * and a digest's anchors (a scoped read).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { CairnError } from "../../core/errors.js";
import { errors, json, readErrors, readerOf, readSecurity, routes } from "../env.js";
import * as S from "../schemas.js";

export function anchorRoutes(limits: { readonly maxBatchItems: number; readonly sealIntervalMs: number }) {
  const app = routes();

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/anchors",
      summary: "Anchor one signed submission",
      request: { body: { content: { "application/json": { schema: S.SubmitBody } }, required: true } },
      responses: {
        202: json(S.AnchorAck, "Accepted and durable; sealed by the promise's deadline"),
        200: json(S.AnchorAck, "Already known: the same id, its status and original promise"),
        ...errors,
        403: json(S.ErrorBody, "Unknown or revoked client, or a bad signature"),
        413: json(S.ErrorBody, "Body too large"),
      },
    }),
    async (c) => {
      const r = await c.var.request.submitter.submit(c.req.valid("json").submission);
      return c.json(r.ack, r.created ? 202 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/anchors/batch",
      summary: `Anchor up to ${limits.maxBatchItems} submissions; one result per item, in order`,
      request: { body: { content: { "application/json": { schema: S.BatchBody } }, required: true } },
      responses: { 200: json(S.BatchResult, "Per-item results"), ...errors, 413: json(S.ErrorBody, "Too many items or body too large") },
    }),
    async (c) => {
      const { submissions } = c.req.valid("json");
      if (submissions.length > limits.maxBatchItems) {
        throw new CairnError("TOO_MANY_ITEMS", `a batch carries at most ${limits.maxBatchItems} submissions; split it`);
      }
      const results = await c.var.request.submitter.submitMany(submissions);
      return c.json({ results: results.map((r) => ("error" in r ? r : { ...r.ack, created: r.created })) }, 200);
    },
  );

  const idParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "ab".repeat(32) }) });

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/anchors/{id}",
      summary: "Status of an anchor; with its receipt once sealed",
      request: { params: idParam },
      responses: { 200: json(S.AnchorView, "The anchor"), ...errors, 404: json(S.ErrorBody, "Unknown id") },
    }),
    async (c) => c.json(await c.var.services.reads.anchor(c.req.valid("param").id), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/anchors/{id}/receipt",
      summary: "The receipt of a sealed anchor",
      request: { params: idParam },
      responses: {
        200: json(S.Receipt, "Receipt (cairn-receipt/v1)"),
        202: json(S.Pending, "Not sealed yet; retry after Retry-After seconds"),
        ...errors,
        404: json(S.ErrorBody, "Unknown id"),
      },
    }),
    async (c) => {
      const answer = await c.var.services.reads.receipt(c.req.valid("param").id);
      if (answer.state === "pending") {
        c.header("Retry-After", String(Math.max(1, Math.ceil(limits.sealIntervalMs / 1000))));
        return c.json({ id: answer.id, status: "pending" as const }, 202);
      }
      return c.json(answer.receipt, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/digests/{digest}",
      summary: "The anchors of a digest, oldest first: for a client those it signed; for members and admin all",
      security: readSecurity,
      request: { params: z.object({ digest: z.string().openapi({ param: { name: "digest", in: "path" } }) }) },
      responses: { 200: json(S.DigestAnchors, "Anchors the reader may see (possibly none)"), ...errors, ...readErrors },
    }),
    async (c) => c.json(await c.var.services.reads.anchorsOfDigest(c.req.valid("param").digest, await readerOf(c, "digest")), 200),
  );

  return app;
}
