/**
 * The writes of calendar imports: a batch of imported events replaces the user's events of the
 * same UIDs in one transaction, and recurring series are expanded only inside the suggestion
 * horizon, then further as it moves ({@link refreshCalendarSeries}, run by the daily refresh job).
 * The import's writes do not announce: the import job announces once per import (coalesced). The
 * daily refresh announces each user whose series it extended (`announce`).
 */
import type { PrismaClient } from '../../generated/prisma/client.ts'
import type { AnnounceChange } from '../../changes/announce.ts'
import { ClientError } from '../../errors.ts'
import { DEFAULT_QUOTAS } from '../../config.ts'
import { giveQuota, takeQuota } from '../../quotas.ts'
import { isStorableDate } from '../../validation.ts'
import { isUuid } from '../../db/uuid.ts'
import { DAY_MS } from '../../time.ts'
import { turnGiver } from '../turns.ts'
import type { ImportCounts, ImportedEvent, Rejected } from '../types.ts'
import { expansionSteps, type Occurrence } from './expand-series.ts'
import { wallClockInstant } from './ics-time.ts'

export interface EventBatchOptions {
  /** How far ahead recurring events are expanded (the suggestion horizon), in days. */
  horizonDays: number
  /** The user's calendar-event quota (rows). */
  maxEvents: number
  /** The user's IANA zone (floating times and all-day dates); absent: read from the user's row. */
  timezone?: string
  /**
   * A CalDAV sync (sync/calendar-sync.ts) instead of a file import: every event carries its calendar
   * object's `remoteHref`, and the batch replaces the rows and series of this account stored under those
   * hrefs (not of the UIDs); a single event that ended before `now - PAST_KEPT_MS` stores nothing. Absent
   * (an import): only rows without account are matched and replaced, so an import never touches synced ones.
   */
  remote?: { accountId: string }
}

/** Occurrences that started this long before `now` are still stored (one running now stays busy). */
export const PAST_KEPT_MS = DAY_MS
/** A busy event longer than this is refused, as the API refuses it. */
const MAX_EVENT_MS = 31 * DAY_MS

interface Row {
  startsAt: Date
  endsAt: Date
  title: string | null
}

/** `key`: the event's UID (an import) or its calendar object's href (a sync); `busy`: false stores no row. */
type Planned = { event: ImportedEvent; rows: Row[]; key: string; busy: boolean }

/**
 * The UID a synced series is stored under: its own, unless the user already has a series of that UID from
 * elsewhere (a file, another calendar object): CalendarSeries is unique on (userId, uid), and the same event
 * in two calendars is two busy entries, each replaced by its own href.
 */
export function syncedSeriesUid(uid: string, accountId: string, remoteHref: string): string {
  return `${uid} (${accountId} ${remoteHref})`
}

/**
 * The occurrences of a series in `[from, to)` as rows, or why they cannot be stored. The expansion gives the
 * event loop a turn (`giveTurn`) at each of its pauses, so a series the caps allow never holds the loop long.
 */
async function seriesRows(seriesIcs: string, from: Date, to: Date, zone: string, giveTurn: () => Promise<void>, startingFrom?: Date): Promise<Row[] | string> {
  let expansion
  try {
    const steps = expansionSteps(seriesIcs, from, to, zone)
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) {
        expansion = step.value
        break
      }
      await giveTurn()
    }
  } catch (error) {
    return `cannot expand the recurring event: ${error instanceof Error ? error.message : String(error)}`
  }
  // Truncated: too many candidate dates (a rule no date satisfies, FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30, walks until the cap too).
  if (expansion.truncated) return 'the recurrence rule gives too many occurrences, or dates too far apart, to expand'
  const rows: Row[] = []
  for (const occurrence of expansion.occurrences) {
    if (startingFrom && occurrence.start < startingFrom) continue
    const problem = rowProblem(occurrence)
    if (problem) return problem
    rows.push({ startsAt: occurrence.start, endsAt: occurrence.end, title: occurrence.title })
  }
  return rows
}

function rowProblem(occurrence: Occurrence): string | null {
  if (!isStorableDate(occurrence.start) || !isStorableDate(occurrence.end)) return 'an occurrence outside the years 1000-9999'
  if (occurrence.end.getTime() - occurrence.start.getTime() > MAX_EVENT_MS) return 'an occurrence longer than 31 days'
  return null
}

/** `stored` and `imported` are the same busy time; an untitled stored event is exported as SUMMARY "Busy". */
function sameRow(stored: Row, imported: Row): boolean {
  const title = stored.title ?? null
  return (
    stored.startsAt.getTime() === imported.startsAt.getTime() &&
    stored.endsAt.getTime() === imported.endsAt.getTime() &&
    (title === (imported.title ?? null) || (title === null && imported.title === 'Busy'))
  )
}

