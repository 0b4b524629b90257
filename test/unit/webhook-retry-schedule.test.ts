/**
 * The webhook retry schedule (webhooks/retry-schedule.ts) on a fake clock and fixed randomness, the Retry-After
 * reading, and the signature headers (webhooks/webhook-signature.ts) checked by the standardwebhooks package.
 */
import fc from 'fast-check'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/net/retry-after.ts'
import { nextRetryDelayMs, RETRY_JITTER, RETRY_SCHEDULE_MS } from '../../src/webhooks/retry-schedule.ts'
import { signedHeaders } from '../../src/webhooks/webhook-signature.ts'
import { generateWebhookSecret } from '../../src/webhooks/webhook-secrets.ts'

const HOUR = 3600_000

describe('nextRetryDelayMs', () => {
  it('follows the Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then stops', () => {
    const middle = () => 0.5 // no jitter
    expect(Array.from({ length: 11 }, (_, i) => nextRetryDelayMs(i + 1, middle))).toEqual([5_000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR, null, null])
    expect(RETRY_SCHEDULE_MS[0]).toBe(0)
    expect(nextRetryDelayMs(0, middle)).toBeNull()
  })

  it('moves each delay by at most ±10 % (jitter)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const base = RETRY_SCHEDULE_MS[attempt]!
        const delay = nextRetryDelayMs(attempt, () => random)!
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - RETRY_JITTER)))
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + RETRY_JITTER)))
      }),
    )
  })

  it('waits at least a Retry-After, at most a day', () => {
    expect(nextRetryDelayMs(1, () => 0.5, 60_000)).toBe(60_000)
    expect(nextRetryDelayMs(3, () => 0.5, 1_000)).toBe(1_800_000)
    expect(nextRetryDelayMs(1, () => 0.5, 7 * 24 * HOUR)).toBe(MAX_RETRY_AFTER_MS)
    expect(nextRetryDelayMs(10, () => 0.5, 1_000)).toBeNull()
  })

  it('spans about three days on a fake clock, the whole schedule run through', () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') })
    const attempts: number[] = []
    let attempt = 0
    const run = () => {
      attempt += 1
      attempts.push(Date.now())
      const delay = nextRetryDelayMs(attempt, () => 0.5)
      if (delay !== null) setTimeout(run, delay)
    }
    setTimeout(run, 0)
    vi.advanceTimersByTime(4 * 24 * HOUR)
    expect(attempts).toHaveLength(10)
    expect((attempts.at(-1)! - attempts[0]!) / HOUR).toBeCloseTo(0.00139 + 0.0833 + 0.5 + 2 + 5 + 10 + 14 + 20 + 24, 2)
  })

  afterEach(() => {
    vi.useRealTimers()
  })
})

describe('parseRetryAfter', () => {
  const now = new Date('2026-12-01T12:00:00Z')
  it('reads seconds and HTTP dates (RFC 9110), null otherwise', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('Tue, 01 Dec 2026 12:01:00 GMT', now)).toBe(60_000)
    expect(parseRetryAfter('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null, now)).toBeNull()
    expect(parseRetryAfter('soon', now)).toBeNull()
    expect(parseRetryAfter('-5', now)).toBeNull()
  })

  it('never asks for more than a day (a remote cannot park a delivery or a sync for years, nor make an invalid Date)', () => {
    expect(parseRetryAfter('999999999', now)).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('9'.repeat(400), now)).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(MAX_RETRY_AFTER_MS)
    // DAV reads the same header with the same bound (one parser).
    expect(parseRetryAfter('99999999999999999999')).toBe(MAX_RETRY_AFTER_MS)
  })

  it('property: whatever a remote sends, the wait is null or within [0, a day], and now + it is a valid date', () => {
    const header = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\d{1,30}$/), fc.date({ noInvalidDate: true }).map((date) => date.toUTCString()), fc.constantFrom('-1', '1e9', 'Infinity', ' 7 ', '0x10'))
    fc.assert(
      fc.property(header, (value) => {
        for (const ms of [parseRetryAfter(value, now), parseRetryAfter(value, now.getTime())]) {
          if (ms === null) continue
          expect(ms).toBeGreaterThanOrEqual(0)
          expect(ms).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS)
          expect(Number.isNaN(new Date(now.getTime() + ms).getTime())).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('signedHeaders', () => {
  it('signs so that the standardwebhooks Webhook class verifies, with each of two secrets during a rotation', () => {
    const [current, previous, other] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()]
    const body = JSON.stringify({ type: 'contact.created', timestamp: new Date().toISOString(), data: { contactId: 'x' } })
    const headers = signedHeaders('msg_01', new Date(), body, [current, previous])
    expect(headers['webhook-id']).toBe('msg_01')
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(new Webhook(current).verify(body, headers)).toMatchObject({ type: 'contact.created' })
    expect(new Webhook(previous).verify(body, headers)).toMatchObject({ type: 'contact.created' })
    expect(() => new Webhook(other).verify(body, headers)).toThrow(/No matching signature/)
    expect(() => new Webhook(current).verify(`${body} `, headers)).toThrow()
  })
})
