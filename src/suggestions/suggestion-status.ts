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
 * contact's earlier one.
 *
 * "Logged" is when the interaction was recorded (`Interaction.createdAt`), not
 * the `occurredAt` it names: the call that follows an acceptance ends it even
 * when it is entered with an earlier time.
 */
import type { Contact, PrismaClient, Suggestion } from '../generated/prisma/client.ts'
import type { Interval } from '../calendar/free-slots.ts'
import type { SuggestionStatus } from '../generated/prisma/enums.ts'
import type { WriteDeps } from '../changes/announce.ts'
import { badUserInput, notFound } from '../errors.ts'
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
  }
}

/** The user's suggestion with this id: stored with its status, or else as the engine would rank it `now`. */
export async function findSuggestion(prisma: PrismaClient, userId: string, id: string, now: Date): Promise<SuggestionView | null> {
  const parsed = parseSuggestionId(id)
  if (!parsed) return null
  const stored = await prisma.suggestion.findFirst({ where: { id, userId } })
  if (stored) return storedView(stored)
  const contact = await prisma.contact.findFirst({ where: { id: parsed.contactId, userId } })
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
 * @returns the stored suggestion with its new status.
 * @throws ClientError NOT_FOUND for an id that is not the user's (or malformed),
 *   BAD_USER_INPUT (`until`) when a snooze's `snoozedUntil` is not after `now`.
 */
export async function setSuggestionStatus(
  { prisma, announce }: WriteDeps,
  userId: string,
  id: string,
  status: Exclude<SuggestionStatus, 'PENDING'>,
  now: Date,
  snoozedUntil?: Date,
): Promise<SuggestionView> {
  const parsed = parseSuggestionId(id)
  if (!parsed) throw notFound('suggestion')
  if (status === 'SNOOZED' && !(snoozedUntil && snoozedUntil > now)) throw badUserInput('until must be in the future', 'until')
  const contact = await prisma.contact.findFirst({ where: { id: parsed.contactId, userId } })
  if (!contact) throw notFound('suggestion')
  const fields = {
    status,
    // When the status was set: every exclusion is counted from here (see the module's rule), on the caller's clock.
    updatedAt: now,
    snoozedUntil: status === 'SNOOZED' ? (snoozedUntil ?? null) : null,
    ...ranking(contact, now),
  }
  // One status per contact, the latest: a status for another slot of the contact replaces the earlier
  // one, so the rows stay bounded by the contacts (a client names any slot it likes in an id).
  const [, row] = await prisma.$transaction([
    prisma.suggestion.deleteMany({ where: { userId, contactId: contact.id, id: { not: id } } }),
    prisma.suggestion.upsert({
      where: { id },
      create: { id, userId, contactId: contact.id, slotStart: parsed.slot?.start ?? null, slotEnd: parsed.slot?.end ?? null, ...fields },
      update: fields,
    }),
  ])
  announce(userId, 'suggestion')
  return storedView(row)
}

/** What the engine must leave out at a given time: contacts not to suggest, and time already promised. */
export interface SuggestionState {
  /** Contacts with a status still in force. */
  excluded: Set<string>
  /** Slots of acceptances still in force: each takes one unit of every free slot it overlaps. */
  taken: Interval[]
}

/**
 * The statuses in force at `now` for the user (the rule is in this module's
 * comment): two queries, the user's stored statuses that may still hold and,
 * for the acceptances among them, the last interaction logged with each contact.
 *
 * @param horizonMs how long a dismissal lasts, and a slot-less acceptance at most (ms).
 */
export async function loadSuggestionState(prisma: PrismaClient, userId: string, now: Date, horizonMs: number): Promise<SuggestionState> {
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
    select: { contactId: true, status: true, slotStart: true, slotEnd: true, updatedAt: true },
  })
  const accepted = rows.filter((row) => row.status === 'ACCEPTED')
  const lastLogged = await lastLoggedInteractions(prisma, userId, accepted)
  // An acceptance ends with the first interaction logged after it.
  const inForce = rows.filter((row) => row.status !== 'ACCEPTED' || !((lastLogged.get(row.contactId) ?? 0) > row.updatedAt.getTime()))
  return {
    excluded: new Set(inForce.map((row) => row.contactId)),
    taken: inForce.flatMap((row) => (row.status === 'ACCEPTED' && row.slotStart && row.slotEnd ? [{ start: row.slotStart, end: row.slotEnd }] : [])),
  }
}

/** For each accepted contact, when its latest interaction logged since the earliest of those acceptances was recorded (ms). */
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
