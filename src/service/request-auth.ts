/**
 * Who is asking (the Reader of ./read-scopes.ts), from a request's
 * Authorization: nothing (anyone), the admin's bearer token, or a signed
 * request (core/signed-request.ts, FORMATS.md §10) by a member's cosigner
 * key — the one CAIRN_MEMBERS names, or one the chain's key records gave it
 * (./keys.ts) — or by a client's registered, active key.
 * A credential that is present but does not hold is refused, never taken
 * for no credential: a caller that meant to be someone learns why not.
 *
 * Signed requests need no state: the time window bounds replays to the same
 * read by the same signer, which the signer could make anyway; no nonce
 * store, so every Worker isolate checks them alike.
 */
import { constantTimeEqual, utf8 } from "../core/bytes.js";
import { CairnError, isCairnError } from "../core/errors.js";
import { parseVerifierKey, type VerifierKey } from "../core/keys.js";
import { checkRequestTime, isSignedRequest, parseAuthorization, SIGNED_REQUEST_SCHEME, verifyRequest, type RequestAuthorization } from "../core/signed-request.js";
import type { ClientRegistry } from "./clients.js";
import type { Context } from "./context.js";
import type { ChainKeys } from "./keys.js";
import { ANYONE, WANTS, type Reader, type ScopedRead } from "./read-scopes.js";

export interface ReadRequest {
  readonly authorization: string | undefined;
  /** Upper-case method and the target as received: path and query. */
  readonly method: string;
  readonly target: string;
}

const ADMIN: Reader = { kind: "admin" };

export class RequestAuth {
  private readonly adminToken: Uint8Array;

  constructor(
    private readonly ctx: Context,
    private readonly clients: ClientRegistry,
    private readonly keys: ChainKeys,
  ) {
    this.adminToken = utf8(ctx.config.adminToken);
  }

  /**
   * Every cosigner key a member has held (type 0x04): a member's witness
   * still reads the block that moves it to a new key with its old one, and
   * signs with whichever key its own configuration holds.
   */
  private async memberKeys(name: string): Promise<VerifierKey[]> {
    const member = this.ctx.members.find((m) => m.name === name);
    if (member === undefined) return [];
    const scheduled = (await this.keys.schedule()).memberKeys(name)?.map((k) => k.key) ?? [];
    return [...new Set([member.verifierKey, ...scheduled])].map((k) => parseVerifierKey(k));
  }

  /** The reader of a scoped read `what`; throws UNAUTHORIZED, naming what `what` wants, for a credential that does not hold. */
  async reader(request: ReadRequest, what: ScopedRead): Promise<Reader> {
    const authorization = request.authorization?.trim();
    if (authorization === undefined || authorization === "") return ANYONE;
    const refuse = (why: string, cause?: unknown) => new CairnError("UNAUTHORIZED", `${why} (${WANTS[what]})`, cause === undefined ? undefined : { cause });
    if (/^bearer /i.test(authorization)) {
      if (constantTimeEqual(utf8(authorization.slice(7).trim()), this.adminToken)) return ADMIN;
      throw refuse("the bearer token is not the admin token");
    }
    if (!isSignedRequest(authorization)) throw refuse(`Authorization must be ${SIGNED_REQUEST_SCHEME} or Bearer`);
    try {
      return await this.signer(parseAuthorization(authorization), request);
    } catch (e) {
      if (isCairnError(e) && ["BAD_AUTHORIZATION", "REQUEST_TIME_INVALID", "REQUEST_SIGNATURE_INVALID", "UNKNOWN_CLIENT", "CLIENT_REVOKED"].includes(e.code)) throw refuse(e.message, e);
      throw e;
    }
  }

  /** A member by its cosigner key, else a client by its active key; the signature checked over this very request. */
  private async signer(auth: RequestAuthorization, request: ReadRequest): Promise<Reader> {
    const now = this.ctx.clock.now();
    checkRequestTime(auth, now);
    const facts = { origin: this.ctx.config.origin, method: request.method, target: request.target };
    const memberKeys = await this.memberKeys(auth.name);
    // A client may share a member's name; the key id (which commits to the key's type) says which one signed.
    const member = memberKeys.find((k) => k.keyId === auth.keyId);
    if (member !== undefined) {
      await verifyRequest(auth, facts, member, { now });
      return { kind: "member", name: auth.name };
    }
    const client = await this.clients.lookup(auth.name);
    if (client === undefined) {
      if (memberKeys.length > 0) await verifyRequest(auth, facts, memberKeys.at(-1)!, { now }); // says which key was expected
      throw new CairnError("UNKNOWN_CLIENT", `no client or member named ${auth.name} signs requests for ${this.ctx.config.origin}`);
    }
    if (client.record.status !== "active") throw new CairnError("CLIENT_REVOKED", `the client ${auth.name} is revoked`);
    await verifyRequest(auth, facts, client.record.key, { now });
    return { kind: "client", name: auth.name };
  }
}
