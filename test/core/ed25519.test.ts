import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fromHex, toHex, utf8 } from "../../src/core/bytes.js";
import {
  checkEd25519PublicKey,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Signer,
  ed25519Verify,
  ed25519Backend,
  ed25519WebCryptoAvailable,
  installNativeEd25519,
  smallOrderEncodings,
  type Ed25519Backend,
} from "../../src/core/ed25519.js";
import { isCairnError } from "../../src/core/errors.js";
import { installNodeEd25519 } from "../../src/runtime/node-ed25519.js";
import cctv from "../vectors/ed25519-cctv.json" with { type: "json" };
import cofactor from "../vectors/ed25519-cofactor.json" with { type: "json" };
import rfc8032 from "../vectors/ed25519-rfc8032.json" with { type: "json" };
import speccheck from "../vectors/ed25519-speccheck.json" with { type: "json" };

// node:crypto as the native backend, as every Node process of Cairn runs.
installNodeEd25519();
const BACKENDS: Ed25519Backend[] = ["native", "webcrypto", "noble"];
const L = ed25519.Point.Fn.ORDER;
const PROBE_COFACTORED = cofactor.vectors[0]!.signature;

/** Verifies on every backend, asserts they agree, and returns the shared answer. */
async function verifyBoth(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const answers = await Promise.all(BACKENDS.map((backend) => ed25519Verify(pk, msg, sig, { backend })));
  expect(answers, "native, webcrypto and noble must agree").toEqual(answers.map(() => answers[0]));
  return answers[0]!;
}

function keyAccepted(pk: Uint8Array): boolean {
  try {
    checkEd25519PublicKey(pk);
    return true;
  } catch (e) {
    expect(isCairnError(e, "BAD_KEY")).toBe(true);
    return false;
  }
}

function numberToLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function leToNumber(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

describe("ed25519 backends", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  /** A fresh copy of the module, so its one-time probe runs again under stubs. */
  async function freshModule() {
    vi.resetModules();
    return import("../../src/core/ed25519.js");
  }

  it("uses node:crypto once the Node runtime installs it, and WebCrypto works on Node 20 too", async () => {
    expect(await ed25519Backend()).toBe("native");
    expect(await ed25519WebCryptoAvailable()).toBe(true);
  });

  it("refuses a native Ed25519 that fails the probe, and keeps WebCrypto for auto", async () => {
    const m = await freshModule();
    const v0 = rfc8032.vectors[0]!;
    const honest = (seed: Uint8Array) => (message: Uint8Array) => ed25519.sign(message, seed);
    // Cofactored (noble's own verify): accepts the probe's cofactored-only signature.
    expect(m.installNativeEd25519({ verify: (k, msg, sig) => ed25519.verify(sig, msg, k, { zip215: false }), signer: honest })).toBe(false);
    expect(await m.ed25519Backend()).toBe("webcrypto");
    await expect(m.ed25519Verify(fromHex(v0.publicKey), fromHex(v0.message), fromHex(v0.signature), { backend: "native" })).rejects.toMatchObject({ code: "UNSUPPORTED_ALGORITHM" });
    // A signer whose signatures are not RFC 8032's.
    expect(m.installNativeEd25519({ verify: () => true, signer: () => () => new Uint8Array(64) })).toBe(false);
    // One that throws.
    expect(m.installNativeEd25519({ verify: () => { throw new Error("no"); }, signer: honest })).toBe(false);
    expect(await m.ed25519Backend()).toBe("webcrypto");
    expect(await m.ed25519Verify(fromHex(v0.publicKey), fromHex(v0.message), fromHex(v0.signature))).toBe(true);
    // Checks 1-4 still run before an installed native backend: one that says
    // yes to everything but the probe never sees a non-canonical S.
    let asked = 0;
    const yes = { verify: (_k: Uint8Array, _m: Uint8Array, sig: Uint8Array) => (asked++, toHex(sig) !== PROBE_COFACTORED), signer: honest };
    expect(m.installNativeEd25519(yes)).toBe(true);
    const sig0 = fromHex(v0.signature);
    const malleated = new Uint8Array([...sig0.subarray(0, 32), ...numberToLE(leToNumber(sig0.subarray(32)) + L)]);
    asked = 0;
    expect(await m.ed25519Verify(fromHex(v0.publicKey), fromHex(v0.message), malleated)).toBe(false);
    expect(asked).toBe(0);
  });

  const v = rfc8032.vectors[1]!;
  const [pk, msg, sig] = [fromHex(v.publicKey), fromHex(v.message), fromHex(v.signature)];

  it("falls back to noble where WebCrypto lacks Ed25519", async () => {
    const notSupported = () => Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
    // noble blinds its constant-time scalar multiplication with getRandomValues
    // (outputs stay deterministic), so a runtime without subtle Ed25519 keeps it.
    const getRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    vi.stubGlobal("crypto", { getRandomValues, subtle: { importKey: notSupported, verify: notSupported, sign: notSupported } });
    const m = await freshModule();
    expect(await m.ed25519WebCryptoAvailable()).toBe(false);
    expect(await m.ed25519Verify(pk, msg, sig)).toBe(true);
    expect(toHex(await m.ed25519Sign(fromHex(v.seed), msg))).toBe(v.signature);
    await expect(m.ed25519Verify(pk, msg, sig, { backend: "webcrypto" })).rejects.toMatchObject({ code: "UNSUPPORTED_ALGORITHM" });
  });

  it("falls back to noble where there is no crypto.subtle at all", async () => {
    const getRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    vi.stubGlobal("crypto", { getRandomValues });
    const m = await freshModule();
    expect(await m.ed25519WebCryptoAvailable()).toBe(false);
    expect(await m.ed25519Verify(pk, msg, sig)).toBe(true);
    expect(await m.ed25519Verify(pk, msg, sig.slice().fill(1, 0, 1))).toBe(false);
  });

  it("falls back to noble where WebCrypto Ed25519 is cofactored (accepts the probe's cofactored-only signature)", async () => {
    // A WebCrypto whose Ed25519 verify uses the cofactored equation (noble's).
    const getRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    const rawKeys = new WeakMap<object, Uint8Array>();
    const cofactored = {
      importKey: async (_format: string, keyData: Uint8Array) => {
        const key = {};
        rawKeys.set(key, new Uint8Array(keyData));
        return key;
      },
      verify: async (_alg: unknown, key: object, s: Uint8Array, m: Uint8Array) =>
        ed25519.verify(new Uint8Array(s), new Uint8Array(m), rawKeys.get(key)!, { zip215: false }),
    };
    vi.stubGlobal("crypto", { getRandomValues, subtle: cofactored });
    const m = await freshModule();
    expect(await m.ed25519WebCryptoAvailable()).toBe(false);
    const c = cofactor.vectors[0]!;
    expect(await m.ed25519Verify(fromHex(c.publicKey), fromHex(c.message), fromHex(c.signature))).toBe(false);
  });
});

describe("RFC 8032 §7.1 vectors", () => {
  for (const v of rfc8032.vectors) {
    it(v.name, async () => {
      const seed = fromHex(v.seed);
      const msg = fromHex(v.message);
      expect(toHex(ed25519PublicKey(seed))).toBe(v.publicKey);
      for (const backend of BACKENDS) {
        expect(toHex(await ed25519Sign(seed, msg, { backend }))).toBe(v.signature);
      }
      expect(await verifyBoth(fromHex(v.publicKey), msg, fromHex(v.signature))).toBe(v.expected);
      expect(keyAccepted(fromHex(v.publicKey))).toBe(true);
    });
  }
});

