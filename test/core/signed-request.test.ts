/**
 * core/signed-request.ts (FORMATS.md §10): the text, the header, and the
 * checks a server makes — round trips, every flipped byte of a signature,
 * each malformed header shape, the time window's edges, and that one raw
 * Ed25519 key signing requests and cosignatures cannot have one pass for
 * the other.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  cosign,
  cosignatureVerifier,
  formatCheckpoint,
  generateKeyPair,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  openNote,
  parseAuthorization,
  parseSignerKey,
  parseVerifierKey,
  requestSigner,
  requestText,
  sha256,
  signNote,
  signRequest,
  noteSigner,
  toBase64,
  utf8,
  verifyRequest,
} from "../../src/core/index.js";
import { ed25519Verify } from "../../src/core/ed25519.js";

const ORIGIN = "cairn.test/log";
const T = 1_900_000_000;
const client = generateKeyPair("app.test", sha256(utf8("request client")), KEY_TYPE_ED25519);
const member = generateKeyPair("m1.test", sha256(utf8("request member")), KEY_TYPE_COSIGNATURE_V1);
const signerOf = (k: { signerKey: string }) => requestSigner(parseSignerKey(k.signerKey));
const facts = { origin: ORIGIN, method: "GET", target: "/v1/digests/" + "ab".repeat(32), time: T };
const request = { origin: facts.origin, method: facts.method, target: facts.target };

describe("signed requests", () => {
  it("round-trip for a client key and a member's cosigner key", async () => {
    for (const k of [client, member]) {
      const header = await signRequest(facts, signerOf(k));
      const auth = parseAuthorization(header);
      expect(auth).toMatchObject({ name: parseVerifierKey(k.verifierKey).name, keyId: parseVerifierKey(k.verifierKey).keyId, time: T });
      await verifyRequest(auth, request, k.verifierKey, { now: T });
    }
  });

  it("the text is the six lines, in order, each ending in a newline", () => {
    const s = signerOf(client);
    expect(requestText(facts, s)).toBe(`cairn-request/v1\n${ORIGIN}\napp.test+${s.keyId.toString(16).padStart(8, "0")}\n${T}\nGET\n${facts.target}\n`);
  });

  it("holds within ±300 s and not a second beyond, either way", async () => {
    const auth = parseAuthorization(await signRequest(facts, signerOf(client)));
    for (const now of [T - 300, T, T + 300]) await verifyRequest(auth, request, client.verifierKey, { now });
    for (const now of [T - 301, T + 301]) await expect(verifyRequest(auth, request, client.verifierKey, { now })).rejects.toMatchObject({ code: "REQUEST_TIME_INVALID" });
    await expect(verifyRequest(auth, request, client.verifierKey, { now: T + 11, skewSeconds: 10 })).rejects.toMatchObject({ code: "REQUEST_TIME_INVALID" });
  });

  it("fails over any other origin, method, target, and under another key or name", async () => {
    const auth = parseAuthorization(await signRequest(facts, signerOf(client)));
    const others = [
      { ...request, origin: "other.test/log" },
      { ...request, method: "POST" },
      { ...request, target: facts.target + "?x=1" },
      { ...request, target: "/v1/digests/" + "cd".repeat(32) },
    ];
    for (const r of others) await expect(verifyRequest(auth, r, client.verifierKey, { now: T })).rejects.toMatchObject({ code: "REQUEST_SIGNATURE_INVALID" });
    const sameName = generateKeyPair("app.test", sha256(utf8("another key")), KEY_TYPE_ED25519);
    await expect(verifyRequest(auth, request, sameName.verifierKey, { now: T })).rejects.toMatchObject({ code: "REQUEST_SIGNATURE_INVALID" });
    // The same raw key as a cosigner key has another key id: a client's request is no member's.
    const asCosigner = generateKeyPair("app.test", sha256(utf8("request client")), KEY_TYPE_COSIGNATURE_V1);
    await expect(verifyRequest(auth, request, asCosigner.verifierKey, { now: T })).rejects.toMatchObject({ code: "REQUEST_SIGNATURE_INVALID" });
  });

  it("fails with any byte of the signature flipped", async () => {
    const auth = parseAuthorization(await signRequest(facts, signerOf(member)));
    for (let i = 0; i < 64; i++) {
      const signature = auth.signature.slice();
      signature[i]! ^= 0x01;
      await expect(verifyRequest({ ...auth, signature }, request, member.verifierKey, { now: T })).rejects.toMatchObject({ code: "REQUEST_SIGNATURE_INVALID" });
    }
  });

  it("refuses each malformed header shape with BAD_AUTHORIZATION", async () => {
    const good = await signRequest(facts, signerOf(client));
    const [, key, time, sig] = good.split(" ") as [string, string, string, string];
    const bad = [
      "",
      "Cairn-Signed",
      `Bearer ${key} ${time} ${sig}`,
      `Cairn-Signed ${key} ${time}`,
      `Cairn-Signed ${key}  ${time} ${sig}`,
      `Cairn-Signed ${key} ${time} ${sig} `,
      `Cairn-Signed ${key} ${time} ${sig} more`,
      `Cairn-Signed app.test ${time} ${sig}`,
      `Cairn-Signed app.test+ABCDEF01 ${time} ${sig}`,
      `Cairn-Signed app.test+abcdef0 ${time} ${sig}`,
      `Cairn-Signed a+b+${key.split("+")[1]} ${time} ${sig}`,
      `Cairn-Signed ${key} 0${time} ${sig}`,
      `Cairn-Signed ${key} -1 ${sig}`,
      `Cairn-Signed ${key} 99999999999999999999 ${sig}`,
      `Cairn-Signed ${key} ${time} ${sig.slice(0, -4)}`,
      `Cairn-Signed ${key} ${time} ${sig.replace(/==$/, "")}`,
      `Cairn-Signed ${key} ${time} ${toBase64(new Uint8Array(63))}`,
      `Cairn-Signed é.test+${key.split("+")[1]} ${time} ${sig}`,
    ];
    for (const header of bad) expect(() => parseAuthorization(header), JSON.stringify(header)).toThrow(expect.objectContaining({ code: "BAD_AUTHORIZATION" }));
    expect(parseAuthorization(good.replace("Cairn-Signed", "CAIRN-SIGNED")).time).toBe(T);
  });

  it("never parses to anything but what was signed (fast-check: arbitrary header text)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          const auth = parseAuthorization(`Cairn-Signed ${text}`);
          expect(auth.signature.length).toBe(64);
          expect(Number.isSafeInteger(auth.time)).toBe(true);
        } catch (e) {
          expect((e as { code?: string }).code).toBe("BAD_AUTHORIZATION");
        }
      }),
    );
  });

  it("signs with Ed25519 client and cosigner keys only, named in visible ASCII", () => {
    const mldsa = generateKeyPair("m1.test", sha256(utf8("pq")), KEY_TYPE_COSIGNATURE_MLDSA44);
    expect(() => requestSigner(parseSignerKey(mldsa.signerKey))).toThrow(expect.objectContaining({ code: "UNSUPPORTED_ALGORITHM" }));
    const unicode = generateKeyPair("zürich.test", sha256(utf8("unicode")), KEY_TYPE_ED25519);
    expect(() => requestSigner(parseSignerKey(unicode.signerKey))).toThrow(expect.objectContaining({ code: "BAD_KEY_NAME" }));
    for (const bad of [{ method: "get" }, { target: "v1/x" }, { target: "/v1/x y" }, { time: -1 }, { origin: "a b" }]) {
      expect(() => requestText({ ...facts, ...bad }, signerOf(client))).toThrow(expect.objectContaining({ code: "BAD_AUTHORIZATION" }));
    }
  });

  it("one raw key, two uses: a request signature is no cosignature, and a cosignature or note signature is no request's", async () => {
    const seed = parseSignerKey(member.signerKey).seed;
    const publicKey = parseVerifierKey(member.verifierKey).publicKey;
    const checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, size: 1, root: sha256(utf8("root")) }), [noteSigner(generateKeyPair(ORIGIN, sha256(utf8("op"))).signerKey)]);
    const cosigned = await cosign(checkpoint, seed, "m1.test", T);
    const line = cosigned.trimEnd().split("\n").at(-1)!;
    const cosignature = Buffer.from(line.split(" ").at(-1)!, "base64").subarray(12);
    // The cosignature's 64 bytes do not verify over the request text, nor the request's over the cosigned message.
    const auth = parseAuthorization(await signRequest(facts, signerOf(member)));
    expect(await ed25519Verify(publicKey, utf8(requestText(facts, auth)), new Uint8Array(cosignature))).toBe(false);
    await expect(verifyRequest({ ...auth, signature: new Uint8Array(cosignature) }, request, member.verifierKey, { now: T })).rejects.toMatchObject({ code: "REQUEST_SIGNATURE_INVALID" });
    const forged = `${checkpoint}— m1.test ${Buffer.concat([Buffer.from(line.split(" ").at(-1)!, "base64").subarray(0, 12), Buffer.from(auth.signature)]).toString("base64")}\n`;
    await expect(openNote(forged, [cosignatureVerifier(member.verifierKey)])).rejects.toMatchObject({ code: expect.any(String) });
  });
});
