/**
 * A suggestion by id (the node lookup), and accept, dismiss or snooze: stored
 * as a Suggestion row the engine reads back ({@link loadSuggestionState}).
 *
 * **Every exclusion ends.** A status keeps its contact out of the suggestions
 * only for a while, counted from when it was set (the row's `updatedAt`, which
 * {@link setSuggestionStatus} sets to its `now`):
 *
 * - ACCEPTED with a slot: until the slot ends, or until an interaction with the
 *   contact is logged after the acceptance, whichever comes first. While it
 *   lasts, its slot is taken: every free slot overlapping it loses one unit of
 *   capacity.
 * - ACCEPTED without a slot: until an interaction with the contact is logged
 *   after the acceptance, and at most the horizon (`SUGGESTION_HORIZON_DAYS`)
 *   after the acceptance.
 * - DISMISSED: for the horizon (`SUGGESTION_HORIZON_DAYS`) from the dismissal.
 * - SNOOZED: until the snooze date (`snoozedUntil`).
 *
 * A contact has one status at a time: setting one (for any slot) replaces the
 * contact's earlier one, and keeps a snapshot of it on the new row (`previous*`),
 * so {@link undoSuggestionAction} can put it back; {@link restoreSuggestion}
 * clears the contact's status. {@link listSuggestionsByStatus} lists the statuses
 * still in force by the same rule as {@link loadSuggestionState}.
 *
 * "Logged" is when the interaction was recorded (`Interaction.createdAt`), not
 * the `occurredAt` it names: the call that follows an acceptance ends it even
 * when it is entered with an earlier time.
 */
import { z } from 'zod'
import { Prisma, type Contact, type PrismaClient, type Suggestion } from '../generated/prisma/client.ts'
import type { Interval } from '../calendar/free-slots.ts'
import type { SuggestionStatus } from '../generated/prisma/enums.ts'
import type { WriteDeps } from '../changes/announce.ts'
import { decodeCursor, encodeCursor, scopeDigest } from '../cursors/cursor-codec.ts'
import { badUserInput, notFound } from '../errors.ts'
import { intBetween, parseInput } from '../validation.ts'
import { parseSuggestionId } from './suggestion-id.ts'
import { calculatePriority } from './priority.ts'
import { describeReason } from './reason.ts'

/**
 * What the API shows of a suggestion: the engine's (PENDING) or a stored one with its status.
 * Its fields are those of the engine's `Suggestion` (generator.ts), written out here because the
 * engine imports this module (a type imported back would close a loop).
 */
export interface SuggestionView {
  /** The suggestion id (suggestion-id.ts). */
  id: string
  contact: { id: string }
  /** How urgent (priority.ts): higher first. */
  priority: number
  reason: string
  slot: Interval | null
  status: SuggestionStatus
  /** When the status was set (stored rows other than PENDING; the engine's suggestions have none). */
  statusSetAt?: Date | null
  /** SNOOZED: when the snooze ends. */
  snoozedUntil?: Date | null
}

/** A stored row as the API shows it. */
export function storedView(row: Suggestion): SuggestionView {
  return {
    id: row.id,
    contact: { id: row.contactId },
    priority: row.priority,
    reason: row.reason,
    slot: row.slotStart && row.slotEnd ? { start: row.slotStart, end: row.slotEnd } : null,
    status: row.status,
    statusSetAt: row.status === 'PENDING' ? null : row.updatedAt,
    snoozedUntil: row.snoozedUntil,
  }
}

/**
 * When a status stops keeping its contact out (this module's rule, without the interaction that may end
 * an acceptance sooner): SNOOZED its snooze date, DISMISSED set-at + horizon, ACCEPTED its slot's end (no
 * slot: set-at + horizon). Null for PENDING. Pure.
 *
 * @param horizonMs `SUGGESTION_HORIZON_DAYS` in ms.
 */
