/** Durations in milliseconds, the unit of `Date.getTime()`: one place, instead of `7 * 86_400_000` here and there. */
export const MINUTE_MS = 60_000
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS
export const WEEK_MS = 7 * DAY_MS
