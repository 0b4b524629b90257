/**
 * The free-time cache's promise (suggestions/engine-caches.ts): free time computed once over a longer
 * range, then clipped to `[now, now + horizon)` and cut into slots, gives exactly the slots a fresh
 * computation over `[now, now + horizon)` gives, for any `now` inside the range: any windows, busy
 * events, zones (DST both ways, half- and three-quarter-hour offsets, Lord Howe's 30-minute DST) and times.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cutSlots, freeSlots, freeStretches, type Interval, type WeeklyWindow } from '../../src/calendar/free-slots.ts'

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kathmandu', 'America/Santiago', 'Pacific/Apia']

/** Days around DST changes of 2026 (both hemispheres), and an ordinary one. */
const ANCHORS = ['2026-03-08T06:00:00Z', '2026-03-29T01:00:00Z', '2026-04-05T00:00:00Z', '2026-10-04T00:00:00Z', '2026-10-25T01:00:00Z', '2026-11-25T12:00:00Z'].map(
  (text) => new Date(text).getTime(),
)

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const window: fc.Arbitrary<WeeklyWindow> = fc
  .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1440 }))
  .filter(([, start, end]) => start < end)
  .map(([weekday, startMinute, endMinute]) => ({ weekday, startMinute, endMinute }))

/** The case: a cache read at `from` over `[from, from + horizon + slack)`, a walk at `now` in `[from, from + slack]`. */
const scenario = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    anchor: fc.constantFrom(...ANCHORS),
    // Where the read happened, on odd milliseconds too.
    fromOffset: fc.integer({ min: -3 * DAY, max: 3 * DAY }),
    horizonDays: fc.integer({ min: 1, max: 8 }),
    slackMs: fc.integer({ min: 0, max: 6 * HOUR }),
    nowFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    windows: fc.array(window, { maxLength: 8 }),
    busy: fc.array(fc.tuple(fc.integer({ min: -2 * DAY, max: 12 * DAY }), fc.integer({ min: 1, max: 6 * HOUR })), { maxLength: 12 }),
    slotMinutes: fc.constantFrom(15, 30, 45, 60),
  })
  .map((c) => {
    const from = c.anchor + c.fromOffset
    const now = from + Math.floor(c.nowFraction * c.slackMs)
    const busy: Interval[] = c.busy.map(([start, length]) => ({ start: new Date(from + start), end: new Date(from + start + length) }))
    return { ...c, from, now, to: from + c.horizonDays * DAY + c.slackMs, busy }
  })

const text = (slots: Interval[]) => slots.map((slot) => `${slot.start.toISOString()}/${slot.end.toISOString()}`)

describe('free time cached over a longer range, clipped per walk', () => {
  it('gives the slots of a fresh computation over [now, now + horizon)', () => {
    fc.assert(
      fc.property(scenario, (c) => {
        const stretches = freeStretches({ windows: c.windows, timezone: c.zone, busy: c.busy, from: new Date(c.from), to: new Date(c.to) })
        const end = new Date(c.now + c.horizonDays * DAY)
        const clipped = cutSlots(stretches, c.zone, new Date(c.now), end, c.slotMinutes)
        const fresh = freeSlots({ windows: c.windows, timezone: c.zone, busy: c.busy, from: new Date(c.now), to: end, slotMinutes: c.slotMinutes })
        expect(text(clipped)).toEqual(text(fresh))
      }),
      { numRuns: 400 },
    )
  })

  it('keeps the free time as maximal stretches: sorted, apart, inside the range', () => {
    fc.assert(
      fc.property(scenario, (c) => {
        const stretches = freeStretches({ windows: c.windows, timezone: c.zone, busy: c.busy, from: new Date(c.from), to: new Date(c.to) })
        for (let i = 0; i < stretches.length; i += 2) {
          expect(stretches[i]!).toBeLessThan(stretches[i + 1]!)
          expect(stretches[i]!).toBeGreaterThanOrEqual(c.from)
          expect(stretches[i + 1]!).toBeLessThanOrEqual(c.to)
          if (i > 0) expect(stretches[i]!).toBeGreaterThan(stretches[i - 1]!)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('cuts a stretch that starts before `now` on the grid of where it is clipped, as a fresh computation does', () => {
    // Weekdays 09:00-17:00 Berlin, read at 08:00, a walk at 10:07:13.5: the first slot is 10:30.
    const windows = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 540, endMinute: 1020 }))
    const from = new Date('2026-11-25T07:00:00Z')
    const stretches = freeStretches({ windows, timezone: 'Europe/Berlin', busy: [], from, to: new Date(from.getTime() + 2 * DAY) })
    const now = new Date('2026-11-25T09:07:13.500Z')
    const slots = cutSlots(stretches, 'Europe/Berlin', now, new Date(now.getTime() + DAY))
    expect(slots[0]).toEqual({ start: new Date('2026-11-25T09:30:00Z'), end: new Date('2026-11-25T10:00:00Z') })
    expect(text(slots)).toEqual(text(freeSlots({ windows, timezone: 'Europe/Berlin', busy: [], from: now, to: new Date(now.getTime() + DAY) })))
  })

  it('re-cuts a stretch across a DST change from `now`: cached slots clipped would sit off the grid', () => {
    // Lord Howe falls back 30 minutes at 02:00 on 2026-04-05 (+11 to +10:30). Sunday 00:00-06:00, hour slots.
    const windows = [{ weekday: 7, startMinute: 0, endMinute: 360 }]
    const from = new Date('2026-04-04T13:00:00Z') // 00:00 local, +11
    const stretches = freeStretches({ windows, timezone: 'Australia/Lord_Howe', busy: [], from, to: new Date(from.getTime() + DAY) })
    const now = new Date('2026-04-04T16:40:00Z') // 03:10 local, +10:30
    const slots = cutSlots(stretches, 'Australia/Lord_Howe', now, new Date(now.getTime() + DAY), 60)
    // 04:00 and 05:00 local, as a fresh computation gives; hour slots cut from 00:00 would be at 03:30 and 04:30.
    expect(text(slots)).toEqual(['2026-04-04T17:30:00.000Z/2026-04-04T18:30:00.000Z', '2026-04-04T18:30:00.000Z/2026-04-04T19:30:00.000Z'])
    expect(text(slots)).toEqual(text(freeSlots({ windows, timezone: 'Australia/Lord_Howe', busy: [], from: now, to: new Date(now.getTime() + DAY), slotMinutes: 60 })))
  })
})
