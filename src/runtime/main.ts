/**
 * `npm start`: Cairn on Node with the embedded default (or the configured
 * deployment), until SIGINT/SIGTERM.
 */
import { CairnError } from "../core/errors.js";
import { startNode } from "./node.js";

try {
  const node = await startNode();
  const { ctx } = node.services;
  const lines = [
    `Cairn is serving ${ctx.config.origin} at ${node.url}`,
    `  members: ${ctx.members.length === 0 ? "none" : ""}(quorum ${ctx.config.quorum} of ${ctx.members.length}); sealing every ${ctx.config.sealIntervalMs} ms`,
    ...ctx.members.map((m) => `    ${m.name.padEnd(22)} witness ${m.witness}`),
  ];
  if (node.dev) {
    lines.push(
      `  data:    ${node.dev.dir}${node.dev.created ? " (new: dev keys generated)" : ""}; each witness in its own ${node.dev.dir}/members/<name>/`,
      `  admin:   token in ${node.dev.adminTokenFile}`,
      `  client:  ${node.dev.clientKeyFile} (registered)`,
      "",
      "Anchor a first document and check its receipt offline:",
      "  npx cairn anchor README.md --wait",
      "  npx cairn verify README.md README.md.cairn.json",
    );
  }
  console.error(lines.join("\n"));
  // Listeners stay installed for the whole shutdown: a Ctrl-C reaches this
  // process twice (directly, and relayed by npm/tsx), and with `once` the
  // second would find the default action back and kill it mid-close.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: finishing queued submissions and closing`);
    await node.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (e) {
  if (e instanceof CairnError && e.code === "BAD_CONFIG") {
    console.error(`cairn: configuration error: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
