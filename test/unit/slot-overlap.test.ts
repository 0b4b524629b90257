/** Issue 10, kind 11: taken time and free slots compared as intervals, not by equal starts. Pure. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstOverlapping, intervalsOverlap, type Interval } from '../../src/calendar/free-slots.ts'
import { SlotFitter, slotsOverlapping } from '../../src/suggestions/slot-fitting.ts'

const DAY = Date.parse('2026-11-26T00:00:00.000Z')
const clock = (h: number, m = 0) => new Date(DAY + (h * 60 + m) * 60_000)
const span = (from: [number, number], to: [number, number]): Interval => ({ start: clock(...from), end: clock(...to) })

describe('taken time in SlotFitter', () => {
  const slots = [span([10, 0], [10, 30]), span([10, 30], [11, 0]), span([11, 0], [11, 30])]

  it('takes every slot an accepted 10:15-10:45 overlaps, not only one starting at 10:15', () => {
    const fitter = new SlotFitter({ slots, taken: [span([10, 15], [10, 45])], defaultTimezone: 'UTC' })
    expect(fitter.assign(null)).toEqual(slots[2])
    expect(fitter.assign(null)).toBeNull()
  })

  it('leaves a slot that only touches the taken time (half-open intervals)', () => {
    const fitter = new SlotFitter({ slots, taken: [span([10, 30], [11, 0])], defaultTimezone: 'UTC' })
    expect(fitter.assign(null)).toEqual(slots[0])
    expect(fitter.assign(null)).toEqual(slots[2])
  })

  it('costs one unit per overlapping interval, down to zero, with capacity', () => {
    const taken = [span([10, 0], [10, 30]), span([10, 10], [10, 20]), span([9, 0], [12, 0])]
    const fitter = new SlotFitter({ slots, taken, capacityPerSlot: 2, defaultTimezone: 'UTC' })
    // 10:00 loses 3 (floor 0), 10:30 and 11:00 lose 1 each (one left).
    expect([fitter.assign(null), fitter.assign(null), fitter.assign(null)]).toEqual([slots[1], slots[2], null])
  })

  it('finds exactly the overlapping pairs, as a naive scan does (property, seeded)', () => {
    const interval = fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 60 }))
      .map(([start, length]): Interval => ({ start: new Date(DAY + start * 60_000), end: new Date(DAY + (start + length) * 60_000) }))
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 30 }), fc.array(interval, { maxLength: 10 }), (unsorted, taken) => {
        const slots = [...unsorted].sort((a, b) => a.start.getTime() - b.start.getTime())
        const naive = taken.flatMap((t) => slots.flatMap((s, i) => (s.start < t.end && t.start < s.end ? [i] : [])))
        expect(slotsOverlapping(slots, taken)).toEqual(naive)
      }),
      { seed: 42, numRuns: 300 },
    )
  })
})

describe('interval helpers', () => {
  it('intervalsOverlap is half-open', () => {
    expect(intervalsOverlap(span([10, 0], [10, 30]), span([10, 15], [10, 45]))).toBe(true)
    expect(intervalsOverlap(span([10, 0], [10, 30]), span([10, 30], [11, 0]))).toBe(false)
    expect(intervalsOverlap(span([9, 0], [12, 0]), span([10, 0], [10, 30]))).toBe(true)
  })

  it('firstOverlapping finds a slot inside a long earlier one, and -1 for disjoint slots', () => {
    expect(firstOverlapping([span([10, 0], [10, 30]), span([10, 30], [11, 0])])).toBe(-1)
    expect(firstOverlapping([span([9, 0], [12, 0]), span([10, 0], [10, 30])])).toBe(1)
    expect(firstOverlapping([span([9, 0], [12, 0]), span([9, 30], [9, 45]), span([11, 0], [11, 30])])).toBe(1)
    expect(firstOverlapping([])).toBe(-1)
  })
})
