/**
 * verifyBlock gives way to the caller's other work while it checks a large
 * block. Awaiting a check yields to microtasks only, and with node:crypto's
 * Ed25519 (what every Node process of Cairn installs) each check is
 * synchronous: without a timer turn between batches, a witness's HTTP server,
 * its /healthz among it, would answer nothing until the whole block is
 * verified (32 s for a 100k block on the bench machine).
 */
import { describe, expect, it } from "vitest";
import { formatBlockHeader } from "../../src/core/block.js";
import { utf8 } from "../../src/core/bytes.js";
import { ClientRegistry, signClientRecord } from "../../src/core/client-record.js";
import { sha256 } from "../../src/core/hash.js";
import { KeySchedule } from "../../src/core/key-record.js";
import { generateKeyPair, noteSigner } from "../../src/core/keys.js";
import { leafHash, merkleRoot } from "../../src/core/merkle.js";
import { signSubmission } from "../../src/core/submission.js";
import { verifyBlock, type BlockCheckOptions } from "../../src/core/verify-block.js";
import { installNodeEd25519 } from "../../src/runtime/node-ed25519.js";

const ORIGIN = "cairn.test/log";
const T = 1_800_000_000;
const operator = generateKeyPair(ORIGIN, sha256(utf8("yield test operator")));
const alice = generateKeyPair("alice.example/app", sha256(utf8("yield test alice")));
const OPTIONS: BlockCheckOptions = { origin: ORIGIN, keys: KeySchedule.pinned([operator.verifierKey]), now: T + 1000, maxSkewSeconds: 60, timeWindowSeconds: 300 };

async function genesisOf(count: number) {
  const entries = [await signClientRecord({ origin: ORIGIN, action: "register", key: alice.verifierKey, time: T }, noteSigner(operator.signerKey))];
  for (let i = 0; i < count; i++) entries.push(await signSubmission({ origin: ORIGIN, digest: sha256(utf8(`doc ${i}`)), time: T }, noteSigner(alice.signerKey)));
  const header = formatBlockHeader({ origin: ORIGIN, height: 0, prevHash: new Uint8Array(32), size: entries.length, root: merkleRoot(entries.map((e) => leafHash(utf8(e)))), sealedAt: T + 10 });
  return { header, entries };
}

describe("verifyBlock with synchronous Ed25519 (node:crypto)", () => {
  it("lets a timer in between its batches of checks, not only once the block is verified", async () => {
    expect(installNodeEd25519()).toBe(true);
    const b = await genesisOf(700);
    // A budget of 0 gives way after every batch: an interval due before the
    // checks began must fire while they run. (The default budget is 50 ms.)
    const ticks: ("during" | "after")[] = [];
    let phase: "during" | "after" = "during";
    const timer = setInterval(() => ticks.push(phase), 0);
    try {
      const v = await verifyBlock(undefined, b.header, b.entries, ClientRegistry.empty(), { ...OPTIONS, yieldAfterMs: 0 });
      phase = "after";
      expect(v.submissions).toBe(700);
      expect(ticks).toContain("during");
    } finally {
      clearInterval(timer);
    }
  });

  it("refuses a negative budget", async () => {
    const b = await genesisOf(1);
    await expect(verifyBlock(undefined, b.header, b.entries, ClientRegistry.empty(), { ...OPTIONS, yieldAfterMs: -1 })).rejects.toThrow(/yieldAfterMs must be a non-negative number/);
  });
});
