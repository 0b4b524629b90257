/** Reading a user's contacts: filters and the keyset-paginated list behind the GraphQL connection. */
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import type { DunbarCircle } from '../generated/prisma/enums.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput } from '../errors.ts'
import { parseInput, storableString } from '../validation.ts'
import type { ContactOrderKey, SortDirection } from '../cursors/contact-cursor.ts'
import { checkPageSize, contactScopeWhere, readContactPage, type ContactQuery, type Page } from './keyset/contact-page.ts'

export interface ContactFilter {
  circle?: DunbarCircle | null
  groupId?: string | null
  tag?: string | null
  /** Case-insensitive substring of the name or email. */
  search?: string | null
  /** true: only archived contacts; false or absent: only active ones. */
  archived?: boolean | null
  /** Due by then: `nextDueAt` at or before it (now: the overdue ones). */
  dueBefore?: Date | null
  /** Last contacted before then, or never. */
  notContactedSince?: Date | null
}

export interface ListContactsArgs {
  first: number
  after?: string | null
  filter?: ContactFilter | null
  orderBy?: ContactOrderKey
  direction?: SortDirection
}

const MAX_SEARCH_LENGTH = 200
const MAX_TAG_LENGTH = 50

/**
 * `text` as a LIKE pattern that matches only itself: Prisma's `contains`,
 * `startsWith` and `endsWith` become (I)LIKE with the pattern as given, and
 * PostgreSQL's default escape character is the backslash.
 */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`)
}

/** Text filter values: storable text (no NUL, no lone surrogate) of at most so many characters. */
const tagFilter = storableString().max(MAX_TAG_LENGTH)
const searchFilter = storableString().max(MAX_SEARCH_LENGTH)

/**
 * The Prisma conditions of a contact filter. `search` is a literal,
 * case-insensitive substring of the name or email (`_`, `%` and `\` match
 * only themselves). Throws BAD_USER_INPUT (`filter.group`, `filter.tag`,
 * `filter.search`) for a malformed group id or text PostgreSQL cannot take.
 * `dueBefore` and `notContactedSince` are instants (the DateTime scalar bounds them).
 */
export function contactFilterWhere(filter: ContactFilter | null | undefined): Prisma.ContactWhereInput {
  if (!filter) return {}
  const where: Prisma.ContactWhereInput = {}
  if (filter.dueBefore) where.nextDueAt = { lte: filter.dueBefore }
  // An AND of its own: `search` takes the OR.
  if (filter.notContactedSince) where.AND = [{ OR: [{ lastContactDate: null }, { lastContactDate: { lt: filter.notContactedSince } }] }]
  if (filter.circle) where.dunbarCircle = filter.circle
  if (filter.groupId && !isUuid(filter.groupId)) throw badUserInput('not a group id', 'filter.group')
  if (filter.groupId) where.groupIds = { has: filter.groupId }
  if (filter.tag) where.tags = { has: parseInput(tagFilter, filter.tag, 'filter.tag') }
  if (filter.archived) where.archived = true
  const search = filter.search?.trim()
  if (search) {
    const pattern = escapeLikePattern(parseInput(searchFilter, search, 'filter.search'))
    where.OR = [
      { name: { contains: pattern, mode: 'insensitive' } },
      { email: { contains: pattern, mode: 'insensitive' } },
    ]
  }
  return where
}

/** One page of the user's contacts, in keyset order; the other users' contacts never match. */
export function listContacts<Row>(
  prisma: PrismaClient,
  userId: string,
  args: ListContactsArgs,
  query: ContactQuery,
): Promise<Page<Row>> {
  checkPageSize(args.first, 'first')
  return readContactPage<Row>(
    prisma,
    {
      userId,
      limit: args.first,
      after: args.after,
      orderBy: args.orderBy ?? 'name',
      direction: args.direction ?? 'asc',
      includeArchived: Boolean(args.filter?.archived),
      where: contactFilterWhere(args.filter),
    },
    query,
  )
}

/** How many of the user's contacts match `filter` (every page of {@link listContacts} together). */
export function countContacts(prisma: PrismaClient, userId: string, filter: ContactFilter | null | undefined): Promise<number> {
  return prisma.contact.count({ where: contactScopeWhere(userId, Boolean(filter?.archived), contactFilterWhere(filter)) })
}
