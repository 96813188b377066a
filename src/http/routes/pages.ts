/**
 * The pages people open (docs/ARCHITECTURE.md "Pages"): GET / (the explorer)
 * and GET /verify (a receipt checked in the browser), with their scripts,
 * stylesheet and icon, all from the generated module that scripts/pages.ts
 * builds from src/pages/. The same sub-app serves Node and the Worker.
 *
 * Every page carries a Content-Security-Policy that lets it run only the
 * scripts and styles served here and talk only to this origin: no inline
 * script, no third party, no form that submits anywhere. That is what makes
 * "the document never leaves the machine" a property of the page as served,
 * not only of its code.
 */
import { Hono } from "hono";
import { PAGE_ASSETS, type GeneratedAsset } from "../pages-assets.generated.js";

export const PAGES_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const YEAR_SECONDS = 365 * 24 * 3600;

function headersOf(asset: GeneratedAsset): Record<string, string> {
  const common = { "Content-Type": asset.type, ETag: asset.etag, "X-Content-Type-Options": "nosniff" };
  if (asset.kind === "asset") return { ...common, "Cache-Control": `public, max-age=${YEAR_SECONDS}, immutable` };
  // A page names its assets by their hashes: revalidating it (a 304 by ETag) is what picks up a new release.
  return {
    ...common,
    "Cache-Control": "no-cache",
    "Content-Security-Policy": PAGES_CSP,
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
}

/** Whether an If-None-Match header names this ETag (weak or strong, in a list, or `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

export function pagesRoutes(assets: Readonly<Record<string, GeneratedAsset>> = PAGE_ASSETS): Hono {
  const app = new Hono();
  for (const [path, asset] of Object.entries(assets)) {
    const headers = headersOf(asset);
    app.get(path, (c) => (matches(c.req.header("If-None-Match"), asset.etag) ? c.body(null, 304, headers) : c.body(asset.body, 200, headers)));
  }
  return app;
}
