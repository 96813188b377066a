/**
 * The pages in a real browser (headless Chromium, ./browser.ts) against a
 * real Cairn on 127.0.0.1 (test/service/harness.ts: the operator and three
 * member witnesses), on a clock at the real time so that the browser's own
 * clock accepts the cosignatures' times.
 *
 * /verify: a document, its receipt and a pinned trust file verify; another
 * document, a tampered receipt and a forged trust file each fail, naming the
 * step; without a trust file the server's published trust is used and said
 * to be unpinned. Every request the page makes is recorded, and none carries
 * the document or its digest; with the network gone it verifies still.
 * The explorer shows what anyone may read and says so where it stops.
 * Both fit a 375 px screen and work from the keyboard. No assertion is on
 * time; waits are playwright's own.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CairnClient } from "../../src/client/index.js";
import { fromBase64, generateKeyPair, KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, sha256, toBase64, toHex, trustFingerprint, utf8, verifyReceipt, type ReceiptJson, type TrustV1 } from "../../src/core/index.js";
import { ADMIN_TOKEN, registerClient, sealFully, startCluster, TestClock, type Cluster } from "../service/harness.js";
import { attributeWhen, haveBrowser, launchBrowser, recordingPage, textWhen, type Recorded } from "./browser.js";

let cluster: Cluster;
let browser: Browser;
let trust: TrustV1;
let client: CairnClient;
const doc = utf8("Deed of sale, parcel 12-0043, signed 14 May 2026\n");
let receipt: ReceiptJson;
let entryId: string;

beforeAll(async () => {
  if (!haveBrowser) return;
  cluster = await startCluster({ clock: new TestClock(Math.floor(Date.now() / 1000)) });
  const keys = await registerClient(cluster);
  client = new CairnClient({ server: cluster.url, key: keys.signerKey });
  const { prepared } = await client.anchor(doc);
  entryId = prepared.id;
  await sealFully(cluster);
  receipt = (await client.receipt(prepared))!;
  trust = (await (await fetch(`${cluster.url}/v1/trust`)).json()) as TrustV1;
  browser = await launchBrowser();
}, 120_000);
/** Set once the last test has taken the server down. */
let serverDown = false;
afterAll(async () => {
  await browser?.close();
  if (!serverDown) await cluster?.close();
});

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));

interface Picks {
  readonly document?: Uint8Array;
  readonly digest?: string;
  readonly receipt: unknown;
  readonly trust?: unknown;
}

/** Picks the files as a person would, presses Verify, and returns the verdict once there is one. */
async function verifyWith(page: Page, picks: Picks) {
  if (picks.document !== undefined) await page.setInputFiles('input[name="document"]', { name: "deed.txt", mimeType: "text/plain", buffer: Buffer.from(picks.document) });
  if (picks.digest !== undefined) await page.getByLabel("Or its SHA-256 digest").fill(picks.digest);
  await page.setInputFiles('input[name="receipt"]', { name: "deed.txt.cairn.json", mimeType: "application/json", buffer: json(picks.receipt) });
  if (picks.trust !== undefined) await page.setInputFiles('input[name="trust"]', { name: "trust.json", mimeType: "application/json", buffer: json(picks.trust) });
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  const verdict = page.locator("#verdict[data-verdict]");
  await verdict.waitFor();
  return verdict;
}

/** The requests that carry the document's bytes or its digest (hex, base64, base64url), in their URL or body. */
function leaks(requests: readonly Recorded[], document: Uint8Array): Recorded[] {
  const digest = sha256(document);
  const b64 = toBase64(digest);
  const needles = [Buffer.from(document).toString("utf8").trim(), toHex(digest), b64, b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), encodeURIComponent(b64)];
  return requests.filter((r) => {
    const url = decodeURIComponent(r.url);
    if (needles.some((n) => r.url.includes(n) || url.includes(n))) return true;
    return r.body !== null && (r.body.includes(Buffer.from(document)) || needles.some((n) => r.body!.includes(n)));
  });
}

