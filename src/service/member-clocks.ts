/**
 * What the members' clocks say, as far as their cosignatures tell: each
 * counted cosignature is dated by its member's clock, and the operator
 * notes when (on its monotonic clock) it got it. Before dating a block the
 * sealer asks whether its own wall clock has run ahead of the members': a
 * witness refuses a block sealed more than its skew after its own now, and
 * the chain's times never run backwards, so a block dated by a clock 10
 * minutes fast holds finality back for those 10 minutes even after the
 * clock is put right. Seeing it coming, the sealer waits instead, and
 * pending entries stay pending (nothing acknowledged is at risk). The lead
 * that counts is what a witness lets a block be ahead of its clock by
 * default (60 s; the sealer adds rounding): a member that set a larger
 * CAIRN_MAX_SKEW and whose clock is that far behind would have accepted
 * the block, and is held back for nothing.
 *
 * Only what this process saw counts: a monotonic clock does not survive a
 * restart, so an operator that starts with its clock already wrong seals
 * until its first cosignatures come back (docs/RELIABILITY.md).
 */
import type { Clock } from "./clock.js";

/** A member's latest cosignature time and when it arrived (monotonic ms). */
interface Sample {
  readonly time: number;
  readonly at: number;
}

/** Samples older than this are not extrapolated from (a machine's monotonic clock drifts); the sealer asks again before it holds back anyway. */
const FRESH_MS = 60 * 60_000;

export class MemberClocks {
  private readonly samples = new Map<string, Sample>();

  constructor(private readonly clock: Clock) {}

  private elapsed(): number {
    return this.clock.elapsedMs?.() ?? this.clock.now() * 1000;
  }

  /** A counted cosignature by `member`, dated `time` by its clock. */
  observe(member: string, time: number): void {
    this.samples.set(member, { time, at: this.elapsed() });
  }

  /**
   * How many seconds this clock is ahead of enough members that a block
   * dated now could not get `quorum` of `members` cosignatures (each refuses
   * a block more than `skew` seconds after its clock); undefined when it is
   * not (or nothing is known).
   */
  aheadOfQuorum(members: number, quorum: number, skew: number): number | undefined {
    const now = this.clock.now();
    const at = this.elapsed();
    const ahead = [...this.samples.values()]
      .filter((s) => at - s.at <= FRESH_MS)
      .map((s) => now - (s.time + (at - s.at) / 1000))
      .filter((by) => by > skew)
      .sort((a, b) => a - b);
    // More than members − quorum refusing leaves no quorum: the smallest lead among them is the one that matters.
    const refusing = members - quorum + 1;
    return ahead.length >= refusing ? Math.round(ahead[ahead.length - refusing]!) : undefined;
  }
}
