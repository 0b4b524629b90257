/**
 * Reading imports, always through their owner: one import, the user's imports a page at a time
 * (newest first), an import's rejected records a page at a time (in file order), and the
 * progress stream of one import. Another user's import is never found (NOT_FOUND, as an
 * unknown id: existence never leaks).
 */
import { z } from 'zod'
import type { Import, ImportError, PrismaClient } from '../generated/prisma/client.ts'
import { notFound } from '../errors.ts'
import { decodeCursor, encodeCursor, scopeDigest } from '../cursors/cursor-codec.ts'
import { importProgressNotices, type ChangePubSub } from '../pubsub/changes.ts'
import { intBetween, parseInput } from '../validation.ts'

/** Page sizes of `imports` and `errors`: default and bounds (1..MAX). */
export const DEFAULT_IMPORTS_PAGE = 20
export const MAX_IMPORTS_PAGE = 100

/** A page of rows and the signed cursor after each. */
export interface Page<T> {
  rows: T[]
  hasMore: boolean
  cursorAt(index: number): string
}

/** `first` as a page size: BAD_USER_INPUT naming `first` outside 1..{@link MAX_IMPORTS_PAGE}. */
// Schemas built once: a zod schema costs more to build than to run.
const pageSizeSchema = intBetween(1, MAX_IMPORTS_PAGE)
const importsCursorSchema = z.strictObject({ id: z.uuid() })
const importErrorsCursorSchema = z.strictObject({ p: z.number().int(), id: z.uuid() })
const pageSize = (first: number): number => parseInput(pageSizeSchema, first, 'first')

/** The user's import `importId`, or null (unknown, malformed, or another user's). */
export async function findImport(prisma: PrismaClient, userId: string, importId: string): Promise<Import | null> {
  return prisma.import.findFirst({ where: { id: importId, userId } })
}

/**
 * The user's imports, newest first (keyset on id descending: uuid v7 ids grow with time), `first` 1..100.
 *
 * @throws ClientError BAD_USER_INPUT naming `first` or `after` (not a cursor of this list).
 */
export async function listImports(prisma: PrismaClient, userId: string, first: number, after: string | null | undefined): Promise<Page<Import>> {
  const size = pageSize(first)
  const scope = scopeDigest({ userId, list: 'imports' })
  const last = after ? decodeCursor('imports', scope, after, importsCursorSchema, 'after').id : undefined
  const rows = await prisma.import.findMany({
    where: { userId, ...(last === undefined ? {} : { id: { lt: last } }) },
    orderBy: { id: 'desc' },
    take: size + 1,
  })
  const hasMore = rows.length > size
  const page = rows.slice(0, size)
  return { rows: page, hasMore, cursorAt: (index) => encodeCursor('imports', scope, { id: page[index]!.id }) }
}

/**
 * The rejected records of an import the caller owns (checked by the caller), in file order (position, then id), `first` 1..100.
 *
 * @throws ClientError BAD_USER_INPUT naming `first` or `after` (not a cursor of this list).
 */
export async function listImportErrors(prisma: PrismaClient, importId: string, first: number, after: string | null | undefined): Promise<Page<ImportError>> {
  const size = pageSize(first)
  const scope = scopeDigest({ importId, list: 'import-errors' })
  const last = after ? decodeCursor('import-errors', scope, after, importErrorsCursorSchema, 'after') : undefined
  const rows = await prisma.importError.findMany({
    where: { importId, ...(last === undefined ? {} : { OR: [{ position: { gt: last.p } }, { position: last.p, id: { gt: last.id } }] }) },
    orderBy: [{ position: 'asc' }, { id: 'asc' }],
    take: size + 1,
  })
  const hasMore = rows.length > size
  const page = rows.slice(0, size)
  return { rows: page, hasMore, cursorAt: (index) => encodeCursor('import-errors', scope, { p: page[index]!.position, id: page[index]!.id }) }
}

const finished = (row: Import) => row.status === 'SUCCEEDED' || row.status === 'FAILED'

/**
 * The import as it moves: its current state at once, then again after each batch (read from the
 * database on each notice, wherever the job runs), ending after the state that says it finished.
 * Throws NOT_FOUND before anything when the user does not own it. `return()` ends it at once
 * and removes its listener, even while it waits for the next notice.
 */
export async function importProgressStream(
  prisma: PrismaClient,
  pubsub: ChangePubSub,
  userId: string,
  importId: string,
): Promise<AsyncIterableIterator<Import>> {
  const notices = importProgressNotices(pubsub, importId)[Symbol.asyncIterator]()
  // Listening before the first read: a notice published in between is not missed.
  let pending = notices.next()
  let ended = false
  const end = async (): Promise<IteratorResult<Import>> => {
    if (!ended) {
      ended = true
      await notices.return?.()
    }
    return { done: true, value: undefined }
  }
  let first: Import | null
  try {
    first = await findImport(prisma, userId, importId)
  } catch (error) {
    await end()
    throw error
  }
  if (!first) {
    await end()
    throw notFound('import')
  }
  let initial: Import | undefined = first
  const emit = async (row: Import): Promise<IteratorResult<Import>> => {
    if (finished(row)) await end()
    return { done: false, value: row }
  }
  const iterator: AsyncIterableIterator<Import> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (initial) {
        const row = initial
        initial = undefined
        return emit(row)
      }
      if (ended) return { done: true, value: undefined }
      const notice = await pending
      if (notice.done || ended) return end()
      pending = notices.next()
      const row = await findImport(prisma, userId, importId)
      if (!row) return end()
      return emit(row)
    },
    return: end,
  }
  return iterator
}
