/**
 * Split views: two checkpoints of one log, each signed by its operator, that
 * cannot both describe one append-only history (docs/ARCHITECTURE.md
 * "Split views"). A log that
 * shows one history to some verifiers and another to others is the attack
 * cosigning exists to stop; a quorum that colluded, or a verifier that was
 * handed a forged trust document once, is what this catches after the fact.
 *
 *   - Same size, different root: proof of equivocation on its own. Both
 *     signed notes are the evidence anyone can check.
 *   - Different sizes: consistent only if a consistency proof (RFC 9162
 *     §2.1.4) leads from the smaller root to the larger. An honest operator
 *     can always give one; a proof that does not verify leaves the two
 *     checkpoints unreconciled, which a monitor reports the same way.
 *
 * The caller has already checked each note's signatures against its pinned
 * trust: judging views of a log whose checkpoints nobody signed proves nothing.
 */
import { bytesEqual, toBase64 } from "./bytes.js";
import { type Checkpoint } from "./checkpoint.js";
import { CairnError, isCairnError } from "./errors.js";
import { verifyConsistency } from "./merkle.js";

/** A checkpoint and the signed note it was read from. */
export interface View {
  readonly checkpoint: Checkpoint;
  readonly note: string;
}

export type SplitKind = "same-size" | "inconsistent";

/** Two signed checkpoints that do not fit one history; `evidence` holds both notes. */
export class SplitViewError extends CairnError {
  constructor(
    readonly kind: SplitKind,
    readonly evidence: readonly [View, View],
    message: string,
    cause?: unknown,
  ) {
    super("SPLIT_VIEW", message, cause === undefined ? undefined : { cause });
  }
}

export function isSplitView(e: unknown): e is SplitViewError {
  return e instanceof SplitViewError;
}

function describe(v: View): string {
  return `size ${v.checkpoint.size} root ${toBase64(v.checkpoint.root)}`;
}

/** Throws SplitViewError when `a` and `b` are for the same size with different roots. */
export function checkSameSize(a: View, b: View): void {
  if (a.checkpoint.origin !== b.checkpoint.origin) throw new CairnError("WRONG_ORIGIN", `checkpoints are for two logs (${a.checkpoint.origin}, ${b.checkpoint.origin})`);
  if (a.checkpoint.size === b.checkpoint.size && !bytesEqual(a.checkpoint.root, b.checkpoint.root)) {
    throw new SplitViewError("same-size", [a, b], `the log ${a.checkpoint.origin} signed two different trees of ${a.checkpoint.size} blocks: ${describe(a)} and ${describe(b)}`);
  }
}

/**
 * Checks that `a` and `b` describe one history, given a consistency proof
 * from the smaller size to the larger (empty when the sizes are equal or the
 * smaller tree is empty). Throws SplitViewError otherwise.
 */
export function checkConsistent(a: View, b: View, proof: readonly Uint8Array[]): void {
  checkSameSize(a, b);
  const [older, newer] = a.checkpoint.size <= b.checkpoint.size ? [a, b] : [b, a];
  if (older.checkpoint.size === newer.checkpoint.size) return;
  try {
    verifyConsistency(older.checkpoint.size, newer.checkpoint.size, older.checkpoint.root, newer.checkpoint.root, proof);
  } catch (e) {
    if (!isCairnError(e)) throw e;
    throw new SplitViewError(
      "inconsistent",
      [older, newer],
      `no valid consistency proof joins ${describe(older)} to ${describe(newer)} of ${a.checkpoint.origin} (${e.message}): they may be two histories`,
      e,
    );
  }
}
