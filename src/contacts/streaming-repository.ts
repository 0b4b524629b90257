/**
 * Keyset streams over a user's contacts. Each page is
 * `WHERE (key, id) > (lastKey, lastId) ORDER BY key, id LIMIT n`, read as index
 * ranges of `(userId, key, id)` (see {@link remainingRanges}), never OFFSET and
 * never Prisma's `cursor`+`skip`. Pages yield to the event loop, and no page
 * is read before the consumer asks for it: `break` or `return()` stops the walk.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import type { DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'
import { z } from 'zod'
import { decodeCursor, encodeCursor, scopeDigest, type ScopeDigest } from '../cursors/cursor-codec.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput } from '../errors.ts'
import { isStorableDate, isStorableText } from '../validation.ts'

export type ContactOrderKey = 'id' | 'name' | 'lastContactDate' | 'nextDueAt'
export type SortDirection = 'asc' | 'desc'

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

const ORDER_KEYS: readonly ContactOrderKey[] = ['id', 'name', 'lastContactDate', 'nextDueAt']
const NULLABLE_KEYS: ReadonlySet<ContactOrderKey> = new Set(['lastContactDate'])
const DATE_KEYS: ReadonlySet<ContactOrderKey> = new Set(['lastContactDate', 'nextDueAt'])

type KeyValue = string | Date | null

/** The decoded form of an opaque cursor: the position after which a walk resumes. */
interface CursorPosition {
  orderBy: ContactOrderKey
  direction: SortDirection
  key: KeyValue
  id: string
  /** Rows with the same key may follow (false when the row after it was seen to have another key). */
  tiesAfter: boolean
}

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

type WithKeys = { id: true; name: true; lastContactDate: true; nextDueAt: true }

/** Validates a page size: an integer in 1..1000, else BAD_USER_INPUT naming `field`. */
export function validatePageSize(size: number, field = 'pageSize'): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badUserInput(`${field} must be an integer between 1 and ${MAX_PAGE_SIZE}, got ${size}`, field)
  }
  return size
}

/**
 * What a contact cursor is bound to: the user and the query it came from
 * (order, direction, archived or not, filter conditions). A cursor is refused
 * for any other scope, so one user's cursor never walks another's query.
 */
export interface CursorScope {
  userId: string
  orderBy: ContactOrderKey
  direction: SortDirection
  includeArchived?: boolean | undefined
  where?: Prisma.ContactWhereInput | undefined
}

const digestOf = (scope: CursorScope) =>
  scopeDigest({
    user: scope.userId,
    orderBy: scope.orderBy,
    direction: scope.direction,
    archived: Boolean(scope.includeArchived),
    where: scope.where ?? {},
  })

/** The signed data: `[key, id, tiesAfter]`, the key a string (ISO for dates) or null. */
const positionSchema = z.tuple([z.string().max(1000).nullable(), z.string().refine(isUuid), z.union([z.literal(0), z.literal(1)])])

function encodePosition(scope: ScopeDigest, position: Omit<CursorPosition, 'orderBy' | 'direction'>): string {
  const key = position.key instanceof Date ? position.key.toISOString() : position.key
  return encodeCursor('contacts', scope, [key, position.id, position.tiesAfter ? 1 : 0])
}

type KeyedRow = { id: string } & Partial<Record<ContactOrderKey, KeyValue>>

function keyOf(row: KeyedRow, orderBy: ContactOrderKey): KeyValue {
  return orderBy === 'id' ? row.id : (row[orderBy] ?? null)
}

function sameKey(a: KeyValue, b: KeyValue): boolean {
  return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b
}

/**
 * The cursor that points at `row` in a walk of `scope`. `next` is the row
 * that follows it, when known: if its key differs, the cursor records that no
 * row with the same key follows, and the next page is one range.
 */
export function cursorOf(row: KeyedRow, scope: CursorScope, next?: KeyedRow, digest: ScopeDigest = digestOf(scope)): string {
  const key = keyOf(row, scope.orderBy)
  const tiesAfter = scope.orderBy !== 'id' && key !== null && (next === undefined || sameKey(keyOf(next, scope.orderBy), key))
  return encodePosition(digest, { key, id: row.id, tiesAfter })
}

/**
 * The position a cursor of {@link cursorOf} points at. Throws BAD_USER_INPUT
 * naming `field` when it is not a cursor of this server, was altered, belongs
 * to another scope, or holds a key the walk cannot use (defence in depth: a
 * signed key came from the database).
 */
