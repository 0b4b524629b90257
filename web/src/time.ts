/**
 * Durations in milliseconds, the unit of `Date.getTime()`, for the web client (which cannot import
 * the server's src/time.ts): one place instead of `86_400_000` here and there.
 */
export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const DAY_MS = 24 * 60 * MINUTE_MS