/** Another key pair under each name: what someone forging a trust document for this log would hand out. */
function forgedTrust(real: TrustV1): TrustV1 {
  const seed = (label: string) => sha256(utf8(`forged ${label}`));
  return {
    ...real,
    operatorKeys: [generateKeyPair(real.origin, seed("operator"), KEY_TYPE_ED25519).verifierKey],
    members: real.members.map((m) => ({ name: m.name, key: generateKeyPair(m.name, seed(m.name), KEY_TYPE_COSIGNATURE_V1).verifierKey })),
  };
}

async function fits375(page: Page): Promise<number> {
  return page.evaluate(() => document.scrollingElement!.scrollWidth);
}

describe.skipIf(!haveBrowser)("the verify page, on Node", () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  });
  afterAll(() => context?.close());

  it("serves itself under a strict Content-Security-Policy, from this origin only", async () => {
    const res = await fetch(`${cluster.url}/verify`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    // No inline script, no inline handler, nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("verifies a document, its receipt and a pinned trust file, step by step, with the proven interval; nothing sent carries the document or its digest; and again offline", async () => {
    const { page, requests, console: messages } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    const verdict = await verifyWith(page, { document: doc, receipt, trust });
    expect(await verdict.getAttribute("data-verdict")).toBe("ok");
    const { interval } = await verifyReceipt(receipt, trust, { document: doc });
    const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(await textWhen(verdict, "Verified: this document existed, exactly as you have it, by")).toContain("Verified: this document existed, exactly as you have it, by");
    const words = await textWhen(verdict, "Verified");
    expect(words).toContain("Anchored between ");
    expect(words).toContain(`(${iso(interval.from)}), when app.test dated its entry, and `);
    expect(words).toContain(`(${iso(interval.by)}), by when `);
    expect(await textWhen(verdict, "Checked against your trust file trust.json")).toContain("Checked against your trust file trust.json");
    const steps = page.locator("#steps li");
    expect(await steps.evaluateAll((items) => items.map((li) => [li.getAttribute("data-step"), li.getAttribute("data-state")]))).toEqual([
      ["receipt", "ok"],
      ["digest", "ok"],
      ["entry-signature", "ok"],
      ["inclusion", "ok"],
      ["history", "ok"],
      ["checkpoint-signature", "ok"],
      ["cosignatures", "ok"],
      ["time", "ok"],
    ]);
    expect(await textWhen(steps.first(), "✓")).toContain("✓");
    // The digest is shown to the person, on this page, and nowhere else.
    expect(await textWhen(page.locator("#document-digest"), toHex(sha256(doc)))).toContain(toHex(sha256(doc)));

    // The network goes; the page, loaded, needs none of it.
    const before = requests.length;
    await context.setOffline(true);
    try {
      await page.getByRole("button", { name: "Verify", exact: true }).click();
      await page.locator("#verdict[data-verdict]").waitFor();
      expect(await page.locator("#verdict").getAttribute("data-verdict")).toBe("ok");
      const again = await verifyWith(page, { document: doc, receipt, trust });
      expect(await again.getAttribute("data-verdict")).toBe("ok");
      expect(requests.slice(before)).toEqual([]);
    } finally {
      await context.setOffline(false);
    }

    expect(leaks(requests, doc)).toEqual([]);
    const origin = new URL(cluster.url).origin;
    for (const r of requests) {
      expect(r.method, r.url).toBe("GET");
      expect(new URL(r.url).origin, r.url).toBe(origin);
      expect(new URL(r.url).pathname, r.url).toMatch(/^\/(verify|verify-sw\.js|v1\/trust|assets\/[\w.-]+)$/);
    }
    expect(messages.filter((m) => /Content Security Policy|pageerror/i.test(m))).toEqual([]);
    expect(await fits375(page)).toBeLessThanOrEqual(375);
    await page.close();
  });

  it("a different document fails at the digest step, and the verdict names it", async () => {
    const { page, requests } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    const other = utf8("Deed of sale, parcel 12-0044, signed 14 May 2026\n");
    const verdict = await verifyWith(page, { document: other, receipt, trust });
    expect(await verdict.getAttribute("data-verdict")).toBe("fail");
    expect(await verdict.getAttribute("data-failed-step")).toBe("digest");
    expect(await textWhen(verdict, "Not verified: the receipt is for another document")).toContain("Not verified: the receipt is for another document");
    expect(await textWhen(verdict, "DIGEST_MISMATCH")).toContain("DIGEST_MISMATCH");
    await attributeWhen(page.locator('#steps li[data-step="receipt"]'), "data-state", "ok");
    await attributeWhen(page.locator('#steps li[data-step="digest"]'), "data-state", "fail");
    expect(await textWhen(page.locator('#steps li[data-step="digest"]'), "✗")).toContain("✗");
    await attributeWhen(page.locator('#steps li[data-step="inclusion"]'), "data-state", "not-run");
    expect(leaks(requests, other)).toEqual([]);
    expect(leaks(requests, doc)).toEqual([]);
    await page.close();
  });

  it("a tampered receipt fails at the step that catches it", async () => {
    const { page } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    // One bit of the block's place in the history tree, flipped.
    const path = receipt.history.path.length > 0 ? receipt.history.path : undefined;
    const tampered = path
      ? { ...receipt, history: { ...receipt.history, path: [flip(path[0]!), ...path.slice(1)] } }
      : { ...receipt, block: receipt.block.replace(/\n(\d+)\n$/, (_, t: string) => `\n${Number(t) + 1}\n`) };
    const verdict = await verifyWith(page, { document: doc, receipt: tampered, trust });
    expect(await verdict.getAttribute("data-verdict")).toBe("fail");
    expect(await verdict.getAttribute("data-failed-step")).toBe("history");
    await page.close();
  });

  it("a forged trust file (the same names, other keys) fails at the operator's signature", async () => {
    const { page } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    const verdict = await verifyWith(page, { document: doc, receipt, trust: forgedTrust(trust) });
    expect(await verdict.getAttribute("data-verdict")).toBe("fail");
    expect(await verdict.getAttribute("data-failed-step")).toBe("checkpoint-signature");
    expect(await textWhen(verdict, "not signed by the operator the trust document names")).toContain("not signed by the operator the trust document names");
    await page.close();
  });

  it("with no trust file, uses the server's published trust and says it is not pinned, with its fingerprint", async () => {
    const { page, requests } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    const fingerprint = trustFingerprint(trust);
    const status = page.locator('#trust-status[data-trust="published"]');
    expect(await textWhen(status, "Published by the server, not pinned by you")).toContain("Published by the server, not pinned by you");
    expect(await textWhen(status.locator("[data-fingerprint]"), fingerprint)).toBe(fingerprint);
    const verdict = await verifyWith(page, { document: doc, receipt });
    expect(await verdict.getAttribute("data-verdict")).toBe("ok");
    expect(await textWhen(verdict.locator('[data-trust="published"]'), "not one pinned by you")).toContain("not one pinned by you");
    expect(await textWhen(verdict, fingerprint)).toContain(fingerprint);
    expect(leaks(requests, doc)).toEqual([]);
    await page.close();
  });

  it("a typed digest verifies too, and the digest stays in the page", async () => {
    const { page, requests } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    const verdict = await verifyWith(page, { digest: toHex(sha256(doc)), receipt, trust });
    expect(await verdict.getAttribute("data-verdict")).toBe("ok");
    expect(await textWhen(verdict, "a document with this digest existed")).toContain("a document with this digest existed");
    expect(leaks(requests, doc)).toEqual([]);
    await page.close();
  });

  it("a salted receipt verifies with its document, and nothing sent carries the document's digest", async () => {
    const salted = utf8("Birth record 2026-0815, a document someone could guess\n");
    const { prepared } = await client.anchor(salted, { salted: true });
    await sealFully(cluster);
    const saltedReceipt = (await client.receipt(prepared))!;
    const { page, requests } = await recordingPage(context);
    await page.goto(`${cluster.url}/verify`);
    const verdict = await verifyWith(page, { document: salted, receipt: saltedReceipt, trust });
    expect(await verdict.getAttribute("data-verdict")).toBe("ok");
    expect(await textWhen(verdict, "salted commitment")).toContain("salted commitment");
    expect(leaks(requests, salted)).toEqual([]);
    await page.close();
  });

  it("is labelled and keyboard-operable: Tab reaches every control in order, and Enter on Verify runs the checks", async () => {
    const page = await context.newPage();
    await page.goto(`${cluster.url}/verify`);
    for (const name of ["document", "receipt", "trust"]) {
      const input = page.locator(`input[name="${name}"]`);
      const id = await input.getAttribute("id");
      expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    }
    await attributeWhen(page.getByLabel("Document", { exact: true }), "name", "document");
    await attributeWhen(page.getByLabel("Receipt (a .cairn.json file)"), "name", "receipt");
    await attributeWhen(page.getByLabel("Trust file you pinned (optional)"), "name", "trust");

    const reached: string[] = [];
    for (let i = 0; i < 20 && !reached.includes("verify-button"); i++) {
      await page.keyboard.press("Tab");
      reached.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ""));
    }
    const order = ["document", "digest", "receipt", "trust", "verify-button"].map((id) => reached.indexOf(id));
    expect(order.every((i) => i >= 0), reached.join(" ")).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    await page.setInputFiles('input[name="document"]', { name: "deed.txt", mimeType: "text/plain", buffer: Buffer.from(doc) });
    await page.setInputFiles('input[name="receipt"]', { name: "r.json", mimeType: "application/json", buffer: json(receipt) });
    await page.setInputFiles('input[name="trust"]', { name: "trust.json", mimeType: "application/json", buffer: json(trust) });
    await page.locator("#verify-button").focus();
    await page.keyboard.press("Enter");
    await attributeWhen(page.locator("#verdict"), "data-verdict", "ok");
    // The result takes the focus, so a screen reader reads it next.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("result-heading");
    await page.close();
  });
});

