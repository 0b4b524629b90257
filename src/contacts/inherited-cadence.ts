/**
 * A group's default cadence, materialized on its members: a contact without a frequency of its own
 * keeps, in `frequencyPreference`, the shortest default among its groups (`frequencyFromGroup` true),
 * and its `nextDueAt` follows, so the suggestion engine reads one table and one column as before.
 * Every write that changes a contact's groups, a group's default or existence, or clears a contact's
 * own frequency calls {@link recomputeInheritedCadence} in its transaction.
 */
import { Prisma } from '../generated/prisma/client.ts'
import { cadenceDaysSql } from './cadence.ts'

/** Which of the user's contacts to recompute: these ids, or the members of one group. */
export type CadenceScope = { contactIds: readonly string[] } | { groupId: string }

/** Anything that runs raw SQL: the client or a transaction's. */
type RawExecutor = Pick<Prisma.TransactionClient, '$executeRaw'>

// Shortest cadence first; equal days: a fixed frequency before FLEXIBLE, then by group name (Contact.cadence
// names the first group by name whose default is the one in force).
const GROUP_DAYS = Prisma.raw(cadenceDaysSql('g."defaultFrequency"', 'c."dunbarCircle"'))
const CONTACT_DAYS = Prisma.raw(cadenceDaysSql('t.inherited', 't."dunbarCircle"'))

/**
 * Recomputes, in ONE statement, `frequencyPreference`, `frequencyFromGroup` and `nextDueAt` of the user's
 * contacts in `scope` that have no frequency of their own: the shortest default among their groups (null
 * when none has one), and the due date from it (last contact + cadence; never contacted: when added).
 * Contacts with their own frequency are untouched; rows whose frequency does not change are not written.
 *
 * @param now the time of the write (`updatedAt` of the changed rows).
 * @returns how many contacts changed.
 */
export function recomputeInheritedCadence(db: RawExecutor, userId: string, scope: CadenceScope, now: Date): Promise<number> {
  const inScope =
    'groupId' in scope
      ? Prisma.sql`c."groupIds" @> ARRAY[${scope.groupId}::uuid]`
      : Prisma.sql`c.id = ANY(${[...scope.contactIds]}::uuid[])`
  return db.$executeRaw`
    WITH t AS (
      SELECT c.id, c."createdAt", c."lastContactDate", c."dunbarCircle",
        (SELECT g."defaultFrequency" FROM "Group" g
          WHERE g."userId" = c."userId" AND g.id = ANY(c."groupIds") AND g."defaultFrequency" IS NOT NULL
          ORDER BY ${GROUP_DAYS}, g."defaultFrequency" = 'FLEXIBLE', g.name, g.id LIMIT 1) AS inherited
      FROM "Contact" c
      WHERE c."userId" = ${userId}::uuid AND ${inScope} AND (c."frequencyPreference" IS NULL OR c."frequencyFromGroup")
    )
    UPDATE "Contact" c SET
      "frequencyPreference" = t.inherited,
      "frequencyFromGroup" = t.inherited IS NOT NULL,
      "nextDueAt" = CASE WHEN t."lastContactDate" IS NULL THEN t."createdAt"
        ELSE t."lastContactDate" + ${CONTACT_DAYS} * INTERVAL '1 day' END,
      "updatedAt" = ${now.toISOString()}::timestamp
    FROM t
    WHERE c.id = t.id AND (c."frequencyPreference" IS DISTINCT FROM t.inherited OR c."frequencyFromGroup" <> (t.inherited IS NOT NULL))`
}
