/**
 * Each client's share of the submission path: a token bucket per client
 * name, `perSecond` submissions a second sustained and `burst` at once. A
 * client past its share gets RATE_LIMITED (429) with the seconds until its
 * next submission would pass, and the others keep theirs: one client cannot
 * fill the queue and the backlog that every client waits behind. Plain data
 * in memory, shared by the submitters of a process (per isolate on the
 * Worker); a submission counts only once its signature has verified, so
 * nobody can spend another client's share.
 */
import { CairnError } from "../core/errors.js";
import type { Clock } from "./clock.js";

/** Clients remembered; beyond it the stalest are forgotten (they start again with a full bucket). */
const MAX_CLIENTS = 100_000;

export class ClientRates {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limits: { readonly perSecond: number; readonly burst: number },
    private readonly clock: Clock,
  ) {}

  /** Takes one submission from `client`'s share, or throws RATE_LIMITED with how long to wait. */
  take(client: string): void {
    const { perSecond, burst } = this.limits;
    if (perSecond === 0) return;
    const now = this.clock.now();
    const b = this.buckets.get(client) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perSecond);
    b.at = now;
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
      throw new CairnError("RATE_LIMITED", `client ${client} sent more than its share (${perSecond} a second, ${burst} at once); retry in ${wait} s`, { retryAfter: wait });
    }
    b.tokens -= 1;
    this.buckets.delete(client);
    this.buckets.set(client, b);
    while (this.buckets.size > MAX_CLIENTS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
