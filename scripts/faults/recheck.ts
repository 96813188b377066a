/**
 * After each scenario, everything is checked again from the databases and
 * the receipts, as an auditor would: the primary and every witness's
 * replica are audited from block 0 (service/audit.ts: every hash, link,
 * root, signature and registry record); each replica must be a prefix of
 * the primary; every acknowledged id must be in the chain exactly once and
 * nothing left pending; and every acknowledged id's receipt must verify
 * offline under the trust pinned before any fault.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { verifyReceipt } from "../../src/core/verify-receipt.js";
import { auditChain } from "../../src/service/audit.js";
import { openLibsqlStore, type LibsqlStore } from "../../src/store/libsql.js";
import { sleep, type Deployment } from "./deployment.js";

export interface Recheck {
  readonly ok: boolean;
  /** Acknowledged ids not in the chain. */
  readonly lost: number;
  /** Acknowledged ids in the chain more than once. */
  readonly doubled: number;
  readonly blocks: number;
  readonly receipts: number;
  /** What failed, or a short summary of what held. */
  readonly detail: string;
}

/** Opens a database file for a look (a primary with its intake), and closes it. */
export async function withStore<T>(file: string, f: (s: LibsqlStore) => Promise<T>, options: { intake?: boolean } = {}): Promise<T> {
  const store = await openLibsqlStore({ url: pathToFileURL(file).href, durability: "normal", ...options });
  try {
    return await f(store);
  } finally {
    store.close();
  }
}

/** Milliseconds until every id has a final receipt (200), or undefined past the deadline. */
export async function waitFinal(url: string, ids: readonly string[], timeoutMs: number): Promise<number | undefined> {
  const start = Date.now();
  const open = new Set(ids);
  while (open.size > 0) {
    if (Date.now() - start > timeoutMs) return undefined;
    for (const id of [...open]) {
      const status = await fetch(`${url}/v1/anchors/${id}/receipt`).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      if (status === 200) open.delete(id);
    }
    if (open.size > 0) await sleep(100);
  }
  return Date.now() - start;
}

export async function recheck(d: Deployment, acked: readonly string[]): Promise<Recheck> {
  const problems: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  const audit = { origin: d.origin, operatorKeys: [d.operatorVerifierKey], now };

  const { blocks, counts, pending, hashes } = await withStore(d.primaryFile, async (primary) => {
    const report = await auditChain(primary, audit);
    if (!report.ok) problems.push(`primary: block ${report.firstBad!.height}: ${report.firstBad!.reason}`);
    const head = await primary.head();
    const counts = new Map<string, number>();
    const hashes: string[] = [];
    for (let h = 0; h < head.size; h++) {
      hashes.push((await primary.getBlock(h))!.hash);
      for (const e of await primary.blockEntries(h, 0, Number.MAX_SAFE_INTEGER)) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    }
    return { blocks: head.size, counts, pending: (await primary.pendingStats()).count, hashes };
  }, { intake: true });
  if (pending > 0) problems.push(`${pending} entries still pending`);

  const replicaSizes: string[] = [];
  for (const m of d.members) {
    await withStore(join(m.dataDir, "replica.db"), async (replica) => {
      const report = await auditChain(replica, audit);
      if (!report.ok) problems.push(`${m.name}'s replica: block ${report.firstBad!.height}: ${report.firstBad!.reason}`);
      const head = await replica.head();
      if (head.size > blocks || (head.size > 0 && head.hash !== hashes[head.size - 1])) problems.push(`${m.name}'s replica (${head.size} blocks) is not a prefix of the primary (${blocks})`);
      replicaSizes.push(String(head.size));
    });
  }

  let lost = 0;
  let doubled = 0;
  for (const id of new Set(acked)) {
    const n = counts.get(id) ?? 0;
    if (n === 0) lost++;
    if (n > 1) doubled++;
  }
  if (lost > 0) problems.push(`${lost} acknowledged entries lost`);
  if (doubled > 0) problems.push(`${doubled} acknowledged entries doubled`);

  // Receipts, a few at a time: each fetched from the operator and verified offline under the pinned trust.
  let receipts = 0;
  const ids = [...new Set(acked)].filter((id) => counts.has(id));
  const bad: string[] = [];
  const worker = async () => {
    for (let id = ids.pop(); id !== undefined; id = ids.pop()) {
      try {
        const res = await fetch(`${d.url}/v1/anchors/${id}/receipt`);
        if (res.status !== 200) throw new Error(`receipt answered ${res.status}`);
        const v = await verifyReceipt(await res.json(), d.trust, { noDocument: true });
        if (v.entryId !== id) throw new Error(`receipt is of ${v.entryId}`);
        receipts++;
      } catch (e) {
        if (bad.length < 3) bad.push(`${id.slice(0, 12)}…: ${(e as Error).message}`);
        else bad.length++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (bad.length > 0) problems.push(`${bad.length} receipts did not verify (${bad.filter(Boolean).join("; ")})`);

  return {
    ok: problems.length === 0,
    lost,
    doubled,
    blocks,
    receipts,
    detail: problems.length > 0 ? problems.join("; ") : `${blocks} blocks audited on the primary and replicas of ${replicaSizes.join("/")} blocks; ${receipts} receipts verified`,
  };
}
