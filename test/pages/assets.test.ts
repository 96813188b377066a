/**
 * The pages as built and served: src/http/pages-assets.generated.ts is
 * exactly what `npm run pages` makes of src/pages/ (a change to the pages
 * without regenerating fails here), the verify page's JavaScript is within
 * its budget, and src/http/routes/pages.ts serves each asset with its type, its
 * caching and, on the pages, the Content-Security-Policy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { PAGES_MODULE, renderPagesModule } from "../../scripts/pages.js";
import { ROOT } from "../../scripts/wrangler.js";
import { PAGE_ASSETS } from "../../src/http/pages-assets.generated.js";
import { pagesRoutes, PAGES_CSP } from "../../src/http/routes/pages.js";

/** Issue 11: what a person's browser downloads to verify, compressed: 60 kB, counted in bytes. */
const VERIFY_JS_BUDGET_GZIP = 60_000;

const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const gzipped = (text: string) => gzipSync(text, { level: 9 }).length;

/** The same-origin scripts a page loads (its HTML names them all: nothing is loaded later). */
function scriptsOf(page: string): string[] {
  return [...PAGE_ASSETS[page]!.body.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!);
}

describe("the pages' assets", () => {
  it("are exactly what `npm run pages` makes of src/pages/", async () => {
    // Compared whole, reported short: a diff of minified bundles says nothing a person can use.
    const fresh = (await renderPagesModule()) === readFileSync(join(ROOT, PAGES_MODULE), "utf8");
    expect(fresh, `${PAGES_MODULE} is out of date: run \`npm run pages\` after changing src/pages/`).toBe(true);
  });

  it("keep the verify page's JavaScript within 60 kB gzipped", () => {
    for (const page of ["/verify", "/"]) {
      // The verify page's service worker is its JavaScript too.
      const scripts = [...scriptsOf(page), ...(page === "/verify" ? ["/verify-sw.js"] : [])];
      expect(scripts.length).toBeGreaterThan(0);
      const total = scripts.reduce((sum, path) => sum + gzipped(PAGE_ASSETS[path]!.body), 0);
      console.log(`${page}: JavaScript ${scripts.join(", ")}: ${kb(scripts.reduce((s, p) => s + PAGE_ASSETS[p]!.body.length, 0))}, ${kb(total)} gzipped`);
      if (page === "/verify") expect(total).toBeLessThanOrEqual(VERIFY_JS_BUDGET_GZIP);
    }
  });

  it("name only assets that exist, and only on this origin", () => {
    for (const page of ["/", "/verify"]) {
      const refs = [...PAGE_ASSETS[page]!.body.matchAll(/\b(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!);
      for (const ref of refs) {
        expect(ref, `${page} names ${ref}`).toMatch(/^\//);
        expect(ref.startsWith("//"), ref).toBe(false);
        if (ref.startsWith("/assets/")) expect(PAGE_ASSETS[ref], `${page} names ${ref}`).toBeDefined();
      }
    }
  });
});

describe("src/http/routes/pages.ts", () => {
  const app = pagesRoutes();

  it("serves the pages as HTML (the verify page's service worker as JavaScript) under the CSP, revalidated by ETag", async () => {
    for (const path of ["/", "/verify", "/verify-sw.js"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(path.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/html; charset=utf-8");
      expect(res.headers.get("content-security-policy")).toBe(PAGES_CSP);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      const etag = res.headers.get("etag")!;
      expect(etag).toMatch(/^"[0-9a-f]{20}"$/);
      expect(await res.text()).toBe(PAGE_ASSETS[path]!.body);
      const again = await app.request(path, { headers: { "If-None-Match": `W/"other", ${etag}` } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
    }
    expect(PAGES_CSP).toMatch(/^default-src 'self'; script-src 'self'; /);
    expect(PAGES_CSP).not.toMatch(/unsafe|https?:|\*/);
  });

  it("serves the scripts, stylesheet and icon by their content-hashed names, kept for good", async () => {
    const types: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml" };
    const paths = Object.keys(PAGE_ASSETS).filter((p) => p.startsWith("/assets/"));
    expect(paths.map((p) => p.replace(/\.[0-9a-f]{12}\./, "."))).toEqual(["/assets/verify.js", "/assets/explorer.js", "/assets/style.css", "/assets/icon.svg"]);
    for (const path of paths) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(types[path.split(".").at(-1)!]);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(await res.text()).toBe(PAGE_ASSETS[path]!.body);
    }
    expect((await app.request("/assets/verify.000000000000.js")).status).toBe(404);
  });
});
