/**
 * A member's witness as a Cloudflare Worker of the member's own, in the
 * member's own account (wrangler.member.toml; docs/OPERATING-A-MEMBER.md
 * "On Cloudflare"): the same Witness and routes as `cairn member`, with its
 * replica and its state in its own D1 database.
 *
 *  - Settings: the Node witness's (./member-config.ts) from vars, plus
 *    CAIRN_MEMBER_KEY, the member's cosigner signer key, a secret of this
 *    Worker (made with `cairn keygen NAME --cosigner`, given to no one),
 *    CAIRN_MEMBER_NEXT_KEY while it rotates to another,
 *    CAIRN_MEMBER_MLDSA_KEY to cosign with ML-DSA-44 too (type 0x06), and
 *    CAIRN_REPLICA_D1, the binding of its replica and state.
 *  - Requests run side by side in an isolate and across isolates, and
 *    workerd forbids a request to wait on another's I/O: each request gets a
 *    Witness instance of its own (Witness.shared: no lock; the state is
 *    loaded first and saved by compare-and-set, store/witness-state.ts), so
 *    two requests can never cosign two roots for one size between them. The
 *    replica's appends are atomic; the loser of a race answers "retry".
 */
import type { D1Database, ExecutionContext } from "@cloudflare/workers-types";
import { isCairnError } from "../core/errors.js";
import { formatVerifierKey, KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, parseSignerKey } from "../core/keys.js";
import { errorBody } from "../http/errors.js";
import { createWitnessApp } from "../http/witness-app.js";
import { systemClock } from "../service/clock.js";
import { jsonLogger } from "../service/log.js";
import { Metrics } from "../service/metrics.js";
import { Witness, type WitnessConfig, type WitnessState } from "../service/witness.js";
import { openD1Store } from "../store/d1.js";
import { d1WitnessState } from "../store/witness-state.js";
import { bad, parseWitnessConfig } from "./member-config.js";
import { schemaGate, schemaRefusal } from "./schema-gate.js";

type Env = Readonly<Record<string, unknown>>;

interface Setup {
  readonly config: WitnessConfig;
  readonly db: D1Database;
  /** Whether the replica's schema is this release's (a refusal's message otherwise). */
  readonly schema: () => Promise<string | undefined>;
  readonly seed: Uint8Array;
  readonly verifierKey: string;
  readonly next?: { readonly seed: Uint8Array; readonly verifierKey: string };
  readonly pq?: { readonly seed: Uint8Array; readonly verifierKey: string };
}

const log = jsonLogger();
const metrics = new Metrics();
// Per isolate: env does not change while an isolate lives.
let setup: { ok: true; value: Setup } | { ok: false; message: string } | undefined;

function isD1(binding: unknown): binding is D1Database {
  const b = binding as Partial<Record<"prepare" | "batch", unknown>> | null | undefined;
  return typeof b === "object" && b !== null && typeof b.prepare === "function" && typeof b.batch === "function";
}

function configure(env: Env): Setup {
  const s = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"));
  const config = parseWitnessConfig(s);
  const binding = s.CAIRN_REPLICA_D1?.trim() || bad("CAIRN_REPLICA_D1", "is required: the D1 binding of this witness's replica and state");
  const db = env[binding];
  if (!isD1(db)) bad("CAIRN_REPLICA_D1", `this Worker has no D1 binding named ${JSON.stringify(binding)}`);
  const text = s.CAIRN_MEMBER_KEY?.trim() || bad("CAIRN_MEMBER_KEY", "is required: the member's cosigner key (wrangler secret put CAIRN_MEMBER_KEY)");
  const key = cosignerKey("CAIRN_MEMBER_KEY", text, config.name);
  // The key it rotates to (docs/OPERATING-A-MEMBER.md "Rotating the cosigner key").
  const nextText = s.CAIRN_MEMBER_NEXT_KEY?.trim();
  const next = nextText ? cosignerKey("CAIRN_MEMBER_NEXT_KEY", nextText, config.name) : undefined;
  // Records meant to outlive Ed25519: the key whose verifier key is the member's pqKey in CAIRN_MEMBERS.
  const pqText = s.CAIRN_MEMBER_MLDSA_KEY?.trim();
  const pq = pqText ? cosignerKey("CAIRN_MEMBER_MLDSA_KEY", pqText, config.name, KEY_TYPE_COSIGNATURE_MLDSA44) : undefined;
  const schema = schemaGate(openD1Store(db as D1Database), "the witness's replica", "npm run wrangler -- d1 migrations apply --config wrangler.member.toml, docs/OPERATING-A-MEMBER.md");
  return { config, db, schema, ...key, ...(next ? { next } : {}), ...(pq ? { pq } : {}) };
}

function cosignerKey(setting: string, text: string, name: string, type: number = KEY_TYPE_COSIGNATURE_V1): { seed: Uint8Array; verifierKey: string } {
  let key;
  try {
    key = parseSignerKey(text);
  } catch (e) {
    bad(setting, `is not a signer key: ${(e as Error).message}`);
  }
  if (key.type !== type) bad(setting, type === KEY_TYPE_COSIGNATURE_V1 ? "must be a cosigner key (type 0x04): cairn keygen NAME --cosigner" : "must be an ML-DSA-44 cosigner key (type 0x06)");
  if (key.name !== name) bad(setting, `is named ${key.name}, expected CAIRN_MEMBER_NAME ${name}`);
  return { seed: key.seed, verifierKey: formatVerifierKey(key.name, key.type, key.publicKey) };
}

function witnessFor(s: Setup): Witness {
  const text = d1WitnessState(s.db);
  return Witness.shared({
    config: s.config,
    seed: s.seed,
    verifierKey: s.verifierKey,
    ...(s.next ? { next: () => s.next } : {}),
    ...(s.pq ? { pq: s.pq } : {}),
    replica: openD1Store(s.db),
    state: {
      load: async (): Promise<WitnessState> => {
        const t = await text.load();
        return t === undefined ? {} : (JSON.parse(t) as WitnessState);
      },
      save: (state) => text.save(JSON.stringify(state)),
    },
    clock: systemClock,
    log,
    metrics,
  });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (setup === undefined) {
      try {
        setup = { ok: true, value: configure(env) };
      } catch (e) {
        const message = isCairnError(e, "BAD_CONFIG") ? e.message : "the witness failed to start; see its logs";
        setup = { ok: false, message };
        log.error("start_failed", { error: String((e as Error)?.stack ?? e) });
      }
    }
    if (!setup.ok) return new Response(JSON.stringify(errorBody("BAD_CONFIG", setup.message)), { status: 500, headers: { "Content-Type": "application/json" } });
    const refused = await setup.value.schema();
    if (refused !== undefined) return schemaRefusal(refused);
    return createWitnessApp(witnessFor(setup.value)).fetch(request, env, ctx);
  },
};
