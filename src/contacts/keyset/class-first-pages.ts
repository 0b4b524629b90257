/**
 * The first page of every contact class (Dunbar circle x frequency
 * preference) in one statement: where the suggestion engine's class walks
 * start.
 */
import type { PrismaClient } from '../../generated/prisma/client.ts'
import { DunbarCircle, FrequencyPreference } from '../../generated/prisma/enums.ts'
import { cursorOf } from '../../cursors/contact-cursor.ts'
import { isUuid } from '../../db/uuid.ts'
import { badUserInput } from '../../errors.ts'
import { checkPageSize } from './contact-page.ts'
import type { MinimalContact } from './contact-streams.ts'

/** A class of contacts: one Dunbar circle and one frequency preference (either may be none). */
export interface ContactClass {
  dunbarCircle: DunbarCircle | null
  frequencyPreference: FrequencyPreference | null
}

const CIRCLES: (DunbarCircle | null)[] = [...Object.values(DunbarCircle), null]
const FREQUENCIES: (FrequencyPreference | null)[] = [...Object.values(FrequencyPreference), null]
/** Every circle x frequency (6 x 8 = 48): within one, priority only falls as nextDueAt grows. */
export const CONTACT_CLASSES: readonly ContactClass[] = CIRCLES.flatMap((dunbarCircle) =>
  FREQUENCIES.map((frequencyPreference) => ({ dunbarCircle, frequencyPreference })),
)

/** A class's first page, and the cursor its walk goes on from (none: the class has no more rows). */
export interface FirstPage {
  rows: MinimalContact[]
  after: string | undefined
}

const isEnumValue = (value: string) => /^[A-Z_]+$/.test(value)

/**
 * The SQL of readFirstMinimalPages: the first page of each of `classes` (rows of
 * MinimalContact plus `class`, the index in `classes`). Parameters: $1 the user id,
 * $2 rows per class. Throws on an enum value that is not one.
 */
export function classFirstPagesSql(classes: readonly ContactClass[]): string {
  const equals = (column: string, value: string | null) => {
    if (value === null) return `"${column}" IS NULL`
    if (!isEnumValue(value)) throw new Error(`not an enum value: ${value}`)
    return `"${column}" = '${value}'`
  }
  // The enum values are the schema's own (checked above), so they can be literals: each branch is then one index range.
  return classes
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
}

/**
 * The first page of the walk of each class ordered by `nextDueAt` (unarchived
 * contacts), all in ONE statement: a UNION ALL of one index range per class,
 * instead of a round trip per class. Then `streamMinimalContacts({ where: class,
 * orderBy: 'nextDueAt', after })` goes on where each page stopped. Throws
 * BAD_USER_INPUT naming `limit` (not an integer in 1..1000) or `userId` (not a UUID).
 */
export async function readFirstMinimalPages(
  prisma: PrismaClient,
  userId: string,
  classes: readonly ContactClass[],
  limit: number,
): Promise<FirstPage[]> {
  checkPageSize(limit, 'limit')
  if (!isUuid(userId)) throw badUserInput('invalid user id', 'userId')
  const sql = classFirstPagesSql(classes)
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
