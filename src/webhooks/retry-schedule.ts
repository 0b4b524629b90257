/**
 * When a failed webhook delivery is tried again (issue 17): the schedule of the Standard Webhooks specification
 * (and Svix): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after each failure, with
 * jitter; a 429 or 503's Retry-After is honoured (never earlier than it, at most a day). Pure: no clock, no
 * randomness of its own (both are passed).
 */
import { MAX_RETRY_AFTER_MS } from '../net/retry-after.ts'
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../time.ts'

/** The delay before each attempt (1st, 2nd, ...), in ms: 10 attempts in all, over about 3 days. */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5 * SECOND_MS, 5 * MINUTE_MS, 30 * MINUTE_MS, 2 * HOUR_MS, 5 * HOUR_MS, 10 * HOUR_MS, 14 * HOUR_MS, 20 * HOUR_MS, 24 * HOUR_MS]

/** The share a delay is moved by jitter, either way (10 %: a burst of failures does not come back at once). */
export const RETRY_JITTER = 0.1

/**
 * The delay (ms) before the attempt after `attemptsMade` failed attempts, or null when the schedule is done.
 * `random` gives a number in [0, 1) (Math.random in production; fixed in tests): the delay is moved by up to
 * ±{@link RETRY_JITTER}. A `retryAfterMs` (from a 429 / 503) makes it at least that long (capped at {@link MAX_RETRY_AFTER_MS}).
 */
export function nextRetryDelayMs(attemptsMade: number, random: () => number, retryAfterMs: number | null = null, schedule: readonly number[] = RETRY_SCHEDULE_MS): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1 || attemptsMade >= schedule.length) return null
  const base = schedule[attemptsMade]!
  const jittered = Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * Math.min(Math.max(random(), 0), 1)))
  if (retryAfterMs === null) return jittered
  return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
}
