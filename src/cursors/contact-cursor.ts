/**
 * The contact keyset cursor: the position after which a walk of a user's
 * contacts resumes (the row's sort key and id), signed by the one cursor codec
 * (cursor-codec.ts) and bound to the query it came from.
 */
import type { Prisma } from '../generated/prisma/client.ts'
import { z } from 'zod'
import { decodeCursor, encodeCursor, scopeDigest, type ScopeDigest } from './cursor-codec.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput } from '../errors.ts'
import { isStorableDate, isStorableText } from '../validation.ts'

export type ContactOrderKey = 'id' | 'name' | 'lastContactDate' | 'nextDueAt'
export type SortDirection = 'asc' | 'desc'

const ORDER_KEYS: readonly ContactOrderKey[] = ['id', 'name', 'lastContactDate', 'nextDueAt']
/** Sort keys that may be NULL (PostgreSQL sorts NULLs last ascending, first descending). */
export const NULLABLE_KEYS: ReadonlySet<ContactOrderKey> = new Set(['lastContactDate'])
const DATE_KEYS: ReadonlySet<ContactOrderKey> = new Set(['lastContactDate', 'nextDueAt'])

/** A sort key's value: a name, a date, or NULL. */
export type KeyValue = string | Date | null

/** The decoded form of an opaque cursor: the position after which a walk resumes. */
export interface CursorPosition {
  orderBy: ContactOrderKey
  direction: SortDirection
  key: KeyValue
  id: string
  /** Rows with the same key may follow (false when the row after it was seen to have another key). */
  tiesAfter: boolean
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

/** The digest a cursor of `scope` carries; compute it once to sign many cursors of one page. */
export const contactScopeDigest = (scope: CursorScope): ScopeDigest =>
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

/** A row as the cursor sees it: its id and the sort keys it was read with. */
export type KeyedRow = { id: string } & Partial<Record<ContactOrderKey, KeyValue>>

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
export function cursorOf(row: KeyedRow, scope: CursorScope, next?: KeyedRow, digest: ScopeDigest = contactScopeDigest(scope)): string {
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
  const [rawKey, id, ties] = decodeCursor('contacts', contactScopeDigest(scope), cursor, positionSchema, field)
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
