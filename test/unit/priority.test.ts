import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import { DAY_MS } from '../../src/time.ts'
import type { DunbarCircle, FrequencyPreference } from '../../src/generated/prisma/enums.ts'
import { applyRecencyDecay, calculatePriority, CIRCLE_WEIGHT, overdueRatio } from '../../src/suggestions/priority.ts'
import { describeReason } from '../../src/suggestions/reason.ts'

const NOW = new Date('2026-11-25T12:00:00.000Z')
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS)
const CIRCLES: (DunbarCircle | null)[] = ['INNER', 'CLOSE', 'ACTIVE', 'CASUAL', 'ACQUAINTANCE', null]
const FREQUENCIES: (FrequencyPreference | null)[] = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY', 'FLEXIBLE', null]

function contact(circle: DunbarCircle | null, frequency: FrequencyPreference | null, lastDaysAgo: number | null, createdDaysAgo = 400) {
  const lastContactDate = lastDaysAgo === null ? null : daysAgo(lastDaysAgo)
  const createdAt = daysAgo(createdDaysAgo)
  return {
    dunbarCircle: circle,
    frequencyPreference: frequency,
    lastContactDate,
    nextDueAt: computeNextDueAt({ lastContactDate, createdAt, dunbarCircle: circle, frequencyPreference: frequency }),
  }
}

describe('calculatePriority', () => {
  it('is the overdue ratio times the circle weight once due', () => {
    // Monthly, last talked 60 days ago: two cadences, an ACTIVE weight of 3.
    expect(overdueRatio(contact('ACTIVE', 'MONTHLY', 60), NOW)).toBeCloseTo(2)
    expect(calculatePriority(contact('ACTIVE', 'MONTHLY', 60), NOW)).toBeCloseTo(6)
  })

  it('weighs circles INNER > CLOSE > ACTIVE > CASUAL > ACQUAINTANCE > none at equal overdueness', () => {
    const priorities = CIRCLES.map((circle) => calculatePriority(contact(circle, 'MONTHLY', 45), NOW))
    expect([...priorities].sort((a, b) => b - a)).toEqual(priorities)
    expect(new Set(priorities).size).toBe(CIRCLES.length)
  })

  it('falls back to the circle cadence for FLEXIBLE and no preference', () => {
    expect(calculatePriority(contact('INNER', 'FLEXIBLE', 14), NOW)).toBeCloseTo(CIRCLE_WEIGHT.INNER * 2)
    expect(calculatePriority(contact('INNER', null, 14), NOW)).toBeCloseTo(CIRCLE_WEIGHT.INNER * 2)
  })

  it('lets recently contacted contacts fall off smoothly', () => {
    expect(applyRecencyDecay(1)).toBe(1)
    expect(applyRecencyDecay(0.999)).toBeCloseTo(1, 2)
    expect(applyRecencyDecay(0.5)).toBeLessThan(0.5)
    expect(applyRecencyDecay(-100)).toBeGreaterThanOrEqual(0)
    const justTalked = calculatePriority(contact('INNER', 'WEEKLY', 0), NOW)
    const dueNow = calculatePriority(contact('INNER', 'WEEKLY', 7), NOW)
    expect(justTalked).toBeLessThan(dueNow / 2)
  })

  it('ranks never-contacted contacts by circle and how long they have waited', () => {
    expect(calculatePriority(contact('INNER', null, null, 10), NOW)).toBeGreaterThan(calculatePriority(contact('CASUAL', null, null, 10), NOW))
    expect(calculatePriority(contact('CLOSE', null, null, 100), NOW)).toBeGreaterThan(calculatePriority(contact('CLOSE', null, null, 10), NOW))
  })

  it('never increases with nextDueAt within a class (the bound the engine relies on)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CIRCLES),
        fc.constantFrom(...FREQUENCIES),
        fc.integer({ min: -5000, max: 5000 }),
        fc.integer({ min: 0, max: 5000 }),
        (circle, frequency, dueOffsetDays, laterByMinutes) => {
          const earlier = new Date(NOW.getTime() + dueOffsetDays * DAY_MS)
          const later = new Date(earlier.getTime() + laterByMinutes * 60_000)
          const score = (nextDueAt: Date) => calculatePriority({ dunbarCircle: circle, frequencyPreference: frequency, nextDueAt }, NOW)
          expect(score(later)).toBeLessThanOrEqual(score(earlier))
        },
      ),
    )
  })
})

describe('describeReason', () => {
  it('says the cadence, the last talk and the overdueness', () => {
    expect(describeReason(contact('ACTIVE', 'MONTHLY', 47), NOW)).toBe('Monthly · last talked 47 days ago · 17 days overdue')
    expect(describeReason(contact('INNER', 'FLEXIBLE', 1), NOW)).toBe('Inner circle · last talked 1 day ago · due in 6 days')
    expect(describeReason(contact(null, null, null, 3), NOW)).toBe('Keep in touch · never contacted · 3 days overdue')
  })
})
