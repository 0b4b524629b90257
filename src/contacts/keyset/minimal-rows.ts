/**
 * The suggestion walk's hot statements, read without Prisma: minimal contact
 * rows in a known shape (arrays in column order), converted to exactly what
 * {@link MinimalContact} holds. Each statement has a fixed text and a name
 * derived from it, so PostgreSQL prepares it once per connection; PGlite runs
 * it through its own `query`. The rest of the code keeps Prisma as its data
 * layer.
 */
import { createHash } from 'node:crypto'
import type { DunbarCircle, FrequencyPreference } from '../../generated/prisma/enums.ts'
import { isUuid } from '../../db/uuid.ts'
import { badUserInput } from '../../errors.ts'
import { checkPageSize, MAX_PAGE_SIZE } from './contact-page.ts'

/** A statement the database may prepare once per connection: the same `name` always has the same `text`. */
export interface PreparedStatement {
  readonly name: string
  readonly text: string
}

/**
 * Raw SQL on the database's own connections, for the hot statements (the
 * `Database` of src/db/database.ts is one, PostgreSQL or PGlite: the walk
 * does not know which answers).
 */
export interface ContactRowSource {
  /** Runs `statement` with `values`; rows as arrays of column values in select order (text, numbers, null). */
  queryPrepared(statement: PreparedStatement, values: unknown[]): Promise<unknown[][]>
}

/** What scoring, the reason, slot fitting and the GraphQL minimal fields read of a contact, and nothing more. */
export interface MinimalContact {
  id: string
  name: string
  lastContactDate: Date | null
  frequencyPreference: FrequencyPreference | null
  dunbarCircle: DunbarCircle | null
  nextDueAt: Date
  /** IANA zone: suggestions are fitted into the contact's own waking hours. */
  timezone: string | null
}

/** A class of contacts: one Dunbar circle and one frequency preference (either may be none). */
export interface ContactClass {
  dunbarCircle: DunbarCircle | null
  frequencyPreference: FrequencyPreference | null
}

/**
 * Where a walk by `("nextDueAt", id)` stopped: the last row read, and whether
 * rows with its `nextDueAt` may follow (the row after it was seen to have the
 * same key). Internal to a walk, never shown to a client: not signed.
 */
export interface WalkPosition {
  nextDueAt: Date
  id: string
  tiesAfter: boolean
}

/** The position after `last`, given the row that follows it (none: the walk ends at `last`). */
export function positionAfter(last: MinimalContact | undefined, next: MinimalContact | undefined): WalkPosition | undefined {
  if (!last || !next) return undefined
  return { nextDueAt: last.nextDueAt, id: last.id, tiesAfter: last.nextDueAt.getTime() === next.nextDueAt.getTime() }
}

/**
 * The columns of a {@link MinimalContact}, in the order {@link minimalContactOf}
 * reads them. Timestamps as epoch milliseconds (`timestamp(3)` holds UTC
 * wall-clock time; rounded, the float8 is the exact millisecond) and enums as
 * text: numbers and strings on both drivers, with no date parsing and no time
 * zone question. `date_part` (float8), not `extract` (numeric since
 * PostgreSQL 14): a quarter of the server's cost per value.
 */
export const MINIMAL_COLUMNS = `id, name, round(date_part('epoch', "lastContactDate") * 1000) AS "lastContactMs",
  "frequencyPreference"::text AS "frequencyPreference", "dunbarCircle"::text AS "dunbarCircle",
  round(date_part('epoch', "nextDueAt") * 1000) AS "nextDueMs", timezone`

/** The number of {@link MINIMAL_COLUMNS}: a statement may select more after them. */
export const MINIMAL_COLUMN_COUNT = 7

/** A row of {@link MINIMAL_COLUMNS} as the drivers return it (float8 as a number). */
export function minimalContactOf(row: unknown[]): MinimalContact {
  const lastContactMs = row[2] as number | null
  return {
    id: row[0] as string,
    name: row[1] as string,
    lastContactDate: lastContactMs === null ? null : new Date(lastContactMs),
    frequencyPreference: row[3] as FrequencyPreference | null,
    dunbarCircle: row[4] as DunbarCircle | null,
    nextDueAt: new Date(row[5] as number),
    timezone: row[6] as string | null,
  }
}

/** `text` with a name of its own (a digest of the text: one name never means two texts on a connection). */
export function preparedStatement(label: string, text: string): PreparedStatement {
  return { name: `${label}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`, text }
}

/** `size` when it is a page size (checked without allocating on the hot path), else BAD_USER_INPUT naming `field`. */
export function pageSizeOf(size: number, field: string): number {
  return Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE ? size : checkPageSize(size, field)
}

/** Throws BAD_USER_INPUT naming `userId` unless it is a UUID (the statements cast it). */
export function checkUserId(userId: string): void {
  if (!isUuid(userId)) throw badUserInput('invalid user id', 'userId')
}
