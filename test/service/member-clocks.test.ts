/**
 * The sealer's view of the members' clocks (src/service/member-clocks.ts):
 * whether its own wall clock has run so far ahead that a quorum would refuse
 * a block dated now. The clock is the one the services take (wall seconds
 * and a monotonic reading), moved by hand.
 */
import { describe, expect, it } from "vitest";
import { MemberClocks } from "../../src/service/member-clocks.js";

/** A wall clock that can be stepped, and a monotonic one that only moves forward with real time. */
function machine(start = 1_800_000_000) {
  const m = { wall: start, mono: 0 };
  const clock = { now: () => m.wall, elapsedMs: () => m.mono };
  const pass = (seconds: number) => {
    m.wall += seconds;
    m.mono += seconds * 1000;
  };
  return { m, clock, pass };
}

describe("MemberClocks", () => {
  it("knows nothing until members have cosigned", () => {
    const { clock } = machine();
    expect(new MemberClocks(clock).aheadOfQuorum(3, 2, 55)).toBeUndefined();
  });

  it("a wall clock stepped 10 minutes ahead is ahead of all three members, as time goes on", () => {
    const { m, clock, pass } = machine();
    const c = new MemberClocks(clock);
    for (const name of ["a", "b", "c"]) c.observe(name, m.wall);
    pass(30);
    expect(c.aheadOfQuorum(3, 2, 55)).toBeUndefined();
    m.wall += 600;
    expect(c.aheadOfQuorum(3, 2, 55)).toBe(600);
    pass(120); // both clocks move on; the lead stays
    expect(c.aheadOfQuorum(3, 2, 55)).toBe(600);
    m.wall -= 600; // put right
    expect(c.aheadOfQuorum(3, 2, 55)).toBeUndefined();
  });

  it("needs more than members − quorum refusing: one member far behind holds nothing back", () => {
    const { m, clock } = machine();
    const c = new MemberClocks(clock);
    c.observe("a", m.wall);
    c.observe("b", m.wall - 1);
    c.observe("slow", m.wall - 900);
    expect(c.aheadOfQuorum(3, 2, 55)).toBeUndefined();
    // With a quorum of three, the slow one alone is enough to refuse.
    expect(c.aheadOfQuorum(3, 3, 55)).toBe(900);
  });

  it("reports the lead over the member that decides: the smallest of the leads that leave no quorum", () => {
    const { m, clock } = machine();
    const c = new MemberClocks(clock);
    c.observe("a", m.wall - 100);
    c.observe("b", m.wall - 300);
    c.observe("c", m.wall - 10);
    expect(c.aheadOfQuorum(3, 2, 55)).toBe(100);
  });

  it("a newer cosignature replaces a member's older one", () => {
    const { m, clock } = machine();
    const c = new MemberClocks(clock);
    c.observe("a", m.wall - 600);
    c.observe("b", m.wall - 600);
    expect(c.aheadOfQuorum(3, 2, 55)).toBe(600);
    c.observe("a", m.wall);
    expect(c.aheadOfQuorum(3, 2, 55)).toBeUndefined();
  });

  it("forgets what is over an hour old", () => {
    const { m, clock, pass } = machine();
    const c = new MemberClocks(clock);
    c.observe("a", m.wall - 600);
    c.observe("b", m.wall - 600);
    pass(3601);
    expect(c.aheadOfQuorum(3, 2, 55)).toBeUndefined();
  });

  it("without a monotonic clock (a test clock), wall time stands in and a step is no lead", () => {
    let wall = 1_800_000_000;
    const c = new MemberClocks({ now: () => wall });
    c.observe("a", wall);
    c.observe("b", wall);
    wall += 600;
    expect(c.aheadOfQuorum(3, 2, 55)).toBeUndefined();
  });
});
