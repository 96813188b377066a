/**
 * A Worker entry that runs the built Cairn Worker (imported as ./cairn-worker.js,
 * the bundle wrangler makes) with every D1 binding metered: rows read and
 * rows written as D1 reports them in each result's `meta` (the figures D1
 * bills by), calls per binding (each `prepare().run/all/first/raw` and each
 * `batch()` is one call: what D1's "queries per Worker invocation" counts),
 * and outgoing fetches (subrequests). `GET /__meter` answers the totals and
 * `POST /__meter/reset` zeroes them. Only the benchmark uses it
 * (bench/d1-cost.ts compiles it with esbuild); nothing here is deployed.
 *
 * `raw()` results carry no meta, so a metered raw() of a read also runs the
 * statement with all() for its counts and returns raw()'s values: the
 * reads are counted once, and the extra read costs only time, which this
 * benchmark does not measure through this entry.
 */
// @ts-expect-error: no such file here; workerd finds the bundle under this name next to this module (test/worker/harness.ts bundleModules).
import worker from "./cairn-worker.js";

interface Meta {
  readonly rows_read?: number;
  readonly rows_written?: number;
}
interface Result {
  readonly results?: unknown[];
  readonly meta?: Meta;
}
interface Statement {
  bind(...values: unknown[]): Statement;
  all(): Promise<Result>;
  run(): Promise<Result>;
  raw(options?: unknown): Promise<unknown[][]>;
}
interface Database {
  prepare(sql: string): Statement;
  batch(statements: Statement[]): Promise<Result[]>;
  exec(sql: string): Promise<unknown>;
}

interface Tally {
  rowsRead: number;
  rowsWritten: number;
  calls: number;
  statements: number;
}

const tallies = new Map<string, Tally>();
let subrequests = 0;

function tallyOf(binding: string): Tally {
  let t = tallies.get(binding);
  if (t === undefined) tallies.set(binding, (t = { rowsRead: 0, rowsWritten: 0, calls: 0, statements: 0 }));
  return t;
}

function count(t: Tally, meta: Meta | undefined): void {
  t.rowsRead += meta?.rows_read ?? 0;
  t.rowsWritten += meta?.rows_written ?? 0;
}

const READ = /^\s*(select|with)\b/i;

class MeteredStatement implements Statement {
  constructor(
    readonly inner: Statement,
    private readonly tally: Tally,
    private readonly sql: string,
  ) {}

  bind(...values: unknown[]): Statement {
    return new MeteredStatement(this.inner.bind(...values), this.tally, this.sql);
  }

  private async counted(run: () => Promise<Result>): Promise<Result> {
    const result = await run();
    this.tally.calls++;
    this.tally.statements++;
    count(this.tally, result.meta);
    return result;
  }

  all(): Promise<Result> {
    return this.counted(() => this.inner.all());
  }

  run(): Promise<Result> {
    return this.counted(() => this.inner.run());
  }

  async first(column?: string): Promise<unknown> {
    const row = (await this.all()).results?.[0] as Record<string, unknown> | undefined;
    if (row === undefined) return null;
    return column === undefined ? row : row[column];
  }

  async raw(options?: unknown): Promise<unknown[][]> {
    if (READ.test(this.sql)) {
      const values = await this.inner.raw(options);
      await this.all();
      return values;
    }
    // A write: run once, for its counts, and give its rows back as arrays.
    const result = await this.all();
    return (result.results ?? []).map((row) => Object.values(row as Record<string, unknown>));
  }
}

class MeteredDatabase implements Database {
  constructor(
    private readonly inner: Database,
    private readonly tally: Tally,
  ) {}

  prepare(sql: string): Statement {
    return new MeteredStatement(this.inner.prepare(sql), this.tally, sql);
  }

  async batch(statements: Statement[]): Promise<Result[]> {
    const results = await this.inner.batch(statements.map((s) => (s as MeteredStatement).inner));
    this.tally.calls++;
    this.tally.statements += statements.length;
    for (const r of results) count(this.tally, r.meta);
    return results;
  }

  exec(sql: string): Promise<unknown> {
    this.tally.calls++;
    return this.inner.exec(sql);
  }
}

function isD1(value: unknown): value is Database {
  const v = value as Partial<Record<"prepare" | "batch", unknown>> | null;
  return typeof v === "object" && v !== null && typeof v.prepare === "function" && typeof v.batch === "function";
}

// The Worker builds its services once per isolate from the first env it sees: hand it the same metered env each time.
const metered = new WeakMap<object, Record<string, unknown>>();
function meteredEnv(env: Record<string, unknown>): Record<string, unknown> {
  let m = metered.get(env);
  if (m === undefined) {
    m = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isD1(v) ? new MeteredDatabase(v, tallyOf(k)) : v]));
    metered.set(env, m);
  }
  return m;
}

const platformFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  subrequests++;
  return platformFetch(input, init);
};

export default {
  fetch(request: Request, env: Record<string, unknown>, ctx: unknown): Response | Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/__meter") return Response.json({ subrequests, d1: Object.fromEntries(tallies) });
    if (path === "/__meter/reset" && request.method === "POST") {
      subrequests = 0;
      // Zeroed in place: each metered binding holds its tally.
      for (const t of tallies.values()) Object.assign(t, { rowsRead: 0, rowsWritten: 0, calls: 0, statements: 0 });
      return new Response(null, { status: 204 });
    }
    return worker.fetch(request, meteredEnv(env), ctx);
  },
  scheduled(controller: unknown, env: Record<string, unknown>, ctx: unknown): unknown {
    return worker.scheduled(controller, meteredEnv(env), ctx);
  },
};
