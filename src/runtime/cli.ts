/**
 * `cairn`, the command-line tool (README "The command line"): keygen, anchor
 * files or digests, fetch receipts, verify a receipt offline against a
 * document, audit replica databases. It talks to a server over HTTP and
 * verifies with core alone; each command lives in ./cli/. `bin/cairn.js`
 * runs this file through tsx.
 */
import { pathToFileURL } from "node:url";
import { anchor, usage as anchorUsage } from "./cli/anchor.js";
import { audit, usage as auditUsage } from "./cli/audit.js";
import { CliError, EXIT, processIo, type Io } from "./cli/common.js";
import { keygen, usage as keygenUsage } from "./cli/keygen.js";
import { lookup, usage as lookupUsage } from "./cli/lookup.js";
import { member, usage as memberUsage } from "./cli/member.js";
import { monitor, usage as monitorUsage } from "./cli/monitor.js";
import { receipt, usage as receiptUsage } from "./cli/receipt.js";
import { verify, usage as verifyUsage } from "./cli/verify.js";
import { trust, usage as trustUsage } from "./cli/trust-cmd.js";
import { installNodeEd25519 } from "./node-ed25519.js";
import { installNodeSha256 } from "./node-sha256.js";

interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: Io): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  keygen: { summary: "make a client (or --cosigner member) key pair", usage: keygenUsage, run: keygen },
  anchor: { summary: "anchor files or digests; --wait writes verified receipts", usage: anchorUsage, run: anchor },
  receipt: { summary: "fetch the receipt of an entry id", usage: receiptUsage, run: receipt },
  lookup: { summary: "find this client's anchors of a document or digest (a signed request)", usage: lookupUsage, run: lookup },
  verify: { summary: "verify a receipt offline against a document", usage: verifyUsage, run: verify },
  trust: { summary: "pin a log's trust document (add, list, remove), shown by fingerprint", usage: trustUsage, run: trust },
  monitor: { summary: "watch a log and its witnesses for split views (forks)", usage: monitorUsage, run: monitor },
  audit: { summary: "re-verify replica databases from block 0", usage: auditUsage, run: audit },
  member: { summary: "run a member's witness (verify, replicate, cosign); status; resume", usage: memberUsage, run: member },
};

export const usage = `Usage: cairn COMMAND [options]

Cairn anchors SHA-256 digests of documents in a hash chain held by a
consortium and returns receipts anyone can verify offline.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)}${c.summary}`)
  .join("\n")}

Right after \`npm start\` (server on http://127.0.0.1:8787, data in ./data):
  cairn anchor README.md --wait
  cairn verify README.md README.md.cairn.json

Environment:
  CAIRN_SERVER       server URL (default http://127.0.0.1:8787); --server overrides
  CAIRN_CLIENT_KEY   client signer key file; --key overrides
  CAIRN_DATA_DIR     data dir of the embedded default (default ./data): its
                     client.key is the default client key, and \`cairn audit\`
                     audits its databases

Exit status: 0 success, 1 failure (a receipt or database that does not
verify, or an error), 2 usage error, 3 receipt still pending, 4 unknown id.

Run \`cairn COMMAND --help\` for a command's options.`;

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  installNodeEd25519();
  installNodeSha256();
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    io.out(command?.usage ?? usage);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === "--version" || name === "-V") {
    io.out("cairn 0.1.0 (formats v1)");
    return EXIT.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err(`cairn: unknown command ${JSON.stringify(name)}\n${usage.split("\n\nRight after")[0]}`);
    return EXIT.USAGE;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(command.usage);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`cairn ${name}: ${e.message}`);
      return e.exitCode;
    }
    // node:util parseArgs: unknown options, missing values.
    const code = (e as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      io.err(`cairn ${name}: ${(e as Error).message}\nSee: cairn ${name} --help`);
      return EXIT.USAGE;
    }
    io.err(`cairn ${name}: unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    return EXIT.FAILED;
  }
}

// Run directly (`tsx src/runtime/cli.ts …`); bin/cairn.js imports main instead.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