describe("Taming the many EdDSAs (ed25519-speccheck)", () => {
  for (const v of speccheck.vectors) {
    it(`vector ${v.index}: ${v.why}`, async () => {
      const pk = fromHex(v.pub_key);
      expect(await verifyBoth(pk, fromHex(v.message), fromHex(v.signature))).toBe(v.expected);
      expect(keyAccepted(pk)).toBe(v.keyAccepted);
    });
  }

  it("differs from Go exactly where the small-order-key and x = -0 checks apply", () => {
    const differ = speccheck.vectors.filter((v) => v.expected !== v.goResult).map((v) => v.index);
    expect(differ).toEqual([1, 3, 14]);
  });
});

describe("C2SP/CCTV ed25519vectors (0-39)", () => {
  it("both backends give the expected answer for every vector", async () => {
    for (const v of cctv.vectors) {
      const got = await verifyBoth(fromHex(v.key), utf8(v.msg), fromHex(v.sig));
      expect(got, `vector ${v.number} (${v.flags.join(", ")})`).toBe(v.expected);
      expect(keyAccepted(fromHex(v.key)), `key of vector ${v.number}`).toBe(v.keyAccepted);
    }
  });
});

describe("cofactored-only signature (R with a small-order component)", () => {
  for (const v of cofactor.vectors) {
    it(v.name, async () => {
      const [pk, msg, sig] = [fromHex(v.publicKey), fromHex(v.message), fromHex(v.signature)];
      // It discriminates: noble's cofactored RFC 8032 verify accepts it ...
      expect(ed25519.verify(sig, msg, pk, { zip215: false })).toBe(v.cofactoredAccepts);
      // ... and our rule, on both backends, refuses it, though the key is good.
      expect(await verifyBoth(pk, msg, sig)).toBe(v.expected);
      expect(keyAccepted(pk)).toBe(true);
    });
  }
});

