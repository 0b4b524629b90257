/**
 * Reading one page of a keyset walk over a user's contacts:
 * `WHERE (key, id) > (lastKey, lastId) ORDER BY key, id LIMIT n`, read as index
 * ranges of `(userId, key, id)` (see {@link remainingRanges}), never OFFSET and
 * never Prisma's `cursor`+`skip`.
 */
import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts'
import {
  contactScopeDigest,
  cursorOf,
  decodeContactCursor,
  NULLABLE_KEYS,
  type ContactOrderKey,
  type CursorPosition,
  type CursorScope,
  type KeyedRow,
  type SortDirection,
} from '../../cursors/contact-cursor.ts'
import { intBetween, parseInput } from '../../validation.ts'

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

/** A page size: an integer in 1..{@link MAX_PAGE_SIZE}. */
export const pageSizeSchema = intBetween(1, MAX_PAGE_SIZE)

/** `size` if it is a page size (see {@link pageSizeSchema}), else throws BAD_USER_INPUT naming `field`. */
export const checkPageSize = (size: number, field = 'pageSize'): number => parseInput(pageSizeSchema, size, field)

export interface KeysetOptions {
  userId: string
  orderBy?: ContactOrderKey
  direction?: SortDirection
  /** Rows per page, 1..1000 (default 100); a function is asked before every page (the memory guard shrinks pages). */
  pageSize?: number | (() => number)
  /** An opaque cursor from an earlier walk with the same ordering: resume right after it. */
  after?: string | null
  /** Archived contacts are left out unless this is true. */
  includeArchived?: boolean
  /** Further conditions (filters), ANDed with the user and archive conditions. */
  where?: Prisma.ContactWhereInput
  /** Stops the walk before the next page. */
  signal?: AbortSignal
}

export interface Page<Row> {
  rows: Row[]
  /** Cursor of the last row; resuming from it continues with the next row. Undefined for an empty page. */
  endCursor: string | undefined
  /** False when the walk has reached the end. */
  hasMore: boolean
  /** The cursor of the row at `index` (signed on demand: a page of 1000 rows does not sign 1000 cursors unasked). */
  cursorAt(index: number): string
}

/** What a page reads besides the keys: a Prisma `select`, or an `include` (all scalars plus relations). */
export type ContactQuery = { select: Prisma.ContactSelect } | { include?: Prisma.ContactInclude }

/**
 * The rest of a walk after `position`, as a list of conditions each of which
 * is one index range of `(userId, key, id)` in walk order. `(key, id) > (k, i)`
 * is split into `key = k AND id > i` (only when rows with key k may follow) and
 * `key > k`: the single-statement form `key >= k AND (key > k OR id > i)` scans
 * and discards every tie before `i`, quadratic over a long run of equal keys.
 * Nullable keys follow PostgreSQL's NULL order: values then NULLs ascending,
 * NULLs then values descending.
 */
function remainingRanges(
  orderBy: ContactOrderKey,
  direction: SortDirection,
  position: CursorPosition | undefined,
): Prisma.ContactWhereInput[] {
  const after = direction === 'asc' ? 'gt' : 'lt'
  const nullable = NULLABLE_KEYS.has(orderBy)
  const values = nullable ? { [orderBy]: { not: null } } : {}
  const nulls = { [orderBy]: null }
  if (!position) {
    if (!nullable) return [{}]
    return direction === 'asc' ? [values, nulls] : [nulls, values]
  }
  if (orderBy === 'id') return [{ id: { [after]: position.id } }]
  if (position.key === null) {
    const restOfNulls = { [orderBy]: null, id: { [after]: position.id } }
    return direction === 'asc' ? [restOfNulls] : [restOfNulls, values]
  }
  const ranges: Prisma.ContactWhereInput[] = []
  if (position.tiesAfter) ranges.push({ [orderBy]: position.key, id: { [after]: position.id } })
  ranges.push({ [orderBy]: { [after]: position.key } }) // excludes NULLs
  if (nullable && direction === 'asc') ranges.push(nulls)
  return ranges
}

/** The rows a walk reads: the user's, active ones unless `includeArchived`, and `where` (a filter). */
export function contactScopeWhere(userId: string, includeArchived: boolean, where?: Prisma.ContactWhereInput): Prisma.ContactWhereInput {
  return { userId, ...(includeArchived ? {} : { archived: false }), ...(where ? { AND: [where] } : {}) }
}

/**
 * Reads one page of at most `limit` rows after `after` (a cursor or nothing).
 * The building block of the walks (contact-streams.ts) and of the GraphQL
 * connection. Throws BAD_USER_INPUT naming `limit` (not a page size) or
 * `after` (not a cursor of this walk).
 */
export async function readContactPage<Row>(
  prisma: PrismaClient,
  options: Omit<KeysetOptions, 'pageSize' | 'signal'> & { limit: number },
  query: ContactQuery,
): Promise<Page<Row>> {
  const orderBy = options.orderBy ?? 'id'
  const direction = options.direction ?? 'asc'
  const limit = checkPageSize(options.limit, 'limit')
  const scope: CursorScope = { userId: options.userId, orderBy, direction, includeArchived: options.includeArchived, where: options.where }
  const position = options.after ? decodeContactCursor(options.after, scope) : undefined
  const base = contactScopeWhere(options.userId, Boolean(options.includeArchived), options.where)
  const shape: { select: Prisma.ContactSelect } | { include: Prisma.ContactInclude | undefined } =
    'select' in query
      ? { select: { ...query.select, id: true, name: true, lastContactDate: true, nextDueAt: true } }
      : { include: query.include }
  const nulls = direction === 'asc' ? 'last' : 'first'
  const order: Prisma.ContactOrderByWithRelationInput[] =
    orderBy === 'id'
      ? [{ id: direction }]
      : [NULLABLE_KEYS.has(orderBy) ? { [orderBy]: { sort: direction, nulls } } : { [orderBy]: direction }, { id: direction }]

  const rows: Row[] = []
  // One row more than asked for tells whether the walk goes on, and whether the
  // next page must look for more rows with the last row's key.
  for (const range of remainingRanges(orderBy, direction, position)) {
    const found = (await prisma.contact.findMany({
      where: { ...base, ...range },
      orderBy: order,
      take: limit + 1 - rows.length,
      ...(shape as { select: Prisma.ContactSelect }),
    })) as unknown as Row[]
    rows.push(...found)
    if (rows.length > limit) break
  }
  const lookahead = rows.length > limit ? (rows.pop() as KeyedRow) : undefined
  const keyed = rows as unknown as KeyedRow[]
  const digest = contactScopeDigest(scope)
  const cursorAt = (index: number) => cursorOf(keyed[index]!, scope, keyed[index + 1] ?? lookahead, digest)
  return { rows, endCursor: rows.length > 0 ? cursorAt(rows.length - 1) : undefined, hasMore: lookahead !== undefined, cursorAt }
}
