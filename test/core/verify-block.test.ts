import { describe, expect, it } from "vitest";
import { blockHash, formatBlockHeader, ZERO_HASH_HEX } from "../../src/core/block.js";
import { concatBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from "../../src/core/bytes.js";
import { KeySchedule } from "../../src/core/key-record.js";
import { ClientRegistry, parseClientRecordEntry, signClientRecord, type ClientAction } from "../../src/core/client-record.js";
import { CairnError } from "../../src/core/errors.js";
import { sha256 } from "../../src/core/hash.js";
import { generateKeyPair, noteSigner, type NoteSigner } from "../../src/core/keys.js";
import { leafHash, merkleRoot } from "../../src/core/merkle.js";
import { signNote } from "../../src/core/note.js";
import { entryId, formatSubmission, parseEntry, signSubmission } from "../../src/core/submission.js";
import { verifyBlock, type BlockCheckOptions, type ChainTip, type VerifiedBlock } from "../../src/core/verify-block.js";

const ORIGIN = "cairn.test/log";
const OTHER = "other.test/log";
const T = 1_800_000_000;
const WINDOW = 300;

function keyPair(label: string, name: string) {
  return generateKeyPair(name, sha256(utf8(label)));
}

const operator = keyPair("verify-block test operator", ORIGIN);
const otherOperator = keyPair("verify-block test other operator", OTHER);
const impostor = keyPair("verify-block test impostor", ORIGIN);
const opSigner = noteSigner(operator.signerKey);

interface Client {
  readonly name: string;
  readonly verifierKey: string;
  readonly signer: NoteSigner;
}
function client(label: string, name: string): Client {
  const k = keyPair(`verify-block test ${label}`, name);
  return { name, verifierKey: k.verifierKey, signer: noteSigner(k.signerKey) };
}
const alice = client("alice", "alice.example/app");
const bob = client("bob", "bob.example/app");
const carol = client("carol", "carol.example/app");
const dave = client("dave", "dave.example/app");
const aliceOther = client("alice, another key", "alice.example/app");

const OPTIONS: BlockCheckOptions = { origin: ORIGIN, keys: KeySchedule.pinned([operator.verifierKey]), now: T + 1000, maxSkewSeconds: 60, timeWindowSeconds: WINDOW };

function record(action: ClientAction, c: Client, time = T, signer = opSigner, origin = ORIGIN): Promise<string> {
  return signClientRecord({ origin, action, key: c.verifierKey, time }, signer);
}

let serial = 0;
/** A fresh submission (a new digest each call) by `c`. */
function submit(c: Client, time = T, origin = ORIGIN): Promise<string> {
  return signSubmission({ origin, digest: sha256(utf8(`document ${serial++}`)), time }, c.signer);
}

const leaves = (entries: readonly string[]) => entries.map((e) => leafHash(utf8(e)));

interface Built {
  readonly header: string;
  readonly entries: string[];
}

/** An honest header over `entries` (root recomputed with merkleRoot, independently of verifyBlock's treeLevels). */
function block(tip: ChainTip | undefined, entries: string[], sealedAt = (tip?.sealedAt ?? T) + 10, patch: Partial<Parameters<typeof formatBlockHeader>[0]> = {}): Built {
  const header = formatBlockHeader({
    origin: ORIGIN,
    height: tip === undefined ? 0 : tip.height + 1,
    prevHash: tip === undefined ? new Uint8Array(32) : fromHex(tip.hash),
    size: entries.length,
    root: merkleRoot(leaves(entries)),
    sealedAt,
    ...patch,
  });
  return { header, entries };
}

function tipOf(b: VerifiedBlock): ChainTip {
  return { height: b.header.height, hash: toHex(b.hash), sealedAt: b.header.sealedAt };
}

async function expectRefused(p: Promise<unknown>, code: string, message?: RegExp): Promise<CairnError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(CairnError);
  expect((e as CairnError).code, (e as CairnError).message).toBe(code);
  if (message) expect((e as CairnError).message).toMatch(message);
  return e as CairnError;
}