/** The id part of a UID `<id>@<domain>` written by our export (icalendar.ts), or null. */
function ownExportId(uid: string): string | null {
  const at = uid.lastIndexOf('@')
  return at > 0 ? uid.slice(0, at) : null
}

function rejectedOf(event: ImportedEvent, reason: string): Rejected {
  return { kind: 'rejected', position: event.position, ...(event.raw === undefined ? {} : { raw: event.raw }), reason }
}

/**
 * Applies a batch of imported events for `userId` in ONE transaction; re-importing replaces by UID.
 *
 * - A single event is one row; a recurring one (`seriesIcs`) is a CalendarSeries (its text, and
 *   `expandedUntil` = `now` + `horizonDays`) plus one row per occurrence overlapping
 *   `[now - 1 day, now + horizonDays)`; a `notBusy` event stores nothing.
 * - The user's rows and series of that UID are replaced. Unchanged (no write): a series whose
 *   stored text is identical; a single event whose one stored row has the same start, end and title;
 *   a not-busy event with nothing stored. Otherwise `created` (nothing stored before) or `updated`.
 * - The calendar-event quota counts rows: an event whose new rows would pass `maxEvents` (after
 *   its old rows go) is rejected and its old rows kept; so is a series that cannot be expanded.
 * - Several events of one UID in a batch: the last one wins (the others count as unchanged).
 * - Our own export imported back (icalendar.ts writes `<id>@<domain>` for what has no UID of its own):
 *   a single event whose UID matches nothing stored but is `<uuid>@<anything>`, the uuid the id of one of
 *   the user's CalendarEvent rows (added through the API, or an occurrence of an imported series), IS that
 *   row: unchanged when it has the same start, end and title (an untitled row is exported as "Busy"), else
 *   the row is updated in place (a not-busy one removes it); nothing is created. A UID
 *   `<suggestion id>@<anything>` of one of the user's suggestions (an exported accepted suggestion) is
 *   skipped as unchanged: the plan is already stored, and as busy time it would double it. Another
 *   user's export matches none of these and is imported by its UIDs, as any file.
 * - `options.remote` (a CalDAV sync): the same, keyed by each event's `remoteHref` within the account instead
 *   of the UID; a `<row id>@<anything>` UID naming one of the user's own (not synced) rows is skipped as
 *   unchanged (that busy time is stored already); a series whose UID the user has elsewhere is stored
 *   under {@link syncedSeriesUid}. An import never matches synced rows, and a recurring event whose UID a
 *   synced series holds is rejected (it is busy time already).
 *
 * @param now the import's time (the horizon is counted from it).
 * @returns the counts (`rejected`: the events refused here) and the refused events with reasons.
 */
