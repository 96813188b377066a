/**
 * The chain as anyone may read it: the newest final checkpoint, block
 * headers, history-tree proofs; and a block's entries, for the members
 * that replicate them (a scoped read).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { TypedResponse } from "hono";
import { errors, json, readErrors, readerOf, readSecurity, routes } from "../env.js";
import * as S from "../schemas.js";

export function chainRoutes() {
  const app = routes();

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/checkpoint",
      summary: "The newest final checkpoint (C2SP tlog-checkpoint signed note, cosigned)",
      responses: { 200: { content: { "text/plain": { schema: z.string() } }, description: "Signed note" }, ...errors },
    }),
    async (c) => c.text(await c.var.services.reads.checkpoint(), 200, { "Content-Type": "text/plain; charset=utf-8" }),
  );

  const heightParam = z.object({ height: S.Count.openapi({ param: { name: "height", in: "path" } }) });
  const limit = z.coerce.number().int().min(1).max(1000).default(100);

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/blocks",
      summary: "Block headers from a height, paged",
      request: { query: z.object({ from: S.Count.default(0), limit }) },
      responses: { 200: json(S.BlockList, "Blocks"), ...errors },
    }),
    async (c) => {
      const { from, limit: n } = c.req.valid("query");
      return c.json(await c.var.services.reads.blocks(from, n), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/blocks/{height}",
      summary: "One block header",
      request: { params: heightParam },
      responses: { 200: json(S.Block, "Block"), ...errors, 404: json(S.ErrorBody, "No such block") },
    }),
    async (c) => c.json(await c.var.services.reads.block(c.req.valid("param").height), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/blocks/{height}/entries",
      summary: "A block's entries in order, paged: for members (replication) and admin",
      security: readSecurity,
      request: { params: heightParam, query: z.object({ offset: S.Count.default(0), limit }) },
      responses: { 200: json(S.BlockEntries, "Entries"), ...errors, ...readErrors, 404: json(S.ErrorBody, "No such block") },
    }),
    async (c) => {
      const { height } = c.req.valid("param");
      const { offset, limit: n } = c.req.valid("query");
      const page = await c.var.services.reads.blockEntries(height, offset, n, await readerOf(c, "entries"));
      // Already JSON in the shape of S.BlockEntries (the store serialised it): sent as it is,
      // typed as the route declares (test/service/api.test.ts parses it against the schema).
      return c.body(page, 200, { "Content-Type": "application/json" }) as unknown as TypedResponse<z.infer<typeof S.BlockEntries>, 200, "json">;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/proofs/block",
      summary: "Inclusion of a block in the history tree",
      request: { query: z.object({ height: S.Count, size: S.Count.optional() }) },
      responses: { 200: json(S.BlockProof, "Audit path"), ...errors },
    }),
    async (c) => {
      const { height, size } = c.req.valid("query");
      return c.json(await c.var.services.reads.blockProof(height, size), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/proofs/consistency",
      summary: "Consistency of two history-tree sizes (RFC 9162 §2.1.4)",
      request: { query: z.object({ from: S.Count, to: S.Count }) },
      responses: { 200: json(S.ConsistencyProof, "Proof"), ...errors },
    }),
    async (c) => {
      const { from, to } = c.req.valid("query");
      return c.json(await c.var.services.reads.consistency(from, to), 200);
    },
  );

  return app;
}
