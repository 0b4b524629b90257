/**
 * CalDAV calendar sync (issue 15, item 4): the busy time of one chosen calendar, kept in step.
 *
 * - Where the calendar offers WebDAV sync (RFC 6578 `sync-collection`), the token stored on the
 *   AccountCollection reads only what changed since; without a token, or when the server refuses it
 *   ({@link SyncTokenInvalidError}), a full pass lists every member (sync-collection from no token) and
 *   drops what is stored for hrefs no longer there. Changed objects are read with `calendar-multiget`
 *   (RFC 4791 §7.9) in pages of {@link MULTIGET_MAX_HREFS}.
 * - Without sync-collection, every sync is a `calendar-query` (RFC 4791 §7.8) over
 *   `[now - PAST_KEPT_MS, now + horizon)`, and stored hrefs the query no longer returns are dropped.
 * - Each calendar object (one href: a master VEVENT, its RECURRENCE-ID exceptions, the VTIMEZONEs they
 *   use) is read by the import's reader (imports/calendar/ics-reader.ts: TZIDs, VTIMEZONEs, floating times
 *   and all-day dates in the user's zone, cancelled and transparent events not busy) and written by the
 *   import's writer in its sync mode (event-writes.ts `applyEventBatch` with `remote`): the rows and series
 *   stored under that href are replaced in one transaction, recurring events stored as a CalendarSeries
 *   expanded inside the horizon (and further by the daily refresh), within the calendar-event quota.
 */
import { calendarQuery, multiget, readCollectionState, syncCollection } from '../dav/client.ts'
import { MULTIGET_MAX_HREFS, SyncTokenInvalidError, type DavChange, type DavObject, type DavSession } from '../dav/types.ts'
import { DEFAULT_QUOTAS } from '../config.ts'
import { applyEventBatch, PAST_KEPT_MS, removeRemoteEvents } from '../imports/calendar/event-writes.ts'
import { readCalendarRecords } from '../imports/calendar/ics-reader.ts'
import type { ImportedEvent } from '../imports/types.ts'
import { DAY_MS } from '../time.ts'
import { emptySyncResult, type CollectionSyncResult, type SyncAccount, type SyncCollection, type SyncDeps, type SyncProgress } from './types.ts'

/** What {@link syncCalendar} needs beyond {@link SyncDeps}. */
export interface CalendarSyncDeps extends SyncDeps {
  /** How far ahead busy time is kept (the suggestion horizon, `SUGGESTION_HORIZON_DAYS`), in milliseconds. */
  horizonMs: number
  /** The user's calendar-event quota (rows; default MAX_CALENDAR_EVENTS_PER_USER's default). */
  maxEvents?: number | undefined
}

/**
 * Syncs the busy time of one calendar of a CalDAV account (see the module comment), stores the new
 * sync token (and `lastSyncedAt`) on the AccountCollection, and announces one `calendar` change for the
 * user when anything was created, updated or removed (also when it stops part-way).
 *
 * @param session the account's DAV session; its `requests` counter (when it has one) gives `requests`.
 * @returns what it did: `read` objects read, `created`/`updated`/`unchanged` calendar objects, `removed`
 *   hrefs whose rows were deleted, `fullResync` when every member was read, `syncToken` the token stored.
 * @throws the DAV errors of dav/client.ts (DavHttpError: 401/403 re-authenticate, 5xx/0 retry), and
 *   `deps.signal`'s reason when it is aborted (checked between pages; what was written stays, and the
 *   next run picks up from the former token).
 */
