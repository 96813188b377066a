/**
 * The JSON the explorer reads, as the server sends it (README "The HTTP
 * API", src/http/schemas.ts). Only the fields the pages use.
 */

export interface BlockJson {
  readonly height: number;
  readonly hash: string;
  readonly size: number;
  readonly sealedAt: number;
  readonly header: string;
}

export interface BlockListJson {
  readonly blocks: readonly BlockJson[];
  readonly next: number | null;
}

export interface BlockEntriesJson {
  readonly height: number;
  readonly size: number;
  readonly entries: readonly { readonly index: number; readonly id: string; readonly entry: string }[];
  readonly next: number | null;
}

export interface MemberJson {
  readonly name: string;
  readonly key: string;
  readonly pqKey?: string;
  readonly witness: string;
  readonly answer: { readonly status: "cosigned" | "refused" | "unreachable"; readonly at: number; readonly message?: string | null } | null;
  readonly head: { readonly size: number; readonly root: string } | null;
}

export interface ConsortiumJson {
  readonly origin: string;
  readonly operator: { readonly name: string; readonly key: string };
  readonly members: readonly MemberJson[];
  readonly quorum: number;
}

export interface AnchorJson {
  readonly id: string;
  readonly status: "pending" | "sealed";
  readonly receivedAt: number;
  readonly block?: { readonly height: number; readonly index: number };
}

export interface DigestAnchorsJson {
  readonly digest: string;
  readonly anchors: readonly AnchorJson[];
}

export interface HealthJson {
  readonly ok: boolean;
  readonly origin?: string;
  readonly blocks?: number;
  readonly pending?: number;
}
