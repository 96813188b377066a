/**
 * core/split-view.ts: two signed checkpoints judged as views of one log,
 * with real fixture chains (signed entries, blocks, operator-signed and
 * cosigned checkpoints) and real RFC 9162 consistency proofs.
 */
import { describe, expect, it } from "vitest";
import { checkConsistent, checkSameSize, consistencyProof, formatCheckpoint, isCairnError, isSplitView, parseCheckpoint, parseNote, signNote, noteSigner, type View } from "../../src/core/index.js";
import { buildChain, operator } from "./chain-fixture.js";

function viewOf(note: string): View {
  return { checkpoint: parseCheckpoint(parseNote(note).text), note };
}

describe("split views", () => {
  it("one history's checkpoints of different sizes are consistent under the operator's proof", async () => {
    const small = await buildChain([2, 1]);
    const big = await buildChain([2, 1, 3, 1]);
    const a = viewOf(small.checkpoint);
    const b = viewOf(big.checkpoint);
    const proof = consistencyProof(big.history, 2);
    expect(() => checkConsistent(a, b, proof)).not.toThrow();
    expect(() => checkConsistent(b, a, proof)).not.toThrow(); // either order
    expect(() => checkConsistent(a, a, [])).not.toThrow();
  });

  it("the same size with another root is a split view, with both signed notes as evidence", async () => {
    const mine = viewOf((await buildChain([2, 1])).checkpoint);
    const theirs = viewOf((await buildChain([2, 1], undefined, { fork: "other " })).checkpoint);
    let caught: unknown;
    try {
      checkSameSize(mine, theirs);
    } catch (e) {
      caught = e;
    }
    expect(isSplitView(caught)).toBe(true);
    if (!isSplitView(caught)) return;
    expect(caught.code).toBe("SPLIT_VIEW");
    expect(caught.kind).toBe("same-size");
    expect(caught.evidence.map((v) => v.note)).toEqual([mine.note, theirs.note]);
    expect(caught.message).toContain("two different trees of 2 blocks");
  });

  it("sizes a proof cannot join are a split view; a proof from the other history does not help", async () => {
    const honest = await buildChain([2, 1]);
    const fork = await buildChain([2, 1, 1], undefined, { fork: "other " });
    const a = viewOf(honest.checkpoint);
    const b = viewOf(fork.checkpoint);
    for (const proof of [consistencyProof(fork.history, 2), [], consistencyProof(honest.history.concat(fork.history.slice(2)), 2)]) {
      let caught: unknown;
      try {
        checkConsistent(a, b, proof);
      } catch (e) {
        caught = e;
      }
      expect(isSplitView(caught) && caught.kind).toBe("inconsistent");
    }
  });

  it("checkpoints of two logs are not views of one", async () => {
    const a = viewOf((await buildChain([1])).checkpoint);
    const other = viewOf(await signNote(formatCheckpoint({ origin: "other.example/log", size: 1, root: a.checkpoint.root }), [noteSigner(operator.signerKey)]));
    try {
      checkSameSize(a, other);
      expect.unreachable();
    } catch (e) {
      expect(isCairnError(e, "WRONG_ORIGIN")).toBe(true);
    }
  });
});
