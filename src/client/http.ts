/**
 * A Cairn server as a client sees it (README "The HTTP API"): JSON over the
 * platform's fetch, pushback (429/503 + Retry-After) waited out a bounded
 * number of times, and every refusal an ApiError carrying the server's
 * `{ error: { code, message } }`. No Node module: it runs in browsers,
 * Node, Workers and Deno alike.
 */

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** The platform's fetch by default. */
  readonly fetch?: Fetch;
  /** Per request (default 60 s). */
  readonly timeoutMs?: number;
  /** How many times pushback is waited out before it is an error (default 10). */
  readonly pushbackRetries?: number;
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Makes each request's Authorization from its method and target: a signed
   * request (FORMATS.md §10), signed again for every attempt so a retry after
   * pushback carries a fresh time.
   */
  readonly authorize?: Authorize;
}

export type Authorize = (method: string, target: string) => Promise<string>;

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** Retry-After in milliseconds, when the server sent one. */
  readonly retryAfterMs?: number;
}

/** The server refused, or answered with a status the call did not expect. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    /** The server's machine-readable code, when its body had one. */
    readonly code: string | undefined,
    readonly url: string,
  ) {
    super(message);
  }
}

/** The server could not be reached, or did not answer in time. */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAX_RETRY_AFTER_MS = 30_000;

/** The `{ error: { code, message } }` of an error body, if that is what it is. */
export function errorOf(body: unknown): { code: string; message: string } | undefined {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof e !== "object" || e === null || typeof e.code !== "string") return undefined;
  return { code: e.code, message: typeof e.message === "string" ? e.message : "" };
}

export class Http {
  readonly url: string;
  private readonly fetch: Fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly authorize: Authorize | undefined;

  constructor(url: string, options: HttpOptions = {}) {
    this.authorize = options.authorize;
    this.url = url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retries = options.pushbackRetries ?? 10;
    this.headers = options.headers ?? {};
  }

  get(path: string, expect: readonly number[] = [200]): Promise<Answer> {
    return this.request("GET", path, undefined, expect);
  }

  post(path: string, body: unknown, expect: readonly number[] = [200]): Promise<Answer> {
    return this.request("POST", path, body, expect);
  }

  /**
   * One request, pushback waited out; a status outside `expect` throws
   * ApiError. With `idempotent`, a request that got no answer at all (the
   * connection dropped) is sent again: safe for a signed submission, which
   * the server knows by its id.
   */
  async request(method: string, path: string, body: unknown, expect: readonly number[], options: { idempotent?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
    let dropped = 0;
    for (let attempt = 0; ; attempt++) {
      let answer: Answer;
      try {
        answer = await this.once(method, path, body, options.headers);
      } catch (e) {
        if (options.idempotent && e instanceof UnreachableError && dropped < this.retries) {
          dropped++;
          await sleep(Math.min(250 * 2 ** dropped, MAX_RETRY_AFTER_MS));
          continue;
        }
        throw e;
      }
      if (expect.includes(answer.status)) return answer;
      if ((answer.status === 503 || answer.status === 429) && attempt < this.retries) {
        await sleep(Math.min(answer.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS));
        continue;
      }
      throw this.failure(method, path, answer);
    }
  }

  private async once(method: string, path: string, body: unknown, extra: Record<string, string> | undefined): Promise<Answer> {
    const target = `${this.url}${path}`;
    const headers: Record<string, string> = { Accept: "application/json", ...this.headers, ...extra };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.authorize !== undefined && headers.Authorization === undefined) headers.Authorization = await this.authorize(method, path);
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(target, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (e) {
      const timedOut = (e as Error).name === "TimeoutError";
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = timedOut ? `no answer within ${this.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new UnreachableError(`cannot reach the Cairn server at ${this.url} (${why})`, this.url, { cause: e });
    }
    let parsed: unknown = text;
    if ((res.headers.get("content-type") ?? "").includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const retryAfter = res.headers.get("retry-after");
    const seconds = retryAfter !== null && /^\d+(\.\d+)?$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
    return { status: res.status, body: parsed, ...(seconds === undefined ? {} : { retryAfterMs: seconds * 1000 }) };
  }

  private failure(method: string, path: string, answer: Answer): ApiError {
    const error = errorOf(answer.body);
    const what = `${method} ${this.url}${path} → ${answer.status}`;
    if (error === undefined) {
      const snippet = typeof answer.body === "string" ? answer.body.slice(0, 200).trim() : "";
      return new ApiError(`${what}${snippet ? `: ${snippet}` : ""}${answer.status === 404 ? " (is this a Cairn server?)" : ""}`, answer.status, undefined, this.url);
    }
    return new ApiError(`${what} ${error.code}: ${error.message}`, answer.status, error.code, this.url);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal?.aborted) return fail(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      done();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      fail(signal!.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}