/** Flips one bit of byte `i` of the signature line's base64 payload (key id ‖ signature). */
function flipSignatureByte(entry: string, i: number): string {
  const split = entry.lastIndexOf("\n\n") + 2;
  const line = entry.slice(split, -1);
  const space = line.lastIndexOf(" ");
  const raw = fromBase64(line.slice(space + 1));
  raw[i]! ^= 0x01;
  return entry.slice(0, split) + line.slice(0, space + 1) + toBase64(raw) + "\n";
}

/** A chain state to build on: block 0 registered alice and bob (and alice submitted). */
async function genesis() {
  const b0 = block(undefined, [await record("register", alice), await record("register", bob), await submit(alice)]);
  const v0 = await verifyBlock(undefined, b0.header, b0.entries, ClientRegistry.empty(), OPTIONS);
  return { b0, v0, tip: tipOf(v0), registry: v0.registry };
}

describe("verifyBlock: the honest path", () => {
  it("verifies a chain of several blocks, threading the tip and the registry", async () => {
    const registries = [ClientRegistry.empty()];
    let tip: ChainTip | undefined;
    const plan: (() => Promise<string>)[][] = [
      [() => record("register", alice), () => record("register", bob), () => submit(alice), () => submit(bob), () => submit(alice)],
      [() => submit(bob), () => record("register", carol), () => submit(carol), () => submit(alice)],
      [() => submit(carol)],
      [() => submit(bob), () => record("revoke", bob), () => submit(alice), () => submit(carol)],
      [() => record("revoke", alice, T + 50), () => submit(carol, T + 40)],
    ];
    const expected = [
      { records: 2, submissions: 3 },
      { records: 1, submissions: 3 },
      { records: 0, submissions: 1 },
      { records: 1, submissions: 3 },
      { records: 1, submissions: 1 },
    ];
    const hashes: string[] = [];
    for (const [height, steps] of plan.entries()) {
      const entries: string[] = [];
      for (const step of steps) entries.push(await step());
      const b = block(tip, entries, T + 10 * height);
      const v = await verifyBlock(tip, b.header, b.entries, registries.at(-1)!, OPTIONS);
      expect(v.header.height).toBe(height);
      expect(v.hash).toEqual(blockHash(b.header));
      expect(v.header.prevHash).toEqual(height === 0 ? fromHex(ZERO_HASH_HEX) : fromHex(hashes.at(-1)!));
      expect(v.leafHashes).toEqual(concatBytes(...entries.map((e) => fromHex(entryId(e)))));
      expect({ records: v.records, submissions: v.submissions }).toEqual(expected[height]);
      hashes.push(toHex(v.hash));
      registries.push(v.registry);
      tip = tipOf(v);
    }
    const status = (r: ClientRegistry) => Object.fromEntries([...r.entries()].map(([name, s]) => [name, s.status]));
    expect(status(registries[0]!)).toEqual({});
    expect(status(registries[1]!)).toEqual({ "alice.example/app": "active", "bob.example/app": "active" });
    expect(status(registries[2]!)).toEqual({ "alice.example/app": "active", "bob.example/app": "active", "carol.example/app": "active" });
    expect([...registries[3]!.entries()]).toEqual([...registries[2]!.entries()]); // a block without records
    expect(status(registries[4]!)).toEqual({ "alice.example/app": "active", "bob.example/app": "revoked", "carol.example/app": "active" });
    expect(status(registries[5]!)).toEqual({ "alice.example/app": "revoked", "bob.example/app": "revoked", "carol.example/app": "active" });
  });

  it("accepts a registration and the client's first entry in the same block", async () => {
    const b = block(undefined, [await record("register", carol), await submit(carol)]);
    const v = await verifyBlock(undefined, b.header, b.entries, ClientRegistry.empty(), OPTIONS);
    expect(v.registry.lookup(carol.name)?.status).toBe("active");
    // What each entry is, as the witness stores it.
    const submission = parseEntry(b.entries[1]!).submission;
    expect(v.entries).toEqual([
      { record: true, client: carol.name, digest: undefined, time: parseClientRecordEntry(b.entries[0]!).time },
      { record: false, client: carol.name, digest: submission.digest, time: submission.time },
    ]);
  });

  it("accepts an entry made before its client's revocation in the same block", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(bob), await record("revoke", bob), await submit(alice)]);
    const v = await verifyBlock(tip, b.header, b.entries, registry, OPTIONS);
    expect(v.submissions).toBe(2);
    expect(v.registry.lookup(bob.name)?.status).toBe("revoked");
    expect(registry.lookup(bob.name)?.status).toBe("active"); // the input registry is untouched
  });

  it("accepts the boundaries: sealed at the tip's time, at now + skew, entries at sealedAt + window", async () => {
    const { tip, registry } = await genesis();
    const sealedAt = OPTIONS.now + OPTIONS.maxSkewSeconds;
    const b = block(tip, [await submit(alice, sealedAt + WINDOW), await record("register", carol, sealedAt + WINDOW)], sealedAt);
    await verifyBlock(tip, b.header, b.entries, registry, OPTIONS);
    const same = block(tip, [await submit(alice)], tip.sealedAt);
    await verifyBlock(tip, same.header, same.entries, registry, OPTIONS);
  });

  it("accepts records signed by any pinned operator key", async () => {
    const next = keyPair("verify-block test operator, next", ORIGIN);
    const b = block(undefined, [await record("register", alice, T, noteSigner(next.signerKey)), await submit(alice)]);
    await expectRefused(verifyBlock(undefined, b.header, b.entries, ClientRegistry.empty(), OPTIONS), "BAD_CLIENT_RECORD");
    const both = { ...OPTIONS, keys: KeySchedule.pinned([operator.verifierKey, next.verifierKey, operator.verifierKey]) };
    await verifyBlock(undefined, b.header, b.entries, ClientRegistry.empty(), both);
  });

  it("verifies a block of many entries, the signatures checked many at a time", async () => {
    const { tip, registry } = await genesis();
    const entries = await Promise.all(Array.from({ length: 700 }, (_, i) => submit([alice, bob][i % 2]!)));
    const b = block(tip, entries);
    const v = await verifyBlock(tip, b.header, b.entries, registry, OPTIONS);
    expect(v.submissions).toBe(700);
    // With several bad signatures in different batches, the lowest index is reported, every time.
    const bad = entries.slice();
    for (const i of [650, 300, 301]) bad[i] = flipSignatureByte(bad[i]!, 40);
    const broken = block(tip, bad);
    for (let k = 0; k < 2; k++) {
      await expectRefused(verifyBlock(tip, broken.header, broken.entries, registry, OPTIONS), "ENTRY_SIGNATURE_INVALID", /^block 1 entry 300: /);
    }
  });

});

