/**
 * The pages' pure modules in Node, on the FORMATS.md vectors: what the
 * verify page shows for a receipt that holds and for each kind of failure,
 * who signed a checkpoint and when as the explorer reads it, and the time
 * words both use. The browser tests (pages.test.ts) show the same on screen.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sha256, utf8, verifyReceipt } from "../../src/core/index.js";
import { describeCheckpoint } from "../../src/pages/checkpoint-signatures.js";
import { isoTime, relativeTime } from "../../src/pages/time.js";
import { chooseTrust } from "../../src/pages/trust-choice.js";
import { checkReceipt, STEPS } from "../../src/pages/verification.js";
import type { ConsortiumJson } from "../../src/pages/wire.js";
import type { FormatVectors } from "../../scripts/formats.js";

const v = JSON.parse(readFileSync(new URL("../vectors/cairn-v1.json", import.meta.url), "utf8")) as FormatVectors;
const receipt = JSON.stringify(v.receipt);
const document = utf8(v.submissions[0]!.document);

describe("the verify page's verdicts (src/pages/verification.ts)", () => {
  it("a receipt that holds: every step ok, in core's order, and the interval in words and ISO times", async () => {
    const outcome = await checkReceipt({ receipt, trust: v.trust, digest: sha256(document), fromDocument: true });
    const { interval } = await verifyReceipt(v.receipt, v.trust, { document });
    expect(outcome.ok).toBe(true);
    expect(outcome.steps.map((s) => [s.step, s.state])).toEqual(STEPS.map((s) => [s.step, "ok"]));
    expect(outcome.headline).toMatch(/^Verified: this document existed, exactly as you have it, by \d{1,2} \w+ \d{4} at \d\d:\d\d:\d\d UTC\.$/);
    expect(outcome.explanation[0]).toContain(`(${isoTime(interval.from)}), when`);
    expect(outcome.explanation[0]).toContain(`(${isoTime(interval.by)}), by when`);
    // The time step shows dates, not core's unix seconds.
    const time = outcome.steps.find((s) => s.step === "time")!.detail;
    expect(time).toBe(`dated ${isoTime(interval.from)}; sealed at ${isoTime(outcome.result!.sealedAt)}; a quorum had cosigned by ${isoTime(interval.by)}`);
    expect(time).not.toMatch(/\d{9}/);
  });

  it("another document: fails at the digest step, the later steps not reached", async () => {
    const outcome = await checkReceipt({ receipt, trust: v.trust, digest: sha256(utf8("another\n")), fromDocument: true });
    expect(outcome).toMatchObject({ ok: false, failedStep: "digest", code: "DIGEST_MISMATCH" });
    expect(outcome.headline).toBe("Not verified: the receipt is for another document: this one's digest is not the one anchored.");
    expect(outcome.steps.map((s) => s.state)).toEqual(["ok", "fail", "not-run", "not-run", "not-run", "not-run", "not-run", "not-run"]);
  });

  it("a file that is no receipt fails at the first step", async () => {
    const outcome = await checkReceipt({ receipt: "{ not json", trust: v.trust, digest: sha256(document), fromDocument: true });
    expect(outcome).toMatchObject({ ok: false, failedStep: "receipt" });
  });

  it("a trust document core refuses names no step, and says the trust is the problem", async () => {
    const outcome = await checkReceipt({ receipt, trust: { ...v.trust, members: [] }, digest: sha256(document), fromDocument: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.failedStep).toBeUndefined();
    expect(outcome.headline).toBe("Not verified: the trust document cannot be used (TRUST_NO_MEMBERS).");
    expect(outcome.steps.every((s) => s.state === "not-run")).toBe(true);
  });

  it("a trust file that is not JSON, or not a trust document, is a problem to show, with its name", () => {
    expect(chooseTrust("file", "t.json", "nope")).toMatchObject({ ok: false, problem: expect.stringMatching(/^t\.json is not a trust document Cairn accepts: /) });
    const ok = chooseTrust("file", "t.json", JSON.stringify(v.trust));
    expect(ok).toMatchObject({ ok: true, source: "file", fingerprint: v.trustV2.fingerprintV1 });
  });
});

describe("the explorer's reading of a checkpoint (src/pages/checkpoint-signatures.ts)", () => {
  const consortium: ConsortiumJson = {
    origin: v.trust.origin,
    operator: { name: v.trust.origin, key: v.trust.operatorKeys[0]! },
    members: v.trust.members.map((m) => ({ name: m.name, key: m.key, witness: "http://witness.example", answer: null, head: null })),
    quorum: v.trust.quorum,
  };

  it("names the operator and each cosigner (two of the three members) with its signed time, each checked under the published key", async () => {
    const { checkpoint, signatures } = await describeCheckpoint(v.receipt.checkpoint, consortium);
    expect(checkpoint.size).toBe(2);
    expect(signatures.map((s) => [s.name, s.role, s.kind, s.check])).toEqual([
      [v.trust.origin, "operator", "Ed25519", "ok"],
      ...v.trust.members.slice(0, 2).map((m) => [m.name, "member", "cosignature/v1", "ok"]),
    ]);
    for (const s of signatures.slice(1)) expect(s.timestamp).toBeGreaterThan(1_700_000_000);
  });

  it("a cosignature under a key the server does not publish keeps its time, marked unknown; a wrong key fails", async () => {
    const other = { ...consortium, members: consortium.members.slice(1) };
    const unknown = (await describeCheckpoint(v.receipt.checkpoint, other)).signatures[1]!;
    expect(unknown).toMatchObject({ role: "unknown", check: "unknown-key", kind: "cosignature/v1" });
    expect(unknown.timestamp).toBeGreaterThan(1_700_000_000);
    // The other member's key under this member's name and id cannot be built; a tampered line can.
    const lines = v.receipt.checkpoint.split("\n");
    const i = lines.findIndex((l) => l.startsWith(`— ${v.trust.members[0]!.name} `));
    const sig = lines[i]!.split(" ")[2]!;
    const bytes = Buffer.from(sig, "base64");
    bytes[bytes.length - 1]! ^= 1;
    lines[i] = `— ${v.trust.members[0]!.name} ${bytes.toString("base64")}`;
    const bad = (await describeCheckpoint(lines.join("\n"), consortium)).signatures[1]!;
    expect(bad).toMatchObject({ role: "member", check: "bad" });
  });
});

describe("time words (src/pages/time.ts)", () => {
  it("ISO 8601 to the second, UTC; relative in the largest fitting unit", () => {
    expect(isoTime(0)).toBe("1970-01-01T00:00:00Z");
    expect(isoTime(1_800_000_000)).toBe("2027-01-15T08:00:00Z");
    expect(relativeTime(100, 103)).toBe("3 seconds ago");
    expect(relativeTime(100, 101)).toBe("1 second ago");
    expect(relativeTime(1000, 100)).toBe("in 15 minutes");
    expect(relativeTime(0, 5 * 86400)).toBe("5 days ago");
  });
});
