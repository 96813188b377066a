/**
 * Signed requests (FORMATS.md §10): how a client or a member proves who is
 * asking for a scoped read, with the key it already holds and no secret the
 * operator would have to hand out, store or rotate.
 *
 * The signer signs, with Ed25519, the text
 *
 *   cairn-request/v1
 *   <origin>
 *   <key name>+<key id: 8 lowercase hex>
 *   <unix seconds>
 *   <METHOD>
 *   <request target: path and query, as sent>
 *
 * and sends `Authorization: Cairn-Signed <key name>+<key id> <unix seconds>
 * <base64 signature>`. The server rebuilds the text from the request it got
 * and its own origin, and accepts it within ±REQUEST_SKEW_SECONDS of its
 * clock. Clients sign with their registered key (type 0x01), members with
 * their cosigner key (type 0x04): the key id in the text commits to the type,
 * so one raw key cannot pass for the other role.
 *
 * Why one raw Ed25519 key may sign these and its other messages: every text
 * signed here begins with the line `cairn-request/v1`, which begins no other
 * message Cairn's keys sign — submissions (`cairn/submission/v1`), client
 * and key records (`cairn/client/v1`, `cairn/key/v1`), promises, checkpoints (an origin, then a decimal size) and
 * cosignatures (`cosignature/v1`) — so no request signature is a valid
 * signature of any of them, nor the reverse.
 */
import { fromBase64, parseDecimal, toBase64, utf8 } from "./bytes.js";
import { ed25519Signer, ed25519Verify } from "./ed25519.js";
import { CairnError, check } from "./errors.js";
import { isValidKeyName, keyId, keyIdHex, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseVerifierKey, type SignerKey, type VerifierKey } from "./keys.js";
import { formatLines } from "./lines.js";

export const SIGNED_REQUEST_V1 = "cairn-request/v1";
/** The Authorization scheme. Schemes are case-insensitive (RFC 9110 §11.1); this spelling is what signers send. */
export const SIGNED_REQUEST_SCHEME = "Cairn-Signed";
/** How far a request's time may be from the server's clock, as for submissions. */
export const REQUEST_SKEW_SECONDS = 300;

/** What a signature covers besides the signer: the log, the method and the exact target. */
export interface RequestFacts {
  readonly origin: string;
  /** Upper-case HTTP method, e.g. GET. */
  readonly method: string;
  /** Path and query exactly as sent, e.g. `/v1/blocks/3/entries?offset=0&limit=1000`. */
  readonly target: string;
  /** When it was signed, unix seconds. */
  readonly time: number;
}

/** The signer of requests: a client key (0x01) or a member's cosigner key (0x04). */
export interface RequestSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** The parsed Authorization value. */
export interface RequestAuthorization {
  readonly name: string;
  readonly keyId: number;
  readonly time: number;
  readonly signature: Uint8Array;
}

// HTTP header values are bytes, and a target is sent as it is: visible ASCII only.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

function checkHeaderName(name: string): void {
  check(isValidKeyName(name) && VISIBLE_ASCII.test(name), "BAD_KEY_NAME", "a key that signs requests needs a name of visible ASCII characters (it travels in an HTTP header)");
}

/** The exact text a request's signature covers. */
export function requestText(facts: RequestFacts, signer: { readonly name: string; readonly keyId: number }): string {
  check(isValidKeyName(facts.origin), "BAD_AUTHORIZATION", "the origin must be a key name");
  check(/^[A-Z]+$/.test(facts.method), "BAD_AUTHORIZATION", "the method must be an upper-case HTTP method");
  check(facts.target.startsWith("/") && VISIBLE_ASCII.test(facts.target), "BAD_AUTHORIZATION", "the target must be a path (and query) of visible ASCII characters");
  check(Number.isSafeInteger(facts.time) && facts.time >= 0, "BAD_AUTHORIZATION", "the time must be a non-negative integer");
  checkHeaderName(signer.name);
  return formatLines([SIGNED_REQUEST_V1, facts.origin, `${signer.name}+${keyIdHex(signer.keyId)}`, String(facts.time), facts.method, facts.target]);
}

/**
 * A request signer for a client key (type 0x01) or a member's cosigner key
 * (type 0x04): a parsed SignerKey, or the name, type and seed a witness holds.
 */
