/**
 * Ed25519 (RFC 8032 §5.1) signing and verification, with one verification
 * rule enforced identically on every runtime.
 *
 * Backends: a synchronous native Ed25519 that a runtime installs
 * (`installNativeEd25519`: node:crypto on Node, where WebCrypto's per-call
 * promise and thread-pool hop cost more than the curve arithmetic); else
 * WebCrypto Ed25519 (`crypto.subtle`, native in Node 20, workerd and current
 * browsers, 10-20x faster than pure JS); else @noble/curves where WebCrypto
 * lacks Ed25519 (or misbehaves). Each native one must pass the probe
 * described below before it is used.
 *
 * The verification rule (RFC 8032 §5.1.7, "strict", cofactorless, the rule of
 * Go crypto/ed25519, OpenSSL and BoringSSL) — a signature (R, S) on message M
 * under public key A is accepted iff all of:
 *   1. the signature is 64 bytes and A is 32 bytes;
 *   2. S < L (canonical scalar; RFC 8032 §5.1.7 step 1);
 *   3. A and R are canonical encodings: y < p, and not x = -0 (the sign bit
 *      set on a point whose x is 0), as RFC 8032 §5.1.3 decoding demands;
 *   4. A is not one of the 8 small-order points (such a key lets one signature
 *      verify for many messages, so it can never be a real signer's key);
 *   5. [S]B = R + [k]A with k = SHA-512(R || A || M) mod L, checked by encoding
 *      [S]B - [k]A and comparing it with the bytes of R (cofactorless).
 * Checks 1-4 run here, before either backend, so both backends only ever see
 * inputs on which they agree (the ed25519-speccheck results show OpenSSL,
 * BoringSSL and CryptoKit differ from each other only on inputs checks 1-4
 * remove). WebCrypto then computes check 5; the noble path computes it itself
 * with point arithmetic, because noble's own `verify` is cofactored
 * ([8][S]B = [8]R + [8][k]A) and accepts more.
 *
 * Cofactored and cofactorless verifiers can still disagree in two ways: a key
 * A with a small-order component, which keys.ts refuses at parse time
 * (`checkEd25519PublicKey` demands the prime-order subgroup), and an R with a
 * small-order component, which only a cofactored verifier accepts. The
 * startup probe therefore also feeds WebCrypto a signature that is valid only
 * under the cofactored equation and falls back to noble unless it is
 * rejected, so the rule above holds on every runtime. With S canonical, A of
 * prime order and R compared byte for byte, nobody but the signer can turn a
 * valid signature into another valid one (no malleability).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesEqual, fromHex, toHex } from "./bytes.js";
import { CairnError, check } from "./errors.js";

export const ED25519_SEED_SIZE = 32;
export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

export type Ed25519Backend = "auto" | "native" | "webcrypto" | "noble";

export interface Ed25519Options {
  /** Forces a backend (tests and benchmarks); "auto" picks the installed native one, else WebCrypto when it works. */
  backend?: Ed25519Backend;
}

/**
 * A platform's own synchronous Ed25519 (node:crypto's OpenSSL, say). It sees
 * only inputs that passed checks 1-4 and computes check 5 (`verify`), or
 * makes RFC 8032 signatures from a seed (`signer`).
 */
export interface NativeEd25519 {
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array;
}

type Point = ReturnType<typeof ed25519.Point.fromBytes>;
const Point = ed25519.Point;

// The group order L = 2^252 + 27742317777372353535851937790883648493 and the
// field prime p = 2^255 - 19, little-endian, for byte-wise range checks.
const L_LE = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
const P_LE = fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
const L = Point.Fn.ORDER;

/**
 * The canonical encodings of the eight points of order 1, 2, 4 and 8 (list as
 * in C2SP/CCTV ed25519/README.md; the non-canonical spellings of the same
 * points are already rejected by check 3).
 */
const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((h) => fromHex(h));

/** For tests: the blocklist used by check 4. */
export function smallOrderEncodings(): Uint8Array[] {
  return SMALL_ORDER_ENCODINGS.map((e) => e.slice());
}

