/**
 * A malicious operator, for test/service/witness-attacks.test.ts. It holds
 * what a real operator holds — the operator's private key (the harness's
 * fixed seed, so the witnesses' pinned CAIRN_LOG_KEYS match) and its own
 * database, here chains it builds in memory — and nothing of the members'.
 * Everything it makes is real: client records signed with the operator key
 * (core/client-record.ts), submissions signed by client keys
 * (core/submission.ts), block headers and hashes (core/block.ts), RFC 6962
 * history roots and consistency proofs over the block hashes
 * (core/merkle.ts), checkpoints signed with the operator key
 * (core/checkpoint.ts, core/note.ts). A chain can be made to lie in any
 * header field, and two chains can share a prefix (a fork, a rewrite).
 *
 * It serves the operator's public read API on 127.0.0.1 in the shape the
 * witness reads it (src/http/app.ts, src/service/reads.ts):
 *   GET /v1/blocks/{h}                         → { height, hash, size, sealedAt, header }
 *   GET /v1/blocks/{h}/entries?offset=&limit=  → { height, size, entries: [{ index, id, entry }], next }
 * from whichever chain it is told to serve (it can switch at any moment, as
 * an operator that lies does), and `lie` can answer single reads otherwise:
 * a status, a doctored body, or a connection dropped without an answer.
 *
 * Towards witnesses it is the operator's side of C2SP tlog-witness
 * add-checkpoint (core/witness-protocol.ts formatAddCheckpoint), on a fresh
 * connection per request, so a witness restarted on its port is reached anew.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { blockHash, formatBlockHeader, ZERO_HASH_HEX } from "../../src/core/block.js";
import { fromHex, toHex, utf8 } from "../../src/core/bytes.js";
import { formatCheckpoint } from "../../src/core/checkpoint.js";
import { signClientRecord } from "../../src/core/client-record.js";
import { sha256 } from "../../src/core/hash.js";
import { generateKeyPair, KEY_TYPE_ED25519, noteSigner, type NoteSigner } from "../../src/core/keys.js";
import { consistencyProof, leafHash, merkleRoot, rootFromLevels, treeLevels } from "../../src/core/merkle.js";
import { signNote } from "../../src/core/note.js";
import { entryId, signSubmission } from "../../src/core/submission.js";
import { formatAddCheckpoint } from "../../src/core/witness-protocol.js";
import { operatorSignerKey, ORIGIN } from "./harness.js";

// ---------------------------------------------------------------------------
// Clients.

export interface TestClient {
  readonly name: string;
  readonly verifierKey: string;
  readonly signer: NoteSigner;
}

/** A client key pair from a fixed seed: `label` tells apart two keys under one name. */
export function makeClient(name: string, label = name): TestClient {
  const keys = generateKeyPair(name, sha256(utf8(`attack client ${label}`)), KEY_TYPE_ED25519);
  return { name, verifierKey: keys.verifierKey, signer: noteSigner(keys.signerKey) };
}

/** A submission signed by `client` for the document `doc`, dated `time`. */
export function submit(client: TestClient, doc: string, time: number, origin = ORIGIN): Promise<string> {
  return signSubmission({ origin, digest: sha256(utf8(doc)), time }, client.signer);
}

// ---------------------------------------------------------------------------
// Chains.

export interface Block {
  readonly height: number;
  readonly header: string;
  readonly entries: readonly string[];
  /** The block hash: the RFC 6962 leaf hash of the header, its leaf in the history tree. */
  readonly hash: Uint8Array;
  readonly sealedAt: number;
}

/** Header fields a block may state falsely; anything left out is what an honest sealer writes. */
export interface HeaderLies {
  readonly origin?: string;
  readonly height?: number;
  readonly prevHash?: Uint8Array;
  readonly size?: number;
  readonly root?: Uint8Array;
}

/** A chain of blocks as the operator's database holds it, with its history tree over the block hashes. */
export class Chain {
  private constructor(private readonly list: Block[]) {}

  static empty(): Chain {
    return new Chain([]);
  }

