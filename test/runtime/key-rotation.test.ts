/**
 * Rotating keys on a running deployment (issue 9.6): the embedded default —
 * the operator and three member witnesses as processes of their own — moves
 * the operator to CAIRN_OPERATOR_NEXT_KEY and one member to a key made by
 * `cairn member rotate-key`, each through a chain record the witnesses
 * verify. Receipts from before, between and after both verify under the
 * trust document the log then publishes (and the old ones under the one
 * pinned before); a checkpoint signed with the retired operator key after its
 * retirement is refused by the verifier and by the witnesses, and a retired
 * member key no longer counts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cosign,
  formatAddCheckpoint,
  formatNote,
  generateKeyPair,
  isCairnError,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  parseNote,
  parseSignerKey,
  parseTrust,
  parseVerifierKey,
  sha256,
  signNote,
  signSubmission,
  trustFingerprint,
  utf8,
  verifyReceipt,
  type ReceiptJson,
  type Trust,
  type TrustV1,
  type TrustV2,
} from "../../src/core/index.js";
import { DEV_ORIGIN } from "../../src/runtime/dev-setup.js";
import { startNode, type RunningNode } from "../../src/runtime/node.js";
import { silentLogger } from "../../src/service/log.js";
import { cairnRunner } from "../cli/run-cairn.js";

let dir: string;
let node: RunningNode;
let admin: string;
const next = generateKeyPair(DEV_ORIGIN, sha256(utf8("key rotation test: the operator's next key")), KEY_TYPE_ED25519);
const env = () => ({ CAIRN_DATA_DIR: dir, CAIRN_OPERATOR_NEXT_KEY: next.signerKey });
const start = () => startNode({ env: env(), port: 0, durability: "normal", log: silentLogger, sealTimer: false });
const cairn = cairnRunner(() => dir);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-rotation-"));
  node = await start();
  admin = readFileSync(join(dir, "admin-token"), "utf8").trim();
});
afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

const adminPost = (path: string, body?: unknown) =>
  fetch(`${node.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** Anchors `text`, seals until the block is final and every witness has answered, and returns the receipt. */
async function anchored(text: string): Promise<{ doc: Uint8Array; receipt: ReceiptJson }> {
  const doc = utf8(text);
  const signer = noteSigner(readFileSync(join(dir, "client.key"), "utf8").trim());
  const submission = await signSubmission({ origin: DEV_ORIGIN, digest: sha256(doc), time: Math.floor(Date.now() / 1000) }, signer);
  const posted = await fetch(`${node.url}/v1/anchors`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ submission }) });
  expect(posted.status).toBe(202);
  const { id } = await posted.json();
  const sealed = await (await adminPost("/v1/admin/seal")).json();
  expect(sealed, JSON.stringify(sealed)).toMatchObject({ final: true });
  await node.sealer.idle();
  const receipt = (await (await fetch(`${node.url}/v1/anchors/${id}/receipt`)).json()) as ReceiptJson;
  return { doc, receipt };
}

/**
 * The receipt of `id` once `member`'s cosignature is in it: a seal returns at
 * the quorum, and a slower witness's cosignature joins the stored checkpoint
 * after (under load, after the seal thread reports idle).
 */
