/**
 * Values a client sends are checked before they reach the database (issue 10,
 * kinds 8 and 9): NUL bytes, dates PostgreSQL cannot store, tampered or
 * foreign cursors are BAD_USER_INPUT, never INTERNAL_SERVER_ERROR; cursors are
 * bound to their user and query; search is a literal substring match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { sseResults } from '../helpers/clients.ts'

const kinds = await availableDatabaseKinds()

/** A cursor as the code before signing wrote it: base64url of a JSON array anyone could edit. */
const forged = (fields: unknown[]) => Buffer.from(JSON.stringify(fields)).toString('base64url')

const CONTACTS = 'query($first: Int, $after: String, $filter: ContactFilter, $orderBy: ContactOrder) { contacts(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { edges { cursor node { name } } pageInfo { endCursor } } }'
const SUBSCRIPTION = 'subscription($input: SuggestionsInput) { suggestions(input: $input) { __typename ... on SuggestionBatch { cursor suggestions { contact { id } } } } }'

type Payload = GraphQLResponse<{ suggestions: { __typename: string; cursor?: string; suggestions?: { contact: { id: string } }[] } }>

/** Every payload of a `suggestions` subscription over SSE (live: false, so the stream ends). */
async function ssePayloads(server: TestServer, token: string, input: Record<string, unknown>): Promise<Payload[]> {
  return (await sseResults(server.url, { query: SUBSCRIPTION, variables: { input: { live: false, ...input } } }, token)) as Payload[]
}

const firstError = (payloads: { errors?: GraphQLResponse['errors'] }[]) => payloads.find((p) => p.errors)?.errors?.[0]

