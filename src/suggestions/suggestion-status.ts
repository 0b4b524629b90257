/**
 * A suggestion by id (the node lookup), and accept, dismiss or snooze: stored
 * as a Suggestion row the engine reads back.
 */
import type { Contact, PrismaClient, Suggestion } from '../generated/prisma/client.ts'
import type { SuggestionStatus } from '../generated/prisma/enums.ts'
import { badUserInput, notFound } from '../errors.ts'
import { parseSuggestionId, type Suggestion as EngineSuggestion } from './generator.ts'
import { calculatePriority } from './priority.ts'
import { describeReason } from './reason.ts'

/** What the API shows of a suggestion: the engine's (PENDING) or a stored one with its status. */
export type SuggestionView = Pick<EngineSuggestion, 'id' | 'priority' | 'reason' | 'slot'> & {
  contact: { id: string }
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

export async function setSuggestionStatus(
  prisma: PrismaClient,
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
    snoozedUntil: status === 'SNOOZED' ? (snoozedUntil ?? null) : null,
    ...ranking(contact, now),
  }
  const row = await prisma.suggestion.upsert({
    where: { id },
    create: { id, userId, contactId: contact.id, slotStart: parsed.slot?.start ?? null, slotEnd: parsed.slot?.end ?? null, ...fields },
    update: fields,
  })
  return storedView(row)
}