export async function syncCalendar(
  deps: CalendarSyncDeps,
  account: SyncAccount,
  collection: SyncCollection,
  session: DavSession & { requests?: number },
): Promise<CollectionSyncResult> {
  const { prisma } = deps
  const startRequests = session.requests ?? 0
  const now = deps.now()
  const from = new Date(now.getTime() - PAST_KEPT_MS)
  const until = new Date(now.getTime() + deps.horizonMs)
  const user = await prisma.user.findUnique({ where: { id: account.userId }, select: { timezone: true } })
  const batchOptions = {
    horizonDays: deps.horizonMs / DAY_MS,
    maxEvents: deps.maxEvents ?? DEFAULT_QUOTAS.calendarEvents,
    timezone: user?.timezone ?? 'UTC',
    remote: { accountId: account.id },
  }
  const result: CollectionSyncResult = emptySyncResult()
  let done = 0
  const progress = (phase: SyncProgress['phase'], total: number | null = null) =>
    deps.onProgress?.({ accountId: account.id, collectionUrl: collection.url, phase, done, total })
  const checkSignal = () => deps.signal?.throwIfAborted()

  /** Writes a page of calendar objects: each replaces what its href had. */
  const applyObjects = async (objects: DavObject[], asked?: string[]) => {
    checkSignal()
    progress('writing')
    result.read += objects.length
    const events: ImportedEvent[] = []
    for (const object of objects) events.push(...(await eventsOf(object, canonicalHref(object.href, collection.url), batchOptions.timezone, deps)))
    const { counts } = await applyEventBatch({ prisma }, account.userId, events, now, batchOptions)
    result.created += counts.created
    result.updated += counts.updated
    result.unchanged += counts.unchanged
    // Rejected ones (a malformed event, the quota) keep what they had; eventsOf logged the malformed ones.
    result.unchanged += counts.rejected
    if (counts.rejected > 0) deps.logger.warn({ accountId: account.id, collectionUrl: collection.url, rejected: counts.rejected }, 'calendar sync: events not stored')
    // Asked for but not returned: gone from the server since it was listed.
    if (asked) {
      const returned = new Set(objects.map((object) => canonicalHref(object.href, collection.url)))
      await removeHrefs(asked.map((href) => canonicalHref(href, collection.url)).filter((href) => !returned.has(href)))
    }
    done += objects.length
  }

  const removeHrefs = async (hrefs: string[]) => {
    result.removed += await removeRemoteEvents(prisma, account.userId, account.id, hrefs)
  }

  /** One page of a sync-collection report: deletions, then the changed members read by multiget. */
  const applyChanges = async (changes: DavChange[], seen?: Set<string>) => {
    const deleted: string[] = []
    const changed: string[] = []
    for (const change of changes) {
      if (change.deleted) deleted.push(canonicalHref(change.href, collection.url))
      else {
        changed.push(change.href)
        seen?.add(canonicalHref(change.href, collection.url))
      }
    }
    await removeHrefs(deleted)
    done += deleted.length
    for (let at = 0; at < changed.length; at += MULTIGET_MAX_HREFS) {
      checkSignal()
      progress('reading')
      const hrefs = changed.slice(at, at + MULTIGET_MAX_HREFS)
      await applyObjects(await multiget(session, collection.url, 'CALENDAR', hrefs), hrefs)
    }
  }

  /** Every member again (sync-collection from no token): stored hrefs not listed are dropped. */
  const fullSyncPass = async (): Promise<string | null> => {
    result.fullResync = true
    const seen = new Set<string>()
    const pages = syncCollection(session, collection.url, null)
    let token: string | null = null
    try {
      for (;;) {
        checkSignal()
        progress('listing')
        const page = await pages.next()
        if (page.done) {
          token = page.value
          break
        }
        await applyChanges(page.value, seen)
      }
    } finally {
      // Stopped half-way: the listing's answer is cancelled (its time runs only while it is read).
      await pages.return(null)
    }
    await removeHrefs((await storedHrefs()).filter((href) => !seen.has(href)))
    return token
  }

  /** The busy window read by calendar-query: stored hrefs it no longer returns are dropped. */
  const queryPass = async () => {
    result.fullResync = true
    const seen = new Set<string>()
    checkSignal()
    progress('listing')
    for await (const page of calendarQuery(session, collection.url, { start: from, end: until })) {
      for (const object of page) seen.add(canonicalHref(object.href, collection.url))
      await applyObjects(page)
      checkSignal()
      progress('reading')
    }
    await removeHrefs((await storedHrefs()).filter((href) => !seen.has(href)))
  }

  /** The distinct hrefs stored for this calendar (rows or series of the account under its path). */
  const storedHrefs = async (): Promise<string[]> => {
    const prefix = canonicalHref(collection.url, collection.url)
    const found = await prisma.$queryRaw<{ remoteHref: string }[]>`
      SELECT "remoteHref" FROM "CalendarEvent" WHERE "accountId" = ${account.id}::uuid AND starts_with("remoteHref", ${prefix})
      UNION
      SELECT "remoteHref" FROM "CalendarSeries" WHERE "accountId" = ${account.id}::uuid AND starts_with("remoteHref", ${prefix})`
    return found.map((row) => row.remoteHref)
  }

  try {
    let token: string | null
    if (collection.syncToken !== null) {
      token = await incrementalPass(collection.syncToken).catch(async (error: unknown) => {
        if (!(error instanceof SyncTokenInvalidError)) throw error
        deps.logger.info({ accountId: account.id, collectionUrl: collection.url }, 'calendar sync: sync token refused, full pass')
        return fullSyncPass()
      })
    } else {
      const state = await readCollectionState(session, collection.url)
      if (state.syncToken !== null) token = await fullSyncPass()
      else {
        await queryPass()
        token = null
      }
    }
    result.syncToken = token
    await prisma.accountCollection.update({ where: { id: collection.id }, data: { syncToken: token, lastSyncedAt: now } })
    progress('done', done)
  } finally {
    result.requests = (session.requests ?? 0) - startRequests
    if (result.created + result.updated + result.removed > 0) deps.announce(account.userId, 'calendar')
  }
  return result

  async function incrementalPass(token: string): Promise<string | null> {
    const pages = syncCollection(session, collection.url, token)
    try {
      for (;;) {
        checkSignal()
        progress('listing')
        const page = await pages.next()
        if (page.done) return page.value
        await applyChanges(page.value)
      }
    } finally {
      // Stopped half-way: the listing's answer is cancelled (its time runs only while it is read).
      await pages.return(null)
    }
  }
}

