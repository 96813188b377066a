/**
 * Key rotation against the real operator service and member witness
 * processes' code (test/service/harness.ts): a witness that was away while
 * the operator rotated catches up and follows the new key; an operator that
 * switches keys without a record, or slips a forged record into a block, gets
 * no cosignature (the forged record is held as evidence); a member whose
 * witness lacks its next key says so and picks it up without a restart.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  countersignKeyRecord,
  entryId,
  formatKeyRecord,
  formatSignerKey,
  formatVerifierKey,
  generateKeyPair,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  noteSigner,
  parseSignerKey,
  sha256,
  signMemberKeyRecord,
  signNote,
  utf8,
} from "../../src/core/index.js";
import { anchor, document, operatorSignerKey, registerClient, sealFully, startCluster, submission, ORIGIN, type Cluster } from "./harness.js";

const next = generateKeyPair(ORIGIN, sha256(utf8("key rotation service test: next operator key")), KEY_TYPE_ED25519);
const operatorVerifier = () => {
  const k = parseSignerKey(operatorSignerKey());
  return formatVerifierKey(k.name, k.type, k.publicKey);
};

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function anchorAndSeal(c: Cluster, client: Awaited<ReturnType<typeof registerClient>>, label: string) {
  expect((await anchor(c, await submission(c, client, document(label)))).status).toBe(202);
  return sealFully(c);
}

const answerOf = async (c: Cluster, name: string) => {
  // The witnesses' messages are for members and the admin (README "Privacy").
  const consortium = await (await c.request("/v1/consortium", { admin: true })).json();
  return consortium.members.find((m: { name: string }) => m.name === name).answer as { status: string; message?: string };
};

describe("rotating the operator key", () => {
  it("a witness that was away during the rotation catches up through it and cosigns under the new key", async () => {
    const c = (cluster = await startCluster({ members: 3, quorum: 2, config: { nextOperatorKey: next.signerKey } }));
    const away = c.witnesses[2]!;
    await away.stop();
    const client = await registerClient(c);
    expect((await anchorAndSeal(c, client, "before")).final).toBe(true);
    expect((await c.request("/v1/admin/keys/operator", { method: "POST", admin: true })).status).toBe(202);
    expect((await anchorAndSeal(c, client, "with the record")).final).toBe(true);
    const report = await anchorAndSeal(c, client, "under the new key");
    expect(report.final).toBe(true);
    const latest = (await c.primary.latestCheckpoint(0))!;
    expect(latest.note).toContain(`— ${ORIGIN} `);
    expect((await c.services.keys.signerFor(latest.size)).keyId).toBe(noteSigner(next.signerKey).keyId);

    // Back with an empty replica: the checkpoint is signed by a key it never heard of, until it reads the record.
    await away.start();
    await sealFully(c);
    expect((await answerOf(c, away.name)).status).toBe("cosigned");
    expect((await away.running!.witness.status()).latest?.size).toBe(latest.size);
  });

  it("an operator that starts signing with another key without a record gets no cosignature", async () => {
    const c = (cluster = await startCluster({ members: 2, quorum: 1, configure: (config) => ({ ...config, operatorKey: next.signerKey }) }));
    const client = await registerClient(c);
    const report = await anchorAndSeal(c, client, "unannounced key");
    expect(report.final).toBe(false);
    for (const w of c.witnesses) expect((await answerOf(c, w.name)).message).toMatch(/403.*LOG_SIGNATURE_INVALID/);
  });

  it("a forged record slipped into a block halts every witness with the record as evidence", async () => {
    const stranger = generateKeyPair(ORIGIN, sha256(utf8("a key the operator never held")), KEY_TYPE_ED25519);
    // Signed by the new key and a third one: whoever holds the operator's key in use never agreed.
    const forged = await signNote(formatKeyRecord({ origin: ORIGIN, role: "operator", old: operatorVerifier(), new: stranger.verifierKey, time: 1_900_000_000 }), [noteSigner(stranger.signerKey), noteSigner(next.signerKey)]);
    const c = (cluster = await startCluster({ members: 2, quorum: 1 }));
    await c.primary.insertPending([{ id: entryId(forged), entry: forged, digest: "", client: ORIGIN, receivedAt: c.clock.now(), promise: "" }]);
    const report = await sealFully(c);
    expect(report.final).toBe(false);
    for (const w of c.witnesses) {
      const status = await w.running!.witness.status();
      expect(status.halted?.code).toBe("BAD_KEY_RECORD");
      expect(status.halted?.entry?.text).toBe(forged);
    }
  });

  it("a member record the operator made up (a key pair of its own for the member) halts every witness", async () => {
    const c = (cluster = await startCluster({ members: 2, quorum: 1 }));
    const member = c.witnesses[0]!.name;
    const madeUp = generateKeyPair(member, sha256(utf8("the operator's idea of the member's key")), KEY_TYPE_COSIGNATURE_V1);
    const chosen = generateKeyPair(member, sha256(utf8("the key the operator wants the member to have")), KEY_TYPE_COSIGNATURE_V1);
    const real = c.config.members[0]!.key;
    const half = await signMemberKeyRecord({ origin: ORIGIN, role: "member", old: madeUp.verifierKey, new: chosen.verifierKey, time: c.clock.now() }, parseSignerKey(madeUp.signerKey).seed, parseSignerKey(chosen.signerKey).seed);
    // The text names the member's real key as the old one; the signatures are by the made-up pair.
    const lying = (await countersignKeyRecord(half, noteSigner(operatorSignerKey()))).replace(madeUp.verifierKey, real);
    // Through the admin route it is refused outright...
    expect((await c.request("/v1/admin/keys/member", { method: "POST", admin: true, json: { record: half.replace(madeUp.verifierKey, real) } })).status).toBe(400);
    // ...and slipped into pending by a lying operator, it halts the witnesses.
    await c.primary.insertPending([{ id: entryId(lying), entry: lying, digest: "", client: member, receivedAt: c.clock.now(), promise: "" }]);
    expect((await sealFully(c)).final).toBe(false);
    for (const w of c.witnesses) expect((await w.running!.witness.status()).halted?.code).toBe("BAD_KEY_RECORD");
  });
});

describe("rotating a member's key", () => {
  it("a witness without its next key answers 503 and says why; once the key file is there it cosigns, without a restart", async () => {
    const c = (cluster = await startCluster({ members: 3, quorum: 2 }));
    const w = c.witnesses[0]!;
    const client = await registerClient(c);
    expect((await anchorAndSeal(c, client, "before")).final).toBe(true);
    const oldKey = parseSignerKey(readKey(w.dir));
    const nextSeed = sha256(utf8("m1 next cosigner key"));
    const nextKey = formatSignerKey(w.name, KEY_TYPE_COSIGNATURE_V1, nextSeed);
    const record = await signMemberKeyRecord({ origin: ORIGIN, role: "member", old: c.config.members[0]!.key, new: generateKeyPair(w.name, nextSeed, KEY_TYPE_COSIGNATURE_V1).verifierKey, time: c.clock.now() }, oldKey.seed, nextSeed);
    const queued = await c.request("/v1/admin/keys/member", { method: "POST", admin: true, json: { record } });
    expect(queued.status, await queued.clone().text()).toBe(202);
    // The same record again, or another rotation while it waits.
    expect((await c.request("/v1/admin/keys/member", { method: "POST", admin: true, json: { record } })).status).toBe(200);
    expect((await anchorAndSeal(c, client, "with the record")).final).toBe(true);
    expect((await anchorAndSeal(c, client, "the new key's first")).final).toBe(true);
    const answer = await answerOf(c, w.name);
    expect(answer.status).toBe("refused");
    expect(answer.message).toMatch(/503.*does not hold it/);
    expect((await w.running!.witness.status()).halted).toBeNull();

    writeFileSync(join(w.dir, "cosigner-next.key"), nextKey + "\n", { mode: 0o600 });
    await sealFully(c);
    expect((await answerOf(c, w.name)).status).toBe("cosigned");

    // Later the member keeps only the new key: its reads, signed with it, still open the blocks it must verify.
    await w.stop();
    writeFileSync(join(w.dir, "cosigner.key"), nextKey + "\n", { mode: 0o600 });
    rmSync(join(w.dir, "cosigner-next.key"));
    await w.start();
    expect((await anchorAndSeal(c, client, "new key only")).final).toBe(true);
    expect((await answerOf(c, w.name)).status).toBe("cosigned");
    expect((await w.running!.witness.status()).latest?.size).toBe((await c.primary.head()).size);
  });
});

function readKey(dir: string): string {
  return readFileSync(join(dir, "cosigner.key"), "utf8").trim();
}