export function decodeContactCursor(cursor: string, scope: CursorScope, field = 'after'): CursorPosition {
  const { orderBy, direction } = scope
  const invalid = () => badUserInput('invalid cursor: unknown format', field)
  if (!ORDER_KEYS.includes(orderBy)) throw invalid()
  const [rawKey, id, ties] = decodeCursor('contacts', digestOf(scope), cursor, positionSchema, field)
  let key: KeyValue
  if (rawKey === null) {
    if (!NULLABLE_KEYS.has(orderBy)) throw invalid()
    key = null
  } else if (DATE_KEYS.has(orderBy)) {
    key = new Date(rawKey)
    if (Number.isNaN(key.getTime()) || !isStorableDate(key)) throw invalid()
  } else {
    if (!isStorableText(rawKey)) throw invalid()
    key = rawKey
  }
  if (orderBy === 'id' && key !== id) throw invalid()
  return { orderBy, direction, key, id, tiesAfter: ties === 1 }
}

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

/** What a page reads besides the keys: a Prisma `select`, or an `include` (all scalars plus relations). */
export type ContactQuery = { select: Prisma.ContactSelect } | { include?: Prisma.ContactInclude }

/**
 * Reads one page of at most `limit` rows after `after` (a cursor or nothing).
 * The building block of the walks below and of the GraphQL connection.
 */
export async function readContactPage<Row>(
  prisma: PrismaClient,
  options: Omit<KeysetOptions, 'pageSize' | 'signal'> & { limit: number },
  query: ContactQuery,
): Promise<Page<Row>> {
  const orderBy = options.orderBy ?? 'id'
  const direction = options.direction ?? 'asc'
  const limit = validatePageSize(options.limit, 'limit')
  const scope: CursorScope = { userId: options.userId, orderBy, direction, includeArchived: options.includeArchived, where: options.where }
  const position = options.after ? decodeContactCursor(options.after, scope) : undefined
  const base: Prisma.ContactWhereInput = {
    userId: options.userId,
    ...(options.includeArchived ? {} : { archived: false }),
    ...(options.where ? { AND: [options.where] } : {}),
  }
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
  const digest = digestOf(scope)
  const cursorAt = (index: number) => cursorOf(keyed[index]!, scope, keyed[index + 1] ?? lookahead, digest)
  return { rows, endCursor: rows.length > 0 ? cursorAt(rows.length - 1) : undefined, hasMore: lookahead !== undefined, cursorAt }
}

/**
 * The general keyset walk: yields pages in `orderBy`/`direction` order, each
 * with the cursor to resume after it. Reads a page only when the consumer asks.
 */
export async function* streamWithCursor<S extends Prisma.ContactSelect>(
  prisma: PrismaClient,
  options: KeysetOptions,
  select: S,
): AsyncGenerator<Page<Prisma.ContactGetPayload<{ select: S & WithKeys }>>, void, undefined> {
  const { pageSize = DEFAULT_PAGE_SIZE } = options
  const sizeOf = typeof pageSize === 'function' ? pageSize : () => pageSize
  validatePageSize(sizeOf())
  let after = options.after ?? undefined
  if (after) {
    const { userId, orderBy = 'id', direction = 'asc', includeArchived, where } = options
    decodeContactCursor(after, { userId, orderBy, direction, includeArchived, where }) // fail before the first read
  }
  for (;;) {
    options.signal?.throwIfAborted()
    const page = await readContactPage<Prisma.ContactGetPayload<{ select: S & WithKeys }>>(
      prisma,
      { ...options, after, limit: validatePageSize(sizeOf()) },
      { select },
    )
    if (page.rows.length > 0) yield page
    if (!page.hasMore) return
    after = page.endCursor
    await yieldToEventLoop()
  }
}

/** Full contact rows, with their group ids, page by page. */
export function streamContacts(prisma: PrismaClient, options: KeysetOptions) {
  return streamWithCursor(prisma, options, fullContactSelect)
}

