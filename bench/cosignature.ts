/**
 * Cosignature suite: what a witness's ML-DSA-44 cosignature (C2SP
 * tlog-cosignature type 0x06, src/core/mldsa-cosignature.ts) costs next to
 * its Ed25519 cosignature/v1 (type 0x04): key generation, cosigning and
 * verifying one checkpoint, the bytes one cosignature line adds to a note,
 * and opening a checkpoint with three cosignatures as a receipt verifier does.
 *
 * Ed25519 is timed twice: on the backend a library user gets (WebCrypto),
 * then on node:crypto, which every Cairn Node process installs at start. The
 * install cannot be undone, so it happens last, and this suite runs after
 * the others in run.ts. ML-DSA-44 is pure JS (@noble/post-quantum) on every
 * runtime. Every result is checked; nothing asserts on timings.
 */
import {
  cosign,
  cosignatureVerifier,
  cosigner,
  ed25519PublicKey,
  formatCheckpoint,
  generateKeyPair,
  KEY_TYPE_COSIGNATURE_MLDSA44,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  mldsa44PublicKey,
  mldsaCosign,
  mldsaCosignatureVerifier,
  mldsaCosigner,
  noteSigner,
  openNote,
  sha256,
  signNote,
  utf8,
  type NoteVerifier,
} from "../src/core/index.js";
import { ed25519Backend } from "../src/core/ed25519.js";
import { installNodeEd25519 } from "../src/runtime/node-ed25519.js";
import { defineSuite, formatRate, type SuiteContext } from "./harness.js";

const ORIGIN = "bench.example/log";
const T = 1_800_000_000;
// Names of one length, so the line sizes differ by the signatures alone.
const ED_NAME = "ed.bench.example/w";
const PQ_NAME = "pq.bench.example/w";
const seedOf = (label: string) => sha256(utf8(label));

async function fixture() {
  const operator = generateKeyPair(ORIGIN, seedOf("bench operator"), KEY_TYPE_ED25519);
  // A checkpoint of a million-block history: a realistic size line.
  const body = formatCheckpoint({ origin: ORIGIN, size: 1_000_000, root: seedOf("bench root") });
  const note = await signNote(body, [noteSigner(operator.signerKey)]);
  return { operator, body, text: utf8(body), note };
}

function lineBytes(before: string, after: string): number {
  return utf8(after).length - utf8(before).length;
}

async function edFigures(ctx: SuiteContext, fx: Awaited<ReturnType<typeof fixture>>, label: string): Promise<number> {
  const seed = seedOf("bench ed witness");
  const vkey = generateKeyPair(ED_NAME, seed, KEY_TYPE_COSIGNATURE_V1).verifierKey;
  const signer = cosigner(seed, ED_NAME, T);
  const verifier = cosignatureVerifier(vkey);
  const sig = await signer.sign(fx.text);
  if (!(await verifier.verify(fx.text, sig)).ok) throw new Error("Ed25519 cosignature self-check failed");
  await ctx.bench(`Ed25519 keygen (public key from seed)`, () => ed25519PublicKey(seed));
  await ctx.bench(`Ed25519 cosign one checkpoint, ${label}`, () => signer.sign(fx.text));
  const r = await ctx.bench(`Ed25519 verify one cosignature, ${label}`, async () => {
    if (!(await verifier.verify(fx.text, sig)).ok) throw new Error("Ed25519 cosignature failed");
  });
  return r.opsPerSec;
}

