/**
 * Starting one of our modules in a worker thread (Node only).
 *
 * The sources run through tsx (npm start, the CLI, the tests), and a worker
 * does not inherit tsx's loader, so a `.ts` entry is loaded with tsx's ESM
 * API from a small eval'd bootstrap; a compiled build (`.js` entries) is
 * started directly.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

export function spawnModuleWorker(entry: URL, workerData: unknown): Worker {
  // The pathname, not the URL: tsx may add a query to module URLs.
  if (!new URL(import.meta.url).pathname.endsWith(".ts")) {
    return new Worker(new URL(entry.pathname.replace(/\.ts$/, ".js"), entry), { workerData });
  }
  // tsx's ESM API, found from this package (an eval'd worker would resolve a
  // bare specifier from the working directory instead).
  const tsxRoot = path.dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const tsx = pathToFileURL(path.join(tsxRoot, "dist/esm/api/index.mjs")).href;
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData });
}
