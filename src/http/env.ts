/**
 * What every route module of the operator's app shares: the request's
 * variables (the services, set once by middleware in ./app.ts), the
 * factory of OpenAPI sub-apps that report validation failures in Cairn's
 * error body, and the response descriptions the routes repeat.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context as HonoContext } from "hono";
import type { Services } from "../service/index.js";
import type { Reader, ScopedRead } from "../service/read-scopes.js";
import type { SealRunner } from "../service/seal.js";
import { errorResponse } from "./errors.js";
import * as S from "./schemas.js";

/** The submitter and sealer one request uses (the Worker gives each request its own). */
export interface RequestServices {
  readonly submitter: Services["submitter"];
  readonly sealer: SealRunner;
}

export interface AppEnv {
  Variables: {
    readonly services: Services;
    readonly request: RequestServices;
  };
}

/** A sub-app whose schema failures answer 400 BAD_REQUEST naming the field, as every Cairn error does. */
export function routes(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
        return errorResponse(c, "BAD_REQUEST", `${result.target}: ${where}${issue?.message ?? "invalid"}`);
      }
      return undefined;
    },
  });
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

export const errors = {
  400: json(S.ErrorBody, "Malformed input; the message says what to fix"),
  503: json(S.ErrorBody, "Pushback or not ready; retry after Retry-After seconds"),
};

export const adminErrors = { 401: json(S.ErrorBody, "Admin token missing"), 403: json(S.ErrorBody, "Admin token wrong") };

/** The scoped reads' refusals (src/service/read-scopes.ts); the message names the credential the route wants. */
export const readErrors = {
  401: json(S.ErrorBody, "No credential, or one that does not hold (a bad, stale or unknown signature; a wrong token)"),
  403: json(S.ErrorBody, "A valid credential that this route does not serve"),
};

/** Scoped reads take a request signed by a client or member (FORMATS.md §10), or the admin token. */
export const readSecurity: Record<string, string[]>[] = [{ signed: [] }, { bearer: [] }];

/** Admin routes take the admin token. */
export const adminSecurity: Record<string, string[]>[] = [{ bearer: [] }];

/** Who asks, for a scoped read: the request's Authorization checked against its own method and target. */
export function readerOf(c: HonoContext<AppEnv>, what: ScopedRead): Promise<Reader> {
  const { pathname, search } = new URL(c.req.url);
  return c.var.services.auth.reader({ authorization: c.req.header("Authorization"), method: c.req.method, target: pathname + search }, what);
}
