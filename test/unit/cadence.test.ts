import { describe, expect, it } from 'vitest'
import { cadenceDays, cadenceDaysSql, CIRCLE_DEFAULT_DAYS, computeNextDueAt, explainCadence, FREQUENCY_DAYS, UNASSIGNED_DEFAULT_DAYS } from '../../src/contacts/cadence.ts'
import { isCalendarDate } from '../../src/validation.ts'
import { statusEndsAt } from '../../src/suggestions/suggestion-status.ts'
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

describe('explainCadence', () => {
  it('names where the cadence comes from, in words', () => {
    expect(explainCadence({ frequencyPreference: 'WEEKLY', frequencyFromGroup: true, dunbarCircle: 'CASUAL' }, 'Family')).toEqual({
      days: 7,
      frequency: 'WEEKLY',
      source: 'GROUP',
      rule: "Every 7 days (weekly), from the group Family's default",
    })
    expect(explainCadence({ frequencyPreference: 'QUARTERLY', frequencyFromGroup: false, dunbarCircle: 'INNER' }, null)).toEqual({
      days: 90,
      frequency: 'QUARTERLY',
      source: 'CONTACT',
      rule: "Every 90 days (quarterly), the contact's own frequency",
    })
    expect(explainCadence({ frequencyPreference: null, frequencyFromGroup: false, dunbarCircle: 'ACTIVE' }, null)).toEqual({
      days: 30,
      frequency: null,
      source: 'CIRCLE',
      rule: 'Every 30 days, the default of the circle Active (50)',
    })
    expect(explainCadence({ frequencyPreference: null, frequencyFromGroup: false, dunbarCircle: null }, null)).toEqual({
      days: 365,
      frequency: null,
      source: 'DEFAULT',
      rule: 'Every 365 days, the default for contacts without a circle',
    })
  })
  it('FLEXIBLE follows the circle, own or inherited', () => {
    expect(explainCadence({ frequencyPreference: 'FLEXIBLE', frequencyFromGroup: false, dunbarCircle: 'CLOSE' }, null)).toMatchObject({
      days: 14,
      source: 'CONTACT',
      rule: "Every 14 days (flexible: the default of the circle Close (15)), the contact's own frequency",
    })
    expect(explainCadence({ frequencyPreference: 'FLEXIBLE', frequencyFromGroup: true, dunbarCircle: null }, 'Club')).toMatchObject({ days: 365, source: 'GROUP', frequency: 'FLEXIBLE' })
  })
})

describe('cadenceDaysSql', () => {
  it('holds every constant of the module, so SQL and TypeScript agree', () => {
    const sql = cadenceDaysSql('f', 'c')
    for (const [name, days] of [...Object.entries(FREQUENCY_DAYS), ...Object.entries(CIRCLE_DEFAULT_DAYS)]) expect(sql).toContain(`WHEN '${name}' THEN ${days}`)
    expect(sql).toMatch(new RegExp(`, ${UNASSIGNED_DEFAULT_DAYS}\\)$`))
    expect(sql).not.toContain('FLEXIBLE')
  })
})

describe('isCalendarDate', () => {
  it('takes real dates as YYYY-MM-DD and --MM-DD only', () => {
    for (const good of ['1985-04-15', '2024-02-29', '--02-29', '--12-31', '1000-01-01', '9999-12-31']) expect(isCalendarDate(good), good).toBe(true)
    for (const bad of ['2023-02-29', '1900-02-29', '--02-30', '--13-01', '--00-10', '1985-04-31', '0999-01-01', '1985-4-15', '19850415', '---02-29', '', ' 1985-04-15']) {
      expect(isCalendarDate(bad), bad).toBe(false)
    }
  })
})

describe('statusEndsAt', () => {
  const setAt = new Date('2026-11-25T12:00:00.000Z')
  const horizon = 7 * DAY_MS
  it('is the snooze date, set-at + horizon for a dismissal, the slot end for an acceptance (or + horizon), null for PENDING', () => {
    const snoozedUntil = new Date('2026-12-01T00:00:00.000Z')
    expect(statusEndsAt({ status: 'SNOOZED', statusSetAt: setAt, snoozedUntil, slot: null }, horizon)).toEqual(snoozedUntil)
    expect(statusEndsAt({ status: 'DISMISSED', statusSetAt: setAt, slot: null }, horizon)).toEqual(new Date(setAt.getTime() + horizon))
    const slot = { start: new Date('2026-11-26T10:00:00Z'), end: new Date('2026-11-26T11:00:00Z') }
    expect(statusEndsAt({ status: 'ACCEPTED', statusSetAt: setAt, slot }, horizon)).toEqual(slot.end)
    expect(statusEndsAt({ status: 'ACCEPTED', statusSetAt: setAt, slot: null }, horizon)).toEqual(new Date(setAt.getTime() + horizon))
    expect(statusEndsAt({ status: 'PENDING', statusSetAt: null, slot }, horizon)).toBeNull()
  })
})
