/**
 * A fault proxy: an HTTP hop on loopback between two parts of the
 * deployment (the operator and a witness, or a client and the operator)
 * whose behaviour a scenario switches while traffic flows: pass everything,
 * answer late, answer 500, never answer, or let the request through and
 * drop the connection before the reply (the server acted; the caller
 * cannot know).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ProxyMode =
  | { readonly kind: "pass" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "hang" }
  /** Forward every request, then drop one reply in `every` instead of sending it. */
  | { readonly kind: "drop-reply"; readonly every: number };

/** Hop-by-hop headers, and the ones fetch sets itself. */
const NOT_FORWARDED = new Set(["host", "connection", "keep-alive", "content-length", "transfer-encoding", "content-encoding"]);

export class FaultProxy {
  mode: ProxyMode = { kind: "pass" };
  /** Replies dropped so far (drop-reply). */
  dropped = 0;
  private seen = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly target: () => string,
  ) {
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
  }

  /** Listens on a free loopback port and forwards to `target()` (read per request: the target may move). */
  static async start(target: () => string): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((req, res) => void proxy!.handle(req, res));
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    proxy = new FaultProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, target);
    return proxy;
  }

  set(mode: ProxyMode): void {
    this.mode = mode;
    // Requests parked by "hang" end with it: their callers see the connection close, as when a hung peer is restarted.
    if (mode.kind !== "hang") for (const s of this.sockets) if ((s as Socket & { parked?: boolean }).parked) s.destroy();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const mode = this.mode;
    if (mode.kind === "hang") {
      (req.socket as Socket & { parked?: boolean }).parked = true;
      return;
    }
    if (mode.kind === "status") {
      res.writeHead(mode.status, { "Content-Type": "text/plain" }).end("injected by the fault proxy\n");
      return;
    }
    if (mode.kind === "delay") await new Promise((r) => setTimeout(r, mode.ms));
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => !NOT_FORWARDED.has(k) && typeof v === "string")) as Record<string, string>;
    let upstream: Response;
    let body: Buffer;
    try {
      upstream = await fetch(`${this.target()}${req.url}`, {
        method: req.method!,
        headers,
        ...(chunks.length > 0 && req.method !== "GET" && req.method !== "HEAD" ? { body: Buffer.concat(chunks) } : {}),
      });
      body = Buffer.from(await upstream.arrayBuffer());
    } catch {
      // The target is down: the caller sees what it would see without the proxy, a connection that ends.
      req.socket.destroy();
      return;
    }
    if (mode.kind === "drop-reply" && ++this.seen % mode.every === 0) {
      this.dropped++;
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!NOT_FORWARDED.has(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out).end(body);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((done) => this.server.close(() => done()));
  }
}