describe("verifyBlock: the header and the chain", () => {
  it("refuses a header that does not parse (BAD_BLOCK)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice)]);
    for (const header of ["", b.header.slice(0, -1), b.header.replace("cairn/block/v1", "cairn/block/v2"), b.header + "extra\n"]) {
      await expectRefused(verifyBlock(tip, header, b.entries, registry, OPTIONS), "BAD_BLOCK", /^block 1: /);
    }
  });

  it("refuses a gap (BLOCK_NOT_CONTIGUOUS)", async () => {
    const { tip, registry } = await genesis();
    const entries = [await submit(alice)];
    const skip = block({ ...tip, height: tip.height + 1 }, entries);
    await expectRefused(verifyBlock(tip, skip.header, skip.entries, registry, OPTIONS), "BLOCK_NOT_CONTIGUOUS", /^block 2: .*height 1/);
    const again = block(undefined, entries);
    await expectRefused(verifyBlock(tip, again.header, again.entries, registry, OPTIONS), "BLOCK_NOT_CONTIGUOUS", /^block 0: /);
    const first = block({ height: 0, hash: "11".repeat(32), sealedAt: T }, entries);
    await expectRefused(verifyBlock(undefined, first.header, first.entries, registry, OPTIONS), "BLOCK_NOT_CONTIGUOUS", /first block must have height 0/);
  });

  it("refuses a fork: the right height with another previous hash (BLOCK_PREV_MISMATCH)", async () => {
    const { tip, registry } = await genesis();
    const fork = block({ ...tip, hash: toHex(sha256(utf8("another block 0"))) }, [await submit(alice)]);
    await expectRefused(verifyBlock(tip, fork.header, fork.entries, registry, OPTIONS), "BLOCK_PREV_MISMATCH", /^block 1: .*hash of block 0/);
  });

  it("refuses a genesis block with a non-zero previous hash (the header parser refuses it: BAD_BLOCK)", async () => {
    const entries = [await record("register", alice)];
    const header = formatBlockHeader({ origin: ORIGIN, height: 0, prevHash: sha256(utf8("x")), size: 1, root: merkleRoot(leaves(entries)), sealedAt: T });
    await expectRefused(verifyBlock(undefined, header, entries, ClientRegistry.empty(), OPTIONS), "BAD_BLOCK", /^block 0: .*previous hash/);
  });

  it("refuses a header of another origin (WRONG_ORIGIN)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice)], undefined, { origin: OTHER });
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "WRONG_ORIGIN", /^block 1: .*other\.test\/log/);
  });

  it("refuses a block sealed before the tip (BLOCK_BACKDATED)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice, tip.sealedAt - 5)], tip.sealedAt - 1);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BLOCK_BACKDATED", /^block 1: /);
  });

  it("refuses a block sealed beyond now + skew (BLOCK_FROM_FUTURE)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice)], OPTIONS.now + OPTIONS.maxSkewSeconds + 1);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BLOCK_FROM_FUTURE", /^block 1: /);
  });
});

