/**
 * `npm run screenshots [-- --out DIR]`: pictures of the explorer and of the
 * verify page for the README, taken from the embedded default itself (the
 * operator and three member witnesses as processes, in a temporary data
 * dir, on free loopback ports) in Debian's headless Chromium driven by
 * playwright-core, as test/pages/ does. Three documents are anchored by the
 * dev client; the verify page checks one of them against the trust the
 * consortium publishes, picked as a file as a person would.
 *
 * Writes DIR/explorer.png and DIR/verify.png (default docs/screenshots/).
 * The pictures change from run to run (times, keys, hashes): they show what
 * the pages look like, and nothing checks their pixels.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { CairnClient } from "../src/client/index.js";
import { utf8 } from "../src/core/bytes.js";
import { startNode } from "../src/runtime/node.js";
import { silentLogger } from "../src/service/log.js";

const CHROMIUM = process.env.CAIRN_CHROMIUM ?? "/usr/bin/chromium";
const WIDTH = 1100;

function outDir(argv: readonly string[]): string {
  const at = argv.indexOf("--out");
  if (at === -1) return resolve("docs", "screenshots");
  const dir = argv[at + 1];
  if (dir === undefined || dir.startsWith("--")) throw new Error("--out needs a directory");
  return resolve(dir);
}

const DOCUMENTS = [
  "Deed of sale, parcel 12-0043, signed 14 May 2026\n",
  "Board minutes, 3 November 2026: the audit committee's report is adopted\n",
  "Certificate of incorporation no. 2026-118734\n",
];

async function main(): Promise<void> {
  const out = outDir(process.argv.slice(2));
  mkdirSync(out, { recursive: true });
  const data = mkdtempSync(join(tmpdir(), "cairn-screenshots-"));
  const node = await startNode({ env: { CAIRN_DATA_DIR: data, CAIRN_SEAL_INTERVAL: "300ms" }, port: 0, durability: "normal", log: silentLogger });
  try {
    const client = new CairnClient({ server: node.url, key: readFileSync(node.dev!.clientKeyFile, "utf8").trim() });
    const receipts = [];
    // One block each, so that the explorer has a few to list.
    for (const text of DOCUMENTS) {
      const { prepared } = await client.anchor(utf8(text));
      receipts.push(await client.waitForReceipt(prepared, { timeoutMs: 30_000 }));
    }
    const trust = await (await fetch(`${node.url}/v1/trust`)).text();

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1 });
      await page.goto(`${node.url}/`);
      await page.locator("#blocks table").waitFor();
      await page.locator("#consortium").filter({ hasText: "✓ cosigned" }).waitFor();
      await page.screenshot({ path: join(out, "explorer.png"), fullPage: true });

      await page.goto(`${node.url}/verify`);
      await page.setInputFiles('input[name="document"]', { name: "deed.txt", mimeType: "text/plain", buffer: Buffer.from(DOCUMENTS[0]!) });
      await page.setInputFiles('input[name="receipt"]', { name: "deed.txt.cairn.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(receipts[0], null, 2)) });
      await page.setInputFiles('input[name="trust"]', { name: "trust.json", mimeType: "application/json", buffer: Buffer.from(trust) });
      await page.getByRole("button", { name: "Verify", exact: true }).click();
      const verdict = await page.locator("#verdict[data-verdict]").getAttribute("data-verdict");
      if (verdict !== "ok") throw new Error(`the verify page said ${verdict} of a good receipt: not a picture for the README`);
      await page.screenshot({ path: join(out, "verify.png"), fullPage: true });
    } finally {
      await browser.close();
    }
    console.log(`wrote ${join(out, "explorer.png")} and ${join(out, "verify.png")}`);
  } finally {
    await node.close();
    rmSync(data, { recursive: true, force: true });
  }
}

await main();
