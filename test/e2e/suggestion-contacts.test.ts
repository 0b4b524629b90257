/**
 * Issue 14: a suggestion's Contact costs no statement when the walk's own row has every field asked
 * for, and one statement for a whole batch of suggestions otherwise, never one per suggestion. Every
 * statement is counted: Prisma's and the walk's prepared ones (Database's `onQuery` sees both).
 */
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MINIMAL_COLUMNS } from '../../src/contacts/keyset/minimal-rows.ts'
import { wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

type Contact = { id: string; name: string; emails?: string[]; groups?: { id: string }[]; dunbarCircle?: string | null; timezone?: string | null }
type Event = { __typename: string; suggestions?: { id: string; contact: Contact }[]; total?: number }

const subscription = (contactFields: string) => /* GraphQL */ `
  ${contactFields.includes('...Minimal') ? 'fragment Minimal on Contact { id name }' : ''}
  subscription Suggestions($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { suggestions { id contact { ${contactFields} } } }
      ... on SuggestionsComplete { total }
    }
  }
`

describe.each(kinds)('the contacts of suggestions on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  const statements: string[] = []
  /** Statements that read contacts other than the walk's pages (those select the minimal columns). */
  const contactLookups = (from: number) => statements.slice(from).filter((sql) => sql.includes('"Contact"') && !sql.includes(MINIMAL_COLUMNS))
  const walkPages = (from: number) => statements.slice(from).filter((sql) => sql.includes(MINIMAL_COLUMNS))

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => void statements.push(sql) })
    alice = await createUserWithContacts(db.prisma, `alice-${kind}@example.com`, 150)
    server = await startTestServer(db)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function subscribe(contactFields: string): Promise<Event[]> {
    const client = wsClient(server.url, alice.token)
    const events: Event[] = []
    try {
      const input = { maxSuggestions: 30, batchSize: 100, slots: [], live: false }
      for await (const result of client.iterate<{ suggestions: Event }>({ query: subscription(contactFields), variables: { input } })) {
        expect(result.errors).toBeUndefined()
        events.push(result.data!.suggestions)
      }
    } finally {
      await client.dispose()
    }
    expect(events.at(-1)).toMatchObject({ __typename: 'SuggestionsComplete', total: 30 })
    return events.filter((event) => event.__typename === 'SuggestionBatch')
  }

  /** The stored contacts, by id, as the API shows the fields asked for. */
  async function stored(ids: string[]) {
    const rows = await db.prisma.contact.findMany({ where: { id: { in: ids } } })
    return new Map(rows.map((row) => [row.id, row]))
  }

  it('answers contact { id name } (through a fragment too) from the walk rows, with no statement of its own', async () => {
    for (const fields of ['id name', '...Minimal', '__typename ... on Contact { id name dunbarCircle timezone }']) {
      const from = statements.length
      const batches = await subscribe(fields)
      expect(walkPages(from).length).toBeGreaterThan(0) // the walk's own statements are counted
      expect(contactLookups(from), fields).toEqual([])
      const suggestions = batches.flatMap((batch) => batch.suggestions!)
      expect(suggestions).toHaveLength(30)
      const byId = await stored(suggestions.map((s) => decodeGlobalID(s.contact.id).id))
      for (const { contact } of suggestions) {
        const row = byId.get(decodeGlobalID(contact.id).id)!
        expect(contact.name).toBe(row.name)
        if ('dunbarCircle' in contact) expect(contact).toMatchObject({ dunbarCircle: row.dunbarCircle, timezone: row.timezone })
      }
    }
  })

  it('reads fields the row lacks (emails, groups) with one statement per batch of suggestions', async () => {
    const from = statements.length
    const batches = await subscribe('id name emails groups { id }')
    const suggestions = batches.flatMap((batch) => batch.suggestions!)
    expect(suggestions).toHaveLength(30)
    expect(contactLookups(from)).toHaveLength(batches.length)
    expect(batches.length).toBeLessThan(suggestions.length)
    const byId = await stored(suggestions.map((s) => decodeGlobalID(s.contact.id).id))
    for (const { contact } of suggestions) {
      const row = byId.get(decodeGlobalID(contact.id).id)!
      expect(contact.emails).toEqual(row.emails.length > 0 ? row.emails : row.email ? [row.email] : [])
      expect(contact.groups!.map((group) => decodeGlobalID(group.id).id).sort()).toEqual([...row.groupIds].sort())
    }
  })

  it('reads the contacts of stored suggestions with one statement for the page', async () => {
    const [batch] = await subscribe('id')
    for (const suggestion of batch!.suggestions!.slice(0, 5)) {
      const result = await server.query(`mutation($id: ID!) { dismissSuggestion(id: $id) { id } }`, { id: suggestion.id }, alice.token)
      expect(result.errors).toBeUndefined()
    }
    const from = statements.length
    const page = await server.query<{ suggestionsByStatus: { edges: { node: { contact: Contact } }[] } }>(
      `{ suggestionsByStatus(statuses: [DISMISSED], first: 10) { edges { node { contact { id name } } } } }`,
      {},
      alice.token,
    )
    expect(page.errors).toBeUndefined()
    const contacts = page.data!.suggestionsByStatus.edges.map((edge) => edge.node.contact)
    expect(contacts).toHaveLength(5)
    expect(contacts.map((c) => c.id).sort()).toEqual(batch!.suggestions!.slice(0, 5).map((s) => s.contact.id).sort())
    expect(contactLookups(from)).toHaveLength(1)
    expect(encodeGlobalID('Contact', decodeGlobalID(contacts[0]!.id).id)).toBe(contacts[0]!.id)
  })
})
