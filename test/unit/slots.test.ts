import { describe, expect, it } from 'vitest'
import { freeSlots, isValidTimeZone, validateWeeklyWindows, type Interval } from '../../src/calendar/free-slots.ts'
import { SlotFitter } from '../../src/suggestions/slot-fitting.ts'

const iso = (slots: Interval[]) => slots.map((s) => `${s.start.toISOString()}/${s.end.toISOString()}`)
const at = (text: string) => new Date(text)

describe('freeSlots', () => {
  it('expands weekly windows in the user zone, cuts 30-minute slots, clips to the horizon', () => {
    // Wednesday 2026-11-25; Berlin is UTC+1 in winter.
    const slots = freeSlots({
      windows: [{ weekday: 3, startMinute: 18 * 60, endMinute: 19 * 60 + 45 }],
      timezone: 'Europe/Berlin',
      busy: [],
      from: at('2026-11-25T17:10:00Z'),
      to: at('2026-12-02T00:00:00Z'),
    })
    // 18:10 local rounds up to 18:30; 19:30-19:45 is too short; the next Wednesday is past the horizon... Dec 2 00:00Z.
    expect(iso(slots)).toEqual(['2026-11-25T17:30:00.000Z/2026-11-25T18:00:00.000Z', '2026-11-25T18:00:00.000Z/2026-11-25T18:30:00.000Z'])
  })

  it('subtracts busy time, overlapping and adjacent events included', () => {
    const slots = freeSlots({
      windows: [{ weekday: 1, startMinute: 9 * 60, endMinute: 12 * 60 }],
      timezone: 'UTC',
      busy: [
        { start: at('2026-11-30T09:30:00Z'), end: at('2026-11-30T10:00:00Z') },
        { start: at('2026-11-30T09:45:00Z'), end: at('2026-11-30T10:30:00Z') },
        { start: at('2026-11-30T11:30:00Z'), end: at('2026-11-30T13:00:00Z') },
      ],
      from: at('2026-11-30T00:00:00Z'),
      to: at('2026-12-01T00:00:00Z'),
    })
    expect(iso(slots)).toEqual(['2026-11-30T09:00:00.000Z/2026-11-30T09:30:00.000Z', '2026-11-30T10:30:00.000Z/2026-11-30T11:00:00.000Z', '2026-11-30T11:00:00.000Z/2026-11-30T11:30:00.000Z'])
  })

  it('follows the wall clock across DST changes (Berlin, New York)', () => {
    const day = (zone: string, weekday: number, from: string, to: string) =>
      iso(freeSlots({ windows: [{ weekday, startMinute: 9 * 60, endMinute: 10 * 60 }], timezone: zone, busy: [], from: at(from), to: at(to) }))
    // Sunday 2026-03-29 Berlin springs forward: 09:00 is UTC+2 that day, UTC+1 the day before.
    expect(day('Europe/Berlin', 7, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')[0]).toBe('2026-03-29T07:00:00.000Z/2026-03-29T07:30:00.000Z')
    expect(day('Europe/Berlin', 6, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')[0]).toBe('2026-03-28T08:00:00.000Z/2026-03-28T08:30:00.000Z')
    // Sunday 2026-10-25 Berlin falls back: 09:00 is UTC+1.
    expect(day('Europe/Berlin', 7, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')[0]).toBe('2026-10-25T08:00:00.000Z/2026-10-25T08:30:00.000Z')
    // New York: Sunday 2026-03-08 springs forward; 09:00 EDT is 13:00Z.
    expect(day('America/New_York', 7, '2026-03-07T00:00:00Z', '2026-03-09T00:00:00Z')[0]).toBe('2026-03-08T13:00:00.000Z/2026-03-08T13:30:00.000Z')
  })

  it('keeps a window across the spring-forward gap as long as the clock says', () => {
    // 01:30-03:30 local on 2026-03-29 Berlin: 02:00-03:00 does not exist, so one hour of real time.
    const slots = freeSlots({
      windows: [{ weekday: 7, startMinute: 90, endMinute: 210 }],
      timezone: 'Europe/Berlin',
      busy: [],
      from: at('2026-03-28T12:00:00Z'),
      to: at('2026-03-29T12:00:00Z'),
    })
    expect(slots.length).toBe(2)
    expect(slots[0]!.start.toISOString()).toBe('2026-03-29T00:30:00.000Z')
  })

  it('handles half- and three-quarter-hour zones and a date line zone', () => {
    const first = (zone: string, weekday: number) =>
      freeSlots({ windows: [{ weekday, startMinute: 9 * 60, endMinute: 10 * 60 }], timezone: zone, busy: [], from: at('2026-11-23T00:00:00Z'), to: at('2026-11-30T00:00:00Z') })[0]!.start.toISOString()
    expect(first('Asia/Kolkata', 3)).toBe('2026-11-25T03:30:00.000Z') // +05:30
    expect(first('Asia/Kathmandu', 3)).toBe('2026-11-25T03:15:00.000Z') // +05:45
    expect(first('Pacific/Auckland', 1)).toBe('2026-11-29T20:00:00.000Z') // Monday 30th 09:00 NZDT (+13) is Sunday 20:00Z; the 23rd's was before the horizon
  })

  it('validates windows and zones', () => {
    expect(() => validateWeeklyWindows([{ weekday: 8, startMinute: 0, endMinute: 10 }])).toThrow(RangeError)
    expect(() => validateWeeklyWindows([{ weekday: 1, startMinute: 600, endMinute: 600 }])).toThrow(RangeError)
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true)
    expect(isValidTimeZone('Mars/Olympus')).toBe(false)
  })
})

describe('SlotFitter', () => {
  const hourly = (startUtcHour: number, count: number, day = 26): Interval[] =>
    Array.from({ length: count }, (_, i) => ({
      start: new Date(Date.UTC(2026, 10, day, startUtcHour + i)),
      end: new Date(Date.UTC(2026, 10, day, startUtcHour + i, 30)),
    }))

  it('gives the earliest slot, and spreads by capacity', () => {
    const one = new SlotFitter({ slots: hourly(9, 3), defaultTimezone: 'UTC' })
    expect([one.assign(null), one.assign(null), one.assign(null), one.assign(null)].map((s) => s?.start.getUTCHours() ?? null)).toEqual([9, 10, 11, null])
    const two = new SlotFitter({ slots: hourly(9, 2), capacityPerSlot: 2, defaultTimezone: 'UTC' })
    expect([two.assign(null), two.assign(null), two.assign(null)].map((s) => s?.start.getUTCHours())).toEqual([9, 9, 10])
  })

  it('counts taken slots against capacity', () => {
    const slots = hourly(9, 2)
    const fitter = new SlotFitter({ slots, taken: [slots[0]!], defaultTimezone: 'UTC' })
    expect(fitter.assign(null)?.start).toEqual(slots[1]!.start)
  })

  it("judges waking hours in the contact's own zone", () => {
    const evening = hourly(18, 1) // 18:00Z: 19:00 in Berlin, 03:00 in Tokyo
    expect(new SlotFitter({ slots: evening, defaultTimezone: 'UTC' }).assign('Europe/Berlin')).not.toBeNull()
    expect(new SlotFitter({ slots: evening, defaultTimezone: 'UTC' }).assign('Asia/Tokyo')).toBeNull()
    // Kolkata (+05:30): 03:30Z is 09:00 local and fits, 03:00Z is 08:30 and does not.
    const kolkata = [
      { start: at('2026-11-26T03:00:00Z'), end: at('2026-11-26T03:30:00Z') },
      { start: at('2026-11-26T03:30:00Z'), end: at('2026-11-26T04:00:00Z') },
    ]
    expect(new SlotFitter({ slots: kolkata, defaultTimezone: 'UTC' }).assign('Asia/Kolkata')?.start).toEqual(kolkata[1]!.start)
    // A slot across 21:00 local does not fit.
    expect(new SlotFitter({ slots: [{ start: at('2026-11-26T19:45:00Z'), end: at('2026-11-26T20:15:00Z') }], defaultTimezone: 'Europe/Berlin' }).assign(null)).toBeNull()
  })

  it('uses the default zone for contacts without a valid one', () => {
    const slots = hourly(18, 1)
    expect(new SlotFitter({ slots, defaultTimezone: 'Asia/Tokyo' }).assign(null)).toBeNull()
    expect(new SlotFitter({ slots, defaultTimezone: 'Europe/Berlin' }).assign('Not/AZone')).not.toBeNull()
  })
})
