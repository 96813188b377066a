/**
 * The services of one Cairn instance, wired together. Runtimes build a
 * Context (stores, keys, clock) and call createServices; the HTTP layer
 * only ever talks to what this returns.
 */
import { ChainView } from "./chain.js";
import { ClientRegistry } from "./clients.js";
import type { Context } from "./context.js";
import { ChainKeys } from "./keys.js";
import { Reads } from "./reads.js";
import { RequestAuth } from "./request-auth.js";
import { Sealer, type FaultHook } from "./seal.js";
import { Submitter } from "./submit.js";

export interface Services {
  readonly ctx: Context;
  readonly clients: ClientRegistry;
  readonly keys: ChainKeys;
  readonly chain: ChainView;
  readonly submitter: Submitter;
  readonly sealer: Sealer;
  readonly reads: Reads;
  /** Who is asking, for the scoped reads. */
  readonly auth: RequestAuth;
}

export function createServices(ctx: Context, options: { fault?: FaultHook } = {}): Services {
  const chain = new ChainView(ctx);
  const clients = new ClientRegistry(ctx);
  const keys = new ChainKeys(ctx);
  return {
    ctx,
    clients,
    keys,
    chain,
    submitter: new Submitter(ctx, clients, chain),
    sealer: new Sealer(ctx, chain, keys, options.fault),
    reads: new Reads(ctx, chain, clients),
    auth: new RequestAuth(ctx, clients, keys),
  };
}

/**
 * Services for one request, where requests must never wait on each other's
 * I/O (workerd cancels a request that awaits what another request's I/O
 * settles): its own submitter, whose group commit then groups only this
 * request's submissions, and its own sealer; the context, client registry,
 * chain view, reads and the backlog count are shared, as they hold plain
 * data only.
 */
export function requestServices(shared: Services): Services {
  const { ctx, clients, chain, keys } = shared;
  return {
    ...shared,
    submitter: new Submitter(ctx, clients, chain, shared.submitter.backlog, shared.submitter.rates),
    sealer: new Sealer(ctx, chain, keys),
  };
}

export type { Context, Member } from "./context.js";
export type { Reader } from "./read-scopes.js";
export { createContext } from "./context.js";
export type { CairnConfig, D1DatabaseConfig, DatabaseConfig, LibsqlDatabaseConfig, MemberConfig, ReadPolicy } from "./config.js";
export { DEFAULTS } from "./config.js";
