/**
 * The client an application anchors with (README "Anchoring from an app"):
 * sign a document's digest (or a salted commitment of it) with the client's
 * key, submit one or a batch, wait for the receipt, and check it offline
 * against trust the application pinned. Only src/core and fetch: the same
 * code runs in browsers, Node, Workers and Deno.
 *
 * The document never leaves the caller: it is hashed here, and with
 * `salted` the server sees only SHA-256(salt ‖ SHA-256(document)), the salt
 * kept in the receipt this returns.
 */
import { fromHex, toHex } from "../core/bytes.js";
import { CairnError } from "../core/errors.js";
import { sha256 } from "../core/hash.js";
import { formatSignerKey, formatVerifierKey, KEY_TYPE_ED25519, noteSigner, parseSignerKey, type NoteSigner, type SignerKey } from "../core/keys.js";
import { saltedDigest, SALT_SIZE, withSalt, type ReceiptJson } from "../core/receipt.js";
import { entryId, signSubmission } from "../core/submission.js";
import { requestSigner, signRequest } from "../core/signed-request.js";
import { parseTrust, type Trust } from "../core/trust.js";
import { verifyReceipt, type ReceiptVerification } from "../core/verify-receipt.js";
import { ApiError, errorOf, Http, sleep, type HttpOptions } from "./http.js";

export interface ClientOptions extends HttpOptions {
  /** The server's URL, e.g. https://anchor.example.org. */
  readonly server: string;
  /** The client's signer key, `PRIVATE+KEY+<name>+…` (type 0x01), or parsed: needed to submit and to look up. */
  readonly key?: string | SignerKey;
  /** The log's origin; read once from the server's /v1/trust when not given. */
  readonly origin?: string;
}

/** A signed submission, ready to send (and to send again: the server knows it by its id). */
export interface PreparedAnchor {
  readonly id: string;
  readonly entry: string;
  /** What the server sees: the document's digest, or with salting the commitment (hex). */
  readonly digest: string;
  /** SHA-256 of the document (hex): what a verifier compares. */
  readonly documentDigest: string;
  /** With salting: the salt, which never leaves this side until it is put in the receipt. */
  readonly salt?: Uint8Array;
}

export interface PrepareOptions {
  /** Anchor SHA-256(salt ‖ SHA-256(document)) with a fresh random 32-byte salt (FORMATS.md §9, salted receipts). */
  readonly salted?: boolean;
  /** Entry id of the anchor of this document's previous version. */
  readonly prev?: string;
  /** Signing time, unix seconds (default: now). */
  readonly time?: number;
}

/** An anchor of a digest, as a lookup lists it. */
export interface FoundAnchor {
  readonly id: string;
  readonly status: "pending" | "sealed";
  readonly receivedAt: number;
  readonly block?: { readonly height: number; readonly index: number };
}

export interface Ack {
  readonly id: string;
  readonly status: string;
  /** The operator's signed promise to seal by a deadline. */
  readonly promise: string;
}

/** The outcome of one item of a batch: its acknowledgement, or why it was refused. */
export type BatchResult = ({ readonly ok: true } & Ack) | { readonly ok: false; readonly id: string; readonly code: string; readonly message: string };

/** What the caller gives to anchor: the document's bytes, or its SHA-256 computed elsewhere. */
export type Anchorable = Uint8Array | { readonly digest: Uint8Array | string };

/** The receipt was not ready by the deadline; ask again later with its id. */
export class ReceiptPendingError extends Error {
  override readonly name = "ReceiptPendingError";
  constructor(readonly id: string, waitedMs: number) {
    super(`the receipt of ${id} is still pending after ${Math.round(waitedMs / 1000)} s; fetch it later`);
  }
}

/** The server's largest batch (README "The HTTP API"). */
export const MAX_BATCH = 1000;

export class CairnClient {
  readonly http: Http;
  private readonly options: ClientOptions;
  private signedHttp: Http | undefined;
  private readonly signer: NoteSigner | undefined;
  private readonly clientVerifierKey: string | undefined;
  private origin: string | undefined;

