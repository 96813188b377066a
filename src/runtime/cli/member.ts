/**
 * `cairn member`: run a member's witness, ask one where it stands, or clear
 * a halt after a person has read its evidence. The witness itself is
 * src/runtime/member.ts; docs/OPERATING-A-MEMBER.md is the guide.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { signMemberKeyRecord } from "../../core/key-record.js";
import { formatSignerKey, KEY_TYPE_COSIGNATURE_V1 } from "../../core/keys.js";
import { fileState, memberKey, nextKeyFile, nextMemberKey, startMember } from "../member.js";
import { CliError, EXIT, usageError, type Io } from "./common.js";

export const usage = `Usage: cairn member [--data-dir DIR] [--port PORT] [--host HOST]
       cairn member status [--url URL]
       cairn member resume --data-dir DIR
       cairn member rotate-key --data-dir DIR

Runs a consortium member's witness: it follows the log named by
CAIRN_LOG_ORIGIN at CAIRN_LOG_URL, verifies every block itself (chain link,
batch root, every entry's signature against the chain's own client
registry, times) into its own replica, and cosigns a checkpoint (C2SP
tlog-witness, POST /add-checkpoint) only when its replica agrees. Its
cosigner key is made in DIR on first run and never leaves it.

Settings (environment):
  CAIRN_MEMBER_NAME          the member's cosigner name (required)
  CAIRN_LOG_ORIGIN           the log's origin, pinned (required)
  CAIRN_LOG_KEYS             the operator's verifier key(s), comma-separated, pinned (required)
  CAIRN_LOG_URL              the operator's public URL (required)
  CAIRN_MEMBER_DATA_DIR      key, state, replica (default ./member-data; --data-dir)
  CAIRN_MEMBER_REPLICA_URL   replica database (default file:DIR/replica.db; or libsql://, https://)
  CAIRN_MEMBER_REPLICA_AUTH_TOKEN
  CAIRN_MAX_SKEW             seconds a block may be dated ahead of this clock (default 60)
  CAIRN_SYNC_BUDGET          seconds a request may spend catching up (default 10)
  CAIRN_MEMBER_MLDSA         1: also cosign with an ML-DSA-44 key (C2SP type 0x06),
                             made in DIR/cosigner-mldsa44.key on first run; its
                             verifier key goes into the operator's CAIRN_MEMBERS as pqKey
  PORT, HOST                 listen address (default 8788, 127.0.0.1; --port, --host)

Routes: POST /add-checkpoint, GET /checkpoint, GET /status, GET /healthz,
GET /metrics.

status   prints GET /status of the witness at URL (default http://127.0.0.1:8788):
         its replica's head, its latest cosigned checkpoint, evidence held.
resume   clears a halt (stop the witness first); prints the evidence it held.
rotate-key  makes the key this member moves to (DIR/cosigner-next.key, on
         first call) and prints the key record that hands the member's
         cosignatures to it, signed by the old and the new key. Send it to
         the operator, who countersigns and seals it (POST
         /v1/admin/keys/member); the running witness switches to the new key
         at the size the sealed record gives. Keep both key files. Needs
         CAIRN_MEMBER_NAME and CAIRN_LOG_ORIGIN.`;

export async function member(args: string[], io: Io): Promise<number> {
  if (args[0] === "status") return status(args.slice(1), io);
  if (args[0] === "resume") return resume(args.slice(1), io);
  if (args[0] === "rotate-key") return rotateKey(args.slice(1), io);
  const { values, positionals } = parseArgs({ args, options: { "data-dir": { type: "string" }, port: { type: "string" }, host: { type: "string" } }, allowPositionals: true });
  if (positionals.length > 0) throw usageError(`unknown member subcommand ${JSON.stringify(positionals[0])}`, "member");
  const env = {
    ...io.env,
    ...(values["data-dir"] ? { CAIRN_MEMBER_DATA_DIR: resolve(io.cwd, values["data-dir"]) } : {}),
    ...(values.port ? { PORT: values.port } : {}),
    ...(values.host ? { HOST: values.host } : {}),
  };
  let running;
  try {
    running = await startMember({ env });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE);
  }
  const s = await running.witness.status();
  io.err(`witness ${s.name} serving at ${running.url}\n  follows ${s.origin} at ${s.log}\n  key ${s.key}${running.keyCreated ? " (new)" : ""}`);
  await new Promise<void>((done) => {
    // `on`, not `once`: a relayed second Ctrl-C must not find the default action back mid-close.
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
  await running.close();
  return EXIT.OK;
}

async function status(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: "string" } } });
  const url = (values.url ?? "http://127.0.0.1:8788").replace(/\/+$/, "");
  let res;
  try {
    res = await fetch(`${url}/status`);
  } catch (e) {
    throw new CliError(`no witness answers at ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new CliError(`${url}/status answered ${res.status}`);
  const s = (await res.json()) as { name: string; key: string; origin: string; log: string; replica: { size: number; hash: string }; latest: { size: number; root: string } | null; halted: { code: string; message: string; at: number; height?: number } | null };
  io.out(
    [
      `witness ${s.name} (${s.key})`,
      `  follows   ${s.origin} at ${s.log}`,
      `  replica   ${s.replica.size} verified blocks, head ${s.replica.hash}`,
      `  cosigned  ${s.latest ? `${s.latest.size} blocks, root ${s.latest.root}` : "nothing yet"}`,
      `  evidence  ${s.halted ? `HALTED since ${new Date(s.halted.at * 1000).toISOString()}: ${s.halted.code}${s.halted.height !== undefined ? ` at block ${s.halted.height}` : ""}: ${s.halted.message}` : "none"}`,
    ].join("\n"),
  );
  return s.halted ? EXIT.FAILED : EXIT.OK;
}

async function resume(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { "data-dir": { type: "string" } } });
  if (!values["data-dir"]) throw usageError("resume needs --data-dir, the stopped witness's data directory", "member");
  const state = fileState(join(resolve(io.cwd, values["data-dir"]), "witness-state.json"));
  const current = await state.load();
  if (!current.halted) {
    io.out("the witness holds no evidence; nothing to clear");
    return EXIT.OK;
  }
  io.out(JSON.stringify(current.halted, null, 2));
  const { halted: _, ...rest } = current;
  await state.save(rest);
  io.err("halt cleared; keep the evidence above. The witness cosigns again once restarted.");
  return EXIT.OK;
}

async function rotateKey(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { "data-dir": { type: "string" } } });
  const dir = resolve(io.cwd, values["data-dir"] ?? io.env.CAIRN_MEMBER_DATA_DIR ?? "member-data");
  const name = io.env.CAIRN_MEMBER_NAME?.trim();
  const origin = io.env.CAIRN_LOG_ORIGIN?.trim();
  if (!name || !origin) throw usageError("rotate-key needs CAIRN_MEMBER_NAME and CAIRN_LOG_ORIGIN, as the witness has them", "member");
  if (!existsSync(join(dir, "cosigner.key"))) throw new CliError(`${dir} holds no cosigner.key: give the witness's data directory with --data-dir`);
  let current, next;
  try {
    current = memberKey(dir, name);
    if (!existsSync(nextKeyFile(dir))) writeFileSync(nextKeyFile(dir), formatSignerKey(name, KEY_TYPE_COSIGNATURE_V1, randomBytes(32)) + "\n", { mode: 0o600, flag: "wx" });
    next = nextMemberKey(dir, name)!;
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE);
  }
  const record = await signMemberKeyRecord({ origin, role: "member", old: current.verifierKey, new: next.verifierKey, time: Math.floor(Date.now() / 1000) }, current.seed, next.seed);
  writeFileSync(join(dir, "key-record.txt"), record, { mode: 0o600 });
  io.out(record.trimEnd());
  io.err(
    [
      `key record written to ${join(dir, "key-record.txt")}: ${name} moves from`,
      `  ${current.verifierKey}`,
      `  to ${next.verifierKey}`,
      "Send it to the operator, who queues it with",
      `  curl -X POST <log>/v1/admin/keys/member -H "Authorization: Bearer <admin token>" -H "Content-Type: application/json" --data '{"record": <the record as a JSON string>}'`,
      "Keep cosigner.key and cosigner-next.key: the witness cosigns with the old key up to the size the sealed record gives, with the new one after.",
    ].join("\n"),
  );
  return EXIT.OK;
}
