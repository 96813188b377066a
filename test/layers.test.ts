/**
 * The layers of docs/ARCHITECTURE.md, checked on the sources: runtime →
 * http → service → store → core, each importing only the layers after it,
 * and src/client (the app library) only core, so it runs wherever core does;
 * src/pages (the browser's code) only core and the client.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "..", "src");
const ORDER = ["runtime", "http", "service", "store", "core"];
const MAY_IMPORT: Record<string, readonly string[]> = {
  ...Object.fromEntries(ORDER.map((layer, i) => [layer, ORDER.slice(i)])),
  runtime: [...ORDER, "client"],
  client: ["client", "core"],
  // Browser code: it runs wherever core and the client do, and reaches the server only over HTTP.
  pages: ["pages", "core", "client"],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("layers", () => {
  it("each module imports only its own layer and the ones after it", () => {
    const wrong: string[] = [];
    for (const file of files(SRC)) {
      const layer = relative(SRC, file).split("/")[0]!;
      const allowed = MAY_IMPORT[layer];
      expect(allowed, `${file} is in no known layer`).toBeDefined();
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:^|\n)\s*(?:import|export)[^"';]*?from\s+["']([^"']+)["']/g)) {
        if (!spec!.startsWith(".")) continue;
        const target = relative(SRC, resolve(dirname(file), spec!)).split("/")[0]!;
        if (!allowed!.includes(target)) wrong.push(`${relative(SRC, file)} imports ${spec} (${target})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
