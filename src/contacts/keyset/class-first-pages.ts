/**
 * The first page of every contact class (Dunbar circle x frequency
 * preference) in one statement: where the suggestion engine's class walks
 * start.
 */
import { DunbarCircle, FrequencyPreference } from '../../generated/prisma/enums.ts'
import {
  checkUserId,
  MINIMAL_COLUMN_COUNT,
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

export type { ContactClass } from './minimal-rows.ts'

const CIRCLES: (DunbarCircle | null)[] = [...Object.values(DunbarCircle), null]
const FREQUENCIES: (FrequencyPreference | null)[] = [...Object.values(FrequencyPreference), null]
/** Every circle x frequency (6 x 8 = 48): within one, priority only falls as nextDueAt grows. */
export const CONTACT_CLASSES: readonly ContactClass[] = CIRCLES.flatMap((dunbarCircle) =>
  FREQUENCIES.map((frequencyPreference) => ({ dunbarCircle, frequencyPreference })),
)

/** A class's first page, and where its walk goes on from (none: the class has no more rows). */
export interface FirstPage {
  rows: MinimalContact[]
  after: WalkPosition | undefined
}

const isEnumValue = (value: string) => /^[A-Z_]+$/.test(value)

/**
 * The statement of the first pages of `classes`: a UNION ALL of one index
 * range per class, the class's index in the last column. The enum values are
 * the schema's own (checked), so they are literals: each branch is then one
 * index range, and the text is the same for every user ($1) and size ($2).
 * Exported for bench:load's raw baseline, which sends the same statement through `pg`.
 */
export function firstPagesStatement(classes: readonly ContactClass[]): PreparedStatement {
  const equals = (column: string, value: string | null) => {
    if (value === null) return `"${column}" IS NULL`
    if (!isEnumValue(value)) throw new Error(`not an enum value: ${value}`)
    return `"${column}" = '${value}'`
  }
  const text = classes
    .map(
      (c, index) =>
        `(SELECT ${MINIMAL_COLUMNS}, ${index} AS "class"
            FROM "Contact"
           WHERE "userId" = $1::uuid AND archived = false
             AND ${equals('dunbarCircle', c.dunbarCircle)} AND ${equals('frequencyPreference', c.frequencyPreference)}
           ORDER BY "nextDueAt", id LIMIT $2)`,
    )
    .join('\nUNION ALL\n')
    .concat('\nORDER BY "class", "nextDueMs", id')
  return preparedStatement('minimal_first_pages', text)
}

/** The statement of each list of classes, built once (the engine always passes CONTACT_CLASSES). */
const statements = new WeakMap<readonly ContactClass[], PreparedStatement>()

/**
 * The first page of the walk of each class ordered by `nextDueAt` (unarchived
 * contacts), all in ONE prepared statement through `source`, instead of a
 * round trip per class. Then `streamMinimalContacts(source, { where: class,
 * after })` goes on where each page stopped. Throws BAD_USER_INPUT naming
 * `limit` (not an integer in 1..1000) or `userId` (not a UUID).
 */
export async function readFirstMinimalPages(
  source: ContactRowSource,
  userId: string,
  classes: readonly ContactClass[],
  limit: number,
): Promise<FirstPage[]> {
  pageSizeOf(limit, 'limit')
  checkUserId(userId)
  let statement = statements.get(classes)
  if (!statement) {
    statement = firstPagesStatement(classes)
    statements.set(classes, statement)
  }
  const found = await source.queryPrepared(statement, [userId, limit + 1])
  const byClass: MinimalContact[][] = classes.map(() => [])
  for (const row of found) byClass[row[MINIMAL_COLUMN_COUNT] as number]!.push(minimalContactOf(row))
  return byClass.map((rows) => {
    // One row more than asked for says whether the class goes on, and whether its next page must look for ties.
    const lookahead = rows.length > limit ? rows.pop() : undefined
    return { rows, after: positionAfter(rows.at(-1), lookahead) }
  })
}
