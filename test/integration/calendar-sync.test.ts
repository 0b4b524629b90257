/**
 * CalDAV calendar sync against a real Radicale (test/helpers/radicale.ts) and the database (PGlite and
 * PostgreSQL): the busy intervals of a weekly Europe/Berlin event with a moved occurrence and an EXDATE
 * across the end of daylight saving time (25 October 2026), a VTIMEZONE under a non-IANA TZID, an IANA
 * TZID without VTIMEZONE, a floating time in the user's zone; transparent, cancelled and past events not
 * busy; an edit and a delete on the server then an incremental sync that reads only those (requests
 * counted); a refused sync token giving a full pass without duplicates; a deleted object seen by a full
 * pass; accepted suggestions written to the calendar and removed. Time is an injected `now`.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDavSession } from '../../src/dav/session.ts'
import type { DavSession } from '../../src/dav/types.ts'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'
import { applyEventBatch, refreshCalendarSeries } from '../../src/imports/calendar/event-writes.ts'
import { readCalendarRecords } from '../../src/imports/calendar/ics-reader.ts'
import type { ImportedEvent } from '../../src/imports/types.ts'
import { syncCalendar } from '../../src/sync/calendar-sync.ts'
import { removeAcceptedSuggestion, suggestionEventUrl, writeAcceptedSuggestion } from '../../src/sync/suggestion-events.ts'
import type { CollectionSyncResult, SyncAccount, SyncCollection } from '../../src/sync/types.ts'
import { DAY_MS } from '../../src/time.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'

const NOW = new Date('2026-10-12T12:00:00.000Z')
const HORIZON_MS = 28 * DAY_MS
const kinds = radicaleAvailable() ? await availableDatabaseKinds() : []

/** Europe/Berlin as Outlook names and defines it: the sync must read the VTIMEZONE, not the name. */
const OUTLOOK_BERLIN = [
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

const calendar = (...lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//calendar sync//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n')
const vevent = (...lines: string[]) => ['BEGIN:VEVENT', 'DTSTAMP:20261001T000000Z', ...lines, 'END:VEVENT']

/** Wednesdays 10:00-11:00 Berlin from 7 October; 21 October excluded; 28 October moved to Thursday 29th 15:00. */
const WEEKLY = calendar(
  ...OUTLOOK_BERLIN,
  ...vevent(
    'UID:weekly@test',
    'SUMMARY:Weekly',
    'DTSTART;TZID=W. Europe Standard Time:20261007T100000',
    'DTEND;TZID=W. Europe Standard Time:20261007T110000',
    'RRULE:FREQ=WEEKLY;BYDAY=WE',
    'EXDATE;TZID=W. Europe Standard Time:20261021T100000',
  ),
  ...vevent(
    'UID:weekly@test',
    'SUMMARY:Weekly (moved)',
    'RECURRENCE-ID;TZID=W. Europe Standard Time:20261028T100000',
    'DTSTART;TZID=W. Europe Standard Time:20261029T150000',
    'DTEND;TZID=W. Europe Standard Time:20261029T160000',
  ),
)
/** 26 October 09:00 Berlin (after the change: UTC+1), an IANA TZID without VTIMEZONE. */
const SINGLE = calendar(...vevent('UID:single@test', 'SUMMARY:Dentist', 'DTSTART;TZID=Europe/Berlin:20261026T090000', 'DTEND;TZID=Europe/Berlin:20261026T093000'))
/** Floating: 20 October 09:00 in the user's zone (America/New_York, UTC-4 then). */
const FLOATING = calendar(...vevent('UID:floating@test', 'SUMMARY:Floating', 'DTSTART:20261020T090000', 'DTEND:20261020T100000'))
const TRANSPARENT = calendar(...vevent('UID:free@test', 'SUMMARY:Free', 'TRANSP:TRANSPARENT', 'DTSTART:20261015T120000Z', 'DTEND:20261015T130000Z'))
const CANCELLED = calendar(...vevent('UID:cancelled@test', 'SUMMARY:Off', 'STATUS:CANCELLED', 'DTSTART:20261016T120000Z', 'DTEND:20261016T130000Z'))
const PAST = calendar(...vevent('UID:past@test', 'SUMMARY:Past', 'DTSTART:20260901T120000Z', 'DTEND:20260901T130000Z'))

const EXPECTED = [
  { title: 'Weekly', start: '2026-10-14T08:00:00.000Z', end: '2026-10-14T09:00:00.000Z' },
  { title: 'Floating', start: '2026-10-20T13:00:00.000Z', end: '2026-10-20T14:00:00.000Z' },
  { title: 'Dentist', start: '2026-10-26T08:00:00.000Z', end: '2026-10-26T08:30:00.000Z' },
  { title: 'Weekly (moved)', start: '2026-10-29T14:00:00.000Z', end: '2026-10-29T15:00:00.000Z' },
  { title: 'Weekly', start: '2026-11-04T09:00:00.000Z', end: '2026-11-04T10:00:00.000Z' },
]

describe.each(kinds)('calendar sync against Radicale on %s', (kind) => {
  let db: TestDatabase
  let radicale: Radicale
  let users = 0
  beforeAll(async () => {
    ;[db, radicale] = await Promise.all([openTestDatabase(kind), startRadicale()])
  })
  afterAll(async () => {
    await Promise.all([db?.destroy(), radicale?.stop()])
  })

  const session = () =>
    createDavSession({
      credentials: { kind: 'BASIC', username: 'alice', password: radicale.users.alice! },
      fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 10_000 }),
      oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
      now: () => NOW,
    })

  /** A user in New York, a CalDAV account and one calendar on Radicale. */
  async function setUp(): Promise<{ account: SyncAccount; collection: SyncCollection; calendarUrl: string }> {
    const n = ++users
    const user = await db.prisma.user.create({ data: { email: `calsync${n}@example.com`, timezone: 'America/New_York' } })
    const calendarUrl = await radicale.createCalendar('alice', `cal-${kind}-${n}`)
    const account = await db.prisma.account.create({ data: { userId: user.id, kind: 'CALDAV', url: radicale.url, auth: 'BASIC', credentials: 'sealed' } })
    const collection = await db.prisma.accountCollection.create({ data: { accountId: account.id, url: calendarUrl, kind: 'CALENDAR', enabled: true } })
    return { account: { id: account.id, userId: user.id }, collection: { id: collection.id, url: calendarUrl, syncToken: null, ctag: null }, calendarUrl }
  }

  async function sync(
    account: SyncAccount,
    collection: SyncCollection,
    dav: DavSession & { requests: number } = session(),
    announced: string[] = [],
    extra: { maxEvents?: number; signal?: AbortSignal; now?: Date } = {},
  ) {
    const stored = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })
    const result: CollectionSyncResult = await syncCalendar(
      {
        prisma: db.prisma,
        announce: (_user, what) => void announced.push(what),
        logger: pino({ level: 'silent' }),
        now: () => extra.now ?? NOW,
        horizonMs: HORIZON_MS,
        maxEvents: extra.maxEvents,
        signal: extra.signal,
      },
      account,
      { ...collection, syncToken: stored.syncToken },
      dav,
    )
    return result
  }

  const busy = async (userId: string) =>
    (await db.prisma.calendarEvent.findMany({ where: { userId }, orderBy: { startsAt: 'asc' } })).map((row) => ({
      title: row.title,
      start: row.startsAt.toISOString(),
      end: row.endsAt.toISOString(),
    }))
  const counter = async (userId: string) => (await db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).calendarEventCount

  async function putAll(calendarUrl: string) {
    for (const [name, body] of Object.entries({ WEEKLY, SINGLE, FLOATING, TRANSPARENT, CANCELLED, PAST })) {
      await radicale.put('alice', `${calendarUrl}${name.toLowerCase()}.ics`, body, 'text/calendar; charset=utf-8')
    }
  }

  it('gives the exact busy intervals of a recurring event with an exception and an EXDATE across the end of DST', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await putAll(calendarUrl)
    const announced: string[] = []
    const result = await sync(account, collection, session(), announced)
    expect(await busy(account.userId)).toEqual(EXPECTED)
    expect(result).toMatchObject({ read: 6, created: 3, fullResync: true, removed: 0 })
    expect(result.syncToken).toEqual(expect.any(String))
    expect(announced).toEqual(['calendar'])
    expect(await counter(account.userId)).toBe(EXPECTED.length)
    // The series is stored with its account and href, for the daily refresh to extend.
    const series = await db.prisma.calendarSeries.findMany({ where: { userId: account.userId } })
    expect(series.map((s) => [s.uid, s.accountId, s.remoteHref])).toEqual([['weekly@test', account.id, new URL(`${calendarUrl}weekly.ics`).pathname]])
    const stored = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })
    expect(stored.syncToken).toBe(result.syncToken)

    // Nothing changed on the server: the next sync reads nothing and announces nothing.
    const again: string[] = []
    const quiet = await sync(account, collection, session(), again)
    expect(quiet).toMatchObject({ read: 0, created: 0, updated: 0, removed: 0, fullResync: false })
    expect(again).toEqual([])
  })

  it('an edit and a delete on the server: the incremental sync reads only those', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await putAll(calendarUrl)
    await sync(account, collection)
    const untouched = await db.prisma.calendarEvent.findMany({ where: { userId: account.userId, title: { startsWith: 'Weekly' } }, select: { id: true } })

    await radicale.put(
      'alice',
      `${calendarUrl}single.ics`,
      calendar(...vevent('UID:single@test', 'SUMMARY:Dentist', 'DTSTART;TZID=Europe/Berlin:20261027T090000', 'DTEND;TZID=Europe/Berlin:20261027T100000')),
      'text/calendar; charset=utf-8',
    )
    await radicale.remove('alice', `${calendarUrl}floating.ics`)
    const dav = session()
    const result = await sync(account, collection, dav)
    expect(result).toMatchObject({ read: 1, created: 0, updated: 1, removed: 1, fullResync: false })
    // One sync-collection report and one multiget.
    expect(result.requests).toBe(2)
    expect(await busy(account.userId)).toEqual([
      EXPECTED[0],
      { title: 'Dentist', start: '2026-10-27T08:00:00.000Z', end: '2026-10-27T09:00:00.000Z' },
      EXPECTED[3],
      EXPECTED[4],
    ])
    // The series' rows were not rewritten.
    expect(await db.prisma.calendarEvent.findMany({ where: { userId: account.userId, title: { startsWith: 'Weekly' } }, select: { id: true } })).toEqual(untouched)
    expect(await counter(account.userId)).toBe(4)
  })

  it('a refused sync token gives a full pass without duplicate rows, and drops what the server no longer has', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await putAll(calendarUrl)
    await sync(account, collection)
    await radicale.remove('alice', `${calendarUrl}single.ics`)
    await db.prisma.accountCollection.update({ where: { id: collection.id }, data: { syncToken: 'http://radicale.org/ns/sync/0000000000000000000000000000000000000000000000000000000000000000' } })
    const announced: string[] = []
    const result = await sync(account, collection, session(), announced)
    expect(result).toMatchObject({ fullResync: true, read: 5, created: 0, updated: 0, removed: 1 })
    expect(await busy(account.userId)).toEqual(EXPECTED.filter((row) => row.title !== 'Dentist'))
    expect(await counter(account.userId)).toBe(4)
    expect(await db.prisma.calendarSeries.count({ where: { userId: account.userId } })).toBe(1)
    expect(announced).toEqual(['calendar'])
  })

  it('a transparent event is not busy, and an event made transparent stops being busy', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await radicale.put('alice', `${calendarUrl}free.ics`, TRANSPARENT, 'text/calendar; charset=utf-8')
    await radicale.put('alice', `${calendarUrl}single.ics`, SINGLE, 'text/calendar; charset=utf-8')
    await sync(account, collection)
    expect(await busy(account.userId)).toEqual([EXPECTED[2]])
    await radicale.put(
      'alice',
      `${calendarUrl}single.ics`,
      calendar(...vevent('UID:single@test', 'SUMMARY:Dentist', 'TRANSP:TRANSPARENT', 'DTSTART;TZID=Europe/Berlin:20261026T090000', 'DTEND;TZID=Europe/Berlin:20261026T093000')),
      'text/calendar; charset=utf-8',
    )
    const result = await sync(account, collection)
    expect(result).toMatchObject({ read: 1, updated: 1 })
    expect(await busy(account.userId)).toEqual([])
    expect(await counter(account.userId)).toBe(0)
  })

  it('writes an accepted suggestion to the calendar and removes it; synced back it is not counted twice', async () => {
    const { account, collection, calendarUrl } = await setUp()
    const contact = await db.prisma.contact.create({ data: { userId: account.userId, name: 'Ada', nextDueAt: NOW } })
    const start = new Date('2026-10-16T15:00:00.000Z')
    const end = new Date('2026-10-16T16:00:00.000Z')
    const id = `sg_${contact.id}_${start.getTime()}_${end.getTime()}`
    await db.prisma.suggestion.create({ data: { id, userId: account.userId, contactId: contact.id, slotStart: start, slotEnd: end, priority: 1, reason: 'due', status: 'ACCEPTED' } })
    const dav = session()
    const written = await writeAcceptedSuggestion(dav, calendarUrl, { id, contactName: 'Ada', start, end }, NOW)
    expect(written.href).toBe(suggestionEventUrl(calendarUrl, id))
    const read = async () => fetch(written.href, { headers: { authorization: radicale.authorization('alice') } })
    const response = await read()
    expect(response.status).toBe(200)
    // Unfolded (RFC 5545 §3.1): the UID line is longer than 75 octets.
    const text = (await response.text()).replace(/\r\n[ \t]/g, '')
    expect(text).toContain(`UID:${id}@suggestions.invalid`)
    expect(text).toContain('SUMMARY:Catch up with Ada')
    expect(text).toContain('DTSTART:20261016T150000Z')
    // Accepted again: already there (412), fine.
    expect(await writeAcceptedSuggestion(dav, calendarUrl, { id, contactName: 'Ada', start, end }, NOW)).toEqual({ href: written.href, etag: null })

    // The sync reads it back and skips it: the accepted suggestion is stored already.
    const result = await sync(account, collection)
    expect(result).toMatchObject({ read: 1, created: 0 })
    expect(await busy(account.userId)).toEqual([])

    await removeAcceptedSuggestion(dav, calendarUrl, id)
    expect((await read()).status).toBe(404)
    // Dismissed twice: already gone, fine.
    await removeAcceptedSuggestion(dav, calendarUrl, id)
  })

  /** A session to a server without WebDAV sync: Radicale's PROPFIND answers lose their DAV:sync-token. */
  function withoutSyncTokens(dav: DavSession & { requests: number }): DavSession & { requests: number } {
    return {
      get requests() {
        return dav.requests
      },
      async fetch(url, init) {
        const response = await dav.fetch(url, init)
        if (init?.method !== 'PROPFIND') return response
        const text = (await response.text()).replace(/<([\w-]+:)?sync-token>[^<]*<\/([\w-]+:)?sync-token>/g, '')
        return new Response(text, { status: response.status, headers: response.headers })
      },
    }
  }

  it('without sync-collection: a calendar-query over the window, and what it no longer returns is dropped', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await putAll(calendarUrl)
    const first = await sync(account, collection, withoutSyncTokens(session()))
    expect(first).toMatchObject({ fullResync: true, created: 3, syncToken: null })
    expect(await busy(account.userId)).toEqual(EXPECTED)
    await radicale.remove('alice', `${calendarUrl}single.ics`)
    const second = await sync(account, collection, withoutSyncTokens(session()))
    expect(second).toMatchObject({ fullResync: true, created: 0, updated: 0, removed: 1 })
    expect(await busy(account.userId)).toEqual(EXPECTED.filter((row) => row.title !== 'Dentist'))
    expect(await counter(account.userId)).toBe(4)
  })

  it('respects the calendar-event quota: the counter always equals the rows', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await radicale.put('alice', `${calendarUrl}weekly.ics`, WEEKLY, 'text/calendar; charset=utf-8')
    await radicale.put('alice', `${calendarUrl}single.ics`, SINGLE, 'text/calendar; charset=utf-8')
    const result = await sync(account, collection, session(), [], { maxEvents: 3 })
    expect(result.created).toBe(1)
    const rows = await db.prisma.calendarEvent.count({ where: { userId: account.userId } })
    expect(rows).toBeLessThanOrEqual(3)
    expect(await counter(account.userId)).toBe(rows)
  })

  it('the daily refresh extends a synced series with its account and href, and the next edit replaces all of it', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await radicale.put('alice', `${calendarUrl}weekly.ics`, WEEKLY, 'text/calendar; charset=utf-8')
    await sync(account, collection)
    const later = new Date(NOW.getTime() + 7 * DAY_MS)
    // (The refresh walks every user's series: other tests' too.)
    expect((await refreshCalendarSeries(db.prisma, later, HORIZON_MS / DAY_MS)).added).toBeGreaterThanOrEqual(1)
    const href = new URL(`${calendarUrl}weekly.ics`).pathname
    expect(await db.prisma.calendarEvent.count({ where: { userId: account.userId, accountId: account.id, remoteHref: href } })).toBe(4)
    await radicale.put('alice', `${calendarUrl}weekly.ics`, WEEKLY.replace('SUMMARY:Weekly\r\n', 'SUMMARY:Weekly sync\r\n'), 'text/calendar; charset=utf-8')
    await sync(account, collection, session(), [], { now: later })
    const titles = (await db.prisma.calendarEvent.findMany({ where: { userId: account.userId }, orderBy: { startsAt: 'asc' } })).map((row) => row.title)
    // From later - 1 day to later + 28 days: 21 Oct excluded, 28 Oct moved, 4 and 11 Nov.
    expect(titles).toEqual(['Weekly (moved)', 'Weekly sync', 'Weekly sync'])
    expect(await counter(account.userId)).toBe(3)
  })

  it('an import never touches synced rows: same single UID stored beside it, same series UID refused', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await radicale.put('alice', `${calendarUrl}weekly.ics`, WEEKLY, 'text/calendar; charset=utf-8')
    await radicale.put('alice', `${calendarUrl}single.ics`, SINGLE, 'text/calendar; charset=utf-8')
    await sync(account, collection)
    const records: ImportedEvent[] = []
    const file = calendar(...WEEKLY.split('\r\n').slice(3, -2), ...SINGLE.split('\r\n').slice(3, -2))
    for await (const record of readCalendarRecords((async function* () { yield new TextEncoder().encode(file) })())) if (record.kind === 'event') records.push(record)
    const { counts, rejected } = await applyEventBatch({ prisma: db.prisma }, account.userId, records, NOW, { horizonDays: 28, maxEvents: 1000 })
    expect(counts).toMatchObject({ created: 1, rejected: 1 })
    expect(rejected[0]!.reason).toMatch(/synced from a calendar account/)
    expect(await db.prisma.calendarEvent.count({ where: { userId: account.userId, accountId: account.id } })).toBe(4)
    expect(await db.prisma.calendarEvent.count({ where: { userId: account.userId, accountId: null } })).toBe(1)
    // And the sync, reading the calendar again in full, leaves the imported row alone.
    await db.prisma.accountCollection.update({ where: { id: collection.id }, data: { syncToken: null } })
    expect(await sync(account, collection)).toMatchObject({ created: 0, updated: 0, removed: 0 })
    expect(await db.prisma.calendarEvent.count({ where: { userId: account.userId } })).toBe(5)
  })

  it('the same recurring event in two calendars is stored twice, each replaced by its own href', async () => {
    const { account, collection, calendarUrl } = await setUp()
    const otherUrl = await radicale.createCalendar('alice', `other-${kind}-${users}`)
    const other = await db.prisma.accountCollection.create({ data: { accountId: account.id, url: otherUrl, kind: 'CALENDAR', enabled: true } })
    await radicale.put('alice', `${calendarUrl}weekly.ics`, WEEKLY, 'text/calendar; charset=utf-8')
    await radicale.put('alice', `${otherUrl}weekly.ics`, WEEKLY, 'text/calendar; charset=utf-8')
    await sync(account, collection)
    await sync(account, { id: other.id, url: otherUrl, syncToken: null, ctag: null })
    expect(await db.prisma.calendarSeries.count({ where: { userId: account.userId } })).toBe(2)
    await radicale.remove('alice', `${otherUrl}weekly.ics`)
    expect(await sync(account, { id: other.id, url: otherUrl, syncToken: null, ctag: null })).toMatchObject({ removed: 1 })
    expect(await busy(account.userId)).toEqual(EXPECTED.filter((row) => row.title!.startsWith('Weekly')))
  })

  it('stops when its signal is aborted, announcing nothing it did not write', async () => {
    const { account, collection, calendarUrl } = await setUp()
    await putAll(calendarUrl)
    const controller = new AbortController()
    controller.abort(new Error('shutting down'))
    const announced: string[] = []
    await expect(sync(account, collection, session(), announced, { signal: controller.signal })).rejects.toThrow('shutting down')
    expect(announced).toEqual([])
    expect(await busy(account.userId)).toEqual([])
    expect((await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })).syncToken).toBeNull()
  })
})
