/**
 * Durations in milliseconds, the unit of `Date.getTime()`: one place, instead of `7 * 86_400_000` here
 * and there. An API that counts in seconds (BullMQ's job ages, `Retry-After`, iCalendar durations)
 * gets `DAY_MS / SECOND_MS`.
 */
export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS
export const WEEK_MS = 7 * DAY_MS
