/** Durations in milliseconds, the unit of `Date.getTime()`: one place, instead of `7 * 86_400_000` here and there. */
export const MINUTE_MS = 60_000
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS
export const WEEK_MS = 7 * DAY_MS

/**
 * Where code that is not pure reads the time: the GraphQL context carries one, so
 * resolvers never call `new Date()` and a test can hand them a fixed or moving clock.
 */
export interface Clock {
  /** The current instant. */
  now(): Date
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => new Date() }
