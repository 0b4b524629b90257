/**
 * Hostile review of issue 14's prepared walk statements (`Database.queryPrepared`, minimal-rows.ts):
 * each is prepared once per pool connection and kept for the connection's life. A schema change made
 * while a process runs (a rolling deploy: the new version's process migrates, the old ones keep
 * serving) invalidates what those connections prepared. Prisma's own queries are unnamed and are
 * parsed again; a named statement is not, and PostgreSQL refuses it from then on, on that connection:
 *
 * - a column the statement returns changes type (`name` String -> @db.VarChar(200)): "cached plan must
 *   not change result type", on every walk, until the process restarts;
 * - an enum the statement casts a parameter to is replaced (what Prisma's migration does to remove a
 *   value: a new type, the column moved to it, the old one dropped).
 *
 * A walk must survive both: the statement prepared again (or run unnamed) when PostgreSQL says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTACT_CLASSES, readFirstMinimalPages } from '../../src/contacts/keyset/class-first-pages.ts'
import { streamMinimalContacts } from '../../src/contacts/keyset/contact-streams.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()

describe.runIf(kinds.includes('postgres'))('hostile issue 14: prepared walk statements across a schema change on PostgreSQL', () => {
  let db: TestDatabase
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 60)
  })
  afterAll(() => db?.destroy())

  /** Every pool connection has run `read` (prepared its statements): as many reads at once as connections. */
  async function onEveryConnection<T>(read: () => Promise<T>): Promise<T[]> {
    return Promise.all(Array.from({ length: 4 }, read))
  }

  const firstPages = () => readFirstMinimalPages(db, alice.id, CONTACT_CLASSES, 10)
  /** Every row of the class INNER x WEEKLY (its page statement casts parameters to the enums). */
  const innerWeekly = async () => {
    const ids: string[] = []
    for await (const page of streamMinimalContacts(db, { userId: alice.id, where: { dunbarCircle: 'INNER', frequencyPreference: 'WEEKLY' }, pageSize: 3 })) {
      ids.push(...page.rows.map((row) => row.id))
    }
    return ids
  }

  it('reads the first pages after a column they return changes type (name text -> varchar(200))', async () => {
    const before = await onEveryConnection(firstPages)
    await db.query(`ALTER TABLE "Contact" ALTER COLUMN "name" TYPE varchar(200)`)
    // Prisma's own reads are unaffected.
    expect(await db.prisma.contact.count({ where: { userId: alice.id } })).toBeGreaterThan(0)
    const after = await onEveryConnection(firstPages)
    expect(after).toEqual(before)
  })

  it('walks a class after its enum type is replaced (as Prisma migrates the removal or reordering of a value)', async () => {
    const before = await onEveryConnection(innerWeekly)
    expect(before[0]!.length).toBeGreaterThan(0)
    await db.executeScriptAtomically(`
      CREATE TYPE "DunbarCircle_new" AS ENUM ('INNER', 'CLOSE', 'ACTIVE', 'CASUAL', 'ACQUAINTANCE');
      ALTER TABLE "Contact" ALTER COLUMN "dunbarCircle" TYPE "DunbarCircle_new" USING ("dunbarCircle"::text::"DunbarCircle_new");
      ALTER TABLE "Contact" ALTER COLUMN "aiSuggestedCircle" TYPE "DunbarCircle_new" USING ("aiSuggestedCircle"::text::"DunbarCircle_new");
      ALTER TYPE "DunbarCircle" RENAME TO "DunbarCircle_old";
      ALTER TYPE "DunbarCircle_new" RENAME TO "DunbarCircle";
      DROP TYPE "DunbarCircle_old";
    `)
    expect(await onEveryConnection(innerWeekly)).toEqual(before)
  })
})