export function statusEndsAt(view: Pick<SuggestionView, 'status' | 'statusSetAt' | 'snoozedUntil' | 'slot'>, horizonMs: number): Date | null {
  const setAt = view.statusSetAt ?? null
  switch (view.status) {
    case 'SNOOZED':
      return view.snoozedUntil ?? null
    case 'DISMISSED':
      return setAt && new Date(setAt.getTime() + horizonMs)
    case 'ACCEPTED':
      return view.slot ? view.slot.end : setAt && new Date(setAt.getTime() + horizonMs)
    default:
      return null
  }
}

/**
 * Which suggestions a credential may name by id (src/auth/scopes.ts): `any` (a session, or contacts:read)
 * every contact's; `stored` (reading with suggestions:read alone) only the suggestions stored with a status,
 * never one computed from any contact; `suggestable` (acting with suggestions:write alone) the stored ones and
 * those of the contacts the stream may suggest: unarchived, or with a suggestion stored.
 */
export type SuggestionReach = 'any' | 'stored' | 'suggestable'

/** The contact `contactId` of the user when `reach` lets a credential name its suggestions, else null. */
function reachableContact(prisma: PrismaClient, userId: string, contactId: string, reach: SuggestionReach) {
  if (reach === 'stored') return Promise.resolve(null)
  const suggestable = reach === 'suggestable' ? { OR: [{ archived: false }, { suggestions: { some: { userId } } }] } : {}
  return prisma.contact.findFirst({ where: { id: contactId, userId, ...suggestable } })
}

/**
 * The user's suggestion with this id: stored with its status, or else (when `reach` allows: see
 * {@link SuggestionReach}) as the engine would rank it `now`. Null when there is none the reach allows,
 * the same answer as an unknown id.
 */
export async function findSuggestion(prisma: PrismaClient, userId: string, id: string, now: Date, reach: SuggestionReach = 'any'): Promise<SuggestionView | null> {
  const parsed = parseSuggestionId(id)
  if (!parsed) return null
  const stored = await prisma.suggestion.findFirst({ where: { id, userId } })
  if (stored) return storedView(stored)
  const contact = await reachableContact(prisma, userId, parsed.contactId, reach)
  if (!contact) return null
  return { id, contact: { id: contact.id }, slot: parsed.slot, status: 'PENDING', ...ranking(contact, now) }
}

const ranking = (contact: Contact, now: Date) => ({ priority: calculatePriority(contact, now), reason: describeReason(contact, now) })

/**
 * Accepts, dismisses or snoozes the user's suggestion `id` at `now` (stored
 * with its ranking at `now`), then announces a `suggestion` change for the user.
 *
 * @param id a suggestion id (`suggestion-id.ts`): contact, and slot if any.
 * @param snoozedUntil for SNOOZED only: when the snooze ends (must be after `now`).
 * @param reach whose suggestions the credential may name ({@link SuggestionReach}).
 * @returns the stored suggestion with its new status.
 * @throws ClientError NOT_FOUND for an id that is not the user's (or malformed, or out of `reach`),
 *   BAD_USER_INPUT (`until`) when a snooze's `snoozedUntil` is not after `now`.
 */
export async function setSuggestionStatus(
  { prisma, announce }: WriteDeps,
  userId: string,
  id: string,
  status: Exclude<SuggestionStatus, 'PENDING'>,
  now: Date,
  snoozedUntil?: Date,
  reach: Exclude<SuggestionReach, 'stored'> = 'any',
): Promise<SuggestionView> {
  const parsed = parseSuggestionId(id)
  if (!parsed) throw notFound('suggestion')
  if (status === 'SNOOZED' && !(snoozedUntil && snoozedUntil > now)) throw badUserInput('until must be in the future', 'until')
  const contact = await reachableContact(prisma, userId, parsed.contactId, reach)
  if (!contact) throw notFound('suggestion')
  const fields = {
    status,
    // When the status was set: every exclusion is counted from here (see the module's rule), on the caller's clock.
    updatedAt: now,
    snoozedUntil: status === 'SNOOZED' ? (snoozedUntil ?? null) : null,
    ...ranking(contact, now),
  }
  // One status per contact, the latest: a status for another slot of the contact replaces the earlier
  // one, so the rows stay bounded by the contacts (a client names any slot it likes in an id). The
  // replaced status is kept on the new row for undo.
  const row = await prisma.$transaction(async (tx) => {
    await lockContact(tx, contact.id)
    const previous = await currentStatusRow(tx, userId, contact.id)
    await tx.suggestion.deleteMany({ where: { userId, contactId: contact.id, id: { not: id } } })
    const withSnapshot = { ...fields, ...snapshotOf(previous) }
    return tx.suggestion.upsert({
      where: { id },
      create: { id, userId, contactId: contact.id, slotStart: parsed.slot?.start ?? null, slotEnd: parsed.slot?.end ?? null, ...withSnapshot },
      update: withSnapshot,
    })
  })
  announce(userId, 'suggestion')
  return storedView(row)
}

