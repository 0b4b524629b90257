/**
 * Keyset streams over a user's contacts, page after page: the general walk
 * through Prisma (contact-page.ts), each page with the cursor to resume after
 * it, and the suggestion walk's minimal rows through prepared statements
 * (minimal-rows.ts). Pages yield to the event loop, and no page is read before
 * the consumer asks for it: `break` or `return()` stops the walk.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts'
import { decodeContactCursor } from '../../cursors/contact-cursor.ts'
import { checkPageSize, DEFAULT_PAGE_SIZE, readContactPage, type KeysetOptions, type Page } from './contact-page.ts'
import {
  checkUserId,
  MINIMAL_COLUMNS,
  minimalContactOf,
  pageSizeOf,
  positionAfter,
  preparedStatement,
  type ContactClass,
  type ContactRowSource,
  type MinimalContact,
  type PreparedStatement,
  type WalkPosition,
} from './minimal-rows.ts'

export type { MinimalContact } from './minimal-rows.ts'

type WithKeys = { id: true; name: true; lastContactDate: true; nextDueAt: true }

/**
 * The general keyset walk: yields pages in `orderBy`/`direction` order, each
 * with the cursor to resume after it, `select`ed columns plus the sort keys.
 * Reads a page only when the consumer asks. Throws BAD_USER_INPUT naming
 * `pageSize` (not an integer in 1..1000) or `after` (not a cursor of this walk)
 * before the first read.
 */
export async function* streamWithCursor<S extends Prisma.ContactSelect>(
  prisma: PrismaClient,
  options: KeysetOptions,
  select: S,
): AsyncGenerator<Page<Prisma.ContactGetPayload<{ select: S & WithKeys }>>, void, undefined> {
  const { pageSize = DEFAULT_PAGE_SIZE } = options
  const sizeOf = typeof pageSize === 'function' ? pageSize : () => pageSize
  checkPageSize(sizeOf())
  let after = options.after ?? undefined
  if (after) {
    const { userId, orderBy = 'id', direction = 'asc', includeArchived, where } = options
    decodeContactCursor(after, { userId, orderBy, direction, includeArchived, where }) // fail before the first read
  }
  for (;;) {
    options.signal?.throwIfAborted()
    const page = await readContactPage<Prisma.ContactGetPayload<{ select: S & WithKeys }>>(
      prisma,
      { ...options, after, limit: checkPageSize(sizeOf()) },
      { select },
    )
    if (page.rows.length > 0) yield page
    if (!page.hasMore) return
    after = page.endCursor
    await yieldToEventLoop()
  }
}

/** One page of a minimal walk, and where the next goes on from (undefined: this was the last page). */
export interface MinimalPage {
  rows: MinimalContact[]
  after: WalkPosition | undefined
}

/** A minimal walk: the user's unarchived contacts by `("nextDueAt", id)`, of one class or of all. */
export interface MinimalWalkOptions {
  userId: string
  /** Only this class (see class-first-pages.ts); default: every contact. */
  where?: ContactClass
  /** Rows per page, 1..1000 (default 100); a function is asked before every page (the memory guard shrinks pages). */
  pageSize?: number | (() => number)
  /** Resume right after this position (a page's `after`, or a first page's from readFirstMinimalPages). */
  after?: WalkPosition | undefined
  /** Stops the walk before the next page. */
  signal?: AbortSignal | undefined
}

type StatementForm = 'start' | 'after' | 'ties'
const statements = new Map<string, PreparedStatement>()

/**
 * The page statement of a walk of `where` (undefined: all classes), read from
 * the start, after a key, or after a key whose ties may follow. Each part is
 * one index range of `(userId[, dunbarCircle, frequencyPreference], nextDueAt,
 * id)`, as in contact-page.ts: `(key, id) > (k, i)` is `key = k AND id > i`
 * (only when rows with key k may follow) UNION ALL `key > k`, never the
 * single-range OR form that scans and discards every tie before `i`.
 * Parameters: $1 user, $2 rows, then the class's non-null circle and
 * frequency, then the key (ISO text, read as the UTC wall clock
 * `timestamp(3)` holds) and, for ties, the id.
 */
