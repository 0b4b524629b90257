/**
 * Resolvers read the time from the context's clock (`buildApp({ clock })`), never from
 * `new Date()`: a server whose clock stands at FIXTURE_NOW (days before the real date)
 * logs interactions then and takes a snooze until an hour after it as in the future.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

describe.each(kinds)("the context's clock on %s", (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 3)
    server = await startTestServer(db, { clock: { now: () => new Date(FIXTURE_NOW) } })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('dates the writes of resolvers by the clock, not by the machine', async () => {
    const created = await server.query('mutation { createContact(input: { name: "Ada" }) { id createdAt } }', {}, alice.token)
    expect(created.errors).toBeUndefined()
    const { id, createdAt } = created.data!.createContact
    expect(createdAt).toBe(FIXTURE_NOW.toISOString())
    const touched = await server.query(`mutation($id: ID!) { logInteraction(contactId: $id, input: { kind: CALL }) { lastContactDate } }`, { id }, alice.token)
    expect(touched.data!.logInteraction.lastContactDate).toBe(FIXTURE_NOW.toISOString())
  })

  it('judges "in the future" by the clock', async () => {
    const contact = (await db.prisma.contact.findFirstOrThrow({ where: { userId: alice.id } })).id
    const suggestion = encodeGlobalID('Suggestion', suggestionId(contact, null))
    const until = new Date(FIXTURE_NOW.getTime() + 3_600_000).toISOString()
    const snoozed = await server.query(`mutation($id: ID!, $until: DateTime!) { snoozeSuggestion(id: $id, until: $until) { status } }`, { id: suggestion, until }, alice.token)
    expect(snoozed.errors).toBeUndefined()
    expect(snoozed.data!.snoozeSuggestion.status).toBe('SNOOZED')
  })
})