/** Holds the contact's row until the transaction ends: status changes of one contact run one after the other. */
async function lockContact(tx: Prisma.TransactionClient, contactId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Contact" WHERE id = ${contactId}::uuid FOR UPDATE`
}

/** The contact's status row (not PENDING; the latest if there were ever several), or null. */
function currentStatusRow(tx: Prisma.TransactionClient, userId: string, contactId: string): Promise<Suggestion | null> {
  return tx.suggestion.findFirst({ where: { userId, contactId, status: { not: 'PENDING' } }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }] })
}

/** The `previous*` columns of a row that replaces `previous` (null: there was no status, undo gives PENDING). */
function snapshotOf(previous: Suggestion | null) {
  return {
    previousStatus: previous?.status ?? ('PENDING' as const),
    previousId: previous?.id ?? null,
    previousSlotStart: previous?.slotStart ?? null,
    previousSlotEnd: previous?.slotEnd ?? null,
    previousSnoozedUntil: previous?.snoozedUntil ?? null,
    previousSetAt: previous?.updatedAt ?? null,
  }
}

/** The `previous*` columns of a row with nothing to undo. */
const NO_SNAPSHOT = {
  previousStatus: null,
  previousId: null,
  previousSlotStart: null,
  previousSlotEnd: null,
  previousSnoozedUntil: null,
  previousSetAt: null,
} as const

/** The user's contact a suggestion id names; NOT_FOUND when it is malformed or not the user's. */
async function contactOfSuggestion(prisma: PrismaClient, userId: string, id: string, reach: Exclude<SuggestionReach, 'stored'>): Promise<string> {
  const parsed = parseSuggestionId(id)
  const contact = parsed ? await reachableContact(prisma, userId, parsed.contactId, reach) : null
  if (!contact) throw notFound('suggestion')
  return contact.id
}

/**
 * Undoes the latest accept, dismiss or snooze of the contact of suggestion `id` (any of its slots): the
 * status it replaced comes back as it was (its slot, snooze date and set-at), or, when there was none, the
 * contact's status is cleared. A restored status has nothing more to undo. Announces a `suggestion` change.
 *
 * @param now the time of the undo (the ranking of the suggestion returned when it is PENDING).
 * @param reach whose suggestions the credential may name ({@link SuggestionReach}): out of it, NOT_FOUND.
 * @returns the contact's suggestion as it is now: the restored one, or `id` as PENDING.
 * @throws ClientError NOT_FOUND for an id that is not the user's; BAD_USER_INPUT (`id`) when there is nothing to undo.
 */
export async function undoSuggestionAction(
  { prisma, announce }: WriteDeps,
  userId: string,
  id: string,
  now: Date,
  reach: Exclude<SuggestionReach, 'stored'> = 'any',
): Promise<SuggestionView> {
  const contactId = await contactOfSuggestion(prisma, userId, id, reach)
  const restoredId = await prisma.$transaction(async (tx) => {
    await lockContact(tx, contactId)
    const current = await currentStatusRow(tx, userId, contactId)
    if (!current || current.previousStatus === null) throw badUserInput('nothing to undo for this contact', 'id')
    if (current.previousStatus === 'PENDING' || !current.previousId || !current.previousSetAt) {
      await tx.suggestion.deleteMany({ where: { id: current.id } })
      return null
    }
    const restored = {
      status: current.previousStatus,
      snoozedUntil: current.previousSnoozedUntil,
      updatedAt: current.previousSetAt,
      ...NO_SNAPSHOT,
    }
    if (current.previousId === current.id) {
      await tx.suggestion.update({ where: { id: current.id }, data: restored })
    } else {
      await tx.suggestion.deleteMany({ where: { id: current.id } })
      const slot = { slotStart: current.previousSlotStart, slotEnd: current.previousSlotEnd }
      await tx.suggestion.upsert({
        where: { id: current.previousId },
        create: { id: current.previousId, userId, contactId, ...slot, priority: current.priority, reason: current.reason, ...restored },
        update: restored,
      })
    }
    return current.previousId
  })
  announce(userId, 'suggestion')
  const view = await findSuggestion(prisma, userId, restoredId ?? id, now)
  if (!view) throw notFound('suggestion')
  return view
}

