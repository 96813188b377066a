/**
 * The bad-input table of the anchoring routes: each malformed or refused
 * submission with the status and error code it must get. One table, run
 * against the Node server (api.test.ts) and the Worker in workerd
 * (test/worker/worker.test.ts), so both runtimes answer alike.
 */
import { generateKeyPair, noteSigner, sha256, signNote, signSubmission, utf8, type NoteSigner } from "../../src/core/index.js";

export interface BadInputContext {
  readonly origin: string;
  /** The server's clock, unix seconds. */
  now(): number;
  /** The signer of a client registered under `registeredName` (asked for when a case runs). */
  signer(): NoteSigner;
  readonly registeredName: string;
}

export interface BadInputCase {
  readonly name: string;
  /** The request body: raw text, or a value sent as JSON. */
  readonly body: () => Promise<string | object>;
  readonly status: number;
  readonly code: string;
  /** Words the message must contain. */
  readonly words?: string;
  /** Default /v1/anchors. */
  readonly path?: string;
}

const seed = (label: string) => sha256(utf8(label));
const doc = (n: string) => utf8(`document ${n}\n`);

export function badInputCases(ctx: BadInputContext): BadInputCase[] {
  const sign = (signer: NoteSigner, document: Uint8Array, extra: { time?: number; origin?: string; prev?: Uint8Array } = {}) =>
    signSubmission(
      { origin: extra.origin ?? ctx.origin, digest: sha256(document), time: extra.time ?? ctx.now(), ...(extra.prev ? { prev: extra.prev } : {}) },
      signer,
    );
  const stranger = noteSigner(generateKeyPair("nobody.test", seed("client nobody.test")).signerKey);
  const impostor = noteSigner(generateKeyPair(ctx.registeredName, seed("impostor")).signerKey);
  const signer = () => ctx.signer();
  return [
    { name: "malformed JSON", body: async () => "{not json", status: 400, code: "BAD_JSON" },
    { name: "a body without submission", body: async () => ({ note: "x" }), status: 400, code: "BAD_REQUEST" },
    { name: "a submission that is not a string", body: async () => ({ submission: 5 }), status: 400, code: "BAD_REQUEST" },
    { name: "text that is not a signed note", body: async () => ({ submission: "hello\n" }), status: 400, code: "BAD_NOTE" },
    { name: "a note whose text is not a submission", body: async () => ({ submission: await signNote("hello\n", [signer()]) }), status: 400, code: "BAD_SUBMISSION" },
    {
      name: "a non-hex digest",
      body: async () => ({ submission: await signNote(`cairn/submission/v1\n${ctx.origin}\n${"zz".repeat(32)}\n${ctx.now()}\n`, [signer()]) }),
      status: 400,
      code: "BAD_DIGEST",
    },
    { name: "another origin", body: async () => ({ submission: await sign(signer(), doc("o"), { origin: "other.test/log" }) }), status: 400, code: "WRONG_ORIGIN" },
    { name: "a time 10 minutes old", body: async () => ({ submission: await sign(signer(), doc("t1"), { time: ctx.now() - 600 }) }), status: 400, code: "STALE_TIME", words: "in the past" },
    { name: "a time 10 minutes ahead", body: async () => ({ submission: await sign(signer(), doc("t2"), { time: ctx.now() + 600 }) }), status: 400, code: "STALE_TIME", words: "in the future" },
    { name: "an unknown prev", body: async () => ({ submission: await sign(signer(), doc("p"), { prev: sha256(utf8("nothing")) }) }), status: 400, code: "UNKNOWN_PREV" },
    { name: "an unregistered client", body: async () => ({ submission: await sign(stranger, doc("u")) }), status: 403, code: "UNKNOWN_CLIENT" },
    {
      name: "a signature that does not verify",
      body: async () => {
        const note = await sign(signer(), doc("s"));
        return { submission: note.replace(/\n(\d+)\n\n/, (_, t) => `\n${Number(t) + 1}\n\n`) };
      },
      status: 403,
      code: "BAD_SIGNATURE",
    },
    { name: "another key under a registered name", body: async () => ({ submission: await sign(impostor, doc("k")) }), status: 403, code: "BAD_SIGNATURE", words: "key id" },
    { name: "an oversize body", body: async () => ({ submission: "x".repeat(3_000_000) }), status: 413, code: "TOO_LARGE" },
    { name: "too many batch items", body: async () => ({ submissions: Array(1001).fill("x") }), status: 413, code: "TOO_MANY_ITEMS", path: "/v1/anchors/batch" },
  ];
}
