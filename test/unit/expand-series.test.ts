/**
 * expandSeries, pure: exact instants for RRULE, EXDATE, RDATE, moved and cancelled overrides,
 * across both DST changes, in a VTIMEZONE, an IANA zone without one and the user's zone; and the
 * caps that keep a hostile rule from running long.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_ITERATIONS, expandSeries, expandSeriesDetailed, expansionSteps, STEPS_PER_PAUSE } from '../../src/imports/calendar/expand-series.ts'

const BERLIN = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
]
const calendar = (...lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n')
const vevent = (...lines: string[]) => ['BEGIN:VEVENT', 'UID:s', ...lines, 'END:VEVENT']
const instants = (list: { start: Date; end: Date; title?: string | null }[]) => list.map((o) => [o.start.toISOString(), o.end.toISOString()])
const FROM = new Date('2026-01-01T00:00:00Z')
const TO = new Date('2027-01-01T00:00:00Z')

describe('expandSeries', () => {
  it('keeps a 09:00 Berlin daily meeting at 09:00 local across the March change (VTIMEZONE)', () => {
    const ics = calendar(...BERLIN, ...vevent('DTSTART;TZID=Europe/Berlin:20260327T090000', 'DTEND;TZID=Europe/Berlin:20260327T093000', 'RRULE:FREQ=DAILY;COUNT=4'))
    expect(instants(expandSeries(ics, FROM, TO, 'UTC'))).toEqual([
      ['2026-03-27T08:00:00.000Z', '2026-03-27T08:30:00.000Z'],
      ['2026-03-28T08:00:00.000Z', '2026-03-28T08:30:00.000Z'],
      ['2026-03-29T07:00:00.000Z', '2026-03-29T07:30:00.000Z'], // CEST from 29 March
      ['2026-03-30T07:00:00.000Z', '2026-03-30T07:30:00.000Z'],
    ])
  })

  it('reads an IANA TZID without VTIMEZONE with the IANA rules (New York, November change)', () => {
    const ics = calendar(...vevent('DTSTART;TZID=America/New_York:20261030T090000', 'DTEND;TZID=America/New_York:20261030T100000', 'RRULE:FREQ=DAILY;COUNT=4'))
    expect(instants(expandSeries(ics, FROM, TO, 'Europe/Berlin'))).toEqual([
      ['2026-10-30T13:00:00.000Z', '2026-10-30T14:00:00.000Z'],
      ['2026-10-31T13:00:00.000Z', '2026-10-31T14:00:00.000Z'],
      ['2026-11-01T14:00:00.000Z', '2026-11-01T15:00:00.000Z'], // EST from 1 November
      ['2026-11-02T14:00:00.000Z', '2026-11-02T15:00:00.000Z'],
    ])
  })

  it('reads floating times and all-day dates in the user zone', () => {
    const floating = calendar(...vevent('DTSTART:20261024T100000', 'DTEND:20261024T110000', 'RRULE:FREQ=DAILY;COUNT=2'))
    expect(instants(expandSeries(floating, FROM, TO, 'Europe/Berlin'))).toEqual([
      ['2026-10-24T08:00:00.000Z', '2026-10-24T09:00:00.000Z'],
      ['2026-10-25T09:00:00.000Z', '2026-10-25T10:00:00.000Z'],
    ])
    const allDay = calendar(...vevent('DTSTART;VALUE=DATE:20261024', 'DTEND;VALUE=DATE:20261025', 'RRULE:FREQ=DAILY;COUNT=2'))
    expect(instants(expandSeries(allDay, FROM, TO, 'Europe/Berlin'))).toEqual([
      ['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z'],
      ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'], // 25 hours: the day DST ends
    ])
  })

  it('honours EXDATE, RDATE, a moved override and a cancelled override', () => {
    const ics = calendar(
      ...vevent('DTSTART:20261005T100000Z', 'DTEND:20261005T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE:20261012T100000Z', 'RDATE:20261008T100000Z', 'SUMMARY:Review'),
      ...vevent('RECURRENCE-ID:20261019T100000Z', 'DTSTART:20261020T160000Z', 'DTEND:20261020T163000Z'),
      ...vevent('RECURRENCE-ID:20261026T100000Z', 'DTSTART:20261026T100000Z', 'DTEND:20261026T110000Z', 'STATUS:CANCELLED'),
    )
    expect(expandSeries(ics, FROM, TO, 'UTC').map((o) => [o.start.toISOString(), o.end.toISOString(), o.title])).toEqual([
      ['2026-10-05T10:00:00.000Z', '2026-10-05T11:00:00.000Z', 'Review'],
      ['2026-10-08T10:00:00.000Z', '2026-10-08T11:00:00.000Z', 'Review'], // RDATE
      // 12 October: EXDATE; 19 October moved to the 20th (the override's own title is absent: the master's)
      ['2026-10-20T16:00:00.000Z', '2026-10-20T16:30:00.000Z', 'Review'],
      // 26 October: cancelled
    ])
  })

  it('returns what overlaps the window: a moved occurrence by its new time, none for a free master', () => {
    const ics = calendar(
      ...vevent('DTSTART:20261005T100000Z', 'DTEND:20261005T110000Z', 'RRULE:FREQ=WEEKLY'),
      ...vevent('RECURRENCE-ID:20261207T100000Z', 'DTSTART:20261013T230000Z', 'DTEND:20261014T010000Z'),
    )
    expect(instants(expandSeries(ics, new Date('2026-10-12T10:30:00Z'), new Date('2026-10-14T00:00:00Z'), 'UTC'))).toEqual([
      ['2026-10-12T10:00:00.000Z', '2026-10-12T11:00:00.000Z'],
      ['2026-10-13T23:00:00.000Z', '2026-10-14T01:00:00.000Z'],
    ])
    const free = calendar(...vevent('DTSTART:20261005T100000Z', 'DTEND:20261005T110000Z', 'RRULE:FREQ=DAILY', 'TRANSP:TRANSPARENT'))
    expect(expandSeries(free, FROM, TO, 'UTC')).toEqual([])
  })

  it('caps occurrences, steps and candidate dates: a minutely, dense or impossible rule cannot run long', () => {
    const minutely = calendar(...vevent('DTSTART:20260101T000000Z', 'DTEND:20260101T000030Z', 'RRULE:FREQ=MINUTELY'))
    const capped = expandSeriesDetailed(minutely, FROM, TO, 'UTC', { maxOccurrences: 100 })
    expect(capped.occurrences).toHaveLength(100)
    expect(capped.truncated).toBe(true)
    // Steps of the rule are capped (an old rule walks its past unless rebased).
    const walked = expandSeriesDetailed(minutely, FROM, TO, 'UTC', { maxIterations: 500, maxOccurrences: 1_000_000 })
    expect([walked.occurrences.length, walked.truncated]).toEqual([500, true])
    // No 30 February: ical.js 2.2.1 steps for ever looking for one (kewisch/ical.js#1038); the candidate cap ends it.
    for (const rule of ['FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31', 'FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30']) {
      const impossible = calendar(...vevent('DTSTART:20260101T000000Z', 'DTEND:20260101T000030Z', `RRULE:${rule}`))
      expect(expandSeriesDetailed(impossible, FROM, TO, 'UTC', { maxIterations: 1_000_000 })).toEqual({ occurrences: [], truncated: true })
    }
  })

  it('pauses every STEPS_PER_PAUSE steps, so a caller can give the event loop a turn, and ends with the same expansion', () => {
    const hourly = calendar(...vevent('DTSTART:20260101T090000Z', 'DTEND:20260101T091500Z', 'RRULE:FREQ=HOURLY;BYHOUR=9,17'))
    const from = new Date('2026-10-01T00:00:00Z')
    const to = new Date('2026-11-01T00:00:00Z')
    const steps = expansionSteps(hourly, from, to, 'UTC')
    let pauses = 0
    let step = steps.next()
    for (; !step.done; step = steps.next()) pauses++
    const whole = expandSeriesDetailed(hourly, from, to, 'UTC')
    expect(step.value).toEqual(whole)
    expect(pauses).toBeGreaterThan(0)
    expect(pauses).toBeLessThanOrEqual(Math.ceil(DEFAULT_MAX_ITERATIONS / STEPS_PER_PAUSE))
    // Rebased by whole days, an hourly rule from January walks only the window: twice a day in it.
    expect(whole.truncated).toBe(false)
    expect(whole.occurrences).toHaveLength(62)
    expect(whole.occurrences[0]!.start.toISOString()).toBe('2026-10-01T09:00:00.000Z')
  })

  it('property: moving an old rule forward by whole days that are whole periods changes no occurrence', () => {
    const days = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.constantFrom('DAILY', 'WEEKLY', 'HOURLY'),
        fc.integer({ min: 1, max: 5 }),
        fc.subarray(days, { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 23 }),
        (daysBack, freq, interval, byDay, windowStart, windowDays, hour) => {
          // An hourly rule walked from DTSTART takes a step an hour: kept within 60 days back so the walk without rebase stays short.
          const back = freq === 'HOURLY' ? daysBack % 60 : daysBack
          const start = new Date(Date.UTC(2026, 2, 1, hour) - back * 86_400_000)
          const stamp = start.toISOString().slice(0, 19).replace(/[-:]/g, '')
          const by = freq === 'WEEKLY' && byDay.length > 0 ? `;BYDAY=${byDay.join(',')}` : freq === 'HOURLY' ? `;BYHOUR=${hour},${(hour + 7) % 24}` : ''
          const rule = `RRULE:FREQ=${freq};INTERVAL=${interval}${by}`
          const ics = calendar(...BERLIN, ...vevent(`DTSTART;TZID=Europe/Berlin:${stamp}`, `DTEND;TZID=Europe/Berlin:${stamp.slice(0, 9)}${String(hour).padStart(2, '0')}4500`, rule, `EXDATE;TZID=Europe/Berlin:${stamp}`))
          const from = new Date(Date.UTC(2026, 2, 1) + windowStart * 86_400_000)
          const to = new Date(from.getTime() + windowDays * 86_400_000)
          const fast = expandSeriesDetailed(ics, from, to, 'Europe/Berlin')
          const slow = expandSeriesDetailed(ics, from, to, 'Europe/Berlin', { rebase: false, maxIterations: 100_000, maxCandidates: 1_000_000 })
          expect(instants(fast.occurrences)).toEqual(instants(slow.occurrences))
          expect(fast.truncated).toBe(false)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('property: weekly rules give sorted occurrences inside the window, 10:00 local, none on an EXDATE', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 364 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 20 }),
        (startDay, windowDays, excluded, windowOffset) => {
          const start = new Date(Date.UTC(2026, 0, 1 + startDay))
          const ymd = start.toISOString().slice(0, 10).replace(/-/g, '')
          const exdate = new Date(start.getTime() + excluded * 7 * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '')
          const ics = calendar(
            ...BERLIN,
            ...vevent(`DTSTART;TZID=Europe/Berlin:${ymd}T100000`, `DTEND;TZID=Europe/Berlin:${ymd}T110000`, 'RRULE:FREQ=WEEKLY;COUNT=60', `EXDATE;TZID=Europe/Berlin:${exdate}T100000`),
          )
          const from = new Date(start.getTime() + windowOffset * 86_400_000)
          const to = new Date(from.getTime() + windowDays * 86_400_000)
          const occurrences = expandSeries(ics, from, to, 'UTC')
          const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', year: 'numeric', month: '2-digit', day: '2-digit' })
          for (const [i, o] of occurrences.entries()) {
            expect(o.end > from && o.start < to).toBe(true)
            expect(o.end.getTime() - o.start.getTime()).toBe(3_600_000)
            expect(local.format(o.start)).toMatch(/10:00$/)
            expect(local.format(o.start).startsWith(`${exdate.slice(6, 8)}/${exdate.slice(4, 6)}/${exdate.slice(0, 4)}`)).toBe(false)
            if (i > 0) expect(o.start.getTime()).toBeGreaterThan(occurrences[i - 1]!.start.getTime())
          }
          // Every week in the window but the excluded one is there.
          const weeks = Math.ceil(windowDays / 7)
          expect(occurrences.length).toBeGreaterThanOrEqual(weeks - 2)
          expect(occurrences.length).toBeLessThanOrEqual(weeks + 1)
        },
      ),
      { numRuns: 100 },
    )
  })
})