function pageStatement(where: ContactClass | undefined, form: StatementForm): PreparedStatement {
  const cacheKey = `${where ? `${where.dunbarCircle === null}${where.frequencyPreference === null}` : 'all'}:${form}`
  const cached = statements.get(cacheKey)
  if (cached) return cached
  const conditions = ['"userId" = $1::uuid', 'archived = false']
  let next = 3
  if (where) {
    conditions.push(where.dunbarCircle === null ? '"dunbarCircle" IS NULL' : `"dunbarCircle" = $${next++}::"DunbarCircle"`)
    conditions.push(where.frequencyPreference === null ? '"frequencyPreference" IS NULL' : `"frequencyPreference" = $${next++}::"FrequencyPreference"`)
  }
  const [key, id] = [`$${next}::timestamp`, `$${next + 1}::uuid`]
  const range = (condition: string[], order: string) =>
    `SELECT ${MINIMAL_COLUMNS} FROM "Contact" WHERE ${[...conditions, ...condition].join(' AND ')} ORDER BY ${order} LIMIT $2`
  const later = range([`"nextDueAt" > ${key}`], '"nextDueAt", id')
  const text =
    form === 'start'
      ? range([], '"nextDueAt", id')
      : form === 'after'
        ? later
        : `(${range([`"nextDueAt" = ${key}`, `id > ${id}`], 'id')})\nUNION ALL\n(${later})\nORDER BY "nextDueMs", id LIMIT $2`
  const statement = preparedStatement(`minimal_${form}`, text)
  statements.set(cacheKey, statement)
  return statement
}

/** One page of at most `limit` rows after `after`, with one row more to know whether the walk goes on. */
async function readMinimalPage(
  source: ContactRowSource,
  userId: string,
  where: ContactClass | undefined,
  after: WalkPosition | undefined,
  limit: number,
): Promise<MinimalPage> {
  const form: StatementForm = !after ? 'start' : after.tiesAfter ? 'ties' : 'after'
  const values: unknown[] = [userId, limit + 1]
  if (where?.dunbarCircle) values.push(where.dunbarCircle)
  if (where?.frequencyPreference) values.push(where.frequencyPreference)
  if (after) values.push(after.nextDueAt.toISOString())
  if (after?.tiesAfter) values.push(after.id)
  const found = await source.queryPrepared(pageStatement(where, form), values)
  const rows = found.map(minimalContactOf)
  const lookahead = rows.length > limit ? rows.pop() : undefined
  return { rows, after: positionAfter(rows.at(-1), lookahead) }
}

/**
 * The suggestion walk's pages (what scoring needs of each contact), by
 * `("nextDueAt", id)`: one prepared statement per page through `source`,
 * rows read in their known shape (minimal-rows.ts), no Prisma. Reads a page
 * only when the consumer asks. Throws BAD_USER_INPUT naming `pageSize` (not an
 * integer in 1..1000) or `userId` (not a UUID) before the first read.
 */
export async function* streamMinimalContacts(
  source: ContactRowSource,
  options: MinimalWalkOptions,
): AsyncGenerator<MinimalPage, void, undefined> {
  const { userId, where, pageSize = DEFAULT_PAGE_SIZE, signal } = options
  const sizeOf = typeof pageSize === 'function' ? pageSize : () => pageSize
  pageSizeOf(sizeOf(), 'pageSize')
  checkUserId(userId)
  let after = options.after
  for (;;) {
    signal?.throwIfAborted()
    const page = await readMinimalPage(source, userId, where, after, pageSizeOf(sizeOf(), 'pageSize'))
    if (page.rows.length > 0) yield page
    if (!page.after) return
    after = page.after
    await yieldToEventLoop()
  }
}
