/**
 * Cairn on Cloudflare Workers (docs/ARCHITECTURE.md): the same Hono app and
 * services as Node; only the configuration source, the database openers and
 * the seal trigger differ.
 *
 *  - Configuration: vars, secrets and D1 bindings from `env`, parsed once per
 *    isolate by the same parseConfig as Node. A wrong setting answers every
 *    request 500 BAD_CONFIG naming it (and fails every cron run), never a
 *    half-working service.
 *  - Databases: the primary is a D1 binding (`CAIRN_PRIMARY_D1`) or a
 *    libSQL URL reached over HTTP (Turso, sqld). Members are reached only
 *    at their witnesses' URLs; the Worker holds no member key or replica.
 *    Nothing here imports Node modules or the embedded libSQL opener; the
 *    bundle test checks that.
 *  - Requests: workerd cancels a request that waits on I/O another request
 *    started, so nothing that coordinates I/O between callers is shared:
 *    each request (and cron event) gets its own submitter and sealer
 *    (requestServices); the app, context, stores and data caches are per
 *    isolate.
 *  - Sealing: the cron trigger runs a seal; so does a request, in the
 *    background (waitUntil), once the oldest pending entry is older than the
 *    seal interval, so finality takes seconds, not a minute. The event
 *    lasts until every witness asked has answered (or timed out), not just
 *    a quorum, so late cosignatures are kept. Within an isolate seals run
 *    one at a time (a request skips, a cron run waits);
 *    across isolates the block's primary key and chain-link trigger let
 *    exactly one seal append each height, whatever runs at once.
 */
import type { D1Database, ExecutionContext, ScheduledController } from "@cloudflare/workers-types";
import { isCairnError } from "../core/errors.js";
import { createApp } from "../http/app.js";
import { errorBody } from "../http/errors.js";
import { systemClock } from "../service/clock.js";
import { SealScheduler } from "../service/seal-scheduler.js";
import { createContext, createServices, requestServices, type DatabaseConfig } from "../service/index.js";
import { jsonLogger, type Logger } from "../service/log.js";
import { openD1Store } from "../store/d1.js";
import { openLibsqlWebStore } from "../store/libsql-web.js";
import { parseConfig, type Settings } from "./config.js";
import { schemaGate, schemaRefusal } from "./schema-gate.js";

/** Vars (strings, or JSON values from wrangler.toml), secrets (strings) and bindings. */
export type Env = Readonly<Record<string, unknown>>;

interface Instance {
  readonly fetch: (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;
  /** A seal run by this cron event or request; `wait`: after one running in this isolate, else skipped. */
  readonly seal: (wait: boolean) => Promise<void>;
}

type Built = { readonly ok: true; readonly instance: Instance } | { readonly ok: false; readonly code: string; readonly message: string };

const log: Logger = jsonLogger();

/** A seal taking longer than this is presumed dead (its request was cancelled) and no longer blocks the next. */
const SEAL_STALE_MS = 60_000;
const SEAL_POLL_MS = 25;

// One per isolate: env does not change while an isolate lives (new vars or
// secrets mean a new deployment, hence new isolates).
let built: Built | undefined;

function instance(env: Env): Built {
  if (built === undefined) {
    try {
      built = { ok: true, instance: build(env) };
    } catch (e) {
      const known = isCairnError(e) && e.code === "BAD_CONFIG";
      built = known ? { ok: false, code: "BAD_CONFIG", message: e.message } : { ok: false, code: "INTERNAL", message: "the Worker failed to start; see its logs" };
      log.error("start_failed", { code: built.code, error: known ? e.message : String((e as Error)?.stack ?? e) });
    }
  }
  return built;
}

function build(env: Env): Instance {
  const config = parseConfig(settingsOf(env), { worker: { isD1Binding: (name) => isD1(env[name]) } });
  const open = (db: DatabaseConfig) => ("d1" in db ? openD1Store(env[db.d1] as D1Database) : openLibsqlWebStore(db));
  const primary = open(config.primary);
  const howToMigrate = "d1" in config.primary ? "npm run wrangler -- d1 migrations apply, docs/DEPLOY-CLOUDFLARE.md" : "npm run db:migrate -- <the primary's URL>";
  const schema = schemaGate(primary, "the primary database", howToMigrate);
  const ctx = createContext({ config, primary, clock: systemClock, log });
  const shared = createServices(ctx);

  // One seal at a time per isolate, each event with a sealer of its own;
  // timing, single flight and stale runs are the scheduler's.
  const scheduler = new SealScheduler({ job: () => requestServices(shared).sealer, intervalMs: config.sealIntervalMs, staleMs: SEAL_STALE_MS, pollMs: SEAL_POLL_MS, clock: systemClock });
  const seal = async (wait: boolean): Promise<void> => {
    const refused = await schema();
    if (refused !== undefined) throw new Error(`UNAVAILABLE: ${refused}`);
    if (wait) await scheduler.sealAfterCurrent();
    else await scheduler.sealIfIdle();
  };
  // After a request, in the background: a seal when one is due.
  const trigger = (ctx: Pick<ExecutionContext, "waitUntil">) =>
    ctx.waitUntil(
      (async () => {
        if (await scheduler.due(primary)) await scheduler.sealIfIdle();
      })().catch(() => {
        // The sealer logs its own failures; the next check or the cron retries.
      }),
    );
  const app = createApp(shared, {
    forRequest: () => requestServices(shared),
    afterRequest: (c) => trigger(c.executionCtx),
    // Set by Cloudflare's edge for every request it forwards.
    sourceOf: (c) => c.req.header("CF-Connecting-IP"),
  });
  return {
    seal,
    fetch: async (request, env, ctx) => {
      const refused = await schema();
      return refused === undefined ? app.fetch(request, env, ctx) : schemaRefusal(refused);
    },
  };
}

/**
 * The settings parseConfig reads: strings as they are; JSON values given in
 * wrangler.toml [vars] (tables, arrays, numbers) as JSON text; bindings
 * (objects with methods) are not settings and are left out.
 */
function settingsOf(env: Env): Settings {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === "string") out[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") out[key] = String(value);
    else if (Array.isArray(value) || (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype)) {
      out[key] = JSON.stringify(value);
    }
  }
  return out;
}

function isD1(binding: unknown): binding is D1Database {
  const b = binding as Partial<Record<"prepare" | "batch", unknown>> | null | undefined;
  return typeof b === "object" && b !== null && typeof b.prepare === "function" && typeof b.batch === "function";
}

function failure(code: string, message: string): Response {
  return new Response(JSON.stringify(errorBody(code, message)), { status: 500, headers: { "Content-Type": "application/json" } });
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    const b = instance(env);
    return b.ok ? b.instance.fetch(request, env, ctx) : failure(b.code, b.message);
  },

  scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): void {
    const b = instance(env);
    // Failing the event (rather than returning quietly) marks the cron run as
    // failed in Cloudflare's dashboard and logs.
    if (!b.ok) throw new Error(`${b.code}: ${b.message}`);
    ctx.waitUntil(b.instance.seal(true));
  },
};
