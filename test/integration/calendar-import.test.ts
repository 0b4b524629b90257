/**
 * Calendar imports against the database, on PGlite and PostgreSQL: the fixture read by the .ics
 * reader and applied in small batches (one transaction each). Importing twice changes nothing the
 * second time; a changed or cancelled event replaces its rows, never doubles them; the daily
 * refresh adds later occurrences when `now` moves; the quota counts rows and the user's counter
 * always equals the rows stored. Time is explicit (`now`), never the clock.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCalendarRecords } from '../../src/imports/calendar/ics-reader.ts'
import { applyEventBatch, refreshCalendarSeries } from '../../src/imports/calendar/event-writes.ts'
import type { ImportCounts, ImportedEvent } from '../../src/imports/types.ts'
import { createJobWork } from '../../src/jobs/job-work.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const FIXTURE = readFileSync(new URL('../fixtures/imports/calendar.ics', import.meta.url)).toString('utf8')
const NOW = new Date('2026-10-05T12:00:00.000Z')
const ZONE = 'Europe/Berlin'
const kinds = await availableDatabaseKinds()

async function* chunks(text: string): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let i = 0; i < bytes.length; i += 100) yield bytes.subarray(i, i + 100)
}

describe.each(kinds)('calendar import on %s', (kind) => {
  let db: TestDatabase
  let users = 0
  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(async () => {
    await db?.destroy()
  })
  const newUser = async () => (await db.prisma.user.create({ data: { email: `calendar${++users}@example.com`, timezone: ZONE } })).id

  /** Reads `text` and applies it two records a batch, as the import job does; returns the summed counts and every rejection. */
  async function importIcs(userId: string, text: string, now = NOW, options: { maxEvents?: number; horizonDays?: number } = {}) {
    const totals: ImportCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0 }
    const reasons: string[] = []
    let batch: ImportedEvent[] = []
    const flush = async () => {
      const { counts, rejected } = await applyEventBatch({ prisma: db.prisma }, userId, batch, now, {
        horizonDays: options.horizonDays ?? 30,
        maxEvents: options.maxEvents ?? 100_000,
        // No timezone: the writer reads the user's (Europe/Berlin), as the import job calls it.
      })
      for (const key of Object.keys(totals) as (keyof ImportCounts)[]) totals[key] += counts[key]
      reasons.push(...rejected.map((r) => r.reason))
      batch = []
    }
    // No timezone either: all-day and floating events carry their wall clock to the writer.
    for await (const record of readCalendarRecords(chunks(text))) {
      if (record.kind === 'rejected') {
        totals.rejected++
        reasons.push(record.reason)
        continue
      }
      batch.push(record)
      if (batch.length === 2) await flush()
    }
    await flush()
    return { counts: totals, reasons }
  }

  const rows = async (userId: string) =>
    (await db.prisma.calendarEvent.findMany({ where: { userId }, orderBy: [{ startsAt: 'asc' }, { uid: 'asc' }] })).map((e) => ({
      uid: e.uid,
      title: e.title,
      start: e.startsAt.toISOString(),
      end: e.endsAt.toISOString(),
    }))
  const counter = async (userId: string) => (await db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).calendarEventCount

  const FIRST_IMPORT = [
    { uid: 'weekly-sync-0001@example.test', title: 'Weekly sync', start: '2026-10-07T08:00:00.000Z', end: '2026-10-07T09:00:00.000Z' },
    { uid: 'weekly-sync-0001@example.test', title: 'Weekly sync', start: '2026-10-14T08:00:00.000Z', end: '2026-10-14T09:00:00.000Z' },
    { uid: 'call-ny-0005@example.test', title: 'Call with the New York office', start: '2026-10-15T13:00:00.000Z', end: '2026-10-15T14:00:00.000Z' },
    { uid: 'utc-0006@example.test', title: 'Release review', start: '2026-10-16T15:00:00.000Z', end: '2026-10-16T15:30:00.000Z' },
    { uid: 'offsite-0002@example.test', title: 'Team offsite', start: '2026-10-19T22:00:00.000Z', end: '2026-10-20T22:00:00.000Z' },
    { uid: 'weekly-sync-0001@example.test', title: 'Weekly sync (moved)', start: '2026-10-22T12:00:00.000Z', end: '2026-10-22T13:00:00.000Z' },
    // 28 October is an EXDATE; 4 November is after the DST change (10:00 CET).
    { uid: 'weekly-sync-0001@example.test', title: 'Weekly sync', start: '2026-11-04T09:00:00.000Z', end: '2026-11-04T10:00:00.000Z' },
  ]

  it('imports the fixture as busy time within the horizon, and a second import changes nothing', async () => {
    const userId = await newUser()
    const apiEvent = await db.prisma.calendarEvent.create({ data: { userId, title: 'mine', startsAt: NOW, endsAt: new Date(NOW.getTime() + 3_600_000) } })
    await db.prisma.user.update({ where: { id: userId }, data: { calendarEventCount: 1 } })

    const first = await importIcs(userId, FIXTURE)
    // The free and the cancelled events store nothing: not errors, counted unchanged.
    expect(first).toEqual({ counts: { created: 4, updated: 0, unchanged: 2, rejected: 0 }, reasons: [] })
    expect((await rows(userId)).filter((r) => r.uid !== null)).toEqual(FIRST_IMPORT)
    const series = await db.prisma.calendarSeries.findMany({ where: { userId } })
    expect(series.map((s) => [s.uid, s.expandedUntil.toISOString()])).toEqual([['weekly-sync-0001@example.test', '2026-11-04T12:00:00.000Z']])
    expect(await counter(userId)).toBe(8)

    const ids = (await db.prisma.calendarEvent.findMany({ where: { userId }, select: { id: true }, orderBy: { id: 'asc' } })).map((e) => e.id)
    const second = await importIcs(userId, FIXTURE)
    expect(second).toEqual({ counts: { created: 0, updated: 0, unchanged: 6, rejected: 0 }, reasons: [] })
    expect((await db.prisma.calendarEvent.findMany({ where: { userId }, select: { id: true }, orderBy: { id: 'asc' } })).map((e) => e.id)).toEqual(ids)
    expect(await counter(userId)).toBe(8)
    // The event added through the API is never touched by an import.
    expect(await db.prisma.calendarEvent.findUnique({ where: { id: apiEvent.id } })).not.toBeNull()
  })

  it('replaces a changed or cancelled event by UID, never doubling it', async () => {
    const userId = await newUser()
    await importIcs(userId, FIXTURE)
    const changed = FIXTURE.replace('DTSTART:20261016T150000Z', 'DTSTART:20261016T140000Z')
      .replace('SUMMARY:Weekly sync\r\n', 'SUMMARY:Weekly team sync\r\n')
      .replace('SUMMARY:Call with the New York office\r\n', 'SUMMARY:Call with the New York office\r\nSTATUS:CANCELLED\r\n')
    const again = await importIcs(userId, changed)
    expect(again).toEqual({ counts: { created: 0, updated: 3, unchanged: 3, rejected: 0 }, reasons: [] })
    const stored = await rows(userId)
    expect(stored.filter((r) => r.uid === 'call-ny-0005@example.test')).toEqual([])
    expect(stored.filter((r) => r.uid === 'utc-0006@example.test')).toEqual([
      { uid: 'utc-0006@example.test', title: 'Release review', start: '2026-10-16T14:00:00.000Z', end: '2026-10-16T15:30:00.000Z' },
    ])
    expect(stored.filter((r) => r.uid === 'weekly-sync-0001@example.test').map((r) => r.title)).toEqual(['Weekly team sync', 'Weekly team sync', 'Weekly sync (moved)', 'Weekly team sync'])
    expect(stored).toHaveLength(6)
    expect(await counter(userId)).toBe(6)
    expect(await db.prisma.calendarSeries.count({ where: { userId } })).toBe(1)
  })

  it('adds later occurrences when the horizon moves (refresh, and the daily job), then nothing more', async () => {
    const userId = await newUser()
    const weekly = [
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'UID:standup@example.test',
      'DTSTART;TZID=Europe/Berlin:20261005T090000',
      'DTEND;TZID=Europe/Berlin:20261005T091500',
      'RRULE:FREQ=WEEKLY;BYDAY=MO',
      'SUMMARY:Standup',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n')
    await importIcs(userId, weekly, NOW, { horizonDays: 14 })
    // From now - 1 day: the one this morning is still stored.
    expect((await rows(userId)).map((r) => r.start)).toEqual(['2026-10-05T07:00:00.000Z', '2026-10-12T07:00:00.000Z', '2026-10-19T07:00:00.000Z'])

    const later = new Date('2026-10-20T12:00:00.000Z')
    // New busy time inside the horizon is a calendar change of the user: caches drop it, live streams re-walk.
    const announced: [string, string][] = []
    const refreshed = await refreshCalendarSeries(db.prisma, later, 14, { announce: (user, what) => void announced.push([user, what]) })
    expect(refreshed).toMatchObject({ added: 2, failed: 0 })
    expect(announced).toEqual([[userId, 'calendar']])
    expect((await rows(userId)).map((r) => r.start)).toEqual([
      '2026-10-05T07:00:00.000Z',
      '2026-10-12T07:00:00.000Z',
      '2026-10-19T07:00:00.000Z',
      '2026-10-26T08:00:00.000Z', // CET from 25 October
      '2026-11-02T08:00:00.000Z',
    ])
    expect(await counter(userId)).toBe(5)
    expect(await refreshCalendarSeries(db.prisma, later, 14, { announce: (user, what) => void announced.push([user, what]) })).toEqual({ series: 0, added: 0, failed: 0 })
    expect(announced).toHaveLength(1) // nothing added: nothing announced

    // The daily refresh job does the same before it enqueues the users.
    const work = createJobWork({
      prisma: db.prisma,
      engine: {} as never,
      logger: pino({ level: 'silent' }),
      concurrency: 1,
      refreshCron: '0 4 * * *',
      now: () => new Date('2026-10-27T12:00:00.000Z'),
      calendarHorizonDays: 14,
      announce: (user, what) => void announced.push([user, what]),
    })
    const enqueued: string[] = []
    await work.refreshAllUsers(async (userIds) => void enqueued.push(...userIds), () => false)
    expect(enqueued).toContain(userId)
    expect(announced.at(-1)).toEqual([userId, 'calendar'])
    expect((await rows(userId)).map((r) => r.start).at(-1)).toBe('2026-11-09T08:00:00.000Z')
    expect(await counter(userId)).toBe(6)

    // Importing the same file later adds what the horizon gained, and still counts it unchanged.
    const again = await importIcs(userId, weekly, new Date('2026-11-03T12:00:00.000Z'), { horizonDays: 14 })
    expect(again.counts).toEqual({ created: 0, updated: 0, unchanged: 1, rejected: 0 })
    expect((await rows(userId)).map((r) => r.start).at(-1)).toBe('2026-11-16T08:00:00.000Z')
    expect(await counter(userId)).toBe(7)
  })

  it('property: any sequence of files keeps the counter equal to the rows, one event per UID, and a repeat changes nothing', async () => {
    type Spec = { uid: number; kind: 'single' | 'series' | 'cancelled' | 'free'; day: number; hours: number; title: string; count: number }
    const spec = fc.record({
      uid: fc.integer({ min: 0, max: 4 }),
      kind: fc.constantFrom<Spec['kind']>('single', 'series', 'cancelled', 'free'),
      day: fc.integer({ min: -3, max: 20 }),
      hours: fc.integer({ min: 1, max: 30 }),
      title: fc.constantFrom('A', 'B', 'Ü', ''),
      count: fc.integer({ min: 1, max: 6 }),
    })
    const toIcs = (events: Spec[]) => {
      const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0']
      for (const e of events) {
        const start = new Date(NOW.getTime() + e.day * 86_400_000)
        const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
        lines.push('BEGIN:VEVENT', `UID:p${e.uid}@example.test`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(new Date(start.getTime() + e.hours * 3_600_000))}`)
        if (e.title) lines.push(`SUMMARY:${e.title}`)
        if (e.kind === 'series') lines.push(`RRULE:FREQ=DAILY;INTERVAL=2;COUNT=${e.count}`)
        if (e.kind === 'cancelled') lines.push('STATUS:CANCELLED')
        if (e.kind === 'free') lines.push('TRANSP:TRANSPARENT')
        lines.push('END:VEVENT')
      }
      lines.push('END:VCALENDAR', '')
      return lines.join('\r\n')
    }
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(spec, { maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (files) => {
        const userId = await newUser()
        for (const file of files) {
          const text = toIcs(file)
          await importIcs(userId, text, NOW, { horizonDays: 14 })
          const repeat = await importIcs(userId, text, NOW, { horizonDays: 14 })
          expect(repeat.counts).toMatchObject({ created: 0, updated: 0 })
          const stored = await rows(userId)
          expect(await counter(userId)).toBe(stored.length)
          // The first event of each UID in the file is the one stored (later duplicates are rejected).
          for (const uid of new Set(file.map((e) => e.uid))) {
            const kept = file.find((e) => e.uid === uid)!
            const mine = stored.filter((r) => r.uid === `p${uid}@example.test`)
            if (kept.kind === 'cancelled' || kept.kind === 'free') expect(mine).toEqual([])
            else if (kept.kind === 'single') expect(mine.length).toBeLessThanOrEqual(1)
            else expect(mine.length).toBeLessThanOrEqual(kept.count)
            expect(new Set(mine.map((r) => r.start)).size).toBe(mine.length)
          }
        }
      }),
      { numRuns: kind === 'pglite' ? 15 : 25 },
    )
  })

  it('respects the calendar-event quota in rows: what does not fit is rejected, the rest stored, counters right', async () => {
    const userId = await newUser()
    const result = await importIcs(userId, FIXTURE, NOW, { maxEvents: 5 })
    // The three single events fit; the series (4 occurrences) does not.
    expect(result.counts).toEqual({ created: 3, updated: 0, unchanged: 2, rejected: 1 })
    expect(result.reasons).toEqual([expect.stringMatching(/at most 5 calendar events/)])
    expect(await db.prisma.calendarEvent.count({ where: { userId } })).toBe(3)
    expect(await counter(userId)).toBe(3)
    expect(await db.prisma.calendarSeries.count({ where: { userId } })).toBe(0)
    // Replacing an event frees its own rows first: a changed event at the limit still fits.
    const moved = FIXTURE.replace('DTSTART:20261016T150000Z', 'DTSTART:20261016T140000Z')
    const again = await importIcs(userId, moved, NOW, { maxEvents: 3 })
    expect(again.counts).toMatchObject({ updated: 1, rejected: 1 })
    expect(await db.prisma.calendarEvent.count({ where: { userId } })).toBe(3)
    expect(await counter(userId)).toBe(3)
  })
})