  get size(): number {
    return this.list.length;
  }

  get blocks(): readonly Block[] {
    return this.list;
  }

  block(height: number): Block {
    const b = this.list[height];
    if (b === undefined) throw new Error(`the chain has no block ${height}`);
    return b;
  }

  /** Seals `entries` into block `size`, linked to the tip, at `sealedAt`; `lies` replaces header fields. */
  append(entries: readonly string[], sealedAt: number, lies: HeaderLies = {}): Block {
    const height = this.list.length;
    const leaves = new Uint8Array(entries.length * 32);
    entries.forEach((e, i) => leaves.set(leafHash(utf8(e)), i * 32));
    const header = formatBlockHeader({
      origin: lies.origin ?? ORIGIN,
      height: lies.height ?? height,
      prevHash: lies.prevHash ?? (height === 0 ? fromHex(ZERO_HASH_HEX, 32) : this.block(height - 1).hash),
      size: lies.size ?? entries.length,
      root: lies.root ?? rootFromLevels(treeLevels(leaves), entries.length),
      sealedAt,
    });
    const block = { height, header, entries: [...entries], hash: blockHash(header), sealedAt };
    this.list.push(block);
    return block;
  }

  /** A new chain holding this one's first `size` blocks: where a fork or a rewrite starts. */
  prefix(size: number): Chain {
    if (size > this.list.length) throw new Error(`the chain has only ${this.list.length} blocks`);
    return new Chain(this.list.slice(0, size));
  }

  /** A new chain: this one with the served entries of block `height` replaced (the header stays). */
  withEntries(height: number, entries: readonly string[]): Chain {
    const list = [...this.list];
    list[height] = { ...this.block(height), entries: [...entries] };
    return new Chain(list);
  }

  private leaves(size: number): Uint8Array[] {
    if (size > this.list.length) throw new Error(`the chain has only ${this.list.length} blocks`);
    return this.list.slice(0, size).map((b) => b.hash);
  }

  /** The RFC 6962 root of the history tree of the first `size` blocks. */
  root(size = this.size): Uint8Array {
    return merkleRoot(this.leaves(size));
  }

  /** The consistency proof from `oldSize` to `size` blocks of this chain's history tree. */
  proof(oldSize: number, size = this.size): Uint8Array[] {
    return consistencyProof(this.leaves(size), oldSize);
  }
}

// ---------------------------------------------------------------------------
// HTTP, on a connection of its own per request.

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