export async function applyEventBatch(
  deps: { prisma: PrismaClient },
  userId: string,
  events: ImportedEvent[],
  now: Date,
  options: EventBatchOptions,
): Promise<{ counts: ImportCounts; rejected: Rejected[] }> {
  const counts: ImportCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0 }
  const rejected: Rejected[] = []
  const from = new Date(now.getTime() - PAST_KEPT_MS)
  const until = new Date(now.getTime() + options.horizonDays * DAY_MS)
  const zone = options.timezone ?? (await deps.prisma.user.findUnique({ where: { id: userId }, select: { timezone: true } }))?.timezone ?? 'UTC'

  const remote = options.remote
  const keyOf = (event: ImportedEvent): string => {
    if (!remote) return event.uid
    if (event.remoteHref === undefined) throw new Error('applyEventBatch: a synced event without remoteHref')
    return event.remoteHref
  }
  /** The stored rows and series a batch may match: this account's (a sync), or those of no account (an import). */
  const scope = (keys: string[]) =>
    remote ? { userId, accountId: remote.accountId, remoteHref: { in: keys } } : { userId, accountId: null, uid: { in: keys } }
  const keyOfStored = (stored: { uid: string | null; remoteHref: string | null }) => (remote ? stored.remoteHref! : stored.uid!)

  // Several records of one key: the last wins.
  const lastOfKey = new Map<string, ImportedEvent>()
  for (const event of events) lastOfKey.set(keyOf(event), event)
  counts.unchanged += events.length - lastOfKey.size

  // Expansion is CPU work: done before the transaction opens.
  const planned: Planned[] = []
  const giveTurn = turnGiver()
  for (const [key, event] of lastOfKey) {
    await giveTurn()
    if (event.notBusy) planned.push({ event, rows: [], key, busy: false })
    else if (event.seriesIcs !== null) {
      const rows = await seriesRows(event.seriesIcs, from, until, zone, giveTurn)
      if (typeof rows === 'string') rejected.push(rejectedOf(event, rows))
      else planned.push({ event, rows, key, busy: true })
    } else {
      // All-day and floating events are read in the user's zone as it is now.
      const startsAt = event.wallClock ? wallClockInstant(event.wallClock.start, zone) : event.startsAt
      const endsAt = event.wallClock ? wallClockInstant(event.wallClock.end, zone) : event.endsAt
      const problem =
        !startsAt || !endsAt || endsAt <= startsAt ? 'no busy interval' : rowProblem({ start: startsAt, end: endsAt, title: event.title })
      if (problem) rejected.push(rejectedOf(event, problem))
      // A synced event over before the window is no busy time to keep (an import keeps what the file has).
      else if (remote && endsAt! <= from) planned.push({ event, rows: [], key, busy: false })
      else planned.push({ event, rows: [{ startsAt: startsAt!, endsAt: endsAt!, title: event.title }], key, busy: true })
    }
  }

  if (planned.length > 0) {
    await deps.prisma.$transaction(async (tx) => {
      // Batches of one user (two imports at once) run one after the other, as contact imports do: each sees
      // the series the other stored (else both insert one UID and the second fails on (userId, uid)).
      await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
      const keys = planned.map((p) => p.key)
      const existingRows = await tx.calendarEvent.findMany({
        where: scope(keys),
        select: { uid: true, remoteHref: true, startsAt: true, endsAt: true, title: true },
      })
      const existingSeries = await tx.calendarSeries.findMany({
        where: scope(keys),
        select: { id: true, uid: true, remoteHref: true, ics: true, expandedUntil: true },
      })
      const rowsByUid = new Map<string, Row[]>()
      for (const row of existingRows) rowsByUid.set(keyOfStored(row), [...(rowsByUid.get(keyOfStored(row)) ?? []), row])
      const seriesByUid = new Map(existingSeries.map((series) => [keyOfStored(series), series.ics]))
      const seriesRowOf = new Map(existingSeries.map((series) => [keyOfStored(series), series]))

      // The UIDs of the series about to be stored that a series of another source holds (see syncedSeriesUid).
      const seriesUids = planned.filter((p) => p.busy && p.event.seriesIcs !== null).map((p) => p.event.uid)
      const holders =
        seriesUids.length === 0 ? [] : await tx.calendarSeries.findMany({ where: { userId, uid: { in: seriesUids } }, select: { uid: true, accountId: true, remoteHref: true } })
      /** Whether a series of another source than `plan`'s own stored one holds its UID. */
      const heldElsewhere = (plan: Planned) =>
        holders.some((holder) =>
          holder.uid === plan.event.uid && (remote ? holder.accountId !== remote.accountId || holder.remoteHref !== plan.key : holder.accountId !== null),
        )

      // Our own export's `<id>@<domain>` UIDs (that nothing is stored under): the rows and suggestions they name.
      const ownIds = new Map<Planned, string>()
      for (const plan of planned) {
        const id = ownExportId(plan.event.uid)
        if (id !== null && plan.event.seriesIcs === null && !rowsByUid.has(plan.key) && !seriesByUid.has(plan.key)) ownIds.set(plan, id)
      }
      const ownRows = new Map<string, Row & { id: string }>()
      const ownSuggestions = new Set<string>()
      if (ownIds.size > 0) {
        const ids = [...new Set(ownIds.values())]
        const rowIds = ids.filter(isUuid)
        if (rowIds.length > 0) {
          const found = await tx.calendarEvent.findMany({
            where: { userId, id: { in: rowIds }, ...(remote ? { accountId: null } : {}) },
            select: { id: true, startsAt: true, endsAt: true, title: true },
          })
          for (const row of found) ownRows.set(row.id, row)
        }
        const found = await tx.suggestion.findMany({ where: { userId, id: { in: ids } }, select: { id: true } })
        for (const suggestion of found) ownSuggestions.add(suggestion.id)
      }

      const changed: (Planned & { existed: boolean })[] = []
      let freed = 0
      for (const plan of planned) {
        await giveTurn()
        const { event, rows, key } = plan
        const ownId = ownIds.get(plan)
        const ownRow = ownId === undefined ? undefined : ownRows.get(ownId)
        if (ownRow) {
          // A synced copy of a row of ours: that busy time is stored already.
          if (remote || (!event.notBusy && sameRow(ownRow, rows[0]!))) counts.unchanged++
          else {
            if (event.notBusy) {
              await tx.calendarEvent.delete({ where: { id: ownRow.id } })
              await giveQuota(tx, userId, 'calendarEvents', 1)
            } else await tx.calendarEvent.update({ where: { id: ownRow.id }, data: rows[0]! })
            counts.updated++
          }
          continue
        }
        if (ownId !== undefined && ownSuggestions.has(ownId)) {
          counts.unchanged++
          continue
        }
        if (!remote && plan.busy && event.seriesIcs !== null && heldElsewhere(plan)) {
          rejected.push(rejectedOf(event, 'a recurring event of this UID is synced from a calendar account: it is busy time already'))
          continue
        }
        const oldRows = rowsByUid.get(key) ?? []
        const oldSeries = seriesByUid.get(key)
        const unchanged = !plan.busy
          ? oldRows.length === 0 && oldSeries === undefined
          : event.seriesIcs !== null
            ? oldSeries === event.seriesIcs
            : oldSeries === undefined && oldRows.length === 1 && sameRow(oldRows[0]!, rows[0]!)
        if (unchanged) {
          counts.unchanged++
          // The same series imported later: what the horizon gained since is added now, not at the next daily refresh.
          const stored = seriesRowOf.get(key)
          if (stored && event.seriesIcs !== null && stored.expandedUntil < until) {
            const start = new Date(Math.max(stored.expandedUntil.getTime(), from.getTime()))
            const more = await seriesRows(event.seriesIcs, start, until, zone, giveTurn, start)
            if (typeof more !== 'string') {
              try {
                await takeQuota(tx, userId, 'calendarEvents', options.maxEvents + freed, more.length)
                if (more.length > 0) await tx.calendarEvent.createMany({ data: more.map((row) => ({ userId, uid: stored.uid, ...remoteOf(event), ...row })) })
                await tx.calendarSeries.update({ where: { id: stored.id }, data: { expandedUntil: until } })
              } catch (error) {
                // Past the quota: left for the daily refresh (which respects it too).
                if (!(error instanceof ClientError) || error.code !== 'QUOTA_EXCEEDED') throw error
              }
            }
          }
          continue
        }
        // The rows this event replaces leave in this transaction: they do not count against the quota.
        try {
          await takeQuota(tx, userId, 'calendarEvents', options.maxEvents + freed + oldRows.length, rows.length)
        } catch (error) {
          if (!(error instanceof ClientError) || error.code !== 'QUOTA_EXCEEDED') throw error
          rejected.push(rejectedOf(event, error.message))
          continue
        }
        freed += oldRows.length
        changed.push({ ...plan, existed: oldRows.length > 0 || oldSeries !== undefined })
      }
      if (changed.length === 0) return
      const changedKeys = changed.map((c) => c.key)
      const deleted = await tx.calendarEvent.deleteMany({ where: scope(changedKeys) })
      await giveQuota(tx, userId, 'calendarEvents', deleted.count)
      await tx.calendarSeries.deleteMany({ where: scope(changedKeys) })
      // The UID each changed event's rows (and series) are stored under.
      const storedUid = new Map<Planned, string>()
      const takenInBatch = new Set<string>()
      for (const c of changed) {
        let uid = c.event.uid
        if (remote && c.busy && c.event.seriesIcs !== null) {
          if (heldElsewhere(c) || takenInBatch.has(uid)) uid = syncedSeriesUid(uid, remote.accountId, c.key)
          takenInBatch.add(uid)
        }
        storedUid.set(c, uid)
      }
      const series = changed.filter((c) => c.event.seriesIcs !== null && c.busy)
      if (series.length > 0) {
        await tx.calendarSeries.createMany({ data: series.map((c) => ({ userId, uid: storedUid.get(c)!, ...remoteOf(c.event), ics: c.event.seriesIcs!, expandedUntil: until })) })
      }
      const rows = changed.flatMap((c) =>
        c.rows.map((row) => ({ userId, uid: storedUid.get(c)!, ...remoteOf(c.event), title: row.title, startsAt: row.startsAt, endsAt: row.endsAt })),
      )
      if (rows.length > 0) await tx.calendarEvent.createMany({ data: rows })
      for (const c of changed) counts[c.existed ? 'updated' : 'created']++
    })
  }
  counts.rejected = rejected.length
  return { counts, rejected }

  /** The account and href columns of a synced event's rows (none for an import). */
  function remoteOf(event: ImportedEvent): { accountId?: string; remoteHref?: string } {
    return remote ? { accountId: remote.accountId, remoteHref: event.remoteHref! } : {}
  }
}