/**
 * Clears the status of the contact of suggestion `id` (every slot): it can be suggested again at once.
 * Announces a `suggestion` change when it had one.
 *
 * @returns suggestion `id` as PENDING.
 * @param reach whose suggestions the credential may name ({@link SuggestionReach}).
 * @throws ClientError NOT_FOUND for an id that is not the user's (or out of `reach`).
 */
export async function restoreSuggestion(
  { prisma, announce }: WriteDeps,
  userId: string,
  id: string,
  now: Date,
  reach: Exclude<SuggestionReach, 'stored'> = 'any',
): Promise<SuggestionView> {
  const contactId = await contactOfSuggestion(prisma, userId, id, reach)
  // Under the contact's lock, like every status write: an undo running at the same time reads the status
  // and writes it back whole, before or after this, never across it.
  const { count } = await prisma.$transaction(async (tx) => {
    await lockContact(tx, contactId)
    return tx.suggestion.deleteMany({ where: { userId, contactId, status: { not: 'PENDING' } } })
  })
  if (count > 0) announce(userId, 'suggestion')
  const view = await findSuggestion(prisma, userId, id, now)
  if (!view) throw notFound('suggestion')
  return view
}

/** Page sizes of {@link listSuggestionsByStatus}. */
export const DEFAULT_STATUS_PAGE = 50
export const MAX_STATUS_PAGE = 100
const statusPageSizeSchema = intBetween(1, MAX_STATUS_PAGE)

/** The statuses a list may ask for, distinct and sorted; BAD_USER_INPUT `statuses` for none, PENDING or another value. */
function listedStatuses(statuses: readonly string[]): SuggestionStatus[] {
  if (statuses.length === 0) throw badUserInput('statuses: name at least one of ACCEPTED, DISMISSED, SNOOZED', 'statuses')
  if (!statuses.every((status) => status === 'ACCEPTED' || status === 'DISMISSED' || status === 'SNOOZED')) {
    throw badUserInput('statuses: only ACCEPTED, DISMISSED and SNOOZED are kept (PENDING suggestions come from the `suggestions` subscription)', 'statuses')
  }
  return [...new Set(statuses as SuggestionStatus[])].sort()
}
const statusCursor = z.strictObject({ t: z.number().int(), id: z.string().max(200) })

/** A page of {@link listSuggestionsByStatus}: its rows, whether more follow, their cursors, and the total (asked for lazily). */
export interface StatusPage {
  rows: SuggestionView[]
  hasMore: boolean
  cursorAt(index: number): string
  /** Rows of the list across all pages; one more query, run only when called. */
  totalCount(): Promise<number>
}

/**
 * The condition "the status of row `s` is in force at `now`": {@link loadSuggestionState}'s rule in SQL
 * (an acceptance ends with its slot, the horizon without one, or the first interaction logged after it).
 */
function inForceSql(now: Date, horizonMs: number): Prisma.Sql {
  const at = Prisma.sql`${now.toISOString()}::timestamp`
  const horizonAgo = Prisma.sql`${new Date(now.getTime() - horizonMs).toISOString()}::timestamp`
  return Prisma.sql`(
    (s.status = 'DISMISSED' AND s."updatedAt" > ${horizonAgo})
    OR (s.status = 'SNOOZED' AND s."snoozedUntil" > ${at})
    OR (s.status = 'ACCEPTED' AND (s."slotEnd" > ${at} OR (s."slotEnd" IS NULL AND s."updatedAt" > ${horizonAgo}))
      AND NOT EXISTS (SELECT 1 FROM "Interaction" i WHERE i."contactId" = s."contactId" AND i."userId" = s."userId" AND i."createdAt" > s."updatedAt")))`
}

