/**
 * The .ics reader of calendar imports, without a database: the fixture (a Google-style export with
 * a weekly meeting across the October 2026 DST change in Berlin, a moved and a cancelled occurrence,
 * an all-day event, a free and a cancelled event, an IANA TZID without VTIMEZONE, a UTC event) read
 * in chunks of every size, and every bad input: each gives a format error or a rejected record with
 * its position, never anything else.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CalendarFormatError, readCalendarRecords, type CalendarReadOptions } from '../../src/imports/calendar/ics-reader.ts'
import { expandSeries, expandSeriesDetailed } from '../../src/imports/calendar/expand-series.ts'
import { readContentLines } from '../../src/imports/calendar/ics-lines.ts'
import type { ImportedEvent, Rejected } from '../../src/imports/types.ts'

const FIXTURE = readFileSync(new URL('../fixtures/imports/calendar.ics', import.meta.url))
const encoder = new TextEncoder()

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function readAll(input: Uint8Array | string, options: CalendarReadOptions = {}, size = 64 * 1024): Promise<(ImportedEvent | Rejected)[]> {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input
  const records: (ImportedEvent | Rejected)[] = []
  for await (const record of readCalendarRecords(chunked(bytes, size), options)) records.push(record)
  return records
}

const ics = (...lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n')
const vevent = (...lines: string[]) => ['BEGIN:VEVENT', ...lines, 'END:VEVENT']
const iso = (date: Date | null) => date?.toISOString() ?? null

describe('readCalendarRecords: the fixture', () => {
  it.each([1, 7, 75, 4096])('reads every event with its busy interval, in chunks of %i bytes', async (size) => {
    const records = await readAll(FIXTURE, { timezone: 'Europe/Berlin' }, size)
    const summary = records.map((r) =>
      r.kind === 'event' ? { position: r.position, uid: r.uid, title: r.title, start: iso(r.startsAt), end: iso(r.endsAt), series: r.seriesIcs !== null, notBusy: r.notBusy ?? null } : r,
    )
    expect(summary).toEqual([
      // All-day: the whole local day in the user's zone (Berlin, CEST: 22:00 UTC the day before).
      { position: 2, uid: 'offsite-0002@example.test', title: 'Team offsite', start: '2026-10-19T22:00:00.000Z', end: '2026-10-20T22:00:00.000Z', series: false, notBusy: null },
      { position: 3, uid: 'focus-0003@example.test', title: 'Focus time (free)', start: null, end: null, series: false, notBusy: 'transparent' },
      { position: 4, uid: 'cancelled-0004@example.test', title: 'Dentist (cancelled)', start: null, end: null, series: false, notBusy: 'cancelled' },
      // TZID=America/New_York without a VTIMEZONE: luxon's IANA data (EDT, UTC-4).
      { position: 5, uid: 'call-ny-0005@example.test', title: 'Call with the New York office', start: '2026-10-15T13:00:00.000Z', end: '2026-10-15T14:00:00.000Z', series: false, notBusy: null },
      { position: 6, uid: 'utc-0006@example.test', title: 'Release review', start: '2026-10-16T15:00:00.000Z', end: '2026-10-16T15:30:00.000Z', series: false, notBusy: null },
      // The recurring meeting comes last: its override (event 7) is at the end of the file.
      { position: 1, uid: 'weekly-sync-0001@example.test', title: 'Weekly sync', start: null, end: null, series: true, notBusy: null },
    ])
  })

  it('gives the series with its override and the VTIMEZONE it uses; expanded across the DST change', async () => {
    const records = await readAll(FIXTURE, { timezone: 'Europe/Berlin' })
    const series = records.find((r): r is ImportedEvent => r.kind === 'event' && r.seriesIcs !== null)!
    expect(series.seriesIcs).toContain('BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin')
    expect(series.seriesIcs!.match(/BEGIN:VEVENT/g)).toHaveLength(2)
    const occurrences = expandSeries(series.seriesIcs!, new Date('2026-10-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'), 'Europe/Berlin')
    expect(occurrences.map((o) => [o.start.toISOString(), o.end.toISOString(), o.title])).toEqual([
      ['2026-10-07T08:00:00.000Z', '2026-10-07T09:00:00.000Z', 'Weekly sync'], // 10:00 CEST
      ['2026-10-14T08:00:00.000Z', '2026-10-14T09:00:00.000Z', 'Weekly sync'],
      // 21 October moved to 22 October 14:00 (RECURRENCE-ID override).
      ['2026-10-22T12:00:00.000Z', '2026-10-22T13:00:00.000Z', 'Weekly sync (moved)'],
      // 28 October: EXDATE. DST ends 25 October: 10:00 CET is 09:00 UTC.
      ['2026-11-04T09:00:00.000Z', '2026-11-04T10:00:00.000Z', 'Weekly sync'],
      ['2026-11-11T09:00:00.000Z', '2026-11-11T10:00:00.000Z', 'Weekly sync'],
    ])
  })

  it('reads all-day events in the user zone given, and hands their wall clock to the writer', async () => {
    const records = await readAll(FIXTURE, { timezone: 'America/Los_Angeles' })
    const offsite = records.find((r) => r.kind === 'event' && r.uid === 'offsite-0002@example.test') as ImportedEvent
    expect([iso(offsite.startsAt), iso(offsite.endsAt)]).toEqual(['2026-10-20T07:00:00.000Z', '2026-10-21T07:00:00.000Z'])
    expect(offsite.wallClock).toEqual({ start: '2026-10-20', end: '2026-10-21' })
    // Zoned events carry none: their instants do not depend on the user.
    expect(records.filter((r) => r.kind === 'event' && r.wallClock).map((r) => (r as ImportedEvent).uid)).toEqual(['offsite-0002@example.test'])
    const [floating] = await readAll(ics(...vevent('UID:f', 'DTSTART:20261016T150000', 'DURATION:PT1H')))
    expect((floating as ImportedEvent).wallClock).toEqual({ start: '2026-10-16T15:00:00', end: '2026-10-16T16:00:00' })
  })

  it('reads a TZID that is no IANA name (Outlook) with its VTIMEZONE, even when the VTIMEZONE comes after the event', async () => {
    const outlookZone = [
      'BEGIN:VTIMEZONE',
      'TZID:W. Europe Standard Time',
      'BEGIN:STANDARD',
      'DTSTART:16010101T030000',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10',
      'END:STANDARD',
      'BEGIN:DAYLIGHT',
      'DTSTART:16010101T020000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0200',
      'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3',
      'END:DAYLIGHT',
      'END:VTIMEZONE',
    ]
    const event = (uid: string, day: string) => vevent(`UID:${uid}`, `DTSTART;TZID=W. Europe Standard Time:${day}T100000`, `DTEND;TZID=W. Europe Standard Time:${day}T110000`)
    const records = await readAll(ics(...event('before', '20261023'), ...outlookZone, ...event('after', '20261026')))
    expect(records.map((r) => (r.kind === 'event' ? [r.uid, iso(r.startsAt)] : r))).toEqual([
      ['after', '2026-10-26T09:00:00.000Z'], // CET
      ['before', '2026-10-23T08:00:00.000Z'], // CEST; it waited for the VTIMEZONE
    ])
  })

  it('yields single events while the file is still arriving (streaming, not buffered)', async () => {
    let pulled = 0
    async function* endless() {
      yield encoder.encode('BEGIN:VCALENDAR\r\n')
      for (let i = 0; ; i++) {
        pulled++
        yield encoder.encode(vevent(`UID:e${i}`, 'DTSTART:20261016T150000Z', 'DTEND:20261016T153000Z').join('\r\n') + '\r\n')
      }
    }
    const seen: string[] = []
    for await (const record of readCalendarRecords(endless())) {
      seen.push((record as ImportedEvent).uid)
      if (seen.length === 3) break
    }
    expect(seen).toEqual(['e0', 'e1', 'e2'])
    expect(pulled).toBeLessThanOrEqual(5)
  })

  it('accepts LF line endings and a BOM', async () => {
    const text = '\uFEFF' + FIXTURE.toString('utf8').replace(/\r\n/g, '\n')
    const records = await readAll(text, { timezone: 'Europe/Berlin' })
    expect(records.filter((r) => r.kind === 'event')).toHaveLength(6)
  })
})

describe('readCalendarRecords: bad input', () => {
  const expectFormatError = async (input: Uint8Array | string) => {
    const error = await readAll(input).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(CalendarFormatError)
    expect((error as CalendarFormatError).code).toBe('BAD_USER_INPUT')
  }

  it('refuses an empty file, blank lines, and files that are not iCalendar', async () => {
    await expectFormatError('')
    await expectFormatError('\r\n\r\n  \n')
    await expectFormatError('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada\r\nEND:VCARD\r\n')
    await expectFormatError('Name,E-mail\r\nAda,ada@example.test\r\n')
    await expectFormatError(new Uint8Array([0xff, 0xfe, 0x00, 0x42, 0x00, 0x45]))
  })

  it('refuses a 10 MB single line without holding it', async () => {
    const line = new Uint8Array(10 * 1024 * 1024).fill(0x41)
    await expectFormatError(line)
  })

  it('rejects the event holding a 10 MB line, keeps the others', async () => {
    const head = encoder.encode(ics(...vevent('UID:a', 'DTSTART:20261016T150000Z', 'DTEND:20261016T153000Z')).replace('END:VCALENDAR\r\n', ''))
    const big = encoder.encode('BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261016T150000Z\r\nDESCRIPTION:')
    const tail = encoder.encode('\r\nEND:VEVENT\r\n' + vevent('UID:c', 'DTSTART:20261017T150000Z', 'DTEND:20261017T153000Z').join('\r\n') + '\r\nEND:VCALENDAR\r\n')
    async function* stream() {
      yield head
      yield big
      for (let i = 0; i < 10; i++) yield new Uint8Array(1024 * 1024).fill(0x41)
      yield tail
    }
    const records: (ImportedEvent | Rejected)[] = []
    for await (const record of readCalendarRecords(stream())) records.push(record)
    expect(records.map((r) => [r.kind, r.position, r.kind === 'rejected' ? r.reason : r.uid])).toEqual([
      ['event', 1, 'a'],
      ['rejected', 2, expect.stringMatching(/longer than 1048576 bytes/)],
      ['event', 3, 'c'],
    ])
    expect((records[1] as Rejected).raw!.length).toBeLessThanOrEqual(2048)
  })

  it('rejects an event with invalid UTF-8 with its position, keeps the others', async () => {
    const before = encoder.encode(ics(...vevent('UID:a', 'DTSTART:20261016T150000Z', 'DTEND:20261016T153000Z'), 'BEGIN:VEVENT', 'UID:b', 'SUMMARY:'))
    const cut = before.length - encoder.encode('\r\nEND:VCALENDAR\r\n').length
    const bytes = new Uint8Array([
      ...before.subarray(0, cut),
      0xc3,
      0x28,
      ...encoder.encode('\r\nDTSTART:20261016T150000Z\r\nEND:VEVENT\r\n' + vevent('UID:c', 'DTSTART:20261017T150000Z', 'DTEND:20261017T153000Z').join('\r\n') + '\r\nEND:VCALENDAR\r\n'),
    ])
    const records = await readAll(bytes)
    expect(records.map((r) => [r.kind, r.position, r.kind === 'rejected' ? r.reason : r.uid])).toEqual([
      ['event', 1, 'a'],
      ['rejected', 2, expect.stringMatching(/not valid UTF-8/)],
      ['event', 3, 'c'],
    ])
  })

  it('rejects a rule whose INTERVAL is not a positive integer (ical.js would read 0 as 1), with field RRULE', async () => {
    const records = await readAll(
      ics(
        ...vevent('UID:zero', 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z', 'RRULE:FREQ=DAILY;INTERVAL=0'),
        ...vevent('UID:negative', 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z', 'RRULE:FREQ=WEEKLY;interval=-2;COUNT=3'),
        ...vevent('UID:two', 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z', 'RRULE:FREQ=DAILY;INTERVAL=2;COUNT=3'),
      ),
    )
    expect(records.map((r) => (r.kind === 'rejected' ? [r.position, r.field ?? null, r.reason] : [r.position, r.uid]))).toEqual([
      [1, 'RRULE', 'RRULE INTERVAL must be a positive integer (RFC 5545), not "0"'],
      [2, 'RRULE', 'RRULE INTERVAL must be a positive integer (RFC 5545), not "-2"'],
      [3, 'two'],
    ])
  })

  it('rejects malformed VEVENTs among good ones, each with its position and field', async () => {
    const records = await readAll(
      ics(
        ...vevent('UID:good-1', 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z'),
        ...vevent('UID:no-start', 'SUMMARY:x'),
        ...vevent('UID:bad-date', 'DTSTART:2026-13-45'),
        ...vevent('UID:backwards', 'DTSTART:20261016T150000Z', 'DTEND:20261016T140000Z'),
        ...vevent('UID:unknown-zone', 'DTSTART;TZID=Mars/Olympus:20261016T150000', 'DTEND;TZID=Mars/Olympus:20261016T160000'),
        ...vevent('UID:bad-rule', 'DTSTART:20261016T150000Z', 'RRULE:FREQ=YEARLY;BYMONTH=13'),
        ...vevent('UID:too-long', 'DTSTART;VALUE=DATE:20260101', 'DTEND;VALUE=DATE:20260301'),
        ...vevent('UID:good-1', 'DTSTART:20261018T150000Z', 'DTEND:20261018T160000Z'),
        'BEGIN:VEVENT',
        'UID:unclosed',
        'DTSTART:20261016T150000Z',
        'END:VALARM',
        'END:VEVENT',
        ...vevent('UID:good-2', 'DTSTART:20261017T150000Z', 'DURATION:PT45M'),
        ...vevent('UID:instant', 'DTSTART:20261017T150000Z'),
      ),
    )
    expect(records.map((r) => (r.kind === 'rejected' ? [r.position, r.field ?? null, r.reason] : [r.position, r.uid, iso(r.startsAt), iso(r.endsAt), r.notBusy ?? null]))).toEqual([
      [1, 'good-1', '2026-10-16T15:00:00.000Z', '2026-10-16T16:00:00.000Z', null],
      [2, 'DTSTART', 'DTSTART is missing'],
      [3, expect.any(String), expect.any(String)],
      [4, 'DTEND', 'the event ends before it starts'],
      // ical.js refuses the rule while parsing: no field, the reason names it.
      [6, null, expect.stringMatching(/BYMONTH: invalid value/)],
      [7, 'DTEND', expect.stringMatching(/31 days/)],
      [8, 'UID', expect.stringMatching(/duplicate UID/)],
      [9, null, expect.stringMatching(/unexpected END:VALARM/)],
      [10, 'good-2', '2026-10-17T15:00:00.000Z', '2026-10-17T15:45:00.000Z', null],
      [11, 'instant', null, null, 'empty'],
      // An unknown TZID waits for a VTIMEZONE that may come later in the file: refused at the end.
      [5, 'TZID', expect.stringMatching(/unknown time zone "Mars\/Olympus"/)],
    ])
  })

  it('rejects a file cut inside an event, and an event past the size cap', async () => {
    const cut = await readAll('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261016T150000Z\r\n')
    expect(cut).toEqual([expect.objectContaining({ kind: 'rejected', position: 1, reason: expect.stringMatching(/END:VEVENT missing/) })])
    const big = await readAll(ics(...vevent('UID:a', 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z', ...Array.from({ length: 50 }, () => `X-PAD:${'y'.repeat(100)}`))), {
      maxRecordBytes: 1000,
    })
    expect(big).toEqual([expect.objectContaining({ kind: 'rejected', position: 1, reason: expect.stringMatching(/larger than 1000 bytes/) })])
  })

  it('holds at most maxHeldSeries recurring UIDs; the rest are rejected, not lost silently', async () => {
    const series = Array.from({ length: 5 }, (_, i) => vevent(`UID:s${i}`, 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z', 'RRULE:FREQ=DAILY')).flat()
    const records = await readAll(ics(...series), { maxHeldSeries: 3 })
    expect(records.filter((r) => r.kind === 'rejected').map((r) => r.position)).toEqual([4, 5])
    expect(records.filter((r) => r.kind === 'event')).toHaveLength(3)
  })

  it('gives an event without UID a stable hash of its text', async () => {
    const file = ics(...vevent('DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z'))
    const [first] = await readAll(file)
    const [again] = await readAll(file)
    expect(first).toMatchObject({ kind: 'event', uid: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) })
    expect((again as ImportedEvent).uid).toBe((first as ImportedEvent).uid)
  })

  it('drops a VTIMEZONE with a rule ical.js could walk for ever; events then need an IANA TZID', async () => {
    const records = await readAll(
      ics(
        'BEGIN:VTIMEZONE',
        'TZID:Custom/Zone',
        'BEGIN:STANDARD',
        'TZOFFSETFROM:+0100',
        'TZOFFSETTO:+0100',
        'DTSTART:19700101T000000',
        'RRULE:FREQ=SECONDLY',
        'END:STANDARD',
        'END:VTIMEZONE',
        ...vevent('UID:a', 'DTSTART;TZID=Custom/Zone:20261016T150000', 'DTEND;TZID=Custom/Zone:20261016T160000'),
      ),
    )
    expect(records).toEqual([expect.objectContaining({ kind: 'rejected', field: 'TZID' })])
  })

  it('property: any text or bytes give records or the format error, nothing else, in bounded time', async () => {
    const line = fc.oneof(
      fc.constantFrom('BEGIN:VEVENT', 'END:VEVENT', 'BEGIN:VTIMEZONE', 'END:VTIMEZONE', 'BEGIN:VALARM', 'END:VALARM', 'END:VCALENDAR', 'BEGIN:VCALENDAR'),
      fc.constantFrom('UID:x', 'UID:y', 'DTSTART:20261016T150000Z', 'DTEND:20261016T160000Z', 'DTSTART;VALUE=DATE:20261016', 'RRULE:FREQ=WEEKLY;COUNT=3'),
      fc.constantFrom('RECURRENCE-ID:20261023T150000Z', 'EXDATE:20261030T150000Z', 'DTSTART;TZID=Europe/Berlin:20261016T150000', 'TZID:Europe/Berlin', 'STATUS:CANCELLED'),
      fc.constantFrom('RRULE:FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2', 'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'RRULE:FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31', 'DURATION:P1D', 'DURATION:garbage', 'DTSTART:garbage', ' folded', '\ttab'),
      fc.string({ maxLength: 40 }),
    )
    const file = fc.oneof(
      fc.array(line, { maxLength: 40 }).map((lines) => encoder.encode(['BEGIN:VCALENDAR', ...lines].join('\r\n'))),
      fc.uint8Array({ maxLength: 400 }),
      fc.string({ maxLength: 400 }).map((s) => encoder.encode(s)),
    )
    await fc.assert(
      fc.asyncProperty(file, fc.integer({ min: 1, max: 64 }), async (bytes, size) => {
        const started = performance.now()
        try {
          const records = await readAll(bytes, { timezone: 'Europe/Berlin' }, size)
          for (const record of records) {
            expect(['event', 'rejected']).toContain(record.kind)
            // What the writer does with a series: expand it under its caps; it may refuse, never hang.
            if (record.kind === 'event' && record.seriesIcs !== null) {
              try {
                expandSeriesDetailed(record.seriesIcs, new Date('2026-10-01T00:00:00Z'), new Date('2026-11-01T00:00:00Z'), 'Europe/Berlin')
              } catch (error) {
                expect(error).toBeInstanceOf(Error)
              }
            }
          }
        } catch (error) {
          expect(error).toBeInstanceOf(CalendarFormatError)
        }
        expect(performance.now() - started).toBeLessThan(1000)
      }),
      { numRuns: 300 },
    )
  })
})

describe('readContentLines', () => {
  it('unfolds lines folded inside a multi-byte character, and numbers physical lines', async () => {
    const bytes = new Uint8Array([...encoder.encode('SUMMARY:caf'), 0xc3, 0x0d, 0x0a, 0x20, 0xa9, ...encoder.encode('\r\nUID:1\n')])
    const lines = []
    for await (const line of readContentLines(chunked(bytes, 1))) lines.push(line)
    expect(lines).toEqual([
      { text: 'SUMMARY:café', valid: true, truncated: false, lineNumber: 1 },
      { text: 'UID:1', valid: true, truncated: false, lineNumber: 3 },
    ])
  })
})