describe('untrusted values', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  let contactId: string

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 40)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 40)
    server = await startTestServer(db)
    const [contact] = await db.prisma.contact.findMany({ where: { userId: alice.id }, take: 1 })
    contactId = contact!.id
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  const expectRefused = (result: { errors?: GraphQLResponse['errors'] }, field?: string) => {
    const error = result.errors?.[0]
    expect(error?.extensions?.code, JSON.stringify(result)).toBe('BAD_USER_INPUT')
    if (field) expect(error?.extensions?.field).toBe(field)
  }

  it.each([
    ['createContact name', 'mutation($v: String!) { createContact(input: { name: $v }) { id } }', 'input.name'],
    ['createContact customNotes', 'mutation($v: String) { createContact(input: { name: "A", customNotes: $v }) { id } }', 'input.customNotes'],
    ['createContact email', 'mutation($v: String) { createContact(input: { name: "A", email: $v }) { id } }', 'input.email'],
    ['createContact tags', 'mutation($v: String!) { createContact(input: { name: "A", tags: [$v] }) { id } }', 'input.tags.0'],
    ['createGroup name', 'mutation($v: String!) { createGroup(name: $v) { id } }', 'name'],
    ['addCalendarEvent title', 'mutation($v: String) { addCalendarEvent(input: { title: $v, startsAt: "2026-12-01T09:00:00Z", endsAt: "2026-12-01T10:00:00Z" }) { id } }', 'input.title'],
    ['contacts filter search', 'query($v: String) { contacts(filter: { search: $v }) { edges { cursor } } }', 'filter.search'],
    ['contacts filter tag', 'query($v: String) { contacts(filter: { tag: $v }) { edges { cursor } } }', 'filter.tag'],
  ])('refuses a NUL byte in %s with BAD_USER_INPUT', async (_name, doc, field) => {
    expectRefused(await server.query(doc, { v: 'Ann\u0000Lee' }, alice.token), field)
  })

  it('refuses a NUL byte in logInteraction note and updateContact name', async () => {
    const id = encodeGlobalID('Contact', contactId)
    expectRefused(await server.query('mutation($id: ID!, $v: String) { logInteraction(contactId: $id, input: { note: $v }) { id } }', { id, v: '\u0000' }, alice.token), 'input.note')
    expectRefused(await server.query('mutation($id: ID!, $v: String) { updateContact(id: $id, input: { name: $v }) { id } }', { id, v: 'B\u0000' }, alice.token), 'input.name')
  })

  it.each(['0000-01-01T00:00:00Z', '0999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z'])('refuses the date %s wherever a DateTime goes in', async (date) => {
    const id = encodeGlobalID('Contact', contactId)
    const sid = encodeGlobalID('Suggestion', suggestionId(contactId, null))
    expectRefused(await server.query('mutation($sid: ID!, $v: DateTime!) { snoozeSuggestion(id: $sid, until: $v) { id } }', { sid, v: date }, alice.token))
    expectRefused(await server.query('mutation($v: DateTime!) { addCalendarEvent(input: { startsAt: $v, endsAt: $v }) { id } }', { v: date }, alice.token))
    expectRefused(await server.query('mutation($v: DateTime) { createContact(input: { name: "A", lastContactDate: $v }) { id } }', { v: date }, alice.token))
    expectRefused(await server.query('mutation($id: ID!, $v: DateTime) { logInteraction(contactId: $id, input: { occurredAt: $v }) { id } }', { id, v: date }, alice.token))
    expect(firstError(await ssePayloads(server, alice.token, { slots: [{ start: date, end: '2026-12-01T10:00:00Z' }] }))?.extensions?.code).toBe('BAD_USER_INPUT')
  })

  it('refuses a suggestion id whose slot lies outside the date range (NOT_FOUND: it identifies nothing)', async () => {
    for (const slot of ['999999999999998_999999999999999', '253402300800000_253402300800001']) {
      // Hand-built, not suggestionId(): these slots lie outside the date range on purpose.
      const id = encodeGlobalID('Suggestion', `sg_${contactId}_${slot}`)
      const result = await server.query('mutation($id: ID!) { acceptSuggestion(id: $id) { id } }', { id }, alice.token)
      expect(result.errors?.[0]?.extensions?.code, slot).toBe('NOT_FOUND')
      expect((await server.query('query($id: ID!) { node(id: $id) { id } }', { id }, alice.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    }
  })

  it('accepts the edges of the date range', async () => {
    const result = await server.query('mutation($a: DateTime!, $b: DateTime!) { addCalendarEvent(input: { startsAt: $a, endsAt: $b }) { id startsAt } }', { a: '9999-12-31T00:00:00Z', b: '9999-12-31T23:59:59.999Z' }, alice.token)
    expect(result.errors).toBeUndefined()
  })

  describe('contact cursors (after)', () => {
    const firstPage = async (token: string, variables: Record<string, unknown> = {}) => {
      const result = await server.query(CONTACTS, { first: 3, ...variables }, token)
      expect(result.errors).toBeUndefined()
      return result.data!.contacts.pageInfo.endCursor as string
    }

    it('refuses forged cursors whose key the database cannot take', async () => {
      const uuid = '00000000-0000-4000-8000-000000000000'
      expectRefused(await server.query(CONTACTS, { after: forged(['name', 'asc', 'Ann\u0000', uuid, 1]) }, alice.token), 'after')
      expectRefused(await server.query(CONTACTS, { after: forged(['nextDueAt', 'asc', '0000-01-01T00:00:00.000Z', uuid, 1]), orderBy: { field: 'NEXT_DUE_AT' } }, alice.token), 'after')
      expectRefused(await server.query(CONTACTS, { after: forged(['lastContactDate', 'desc', '+275760-09-13T00:00:00.000Z', uuid, 1]), orderBy: { field: 'LAST_CONTACT_DATE', direction: 'DESC' } }, alice.token), 'after')
    })

    it('refuses a real cursor with any byte changed', async () => {
      const cursor = await firstPage(alice.token)
      for (const index of [0, Math.floor(cursor.length / 2), cursor.length - 1]) {
        const flipped = cursor.slice(0, index) + (cursor[index] === 'A' ? 'B' : 'A') + cursor.slice(index + 1)
        expectRefused(await server.query(CONTACTS, { first: 3, after: flipped }, alice.token), 'after')
      }
    })

    it("refuses another user's cursor, and a cursor of another filter or order", async () => {
      const cursor = await firstPage(alice.token)
      expectRefused(await server.query(CONTACTS, { first: 3, after: cursor }, bob.token), 'after')
      expectRefused(await server.query(CONTACTS, { first: 3, after: cursor, filter: { tag: 'friend' } }, alice.token), 'after')
      expectRefused(await server.query(CONTACTS, { first: 3, after: cursor, orderBy: { field: 'NAME', direction: 'DESC' } }, alice.token), 'after')
      const filtered = await firstPage(alice.token, { filter: { search: 'a' } })
      expectRefused(await server.query(CONTACTS, { first: 3, after: filtered, filter: { search: 'ad' } }, alice.token), 'after')
      // The same query goes on.
      expect((await server.query(CONTACTS, { first: 3, after: cursor }, alice.token)).errors).toBeUndefined()
      expect((await server.query(CONTACTS, { first: 3, after: filtered, filter: { search: 'a' } }, alice.token)).errors).toBeUndefined()
    })
  })

  describe('resume cursors (resumeFrom)', () => {
    const input = { maxSuggestions: 10, batchSize: 2, slots: [] }
    let cursor: string

    beforeAll(async () => {
      const payloads = await ssePayloads(server, alice.token, input)
      cursor = payloads.find((p) => p.data?.suggestions.__typename === 'SuggestionBatch')!.data!.suggestions.cursor!
    })

    it('refuses a forged clock (1e300 and 1970) with BAD_USER_INPUT', async () => {
      for (const now of [1e300, 0, -8.64e15 - 1]) {
        const error = firstError(await ssePayloads(server, alice.token, { ...input, resumeFrom: forged(['s1', now, 1, 5, contactId]) }))
        expect(error?.extensions, String(now)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.resumeFrom' })
      }
    })

    it("refuses another user's cursor", async () => {
      const error = firstError(await ssePayloads(server, bob.token, { ...input, resumeFrom: cursor }))
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.resumeFrom' })
    })

    it('refuses a cursor of a different input (maxSuggestions, slots)', async () => {
      for (const other of [{ maxSuggestions: 11 }, { slots: [{ start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }] }, { slots: undefined }]) {
        const error = firstError(await ssePayloads(server, alice.token, { ...input, ...other, resumeFrom: cursor }))
        expect(error?.extensions, JSON.stringify(other)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.resumeFrom' })
      }
    })

    it('refuses a real cursor with any byte changed, and resumes from the real one', async () => {
      for (const index of [0, Math.floor(cursor.length / 2), cursor.length - 1]) {
        const flipped = cursor.slice(0, index) + (cursor[index] === 'A' ? 'B' : 'A') + cursor.slice(index + 1)
        expect(firstError(await ssePayloads(server, alice.token, { ...input, resumeFrom: flipped }))?.extensions?.code).toBe('BAD_USER_INPUT')
      }
      const resumed = await ssePayloads(server, alice.token, { ...input, batchSize: 5, resumeFrom: cursor })
      expect(firstError(resumed)).toBeUndefined()
      expect(resumed.at(-1)!.data!.suggestions.__typename).toBe('SuggestionsComplete')
    })
  })
})

describe.each(kinds)('search is a literal, case-insensitive substring on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let carol: FixtureUser

  const NAMES = ['Ann_Lee', 'AnnxLee', 'ANN_LEE junior', '50% off', '500 off', 'back\\slash', 'backxslash', 'plain']

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    carol = await createUserWithContacts(db.prisma, 'carol@example.com', 0)
    await db.prisma.contact.createMany({ data: NAMES.map((name) => ({ userId: carol.id, name, nextDueAt: new Date('2026-12-01T00:00:00Z') })) })
    server = await startTestServer(db)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it.each([
    ['Ann_Lee', ['ANN_LEE junior', 'Ann_Lee']],
    ['ann_lee', ['ANN_LEE junior', 'Ann_Lee']],
    ['_', ['ANN_LEE junior', 'Ann_Lee']],
    ['0%', ['50% off']],
    ['%', ['50% off']],
    ['\\', ['back\\slash']],
    ['k\\s', ['back\\slash']],
    ['\\%', []],
    ['x', ['AnnxLee', 'backxslash']],
  ])('search %j matches exactly %j', async (search, expected) => {
    const result = await server.query(CONTACTS, { first: 100, filter: { search } }, carol.token)
    expect(result.errors).toBeUndefined()
    expect(result.data!.contacts.edges.map((edge: { node: { name: string } }) => edge.node.name).sort()).toEqual([...expected].sort())
  })
})
