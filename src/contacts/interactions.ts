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
/** Built once: a zod schema costs more to build than to run, and this one runs for every contact of a page. */
const interactionPageSizeSchema = intBetween(1, MAX_INTERACTIONS_PAGE)

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
  const size = interactionPageSize(first)
  const scope = scopeDigest({ contactId, list: 'interactions' })
  const last = after ? decodeCursor('interactions', scope, after, interactionCursor, 'after') : undefined
  const at = last && new Date(last.t)
  const rows = await prisma.interaction.findMany({
    where: { contactId, ...(last && at ? { OR: [{ occurredAt: { lt: at } }, { occurredAt: at, id: { lt: last.id } }] } : {}) },
    orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
    take: size + 1,
  })
  return interactionPage(contactId, rows, size, () => prisma.interaction.count({ where: { contactId } }))
}

/** `first` as a page size: BAD_USER_INPUT naming `first` outside 1..{@link MAX_INTERACTIONS_PAGE}. */
export function interactionPageSize(first: number): number {
  return parseInput(interactionPageSizeSchema, first, 'first')
}

/**
 * The page of contact `contactId` made of `rows` (the newest `size + 1` at most, newest first), and its
 * total counted by `totalCount`: {@link listInteractions}'s answer, or a first page read for many contacts at once.
 */
export function interactionPage(contactId: string, rows: Interaction[], size: number, totalCount: () => Promise<number>): InteractionPage {
  const scope = scopeDigest({ contactId, list: 'interactions' })
  const page = rows.slice(0, size)
  return {
    rows: page,
    hasMore: rows.length > size,
    cursorAt: (index) => encodeCursor('interactions', scope, { t: page[index]!.occurredAt.getTime(), id: page[index]!.id }),
    totalCount,
  }
}

/**
 * The newest `take` interactions of each of `contactIds` (newest first), in ONE query: a page of contacts
 * showing each one's latest history reads it at once, not once per contact.
 */
export async function latestInteractions(prisma: PrismaClient, contactIds: string[], take: number): Promise<Map<string, Interaction[]>> {
  const byContact = new Map<string, Interaction[]>(contactIds.map((id) => [id, []]))
  if (contactIds.length === 0) return byContact
  const rows = await prisma.$queryRaw<(Interaction & { rank: bigint })[]>`
    SELECT * FROM (
      SELECT i.id::text AS id, i."userId"::text AS "userId", i."contactId"::text AS "contactId", i.kind::text AS kind, i."occurredAt", i.note, i."createdAt",
        row_number() OVER (PARTITION BY i."contactId" ORDER BY i."occurredAt" DESC, i.id DESC) AS rank
      FROM "Interaction" i WHERE i."contactId" = ANY(${contactIds}::uuid[])
    ) ranked WHERE rank <= ${take} ORDER BY "contactId", rank`
  for (const { rank: _rank, ...row } of rows) byContact.get(row.contactId)?.push(row)
  return byContact
}

/** How many interactions each of `contactIds` has (absent: none), in ONE grouped query. */
export async function interactionCounts(prisma: PrismaClient, contactIds: string[]): Promise<Map<string, number>> {
  if (contactIds.length === 0) return new Map()
  const rows = await prisma.$queryRaw<{ contactId: string; count: number }[]>`
    SELECT "contactId"::text AS "contactId", count(*)::int AS count FROM "Interaction" WHERE "contactId" = ANY(${contactIds}::uuid[]) GROUP BY "contactId"`
  return new Map(rows.map((row) => [row.contactId, Number(row.count)]))
}