export default defineSuite({
  name: "cosignature",
  description: "ML-DSA-44 (type 0x06) vs Ed25519 (type 0x04) cosignatures: keygen, cosign, verify, bytes per note line",
  async run(ctx) {
    const fx = await fixture();

    ctx.section("ML-DSA-44 cosignatures (type 0x06, @noble/post-quantum, pure JS)");
    const seed = seedOf("bench pq witness");
    const vkey = generateKeyPair(PQ_NAME, seed, KEY_TYPE_COSIGNATURE_MLDSA44).verifierKey;
    const hedged = mldsaCosigner(seed, PQ_NAME, T);
    const verifier = mldsaCosignatureVerifier(vkey);
    const sig = await hedged.sign(fx.text);
    if (!(await verifier.verify(fx.text, sig)).ok) throw new Error("ML-DSA-44 cosignature self-check failed");
    await ctx.bench("ML-DSA-44 keygen (public key from seed)", () => mldsa44PublicKey(seed));
    // ML-DSA signing is a rejection loop (4.25 rounds on average for
    // ML-DSA-44), so single calls vary widely: p50/p99 say how much. Only the
    // hedged default is timed: deterministic signing of one fixed message
    // repeats one fixed round count, which says nothing about the average.
    await ctx.bench("ML-DSA-44 cosign one checkpoint (hedged, the default)", () => hedged.sign(fx.text), { latency: true, minTime: 3000 });
    const pqVerify = await ctx.bench("ML-DSA-44 verify one cosignature", async () => {
      if (!(await verifier.verify(fx.text, sig)).ok) throw new Error("ML-DSA-44 cosignature failed");
    });

    ctx.section("Ed25519 cosignatures (type 0x04, cosignature/v1)");
    const webBackend = await ed25519Backend();
    const edWeb = await edFigures(ctx, fx, webBackend);

    ctx.section("Bytes a cosignature line adds to a note");
    const edNote = await cosign(fx.note, seedOf("bench ed witness"), ED_NAME, T);
    const pqNote = await mldsaCosign(fx.note, seed, PQ_NAME, T);
    const edLine = lineBytes(fx.note, edNote);
    const pqLine = lineBytes(fx.note, pqNote);
    ctx.note(
      `checkpoint note (text + operator signature): ${utf8(fx.note).length} bytes; names of ${ED_NAME.length} bytes\n` +
        `Ed25519 line:   ${edLine} bytes (4 key id + 8 timestamp + 64 signature = 76 bytes, base64, "— name " and LF)\n` +
        `ML-DSA-44 line: ${pqLine} bytes (4 key id + 8 timestamp + 2420 signature = 2432 bytes, base64, "— name " and LF), ${(pqLine / edLine).toFixed(1)}×\n` +
        `3 cosignatures: ${utf8(fx.note).length + 3 * edLine} bytes (Ed25519) vs ${utf8(fx.note).length + 3 * pqLine} bytes (ML-DSA-44) per checkpoint note`,
    );

    ctx.section("Opening a checkpoint: operator + 3 member cosignatures (openNote, as ReceiptVerifier does)");
    const members = [1, 2, 3].map((i) => ({ name: `m${i}.bench.example`, seed: seedOf(`bench member ${i}`) }));
    let edCheckpoint = fx.note;
    let pqCheckpoint = fx.note;
    for (const m of members) {
      edCheckpoint = await cosign(edCheckpoint, m.seed, m.name, T);
      pqCheckpoint = await mldsaCosign(pqCheckpoint, m.seed, m.name, T);
    }
    const edKeys = [fx.operator.verifierKey, ...members.map((m) => generateKeyPair(m.name, m.seed, KEY_TYPE_COSIGNATURE_V1).verifierKey)];
    const pqKeys = [fx.operator.verifierKey, ...members.map((m) => generateKeyPair(m.name, m.seed, KEY_TYPE_COSIGNATURE_MLDSA44).verifierKey)];
    const edVerifiers = edKeys.map((k) => (k === fx.operator.verifierKey ? k : cosignatureVerifier(k)));
    const pqVerifiers = pqKeys.map((k) => (k === fx.operator.verifierKey ? k : mldsaCosignatureVerifier(k)));
    const opens = async (note: string, vs: readonly (string | NoteVerifier)[]) => {
      const n = await openNote(note, vs);
      if (n.verified.length !== 4) throw new Error(`expected 4 verified signatures, got ${n.verified.length}`);
    };
    await ctx.bench(`Ed25519 cosignatures (${webBackend}), note of ${utf8(edCheckpoint).length} bytes`, () => opens(edCheckpoint, edVerifiers));
    await ctx.bench(`ML-DSA-44 cosignatures, note of ${utf8(pqCheckpoint).length} bytes`, () => opens(pqCheckpoint, pqVerifiers));

    ctx.section("Ed25519 cosignatures on node:crypto (what Cairn's Node processes install)");
    if (!installNodeEd25519()) {
      ctx.note("node:crypto Ed25519 failed core's probe here; figures above are the ones in force");
      return;
    }
    const edNative = await edFigures(ctx, fx, await ed25519Backend());
    ctx.note(
      `verify: ML-DSA-44 ${formatRate(pqVerify.opsPerSec)}/s vs Ed25519 ${formatRate(edWeb)}/s (${webBackend}), ` +
        `${formatRate(edNative)}/s (node:crypto): ML-DSA-44 is ${(edWeb / pqVerify.opsPerSec).toFixed(1)}× / ${(edNative / pqVerify.opsPerSec).toFixed(1)}× slower`,
    );
  },
});