/**
 * Deletes the rows and series of `accountId` stored under the calendar object `hrefs` (deleted on the
 * server, or gone from a full pass), giving their rows back to the user's calendar-event quota, in one
 * transaction.
 *
 * @returns how many of the hrefs had something stored.
 */
export async function removeRemoteEvents(prisma: PrismaClient, userId: string, accountId: string, hrefs: string[]): Promise<number> {
  if (hrefs.length === 0) return 0
  return prisma.$transaction(async (tx) => {
    const where = { userId, accountId, remoteHref: { in: hrefs } }
    const rows = await tx.calendarEvent.groupBy({ by: ['remoteHref'], where })
    const series = await tx.calendarSeries.findMany({ where, select: { remoteHref: true } })
    const deleted = await tx.calendarEvent.deleteMany({ where })
    await giveQuota(tx, userId, 'calendarEvents', deleted.count)
    await tx.calendarSeries.deleteMany({ where })
    return new Set([...rows, ...series].map((r) => r.remoteHref)).size
  })
}

export interface SeriesRefreshResult {
  /** Series brought up to the new horizon. */
  series: number
  /** Rows inserted. */
  added: number
  /** Series left as they were (expansion failed, quota reached, or replaced meanwhile); retried next time. */
  failed: number
}

/** Thrown inside a refresh transaction when an import replaced the series meanwhile: roll back, skip. */
class SeriesChanged extends Error {}

