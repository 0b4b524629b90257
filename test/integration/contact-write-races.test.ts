/**
 * Writes that compute `nextDueAt` from the row they read hold it (`FOR UPDATE`) until they commit:
 * an update of the cadence and interactions logged at the same time leave `nextDueAt` matching the
 * final row, whatever order they ran in. Without the lock both PostgreSQL and PGlite (whose
 * transactions interleave at every await) failed this in every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WriteDeps } from '../../src/changes/announce.ts'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import { logInteraction, updateContact } from '../../src/contacts/contact-writes.ts'
import { DAY_MS } from '../../src/time.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()

describe.each(kinds)('concurrent contact writes on %s', (kind) => {
  let db: TestDatabase
  let alice: FixtureUser
  let deps: WriteDeps

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 1)
    deps = { prisma: db.prisma, announce: () => {} }
  })
  afterAll(async () => {
    await db?.destroy()
  })

  it('keep nextDueAt in step with lastContactDate, frequency and circle', async () => {
    const { id } = (await db.prisma.contact.findFirst({ where: { userId: alice.id } }))!
    const frequencies = ['WEEKLY', 'MONTHLY', 'YEARLY', 'QUARTERLY'] as const
    for (let round = 0; round < 12; round++) {
      await Promise.all([
        updateContact(deps, alice.id, id, { frequencyPreference: frequencies[round % frequencies.length] }, FIXTURE_NOW),
        logInteraction(deps, alice.id, id, { occurredAt: new Date(FIXTURE_NOW.getTime() - (30 - round) * DAY_MS) }, FIXTURE_NOW),
        updateContact(deps, alice.id, id, { dunbarCircle: round % 2 ? 'INNER' : 'CASUAL' }, FIXTURE_NOW),
      ])
      const row = (await db.prisma.contact.findUnique({ where: { id } }))!
      expect(row.nextDueAt, `round ${round}`).toEqual(computeNextDueAt(row))
    }
  })
})
