/** Regenerates docs/FORMATS.md and test/vectors/cairn-v1.json from the code (npm run formats). */
import { readFileSync, writeFileSync } from "node:fs";
import { buildVectors, renderFormats } from "./formats.js";

const root = new URL("..", import.meta.url);
const vectors = await buildVectors();
const template = readFileSync(new URL("docs/FORMATS.template.md", root), "utf8");
writeFileSync(new URL("docs/FORMATS.md", root), renderFormats(template, vectors));
writeFileSync(new URL("test/vectors/cairn-v1.json", root), JSON.stringify(vectors, null, 2) + "\n");
console.log("wrote docs/FORMATS.md and test/vectors/cairn-v1.json");
