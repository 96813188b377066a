#!/usr/bin/env node
// `cairn`: runs src/runtime/cli.ts through tsx (scoped to this import, with
// the repository's tsconfig whatever the working directory).
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const tsconfig = fileURLToPath(new URL("../tsconfig.json", import.meta.url));
const { main } = await tsImport("../src/runtime/cli.ts", { parentURL: import.meta.url, tsconfig });
process.exitCode = await main(process.argv.slice(2));
