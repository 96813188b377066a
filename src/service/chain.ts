/**
 * The chain as readers see it: which checkpoint is final (carries a quorum
 * of cosignatures), and where an entry stands. An entry in a block that no
 * final checkpoint covers yet is still "pending" to the outside world: it has
 * no receipt until the members have vouched for its block.
 */
import type { CheckpointRecord, EntryRecord, PendingRecord } from "../store/types.js";
import type { Context } from "./context.js";

/** How long a final checkpoint read is reused; seals in this process refresh it at once. */
const FINAL_TTL_MS = 500;

export type AnchorState =
  | { readonly state: "pending"; readonly promise: string; readonly pending: PendingRecord }
  | { readonly state: "committed" | "sealed"; readonly promise: string; readonly entry: EntryRecord };

export class ChainView {
  private final: { checkpoint: CheckpointRecord | undefined; at: number } | undefined;

  constructor(private readonly ctx: Context) {}

  /** The newest checkpoint with a quorum of cosignatures. */
  async finalCheckpoint(): Promise<CheckpointRecord | undefined> {
    const now = Date.now();
    if (this.final === undefined || now - this.final.at > FINAL_TTL_MS) {
      this.final = { checkpoint: await this.ctx.primary.latestCheckpoint(this.ctx.config.quorum), at: now };
    }
    return this.final.checkpoint;
  }

  /** Forget the cached final checkpoint (after a seal or cosigning changed it). */
  refresh(): void {
    this.final = undefined;
  }

  async lookup(id: string): Promise<AnchorState | undefined> {
    const entry = await this.ctx.primary.getEntry(id);
    if (entry !== undefined) {
      const final = await this.finalCheckpoint();
      const state = final !== undefined && entry.height < final.size ? "sealed" : "committed";
      return { state, promise: entry.promise, entry };
    }
    const pending = await this.ctx.primary.getPending(id);
    return pending && { state: "pending", promise: pending.promise, pending };
  }
}

/** The status word clients see: only final entries are "sealed". */
export function publicStatus(state: AnchorState["state"]): "pending" | "sealed" {
  return state === "sealed" ? "sealed" : "pending";
}
