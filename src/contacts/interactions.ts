/**
 * A contact's history: its logged interactions, newest first (occurredAt descending, then id
 * descending), a page at a time with signed cursors (cursors/cursor-codec.ts). The caller has checked
 * that the contact is the viewer's (it resolved the contact through its owner).
 */
import { z } from 'zod'
import type { Interaction, PrismaClient } from '../generated/prisma/client.ts'
import { decodeCursor, encodeCursor, scopeDigest } from '../cursors/cursor-codec.ts'
import { intBetween, parseInput } from '../validation.ts'

/** Page sizes of {@link listInteractions}: default and most. */
export const DEFAULT_INTERACTIONS_PAGE = 20
export const MAX_INTERACTIONS_PAGE = 100

const interactionCursor = z.strictObject({ t: z.number().int(), id: z.uuid() })

/** A page of a contact's interactions, and how many it has in all (counted only when asked). */
export interface InteractionPage {
  rows: Interaction[]
  hasMore: boolean
  cursorAt(index: number): string
  totalCount(): Promise<number>
}

/**
 * The interactions of contact `contactId`, newest first, `first` (1..100) after the cursor `after`.
 *
 * @throws ClientError BAD_USER_INPUT naming `first` or `after` (not a cursor of this contact's history).
 */
export async function listInteractions(prisma: PrismaClient, contactId: string, first: number, after: string | null | undefined): Promise<InteractionPage> {
  const size = parseInput(intBetween(1, MAX_INTERACTIONS_PAGE), first, 'first')
  const scope = scopeDigest({ contactId, list: 'interactions' })
  const last = after ? decodeCursor('interactions', scope, after, interactionCursor, 'after') : undefined
  const at = last && new Date(last.t)
  const rows = await prisma.interaction.findMany({
    where: { contactId, ...(last && at ? { OR: [{ occurredAt: { lt: at } }, { occurredAt: at, id: { lt: last.id } }] } : {}) },
    orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
    take: size + 1,
  })
  const page = rows.slice(0, size)
  return {
    rows: page,
    hasMore: rows.length > size,
    cursorAt: (index) => encodeCursor('interactions', scope, { t: page[index]!.occurredAt.getTime(), id: page[index]!.id }),
    totalCount: () => prisma.interaction.count({ where: { contactId } }),
  }
}