/**
 * The user's suggestions whose status is one of `statuses` and still in force at `now`, the latest set
 * first (keyset on set-at descending, then id descending), `first` (1..100) at a time.
 *
 * @param horizonMs how long a dismissal lasts, and a slot-less acceptance at most (ms).
 * @throws ClientError BAD_USER_INPUT naming `statuses` (empty, or PENDING), `first` or `after`.
 */
export async function listSuggestionsByStatus(
  prisma: PrismaClient,
  userId: string,
  args: { statuses: readonly string[]; first: number; after?: string | null },
  now: Date,
  horizonMs: number,
): Promise<StatusPage> {
  const statuses = listedStatuses(args.statuses)
  const first = parseInput(statusPageSizeSchema, args.first, 'first')
  const scope = scopeDigest({ userId, list: 'suggestions-by-status', statuses })
  const last = args.after ? decodeCursor('suggestion-statuses', scope, args.after, statusCursor, 'after') : undefined
  const where = Prisma.sql`s."userId" = ${userId}::uuid AND s.status::text = ANY(${statuses}::text[]) AND ${inForceSql(now, horizonMs)}`
  const after = last ? Prisma.sql`AND (s."updatedAt", s.id) < (${new Date(last.t).toISOString()}::timestamp, ${last.id})` : Prisma.empty
  const ids = await prisma.$queryRaw<{ id: string }[]>`
    SELECT s.id FROM "Suggestion" s WHERE ${where} ${after} ORDER BY s."updatedAt" DESC, s.id DESC LIMIT ${first + 1}`
  const found = new Map((await prisma.suggestion.findMany({ where: { id: { in: ids.map((row) => row.id) }, userId } })).map((row) => [row.id, row]))
  const rows = ids.flatMap((row) => (found.has(row.id) ? [found.get(row.id)!] : []))
  const hasMore = rows.length > first
  const page = rows.slice(0, first)
  return {
    rows: page.map(storedView),
    hasMore,
    cursorAt: (index) => encodeCursor('suggestion-statuses', scope, { t: page[index]!.updatedAt.getTime(), id: page[index]!.id }),
    totalCount: async () => {
      const [row] = await prisma.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM "Suggestion" s WHERE ${where}`
      return Number(row?.count ?? 0)
    },
  }
}

/** What the engine must leave out at a given time: contacts not to suggest, and time already promised. */
export interface SuggestionState {
  /** Contacts with a status still in force. */
  excluded: Set<string>
  /** Slots of acceptances still in force: each takes one unit of every free slot it overlaps. */
  taken: Interval[]
}

/** A stored status as {@link suggestionStateAt} reads it. */
export interface StatusRow {
  contactId: string
  status: SuggestionStatus
  slotStart: Date | null
  slotEnd: Date | null
  /** When the status was set. */
  updatedAt: Date
  snoozedUntil: Date | null
}

/**
 * What {@link suggestionStateAt} needs: the user's stored statuses that may still hold at `loadedAt`
 * and, for the contacts of the acceptances among them, when their last interaction was logged (ms).
 * Every condition of the rule only ends as time goes on, so these rows serve any `now` from
 * `loadedAt` on, for as long as the user writes nothing (the engine's cache drops them on a change).
 */
export interface SuggestionStateRows {
  /** When they were read (ms): they serve a `now` at or after it. */
  loadedAt: number
  rows: StatusRow[]
  lastLogged: Map<string, number>
}

/**
 * The user's stored statuses that may still hold at `now`, and the interactions that may end the
 * acceptances among them: two queries.
 *
 * @param horizonMs how long a dismissal lasts, and a slot-less acceptance at most (ms).
 */
export async function loadSuggestionStateRows(prisma: PrismaClient, userId: string, now: Date, horizonMs: number): Promise<SuggestionStateRows> {
  const horizonAgo = new Date(now.getTime() - horizonMs)
  const rows = await prisma.suggestion.findMany({
    where: {
      userId,
      OR: [
        { status: 'DISMISSED', updatedAt: { gt: horizonAgo } },
        { status: 'SNOOZED', snoozedUntil: { gt: now } },
        { status: 'ACCEPTED', OR: [{ slotEnd: { gt: now } }, { slotEnd: null, updatedAt: { gt: horizonAgo } }] },
      ],
    },
    select: { contactId: true, status: true, slotStart: true, slotEnd: true, updatedAt: true, snoozedUntil: true },
  })
  const lastLogged = await lastLoggedInteractions(prisma, userId, rows.filter((row) => row.status === 'ACCEPTED'))
  return { loadedAt: now.getTime(), rows, lastLogged }
}

/**
 * The statuses in force at `now` (the rule is in this module's comment), from rows read at or
 * before `now` ({@link loadSuggestionStateRows}): the same conditions as the query, in memory. Pure.
 *
 * @param horizonMs the same as the rows were read with.
 * @throws RangeError when `now` is before the rows were read (a row that ended before then is missing).
 */
export function suggestionStateAt(loaded: SuggestionStateRows, now: Date, horizonMs: number): SuggestionState {
  const at = now.getTime()
  if (at < loaded.loadedAt) throw new RangeError(`statuses read at ${loaded.loadedAt} cannot serve ${at}`)
  const horizonAgo = at - horizonMs
  const inForce = loaded.rows.filter((row) => {
    switch (row.status) {
      case 'DISMISSED':
        return row.updatedAt.getTime() > horizonAgo
      case 'SNOOZED':
        return row.snoozedUntil !== null && row.snoozedUntil.getTime() > at
      case 'ACCEPTED':
        // An acceptance ends with its slot (the horizon without one), or with the first interaction logged after it.
        return (
          (row.slotEnd ? row.slotEnd.getTime() > at : row.updatedAt.getTime() > horizonAgo) &&
          !((loaded.lastLogged.get(row.contactId) ?? 0) > row.updatedAt.getTime())
        )
      default:
        return false
    }
  })
  return {
    excluded: new Set(inForce.map((row) => row.contactId)),
    taken: inForce.flatMap((row) => (row.status === 'ACCEPTED' && row.slotStart && row.slotEnd ? [{ start: row.slotStart, end: row.slotEnd }] : [])),
  }
}

/**
 * The statuses in force at `now` for the user (the rule is in this module's
 * comment): {@link loadSuggestionStateRows} read fresh, then {@link suggestionStateAt}.
 *
 * @param horizonMs how long a dismissal lasts, and a slot-less acceptance at most (ms).
 */
export async function loadSuggestionState(prisma: PrismaClient, userId: string, now: Date, horizonMs: number): Promise<SuggestionState> {
  return suggestionStateAt(await loadSuggestionStateRows(prisma, userId, now, horizonMs), now, horizonMs)
}

/**
 * For each accepted contact, when its latest interaction logged since the earliest of those acceptances
 * was recorded (ms). For a later `now` whose acceptances are some of these, the values decide the same:
 * an acceptance set at or after `since` ends iff the latest interaction is after it.
 */
async function lastLoggedInteractions(
  prisma: PrismaClient,
  userId: string,
  accepted: readonly { contactId: string; updatedAt: Date }[],
): Promise<Map<string, number>> {
  if (accepted.length === 0) return new Map()
  const since = new Date(accepted.reduce((min, row) => Math.min(min, row.updatedAt.getTime()), Number.POSITIVE_INFINITY))
  const groups = await prisma.interaction.groupBy({
    by: ['contactId'],
    where: { userId, contactId: { in: [...new Set(accepted.map((row) => row.contactId))] }, createdAt: { gt: since } },
    _max: { createdAt: true },
  })
  return new Map(groups.flatMap((group) => (group._max.createdAt ? [[group.contactId, group._max.createdAt.getTime()] as const] : [])))
}
