/** Regenerates src/http/pages-assets.generated.ts from src/pages/ (npm run pages). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildPageAssets, PAGES_MODULE, renderPagesModule } from "./pages.js";
import { ROOT } from "./wrangler.js";

writeFileSync(join(ROOT, PAGES_MODULE), await renderPagesModule());
for (const a of await buildPageAssets()) {
  console.log(`${a.path.padEnd(36)} ${String(a.body.length).padStart(7)} bytes, ${String(gzipSync(a.body, { level: 9 }).length).padStart(6)} gzipped`);
}
console.log(`wrote ${PAGES_MODULE}`);