describe("verification rule", () => {
  const seed = fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  const pk = ed25519PublicKey(seed);
  const msg = utf8("cairn");

  it("the blocklist is exactly the eight small-order points", () => {
    const list = smallOrderEncodings();
    expect(new Set(list.map(toHex)).size).toBe(8);
    for (const e of list) {
      const p = ed25519.Point.fromBytes(e, false);
      expect(p.isSmallOrder()).toBe(true);
      expect(toHex(p.toBytes())).toBe(toHex(e)); // canonical spelling
    }
  });

  it("rejects small-order and x = -0 public keys, on both backends and as keys", async () => {
    const sig = await ed25519Sign(seed, msg);
    const bad = [
      ...smallOrderEncodings(),
      fromHex("0100000000000000000000000000000000000000000000000000000000000080"), // identity, x = -0
      fromHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"), // order 2, x = -0
      fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p
      fromHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p + 1
    ];
    for (const k of bad) {
      expect(await verifyBoth(k, msg, sig)).toBe(false);
      expect(keyAccepted(k)).toBe(false);
    }
  });

  it("with A = identity and S = 0, R = identity satisfies the equation but is refused", async () => {
    const identity = fromHex("0100000000000000000000000000000000000000000000000000000000000000");
    const sig = new Uint8Array(64);
    sig.set(identity, 0);
    expect(await verifyBoth(identity, msg, sig)).toBe(false);
  });

  it("rejects S >= L (S + L would verify under a naive mod-L check)", async () => {
    const sig = await ed25519Sign(seed, msg);
    expect(await verifyBoth(pk, msg, sig)).toBe(true);
    const s = leToNumber(sig.subarray(32));
    const malleated = sig.slice();
    malleated.set(numberToLE(s + L), 32);
    expect(s + L < 2n ** 256n).toBe(true);
    expect(await verifyBoth(pk, msg, malleated)).toBe(false);
    const sL = sig.slice();
    sL.set(numberToLE(L), 32);
    expect(await verifyBoth(pk, msg, sL)).toBe(false);
  });

  it("rejects a non-canonical R (y >= p) and a key that does not decode", async () => {
    const sig = await ed25519Sign(seed, msg);
    const badR = sig.slice();
    badR.set(fromHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), 0);
    expect(await verifyBoth(pk, msg, badR)).toBe(false);
    // y = 2 is not on the curve (no square root for x).
    const notAPoint = fromHex("0200000000000000000000000000000000000000000000000000000000000000");
    expect(() => ed25519.Point.fromBytes(notAPoint, false)).toThrow();
    expect(await verifyBoth(notAPoint, msg, sig)).toBe(false);
    expect(keyAccepted(notAPoint)).toBe(false);
  });

  it("rejects wrong lengths", async () => {
    const sig = await ed25519Sign(seed, msg);
    for (const backend of BACKENDS) {
      expect(await ed25519Verify(pk, msg, sig.subarray(0, 63), { backend })).toBe(false);
      expect(await ed25519Verify(pk, msg, new Uint8Array([...sig, 0]), { backend })).toBe(false);
      expect(await ed25519Verify(pk.subarray(0, 31), msg, sig, { backend })).toBe(false);
    }
    expect(keyAccepted(pk.subarray(0, 31))).toBe(false);
  });

  it("rejects a key with a small-order component at parse time", async () => {
    // A' = A + T with T of order 8: cofactorless verification of a signature
    // made for A' is possible for some messages only, so such keys are refused.
    const T = ed25519.Point.fromBytes(smallOrderEncodings()[3]!, false);
    const mixed = ed25519.Point.fromBytes(pk, false).add(T).toBytes();
    expect(keyAccepted(mixed)).toBe(false);
    expect(keyAccepted(pk)).toBe(true);
  });

  it("checks seeds", () => {
    expect(() => ed25519PublicKey(new Uint8Array(31))).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
    expect(() => ed25519Signer(new Uint8Array(33))).toThrow(expect.objectContaining({ code: "BAD_KEY" }));
  });

  it("keeps working past the key cache bound (1,024 keys)", async () => {
    const keys = Array.from({ length: 1100 }, (_, i) => {
      const s = new Uint8Array(32);
      new DataView(s.buffer).setUint32(0, i + 1);
      return s;
    });
    const sigs = await Promise.all(keys.map((s) => ed25519Sign(s, msg)));
    const results = await Promise.all(keys.map((s, i) => ed25519Verify(ed25519PublicKey(s), msg, sigs[i]!)));
    expect(results.every(Boolean)).toBe(true);
    // The first keys were evicted and are re-imported correctly.
    expect(await ed25519Verify(ed25519PublicKey(keys[0]!), msg, sigs[0]!)).toBe(true);
    expect(await ed25519Verify(ed25519PublicKey(keys[0]!), msg, sigs[1]!)).toBe(false);
  });
});

describe("properties", () => {
  const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const msgArb = fc.uint8Array({ maxLength: 200 });

  it("both backends sign identically; signatures verify; any flipped bit fails", async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, msgArb, fc.nat(), fc.nat(7), async (seed, msg, pos, bit) => {
        const pk = ed25519PublicKey(seed);
        const a = await ed25519Sign(seed, msg, { backend: "webcrypto" });
        const b = await ed25519Sign(seed, msg, { backend: "noble" });
        expect(toHex(a)).toBe(toHex(b));
        expect(await verifyBoth(pk, msg, a)).toBe(true);
        const badSig = a.slice();
        badSig[pos % 64]! ^= 1 << bit;
        expect(await verifyBoth(pk, msg, badSig)).toBe(false);
        const badMsg = new Uint8Array([...msg, 0]);
        expect(await verifyBoth(pk, badMsg, a)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it("both backends agree on random signatures, including small-order R and S near L", async () => {
    const pk = ed25519PublicKey(new Uint8Array(32).fill(3));
    const small = smallOrderEncodings();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.nat(small.length),
        msgArb,
        async (raw, which, msg) => {
          const sig = raw.slice();
          if (which < small.length) sig.set(small[which]!, 0);
          sig[63]! &= 0x1f; // S mostly below L, sometimes not
          await verifyBoth(pk, msg, sig);
        },
      ),
      { numRuns: 100 },
    );
  });
});
