/**
 * Interoperability with the Go reference implementations: what src/core
 * produces must open with golang.org/x/mod/sumdb/note and check with
 * golang.org/x/mod/sumdb/tlog, byte for byte, and what Go produces must open
 * with src/core. The Go side is test/interop/go/verify.go (our own code; it
 * documents its JSON protocol), built once per run in GOPATH mode against the
 * x/mod source that Debian's golang-golang-x-mod-dev installs under
 * /usr/share/gocode. Nothing is downloaded and nothing is cached in the repo.
 *
 * Every check is symmetric where it can be: a tampered note or proof must be
 * refused by Go *and* by src/core, and an untampered one accepted by both.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blockHash,
  consistencyProof,
  cosign,
  EMPTY_ROOT,
  entryId,
  formatBlockHeader,
  formatCheckpoint,
  formatPromise,
  formatSubmission,
  fromBase64,
  fromHex,
  generateKeyPair,
  inclusionProof,
  isValidKeyName,
  leafHash,
  merkleRoot,
  noteSigner,
  openNote,
  parseBlockHeader,
  parseCheckpoint,
  parseEntry,
  parseSignerKey,
  parseVerifierKey,
  sha256,
  signNote,
  signPromise,
  signSubmission,
  tlog,
  toBase64,
  treeLevels,
  utf8,
  verifyConsistency,
  verifyEntry,
  verifyInclusion,
  type NodeRef,
} from "../../src/core/index.js";
import { buildVectors } from "../../scripts/formats.js";
import { buildChain, client, keyPair, members, operator, ORIGIN, T0 } from "../core/chain-fixture.js";

// ---------------------------------------------------------------------------
// The Go oracle: availability, build, protocol.

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(HERE, "go", "verify.go");
/** Where the x/mod source lives (Debian's GOPATH); override for other layouts. */
const GOPATH = process.env.CAIRN_INTEROP_GOPATH ?? "/usr/share/gocode";
const XMOD = join(GOPATH, "src", "golang.org", "x", "mod", "sumdb");

function goVersion(): string | undefined {
  const r = spawnSync("go", ["version"], { encoding: "utf8", env: { ...process.env, GOTOOLCHAIN: "local" } });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const GO_VERSION = goVersion();
const SKIP_REASON =
  GO_VERSION === undefined
    ? "`go` is not on PATH (Debian: apt-get install golang-go golang-golang-x-mod-dev)"
    : !existsSync(join(XMOD, "note", "note.go")) || !existsSync(join(XMOD, "tlog", "tlog.go"))
      ? `golang.org/x/mod source not found under ${GOPATH}/src (Debian: apt-get install golang-golang-x-mod-dev)`
      : undefined;
if (SKIP_REASON !== undefined) console.warn(`[test/interop/go.test.ts] Go interop tests skipped: ${SKIP_REASON}`);

const goIt = it.skipIf(SKIP_REASON !== undefined);

let workDir = "";
let binary = "";

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GO111MODULE: "off", // GOPATH mode: imports resolve in GOPATH/src, no module proxy
    GOPATH,
    GOCACHE: join(workDir, "gocache"),
    GOFLAGS: "",
    GOENV: "off",
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0", // no C compiler needed
  };
}

