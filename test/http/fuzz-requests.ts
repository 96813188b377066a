/**
 * Requests of every shape for the HTTP fuzzers (./fuzz.test.ts on Node,
 * test/worker/worker.test.ts on the Worker), and the checks every answer
 * must pass: below 500, and an error is `{ error: { code, message } }`.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { DEFAULTS } from "../../src/service/config.js";

export const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const hostile = fc.constantFrom("..", "%2e%2e", "%00", "%ff", "x".repeat(300), "-1", "1e99", "9007199254740993", "NaN", " ", "%20", "é", "<script>", "null");
const param = fc.oneof(hex(64), fc.nat().map(String), hostile, fc.string({ maxLength: 20 }).map(encodeURIComponent));
const path = fc.oneof(
  fc.constantFrom(...["/v1/anchors", "/healthz", "/metrics", "/openapi.json", "/", "/v1", "/v1/nope", "/v1/admin/nope"]),
  fc.tuple(fc.constantFrom(...["/v1/anchors/{id}", "/v1/anchors/{id}/receipt", "/v1/digests/{digest}", "/v1/blocks/{height}", "/v1/blocks/{height}/entries", "/v1/admin/clients/{name}"]), param).map(([p, v]) => p.replace(/\{[^}]+\}/, v)),
);
const query = fc.oneof(
  fc.constant(""),
  fc.dictionary(fc.constantFrom("from", "to", "limit", "offset", "height", "size", "x"), fc.oneof(fc.nat().map(String), hostile), { maxKeys: 3 }).map((q) => `?${new URLSearchParams(q)}`),
);
const authorization = (adminToken: string) => fc.option(
  fc.oneof(
    fc.constant("Bearer wrong-token-0123456789abcdef"),
    // The real token too, so the admin routes' own validation is reached (wrong tokens soon hold this source back: 429).
    fc.constant(`Bearer ${adminToken}`),
    fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
    fc.tuple(fc.string({ maxLength: 20 }), fc.integer(), fc.base64String({ maxLength: 90 })).map(([n, t, s]) => `Cairn-Signed ${n}+0000abcd ${t} ${s}`),
    fc.string({ maxLength: 40 }),
  ),
  { nil: undefined },
);
const json = fc.oneof(
  fc.record({ submission: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()) }),
  fc.record({ submissions: fc.array(fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue()), { maxLength: 5 }) }),
  fc.record({ key: fc.oneof(fc.string({ maxLength: 120 }), fc.constant("bаnk.example+12345678+AQ==")) }),
  fc.record({ record: fc.string({ maxLength: 400 }) }),
  fc.record({ receipt: fc.jsonValue(), digest: fc.oneof(hex(64), fc.string({ maxLength: 70 })) }),
  fc.jsonValue(),
);
const body = fc.option(
  fc.oneof(
    json.map((v) => ({ type: "application/json", data: JSON.stringify(v) })),
    fc.string({ maxLength: 200 }).map((s) => ({ type: "application/json", data: s })),
    fc.uint8Array({ maxLength: 200 }).map((b) => ({ type: "application/octet-stream", data: Buffer.from(b).toString("latin1") })),
    // Past the limit: refused with 413 without reading the rest.
    fc.constant({ type: "application/json", data: `{"submission":"${"a".repeat(DEFAULTS.maxBodyBytes + 10)}"}` }),
  ),
  { nil: undefined },
);
export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly authorization: string | undefined;
  readonly body: { readonly type: string; readonly data: string } | undefined;
}

/** A request of any shape; `adminToken` is among the credentials tried, so admin routes' own validation is reached. */
export function fuzzRequest(adminToken: string): fc.Arbitrary<FuzzRequest> {
  return fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path,
  query,
  authorization: authorization(adminToken),
  body,
});
}


/** Sends `r` to `base`; checks the answer; returns its status and text. */
export async function sendFuzz(base: string, r: FuzzRequest, fetcher: (url: string, init: RequestInit) => Promise<Response> = fetch): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (r.authorization !== undefined) headers.Authorization = r.authorization;
  if (r.body !== undefined) headers["Content-Type"] = r.body.type;
  const withBody = r.body !== undefined && r.method !== "GET";
  const res = await fetcher(`${base}${r.path}${r.query}`, { method: r.method, headers, ...(withBody ? { body: r.body!.data } : {}) });
  const text = await res.text();
  checkAnswer(`${r.method} ${r.path}${r.query}`, res.status, text);
  return { status: res.status, text };
}

export function checkAnswer(what: string, status: number, text: string): void {
  expect(status, `${what} → ${status} ${text.slice(0, 200)}`).toBeLessThan(500);
  if (status < 400) return;
  const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof parsed.error?.code, text.slice(0, 200)).toBe("string");
  expect(typeof parsed.error?.message).toBe("string");
}