describe("verifyBlock: the batch", () => {
  it("refuses a root that does not match (BATCH_ROOT_MISMATCH)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await submit(bob)], undefined, { root: sha256(utf8("not the root")) });
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BATCH_ROOT_MISMATCH", /^block 1: .*root/);
  });

  it("refuses a block with one entry altered, at several places of each entry (BATCH_ROOT_MISMATCH)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await record("register", carol), await submit(bob)]);
    for (const i of [0, 1, 2]) {
      const e = b.entries[i]!;
      for (const at of [0, 25, e.length - 30, e.length - 2]) {
        const altered = b.entries.slice();
        altered[i] = e.slice(0, at) + (e[at] === "a" ? "b" : "a") + e.slice(at + 1);
        await expectRefused(verifyBlock(tip, b.header, altered, registry, OPTIONS), "BATCH_ROOT_MISMATCH");
      }
    }
  });

  it("refuses reordered entries (BATCH_ROOT_MISMATCH)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await submit(bob), await submit(alice)]);
    const swapped = [b.entries[1]!, b.entries[0]!, b.entries[2]!];
    await expectRefused(verifyBlock(tip, b.header, swapped, registry, OPTIONS), "BATCH_ROOT_MISMATCH");
  });

  it("refuses a count that is not the header's, and an empty block (BATCH_ROOT_MISMATCH)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await submit(bob)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries.slice(0, 1), registry, OPTIONS), "BATCH_ROOT_MISMATCH", /counts 2 entries, 1 were given/);
    await expectRefused(verifyBlock(tip, b.header, [...b.entries, await submit(alice)], registry, OPTIONS), "BATCH_ROOT_MISMATCH", /counts 2 entries, 3/);
    await expectRefused(verifyBlock(tip, b.header, [], registry, OPTIONS), "BATCH_ROOT_MISMATCH", /counts 2 entries, 0/);
  });

  it("refuses a header that counts no entries (the header parser refuses it: BAD_BLOCK)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice)]);
    const empty = b.header.replace(/\n1\n([^\n]+\n[^\n]+\n)$/, "\n0\n$1");
    expect(empty).not.toBe(b.header);
    await expectRefused(verifyBlock(tip, empty, [], registry, OPTIONS), "BAD_BLOCK", /at least one entry/);
  });

  it("refuses an entry that appears twice (DUPLICATE_ENTRY)", async () => {
    const { tip, registry } = await genesis();
    const e = await submit(alice);
    const b = block(tip, [e, await submit(bob), e]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "DUPLICATE_ENTRY", /^block 1 entry 2: same entry as entry 0/);
    const r = await record("register", carol);
    const twice = block(tip, [r, r]);
    await expectRefused(verifyBlock(tip, twice.header, twice.entries, registry, OPTIONS), "DUPLICATE_ENTRY", /^block 1 entry 1: /);
  });

  it("refuses entries that are not strings (BAD_BLOCK)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice)]);
    await expectRefused(verifyBlock(tip, b.header, [42 as unknown as string], registry, OPTIONS), "BAD_BLOCK", /^block 1 entry 0: /);
  });
});