const fullContactSelect = {
  id: true,
  userId: true,
  name: true,
  email: true,
  phone: true,
  linkedIn: true,
  instagram: true,
  xHandle: true,
  otherSocialMedia: true,
  location: true,
  timezone: true,
  customNotes: true,
  lastContactDate: true,
  frequencyPreference: true,
  tags: true,
  groupIds: true,
  archived: true,
  source: true,
  googleResourceName: true,
  googleEtag: true,
  lastSyncedAt: true,
  dunbarCircle: true,
  circleAssignedAt: true,
  circleConfidence: true,
  aiSuggestedCircle: true,
  nextDueAt: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.ContactSelect

const minimalContactSelect = {
  id: true,
  name: true,
  lastContactDate: true,
  frequencyPreference: true,
  dunbarCircle: true,
  nextDueAt: true,
  archived: true,
  groupIds: true,
  timezone: true,
} satisfies Prisma.ContactSelect

/** What scoring needs of a contact, and nothing more. */
export interface MinimalContact {
  id: string
  name: string
  lastContactDate: Date | null
  frequencyPreference: FrequencyPreference | null
  dunbarCircle: DunbarCircle | null
  nextDueAt: Date
  archived: boolean
  groupIds: string[]
  /** IANA zone: suggestions are fitted into the contact's own waking hours. */
  timezone: string | null
}

export type MinimalPage = Page<MinimalContact>

/** Minimal contact rows (the columns scoring needs), page by page: one table, one query per page. */
export function streamMinimalContacts(
  prisma: PrismaClient,
  options: KeysetOptions,
): AsyncGenerator<MinimalPage, void, undefined> {
  return streamWithCursor(prisma, options, minimalContactSelect)
}

/** A class of contacts: one Dunbar circle and one frequency preference (either may be none). */
export interface ContactClass {
  dunbarCircle: DunbarCircle | null
  frequencyPreference: FrequencyPreference | null
}

/** A class's first page, and the cursor its walk goes on from (none: the class has no more rows). */
export interface FirstPage {
  rows: MinimalContact[]
  after: string | undefined
}

const isEnumValue = (value: string) => /^[A-Z_]+$/.test(value)

/**
 * The first page of the walk of each class ordered by `nextDueAt` (unarchived
 * contacts), all in ONE statement: a UNION ALL of one index range per class,
 * instead of a round trip per class. Then `streamMinimalContacts({ where: class,
 * orderBy: 'nextDueAt', after })` goes on where each page stopped.
 */
export async function readFirstMinimalPages(
  prisma: PrismaClient,
  userId: string,
  classes: readonly ContactClass[],
  limit: number,
): Promise<FirstPage[]> {
  validatePageSize(limit, 'limit')
  if (!isUuid(userId)) throw badUserInput('invalid user id', 'userId')
  const equals = (column: string, value: string | null) => {
    if (value === null) return `"${column}" IS NULL`
    if (!isEnumValue(value)) throw new Error(`not an enum value: ${value}`)
    return `"${column}" = '${value}'`
  }
  // The enum values are the schema's own (checked above), so they can be literals: each branch is then one index range.
  const sql = classes
    .map(
      (c, index) =>
        `(SELECT ${index} AS "class", id, name, "lastContactDate", "frequencyPreference"::text AS "frequencyPreference",
                 "dunbarCircle"::text AS "dunbarCircle", "nextDueAt", archived, "groupIds", timezone
            FROM "Contact"
           WHERE "userId" = $1::uuid AND archived = false
             AND ${equals('dunbarCircle', c.dunbarCircle)} AND ${equals('frequencyPreference', c.frequencyPreference)}
           ORDER BY "nextDueAt", id LIMIT $2)`,
    )
    .join('\nUNION ALL\n')
    .concat('\nORDER BY "class", "nextDueAt", id')
  const found = await prisma.$queryRawUnsafe<(MinimalContact & { class: number })[]>(sql, userId, limit + 1)
  const byClass: MinimalContact[][] = classes.map(() => [])
  for (const { class: index, ...row } of found) byClass[index]!.push(row)
  return byClass.map((rows, index) => {
    // One row more than asked for says whether the class goes on, and whether its next page must look for ties.
    const lookahead = rows.length > limit ? rows.pop() : undefined
    const last = rows.at(-1)
    const where = { dunbarCircle: classes[index]!.dunbarCircle, frequencyPreference: classes[index]!.frequencyPreference }
    // Bound to the walk that goes on from it: streamMinimalContacts({ userId, orderBy: 'nextDueAt', where: class }).
    return { rows, after: last && lookahead ? cursorOf(last, { userId, orderBy: 'nextDueAt', direction: 'asc', where }, lookahead) : undefined }
  })
}
