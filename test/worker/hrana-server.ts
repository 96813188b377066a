/**
 * A small stand-in for sqld for tests: the Hrana v2 pipeline over HTTP
 * (POST /v2/pipeline, JSON), which is what `@libsql/client/web` speaks to
 * libsql:// and https:// URLs, over a real SQLite database (the `libsql`
 * package that @libsql/client ships). Enough of the protocol for one-shot
 * streams: execute, batch with step conditions, close. Streams kept open
 * across requests (batons) are refused; Cairn's stores never ask for them.
 * It lets the Worker reach a member replica over libSQL-HTTP on 127.0.0.1
 * without Turso or an sqld binary.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Database from "libsql";

type HranaValue = { type: "null" } | { type: "integer"; value: string } | { type: "float"; value: number } | { type: "text"; value: string } | { type: "blob"; base64: string };
interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: HranaValue[];
  named_args?: { name: string; value: HranaValue }[];
  want_rows?: boolean;
}
type Cond = { type: "ok" | "error"; step: number } | { type: "not"; cond: Cond } | { type: "and" | "or"; conds: Cond[] };
type Request =
  | { type: "execute"; stmt: Stmt }
  | { type: "batch"; batch: { steps: { condition?: Cond; stmt: Stmt }[] } }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number }
  | { type: "close" }
  | { type: string };

/** SQL texts the client stored under ids for this stream (store_sql), to be named by sql_id. */
type StoredSql = Map<number, string>;

export interface HranaServer {
  readonly url: string;
  /** Requests answered so far. */
  readonly requests: () => number;
  /** Stops answering: every request from now on gets HTTP 503. */
  fail(on: boolean): void;
  close(): Promise<void>;
}

function fromHrana(v: HranaValue): unknown {
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(v.value);
    case "float":
      return v.value;
    case "text":
      return v.value;
    case "blob":
      return Buffer.from(v.base64, "base64");
  }
}

function toHrana(v: unknown): HranaValue {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  if (v instanceof ArrayBuffer) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  throw new Error(`cannot encode ${typeof v}`);
}

/** Runs one statement the way sqld does, returning a Hrana StmtResult. */
function execute(db: Database.Database, stmt: Stmt, stored: StoredSql) {
  const sql = stmt.sql ?? (stmt.sql_id === undefined ? undefined : stored.get(stmt.sql_id));
  if (sql === undefined) throw Object.assign(new Error(`no SQL text (sql_id ${stmt.sql_id})`), { code: "SQL_NOT_FOUND" });
  const prepared = db.prepare(sql).safeIntegers(true);
  const args = stmt.named_args?.length ? Object.fromEntries(stmt.named_args.map((a) => [a.name.replace(/^[:@$]/, ""), fromHrana(a.value)])) : (stmt.args ?? []).map(fromHrana);
  if (prepared.reader) {
    const cols = (prepared.columns() as { name: string; type: string | null }[]).map((c) => ({ name: c.name, decltype: c.type }));
    const rows = (prepared.raw(true).all(args) as unknown[][]).map((row) => row.map(toHrana));
    return { cols, rows: stmt.want_rows === false ? [] : rows, affected_row_count: 0, last_insert_rowid: null };
  }
  const info = prepared.run(args) as { changes: number; lastInsertRowid: number | bigint };
  return { cols: [], rows: [], affected_row_count: info.changes, last_insert_rowid: String(info.lastInsertRowid) };
}

function hranaError(e: unknown) {
  const err = e as { message?: string; code?: string };
  return { message: err.message ?? String(e), code: err.code ?? "UNKNOWN" };
}

function holds(cond: Cond, results: ("ok" | "error" | undefined)[]): boolean {
  switch (cond.type) {
    case "ok":
      return results[cond.step] === "ok";
    case "error":
      return results[cond.step] === "error";
    case "not":
      return !holds(cond.cond, results);
    case "and":
      return cond.conds.every((c) => holds(c, results));
    case "or":
      return cond.conds.some((c) => holds(c, results));
  }
}

function answer(db: Database.Database, req: Request, stored: StoredSql) {
  try {
    if (req.type === "execute") return { type: "ok", response: { type: "execute", result: execute(db, (req as { stmt: Stmt }).stmt, stored) } };
    if (req.type === "close") return { type: "ok", response: { type: "close" } };
    if (req.type === "store_sql") {
      const { sql_id, sql } = req as { sql_id: number; sql: string };
      stored.set(sql_id, sql);
      return { type: "ok", response: { type: "store_sql" } };
    }
    if (req.type === "close_sql") {
      stored.delete((req as { sql_id: number }).sql_id);
      return { type: "ok", response: { type: "close_sql" } };
    }
    if (req.type === "batch") {
      const { steps } = (req as { batch: { steps: { condition?: Cond; stmt: Stmt }[] } }).batch;
      const outcome: ("ok" | "error" | undefined)[] = [];
      const stepResults: unknown[] = [];
      const stepErrors: unknown[] = [];
      for (const step of steps) {
        if (step.condition !== undefined && !holds(step.condition, outcome)) {
          outcome.push(undefined);
          stepResults.push(null);
          stepErrors.push(null);
          continue;
        }
        try {
          stepResults.push(execute(db, step.stmt, stored));
          stepErrors.push(null);
          outcome.push("ok");
        } catch (e) {
          stepResults.push(null);
          stepErrors.push(hranaError(e));
          outcome.push("error");
        }
      }
      return { type: "ok", response: { type: "batch", result: { step_results: stepResults, step_errors: stepErrors } } };
    }
    return { type: "error", error: { message: `request type ${req.type} is not supported here`, code: "UNSUPPORTED" } };
  } catch (e) {
    return { type: "error", error: hranaError(e) };
  }
}

/** Serves `path` (a SQLite file, or ":memory:") on 127.0.0.1 at a free port, requiring `token` if given. */
export async function startHranaServer(path: string, token?: string): Promise<HranaServer> {
  const db = new Database(path);
  let count = 0;
  let failing = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      // Decoded whole: a chunk boundary may split a multi-byte character.
      const body = Buffer.concat(chunks).toString("utf8");
      count++;
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (failing) return reply(503, { error: "unavailable (injected)" });
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) return reply(401, { error: "unauthorized" });
      if (req.method === "GET" && req.url === "/v2") return reply(200, {});
      if (req.method !== "POST" || req.url !== "/v2/pipeline") return reply(404, { error: `no route ${req.method} ${req.url}` });
      const { baton, requests } = JSON.parse(body) as { baton: string | null; requests: Request[] };
      if (baton) return reply(400, { error: "streams across requests are not supported here" });
      // One-shot streams: every request list ends with close, so nothing stays open.
      const stored: StoredSql = new Map();
      reply(200, { baton: null, base_url: null, results: requests.map((r) => answer(db, r, stored)) });
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    fail: (on) => void (failing = on),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      db.close();
    },
  };
}