/** a < b for 32-byte little-endian integers, ignoring bit 255 of `a` when `maskTop`. */
function lessThanLE(a: Uint8Array, b: Uint8Array, maskTop: boolean): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = i === 31 && maskTop ? a[i]! & 0x7f : a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y;
  }
  return false;
}

/** Check 2: S < L. */
function isCanonicalScalar(s: Uint8Array): boolean {
  return lessThanLE(s, L_LE, false);
}

/**
 * Check 3: y < p, and not "x = -0". x is 0 only for y = 1 and y = p - 1, so
 * the two x = -0 spellings are those y values with the sign bit set.
 */
function isCanonicalPointEncoding(e: Uint8Array): boolean {
  if (!lessThanLE(e, P_LE, true)) return false;
  if ((e[31]! & 0x80) === 0) return true;
  let rest = 0; // OR of bytes 1..30: zero for y = 1, 0xff-filled for y = p - 1
  let all = 0xff;
  for (let i = 1; i < 31; i++) {
    rest |= e[i]!;
    all &= e[i]!;
  }
  const yIsOne = e[0] === 0x01 && rest === 0 && (e[31]! & 0x7f) === 0;
  const yIsMinusOne = e[0] === 0xec && all === 0xff && (e[31]! & 0x7f) === 0x7f;
  return !yIsOne && !yIsMinusOne;
}

/** Check 4. */
function isSmallOrderEncoding(e: Uint8Array): boolean {
  for (const s of SMALL_ORDER_ENCODINGS) if (bytesEqual(e, s)) return true;
  return false;
}

/**
 * Throws BAD_KEY unless `publicKey` is a 32-byte canonical encoding of a
 * point of prime order L: not small order (check 4) and with no small-order
 * component, so cofactored and cofactorless verifiers agree on every
 * signature under it. Costs ~0.6 ms in pure JS; callers parse keys once.
 */
export function checkEd25519PublicKey(publicKey: Uint8Array): void {
  check(publicKey.length === ED25519_PUBLIC_KEY_SIZE, "BAD_KEY", "Ed25519 public key must be 32 bytes");
  check(isCanonicalPointEncoding(publicKey), "BAD_KEY", "Ed25519 public key is not canonically encoded");
  check(!isSmallOrderEncoding(publicKey), "BAD_KEY", "Ed25519 public key is a small-order point");
  let point: Point;
  try {
    point = Point.fromBytes(publicKey, false);
  } catch (cause) {
    throw new CairnError("BAD_KEY", "Ed25519 public key is not a curve point", { cause });
  }
  check(point.isTorsionFree(), "BAD_KEY", "Ed25519 public key has a small-order component");
}

function checkSeed(seed: Uint8Array): void {
  check(seed instanceof Uint8Array && seed.length === ED25519_SEED_SIZE, "BAD_KEY", "Ed25519 seed must be 32 bytes");
}

/**
 * The public key of a 32-byte seed (RFC 8032 §5.1.5), synchronously. noble
 * blinds its constant-time scalar multiplication with crypto.getRandomValues
 * (present on every target runtime); the result does not depend on it.
 */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  return ed25519.getPublicKey(seed);
}

// ---------------------------------------------------------------------------
// Backend selection.

const ED25519 = { name: "Ed25519" } as const;

// The probe imports RFC 8032 §7.1 TEST 1's key and demands (a) TEST 1's
// signature verifies and (b) a signature under the same key whose R carries an
// order-8 component is refused: it satisfies only the cofactored equation
// (test/vectors/ed25519-cofactor.json). A runtime whose Ed25519 is missing,
// broken or cofactored falls back to noble.
const PROBE_PUBLIC_KEY = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const PROBE_SIGNATURE = fromHex(
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
);
const PROBE_COFACTORED_MESSAGE = fromHex("636169726e3a20636f666163746f7265642d6f6e6c79207369676e6174757265");
const PROBE_COFACTORED_SIGNATURE = fromHex(
  "7f750573bbed8246470219ad420320831131d907af2500c143ed32b059c3a10e2166693f23749665287eb3935a46c2ea8f13299da31710ce28a5245114058d03",
);

