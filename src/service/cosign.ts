/**
 * The operator asking members' witnesses to cosign a checkpoint, over C2SP
 * tlog-witness (`POST <witness>/add-checkpoint`; docs/ARCHITECTURE.md
 * "Finality"). The operator holds no member key: a cosignature is whatever
 * the member's own witness returns, kept only if it verifies under the
 * member's public key over this very checkpoint.
 *
 * The request names the size the witness last cosigned (`old`), with a
 * consistency proof from there. The operator remembers that size per member
 * (the witness's last answer); when it is wrong — first contact, a lost
 * reply — the witness answers 409 with its size and the request is made
 * again from that size, once.
 */
import { toHex } from "../core/bytes.js";
import { parseCheckpoint } from "../core/checkpoint.js";
import { parseNote } from "../core/note.js";
import { assembleConsistencyProof, consistencyProofRefs } from "../core/tlog.js";
import { CairnError } from "../core/errors.js";
import { DEFAULT_SKEW_SECONDS } from "../core/verify-receipt.js";
import { cosignatureLineTime, cosignaturesFromResponse, formatAddCheckpoint, TLOG_SIZE_CONTENT_TYPE } from "../core/witness-protocol.js";
import type { CheckpointRecord, WitnessAnswerRecord } from "../store/types.js";
import type { Context, Member } from "./context.js";
import { readCapped } from "./read-body.js";

/**
 * How long one witness may take to answer, its own catch-up included (a
 * witness syncs from the operator before it cosigns; see witness.ts).
 */
export const WITNESS_TIMEOUT_MS = 15_000;

/** Longest witness body the operator reads (cosignature lines are ~100 bytes each). */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface WitnessAnswer {
  readonly record: WitnessAnswerRecord;
  /** The member's verified cosignature lines, when it cosigned. */
  readonly cosignatures: readonly string[];
}

/** Asks `member` to cosign `checkpoint`; its cosignature counts only under `key`, the member's key the chain schedules for that size. */
export async function askWitness(ctx: Context, member: Member, key: string, checkpoint: CheckpointRecord, last: WitnessAnswerRecord | undefined): Promise<WitnessAnswer> {
  const now = ctx.clock.now();
  const { root } = parseCheckpoint(parseNote(checkpoint.note).text);
  const answer = (status: WitnessAnswerRecord["status"], size: number, hash: string, detail: string | null, evidence: unknown = null): WitnessAnswerRecord => ({
    member: member.name,
    size,
    hash,
    status,
    detail,
    evidence: evidence === null ? null : JSON.stringify(evidence),
    updatedAt: now,
  });
  const knownSize = last !== undefined && last.size <= checkpoint.size ? last.size : 0;
  try {
    let reply = await post(ctx, member, checkpoint, knownSize);
    if (reply.status === 409 && reply.size !== undefined && reply.size !== knownSize && reply.size <= checkpoint.size) {
      reply = await post(ctx, member, checkpoint, reply.size);
    }
    if (reply.status === 200) {
      let cosignatures: string[];
      try {
        cosignatures = await cosignaturesFromResponse(reply.body, checkpoint.note, key);
        // A member with an ML-DSA-44 key counts only when it signed with both (the published pqQuorum relies on it).
        if (member.pqKey !== undefined) cosignatures.push(...(await cosignaturesFromResponse(reply.body, checkpoint.note, member.pqKey)));
        await checkCosignatureTimes(ctx, checkpoint, cosignatures, now);
      } catch (e) {
        // An answer, but no cosignature by this member's key over this
        // checkpoint: counted for nothing, and shown as what it is.
        const message = `200 without a valid cosignature by ${member.name}: ${(e as Error).message}`;
        return { record: answer("refused", last?.size ?? 0, last?.hash ?? "", message, { asked: checkpoint.note, answered: reply.body.slice(0, 2000) }), cosignatures: [] };
      }
      return { record: answer("cosigned", checkpoint.size, toHex(root), null), cosignatures };
    }
    const size = reply.size ?? last?.size ?? 0;
    const message = `${reply.status}: ${reply.body.trim().slice(0, 500) || "(no message)"}`;
    return { record: answer("refused", size, size === last?.size ? last.hash : "", message, { asked: checkpoint.note, old: reply.old }), cosignatures: [] };
  } catch (e) {
    return { record: answer("unreachable", last?.size ?? 0, last?.hash ?? "", (e as Error).message), cosignatures: [] };
  }
}

/**
 * A cosignature counts here only if a verifier with the default clock skew
 * would count it (core/verify-receipt.ts): dated no earlier than the newest
 * block's seal minus the skew and no later than this clock plus the skew. A
 * witness whose clock is far off would otherwise make "final" checkpoints
 * whose receipts verifiers refuse.
 */
async function checkCosignatureTimes(ctx: Context, checkpoint: CheckpointRecord, lines: readonly string[], now: number): Promise<void> {
  const newest = checkpoint.size === 0 ? undefined : await ctx.primary.getBlock(checkpoint.size - 1);
  const from = (newest?.sealedAt ?? 0) - DEFAULT_SKEW_SECONDS;
  const to = now + DEFAULT_SKEW_SECONDS;
  for (const line of lines) {
    const t = cosignatureLineTime(line);
    if (t < from || t > to) {
      throw new CairnError("COSIGNATURE_TIME_INVALID", `it is dated ${t}, outside ${from}..${to} (the newest block's seal - ${DEFAULT_SKEW_SECONDS} s .. this clock + ${DEFAULT_SKEW_SECONDS} s): verifiers would not count it; check the witness's clock`);
    }
  }
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly old: number;
  /** From a 409 text/x.tlog.size: the size the witness holds. */
  readonly size?: number;
}

async function post(ctx: Context, member: Member, checkpoint: CheckpointRecord, old: number): Promise<Reply> {
  const proof = old === 0 || old === checkpoint.size ? [] : assembleConsistencyProof(old, checkpoint.size, await ctx.primary.readHistoryHashes(consistencyProofRefs(old, checkpoint.size)));
  const send = () =>
    ctx.fetch(`${member.witness}/add-checkpoint`, {
      method: "POST",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
      body: formatAddCheckpoint({ oldSize: old, proof, checkpoint: checkpoint.note }),
      signal: AbortSignal.timeout(WITNESS_TIMEOUT_MS),
    });
  let res: Response;
  try {
    res = await send();
  } catch (e) {
    // A pooled connection the witness closed (it restarted) fails before any
    // answer; add-checkpoint is idempotent (the same checkpoint is simply
    // cosigned again), so it is sent once more on a new connection.
    if (!closedBeforeAnswer(e)) throw e;
    res = await send();
  }
  const body = await readCapped(res, MAX_ANSWER_BYTES, "the witness's answer");
  const sizeReply = res.status === 409 && (res.headers.get("Content-Type") ?? "").startsWith(TLOG_SIZE_CONTENT_TYPE) && /^(0|[1-9]\d{0,15})\n$/.test(body);
  return { status: res.status, body, old, ...(sizeReply ? { size: Number(body.trim()) } : {}) };
}

/** Node's fetch (undici) and workerd's each say it their own way. */
function closedBeforeAnswer(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  if (e instanceof TypeError && (cause?.code === "UND_ERR_SOCKET" || cause?.code === "ECONNRESET")) return true;
  return e instanceof Error && /Network connection lost/i.test(e.message);
}
