/**
 * The Hono app: every route of the README's "The HTTP API", thin handlers over the
 * services, validation from the schemas in ./schemas.ts, errors mapped in one
 * place (./errors.ts). The same app serves Node and the Worker.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { fromHex, utf8, constantTimeEqual } from "../core/bytes.js";
import { CairnError, isCairnError } from "../core/errors.js";
import { ReceiptVerifier, stepsOf } from "../core/verify-receipt.js";
import type { Services } from "../service/index.js";
import { checkMetricsReader, type ScopedRead } from "../service/read-scopes.js";
import type { SealRunner } from "../service/seal.js";
import { limitBody } from "./body-limit.js";
import { errorResponse, RETRY_AFTER_SECONDS, toResponse } from "./errors.js";
import { createPagesApp } from "./pages.js";
import * as S from "./schemas.js";

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });
const errors = {
  400: json(S.ErrorBody, "Malformed input; the message says what to fix"),
  503: json(S.ErrorBody, "Pushback or not ready; retry after Retry-After seconds"),
};
const adminErrors = { 401: json(S.ErrorBody, "Admin token missing"), 403: json(S.ErrorBody, "Admin token wrong") };
/** The scoped reads' refusals (src/service/read-scopes.ts); the message names the credential the route wants. */
const readErrors = {
  401: json(S.ErrorBody, "No credential, or one that does not hold (a bad, stale or unknown signature; a wrong token)"),
  403: json(S.ErrorBody, "A valid credential that this route does not serve"),
};
/** Scoped reads take a request signed by a client or member (FORMATS.md §10), or the admin token. */
const readSecurity: Record<string, string[]>[] = [{ signed: [] }, { bearer: [] }];

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
  readonly forRequest?: (c: HonoContext) => { readonly submitter: Services["submitter"]; readonly sealer: SealRunner };
}

