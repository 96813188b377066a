/**
 * Bounds how fast one source may guess a secret (the admin token): each
 * source has a budget of failed attempts that refills at a steady rate, and
 * a source that has spent it is refused before its next attempt is even
 * compared, so an attacker learns nothing more until the budget refills.
 * Successes cost nothing. Kept in memory, per process (per isolate on the
 * Worker): a bound on each process's rate, which a 16-character token makes
 * hopeless to brute-force anyway; the limit only removes the shortcut.
 */

export interface AttemptLimits {
  /** Failed attempts a source may make at once. */
  readonly burst: number;
  /** Seconds for one attempt of the budget to come back. */
  readonly refillSeconds: number;
  /** Sources remembered; beyond it the stalest are forgotten. */
  readonly maxSources: number;
}

export const ADMIN_ATTEMPTS: AttemptLimits = { burst: 10, refillSeconds: 6, maxSources: 10_000 };

export class AttemptLimiter {
  /** Per source: the budget left and when it was last counted (unix seconds). */
  private readonly sources = new Map<string, { left: number; at: number }>();

  constructor(
    private readonly limits: AttemptLimits,
    private readonly now: () => number,
  ) {}

  /** Seconds until `source` may try again: 0 when it may now. */
  retryAfter(source: string): number {
    const s = this.refill(source);
    return s.left >= 1 ? 0 : Math.ceil((1 - s.left) * this.limits.refillSeconds);
  }

  /** Counts a failed attempt by `source`. */
  failed(source: string): void {
    const s = this.refill(source);
    s.left = Math.max(0, s.left - 1);
    // Most recently counted last: the first key is the stalest.
    this.sources.delete(source);
    this.sources.set(source, s);
    while (this.sources.size > this.limits.maxSources) this.sources.delete(this.sources.keys().next().value!);
  }

  private refill(source: string): { left: number; at: number } {
    const now = this.now();
    const s = this.sources.get(source) ?? { left: this.limits.burst, at: now };
    s.left = Math.min(this.limits.burst, s.left + Math.max(0, now - s.at) / this.limits.refillSeconds);
    s.at = now;
    return s;
  }
}