function flip(b64: string): string {
  const bytes = fromBase64(b64);
  bytes[0]! ^= 1;
  return toBase64(bytes);
}

describe.skipIf(!haveBrowser)("the explorer, on Node", () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  });
  afterAll(() => context?.close());

  it("shows the latest checkpoint with its size and cosigners, the consortium, and the recent blocks", async () => {
    const { page, requests, console: messages } = await recordingPage(context);
    await page.goto(`${cluster.url}/`);
    const checkpoint = (await (await fetch(`${cluster.url}/v1/checkpoint`)).text()).split("\n");
    const size = Number(checkpoint[1]);
    const sizeText = `${size} block${size === 1 ? "" : "s"}`;
    expect(await textWhen(page.locator("[data-checkpoint-size]"), sizeText)).toBe(sizeText);
    const box = page.locator("#checkpoint");
    for (const m of trust.members) expect(await textWhen(box, m.name)).toContain(m.name);
    expect(await textWhen(box, "verifies under the published key")).toContain("verifies under the published key");
    expect(await box.locator("time").first().getAttribute("datetime")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const consortium = page.locator("#consortium");
    expect(await textWhen(consortium, `${trust.quorum} of ${trust.members.length} members`)).toContain(`${trust.quorum} of ${trust.members.length} members`);
    expect(await textWhen(consortium, "✓ cosigned")).toContain("✓ cosigned");
    const blocks = page.locator("#blocks");
    await blocks.locator("table").waitFor();
    for (let h = 0; h < size; h++) expect(await blocks.locator(`a[href="#block/${h}"]`).count()).toBe(1);
    expect(await fits375(page)).toBeLessThanOrEqual(375);
    const origin = new URL(cluster.url).origin;
    expect(requests.filter((r) => new URL(r.url).origin !== origin)).toEqual([]);
    expect(messages.filter((m) => /Content Security Policy|pageerror/i.test(m))).toEqual([]);
    await page.close();
  });

  it("opens a block: its header, and for anyone the members-only message instead of its entries", async () => {
    const page = await context.newPage();
    await page.goto(`${cluster.url}/`);
    await page.locator('#blocks a[href="#block/0"]').click();
    const block = (await (await fetch(`${cluster.url}/v1/blocks/0`)).json()) as { hash: string; header: string };
    expect(await textWhen(page.locator("#block-heading"), "Block 0")).toBe("Block 0");
    expect(await textWhen(page.locator("#block"), block.hash)).toContain(block.hash);
    expect(await textWhen(page.locator("[data-block-header]"), block.header.split("\n")[0]!)).toBe(block.header);
    expect(await textWhen(page.locator('[data-entries="members-only"]'), "Entries are visible to consortium members")).toContain("Entries are visible to consortium members");
    expect(await fits375(page)).toBeLessThanOrEqual(375);
    await page.close();
  });

  it("shows a block's entries, paged, to a reader the policy lets see them (here the admin)", async () => {
    const admin = await browser.newContext({ viewport: { width: 375, height: 800 }, extraHTTPHeaders: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    try {
      const page = await admin.newPage();
      const { block } = (await (await fetch(`${cluster.url}/v1/anchors/${entryId}`)).json()) as { block: { height: number } };
      await page.goto(`${cluster.url}/#block/${block.height}`);
      expect(await textWhen(page.locator("#entries table"), entryId.slice(0, 16))).toContain(entryId.slice(0, 16));
      expect(await textWhen(page.locator("#entries"), "app.test")).toContain("app.test");
      expect(await fits375(page)).toBeLessThanOrEqual(375);
    } finally {
      await admin.close();
    }
  });

  it("finds an anchor by its entry id; a digest lookup shows the server's refusal politely", async () => {
    const page = await context.newPage();
    await page.goto(`${cluster.url}/`);
    await page.getByLabel("Entry id or digest").fill(entryId);
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await page.locator('[data-anchor-status="sealed"]').waitFor();
    await attributeWhen(page.locator("#search-result a[download]"), "href", `/v1/anchors/${entryId}/receipt`);

    await page.getByLabel("Entry id or digest").fill(toHex(sha256(doc)));
    await page.getByLabel("digest", { exact: true }).check();
    await page.getByRole("button", { name: "Find", exact: true }).click();
    const refused = page.locator('[data-digest-lookup="refused"]');
    expect(await textWhen(refused, "does not look digests up for anyone who asks")).toContain("does not look digests up for anyone who asks");
    expect(await textWhen(refused, "The server said:")).toContain("The server said:");
    expect(await fits375(page)).toBeLessThanOrEqual(375);
    await page.close();
  });
});

describe.skipIf(!haveBrowser)("the verify page with the server gone", () => {
  it("opens again from its service worker's cache and verifies with the files alone", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
    try {
      const { page, requests } = await recordingPage(context);
      await page.goto(`${cluster.url}/verify`);
      // The worker has kept the page and its assets once it controls the page.
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
      serverDown = true;
      await cluster.close();
      expect((await fetch(`${cluster.url}/verify`).then(() => "up", () => "down"))).toBe("down");

      const reloaded = await page.reload();
      expect(reloaded?.fromServiceWorker()).toBe(true);
      // The published trust is the server's to give; with it gone, the page says so and wants a file.
      expect(await textWhen(page.locator("#trust-status"), "could not be read")).toContain("pick a trust file");
      const verdict = await verifyWith(page, { document: doc, receipt, trust });
      expect(await verdict.getAttribute("data-verdict")).toBe("ok");
      expect(leaks(requests, doc)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
