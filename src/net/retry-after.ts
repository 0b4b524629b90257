/**
 * The one reader of a `Retry-After` header the server gets from a remote it calls (DAV servers, webhook receivers):
 * RFC 9110 §10.2.3 delay-seconds or an HTTP date, bounded by {@link MAX_RETRY_AFTER_MS} so that a remote cannot park
 * work for years, make an invalid Date (a `Retry-After` of 20 digits), or ask for a timer Node fires at once (past
 * 2^31 - 1 ms). Pure.
 */
import { DAY_MS, SECOND_MS } from '../time.ts'

/** The longest wait a Retry-After is read as, in ms (a longer one waits this long). */
export const MAX_RETRY_AFTER_MS = DAY_MS

/**
 * The wait a Retry-After asks for, in ms from `now` (a Date or epoch ms), at most {@link MAX_RETRY_AFTER_MS}; null when
 * absent or unreadable. A date in the past is 0. Only digits (seconds) or a date with a month or day name are read.
 */
export function parseRetryAfter(value: string | null, now: Date | number = Date.now()): number | null {
  if (value === null) return null
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text) * SECOND_MS, MAX_RETRY_AFTER_MS)
  const at = Date.parse(text)
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return null
  return Math.min(Math.max(0, at - (typeof now === 'number' ? now : now.getTime())), MAX_RETRY_AFTER_MS)
}