describe("verifyBlock: submissions", () => {
  it("refuses an entry by an unregistered client (ENTRY_UNREGISTERED)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await submit(carol)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_UNREGISTERED", /^block 1 entry 1: client carol\.example\/app/);
  });

  it("refuses an entry made before its client's registration in the same block (ENTRY_UNREGISTERED)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(carol), await record("register", carol)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_UNREGISTERED", /^block 1 entry 0: /);
  });

  it("refuses an entry by a client revoked in an earlier block (ENTRY_REVOKED)", async () => {
    const { tip, registry } = await genesis();
    const b1 = block(tip, [await record("revoke", bob), await submit(alice)]);
    const v1 = await verifyBlock(tip, b1.header, b1.entries, registry, OPTIONS);
    const b2 = block(tipOf(v1), [await submit(alice), await submit(bob)]);
    await expectRefused(verifyBlock(tipOf(v1), b2.header, b2.entries, v1.registry, OPTIONS), "ENTRY_REVOKED", /^block 2 entry 1: .*revoked in an earlier block/);
  });

  it("refuses an entry by a client revoked earlier in the same block (ENTRY_REVOKED)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(bob), await record("revoke", bob), await submit(alice), await submit(bob)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_REVOKED", /^block 1 entry 3: .*earlier in this block/);
  });

  it("refuses a broken signature: every byte of key id and signature flipped (ENTRY_SIGNATURE_INVALID)", async () => {
    const { tip, registry } = await genesis();
    const good = await submit(alice);
    for (let i = 0; i < 68; i++) {
      const b = block(tip, [await submit(bob), flipSignatureByte(good, i)]);
      await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_SIGNATURE_INVALID", /^block 1 entry 1: /);
    }
  });

  it("refuses an entry whose text was changed after signing (ENTRY_SIGNATURE_INVALID)", async () => {
    const { tip, registry } = await genesis();
    const good = await submit(alice, T);
    const changed = good.replace(`\n${T}\n`, `\n${T + 1}\n`);
    const b = block(tip, [changed]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_SIGNATURE_INVALID", /^block 1 entry 0: /);
  });

  it("refuses an entry signed by another key of a registered name (ENTRY_SIGNATURE_INVALID, key id)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(aliceOther)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_SIGNATURE_INVALID", /^block 1 entry 0: .*registered with key id/);
  });

  it("refuses an entry signed after sealedAt + window (ENTRY_AFTER_SEAL)", async () => {
    const { tip, registry } = await genesis();
    const sealedAt = tip.sealedAt + 10;
    const b = block(tip, [await submit(alice, sealedAt + WINDOW), await submit(bob, sealedAt + WINDOW + 1)], sealedAt);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_AFTER_SEAL", /^block 1 entry 1: /);
  });

  it("refuses an entry naming another origin (WRONG_ORIGIN)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await submit(alice, T, OTHER)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "WRONG_ORIGIN", /^block 1 entry 1: .*submission/);
  });

  it("refuses entries that do not parse, with their code and index", async () => {
    const { tip, registry } = await genesis();
    const text = formatSubmission({ origin: ORIGIN, digest: sha256(utf8("x")), time: T });
    const twoSigs = await signNote(text, [alice.signer, bob.signer]);
    const cases: [string, string][] = [
      ["garbage", "BAD_NOTE"],
      [text, "BAD_NOTE"],
      [twoSigs, "BAD_NOTE"],
      [await signNote("cairn/submission/v2\nx\n", [alice.signer]), "BAD_SUBMISSION"],
      [await signNote("cairn/client/v2\nx\n", [opSigner]), "BAD_SUBMISSION"],
    ];
    for (const [entry, code] of cases) {
      const b = block(tip, [await submit(alice), entry]);
      await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), code, /^block 1 entry 1: /);
    }
  });
});