/**
 * The busy events of one calendar object, read as an import reads a file (one record per UID, series
 * with their exceptions and time zones), each tagged with the object's href. An object that gives no
 * event (only VTODOs, or unreadable) gives a not-busy placeholder, so what its href stored is removed.
 */
async function eventsOf(object: DavObject, href: string, timezone: string, deps: Pick<SyncDeps, 'logger'>): Promise<ImportedEvent[]> {
  const events: ImportedEvent[] = []
  try {
    const chunks = (async function* () {
      yield new TextEncoder().encode(object.data)
    })()
    for await (const record of readCalendarRecords(chunks, { timezone })) {
      if (record.kind === 'event') {
        // The record's text is for an import's report: not kept here.
        const { raw: _raw, ...event } = record
        events.push({ ...event, remoteHref: href })
      }
      else deps.logger.warn({ href: object.href, reason: record.reason, field: record.field }, 'calendar sync: event not readable')
    }
  } catch (error) {
    deps.logger.warn({ href: object.href, err: error }, 'calendar sync: calendar object not readable')
  }
  if (events.length > 1 && new Set(events.map((event) => event.uid)).size > 1) {
    // RFC 4791 §4.1: one UID per calendar object resource; a server that breaks it keeps the last here.
    deps.logger.warn({ href: object.href }, 'calendar sync: a calendar object with several UIDs: the last is kept')
  }
  if (events.length === 0) {
    return [{ kind: 'event', position: 0, uid: href, title: null, seriesIcs: null, startsAt: null, endsAt: null, notBusy: 'empty', remoteHref: href }]
  }
  return events
}

/**
 * The href a calendar object is stored under (CalendarEvent / CalendarSeries `remoteHref`): its path
 * (resolved against the collection's URL), each segment percent-decoded then encoded one way, so the
 * same resource spelled `%40` in one answer and `@` in another (servers differ) is one href.
 */
export function canonicalHref(href: string, collectionUrl: string): string {
  const path = new URL(href, collectionUrl).pathname
  return path
    .split('/')
    .map((segment) => {
      try {
        return encodeURIComponent(decodeURIComponent(segment))
      } catch {
        return segment
      }
    })
    .join('/')
}
