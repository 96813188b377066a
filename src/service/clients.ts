/**
 * Registered client keys: register, revoke, and the cached lookup the submit
 * path makes for every submission. Each registration and revocation is also
 * a chain record (core/client-record.ts) that the members replay. Parsing a verifier key checks that the
 * point is torsion-free (≈ 0.6 ms), so keys are parsed once and kept; the
 * cache expires quickly so a revocation made by another instance (another
 * Worker isolate) takes effect within seconds.
 */
import { CairnError, check } from "../core/errors.js";
import { KEY_TYPE_ED25519, noteVerifier, parseVerifierKey, type NoteVerifier } from "../core/keys.js";
import { CLIENT_NAME_RULE, isPlainClientName, signClientRecord, type ClientAction } from "../core/client-record.js";
import { entryId } from "../core/submission.js";
import type { ClientRecord, NewPending } from "../store/types.js";
import type { Context } from "./context.js";

const CACHE_TTL_SECONDS = 5;
const CACHE_MAX = 10_000;

export interface KnownClient {
  readonly record: ClientRecord;
  readonly verifier: NoteVerifier;
}

export class ClientRegistry {
  private readonly cache = new Map<string, { client: KnownClient | undefined; at: number }>();

  constructor(private readonly ctx: Context) {}

  /** The client's record and verifier, or undefined if no such client is registered. */
  async lookup(name: string): Promise<KnownClient | undefined> {
    const now = this.ctx.clock.now();
    const hit = this.cache.get(name);
    if (hit !== undefined && now - hit.at < CACHE_TTL_SECONDS) return hit.client;
    const record = await this.ctx.primary.getClient(name);
    const client = record && { record, verifier: noteVerifier(parseVerifierKey(record.key)) };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(name, { client, at: now });
    return client;
  }

  async register(key: unknown): Promise<{ created: boolean; client: ClientRecord }> {
    check(typeof key === "string", "BAD_REQUEST", 'body must be { "key": "<verifier key>" }');
    let parsed;
    try {
      parsed = parseVerifierKey(key);
    } catch (cause) {
      throw new CairnError("BAD_KEY", `not a valid C2SP verifier key: ${(cause as Error).message}`, { cause });
    }
    check(parsed.type === KEY_TYPE_ED25519, "BAD_KEY", "client keys must be Ed25519 note keys (type 0x01)");
    // A verifier reads the name to decide who signed: no look-alikes (core/client-record.ts).
    check(isPlainClientName(parsed.name), "BAD_KEY_NAME", `the client name ${JSON.stringify(parsed.name)} is refused: use ${CLIENT_NAME_RULE}`);
    const now = this.ctx.clock.now();
    const outcome = await this.ctx.primary.putClient(parsed.name, parsed.text, now, await this.record("register", parsed.name, parsed.text, now));
    if (outcome === "conflict") {
      throw new CairnError("CLIENT_CONFLICT", `a client named ${parsed.name} is already registered with another key`);
    }
    this.cache.delete(parsed.name);
    const client = (await this.ctx.primary.getClient(parsed.name))!;
    return { created: outcome === "created", client };
  }

  /** Revokes the client; revoking a revoked client again changes nothing. */
  async revoke(name: string): Promise<ClientRecord> {
    const client = await this.ctx.primary.getClient(name);
    if (client === undefined) throw new CairnError("NOT_FOUND", `no client named ${name}`);
    if (client.status === "active") {
      const now = this.ctx.clock.now();
      await this.ctx.primary.revokeClient(name, client.key, now, await this.record("revoke", name, client.key, now));
    }
    this.cache.delete(name);
    return (await this.ctx.primary.getClient(name))!;
  }

  /**
   * The operator-signed chain record of a registration or revocation, as a
   * pending row: sealed in acceptance order with the submissions, so every
   * member replays the registry exactly as the submit path applied it.
   */
  private async record(action: ClientAction, name: string, key: string, time: number): Promise<NewPending> {
    const entry = await signClientRecord({ origin: this.ctx.config.origin, action, key, time }, this.ctx.operator);
    return { id: entryId(entry), entry, digest: "", client: name, receivedAt: time, promise: "" };
  }

  list(): Promise<ClientRecord[]> {
    return this.ctx.primary.listClients();
  }
}
