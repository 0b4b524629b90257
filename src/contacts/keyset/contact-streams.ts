/**
 * Keyset streams over a user's contacts: page after page (contact-page.ts),
 * each with the cursor to resume after it. Pages yield to the event loop, and
 * no page is read before the consumer asks for it: `break` or `return()` stops
 * the walk.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts'
import type { DunbarCircle, FrequencyPreference } from '../../generated/prisma/enums.ts'
import { decodeContactCursor } from '../../cursors/contact-cursor.ts'
import { checkPageSize, DEFAULT_PAGE_SIZE, readContactPage, type KeysetOptions, type Page } from './contact-page.ts'

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

/** The columns of {@link MinimalContact}: what scoring reads. */
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