  constructor(options: ClientOptions) {
    this.http = new Http(options.server, options);
    this.options = options;
    this.origin = options.origin;
    if (options.key !== undefined) {
      const k = typeof options.key === "string" ? parseSignerKey(options.key) : options.key;
      this.signer = noteSigner(k);
      this.clientVerifierKey = formatVerifierKey(k.name, KEY_TYPE_ED25519, k.publicKey);
    }
  }

  /** A new client key pair named `name`: register `verifierKey` with the operator, keep `signerKey` secret. */
  static makeKey(name: string): { signerKey: string; verifierKey: string } {
    const signerKey = formatSignerKey(name, KEY_TYPE_ED25519, crypto.getRandomValues(new Uint8Array(32)));
    const k = parseSignerKey(signerKey);
    return { signerKey, verifierKey: formatVerifierKey(k.name, KEY_TYPE_ED25519, k.publicKey) };
  }

  /** This client's verifier key (what the operator registers), if it has a key. */
  get verifierKey(): string | undefined {
    return this.clientVerifierKey;
  }

  /**
   * The server's own trust document. It proves only that the server agrees
   * with itself: verify receipts against a document you pinned, and use this
   * one only to compare its fingerprint with the one you were given.
   */
  async serverTrust(): Promise<Trust> {
    const { body } = await this.http.get("/v1/trust");
    return parseTrust(body);
  }

  private async logOrigin(): Promise<string> {
    this.origin ??= (await this.serverTrust()).origin;
    return this.origin;
  }

  /** Hashes and signs; nothing is sent. */
  async prepare(what: Anchorable, options: PrepareOptions = {}): Promise<PreparedAnchor> {
    const signer = this.signer;
    if (signer === undefined) throw new CairnError("BAD_KEY", "this client has no key: give `key` (a signer key) to submit");
    const documentDigest = what instanceof Uint8Array ? sha256(what) : typeof what.digest === "string" ? fromHex(what.digest, 32) : what.digest;
    if (documentDigest.length !== 32) throw new CairnError("BAD_DIGEST", "a digest is 32 bytes (SHA-256)");
    const salt = options.salted ? crypto.getRandomValues(new Uint8Array(SALT_SIZE)) : undefined;
    const digest = salt === undefined ? documentDigest : saltedDigest(salt, documentDigest);
    const entry = await signSubmission(
      {
        origin: await this.logOrigin(),
        digest,
        time: options.time ?? Math.floor(Date.now() / 1000),
        ...(options.prev === undefined ? {} : { prev: fromHex(options.prev, 32) }),
      },
      signer,
    );
    return { id: entryId(entry), entry, digest: toHex(digest), documentDigest: toHex(documentDigest), ...(salt ? { salt } : {}) };
  }

  /** Sends one prepared anchor; a dropped connection is retried with the same entry, which the server knows by its id. */
  async submit(prepared: PreparedAnchor): Promise<Ack> {
    const { body } = await this.http.request("POST", "/v1/anchors", { submission: prepared.entry }, [200, 202], { idempotent: true });
    return ackOf(prepared, body);
  }

