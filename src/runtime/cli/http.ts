/**
 * The CLI's view of a Cairn server: the client library's HTTP
 * (src/client/http.ts: JSON, pushback waited out, the server's error code),
 * with every failure turned into a CliError that names the URL, the status,
 * the server's `{ error: { code, message } }` and what the user can do.
 */
import { ApiError, Http, UnreachableError, type Answer, type Authorize } from "../../client/http.js";
import { CliError } from "./common.js";

export { errorOf, type Answer, type Authorize } from "../../client/http.js";

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

export class ServerClient {
  private readonly http: Http;

  /** With `authorize`, every request carries its Authorization (the client's signed request). */
  constructor(
    readonly url: string,
    authorize?: Authorize,
  ) {
    this.http = new Http(url, authorize === undefined ? {} : { authorize });
  }

  get(path: string, expect: readonly number[] = [200]): Promise<Answer> {
    return this.request("GET", path, undefined, expect);
  }

  post(path: string, body: unknown, expect: readonly number[] = [200]): Promise<Answer> {
    return this.request("POST", path, body, expect);
  }

  /** Sends one request, retrying pushback (and, for `idempotent`, a dropped connection); throws HttpError for any status not in `expect`. */
  async request(method: string, path: string, body: unknown, expect: readonly number[], options: { idempotent?: boolean } = {}): Promise<Answer> {
    try {
      return await this.http.request(method, path, body, expect, options);
    } catch (e) {
      if (e instanceof ApiError) {
        const hint = e.code === undefined ? undefined : HINTS[e.code];
        throw new HttpError(`${e.message}${hint ? `\n  ${hint}` : ""}`, e.status, e.code);
      }
      if (e instanceof UnreachableError) {
        throw new CliError(`${e.message}.\n  Start one with \`npm start\` in the Cairn repository, or point --server / CAIRN_SERVER at a running server.`);
      }
      throw e;
    }
  }
}