// RFC 8032 §7.1 TEST 1's seed: a native signer must reproduce PROBE_SIGNATURE.
const PROBE_SEED = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

let native: NativeEd25519 | undefined;
let webCryptoOk: boolean | undefined;
let webCryptoProbe: Promise<boolean> | undefined;

/**
 * Makes `impl` the backend of "auto" if it passes the probe: TEST 1 signs
 * and verifies, the cofactored-only signature is refused. Returns whether it
 * was installed; a runtime whose native Ed25519 fails keeps WebCrypto.
 */
export function installNativeEd25519(impl: NativeEd25519): boolean {
  let ok: boolean;
  try {
    ok =
      bytesEqual(impl.signer(PROBE_SEED)(new Uint8Array(0)), PROBE_SIGNATURE) &&
      impl.verify(PROBE_PUBLIC_KEY, new Uint8Array(0), PROBE_SIGNATURE) &&
      !impl.verify(PROBE_PUBLIC_KEY, PROBE_COFACTORED_MESSAGE, PROBE_COFACTORED_SIGNATURE);
  } catch {
    ok = false;
  }
  native = ok ? impl : undefined;
  return ok;
}

/** Which backend "auto" uses on this runtime. */
export async function ed25519Backend(): Promise<Exclude<Ed25519Backend, "auto">> {
  if (native !== undefined) return "native";
  return (await ed25519WebCryptoAvailable()) ? "webcrypto" : "noble";
}

/** The native backend when `backend` allows it; throws when it is demanded but absent. */
function nativeFor(backend: Ed25519Backend = "auto"): NativeEd25519 | undefined {
  if (backend === "native" && native === undefined) {
    throw new CairnError("UNSUPPORTED_ALGORITHM", "no native Ed25519 is installed on this runtime");
  }
  return backend === "auto" || backend === "native" ? native : undefined;
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: Crypto }).crypto?.subtle;
}

async function probeWebCrypto(): Promise<boolean> {
  const s = subtle();
  if (!s) return false;
  try {
    const key = await s.importKey("raw", buf(PROBE_PUBLIC_KEY), ED25519, false, ["verify"]);
    const [known, cofactoredOnly] = await Promise.all([
      s.verify(ED25519, key, buf(PROBE_SIGNATURE), new Uint8Array(0)),
      s.verify(ED25519, key, buf(PROBE_COFACTORED_SIGNATURE), buf(PROBE_COFACTORED_MESSAGE)),
    ]);
    return known && !cofactoredOnly;
  } catch {
    return false; // NotSupportedError and friends
  }
}

/** Whether WebCrypto Ed25519 is used on this runtime (probed once). */
export async function ed25519WebCryptoAvailable(): Promise<boolean> {
  if (webCryptoOk === undefined) {
    webCryptoProbe ??= probeWebCrypto();
    webCryptoOk = await webCryptoProbe;
  }
  return webCryptoOk;
}

async function useWebCrypto(backend: Ed25519Backend = "auto"): Promise<boolean> {
  if (backend === "noble" || backend === "native") return false;
  const ok = webCryptoOk ?? (await ed25519WebCryptoAvailable());
  if (backend === "webcrypto" && !ok) {
    throw new CairnError("UNSUPPORTED_ALGORITHM", "WebCrypto Ed25519 is not available on this runtime");
  }
  return ok;
}

/**
 * WebCrypto wants BufferSource backed by an ArrayBuffer; views over one pass
 * through without a copy (WebCrypto copies its inputs itself).
 */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------
// Bounded caches: importing a key costs more than a verify, and decoding a
// point for the noble path costs a field square root.

const CACHE_LIMIT = 1024;

class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Refresh recency so hot keys (the operator's, the members') stay.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    if (this.map.size >= this.limit) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }
}

const verifyKeys = new BoundedCache<Promise<CryptoKey | null>>(CACHE_LIMIT);
const noblePoints = new BoundedCache<Point | null>(CACHE_LIMIT);

function importVerifyKey(publicKey: Uint8Array, id: string): Promise<CryptoKey | null> {
  let key = verifyKeys.get(id);
  if (key === undefined) {
    key = subtle()!
      .importKey("raw", buf(publicKey), ED25519, false, ["verify"])
      .catch(() => null);
    verifyKeys.set(id, key);
  }
  return key;
}