describe("verifyBlock: client records", () => {
  it("refuses a record signed by a key that is not the operator's (BAD_CLIENT_RECORD)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await submit(alice), await record("register", carol, T, noteSigner(impostor.signerKey))]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BAD_CLIENT_RECORD", /^block 1 entry 1: .*not signed by an operator key/);
  });

  it("refuses a look-alike client name even when the operator itself signed its registration (BAD_CLIENT_RECORD)", async () => {
    const { tip, registry } = await genesis();
    const lookalike = generateKeyPair("\u0430lice.example", sha256(utf8("look-alike alice"))); // Cyrillic а
    const text = ["cairn/client/v1", ORIGIN, "register", lookalike.verifierKey, String(T)].map((l) => `${l}\n`).join("");
    const b = block(tip, [await signNote(text, [opSigner])]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BAD_CLIENT_RECORD", /^block 1 entry 0: .*look-alike names are refused/);
  });

  it("reports a forged revocation as such, not as the revoked client's later entries", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await record("revoke", bob, T, noteSigner(impostor.signerKey)), await submit(bob)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BAD_CLIENT_RECORD", /^block 1 entry 0: /);
  });

  it("refuses records with two signatures or an altered signature (BAD_CLIENT_RECORD)", async () => {
    const { tip, registry } = await genesis();
    const r = await record("register", carol);
    const text = r.slice(0, r.lastIndexOf("\n\n") + 1);
    const two = await signNote(text, [opSigner, noteSigner(impostor.signerKey)]);
    for (const bad of [two, flipSignatureByte(r, 30)]) {
      const b = block(tip, [bad]);
      await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "BAD_CLIENT_RECORD", /^block 1 entry 0: /);
    }
  });

  it("refuses a record naming another origin (WRONG_ORIGIN)", async () => {
    const { tip, registry } = await genesis();
    const b = block(tip, [await record("register", carol, T, noteSigner(otherOperator.signerKey), OTHER)]);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "WRONG_ORIGIN", /^block 1 entry 0: .*client record/);
  });

  it("refuses a record dated after sealedAt + window (ENTRY_AFTER_SEAL)", async () => {
    const { tip, registry } = await genesis();
    const sealedAt = tip.sealedAt + 10;
    const b = block(tip, [await record("register", carol, sealedAt + WINDOW + 1)], sealedAt);
    await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "ENTRY_AFTER_SEAL", /^block 1 entry 0: /);
  });

  const conflicts: [string, () => Promise<string[]>][] = [
    ["a second registration of a name", async () => [await record("register", alice, T + 1)]],
    ["a registration of a known name with another key", async () => [await record("register", aliceOther)]],
    ["a revocation of an unknown name", async () => [await record("revoke", dave)]],
    ["a revocation with another key", async () => [await record("revoke", aliceOther)]],
    ["a second revocation", async () => [await record("revoke", bob), await record("revoke", bob, T + 1)]],
  ];
  for (const [what, make] of conflicts) {
    it(`refuses ${what} (REGISTRY_CONFLICT), leaving the registry as it was`, async () => {
      const { tip, registry } = await genesis();
      const before = [...registry.entries()];
      const b = block(tip, [await record("register", carol), ...(await make())]);
      await expectRefused(verifyBlock(tip, b.header, b.entries, registry, OPTIONS), "REGISTRY_CONFLICT", /^block 1 entry \d+: cannot/);
      expect([...registry.entries()]).toEqual(before);
      expect(registry.lookup(carol.name)).toBeUndefined();
    });
  }
});

describe("verifyBlock: its own arguments", () => {
  it("throws TypeError for a wrong tip or wrong options (the witness's own, not input)", async () => {
    const b = block(undefined, [await record("register", alice)]);
    const run = (tip: ChainTip | undefined, o: Partial<BlockCheckOptions>) => verifyBlock(tip, b.header, b.entries, ClientRegistry.empty(), { ...OPTIONS, ...o });
    await expect(run(undefined, { keys: undefined as never })).rejects.toThrow(TypeError);
    await expect(run(undefined, { keys: KeySchedule.pinned(["nope"]) })).rejects.toThrow(TypeError);
    await expect(run(undefined, { keys: KeySchedule.pinned([otherOperator.verifierKey]) })).rejects.toThrow(/named cairn\.test\/log/);
    await expect(run(undefined, { origin: "a b" })).rejects.toThrow(TypeError);
    await expect(run(undefined, { now: -1 })).rejects.toThrow(TypeError);
    await expect(run(undefined, { timeWindowSeconds: 1.5 })).rejects.toThrow(TypeError);
    await expect(run({ height: 0, hash: "AB".repeat(32), sealedAt: T }, {})).rejects.toThrow(TypeError);
    await expect(run({ height: -1, hash: "ab".repeat(32), sealedAt: T }, {})).rejects.toThrow(TypeError);
  });
});
