/**
 * A Worker cannot migrate its own database (it has no migrations/ to read):
 * they are applied from outside, and until they are, this release must not
 * touch the database. Ids are bytes since migration 0004; code that looked
 * them up as hex text in a byte column, or as bytes in a text one, would miss
 * every row written the other way, and queue or seal an entry twice.
 *
 * Each request asks for itself until the answer is yes (workerd cancels a
 * request that waits on I/O another request started, so no shared promise),
 * and nobody asks again after that: one read per isolate.
 */
import { errorBody } from "../http/errors.js";
import type { ChainStore } from "../store/types.js";

/** Seconds a refused caller waits: applying migrations takes a human. */
const RETRY_AFTER_SECONDS = 30;

export function schemaGate(store: Pick<ChainStore, "schemaCurrent">, database: string, migrate: string): () => Promise<string | undefined> {
  let current = false;
  return async () => {
    if (current) return undefined;
    try {
      current = await store.schemaCurrent();
    } catch (e) {
      return `${database}'s schema could not be read (${(e as Error).message}); nothing was read or written`;
    }
    if (current) return undefined;
    return `${database} has the schema of an older release: apply this release's migrations (${migrate}); nothing was read or written`;
  };
}

/** The answer to every request meanwhile: 503, so that clients retry and nothing is acknowledged. */
export function schemaRefusal(message: string): Response {
  return new Response(JSON.stringify(errorBody("UNAVAILABLE", message)), {
    status: 503,
    headers: { "Content-Type": "application/json", "Retry-After": String(RETRY_AFTER_SECONDS) },
  });
}