/**
 * Extends every recurring imported series whose `expandedUntil` is before `now + horizonDays`: inserts
 * its occurrences starting in `[max(expandedUntil, now - 1 day), now + horizonDays)` (earlier ones were
 * stored by the import or a former refresh) and moves `expandedUntil`, one transaction per series,
 * taking their rows from the user's calendar-event quota. Walks the series by id, a page at a time.
 * Past occurrences are left in place.
 *
 * A series that got rows is announced as a `calendar` change of its user (`announce`): the new busy
 * time lies inside the horizon, so what a process cached of the user's free time is dropped and its
 * live streams re-walk.
 *
 * @param options `maxEvents` (the quota, default MAX_CALENDAR_EVENTS_PER_USER's default), `pageSize` (default 100), `stopped` (checked between series), `announce`.
 */
export async function refreshCalendarSeries(
  prisma: PrismaClient,
  now: Date,
  horizonDays: number,
  options: { maxEvents?: number; pageSize?: number; stopped?: () => boolean; announce?: AnnounceChange | undefined } = {},
): Promise<SeriesRefreshResult> {
  const until = new Date(now.getTime() + horizonDays * DAY_MS)
  const pageSize = options.pageSize ?? 100
  const maxEvents = options.maxEvents ?? DEFAULT_QUOTAS.calendarEvents
  const result: SeriesRefreshResult = { series: 0, added: 0, failed: 0 }
  const giveTurn = turnGiver()
  let last: string | undefined
  for (;;) {
    const page = await prisma.calendarSeries.findMany({
      where: { expandedUntil: { lt: until }, ...(last === undefined ? {} : { id: { gt: last } }) },
      orderBy: { id: 'asc' },
      take: pageSize,
      select: { id: true, userId: true, uid: true, ics: true, expandedUntil: true, updatedAt: true, accountId: true, remoteHref: true, user: { select: { timezone: true } } },
    })
    for (const series of page) {
      if (options.stopped?.()) return result
      const from = new Date(Math.max(series.expandedUntil.getTime(), now.getTime() - PAST_KEPT_MS))
      const rows = await seriesRows(series.ics, from, until, series.user.timezone, giveTurn, from)
      if (typeof rows === 'string') {
        result.failed++
        continue
      }
      try {
        await prisma.$transaction(async (tx) => {
          const moved = await tx.calendarSeries.updateMany({
            where: { id: series.id, updatedAt: series.updatedAt },
            data: { expandedUntil: until },
          })
          if (moved.count === 0) throw new SeriesChanged()
          if (rows.length === 0) return
          await takeQuota(tx, series.userId, 'calendarEvents', maxEvents, rows.length)
          // A synced series' rows carry its account and href: the sync replaces them by those.
          await tx.calendarEvent.createMany({
            data: rows.map((row) => ({ userId: series.userId, uid: series.uid, accountId: series.accountId, remoteHref: series.remoteHref, ...row })),
          })
        })
        result.series++
        result.added += rows.length
        if (rows.length > 0) options.announce?.(series.userId, 'calendar')
      } catch (error) {
        if (error instanceof SeriesChanged || (error instanceof ClientError && error.code === 'QUOTA_EXCEEDED')) result.failed++
        else throw error
      }
    }
    if (page.length < pageSize) return result
    last = page[page.length - 1]!.id
  }
}
