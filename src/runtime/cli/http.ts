/**
 * The CLI's view of a Cairn server (README "The HTTP API"): JSON requests
 * over fetch, pushback (429/503 + Retry-After) retried a bounded number of
 * times, and every failure turned into a CliError that names the URL, the
 * status and the server's `{ error: { code, message } }`.
 */
import { CliError } from "./common.js";

/** Per request; a receipt or a 1000-item batch answers far sooner. */
const REQUEST_TIMEOUT_MS = 60_000;
const PUSHBACK_RETRIES = 10;
const MAX_RETRY_AFTER_MS = 30_000;

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** Retry-After in milliseconds, when the server sent one. */
  readonly retryAfterMs?: number;
}

/** The server answered with a status the command did not expect. */
export class HttpError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const HINTS: Record<string, string> = {
  UNKNOWN_CLIENT: "the server does not know this client key: the operator registers its verifier key with POST /v1/admin/clients (see `cairn keygen --help`)",
  CLIENT_REVOKED: "this client key was revoked by the operator; make a new one with `cairn keygen NAME` and have it registered",
  STALE_TIME: "the submission time is more than 5 minutes from the server's clock: check this machine's clock",
  WRONG_ORIGIN: "the server serves another log than the one this submission names",
  UNKNOWN_PREV: "--prev must be the entry id of an anchor this server knows",
  UNAUTHORIZED: "the server did not accept this request's credential: check the client key (--key, CAIRN_CLIENT_KEY), that the operator registered it, and this machine's clock",
};

/** Makes a request's Authorization from its method and target (a signed request, FORMATS.md §10). */
export type Authorize = (method: string, target: string) => Promise<string>;

export class ServerClient {
  /** With `authorize`, every request carries its Authorization (the client's signed request). */
  constructor(
    readonly url: string,
    private readonly authorize?: Authorize,
  ) {}

  async get(path: string, expect: readonly number[] = [200]): Promise<Answer> {
    return this.request("GET", path, undefined, expect);
  }

  async post(path: string, body: unknown, expect: readonly number[] = [200]): Promise<Answer> {
    return this.request("POST", path, body, expect);
  }

  /** Sends one request, retrying pushback; throws HttpError for any status not in `expect`. */
  async request(method: string, path: string, body: unknown, expect: readonly number[]): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const answer = await this.once(method, path, body);
      if (expect.includes(answer.status)) return answer;
      const pushback = answer.status === 503 || answer.status === 429;
      if (pushback && attempt < PUSHBACK_RETRIES) {
        await new Promise((done) => setTimeout(done, Math.min(answer.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS)));
        continue;
      }
      throw this.failure(method, path, answer);
    }
  }

  private async once(method: string, path: string, body: unknown): Promise<Answer> {
    const target = `${this.url}${path}`;
    const headers: Record<string, string> = body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" };
    // Signed per attempt: a retry after pushback gets a fresh time.
    if (this.authorize !== undefined) headers.Authorization = await this.authorize(method, path);
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      throw unreachable(this.url, e);
    }
    const text = await res.text();
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

  private failure(method: string, path: string, answer: Answer): HttpError {
    const error = errorOf(answer.body);
    const what = `${method} ${this.url}${path} → ${answer.status}`;
    if (error === undefined) {
      const snippet = typeof answer.body === "string" ? answer.body.slice(0, 200).trim() : "";
      return new HttpError(`${what}${snippet ? `: ${snippet}` : ""}${answer.status === 404 ? " (is this a Cairn server?)" : ""}`, answer.status, undefined);
    }
    const hint = HINTS[error.code];
    return new HttpError(`${what} ${error.code}: ${error.message}${hint ? `\n  ${hint}` : ""}`, answer.status, error.code);
  }
}

/** The `{ error: { code, message } }` of an error body, if that is what it is. */
export function errorOf(body: unknown): { code: string; message: string } | undefined {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof e !== "object" || e === null || typeof e.code !== "string") return undefined;
  return { code: e.code, message: typeof e.message === "string" ? e.message : "" };
}

function unreachable(url: string, e: unknown): CliError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if ((e as Error).name === "TimeoutError") return new CliError(`the Cairn server at ${url} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  const reason = cause?.code ?? cause?.message ?? (e as Error).message;
  return new CliError(
    `cannot reach the Cairn server at ${url} (${reason}).\n` +
      "  Start one with `npm start` in the Cairn repository, or point --server / CAIRN_SERVER at a running server.",
  );
}
