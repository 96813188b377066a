/**
 * A member vouching for a checkpoint (C2SP tlog-cosignature, cosignature/v1).
 *
 * The member cosigns only what its own replica shows: the replica must hold
 * exactly as many blocks as the checkpoint covers and its history root,
 * computed from the replica's stored hashes, must equal the checkpoint's.
 * In this deployment the operator's process holds the members' cosigner keys
 * and acts for them; a member that runs its own witness replaces this step
 * with the same check against its own database.
 */
import { bytesEqual } from "../core/bytes.js";
import { parseCheckpoint } from "../core/checkpoint.js";
import { cosigner } from "../core/cosignature.js";
import { parseNote } from "../core/note.js";
import type { NoteSigner } from "../core/keys.js";
import { assembleTreeRoot, treeRootRefs } from "../core/tlog.js";
import type { Context, Member } from "./context.js";

export type Vouch = { readonly ok: true; readonly signer: NoteSigner } | { readonly ok: false; readonly reason: string };

/** The member's cosigner for `note` if its replica agrees with it, else why not. */
export async function vouch(ctx: Context, member: Member, note: string): Promise<Vouch> {
  const checkpoint = parseCheckpoint(parseNote(note).text);
  try {
    const head = await member.store.head();
    if (head.size !== checkpoint.size) {
      return { ok: false, reason: `replica holds ${head.size} blocks, the checkpoint covers ${checkpoint.size}` };
    }
    const root = assembleTreeRoot(head.size, await member.store.readHistoryHashes(treeRootRefs(head.size)));
    if (!bytesEqual(root, checkpoint.root)) return { ok: false, reason: "replica's history root differs from the checkpoint's" };
  } catch (e) {
    return { ok: false, reason: `replica unreachable: ${(e as Error).message}` };
  }
  return { ok: true, signer: cosigner(member.cosignerSeed, member.name, ctx.clock.now()) };
}
