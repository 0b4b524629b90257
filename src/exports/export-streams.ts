/**
 * The exports as async generators of text chunks, one chunk per page of rows read by a keyset
 * walk: contacts by `(userId, id)` (the index Contact(userId, id); a page reader of its own, the
 * full row in one raw statement), calendar events by
 * `(userId, startsAt, id)`, accepted suggestions by `(userId, status, id)`. A page is read only
 * when the consumer asks for the next chunk (backpressure), so memory stays one page whatever
 * the user owns; `signal` (the client left) or `return()` stops the walk before the next page.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts'
import { contactToVCard, type ExportContact } from './vcard.ts'
import { contactToCsvCells, csvRows, googleCsvHeader, type CsvColumnCounts } from './google-csv.ts'
import { CALENDAR_TAIL, calendarHead, eventToVEvent, suggestionToVEvent, type ExportEvent, type ExportSuggestion } from './icalendar.ts'

/** Rows per page of an export walk (the keyset walks' maximum). */
export const EXPORT_PAGE_SIZE = 1000

export interface ExportOptions {
  userId: string
  /** Aborted when the client leaves: no page is read after it. */
  signal?: AbortSignal
  /** Rows per page (default {@link EXPORT_PAGE_SIZE}). */
  pageSize?: number
}

/** The user's group names by id (at most MAX_GROUPS_PER_USER rows: bounded, whatever the contacts). */
async function groupNamesOf(prisma: PrismaClient, userId: string): Promise<Map<string, string>> {
  const groups = await prisma.group.findMany({ where: { userId }, select: { id: true, name: true } })
  return new Map(groups.map((group) => [group.id, group.name]))
}

/**
 * One page of full export rows after `afterId` (archived contacts too), by `(userId, id)`: one
 * statement on the index Contact(userId, id). Raw SQL through Prisma (`$queryRaw`), not `findMany`:
 * Prisma's row mapping was the largest cost of an export (bench/README.md, bench:exports).
 */
export async function readExportPage(prisma: PrismaClient, userId: string, afterId: string | undefined, limit: number): Promise<ExportContact[]> {
  return prisma.$queryRaw<ExportContact[]>`
    SELECT id::text AS id, name, email, phone, emails, phones, "linkedIn", instagram, "xHandle", "otherSocialMedia",
           location, timezone, "customNotes", tags, "groupIds"::text[] AS "groupIds", birthday, anniversary, "externalId"
      FROM "Contact"
     WHERE "userId" = ${userId}::uuid ${afterId === undefined ? Prisma.empty : Prisma.sql`AND id > ${afterId}::uuid`}
     ORDER BY id
     LIMIT ${limit}`
}

/** Every contact of the user (archived ones too), page by page, in id order; a page is read only when asked for. */
export async function* contactPages(prisma: PrismaClient, { userId, signal, pageSize = EXPORT_PAGE_SIZE }: ExportOptions): AsyncGenerator<ExportContact[]> {
  let after: string | undefined
  for (;;) {
    signal?.throwIfAborted()
    const rows = await readExportPage(prisma, userId, after, pageSize)
    if (rows.length > 0) yield rows
    if (rows.length < pageSize) return
    after = rows[rows.length - 1]!.id
    await yieldToEventLoop()
  }
}

/** The user's contacts as vCard 4.0 (text/vcard): one chunk per page of cards. */
export async function* contactsVCard(prisma: PrismaClient, options: ExportOptions): AsyncGenerator<string, void, undefined> {
  const groupNames = await groupNamesOf(prisma, options.userId)
  for await (const rows of contactPages(prisma, options)) {
    let chunk = ''
    for (const contact of rows) chunk += contactToVCard(contact, groupNames)
    yield chunk
  }
}

/**
 * How many e-mail, phone and website columns the user's CSV needs: one aggregate over their
 * contacts before the walk (a contact written meanwhile with more gets its extra values joined
 * into the last column).
 */
export async function csvColumnCounts(prisma: PrismaClient, userId: string): Promise<CsvColumnCounts> {
  const [row] = await prisma.$queryRaw<{ emails: number | null; phones: number | null; websites: number | null }[]>`
    SELECT max(greatest(cardinality(emails), (email IS NOT NULL)::int))::int AS emails,
           max(greatest(cardinality(phones), (phone IS NOT NULL)::int))::int AS phones,
           max(("linkedIn" IS NOT NULL)::int + (instagram IS NOT NULL)::int + ("xHandle" IS NOT NULL)::int
               + CASE WHEN jsonb_typeof("otherSocialMedia") = 'object'
                      THEN (SELECT count(*) FROM jsonb_each("otherSocialMedia") e WHERE jsonb_typeof(e.value) = 'string')::int
                      ELSE 0 END)::int AS websites
    FROM "Contact" WHERE "userId" = ${userId}::uuid`
  return { emails: row?.emails ?? 0, phones: row?.phones ?? 0, websites: row?.websites ?? 0 }
}

