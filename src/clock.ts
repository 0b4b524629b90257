/**
 * Where code that is not pure reads the time: the GraphQL context carries one, so
 * resolvers never call `new Date()` and a test can hand them a fixed or moving clock.
 * Its own module, apart from time.ts's constants, so the dependency rule can let pure
 * code import those and refuse it this (pure code takes `now` as a parameter).
 */
export interface Clock {
  /** The current instant. */
  now(): Date
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => new Date() }