export function createApp(services: Services, options: AppOptions = {}) {
  const { ctx, reads, clients, keys } = services;
  const forRequest = options.forRequest ?? (() => services);
  const { config } = ctx;
  const requests = ctx.metrics.counter("cairn_http_requests_total", "HTTP requests by route and status.");
  const logInternal = options.onInternalError ?? ((e: unknown) => ctx.log.error("internal", { error: String((e as Error)?.stack ?? e) }));

  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
        return errorResponse(c, "BAD_REQUEST", `${result.target}: ${where}${issue?.message ?? "invalid"}`);
      }
      return undefined;
    },
  });

  app.onError((e, c) => toResponse(c, e, logInternal));
  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.route("/", createPagesApp());
  app.use("*", async (c, next) => {
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

  /** Who asks, for a scoped read: the request's Authorization against its own method and target. */
  const readerOf = (c: HonoContext, what: ScopedRead) => {
    const { pathname, search } = new URL(c.req.url);
    return services.auth.reader({ authorization: c.req.header("Authorization"), method: c.req.method, target: pathname + search }, what);
  };

  const adminToken = utf8(config.adminToken);
  const admin: MiddlewareHandler = async (c, next) => {
    const header = c.req.header("Authorization");
    if (header === undefined || !header.startsWith("Bearer ")) {
      return errorResponse(c, "UNAUTHORIZED", "admin routes need Authorization: Bearer <CAIRN_ADMIN_TOKEN>");
    }
    if (!constantTimeEqual(utf8(header.slice(7)), adminToken)) return errorResponse(c, "FORBIDDEN", "the admin token is wrong");
    await next();
  };
  app.use("/v1/admin/*", admin);

  // ---- Anchoring -------------------------------------------------------
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
      const { submission } = c.req.valid("json");
      const r = await forRequest(c).submitter.submit(submission);
      return c.json(r.ack, r.created ? 202 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/anchors/batch",
      summary: `Anchor up to ${config.maxBatchItems} submissions; one result per item, in order`,
      request: { body: { content: { "application/json": { schema: S.BatchBody } }, required: true } },
      responses: { 200: json(S.BatchResult, "Per-item results"), ...errors, 413: json(S.ErrorBody, "Too many items or body too large") },
    }),
    async (c) => {
      const { submissions } = c.req.valid("json");
      if (submissions.length > config.maxBatchItems) {
        throw new CairnError("TOO_MANY_ITEMS", `a batch carries at most ${config.maxBatchItems} submissions; split it`);
      }
      const results = await forRequest(c).submitter.submitMany(submissions);
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
    async (c) => c.json(await reads.anchor(c.req.valid("param").id), 200),
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
      const answer = await reads.receipt(c.req.valid("param").id);
      if (answer.state === "pending") {
        c.header("Retry-After", String(Math.max(1, Math.ceil(config.sealIntervalMs / 1000))));
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
    async (c) => c.json(await reads.anchorsOfDigest(c.req.valid("param").digest, await readerOf(c, "digest")), 200),
  );

  // ---- Chain -----------------------------------------------------------
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/checkpoint",
      summary: "The newest final checkpoint (C2SP tlog-checkpoint signed note, cosigned)",
      responses: { 200: { content: { "text/plain": { schema: z.string() } }, description: "Signed note" }, ...errors },
    }),
    async (c) => {
      const note = await reads.checkpoint();
      return c.text(note, 200, { "Content-Type": "text/plain; charset=utf-8" });
    },
  );

  const heightParam = z.object({ height: S.Count.openapi({ param: { name: "height", in: "path" } }) });

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/blocks",
      summary: "Block headers from a height, paged",
      request: { query: z.object({ from: S.Count.default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: { 200: json(S.BlockList, "Blocks"), ...errors },
    }),
    async (c) => {
      const { from, limit } = c.req.valid("query");
      return c.json(await reads.blocks(from, limit), 200);
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
    async (c) => c.json(await reads.block(c.req.valid("param").height), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/blocks/{height}/entries",
      summary: "A block's entries in order, paged: for members (replication) and admin",
      security: readSecurity,
      request: { params: heightParam, query: z.object({ offset: S.Count.default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: { 200: json(S.BlockEntries, "Entries"), ...errors, ...readErrors, 404: json(S.ErrorBody, "No such block") },
    }),
    async (c) => {
      const { height } = c.req.valid("param");
      const { offset, limit } = c.req.valid("query");
      return c.json(await reads.blockEntries(height, offset, limit, await readerOf(c, "entries")), 200);
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
      return c.json(await reads.blockProof(height, size), 200);
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
      return c.json(await reads.consistency(from, to), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/consortium",
      summary: "Members, their public keys and witness URLs, each witness's last answer (its message for members and admin), and the quorum",
      responses: { 200: json(S.Consortium, "Consortium"), ...readErrors },
    }),
    async (c) => c.json(await reads.consortium(await readerOf(c, "consortium")), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/trust",
      summary: "The trust document a verifier pins (FORMATS.md §8)",
      responses: { 200: json(S.Trust, "Trust document") },
    }),
    async (c) => c.json(await keys.trust(), 200),
  );

  // Rebuilt only when the published trust changes (a key rotated).
  let verifier: { readonly trust: string; readonly verifier: ReceiptVerifier } | undefined;
  const verifierNow = async () => {
    const trust = await keys.trust();
    const text = JSON.stringify(trust);
    if (verifier?.trust !== text) verifier = { trust: text, verifier: new ReceiptVerifier(trust) };
    return verifier.verifier;
  };
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/verify",
      summary: "Check a receipt on the server (a convenience: verify offline for real)",
      request: { body: { content: { "application/json": { schema: S.VerifyBody } }, required: true } },
      responses: { 200: json(S.VerifyResult, "The checks, and whether all passed"), ...errors },
    }),
    async (c) => {
      const { receipt, digest } = c.req.valid("json");
      try {
        // The service's own clock judges cosignature times, as a verifier's would.
        const result = await (await verifierNow()).verify(receipt, { digest: fromHex(digest, 32), now: ctx.clock.now() });
        const { steps, ...rest } = result;
        return c.json({ ok: true, steps: [...steps], result: rest as Record<string, unknown> }, 200);
      } catch (e) {
        if (!isCairnError(e)) throw e;
        return c.json({ ok: false, steps: [...stepsOf(e)], error: { code: e.code, message: e.message, ...(e.step ? { step: e.step } : {}) } }, 200);
      }
    },
  );

  // ---- Admin -----------------------------------------------------------
  const security = [{ bearer: [] as string[] }];
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "signed", {
    type: "http",
    scheme: "Cairn-Signed",
    description: "A request signed with a client's registered key or a member's cosigner key: docs/FORMATS.md §10",
  });

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
      const { created, client } = await clients.register(c.req.valid("json").key);
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
    async (c) => c.json({ clients: await clients.list() }, 200),
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
    async (c) => c.json(await clients.revoke(c.req.valid("param").name), 200),
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
      const { block, head, final, cosigners, reason } = await forRequest(c).sealer.seal();
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
      const r = await keys.rotateOperator();
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
      const r = await keys.rotateMember(c.req.valid("json").record);
      return c.json({ id: r.id, role: r.role, name: r.name, entry: r.entry }, r.created ? 202 : 200);
    },
  );

  // ---- Operations ------------------------------------------------------
  app.get("/healthz", async (c) => {
    try {
      const [head, pending] = await Promise.all([ctx.primary.head(), ctx.primary.pendingStats()]);
      return c.json({ ok: true, origin: config.origin, blocks: head.size, pending: pending.count, queued: forRequest(c).submitter.queued });
    } catch (e) {
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      return c.json({ ok: false, error: { code: "UNAVAILABLE", message: `primary database: ${(e as Error).message}` } }, 503);
    }
  });
  app.get("/metrics", (c) => {
    checkMetricsReader(c.req.header("Authorization"), config.reads, config.adminToken);
    return c.text(ctx.metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Cairn", version: "1", description: "Consortium anchoring: signed digests, Merkle batches, a replicated hash chain, offline receipts." },
  });

  return app;
}