function buildOracle(): void {
  workDir = mkdtempSync(join(tmpdir(), "cairn-go-interop-"));
  binary = join(workDir, "verify");
  const started = Date.now();
  const r = spawnSync("go", ["build", "-o", binary, SOURCE], { cwd: workDir, env: goEnv(), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`go build failed (${GO_VERSION}):\n${r.stderr}${r.error ? String(r.error) : ""}`);
  console.info(`[test/interop/go.test.ts] built the Go oracle with ${GO_VERSION} in ${Date.now() - started} ms`);
}

type Case =
  | { kind: "note"; note: string; vkeys: readonly string[] }
  | { kind: "inclusion"; leafHash: string; index: number; size: number; proof: readonly string[]; root: string }
  | { kind: "consistency"; oldSize: number; newSize: number; oldRoot: string; newRoot: string; proof: readonly string[] }
  | { kind: "checkpoint"; body: string }
  | { kind: "tree"; leaves: readonly string[] }
  | { kind: "sign"; text: string; skey: string; cosigners?: { skey: string; time: number }[] };

interface GoSig {
  name: string;
  keyId: string;
  time?: number;
}

interface GoResult {
  ok: boolean;
  error?: string;
  text?: string;
  sigs?: GoSig[];
  unverified?: GoSig[];
  origin?: string;
  size?: number;
  root?: string;
  extensions?: string[];
  leafHashes?: string[];
  roots?: string[];
  inclusion?: Record<string, string[]>;
  consistency?: Record<string, string[]>;
  storedCount?: number[];
  storedIndex?: Record<string, number>;
  splitIndex?: Record<string, [number, number]>;
  signed?: string;
}

/** Runs the cases through the Go oracle, one process for the lot. */
function go(cases: readonly Case[]): GoResult[] {
  const r = spawnSync(binary, [], { input: JSON.stringify(cases), encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`Go oracle failed (status ${r.status}): ${r.stderr}${r.error ? String(r.error) : ""}`);
  const results = JSON.parse(r.stdout) as GoResult[];
  expect(results).toHaveLength(cases.length);
  return results;
}

function only(c: Case): GoResult {
  return go([c])[0]!;
}

// ---------------------------------------------------------------------------
// Helpers.

const b64 = toBase64;
const keyIdOf = (vkey: string) => parseVerifierKey(vkey).keyId.toString(16).padStart(8, "0");

async function tsOpens(note: string, vkeys: readonly string[]): Promise<boolean> {
  try {
    await openNote(note, vkeys);
    return true;
  } catch {
    return false;
  }
}

function tsAccepts(f: () => void): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/**
 * Flips the low bit of the text's first code point: exactly one byte of the
 * signed text changes (the last byte of its UTF-8 sequence), and the note
 * stays valid UTF-8 and well formed.
 */
function tamperText(note: string): string {
  const c = note.codePointAt(0)!;
  expect(c).toBeGreaterThan(0x20);
  const flipped = String.fromCodePoint(c ^ 1);
  const out = flipped + note.slice(String.fromCodePoint(c).length);
  expect(utf8(out).length).toBe(utf8(note).length);
  return out;
}

/** Flips one bit of byte `at` (key id included) of the signature on line `which` of the note. */
function tamperSignature(note: string, which: number, at: number): string {
  const split = note.lastIndexOf("\n\n");
  const lines = note.slice(split + 2, -1).split("\n");
  const line = lines[which]!;
  const space = line.lastIndexOf(" ");
  const raw = fromBase64(line.slice(space + 1));
  raw[at] = raw[at]! ^ 0x01;
  lines[which] = line.slice(0, space + 1) + b64(raw);
  return note.slice(0, split + 2) + lines.join("\n") + "\n";
}

function flip(h: Uint8Array, at = 0): Uint8Array {
  const out = h.slice();
  out[at % out.length] = out[at % out.length]! ^ 0x80;
  return out;
}

/** What src/core's openNote verified, in the shape the Go oracle reports. */
async function tsSigs(note: string, vkeys: readonly string[]): Promise<GoSig[]> {
  const opened = await openNote(note, vkeys);
  return opened.verified.map((s) => ({
    name: s.name,
    keyId: s.keyId.toString(16).padStart(8, "0"),
    ...(s.timestamp === undefined ? {} : { time: s.timestamp }),
  }));
}

// ---------------------------------------------------------------------------
// Fixtures: keys, texts, a history tree of block headers.

const unicodeKey = keyPair("interop unicode key", "例え.example/ログ");
const cyrillicKey = keyPair("interop cyrillic key", "ключ.example");
const ed25519Keys = [operator, client, unicodeKey, cyrillicKey];
const memberSeeds = members.map((m) => parseSignerKey(m.signerKey).seed);
const memberKeys = members.map((m) => m.verifierKey);

const TEXTS = [
  "hello, world\n",
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  "héllo wörld — ünïcödé\n",
  "日本語のテキスト\n第二行\n",
  "emoji 📜🔏 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢\n",
  "right to left: שלום عربى\n",
  "combining: e\u0301 versus \u00e9\n",
  "\uFEFFa leading byte-order mark is text\n",
  "line separator \u2028, NEL \u0085 and DEL \u007f are not control characters to either side\n",
  "a blank line\n\ninside the text\n",
  "ends with a blank line\n\n",
  `long ${"0123456789abcdef".repeat(640)}\n`,
];

const N = 40;
/** Block headers: the leaves of a history tree of N blocks (leaf data; leafHash = blockHash). */
const HEADERS: string[] = [];
{
  let prevHash: Uint8Array = new Uint8Array(32);
  for (let height = 0; height < N; height++) {
    const header = formatBlockHeader({
      origin: ORIGIN,
      height,
      prevHash,
      size: 1 + (height % 5),
      root: sha256(utf8(`batch ${height}`)),
      sealedAt: T0 + 10 * height,
    });
    HEADERS.push(header);
    prevHash = blockHash(header);
  }
}
const HISTORY = HEADERS.map(blockHash);
const ROOTS = Array.from({ length: N + 1 }, (_, n) => merkleRoot(HISTORY.slice(0, n)));

/** The stored hashes of tlog.ts for the history tree, looked up by ref. */
const LEVELS = (() => {
  const flat = new Uint8Array(N * 32);
  HISTORY.forEach((h, i) => flat.set(h, i * 32));
  return treeLevels(flat);
})();
const read = (refs: readonly NodeRef[]) => refs.map((r) => LEVELS[r.level]!.slice(r.index * 32, (r.index + 1) * 32));

/** The operator's checkpoint of the first `size` blocks, cosigned by the first `cosigners` members. */
async function checkpointNote(size: number, cosigners: number): Promise<string> {
  let note = await signNote(formatCheckpoint({ origin: ORIGIN, size, root: ROOTS[size]! }), [noteSigner(operator.signerKey)]);
  for (let i = 0; i < cosigners; i++) note = await cosign(note, memberSeeds[i]!, members[i]!.name, T0 + 1000 + size * 7 + i);
  return note;
}

// ---------------------------------------------------------------------------

describe(`Go golang.org/x/mod/sumdb interop${SKIP_REASON === undefined ? ` (${GO_VERSION})` : ` (skipped: ${SKIP_REASON})`}`, () => {
  beforeAll(() => {
    if (SKIP_REASON === undefined) buildOracle();
  }, 120_000);
  afterAll(() => {
    if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
  });

  goIt("the oracle speaks the protocol and refuses unknown cases", () => {
    const [bogus] = go([{ kind: "bogus" } as unknown as Case]);
    expect(bogus).toEqual({ ok: false, error: 'unknown case kind "bogus"' });
  });

  goIt("Go's note.Open opens notes we sign (unicode texts and key names, one or several signers)", async () => {
    const cases: Case[] = [];
    const expected: { note: string; vkeys: string[] }[] = [];
    for (const [i, text] of TEXTS.entries()) {
      const key = ed25519Keys[i % ed25519Keys.length]!;
      const other = ed25519Keys[(i + 1) % ed25519Keys.length]!;
      const single = await signNote(text, [noteSigner(key.signerKey)]);
      const double = await signNote(text, [noteSigner(key.signerKey), noteSigner(other.signerKey)]);
      for (const [note, vkeys] of [
        [single, [key.verifierKey]],
        [double, [key.verifierKey, other.verifierKey]],
        [double, [other.verifierKey]], // the other line is an unknown key: ignored
        [single, [key.verifierKey, other.verifierKey]], // a known key that did not sign
      ] as const) {
        cases.push({ kind: "note", note, vkeys: [...vkeys] });
        expected.push({ note, vkeys: [...vkeys] });
      }
    }
    const results = go(cases);
    for (const [i, r] of results.entries()) {
      const { note, vkeys } = expected[i]!;
      expect(r.error, note).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.text).toBe((await openNote(note, vkeys)).text);
      expect(r.sigs).toEqual(await tsSigs(note, vkeys));
      const unknown = (await openNote(note, vkeys)).unverified.map((s) => ({ name: s.name, keyId: s.keyId.toString(16).padStart(8, "0") }));
      expect(r.unverified ?? []).toEqual(unknown);
    }
  });

  goIt("Go and src/core both refuse tampered notes: a flipped byte in the text, the signature or the key id", async () => {
    const cases: Case[] = [];
    const why: string[] = [];
    for (const [i, text] of TEXTS.entries()) {
      const key = ed25519Keys[i % ed25519Keys.length]!;
      const note = await signNote(text, [noteSigner(key.signerKey)]);
      for (const [tampered, reason] of [
        [tamperText(note), /invalid signature for key/],
        [tamperSignature(note, 0, 4 + (i % 64)), /invalid signature for key/],
        [tamperSignature(note, 0, i % 4), /no verifiable signatures/], // the key id now names an unknown key
        [note, /no verifiable signatures/], // opened with someone else's key
      ] as const) {
        const vkeys = tampered === note ? [ed25519Keys[(i + 1) % ed25519Keys.length]!.verifierKey] : [key.verifierKey];
        cases.push({ kind: "note", note: tampered, vkeys });
        why.push(reason.source);
        expect(await tsOpens(tampered, vkeys), tampered).toBe(false);
      }
    }
    for (const [i, r] of go(cases).entries()) {
      expect(r.ok, `case ${i}`).toBe(false);
      expect(r.error).toMatch(new RegExp(why[i]!));
    }
  });

  goIt("Go opens our cosigned checkpoints of history trees of sizes 1..40, and reads the same checkpoint", async () => {
    const cases: Case[] = [];
    const notes: string[] = [];
    const allKeys = [operator.verifierKey, ...memberKeys];
    for (let size = 1; size <= N; size++) {
      const note = await checkpointNote(size, 1 + (size % 3));
      notes.push(note);
      cases.push({ kind: "note", note, vkeys: [operator.verifierKey] }); // Ed25519 only: cosignatures are unknown keys
      cases.push({ kind: "note", note, vkeys: allKeys }); // with cosignature/v1 verification
      cases.push({ kind: "checkpoint", body: (await openNote(note, allKeys)).text });
    }
    const results = go(cases);
    for (let size = 1; size <= N; size++) {
      const note = notes[size - 1]!;
      const [plain, cosigned, checkpoint] = results.slice(3 * (size - 1), 3 * size) as [GoResult, GoResult, GoResult];
      expect(plain.error).toBeUndefined();
      expect(plain.sigs).toEqual([{ name: ORIGIN, keyId: keyIdOf(operator.verifierKey) }]);
      expect(plain.unverified?.length).toBe(1 + (size % 3));
      expect(cosigned.error).toBeUndefined();
      expect(cosigned.sigs).toEqual(await tsSigs(note, allKeys));
      expect(cosigned.sigs).toHaveLength(2 + (size % 3));
      expect(cosigned.sigs![1]!.time).toBe(T0 + 1000 + size * 7);
      expect(checkpoint.error).toBeUndefined();
      expect(checkpoint).toMatchObject({ ok: true, origin: ORIGIN, size, root: b64(ROOTS[size]!) });
      expect(checkpoint.extensions ?? []).toEqual([]);
    }
  });

  goIt("checkpoint bodies: extension lines, size 0, and Go's empty-tree hash", async () => {
    const withExt = formatCheckpoint({ origin: ORIGIN, size: 7, root: ROOTS[7]!, extensions: ["ext one", "ext — two"] });
    const empty = formatCheckpoint({ origin: "ünïcode.example/log", size: 0, root: EMPTY_ROOT });
    const [a, b, tree] = go([
      { kind: "checkpoint", body: withExt },
      { kind: "checkpoint", body: empty },
      { kind: "tree", leaves: [] },
    ]) as [GoResult, GoResult, GoResult];
    expect(a).toEqual({ ok: true, origin: ORIGIN, size: 7, root: b64(ROOTS[7]!), extensions: ["ext one", "ext — two"] });
    expect(b).toEqual({ ok: true, origin: "ünïcode.example/log", size: 0, root: b64(EMPTY_ROOT) });
    // A known, documented difference: Go's tlog.TreeHash defines the empty
    // tree's hash as 32 zero bytes; RFC 9162 §2.1.1 (and src/core) as
    // SHA-256 of the empty string. Only size-0 checkpoints are affected.
    expect(tree.roots).toEqual([b64(new Uint8Array(32))]);
    expect(merkleRoot([])).toEqual(EMPTY_ROOT);
  });

  goIt("Go's tlog computes the same leaf hashes, roots, proofs and stored-hash layout (sizes 0..40)", () => {
    const r = only({ kind: "tree", leaves: HEADERS.map((h) => b64(utf8(h))) });
    expect(r.error).toBeUndefined();
    expect(r.leafHashes).toEqual(HISTORY.map(b64));
    expect(r.roots!.slice(1)).toEqual(ROOTS.slice(1).map(b64));
    for (let size = 1; size <= N; size++) {
      expect(b64(tlog.assembleTreeRoot(size, read(tlog.treeRootRefs(size))))).toBe(r.roots![size]);
      for (let index = 0; index < size; index++) {
        const key = `${index}/${size}`;
        expect(inclusionProof(HISTORY.slice(0, size), index).map(b64), key).toEqual(r.inclusion![key]);
        expect(tlog.assembleInclusionProof(index, size, read(tlog.inclusionProofRefs(index, size))).map(b64), key).toEqual(r.inclusion![key]);
      }
      for (let old = 1; old <= size; old++) {
        const key = `${old}/${size}`;
        expect(consistencyProof(HISTORY.slice(0, size), old).map(b64), key).toEqual(r.consistency![key]);
        expect(tlog.assembleConsistencyProof(old, size, read(tlog.consistencyProofRefs(old, size))).map(b64), key).toEqual(r.consistency![key]);
      }
    }
    expect(Object.keys(r.inclusion!)).toHaveLength((N * (N + 1)) / 2);
    expect(Object.keys(r.consistency!)).toHaveLength((N * (N + 1)) / 2);
    expect(r.storedCount).toEqual(Array.from({ length: N + 1 }, (_, n) => tlog.storedHashCount(n)));
    for (const [key, index] of Object.entries(r.storedIndex!)) {
      const [level, n] = key.split("/").map(Number) as [number, number];
      expect(tlog.storedHashIndex(level, n), key).toBe(index);
    }
    for (const [index, [level, n]] of Object.entries(r.splitIndex!)) {
      expect(tlog.splitStoredHashIndex(Number(index)), index).toEqual({ level, index: n });
    }
  });

  goIt("tlog.CheckRecord accepts our inclusion proofs for every index of sizes 1..40 and refuses tampered ones", () => {
    const cases: Case[] = [];
    const want: boolean[] = [];
    const add = (c: Extract<Case, { kind: "inclusion" }>, ok: boolean, raw: { leaf: Uint8Array; proof: Uint8Array[]; root: Uint8Array }) => {
      cases.push(c);
      want.push(ok);
      // src/core agrees with every verdict.
      expect(tsAccepts(() => verifyInclusion(raw.leaf, c.index, c.size, raw.proof, raw.root)), JSON.stringify(c)).toBe(ok);
    };
    for (let size = 1; size <= N; size++) {
      const root = ROOTS[size]!;
      for (let index = 0; index < size; index++) {
        const leaf = HISTORY[index]!;
        const proof = inclusionProof(HISTORY.slice(0, size), index);
        const c = (l: Uint8Array, i: number, p: Uint8Array[], r: Uint8Array) =>
          ({ kind: "inclusion", leafHash: b64(l), index: i, size, proof: p.map(b64), root: b64(r) }) as const;
        add(c(leaf, index, proof, root), true, { leaf, proof, root });
        if (proof.length > 0) {
          const at = (index + size) % proof.length;
          const bad = proof.map((h, j) => (j === at ? flip(h, index) : h));
          add(c(leaf, index, bad, root), false, { leaf, proof: bad, root });
          const short = proof.slice(0, -1);
          add(c(leaf, index, short, root), false, { leaf, proof: short, root });
        }
        const long = [...proof, root];
        add(c(leaf, index, long, root), false, { leaf, proof: long, root });
        add(c(flip(leaf, size), index, proof, root), false, { leaf: flip(leaf, size), proof, root });
        add(c(leaf, index, proof, flip(root, index)), false, { leaf, proof, root: flip(root, index) });
        if (size > 1) {
          const other = (index + 1) % size;
          add(c(leaf, other, proof, root), false, { leaf, proof, root }); // right proof, wrong index
        }
      }
    }
    const results = go(cases);
    results.forEach((r, i) => expect(r.ok, `${JSON.stringify(cases[i])}: ${r.error}`).toBe(want[i]));
    expect(want.filter(Boolean)).toHaveLength((N * (N + 1)) / 2);
  });

  goIt("tlog.CheckTree accepts our consistency proofs for all 1 <= m <= n <= 40 and refuses tampered ones", () => {
    const cases: Case[] = [];
    const want: boolean[] = [];
    const add = (m: number, n: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: Uint8Array[], ok: boolean) => {
      const c: Case = { kind: "consistency", oldSize: m, newSize: n, oldRoot: b64(oldRoot), newRoot: b64(newRoot), proof: proof.map(b64) };
      cases.push(c);
      want.push(ok);
      expect(tsAccepts(() => verifyConsistency(m, n, oldRoot, newRoot, proof)), JSON.stringify(c)).toBe(ok);
    };
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(HISTORY.slice(0, n), m);
        const oldRoot = ROOTS[m]!;
        const newRoot = ROOTS[n]!;
        add(m, n, oldRoot, newRoot, proof, true);
        if (proof.length > 0) {
          const at = (m * 7 + n) % proof.length;
          add(m, n, oldRoot, newRoot, proof.map((h, j) => (j === at ? flip(h, m + n) : h)), false);
          add(m, n, oldRoot, newRoot, proof.slice(1), false);
        }
        add(m, n, oldRoot, newRoot, [...proof, newRoot], false);
        add(m, n, flip(oldRoot, n), newRoot, proof, false);
        add(m, n, oldRoot, flip(newRoot, m), proof, false);
        if (m < n) add(m, n, ROOTS[m + 1]!, newRoot, proof, false); // the proof for another old size
      }
    }
    const results = go(cases);
    results.forEach((r, i) => expect(r.ok, `${JSON.stringify(cases[i])}: ${r.error}`).toBe(want[i]));
    expect(want.filter(Boolean)).toHaveLength((N * (N + 1)) / 2);
  });

  goIt("cosignatures: Go ignores them as unknown keys, and refuses a tampered one once it knows the cosigner", async () => {
    const note = await checkpointNote(12, 3);
    const allKeys = [operator.verifierKey, ...memberKeys];
    const badSig = tamperSignature(note, 2, 4 + 8 + 17); // second cosigner's Ed25519 signature
    const badTime = tamperSignature(note, 1, 4 + 7); // first cosigner's timestamp
    const badOperator = tamperSignature(note, 0, 4 + 3);
    const [a, b, c, d, e] = go([
      { kind: "note", note: badSig, vkeys: [operator.verifierKey] },
      { kind: "note", note: badSig, vkeys: allKeys },
      { kind: "note", note: badTime, vkeys: allKeys },
      { kind: "note", note: badOperator, vkeys: [operator.verifierKey] },
      { kind: "note", note: note, vkeys: [memberKeys[0]!] }, // wrong: Go needs an Ed25519 (0x01) key to open it
    ]) as [GoResult, GoResult, GoResult, GoResult, GoResult];
    expect(a.ok).toBe(true);
    expect(await tsOpens(badSig, [operator.verifierKey])).toBe(true);
    expect(b).toMatchObject({ ok: false, error: expect.stringMatching(/^note.Open with cosigner keys: invalid signature for key m2\.example\+/) });
    expect(await tsOpens(badSig, allKeys)).toBe(false);
    expect(c).toMatchObject({ ok: false, error: expect.stringMatching(/invalid signature for key m1\.example\+/) });
    expect(await tsOpens(badTime, allKeys)).toBe(false);
    expect(d).toMatchObject({ ok: false, error: expect.stringMatching(/invalid signature for key/) });
    expect(await tsOpens(badOperator, [operator.verifierKey])).toBe(false);
    // With only a cosigner key, Go's own note.Open (Ed25519 keys) finds nothing
    // it knows; src/core, which knows type 0x04, opens it by the cosignature.
    expect(e).toMatchObject({ ok: false, error: expect.stringMatching(/no verifiable signatures/) });
    expect((await openNote(note, [memberKeys[0]!])).verified).toHaveLength(1);
  });

  goIt("submission entries and promises open in Go; receipts' proofs check with tlog", async () => {
    const chain = await buildChain([3, 1, 5, 2, 8]);
    const cases: Case[] = [];
    const checks: ((r: GoResult) => void)[] = [];
    const push = (c: Case, check: (r: GoResult) => void) => {
      cases.push(c);
      checks.push(check);
    };
    const opSigner = noteSigner(operator.signerKey);
    for (const [height, batch] of chain.entries.entries()) {
      for (const [index, entry] of batch.entries()) {
        const parsed = parseEntry(entry);
        push({ kind: "note", note: entry, vkeys: [client.verifierKey] }, (r) => {
          expect(r.error).toBeUndefined();
          expect(r.text).toBe(formatSubmission(parsed.submission));
          expect(r.sigs).toEqual([{ name: parsed.signer.name, keyId: keyIdOf(client.verifierKey) }]);
        });
        push({ kind: "note", note: tamperText(entry), vkeys: [client.verifierKey] }, (r) => expect(r.ok).toBe(false));
        const promise = { origin: ORIGIN, id: entryId(entry), receivedAt: T0 + height, deadline: T0 + height + 60 };
        const promiseNote = await signPromise(promise, opSigner);
        push({ kind: "note", note: promiseNote, vkeys: [operator.verifierKey] }, (r) => {
          expect(r.error).toBeUndefined();
          expect(r.text).toBe(formatPromise(promise));
        });
        const receipt = chain.receipts[height]![index]!;
        const block = parseBlockHeader(receipt.block);
        push(
          {
            kind: "inclusion",
            leafHash: b64(leafHash(utf8(receipt.entry))),
            index: receipt.inclusion.index,
            size: receipt.inclusion.size,
            proof: [...receipt.inclusion.path],
            root: b64(block.root),
          },
          (r) => expect(r.error).toBeUndefined(),
        );
        const checkpoint = parseCheckpoint((await openNote(receipt.checkpoint, [operator.verifierKey])).text);
        push(
          {
            kind: "inclusion",
            leafHash: b64(blockHash(receipt.block)),
            index: receipt.history.index,
            size: receipt.history.size,
            proof: [...receipt.history.path],
            root: b64(checkpoint.root),
          },
          (r) => expect(r.error).toBeUndefined(),
        );
        push({ kind: "note", note: receipt.checkpoint, vkeys: [operator.verifierKey, ...memberKeys] }, (r) => {
          expect(r.error).toBeUndefined();
          expect(r.sigs).toHaveLength(3);
        });
      }
    }
    go(cases).forEach((r, i) => checks[i]!(r));
  });

  goIt("the FORMATS.md worked examples open and check in Go", async () => {
    const v = await buildVectors();
    const [operatorKey, ...rest] = v.keys;
    const memberVkeys = rest.slice(0, 3).map((k) => k.verifierKey);
    const clientKey = rest[3]!.verifierKey;
    const cases: Case[] = [
      ...v.submissions.map((s) => ({ kind: "note", note: s.entry, vkeys: [clientKey] }) as const),
      { kind: "note", note: v.promise.note, vkeys: [operatorKey!.verifierKey] },
      { kind: "note", note: v.checkpoint.note, vkeys: [operatorKey!.verifierKey, ...memberVkeys] },
      { kind: "checkpoint", body: (await openNote(v.checkpoint.note, [operatorKey!.verifierKey])).text },
      {
        kind: "inclusion",
        leafHash: b64(fromHex(v.merkle.leafHashes[v.merkle.inclusion.index]!)),
        index: v.merkle.inclusion.index,
        size: v.merkle.inclusion.size,
        proof: v.merkle.inclusion.path,
        root: b64(fromHex(v.merkle.root)),
      },
      {
        kind: "consistency",
        oldSize: v.merkle.consistency.from,
        newSize: v.merkle.consistency.to,
        oldRoot: b64(fromHex(v.merkle.consistency.fromRoot)),
        newRoot: b64(fromHex(v.merkle.root)),
        proof: v.merkle.consistency.path,
      },
      { kind: "tree", leaves: v.merkle.leaves.map((l) => b64(utf8(l))) },
    ];
    const results = go(cases);
    for (const r of results) expect(r.error).toBeUndefined();
    expect(results[v.submissions.length + 2]).toMatchObject({ origin: v.trust.origin, root: v.checkpoint.historyRoot });
    expect(results.at(-1)!.leafHashes).toEqual(v.merkle.leafHashes.map((h) => b64(fromHex(h))));
    expect(results.at(-1)!.roots!.at(-1)).toBe(b64(fromHex(v.merkle.root)));
  });

  goIt("notes Go signs open with our openNote, and are byte for byte the notes we sign", async () => {
    const cases: Case[] = [];
    const ours: string[] = [];
    for (const [i, text] of TEXTS.entries()) {
      const key = ed25519Keys[i % ed25519Keys.length]!;
      cases.push({ kind: "sign", text, skey: key.signerKey });
      ours.push(await signNote(text, [noteSigner(key.signerKey)]));
    }
    const submission = { origin: ORIGIN, digest: sha256(utf8("a document")), time: T0, prev: sha256(utf8("prev")) };
    cases.push({ kind: "sign", text: formatSubmission(submission), skey: client.signerKey });
    ours.push(await signSubmission(submission, noteSigner(client.signerKey)));
    const texts = [...TEXTS, formatSubmission(submission)];
    const vkeys = [...TEXTS.map((_, i) => ed25519Keys[i % ed25519Keys.length]!.verifierKey), client.verifierKey];
    const results = go(cases);
    for (const [i, r] of results.entries()) {
      expect(r.error).toBeUndefined();
      expect(r.signed).toBe(ours[i]);
      expect((await openNote(r.signed!, [vkeys[i]!])).text).toBe(texts[i]);
    }
    const entry = parseEntry(results.at(-1)!.signed!);
    await verifyEntry(entry, client.verifierKey);
    expect(entry.submission.time).toBe(T0);
  });

  goIt("random texts and key names: Go and src/core sign the same bytes and agree on every verdict", async () => {
    const line = fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.string({ unit: "grapheme-composite", maxLength: 12 }), fc.string({ maxLength: 12 }));
    const texts = fc.sample(fc.array(line, { minLength: 1, maxLength: 4 }), { numRuns: 200, seed: 20251125 }).map((ls) => ls.join("\n") + "\n");
    const names = fc.sample(fc.string({ unit: "binary", minLength: 1, maxLength: 10 }).filter(isValidKeyName), { numRuns: 200, seed: 7 });
    const keys = names.map((name, i) => ({ name, ...generateKeyPair(name, sha256(utf8(`interop random key ${i}`))) }));
    const other = { name: "ключ.example", ...cyrillicKey };

    const ours: (string | undefined)[] = [];
    const oursDouble: (string | undefined)[] = [];
    for (const [i, text] of texts.entries()) {
      const key = keys[i]!;
      ours.push(await signNote(text, [noteSigner(key.signerKey)]).catch(() => undefined));
      oursDouble.push(await signNote(text, [noteSigner(other.signerKey), noteSigner(key.signerKey)]).catch(() => undefined));
    }
    // Go's note.Sign does not check the text; note.Open does. src/core checks both.
    const signed = go(texts.map((text, i) => ({ kind: "sign", text, skey: keys[i]!.signerKey }) as const));
    const opened = go(
      texts.flatMap((_, i) => [
        { kind: "note", note: signed[i]!.signed!, vkeys: [keys[i]!.verifierKey] } as const,
        { kind: "note", note: oursDouble[i] ?? signed[i]!.signed!, vkeys: [keys[i]!.verifierKey] } as const,
      ]),
    );
    let valid = 0;
    for (const [i, text] of texts.entries()) {
      const key = keys[i]!;
      const goNote = signed[i]!.signed!;
      const [goOpensGo, goOpensOurs] = [opened[2 * i]!, opened[2 * i + 1]!];
      expect(signed[i]!.error).toBeUndefined();
      expect(goOpensGo.ok, JSON.stringify(text)).toBe(await tsOpens(goNote, [key.verifierKey]));
      expect(goOpensGo.ok, JSON.stringify(text)).toBe(ours[i] !== undefined);
      if (ours[i] === undefined) continue;
      valid++;
      expect(goNote).toBe(ours[i]);
      expect(goOpensGo.text).toBe(text);
      expect(goOpensOurs).toMatchObject({ ok: true, text, sigs: [{ name: key.name, keyId: keyIdOf(key.verifierKey) }] });
      expect(goOpensOurs.unverified).toEqual([{ name: other.name, keyId: keyIdOf(other.verifierKey) }]);
    }
    expect(valid).toBeGreaterThan(texts.length / 2);
  });

  goIt("checkpoints Go signs and cosigns (as a Go witness would) are byte for byte ours", async () => {
    const cases: Case[] = [];
    const ours: string[] = [];
    for (const size of [1, 2, 3, 17, 40]) {
      const body = formatCheckpoint({ origin: ORIGIN, size, root: ROOTS[size]! });
      const cosigners = members.map((m, i) => ({ skey: m.signerKey, time: T0 + size + i }));
      cases.push({ kind: "sign", text: body, skey: operator.signerKey, cosigners });
      let note = await signNote(body, [noteSigner(operator.signerKey)]);
      for (const [i, m] of members.entries()) note = await cosign(note, memberSeeds[i]!, m.name, T0 + size + i);
      ours.push(note);
    }
    const results = go(cases);
    for (const [i, r] of results.entries()) {
      expect(r.error).toBeUndefined();
      expect(r.signed).toBe(ours[i]);
      const opened = await openNote(r.signed!, [operator.verifierKey, ...memberKeys]);
      expect(opened.verified.map((s) => s.timestamp)).toEqual([undefined, ...members.map((_, j) => T0 + [1, 2, 3, 17, 40][i]! + j)]);
    }
  });
});