/** One HTTP request with no connection reuse (a witness may have just been restarted on that port). */
export function http(url: string, init: { method?: string; body?: string; contentType?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) {
      headers["Content-Type"] = init.contentType ?? "text/plain; charset=utf-8";
      headers["Content-Length"] = String(Buffer.byteLength(init.body));
    }
    const req = httpRequest(url, { method: init.method ?? "GET", agent: false, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          retryAfter: res.headers["retry-after"] === undefined ? undefined : String(res.headers["retry-after"]),
          body,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

// ---------------------------------------------------------------------------
// The operator.

/** One read of the public API, as the witness asked for it. */
export interface Read {
  readonly kind: "block" | "entries";
  readonly height: number;
  readonly offset: number;
  readonly limit: number;
}

/** What `lie` answers instead of the served chain: a status and JSON body, or a dropped connection. */
export type LieAnswer = { readonly status: number; readonly body?: unknown } | "drop";

export interface AddCheckpointArgs {
  readonly old: number;
  readonly proof?: readonly Uint8Array[];
  /** The signed checkpoint note. */
  readonly checkpoint: string;
}

export class MaliciousOperator {
  /** The operator's own key: the one the witnesses pin. */
  readonly signer: NoteSigner = noteSigner(operatorSignerKey());
  /** What GET /v1/blocks… serves. */
  serving: Chain = Chain.empty();
  /** Answers a read otherwise than the served chain would, when it returns something. */
  lie: ((read: Read) => LieAnswer | undefined) | undefined;
  /** Every read the witnesses made, in order ("block 3", "entries 3 0"). */
  readonly reads: string[] = [];

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<MaliciousOperator> {
    let self: MaliciousOperator | undefined;
    const server = createServer((req, res) => self!.handle(req, res));
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const { port } = server.address() as AddressInfo;
    self = new MaliciousOperator(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Switches what the read API serves (an honest chain, a rewritten one, a truncated one). */
  serve(chain: Chain): void {
    this.serving = chain;
  }

  /** How many reads of `kind` for block `height` the witnesses made. */
  readsOf(kind: Read["kind"], height: number): number {
    return this.reads.filter((r) => (kind === "block" ? r === `block ${height}` : r.startsWith(`entries ${height} `))).length;
  }

  register(client: TestClient, time: number): Promise<string> {
    return signClientRecord({ origin: ORIGIN, action: "register", key: client.verifierKey, time }, this.signer);
  }

  revoke(client: TestClient, time: number): Promise<string> {
    return signClientRecord({ origin: ORIGIN, action: "revoke", key: client.verifierKey, time }, this.signer);
  }

  /** A checkpoint of the first `size` blocks of `chain`, signed with the operator key; `root` lies about the root. */
  checkpoint(chain: Chain, size = chain.size, root = chain.root(size)): Promise<string> {
    return signNote(formatCheckpoint({ origin: ORIGIN, size, root }), [this.signer]);
  }

  /** POST <witness>/add-checkpoint with exactly these fields. */
  addCheckpoint(witnessUrl: string, args: AddCheckpointArgs): Promise<HttpAnswer> {
    const body = formatAddCheckpoint({ oldSize: args.old, proof: [...(args.proof ?? [])], checkpoint: args.checkpoint });
    return http(`${witnessUrl}/add-checkpoint`, { method: "POST", body });
  }

  /**
   * Asks a witness to cosign `checkpoint` (default: this chain's, signed now)
   * of `size` blocks of `chain`, from `old` with the chain's own consistency
   * proof: what an operator that believes in `chain` sends.
   */
  async ask(witnessUrl: string, chain: Chain, size: number, old: number, checkpoint?: string): Promise<HttpAnswer & { checkpoint: string }> {
    const note = checkpoint ?? (await this.checkpoint(chain, size));
    const proof = old === 0 || old === size ? [] : chain.proof(old, size);
    return { ...(await this.addCheckpoint(witnessUrl, { old, proof, checkpoint: note })), checkpoint: note };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const block = /^\/v1\/blocks\/(0|[1-9]\d*)$/.exec(url.pathname);
    const entries = /^\/v1\/blocks\/(0|[1-9]\d*)\/entries$/.exec(url.pathname);
    if (req.method !== "GET" || (block === null && entries === null)) return json(404, { error: { code: "NOT_FOUND", message: `no route for ${req.method} ${url.pathname}` } });
    const read: Read = {
      kind: block ? "block" : "entries",
      height: Number((block ?? entries)![1]),
      offset: Number(url.searchParams.get("offset") ?? 0),
      limit: Number(url.searchParams.get("limit") ?? 100),
    };
    this.reads.push(read.kind === "block" ? `block ${read.height}` : `entries ${read.height} ${read.offset}`);
    const lie = this.lie?.(read);
    if (lie === "drop") {
      req.socket.destroy();
      return;
    }
    if (lie !== undefined) return json(lie.status, lie.body ?? { error: { code: "LIE", message: "as the test told" } });

    const b = this.serving.blocks[read.height];
    if (b === undefined) return json(404, { error: { code: "NOT_FOUND", message: `no block at height ${read.height}` } });
    if (read.kind === "block") return json(200, { height: b.height, hash: toHex(b.hash), size: b.entries.length, sealedAt: b.sealedAt, header: b.header });
    const page = b.entries.slice(read.offset, read.offset + Math.min(read.limit, 1000));
    const end = read.offset + page.length;
    json(200, {
      height: b.height,
      size: b.entries.length,
      entries: page.map((entry, i) => ({ index: read.offset + i, id: entryId(entry), entry })),
      next: end < b.entries.length ? end : null,
    });
  }
}
