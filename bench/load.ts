/**
 * A small closed-loop HTTP load generator over node:http keep-alive sockets:
 * `connections` lanes each send their next request as soon as the previous
 * answer arrives, for `durationMs`. Reports requests/s and latency
 * percentiles. Lighter per request than fetch, so on a 2-core machine the
 * generator is less of the bottleneck.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

export interface LoadResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The slowest call: what a stall costs, which a closed loop's p99 hides (its lanes stop sending while they wait). */
  readonly maxMs: number;
  readonly statuses: Record<number, number>;
}

export interface LoadRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
}

export async function load(
  baseUrl: string,
  next: (i: number) => LoadRequest | undefined,
  options: { connections: number; durationMs: number },
): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let issued = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const send = (req: LoadRequest) =>
    new Promise<void>((done, fail) => {
      const t0 = performance.now();
      const r = http.request(
        {
          agent,
          hostname: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          headers: req.body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(req.body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - t0);
            statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
            done();
          });
        },
      );
      r.on("error", fail);
      r.end(req.body);
    });

  const lane = async () => {
    while (performance.now() < deadline) {
      const req = next(issued++);
      if (req === undefined) return;
      await send(req);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, lane));
  const elapsed = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { requests: latencies.length, perSecond: (latencies.length / elapsed) * 1000, p50Ms: pct(50), p99Ms: pct(99), maxMs: latencies.at(-1) ?? NaN, statuses };
}
