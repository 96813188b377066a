/**
 * Who signed a checkpoint note, and when (C2SP signed-note,
 * tlog-cosignature): each signature line matched to the operator or a member
 * by key name and id, and checked under the key `/v1/consortium` publishes
 * for it. The explorer shows this; it proves nothing beyond what the
 * server's own publication vouches for, which is why verification against
 * pinned trust is the verify page's job, not this one's.
 */
import { utf8 } from "../core/bytes.js";
import { parseCheckpoint, type Checkpoint } from "../core/checkpoint.js";
import { cosignatureTimestamp } from "../core/cosignature.js";
import { KEY_TYPE_COSIGNATURE_MLDSA44, KEY_TYPE_COSIGNATURE_V1, keyIdHex, noteVerifier, type NoteVerifier } from "../core/keys.js";
import { parseNote } from "../core/note.js";
import type { ConsortiumJson } from "./wire.js";

export interface SignatureLine {
  readonly name: string;
  readonly keyId: string;
  readonly role: "operator" | "member" | "unknown";
  readonly kind: "Ed25519" | "cosignature/v1" | "ML-DSA-44" | "unknown";
  /** The cosignature's signed time (unix seconds), when the line carries one. */
  readonly timestamp?: number;
  /** ok: verifies under the published key; bad: does not; unknown-key: no published key has this name and id. */
  readonly check: "ok" | "bad" | "unknown-key";
}

export interface DescribedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly signatures: readonly SignatureLine[];
}

function kindOf(type: number): SignatureLine["kind"] {
  return type === KEY_TYPE_COSIGNATURE_V1 ? "cosignature/v1" : type === KEY_TYPE_COSIGNATURE_MLDSA44 ? "ML-DSA-44" : "Ed25519";
}

export async function describeCheckpoint(note: string, consortium: ConsortiumJson): Promise<DescribedCheckpoint> {
  const parsed = parseNote(note);
  const checkpoint = parseCheckpoint(parsed.text);
  const known: { verifier: NoteVerifier; role: "operator" | "member" }[] = [];
  const add = (key: string | undefined, role: "operator" | "member") => {
    if (key === undefined) return;
    try {
      known.push({ verifier: noteVerifier(key), role });
    } catch {
      // A key this code cannot read is one it cannot check: its lines stay "unknown-key".
    }
  };
  add(consortium.operator.key, "operator");
  for (const m of consortium.members) {
    add(m.key, "member");
    add(m.pqKey, "member");
  }
  const text = utf8(parsed.text);
  const signatures = await Promise.all(
    parsed.signatures.map(async (sig): Promise<SignatureLine> => {
      const match = known.find((k) => k.verifier.name === sig.name && k.verifier.keyId === sig.keyId);
      const keyId = keyIdHex(sig.keyId);
      if (match === undefined) {
        let timestamp: number | undefined;
        try {
          timestamp = cosignatureTimestamp(sig.signature);
        } catch {
          // Not shaped as a cosignature/v1: no time to show.
        }
        return { name: sig.name, keyId, role: "unknown", kind: timestamp === undefined ? "unknown" : "cosignature/v1", check: "unknown-key", ...(timestamp === undefined ? {} : { timestamp }) };
      }
      const result = await match.verifier.verify(text, sig.signature.slice());
      return {
        name: sig.name,
        keyId,
        role: match.role,
        kind: kindOf(match.verifier.type),
        check: result.ok ? "ok" : "bad",
        ...(result.timestamp === undefined ? {} : { timestamp: result.timestamp }),
      };
    }),
  );
  return { checkpoint, signatures };
}