export function requestSigner(key: Pick<SignerKey, "name" | "type" | "seed">): RequestSigner {
  check(key.type === KEY_TYPE_ED25519 || key.type === KEY_TYPE_COSIGNATURE_V1, "UNSUPPORTED_ALGORITHM", "requests are signed with an Ed25519 client key (0x01) or cosigner key (0x04)");
  checkHeaderName(key.name);
  const signer = ed25519Signer(key.seed);
  return { name: key.name, keyId: keyId(key.name, key.type, signer.publicKey), sign: (message) => signer.sign(message) };
}

/** Signs a request; the answer is the whole Authorization header value. */
export async function signRequest(facts: RequestFacts, signer: RequestSigner): Promise<string> {
  const signature = await signer.sign(utf8(requestText(facts, signer)));
  return `${SIGNED_REQUEST_SCHEME} ${signer.name}+${keyIdHex(signer.keyId)} ${facts.time} ${toBase64(signature)}`;
}

/** Whether an Authorization value uses this scheme (and should be parsed by parseAuthorization). */
export function isSignedRequest(authorization: string): boolean {
  return authorization.slice(0, SIGNED_REQUEST_SCHEME.length + 1).toLowerCase() === `${SIGNED_REQUEST_SCHEME.toLowerCase()} `;
}

/** Parses `Cairn-Signed <name>+<key id> <unix seconds> <base64 signature>`, strictly; BAD_AUTHORIZATION otherwise. */
export function parseAuthorization(authorization: string): RequestAuthorization {
  const bad = (why: string) => new CairnError("BAD_AUTHORIZATION", `Authorization: ${why}; expected ${SIGNED_REQUEST_SCHEME} <key name>+<key id> <unix seconds> <base64 signature>`);
  if (!isSignedRequest(authorization)) throw bad(`not the ${SIGNED_REQUEST_SCHEME} scheme`);
  const parts = authorization.slice(SIGNED_REQUEST_SCHEME.length + 1).split(" ");
  if (parts.length !== 3) throw bad("three fields separated by single spaces are needed");
  const [key, time, signature] = parts as [string, string, string];
  const m = /^([^+]+)\+([0-9a-f]{8})$/.exec(key);
  if (m === null || !isValidKeyName(m[1]!) || !VISIBLE_ASCII.test(m[1]!)) throw bad("the key must be <key name>+<8 lowercase hex digits>");
  let t: number;
  let sig: Uint8Array;
  try {
    t = parseDecimal(time, "the time");
    sig = fromBase64(signature, 64);
  } catch (e) {
    throw bad((e as Error).message);
  }
  return { name: m[1]!, keyId: parseInt(m[2]!, 16), time: t, signature: sig };
}

/** Throws REQUEST_TIME_INVALID unless the request was signed within `skewSeconds` of `now`. */
export function checkRequestTime(auth: RequestAuthorization, now: number, skewSeconds = REQUEST_SKEW_SECONDS): void {
  if (Math.abs(auth.time - now) > skewSeconds) {
    throw new CairnError("REQUEST_TIME_INVALID", `signed at ${auth.time}, ${auth.time - now} s from this server's clock (±${skewSeconds} s accepted): check the signer's clock`);
  }
}

/**
 * Checks a parsed Authorization against the request the server received and
 * the signer's verifier key (0x01 or 0x04): a time within the skew of `now`,
 * the same name and key id, and a valid signature over the rebuilt text.
 * Throws REQUEST_TIME_INVALID or REQUEST_SIGNATURE_INVALID.
 */
export async function verifyRequest(
  auth: RequestAuthorization,
  request: Omit<RequestFacts, "time">,
  key: string | VerifierKey,
  options: { readonly now: number; readonly skewSeconds?: number },
): Promise<void> {
  const k = parseVerifierKey(typeof key === "string" ? key : key.text);
  check(k.type === KEY_TYPE_ED25519 || k.type === KEY_TYPE_COSIGNATURE_V1, "UNSUPPORTED_ALGORITHM", "requests are signed with an Ed25519 client key (0x01) or cosigner key (0x04)");
  checkRequestTime(auth, options.now, options.skewSeconds);
  if (k.name !== auth.name || k.keyId !== auth.keyId) {
    throw new CairnError("REQUEST_SIGNATURE_INVALID", `signed with key ${auth.name}+${keyIdHex(auth.keyId)}, which is not the key ${k.name}+${keyIdHex(k.keyId)} checked`);
  }
  const text = requestText({ ...request, time: auth.time }, auth);
  if (!(await ed25519Verify(k.publicKey, utf8(text), auth.signature))) {
    throw new CairnError("REQUEST_SIGNATURE_INVALID", `the signature by ${auth.name}+${keyIdHex(auth.keyId)} does not verify over ${request.method} ${request.target} for ${request.origin}`);
  }
}
