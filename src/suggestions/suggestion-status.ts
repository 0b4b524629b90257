/** Accept, dismiss or snooze a suggestion: stored as a Suggestion row the engine reads back. */
import type { PrismaClient, Suggestion } from '../generated/prisma/client.ts'
import type { SuggestionStatus } from '../generated/prisma/enums.ts'
import { badUserInput, notFound } from '../errors.ts'
import { parseSuggestionId } from './generator.ts'
import { calculatePriority } from './priority.ts'
import { describeReason } from './reason.ts'

export async function setSuggestionStatus(
  prisma: PrismaClient,
  userId: string,
  id: string,
  status: Exclude<SuggestionStatus, 'PENDING'>,
  now: Date,
  snoozedUntil?: Date,
): Promise<Suggestion> {
  const parsed = parseSuggestionId(id)
  if (!parsed) throw notFound('suggestion')
  if (status === 'SNOOZED' && !(snoozedUntil && snoozedUntil > now)) throw badUserInput('until must be in the future', 'until')
  const contact = await prisma.contact.findFirst({ where: { id: parsed.contactId, userId } })
  if (!contact) throw notFound('suggestion')
  const fields = {
    status,
    snoozedUntil: status === 'SNOOZED' ? (snoozedUntil ?? null) : null,
    priority: calculatePriority(contact, now),
    reason: describeReason(contact, now),
  }
  return prisma.suggestion.upsert({
    where: { id },
    create: { id, userId, contactId: contact.id, slotStart: parsed.slot?.start ?? null, slotEnd: parsed.slot?.end ?? null, ...fields },
    update: fields,
  })
}
