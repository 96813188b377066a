/**
 * Load from the SDK (src/client): a few loops, each preparing and
 * submitting fresh documents one after another with CairnClient, as an
 * application would. The client waits out pushback and resends a signed
 * submission whose reply was lost (the server knows it by its id); what it
 * still cannot get acknowledged is counted as refused, by reason. Every
 * acknowledged id is kept, for the re-check.
 */
import { CairnClient } from "../../src/client/index.js";
import { utf8 } from "../../src/core/bytes.js";

export interface LoadOptions {
  /** Where each loop sends (the same server, or one per loop for racing operators). */
  readonly servers: readonly string[];
  readonly clientKey: string;
  readonly loops?: number;
  readonly label: string;
}

export class Load {
  /** Acknowledged ids, in the order acknowledged. */
  readonly acked: string[] = [];
  /** Submissions the client gave up on, by reason. */
  readonly refused = new Map<string, number>();
  /** Each loop's last acknowledged id. */
  private readonly last: (string | undefined)[];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly options: LoadOptions) {
    const n = options.loops ?? 4;
    this.last = new Array<string | undefined>(n).fill(undefined);
    this.loops = Array.from({ length: n }, (_, i) => this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    const server = this.options.servers[i % this.options.servers.length]!;
    // Short timeouts and few retries: a scenario's refusals should show in its row, not stall the loop for minutes.
    const client = new CairnClient({ server, key: this.options.clientKey, timeoutMs: 10_000, pushbackRetries: 6 });
    for (let n = 0; this.running; n++) {
      try {
        const prepared = await client.prepare(utf8(`${this.options.label} loop ${i} document ${n} ${Date.now()} ${Math.random()}`));
        const ack = await client.submit(prepared);
        this.acked.push(ack.id);
        this.last[i] = ack.id;
      } catch (e) {
        const err = e as { code?: string; name?: string; message: string };
        const reason = err.code ?? err.name ?? "error";
        this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The newest acknowledged id of each loop: once these are final, so is every earlier one (sealing is first in, first out). */
  lastIds(): string[] {
    return this.last.filter((x): x is string => x !== undefined);
  }

  get refusedCount(): number {
    return [...this.refused.values()].reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