function noblePoint(publicKey: Uint8Array, id: string): Point | null {
  let p = noblePoints.get(id);
  if (p === undefined) {
    try {
      p = Point.fromBytes(publicKey, false);
    } catch {
      p = null;
    }
    noblePoints.set(id, p);
  }
  return p;
}

// ---------------------------------------------------------------------------
// Verification.

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Check 5 with noble's point arithmetic: encode([S]B - [k]A) == R. */
function verifyNoble(publicKey: Uint8Array, id: string, message: Uint8Array, signature: Uint8Array): boolean {
  const A = noblePoint(publicKey, id);
  if (A === null) return false;
  const r = signature.subarray(0, 32);
  const s = bytesToNumberLE(signature.subarray(32, 64));
  const k = bytesToNumberLE(sha512.create().update(r).update(publicKey).update(message).digest()) % L;
  const rCheck = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return bytesEqual(rCheck.toBytes(), r);
}

async function verifyWebCrypto(
  publicKey: Uint8Array,
  id: string,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const key = await importVerifyKey(publicKey, id);
  if (key === null) return false;
  try {
    return await subtle()!.verify(ED25519, key, buf(signature), buf(message));
  } catch {
    return false;
  }
}

/**
 * Verifies an Ed25519 signature under the rule in the header. A low-level
 * primitive: it answers false for anything that is not a valid signature
 * (wrong lengths included) and leaves the error to its callers.
 */
export async function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  opts: Ed25519Options = {},
): Promise<boolean> {
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE || signature.length !== ED25519_SIGNATURE_SIZE) return false;
  const r = signature.subarray(0, 32);
  if (!isCanonicalScalar(signature.subarray(32, 64))) return false;
  if (!isCanonicalPointEncoding(r) || !isCanonicalPointEncoding(publicKey)) return false;
  if (isSmallOrderEncoding(publicKey)) return false;
  const fast = nativeFor(opts.backend);
  if (fast !== undefined) return fast.verify(publicKey, message, signature);
  const id = toHex(publicKey);
  if (await useWebCrypto(opts.backend)) return verifyWebCrypto(publicKey, id, message, signature);
  return verifyNoble(publicKey, id, message, signature);
}

// ---------------------------------------------------------------------------
// Signing.

// PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410 §7) is this fixed DER prefix
// followed by the 32-byte seed.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");

function pkcs8(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_PREFIX.length + ED25519_SEED_SIZE);
  der.set(PKCS8_PREFIX, 0);
  der.set(seed, PKCS8_PREFIX.length);
  return der;
}

export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  /** Deterministic RFC 8032 signature: both backends return the same bytes. */
  sign(message: Uint8Array, opts?: Ed25519Options): Promise<Uint8Array>;
}

/**
 * A signer holding its seed and, after first use, its imported CryptoKey, so
 * long-lived signers (operator, cosigners) import once. The seed is copied;
 * the CryptoKey is non-extractable.
 */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  checkSeed(seed);
  const secret = seed.slice();
  const publicKey = ed25519.getPublicKey(secret);
  let key: Promise<CryptoKey> | undefined;
  let nativeSign: ((message: Uint8Array) => Uint8Array) | undefined;
  return {
    publicKey: publicKey.slice(),
    async sign(message: Uint8Array, opts: Ed25519Options = {}): Promise<Uint8Array> {
      const fast = nativeFor(opts.backend);
      if (fast !== undefined) return (nativeSign ??= fast.signer(secret))(message);
      if (!(await useWebCrypto(opts.backend))) return ed25519.sign(message, secret);
      key ??= subtle()!.importKey("pkcs8", pkcs8(secret), ED25519, false, ["sign"]);
      const k = await key;
      return new Uint8Array(await subtle()!.sign(ED25519, k, buf(message)));
    },
  };
}

/** One-off signature; prefer `ed25519Signer` for a key used repeatedly. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array, opts?: Ed25519Options): Promise<Uint8Array> {
  return ed25519Signer(seed).sign(message, opts);
}
