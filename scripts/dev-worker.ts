/**
 * `npm run dev:worker`: the Worker on this machine under `wrangler dev`,
 * offline and without a Cloudflare account.
 *
 *  1. On first run, writes `.dev.vars` (the local stand-in for `wrangler
 *     secret put`, git-ignored) with fresh random dev keys: operator and
 *     admin token; plus, in .wrangler/cairn-dev/, a dev client key for the
 *     CLI. Later runs reuse them. An existing .dev.vars is never touched.
 *  2. Starts three member witnesses as processes of their own (each with
 *     its own key and replica in .wrangler/cairn-dev/members/<name>/, on the
 *     ports after the Worker's), and hands the Worker their public keys and
 *     URLs as CAIRN_MEMBERS (`--var`); writes the trust document those keys
 *     make (pinned here, not fetched from the server it vouches for).
 *  3. Applies migrations/ to the local primary D1 database of wrangler.toml
 *     (`wrangler d1 migrations apply <db> --local`).
 *  4. Runs `wrangler dev --local` on 127.0.0.1:8787 (the CLI's default
 *     server), registers the dev client once the Worker answers, and prints
 *     how to anchor a file and verify its receipt offline.
 * Extra arguments go to `wrangler dev` and win over the script's own
 * (e.g. `-- --ip 127.0.0.1 --port 8790`).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { formatSignerKey, formatVerifierKey, generateKeyPair, KEY_TYPE_ED25519, parseSignerKey } from "../src/core/keys.js";
import { startDevMembers } from "../src/runtime/dev-members.js";
import { DEV_MEMBERS } from "../src/runtime/dev-setup.js";
import { majority, TRUST_VERSION, type Trust } from "../src/core/trust.js";
import { wranglerDevArgs } from "./dev-worker-args.js";
import { ROOT, runWrangler, spawnWrangler } from "./wrangler.js";

const DEV_VARS = join(ROOT, ".dev.vars");
const DEV_DIR = join(ROOT, ".wrangler", "cairn-dev");
const CLIENT_KEY = join(DEV_DIR, "client.key");
const TRUST = join(DEV_DIR, "cairn-trust.json");
const DEV_ORIGIN = "cairn.localhost/worker-dev";
const DEV_CLIENT = "dev-client.localhost";
const DATABASES = ["cairn-primary"];

/** dotenv text: single quotes keep JSON's double quotes as they are. */
function dotenvLine(key: string, value: string): string {
  if (value.includes("'") || value.includes("\n")) throw new Error(`${key}: a dev value cannot hold a quote or newline`);
  return `${key}='${value}'`;
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Makes .dev.vars and the dev client key and trust document on first run. */
function ensureDevFiles(): { created: boolean } {
  mkdirSync(DEV_DIR, { recursive: true });
  if (!existsSync(CLIENT_KEY)) writeSecret(CLIENT_KEY, generateKeyPair(DEV_CLIENT, randomBytes(32), KEY_TYPE_ED25519).signerKey + "\n");
  if (existsSync(DEV_VARS)) return { created: false };

  const operatorKey = formatSignerKey(DEV_ORIGIN, KEY_TYPE_ED25519, randomBytes(32));
  const lines = [
    "# Made by `npm run dev:worker` for local development only: random dev keys,",
    "# never used anywhere else. Deployed Workers get their secrets from",
    "# `wrangler secret put` (docs/DEPLOY-CLOUDFLARE.md). Values here override",
    "# wrangler.toml [vars] under `wrangler dev`. The members' witnesses keep",
    "# their own keys; the script passes their public keys as CAIRN_MEMBERS.",
    dotenvLine("CAIRN_ORIGIN", DEV_ORIGIN),
    dotenvLine("CAIRN_OPERATOR_KEY", operatorKey),
    dotenvLine("CAIRN_ADMIN_TOKEN", randomBytes(24).toString("base64url")),
  ];
  writeSecret(DEV_VARS, lines.join("\n") + "\n");
  return { created: true };
}

/** The trust document of the dev Worker and its witnesses (pinned here, from the keys themselves). */
function writeTrust(operatorKey: string, members: readonly { name: string; key: string }[]): void {
  const op = parseSignerKey(operatorKey);
  const trust: Trust = {
    version: TRUST_VERSION,
    origin: op.name,
    operatorKeys: [formatVerifierKey(op.name, op.type, op.publicKey)],
    members: members.map((m) => ({ name: m.name, key: m.key })),
    quorum: majority(members.length),
  };
  writeFileSync(TRUST, JSON.stringify(trust, null, 2) + "\n");
}

/** The few settings this script needs from .dev.vars (single- or double-quoted, or bare). */
function devVar(name: string): string | undefined {
  const line = readFileSync(DEV_VARS, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).replace(/^(['"])(.*)\1$/, "$2");
}

async function waitForWorker(base: string, child: { exitCode: number | null }): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until && child.exitCode === null) {
    try {
      const res = await fetch(`${base}/healthz`);
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Worker did not answer at ${base} within 60 s`);
}

async function main(extra: readonly string[]): Promise<void> {
  const { created } = ensureDevFiles();
  const rel = (p: string) => relative(process.cwd(), p) || ".";
  console.error(created ? `dev:worker: made ${rel(DEV_VARS)} with fresh dev keys` : `dev:worker: using ${rel(DEV_VARS)}`);

  for (const db of DATABASES) {
    const run = await runWrangler(["d1", "migrations", "apply", db, "--local"]);
    if (run.code !== 0) throw new Error(`wrangler d1 migrations apply ${db} --local failed:\n${run.stdout}\n${run.stderr}`);
    console.error(`dev:worker: ${db}: ${/No migrations to apply/.test(run.stdout) ? "up to date" : "migrated"}`);
  }

  const { args, base } = wranglerDevArgs(extra);
  const port = Number(new URL(base).port);
  const operatorKey = devVar("CAIRN_OPERATOR_KEY");
  if (operatorKey === undefined) throw new Error(`${rel(DEV_VARS)} has no CAIRN_OPERATOR_KEY`);
  const op = parseSignerKey(operatorKey);
  const witnesses = await startDevMembers({
    dataDir: DEV_DIR,
    origin: op.name,
    operatorKey: formatVerifierKey(op.name, op.type, op.publicKey),
    operatorUrl: base,
    members: DEV_MEMBERS.map((name, i) => ({ name, port: port + 1 + i })),
  });
  writeTrust(operatorKey, witnesses.members);
  const child = spawnWrangler([...args, "--var", `CAIRN_MEMBERS:${JSON.stringify(witnesses.members)}`]);
  const stop = (signal: NodeJS.Signals) => {
    child.kill(signal);
    void witnesses.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(signal));
  child.on("exit", (code) => void witnesses.stop().then(() => process.exit(code ?? 0)));

  await waitForWorker(base, child);
  const client = parseSignerKey(readFileSync(CLIENT_KEY, "utf8").trim());
  const res = await fetch(`${base}/v1/admin/clients`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${devVar("CAIRN_ADMIN_TOKEN") ?? ""}` },
    body: JSON.stringify({ key: formatVerifierKey(client.name, client.type, client.publicKey) }),
  });
  const registered = res.status === 201 || res.status === 200;
  console.error(
    [
      "",
      `Cairn (Worker) is serving ${base} under wrangler dev, sealing on requests and on ${base}/__scheduled (the cron).`,
      registered ? `  dev client ${client.name} registered; its key: ${rel(CLIENT_KEY)}` : `  could not register the dev client (${res.status}: ${await res.text()})`,
      ...witnesses.members.map((m) => `  witness ${m.name} at ${m.witness}`),
      `  trust document made from the dev keys: ${rel(TRUST)}`,
      "",
      "Anchor a document and verify its receipt offline:",
      `  CAIRN_CLIENT_KEY=${rel(CLIENT_KEY)} npx cairn anchor README.md --wait`,
      `  npx cairn verify README.md README.md.cairn.json --trust ${rel(TRUST)}`,
      "",
    ].join("\n"),
  );
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`dev:worker: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