  /** Sends many, in batches of up to 1,000; one result per item, in order. */
  async submitBatch(prepared: readonly PreparedAnchor[]): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    for (let i = 0; i < prepared.length; i += MAX_BATCH) {
      const chunk = prepared.slice(i, i + MAX_BATCH);
      const { body } = await this.http.request("POST", "/v1/anchors/batch", { submissions: chunk.map((p) => p.entry) }, [200], { idempotent: true });
      const results = (body as { results?: unknown }).results;
      if (!Array.isArray(results) || results.length !== chunk.length) {
        throw new ApiError(`${this.http.url}/v1/anchors/batch answered ${Array.isArray(results) ? results.length : "no"} results for ${chunk.length} submissions`, 200, undefined, this.http.url);
      }
      chunk.forEach((p, j) => {
        const error = errorOf(results[j]);
        out.push(error === undefined ? { ok: true, ...ackOf(p, results[j]) } : { ok: false, id: p.id, code: error.code, message: error.message });
      });
    }
    return out;
  }

  /** prepare + submit. */
  async anchor(what: Anchorable, options: PrepareOptions = {}): Promise<{ prepared: PreparedAnchor; ack: Ack }> {
    const prepared = await this.prepare(what, options);
    return { prepared, ack: await this.submit(prepared) };
  }

  /** The receipt of `id`, or undefined while it is pending. With a salted anchor, the salt is put in (cairn-receipt/v2). */
  async receipt(anchor: string | PreparedAnchor): Promise<ReceiptJson | undefined> {
    const id = typeof anchor === "string" ? anchor : anchor.id;
    const answer = await this.http.get(`/v1/anchors/${id}/receipt`, [200, 202]);
    if (answer.status === 202) return undefined;
    const receipt = answer.body as ReceiptJson;
    return typeof anchor !== "string" && anchor.salt !== undefined ? withSalt(receipt, anchor.salt) : receipt;
  }

  /** Polls until the receipt is there (as often as the server's Retry-After says), or throws ReceiptPendingError at the deadline. */
  async waitForReceipt(anchor: string | PreparedAnchor, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ReceiptJson> {
    const id = typeof anchor === "string" ? anchor : anchor.id;
    const timeoutMs = options.timeoutMs ?? 60_000;
    const started = Date.now();
    for (;;) {
      const answer = await this.http.get(`/v1/anchors/${id}/receipt`, [200, 202]);
      if (answer.status === 200) {
        const receipt = answer.body as ReceiptJson;
        return typeof anchor !== "string" && anchor.salt !== undefined ? withSalt(receipt, anchor.salt) : receipt;
      }
      const left = started + timeoutMs - Date.now();
      if (left <= 0) throw new ReceiptPendingError(id, Date.now() - started);
      await sleep(Math.min(answer.retryAfterMs ?? 1000, left), options.signal);
    }
  }

  /**
   * This client's own anchors of a document (or digest): the lookup is a
   * request signed with the client's key (FORMATS.md §10), and the server
   * lists only the anchors this key signed. A salted anchor is found by its
   * commitment, not by the document.
   */
  async lookup(what: Anchorable): Promise<FoundAnchor[]> {
    const digest = what instanceof Uint8Array ? sha256(what) : typeof what.digest === "string" ? fromHex(what.digest, 32) : what.digest;
    const { body } = await (await this.authorized()).get(`/v1/digests/${toHex(digest)}`);
    return ((body as { anchors?: FoundAnchor[] }).anchors ?? []) as FoundAnchor[];
  }

  private async authorized(): Promise<Http> {
    if (this.signedHttp !== undefined) return this.signedHttp;
    if (this.options.key === undefined) throw new CairnError("BAD_KEY", "this client has no key: give `key` (a signer key) to look its anchors up");
    const origin = await this.logOrigin();
    const signer = requestSigner(typeof this.options.key === "string" ? parseSignerKey(this.options.key) : this.options.key);
    this.signedHttp = new Http(this.options.server, { ...this.options, authorize: (method, target) => signRequest({ origin, method, target, time: Math.floor(Date.now() / 1000) }, signer) });
    return this.signedHttp;
  }

  /**
   * Checks a receipt offline against `trust`, a document the caller pinned
   * (never the server's word), and the document or its digest; when this
   * client has a key, the entry must be signed by it.
   */
  async verify(receipt: unknown, trust: unknown, what: Anchorable, options: { now?: number } = {}): Promise<ReceiptVerification> {
    const digest = what instanceof Uint8Array ? sha256(what) : typeof what.digest === "string" ? fromHex(what.digest, 32) : what.digest;
    return verifyReceipt(receipt, trust, { digest, ...(this.clientVerifierKey ? { clientKeys: [this.clientVerifierKey] } : {}), ...(options.now === undefined ? {} : { now: options.now }) });
  }
}

function ackOf(prepared: PreparedAnchor, body: unknown): Ack {
  const { id, status, promise } = (body ?? {}) as { id?: unknown; status?: unknown; promise?: unknown };
  // An answer for another entry than the one signed is not an acknowledgement of it.
  if (id !== prepared.id) throw new ApiError(`the server answered id ${String(id)} for entry ${prepared.id}: not the entry that was signed`, 200, undefined, "");
  return { id: prepared.id, status: typeof status === "string" ? status : "pending", promise: typeof promise === "string" ? promise : "" };
}
