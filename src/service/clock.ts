/** Time as the services see it: unix seconds, injectable so tests can move the clock. */
export interface Clock {
  now(): number;
  /**
   * Milliseconds on a clock that never jumps (monotonic), for telling how
   * much time really passed when the wall clock may have been stepped.
   * Without it, `now()` stands in (a test clock moves both at once).
   */
  elapsedMs?(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000), elapsedMs: () => performance.now() };