async function receiptCosignedBy(receipt: ReceiptJson, doc: Uint8Array, member: string, trust: TrustV2): Promise<ReceiptJson> {
  const id = (await verifyReceipt(receipt, trust, { document: doc })).entryId;
  for (const until = Date.now() + 30_000; ; ) {
    const current = (await (await fetch(`${node.url}/v1/anchors/${id}/receipt`)).json()) as ReceiptJson;
    if ((await verifyReceipt(current, trust, { document: doc })).cosigners.includes(member)) return current;
    if (Date.now() > until) throw new Error(`${member} never cosigned the checkpoint of ${id}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const trustNow = async (): Promise<Trust> => parseTrust(await (await fetch(`${node.url}/v1/trust`)).json());
const sizeOf = (r: ReceiptJson) => Number(parseNote(r.checkpoint).text.split("\n")[1]);
const devOperator = () => JSON.parse(readFileSync(join(dir, "dev-keys.json"), "utf8")).operatorKey as string;

describe("rotating the operator key and a member's key on the running embedded default", () => {
  const receipts: { name: string; doc: Uint8Array; receipt: ReceiptJson }[] = [];
  let before: Trust;
  let after: TrustV2;
  let member: string;

  it("moves the operator to its next key through a record both keys signed", async () => {
    receipts.push({ name: "before", ...(await anchored("a deed anchored before any rotation\n")) });
    before = await trustNow();
    expect(before.version).toBe("cairn-trust/v1");

    const queued = await adminPost("/v1/admin/keys/operator");
    expect(queued.status).toBe(202);
    const record = await queued.json();
    expect(record.entry).toContain("cairn/key/v1\n");
    // Asking again changes nothing.
    expect((await adminPost("/v1/admin/keys/operator")).status).toBe(200);

    const between = await anchored("sealed with the record: its checkpoint is the old key's last\n");
    receipts.push({ name: "between", ...between });
    const first = await anchored("the first checkpoint under the new key\n");
    receipts.push({ name: "after operator", ...first });
    const signedBy = (r: ReceiptJson) => parseNote(r.checkpoint).signatures.find((s) => s.name === DEV_ORIGIN)!.keyId;
    expect(signedBy(between.receipt)).toBe(parseSignerKey(devOperator()).keyId);
    expect(signedBy(first.receipt)).toBe(parseSignerKey(next.signerKey).keyId);
    expect(sizeOf(first.receipt)).toBe(sizeOf(between.receipt) + 1);
  });

  it("moves a member to the key `cairn member rotate-key` made, countersigned by the operator", async () => {
    const consortium = await (await fetch(`${node.url}/v1/consortium`)).json();
    member = consortium.members[0].name as string;
    const made = await cairn(["member", "rotate-key", "--data-dir", join(dir, "members", member)], { env: { CAIRN_MEMBER_NAME: member, CAIRN_LOG_ORIGIN: DEV_ORIGIN } });
    expect(made.code, made.stderr).toBe(0);
    const record = made.stdout.trimEnd() + "\n";
    expect(readFileSync(join(dir, "members", member, "cosigner-next.key"), "utf8")).toMatch(/^PRIVATE\+KEY\+/);

    // Tampered on the way to the operator: refused, nothing queued.
    const tampered = record.replace(/\n(\d+)\n\n/, (_, t) => `\n${Number(t) + 1}\n\n`);
    expect((await adminPost("/v1/admin/keys/member", { record: tampered })).status).toBe(400);
    const queued = await adminPost("/v1/admin/keys/member", { record });
    expect(queued.status, await queued.clone().text()).toBe(202);

    receipts.push({ name: "member record", ...(await anchored("sealed with the member's record\n")) });
    const last = await anchored("the member cosigns this one with its new key\n");
    after = (await trustNow()) as TrustV2;
    const cosigned = await receiptCosignedBy(last.receipt, last.doc, member, after);
    receipts.push({ name: "after member", doc: last.doc, receipt: cosigned });
    // Its cosignature is the new key's: the trust document gives the old one no say at this size.
    const line = parseNote(cosigned.checkpoint).signatures.find((x) => x.name === member)!;
    expect(line.keyId).toBe(parseVerifierKey(after.members.find((m) => m.name === member)!.keys.at(-1)!.key).keyId);
  });

  it("publishes the schedule, and every receipt verifies under it (the old ones under the document pinned before too)", async () => {
    expect(after.version).toBe("cairn-trust/v2");
    const rotationSize = sizeOf(receipts.find((r) => r.name === "between")!.receipt);
    expect(after.operatorKeys).toEqual([
      { key: (before as TrustV1).operatorKeys[0], from: 0, until: rotationSize },
      { key: next.verifierKey, from: rotationSize + 1 },
    ]);
    const memberSize = sizeOf(receipts.find((r) => r.name === "member record")!.receipt);
    const keys = after.members.find((m) => m.name === member)!.keys;
    expect(keys.map((k) => [k.from, k.until])).toEqual([
      [0, memberSize],
      [memberSize + 1, undefined],
    ]);
    for (const { name, doc, receipt } of receipts) {
      const result = await verifyReceipt(receipt, after, { document: doc });
      expect(result.cosigners.length, name).toBeGreaterThanOrEqual(after.quorum);
    }
    await verifyReceipt(receipts[0]!.receipt, before, { document: receipts[0]!.doc });
  });

  it("a verifier re-pins the rotated document (it carries the pinned one on), and refuses one that swaps a member's key", async () => {
    writeFileSync(join(dir, "before.json"), JSON.stringify(before));
    expect((await cairn(["trust", "add", join(dir, "before.json")])).code).toBe(0);
    const repinned = await cairn(["trust", "add", "--from", node.url, "--fingerprint", trustFingerprint(after)]);
    expect(repinned.code, repinned.stderr).toBe(0);
    expect(repinned.stdout).toMatch(/replaces fingerprint [0-9a-f]{64}, which it carries on/);

    // The server hands out a document in which another member's key is its own, from size 0.
    const other = after.members.find((m) => m.name !== member)!;
    const stolen = generateKeyPair(other.name, sha256(utf8("the operator's key for a member")), KEY_TYPE_COSIGNATURE_V1).verifierKey;
    const forged = { ...after, members: after.members.map((m) => (m.name === other.name ? { name: m.name, keys: [{ key: stolen, from: 0 }] } : m)) };
    writeFileSync(join(dir, "forged.json"), JSON.stringify(forged));
    const refused = await cairn(["trust", "add", join(dir, "forged.json")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`would rewrite the one pinned (fingerprint ${trustFingerprint(after)})`);
    expect(refused.stderr).toContain(`member ${other.name}: key ${other.keys[0]!.key} is gone`);
  });

  it("refuses a checkpoint signed with the retired operator key after its retirement: verifier and witnesses", async () => {
    const { doc, receipt } = receipts.at(-1)!;
    const note = parseNote(receipt.checkpoint);
    const old = noteSigner(devOperator());
    const oldLine = parseNote(await signNote(note.text, [old])).signatures[0]!;
    const resigned = formatNote(note.text, [oldLine, ...note.signatures.filter((s) => s.name !== DEV_ORIGIN)]);
    try {
      await verifyReceipt({ ...receipt, checkpoint: resigned }, after, { document: doc });
      expect.unreachable();
    } catch (e) {
      expect(isCairnError(e, "KEY_NOT_VALID"), String(e)).toBe(true);
    }

    // Each witness refuses it too, though it is a checkpoint it already cosigned.
    const consortium = await (await fetch(`${node.url}/v1/consortium`)).json();
    const size = sizeOf(receipt);
    const oldOnly = formatNote(note.text, [oldLine]);
    for (const m of consortium.members) {
      const res = await fetch(`${m.witness}/add-checkpoint`, { method: "POST", body: formatAddCheckpoint({ oldSize: size, proof: [], checkpoint: oldOnly }) });
      expect(res.status, m.name).toBe(403);
      expect(await res.text()).toMatch(/LOG_SIGNATURE_INVALID/);
    }
  });

  it("no longer counts a cosignature by the member's retired key", async () => {
    const { doc, receipt } = receipts.at(-1)!;
    const note = parseNote(receipt.checkpoint);
    const retired = readFileSync(join(dir, "members", member, "cosigner.key"), "utf8").trim();
    const withRetired = await cosign(formatNote(note.text, note.signatures.filter((s) => s.name !== member)), parseSignerKey(retired).seed, member, Math.floor(Date.now() / 1000));
    const result = await verifyReceipt({ ...receipt, checkpoint: withRetired }, after, { document: doc }).catch((e: unknown) => e);
    if (isCairnError(result)) expect(result.code).toBe("QUORUM_NOT_MET");
    else expect((result as { cosigners: string[] }).cosigners).not.toContain(member);
  });

  it("keeps signing with the new key after a restart, and the whole chain audits clean", async () => {
    await node.close();
    node = await start();
    const later = await anchored("after a restart\n");
    await receiptCosignedBy(later.receipt, later.doc, member, (await trustNow()) as TrustV2);
    await node.close();
    const audit = await cairn(["audit", "--data-dir", dir]);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    node = await start();
  });
});
