/**
 * Request and response schemas of the HTTP API. They validate what comes in
 * and are the source of GET /openapi.json.
 */
import { z } from "@hono/zod-openapi";

export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits");
export const Count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ErrorBody = z
  .object({ error: z.object({ code: z.string().openapi({ example: "STALE_TIME" }), message: z.string() }) })
  .openapi("Error");

export const SubmitBody = z
  .object({ submission: z.string().openapi({ description: "Signed cairn/submission/v1 note (FORMATS.md §4)" }) })
  .openapi("SubmitRequest");

export const AnchorAck = z
  .object({
    id: Hex64.openapi({ description: "Entry id: hex RFC 6962 leaf hash of the entry" }),
    status: z.enum(["pending", "sealed"]),
    promise: z.string().openapi({ description: "Operator-signed cairn/promise/v1 note" }),
  })
  .openapi("AnchorAck");

export const BatchBody = z.object({ submissions: z.array(z.unknown()) }).openapi("BatchRequest");

export const BatchResult = z
  .object({
    results: z.array(
      z.union([
        AnchorAck.extend({ created: z.boolean() }),
        z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
      ]),
    ),
  })
  .openapi("BatchResult");

const ProofJson = z.object({ index: z.number().int(), size: z.number().int(), path: z.array(z.string()).readonly() }).readonly();

export const Receipt = z
  .object({
    version: z.enum(["cairn-receipt/v1", "cairn-receipt/v2"]).openapi({ description: "v1 from the server; v2 is a v1 receipt with the client's salt added (the server never sees a salt)" }),
    entry: z.string(),
    block: z.string(),
    inclusion: ProofJson,
    history: ProofJson,
    checkpoint: z.string(),
    client: z.string().optional(),
    salt: z.string().optional(),
  })
  .readonly()
  .openapi("Receipt");

const BlockPosition = z.object({ height: z.number().int(), index: z.number().int() });

export const AnchorView = z
  .object({
    id: Hex64,
    status: z.enum(["pending", "sealed"]),
    promise: z.string(),
    receivedAt: z.number().int(),
    block: BlockPosition.optional(),
    receipt: Receipt.optional(),
  })
  .openapi("Anchor");

export const Pending = z.object({ id: Hex64, status: z.literal("pending") }).openapi("Pending");

export const DigestAnchors = z
  .object({
    digest: Hex64,
    anchors: z.array(z.object({ id: Hex64, status: z.enum(["pending", "sealed"]), receivedAt: z.number().int(), block: BlockPosition.optional() })),
  })
  .openapi("DigestAnchors");

export const Block = z
  .object({ height: z.number().int(), hash: Hex64, size: z.number().int(), sealedAt: z.number().int(), header: z.string() })
  .openapi("Block");

export const BlockList = z.object({ blocks: z.array(Block), next: z.number().int().nullable() }).openapi("BlockList");

export const BlockEntries = z
  .object({
    height: z.number().int(),
    size: z.number().int(),
    entries: z.array(z.object({ index: z.number().int(), id: Hex64, entry: z.string() })),
    next: z.number().int().nullable(),
  })
  .openapi("BlockEntries");

export const BlockProof = z
  .object({ height: z.number().int(), size: z.number().int(), hash: Hex64, path: z.array(z.string()) })
  .openapi("BlockProof");

export const ConsistencyProof = z
  .object({ from: z.number().int(), to: z.number().int(), path: z.array(z.string()) })
  .openapi("ConsistencyProof");

export const Consortium = z
  .object({
    origin: z.string(),
    operator: z.object({ name: z.string(), key: z.string() }),
    members: z.array(
      z.object({
        name: z.string(),
        key: z.string(),
        pqKey: z.string().optional().openapi({ description: "Its ML-DSA-44 cosigner key (type 0x06), when it cosigns post-quantum too" }),
        witness: z.string().openapi({ description: "URL prefix of the member's witness (C2SP tlog-witness)" }),
        answer: z
          .object({
            status: z.enum(["cosigned", "refused", "unreachable"]),
            at: z.number().int(),
            message: z.string().nullable().optional().openapi({ description: "The witness's words; for members and admin only" }),
            evidence: z.unknown().optional().openapi({ description: "What was asked and answered; for members and admin only" }),
          })
          .nullable()
          .openapi({ description: "The witness's last answer to add-checkpoint" }),
        head: z.object({ size: z.number().int(), root: z.string() }).nullable().openapi({ description: "Its latest cosigned checkpoint, as far as the operator knows" }),
      }),
    ),
    quorum: z.number().int(),
  })
  .openapi("Consortium");

const TrustV1 = z
  .object({
    version: z.literal("cairn-trust/v1"),
    origin: z.string(),
    operatorKeys: z.array(z.string()).readonly(),
    members: z.array(z.object({ name: z.string(), key: z.string() }).readonly()).readonly(),
    quorum: z.number().int(),
  })
  .readonly();

const ScheduledKey = z.object({ key: z.string(), from: z.number().int(), until: z.number().int().optional() }).readonly();

const TrustV2 = z
  .object({
    version: z.literal("cairn-trust/v2"),
    origin: z.string(),
    operatorKeys: z.array(ScheduledKey).readonly(),
    members: z.array(z.object({ name: z.string(), keys: z.array(ScheduledKey).readonly() }).readonly()).readonly(),
    quorum: z.number().int(),
    pqQuorum: z.number().int(),
  })
  .readonly();

/** Version 1 while no member has an ML-DSA-44 key; version 2 once one has (FORMATS.md §8). */
export const Trust = z.union([TrustV1, TrustV2]).openapi("Trust");

export const VerifyBody = z
  .object({
    receipt: z.unknown(),
    digest: Hex64.openapi({ description: "SHA-256 of the document, to compare with the entry (required: a receipt checked without it proves nothing about any document)" }),
  })
  .openapi("VerifyRequest");

const Step = z.object({ step: z.string(), status: z.enum(["ok", "skipped"]), detail: z.string() });

export const VerifyResult = z
  .object({
    ok: z.boolean(),
    steps: z.array(Step),
    error: z.object({ code: z.string(), message: z.string(), step: z.string().optional() }).optional(),
    result: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("VerifyResult");

export const RegisterBody = z.object({ key: z.string().openapi({ description: "C2SP verifier key, type 0x01" }) }).openapi("RegisterClient");

export const Client = z
  .object({ name: z.string(), key: z.string(), status: z.enum(["active", "revoked"]), createdAt: z.number().int(), revokedAt: z.number().int().nullable() })
  .openapi("Client");

export const SealReport = z
  .object({
    block: z.object({ height: z.number().int(), size: z.number().int(), hash: Hex64 }).optional(),
    head: z.object({ size: z.number().int(), hash: z.string() }),
    final: z.boolean(),
    cosigners: z.array(z.string()),
    reason: z.string().optional(),
  })
  .openapi("SealReport");

export const MemberKeyBody = z
  .object({ record: z.string().max(16 * 1024).openapi({ description: "The key record the member signed with its old and new cosigner key (cairn member rotate-key)" }) })
  .openapi("MemberKeyBody");

export const KeyRecordAck = z
  .object({
    id: z.string().openapi({ description: "The record's entry id (hex RFC 6962 leaf hash)" }),
    role: z.enum(["operator", "member"]),
    name: z.string().openapi({ description: "Whose key turns over: the origin, or the member's name" }),
    entry: z.string().openapi({ description: "The signed record as it will be sealed" }),
  })
  .openapi("KeyRecordAck");
