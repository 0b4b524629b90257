/**
 * Zone conversion once per zone, not per slot: the wall clocks computed from a
 * few offset look-ups equal luxon's per-instant conversion (the oracle), and
 * slot fitting over hundreds of zones takes milliseconds, not seconds.
 */
import fc from 'fast-check'
import { DateTime } from 'luxon'
import { describe, expect, it } from 'vitest'
import type { Interval } from '../../src/calendar/free-slots.ts'
import { SlotFitter } from '../../src/suggestions/slot-fitting.ts'
import { wallClocks } from '../../src/suggestions/wall-clock.ts'

/** DST in both hemispheres, half- and three-quarter-hour offsets, Lord Howe's 30-minute DST, DST at midnight, negative DST, the date line. */
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'Europe/London',
  'Europe/Dublin',
  'America/New_York',
  'America/St_Johns',
  'America/Santiago',
  'America/Asuncion',
  'America/Havana',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Australia/Adelaide',
  'Pacific/Auckland',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Pacific/Kiritimati',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tehran',
  'Africa/Casablanca',
  'Asia/Gaza',
]

/** Days around DST changes of 2026 in the zones above (both hemispheres), and ordinary days. */
const ANCHORS = [
  '2026-03-08T06:00:00Z', // New York springs forward
  '2026-03-29T01:00:00Z', // Europe springs forward
  '2026-04-05T00:00:00Z', // Sydney, Lord Howe, Auckland fall back; Santiago
  '2026-09-06T00:00:00Z', // Santiago springs forward
  '2026-09-27T00:00:00Z', // Auckland springs forward
  '2026-10-04T00:00:00Z', // Sydney, Lord Howe, Asuncion
  '2026-10-25T01:00:00Z', // Europe falls back
  '2026-11-01T06:00:00Z', // New York falls back
  '2026-11-25T12:00:00Z', // none
].map((text) => new Date(text).getTime())

const MINUTE = 60_000
const DAY = 86_400_000

/** Instants near an anchor (a week either side, on minute or odd millisecond boundaries) or anywhere within two years: gaps. */
const instant = fc.oneof(
  fc.tuple(fc.constantFrom(...ANCHORS), fc.integer({ min: -7 * 24 * 60, max: 7 * 24 * 60 }), fc.constantFrom(0, 0, 0, 1, 59_999)).map(([anchor, minutes, ms]) => anchor + minutes * MINUTE + ms),
  fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }),
)

const slot = fc
  .tuple(instant, fc.constantFrom(15, 30, 30, 45, 60, 90, 24 * 60, 26 * 60))
  .map(([start, minutes]): Interval => ({ start: new Date(start), end: new Date(start + minutes * MINUTE) }))

/** The per-instant luxon conversion, as slot fitting did it before. */
function luxonClock(ms: number, zone: string) {
  const local = DateTime.fromMillis(ms, { zone })
  return { day: Math.round(DateTime.utc(local.year, local.month, local.day).toMillis() / DAY), minute: local.hour * 60 + local.minute }
}

/** Slot fitting's old per-slot test: the oracle. */
function luxonFits(slot: Interval, zone: string, waking: { startMinute: number; endMinute: number }): boolean {
  const start = DateTime.fromJSDate(slot.start, { zone })
  const end = DateTime.fromJSDate(slot.end, { zone })
  const startMinute = start.hour * 60 + start.minute
  const endMinute = end.hasSame(start, 'day') ? end.hour * 60 + end.minute : 1440 + end.hour * 60 + end.minute
  return startMinute >= waking.startMinute && endMinute <= waking.endMinute
}

/** Every slot the fitter hands out to one zone, in order (capacity 1: each slot once). */
function fittedSlots(slots: Interval[], zone: string, waking: { startMinute: number; endMinute: number }): Interval[] {
  const fitter = new SlotFitter({ slots, defaultTimezone: 'UTC', wakingHours: waking })
  const fitted: Interval[] = []
  for (let slot = fitter.assign(zone); slot; slot = fitter.assign(zone)) fitted.push(slot)
  return fitted
}

describe('wall clocks from a few offset look-ups per zone', () => {
  it('equal luxon per instant, across DST changes and gaps, in every kind of zone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.array(instant, { minLength: 1, maxLength: 200 }), (zone, instants) => {
        const sorted = [...new Set(instants)].sort((a, b) => a - b)
        expect(wallClocks(sorted, zone)).toEqual(sorted.map((ms) => luxonClock(ms, zone)))
      }),
      { seed: 42, numRuns: 300 },
    )
  })

  it('give slot fitting the same slots as the per-slot luxon oracle', () => {
    const waking = fc.constantFrom({ startMinute: 540, endMinute: 1260 }, { startMinute: 0, endMinute: 1440 }, { startMinute: 120, endMinute: 210 }, { startMinute: 1380, endMinute: 1440 })
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.array(slot, { minLength: 1, maxLength: 120 }), waking, (zone, drawn, hours) => {
        const slots = drawn.sort((a, b) => a.start.getTime() - b.start.getTime())
        expect(fittedSlots(slots, zone, hours)).toEqual(slots.filter((s) => luxonFits(s, zone, hours)))
      }),
      { seed: 42, numRuns: 300 },
    )
  })

  it('fits a week of half-hour slots for contacts in every zone in well under a second', () => {
    const start = Date.UTC(2026, 9, 22) // a week across Europe's fall-back
    const slots: Interval[] = Array.from({ length: 336 }, (_, i) => ({ start: new Date(start + i * 30 * MINUTE), end: new Date(start + (i + 1) * 30 * MINUTE) }))
    const zones = Intl.supportedValuesOf('timeZone')
    expect(zones.length).toBeGreaterThan(300)
    const fitter = new SlotFitter({ slots, capacityPerSlot: 1000, defaultTimezone: 'UTC' })
    const began = performance.now()
    for (const zone of zones) fitter.assign(zone)
    const elapsed = performance.now() - began
    // Per slot with luxon this was 336 x 418 conversions, about 20 s; per zone it is a few look-ups (about 0.1 s here).
    expect(elapsed).toBeLessThan(2000)
  })
})