/** The user's contacts as Google CSV (text/csv): the header, then one chunk per page of rows. */
export async function* contactsCsv(prisma: PrismaClient, options: ExportOptions): AsyncGenerator<string, void, undefined> {
  const groupNames = await groupNamesOf(prisma, options.userId)
  const counts = await csvColumnCounts(prisma, options.userId)
  yield csvRows([googleCsvHeader(counts)])
  for await (const rows of contactPages(prisma, options)) {
    yield csvRows(rows.map((contact) => contactToCsvCells(contact, groupNames, counts)))
  }
}

/** The user's busy events, page by page, by (startsAt, id): two index ranges after the last row, as contact-page.ts does. */
async function* eventPages(prisma: PrismaClient, { userId, signal, pageSize = EXPORT_PAGE_SIZE }: ExportOptions): AsyncGenerator<ExportEvent[]> {
  let last: { startsAt: Date; id: string } | undefined
  for (;;) {
    signal?.throwIfAborted()
    const select = { id: true, title: true, startsAt: true, endsAt: true, uid: true }
    const orderBy: Prisma.CalendarEventOrderByWithRelationInput[] = [{ startsAt: 'asc' }, { id: 'asc' }]
    const rows: ExportEvent[] = []
    const ranges: Prisma.CalendarEventWhereInput[] = last ? [{ startsAt: last.startsAt, id: { gt: last.id } }, { startsAt: { gt: last.startsAt } }] : [{}]
    for (const range of ranges) {
      rows.push(...(await prisma.calendarEvent.findMany({ where: { userId, ...range }, orderBy, take: pageSize + 1 - rows.length, select })))
      if (rows.length > pageSize) break
    }
    const more = rows.length > pageSize
    if (more) rows.pop()
    // Occurrences of a recurring series are exported by their row id (icalendar.ts eventToVEvent).
    const uids = [...new Set(rows.flatMap((row) => (row.uid ? [row.uid] : [])))]
    if (uids.length > 0) {
      const series = new Set((await prisma.calendarSeries.findMany({ where: { userId, uid: { in: uids } }, select: { uid: true } })).map((s) => s.uid))
      for (const row of rows) row.occurrence = row.uid != null && series.has(row.uid)
    }
    if (rows.length > 0) yield rows
    if (!more) return
    last = rows[rows.length - 1]!
    await yieldToEventLoop()
  }
}

/** The user's ACCEPTED suggestions that have a slot, page by page, by id, with their contact's name. */
async function* acceptedSuggestionPages(prisma: PrismaClient, { userId, signal, pageSize = EXPORT_PAGE_SIZE }: ExportOptions): AsyncGenerator<ExportSuggestion[]> {
  let after: string | undefined
  for (;;) {
    signal?.throwIfAborted()
    const found = await prisma.suggestion.findMany({
      where: { userId, status: 'ACCEPTED', slotStart: { not: null }, slotEnd: { not: null }, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: pageSize + 1,
      select: { id: true, reason: true, slotStart: true, slotEnd: true, updatedAt: true, contact: { select: { name: true } } },
    })
    const more = found.length > pageSize
    const rows = found.slice(0, pageSize).map((row) => ({ id: row.id, reason: row.reason, slotStart: row.slotStart!, slotEnd: row.slotEnd!, updatedAt: row.updatedAt, contactName: row.contact.name }))
    if (rows.length > 0) yield rows
    if (!more) return
    after = rows[rows.length - 1]!.id
    await yieldToEventLoop()
  }
}

export interface CalendarExportOptions extends ExportOptions {
  /** The host part of the UIDs (`<id>@<domain>`). */
  uidDomain: string
  /** DTSTAMP of the busy events. */
  now: Date
}

/** The user's busy events and accepted suggestions (with slots) as one iCalendar (text/calendar). */
export async function* calendarIcs(prisma: PrismaClient, options: CalendarExportOptions): AsyncGenerator<string, void, undefined> {
  yield calendarHead({ name: 'Suggestions: calendar export' })
  for await (const rows of eventPages(prisma, options)) yield rows.map((event) => eventToVEvent(event, options.uidDomain, options.now)).join('')
  for await (const rows of acceptedSuggestionPages(prisma, options)) yield rows.map((row) => suggestionToVEvent(row, options.uidDomain)).join('')
  yield CALENDAR_TAIL
}

/** How often a calendar app should refetch the feed (minutes; the feed's Cache-Control says the same). */
export const FEED_REFRESH_MINUTES = 5

/** The feed: the user's accepted suggestions with slots, and nothing else, as iCalendar. */
export async function* acceptedSuggestionsFeed(prisma: PrismaClient, options: Omit<CalendarExportOptions, 'now'>): AsyncGenerator<string, void, undefined> {
  yield calendarHead({ name: 'Catch-ups', refreshMinutes: FEED_REFRESH_MINUTES })
  for await (const rows of acceptedSuggestionPages(prisma, options)) yield rows.map((row) => suggestionToVEvent(row, options.uidDomain)).join('')
  yield CALENDAR_TAIL
}
