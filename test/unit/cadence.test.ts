import { describe, expect, it } from 'vitest'
import { cadenceDays, computeNextDueAt } from '../../src/contacts/cadence.ts'
import { DAY_MS } from '../../src/time.ts'

describe('cadence', () => {
  it('follows the frequency preference first', () => {
    expect(cadenceDays({ frequencyPreference: 'WEEKLY', dunbarCircle: 'ACQUAINTANCE' })).toBe(7)
    expect(cadenceDays({ frequencyPreference: 'BIANNUAL', dunbarCircle: null })).toBe(182)
  })
  it('falls back to the circle for FLEXIBLE and no preference, then to yearly', () => {
    expect(cadenceDays({ frequencyPreference: 'FLEXIBLE', dunbarCircle: 'INNER' })).toBe(7)
    expect(cadenceDays({ frequencyPreference: null, dunbarCircle: 'ACTIVE' })).toBe(30)
    expect(cadenceDays({ frequencyPreference: null, dunbarCircle: null })).toBe(365)
  })
  it('is due one cadence after the last contact, or since it was added', () => {
    const last = new Date('2026-01-31T10:00:00.123Z')
    const createdAt = new Date('2025-01-01T00:00:00Z')
    expect(computeNextDueAt({ lastContactDate: last, createdAt, frequencyPreference: 'MONTHLY', dunbarCircle: null })).toEqual(
      new Date(last.getTime() + 30 * DAY_MS),
    )
    expect(computeNextDueAt({ lastContactDate: null, createdAt, frequencyPreference: 'MONTHLY', dunbarCircle: null })).toEqual(
      createdAt,
    )
  })
})
