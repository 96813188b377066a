/**
 * The consortium's public facts and the trust a verifier pins, and the
 * server-side receipt check (a convenience: the real check is offline).
 */
import { createRoute } from "@hono/zod-openapi";
import { fromHex } from "../../core/bytes.js";
import { isCairnError } from "../../core/errors.js";
import { ReceiptVerifier, stepsOf } from "../../core/verify-receipt.js";
import type { Services } from "../../service/index.js";
import { errors, json, readErrors, readerOf, routes } from "../env.js";
import * as S from "../schemas.js";

export function consortiumRoutes() {
  const app = routes();

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/consortium",
      summary: "Members, their public keys and witness URLs, each witness's last answer (its message for members and admin), and the quorum",
      responses: { 200: json(S.Consortium, "Consortium"), ...readErrors },
    }),
    async (c) => c.json(await c.var.services.reads.consortium(await readerOf(c, "consortium")), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/trust",
      summary: "The trust document a verifier pins (FORMATS.md §8)",
      responses: { 200: json(S.Trust, "Trust document") },
    }),
    async (c) => c.json(await c.var.services.keys.trust(), 200),
  );

  // Rebuilt only when the published trust changes (a key rotated).
  let verifier: { readonly trust: string; readonly verifier: ReceiptVerifier } | undefined;
  const verifierNow = async (services: Services) => {
    const trust = await services.keys.trust();
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
      const { services } = c.var;
      try {
        // The service's own clock judges cosignature times, as a verifier's would.
        const result = await (await verifierNow(services)).verify(receipt, { digest: fromHex(digest, 32), now: services.ctx.clock.now() });
        const { steps, ...rest } = result;
        return c.json({ ok: true, steps: [...steps], result: rest as Record<string, unknown> }, 200);
      } catch (e) {
        if (!isCairnError(e)) throw e;
        return c.json({ ok: false, steps: [...stepsOf(e)], error: { code: e.code, message: e.message, ...(e.step ? { step: e.step } : {}) } }, 200);
      }
    },
  );

  return app;
}
