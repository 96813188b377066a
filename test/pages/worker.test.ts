/**
 * The pages served by the built Worker in workerd (Miniflare, the bundle
 * `wrangler deploy --dry-run` makes), with a D1 primary and three member
 * witnesses: the same assets as on Node, under the same CSP; the verify page
 * checks a receipt in the browser against a pinned trust file, refuses
 * another document, sends neither the document nor its digest, and keeps
 * working offline; the explorer reads the Worker's checkpoint and blocks.
 */
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, toBase64, toHex, type Trust } from "../../src/core/index.js";
import { PAGE_ASSETS } from "../../src/http/pages-assets.generated.js";
import { PAGES_CSP } from "../../src/http/routes/pages.js";
import { anchor, document as testDocument, makeWitnesses, memberKey, memberName, operatorVerifierKey, ORIGIN, registerClient, settings, startWorkerd, submission, type Workerd } from "../worker/harness.js";
import { haveBrowser, launchBrowser, recordingPage, textWhen } from "./browser.js";

let w: Workerd;
let browser: Browser;
let context: BrowserContext;
const doc = testDocument("a licence checked in a browser, served by the Worker");
let receipt: unknown;

/** Pinned from the keys, not read from the server. */
const trust: Trust = {
  version: "cairn-trust/v1",
  origin: ORIGIN,
  operatorKeys: [operatorVerifierKey()],
  members: [1, 2, 3].map((i) => ({ name: memberName(i), key: memberKey(i) })),
  quorum: 2,
};

beforeAll(async () => {
  if (!haveBrowser) return;
  const witnesses = await makeWitnesses(3);
  // Sealed by the cron trigger only, so the test decides when.
  w = await startWorkerd([{ name: "cairn", bindings: settings(witnesses, { CAIRN_SEAL_INTERVAL: "3600" }) }], { witnesses });
  const client = await registerClient(w);
  const { body } = await anchor(w, await submission(client, doc));
  expect(await w.scheduled()).toMatchObject({ outcome: "ok" });
  const res = await w.request(`/v1/anchors/${body.id}/receipt`);
  expect(res.status).toBe(200);
  receipt = await res.json();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 375, height: 800 } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe.skipIf(!haveBrowser)("the pages on the Worker", () => {
  it("are the same assets, under the same CSP", async () => {
    for (const path of Object.keys(PAGE_ASSETS)) {
      const res = await w.request(path);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toBe(PAGE_ASSETS[path]!.body);
      if (PAGE_ASSETS[path]!.kind === "page") expect(res.headers.get("content-security-policy")).toBe(PAGES_CSP);
    }
  });

  it("/verify checks a receipt in the browser; another document fails; nothing sent carries the document or its digest; offline it still verifies", async () => {
    const { page, requests } = await recordingPage(context);
    await page.goto(`${w.url}/verify`);
    const pick = async (file: Uint8Array) => {
      await page.setInputFiles('input[name="document"]', { name: "licence.txt", mimeType: "text/plain", buffer: Buffer.from(file) });
      await page.setInputFiles('input[name="receipt"]', { name: "licence.txt.cairn.json", mimeType: "application/json", buffer: json(receipt) });
      await page.setInputFiles('input[name="trust"]', { name: "trust.json", mimeType: "application/json", buffer: json(trust) });
      await page.getByRole("button", { name: "Verify", exact: true }).click();
      const verdict = page.locator("#verdict[data-verdict]");
      await verdict.waitFor();
      return verdict;
    };
    const ok = await pick(doc);
    expect(await ok.getAttribute("data-verdict")).toBe("ok");
    expect(await textWhen(ok, "Verified")).toContain("Checked against your trust file trust.json");
    expect(await page.locator('#steps li[data-state="ok"]').count()).toBe(8);

    const other = await pick(testDocument("another licence"));
    expect(await other.getAttribute("data-verdict")).toBe("fail");
    expect(await other.getAttribute("data-failed-step")).toBe("digest");

    const before = requests.length;
    await context.setOffline(true);
    try {
      expect(await (await pick(doc)).getAttribute("data-verdict")).toBe("ok");
    } finally {
      await context.setOffline(false);
    }
    expect(requests.slice(before)).toEqual([]);

    const digest = sha256(doc);
    const needles = [toHex(digest), toBase64(digest), Buffer.from(doc).toString("utf8").trim()];
    for (const r of requests) {
      expect(r.method, r.url).toBe("GET");
      for (const n of needles) {
        expect(decodeURIComponent(r.url).includes(n), r.url).toBe(false);
        expect(r.body?.includes(n) ?? false, r.url).toBe(false);
      }
    }
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(375);
    await page.close();
  });

  it("the explorer shows the Worker's latest checkpoint, its cosigners and its blocks", async () => {
    const page = await context.newPage();
    await page.goto(`${w.url}/`);
    // The client's registration and the anchor, sealed by one cron run.
    expect(await textWhen(page.locator("[data-checkpoint-size]"), "1 block")).toBe("1 block");
    for (const i of [1, 2, 3]) expect(await textWhen(page.locator("#checkpoint"), memberName(i))).toContain(memberName(i));
    await page.locator('#blocks a[href="#block/0"]').click();
    await page.locator('[data-entries="members-only"]').waitFor();
    await page.close();
  });
});
