/**
 * Headless Chromium for the page tests: Debian's package (/usr/bin/chromium,
 * which .ci/run installs when it is missing), driven by playwright-core; no
 * browser is ever downloaded. The machine's network is closed, so every
 * background service that would call out (component updates, sync, QUIC
 * probes, first-run pages) is switched off. Each launch gets a fresh
 * profile: playwright makes a temporary --user-data-dir per browser.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request } from "playwright-core";

export const CHROMIUM = process.env.CAIRN_CHROMIUM ?? "/usr/bin/chromium";

export const haveBrowser = existsSync(CHROMIUM);

if (!haveBrowser) {
  console.warn(
    `\n${"!".repeat(78)}\n!! THE BROWSER TESTS ARE SKIPPED: no Chromium at ${CHROMIUM}.\n!! Install Debian's chromium package (.ci/run does: apt-get install --no-install-recommends chromium),\n!! or name another binary in CAIRN_CHROMIUM.\n${"!".repeat(78)}\n`,
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface Recorded {
  readonly url: string;
  readonly method: string;
  readonly body: Buffer | null;
}

/**
 * A page, recording every request made while it is open: by the page and by
 * anything else in its context, its service worker included (the tests
 * open one page per context at a time). And every console message.
 */
export async function recordingPage(context: BrowserContext): Promise<{ page: Page; requests: Recorded[]; console: string[] }> {
  const page = await context.newPage();
  const requests: Recorded[] = [];
  const console: string[] = [];
  const record = (r: Request) => requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer() });
  context.on("request", record);
  page.on("close", () => context.off("request", record));
  page.on("console", (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.push(`pageerror: ${e.message}`));
  return { page, requests, console };
}

/**
 * Waits (playwright's waitFor, its default timeout) until `locator` holds
 * `text`, then returns its whole text for an exact assertion. playwright-core
 * has no `expect`: these two helpers are the only waits the tests need.
 */
export async function textWhen(locator: Locator, text: string): Promise<string> {
  await locator.filter({ hasText: text }).first().waitFor({ state: "attached" });
  return (await locator.first().textContent()) ?? "";
}

/** Waits until `locator` has attribute `name` equal to `value`. */
export async function attributeWhen(locator: Locator, name: string, value: string): Promise<void> {
  await locator.and(locator.page().locator(`[${name}="${value}"]`)).first().waitFor({ state: "attached" });
}
