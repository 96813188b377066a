/**
 * The services of one Cairn instance, wired together. Runtimes build a
 * Context (stores, keys, clock) and call createServices; the HTTP layer
 * only ever talks to what this returns.
 */
import { ChainView } from "./chain.js";
import { ClientRegistry } from "./clients.js";
import type { Context } from "./context.js";
import { Reads } from "./reads.js";
import { Sealer, type FaultHook } from "./seal.js";
import { Submitter } from "./submit.js";

export interface Services {
  readonly ctx: Context;
  readonly clients: ClientRegistry;
  readonly submitter: Submitter;
  readonly sealer: Sealer;
  readonly reads: Reads;
}

export function createServices(ctx: Context, options: { fault?: FaultHook } = {}): Services {
  const chain = new ChainView(ctx);
  const clients = new ClientRegistry(ctx);
  return {
    ctx,
    clients,
    submitter: new Submitter(ctx, clients, chain),
    sealer: new Sealer(ctx, chain, options.fault),
    reads: new Reads(ctx, chain, clients),
  };
}

export type { Context, Member } from "./context.js";
export { createContext } from "./context.js";
export type { CairnConfig, DatabaseConfig, MemberConfig } from "./config.js";
export { DEFAULTS } from "./config.js";
