/** Time as the services see it: unix seconds, injectable so tests can move the clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };
