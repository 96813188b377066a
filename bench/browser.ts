/**
 * The verifier in a browser (issue 12.6): receipts verified per second in
 * Debian's headless Chromium (playwright-core, as test/pages/ drives it),
 * with src/core bundled by esbuild as the verify page bundles it, next to
 * Node in the same run; v1 receipts (Ed25519 cosignatures, trust v1) and
 * v2 (trust v2 with pqQuorum 2: the checkpoint also carries three ML-DSA-44
 * cosignatures, of which two must verify). The receipts are bench/core.ts's
 * fixture. In the page, Ed25519 runs on Chromium's WebCrypto (core probes
 * it, and uses @noble/curves where it cannot) and ML-DSA-44 on
 * @noble/post-quantum; in Node, on node:crypto as
 * every Cairn process installs it.
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { ReceiptVerifier, toHex, verifyReceipt } from "../src/core/index.js";
import { installNodeEd25519 } from "../src/runtime/node-ed25519.js";
import { ROOT } from "../scripts/wrangler.js";
import { receiptFixture, type ReceiptFixture } from "./core.js";
import { defineSuite, formatRate, type SuiteContext } from "./harness.js";

const CHROMIUM = process.env.CAIRN_CHROMIUM ?? "/usr/bin/chromium";

/** What runs in the page: both ways of verifying, each for `ms` of wall time, one receipt at a time. */
const PAGE_SCRIPT = `
import { fromHex, ReceiptVerifier, verifyReceipt } from "./src/core/index.ts";
import { ed25519WebCryptoAvailable } from "./src/core/ed25519.ts";
globalThis.cairnBackend = async () => ((await ed25519WebCryptoAvailable()) ? "WebCrypto" : "noble");
globalThis.cairnBench = async (receipts, trust, digestsHex, reuse, ms) => {
  const digests = digestsHex.map((h) => fromHex(h));
  const verifier = new ReceiptVerifier(trust);
  const once = (i) => (reuse ? verifier.verify(receipts[i], { digest: digests[i] }) : verifyReceipt(receipts[i], trust, { digest: digests[i] }));
  for (let i = 0; i < 50; i++) await once(i % receipts.length); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) await once(n++ % receipts.length);
  return { n, ms: performance.now() - t0 };
};
`;

async function pageBundle(): Promise<string> {
  const out = await build({ stdin: { contents: PAGE_SCRIPT, resolveDir: ROOT, loader: "ts" }, bundle: true, format: "iife", platform: "browser", target: "es2022", write: false, minify: true });
  return out.outputFiles[0]!.text;
}

async function nodeRate(fx: ReceiptFixture, reuse: boolean, ms: number): Promise<number> {
  const verifier = new ReceiptVerifier(fx.trust);
  const once = (i: number) => (reuse ? verifier.verify(fx.receipts[i]!, { digest: fx.digests[i]! }) : verifyReceipt(fx.receipts[i]!, fx.trust, { digest: fx.digests[i]! }));
  for (let i = 0; i < 50; i++) await once(i % fx.receipts.length);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) await once(n++ % fx.receipts.length);
  return (n * 1000) / (performance.now() - t0);
}

async function run(ctx: SuiteContext): Promise<void> {
  const ms = 3000 * ctx.timeScale;
  const fixtures = { v1: await receiptFixture(), v2: await receiptFixture({ v2: true }) };
  for (const [name, fx] of Object.entries(fixtures)) {
    const r = await verifyReceipt(fx.receipts[0]!, fx.trust, { digest: fx.digests[0]! });
    if (r.steps.some((s) => s.status !== "ok")) throw new Error(`${name} fixture receipt does not verify: ${JSON.stringify(r.steps)}`);
  }
  ctx.section(`Receipts verified per second, one at a time, ${formatRate(ms / 1000)} s each (receipt of bench/core.ts: ${fixtures.v1.receipts[0]!.length} bytes v1, ${fixtures.v2.receipts[0]!.length} bytes v2)`);

  installNodeEd25519();
  const rows: string[] = [];
  const node: Record<string, number> = {};
  for (const [name, fx] of Object.entries(fixtures)) {
    node[`${name} once`] = await nodeRate(fx, false, ms);
    node[`${name} reused`] = await nodeRate(fx, true, ms);
  }

  const page: Record<string, number> = {};
  if (!existsSync(CHROMIUM)) {
    ctx.note(`no Chromium at ${CHROMIUM} (install Debian's chromium, or set CAIRN_CHROMIUM): the browser figures are left out`);
  } else {
    const script = await pageBundle();
    ctx.note(`page script: src/core's verifier bundled by esbuild, ${(script.length / 1024).toFixed(1)} KiB minified`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    try {
      // Served from 127.0.0.1 as the verify page is: a secure context, where WebCrypto (and its Ed25519) exists.
      const server = createServer((req, res) => {
        if (req.url === "/bench.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(script);
        else res.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><script src="/bench.js"></script>');
      });
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      const p = await browser.newPage();
      await p.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      server.close();
      for (const [name, fx] of Object.entries(fixtures)) {
        for (const reuse of [false, true]) {
          const digests = fx.digests.map(toHex);
          const r = await p.evaluate(([receipts, trust, d, reuse, ms]) => (globalThis as unknown as { cairnBench: (...a: unknown[]) => Promise<{ n: number; ms: number }> }).cairnBench(receipts, trust, d, reuse, ms), [fx.receipts, fx.trust, digests, reuse, ms] as const);
          page[`${name} ${reuse ? "reused" : "once"}`] = (r.n * 1000) / r.ms;
        }
      }
      const backend = await p.evaluate(() => (globalThis as unknown as { cairnBackend: () => Promise<string> }).cairnBackend());
      ctx.note(`Chromium ${browser.version()}, Ed25519 in the page on ${backend}`);
    } finally {
      await browser.close();
    }
  }
  rows.push("| receipts | how | Node (node:crypto Ed25519) | Chromium |", "| --- | --- | --- | --- |");
  for (const name of ["v1", "v2"]) {
    for (const [how, label] of [["once", "verifyReceipt, one-shot"], ["reused", "one ReceiptVerifier reused"]] as const) {
      const b = page[`${name} ${how}`];
      rows.push(`| ${name} | ${label} | ${formatRate(node[`${name} ${how}`]!)}/s | ${b === undefined ? "—" : `${formatRate(b)}/s`} |`);
    }
  }
  for (const r of rows) ctx.note(r);
}

export default defineSuite({
  name: "browser",
  description: "receipts verified per second in headless Chromium (the verify page's core) and in Node, v1 and v2 (ML-DSA-44) receipts",
  run,
});
