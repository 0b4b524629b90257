/**
 * The RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-11): what we write parses back,
 * with an RFC 9651 reader written apart from the writer, to the same policies and limits.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatRateLimit,
  formatRateLimitPolicy,
  secondsUntil,
  structuredString,
  type QuotaPolicy,
  type ServiceLimit,
} from '../../src/graphql/limits/ratelimit-headers.ts'
import { parseList } from '../helpers/structured-fields.ts'

const name = fc.string({ unit: fc.constantFrom(...' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'.split('')), minLength: 1, maxLength: 20 })
const nonNegative = fc.integer({ min: 0, max: 999_999_999_999_999 })
const policy: fc.Arbitrary<QuotaPolicy> = fc.record(
  {
    name,
    quota: nonNegative,
    windowSeconds: fc.integer({ min: 1, max: 999_999_999_999_999 }),
    unit: fc.constantFrom('requests', 'content-bytes', 'concurrent-requests' as const),
  },
  { requiredKeys: ['name', 'quota'] },
)
const limit: fc.Arbitrary<ServiceLimit> = fc.record({ name, remaining: nonNegative, resetSeconds: nonNegative }, { requiredKeys: ['name', 'remaining'] })

describe('RateLimit-Policy and RateLimit', () => {
  it('writes the draft examples byte for byte', () => {
    expect(formatRateLimitPolicy([{ name: 'default', quota: 100, windowSeconds: 3600 }])).toBe('"default";q=100;w=3600')
    expect(formatRateLimit([{ name: 'default', remaining: 50, resetSeconds: 30 }])).toBe('"default";r=50;t=30')
    expect(formatRateLimitPolicy([{ name: 'permin', quota: 50, windowSeconds: 60 }, { name: 'perhr', quota: 1000, windowSeconds: 3600 }])).toBe(
      '"permin";q=50;w=60, "perhr";q=1000;w=3600',
    )
    expect(formatRateLimitPolicy([{ name: 'concurrency', quota: 10, unit: 'concurrent-requests' }])).toBe('"concurrency";q=10;qu="concurrent-requests"')
  })

  it('any list of policies parses back as a List of Strings with q, qu and w', () => {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 5 }), (policies) => {
        const parsed = parseList(formatRateLimitPolicy(policies))
        expect(parsed).toHaveLength(policies.length)
        parsed.forEach((item, index) => {
          const expected = policies[index]!
          expect(item.value).toBe(expected.name)
          expect(item.params.get('q')).toBe(expected.quota)
          expect(item.params.get('w')).toBe(expected.windowSeconds)
          expect(item.params.get('qu')).toBe(expected.unit)
          expect([...item.params.keys()].every((key) => ['q', 'qu', 'w'].includes(key))).toBe(true)
        })
      }),
    )
  })

  it('any list of service limits parses back as a List of Strings with r and t', () => {
    fc.assert(
      fc.property(fc.array(limit, { minLength: 1, maxLength: 5 }), (limits) => {
        const parsed = parseList(formatRateLimit(limits))
        expect(parsed.map((item) => ({ name: item.value, remaining: item.params.get('r'), resetSeconds: item.params.get('t') }))).toEqual(
          limits.map((l) => ({ name: l.name, remaining: l.remaining, resetSeconds: l.resetSeconds })),
        )
      }),
    )
  })

  it('refuses what the draft cannot carry: an empty list, negative or fractional numbers, a zero window, non-ASCII names', () => {
    expect(() => formatRateLimitPolicy([])).toThrow(RangeError)
    expect(() => formatRateLimit([])).toThrow(RangeError)
    expect(() => formatRateLimit([{ name: 'x', remaining: -1 }])).toThrow(RangeError)
    expect(() => formatRateLimit([{ name: 'x', remaining: 1.5 }])).toThrow(RangeError)
    expect(() => formatRateLimit([{ name: 'x', remaining: 1e16 }])).toThrow(RangeError)
    expect(() => formatRateLimitPolicy([{ name: 'x', quota: 1, windowSeconds: 0 }])).toThrow(RangeError)
    expect(() => structuredString('heure é')).toThrow(RangeError)
    expect(() => structuredString('a\nb')).toThrow(RangeError)
  })

  it('seconds are rounded up, so waiting them is never too early', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000_000 }), (ms) => {
        const seconds = secondsUntil(ms)
        expect(Number.isInteger(seconds)).toBe(true)
        expect(seconds * 1000).toBeGreaterThanOrEqual(Math.max(0, ms))
        expect(seconds * 1000 - Math.max(0, ms)).toBeLessThan(1000)
      }),
    )
  })
})
