/**
 * Two faults a hostile review found in the partner API (issue 16), end to end with API keys on a real
 * server (PGlite, in-process budgets at their defaults):
 *
 * - a suggestion id names a contact: with suggestions:read alone, `node` on a computed id
 *   (`sg_<contact>_none`, no status kept) read any contact. Now NOT_FOUND, like an unknown id; a kept
 *   (snoozed) suggestion is found with its contact; suggestions:write acts on computed ids of contacts that
 *   can be suggested (not on archived ones); the user's session is unchanged;
 * - the `suggestions` subscription with maxSuggestions 500 cost 53 points: it now spends maxSuggestions
 *   times its suggestion selection (2,502 here), the whole burst bucket, and a second one at once is refused.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }'
const NODE = 'query($id: ID!) { node(id: $id) { id ... on Suggestion { status contact { id name email phone customNotes } } } }'
const SNOOZE = 'mutation($id: ID!, $until: DateTime!) { snoozeSuggestion(id: $id, until: $until) { id status contact { id name } } }'
const DISMISS = 'mutation($id: ID!) { dismissSuggestion(id: $id) { id status contact { id name } } }'
const RESTORE = 'mutation($id: ID!) { restoreSuggestion(id: $id) { id status contact { id name } } }'
/** 1 + 1 + 500 x (contact + 4 fields) = 2,502 points (test/unit/query-cost.test.ts). */
const STREAM = 'subscription { suggestions(input: { maxSuggestions: 500, slots: [], live: false }) { ... on SuggestionBatch { suggestions { contact { name email phone customNotes } } } } }'

describe('suggestions by id and the stream cost, with partner keys', () => {
  let db: TestDatabase
  let server: TestServer
  let user: FixtureUser
  let active: string[]
  let archived: string
  let users = 0

  const keyFor = async (owner: FixtureUser, scopes: string[]) => {
    const answer = await server.query<{ createApiKey: { key: string } }>(CREATE, { input: { name: `h16g${++users}`, scopes } }, owner.token)
    expect(answer.errors).toBeUndefined()
    return answer.data!.createApiKey.key
  }
  const globalId = (contactId: string) => encodeGlobalID('Suggestion', suggestionId(contactId, null))

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    server = await startTestServer(db)
    user = await createUserWithContacts(db.prisma, 'reach@example.com', 14)
    const contacts = await db.prisma.contact.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } })
    active = contacts.filter((contact) => !contact.archived).map((contact) => contact.id)
    archived = contacts.find((contact) => contact.archived)!.id
    expect(active.length).toBeGreaterThanOrEqual(4)
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('suggestions:read: a computed id is NOT_FOUND like an unknown one, a kept (snoozed) one is found with its contact', async () => {
    const key = await keyFor(user, ['suggestions:read'])
    const [computed, snoozed] = [active[0]!, active[1]!]
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString()
    expect((await server.query(SNOOZE, { id: globalId(snoozed), until }, user.token)).errors).toBeUndefined()

    const unknown = await server.query(NODE, { id: globalId('00000000-0000-4000-8000-000000000000') }, key)
    const refused = await server.query(NODE, { id: globalId(computed) }, key)
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect(refused.data).toEqual(unknown.data)
    expect(refused.errors?.map((error) => [error.message, error.extensions])).toEqual(unknown.errors?.map((error) => [error.message, error.extensions]))
    expect(JSON.stringify(refused)).not.toContain(computed)

    const found = await server.query<{ node: { status: string; contact: { id: string; name: string } } }>(NODE, { id: globalId(snoozed) }, key)
    expect(found.errors).toBeUndefined()
    expect(found.data!.node).toMatchObject({ status: 'SNOOZED', contact: { id: encodeGlobalID('Contact', snoozed) } })
    expect(found.data!.node.contact.name).toBeTruthy()

    // contacts:read, and the user's own session, still find any contact's suggestion, ranked now.
    for (const token of [await keyFor(user, ['suggestions:read', 'contacts:read']), user.token]) {
      const any = await server.query<{ node: { status: string; contact: { id: string } } }>(NODE, { id: globalId(computed) }, token)
      expect(any.errors).toBeUndefined()
      expect(any.data!.node).toMatchObject({ status: 'PENDING', contact: { id: encodeGlobalID('Contact', computed) } })
    }
    const archivedBySession = await server.query(NODE, { id: globalId(archived) }, user.token)
    expect(archivedBySession.errors).toBeUndefined()
  })

  it('suggestions:write: acts on computed ids of suggestable contacts, answering with the contact; an archived contact is NOT_FOUND', async () => {
    const key = await keyFor(user, ['suggestions:write'])
    const target = active[2]!
    const dismissed = await server.query<{ dismissSuggestion: { status: string; contact: { id: string } } }>(DISMISS, { id: globalId(target) }, key)
    expect(dismissed.errors).toBeUndefined()
    expect(dismissed.data!.dismissSuggestion).toMatchObject({ status: 'DISMISSED', contact: { id: encodeGlobalID('Contact', target) } })
    const restored = await server.query<{ restoreSuggestion: { status: string } }>(RESTORE, { id: globalId(target) }, key)
    expect(restored.data?.restoreSuggestion.status).toBe('PENDING')

    for (const document of [DISMISS, RESTORE]) {
      const refused = await server.query(document, { id: globalId(archived) }, key)
      expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      expect(JSON.stringify(refused)).not.toContain(encodeGlobalID('Contact', archived))
    }
    expect(await db.prisma.suggestion.count({ where: { contactId: archived } })).toBe(0)
    // The session acts on an archived contact's suggestion as before.
    const bySession = await server.query(DISMISS, { id: globalId(archived) }, user.token)
    expect(bySession.errors).toBeUndefined()
    // Kept now: the key may act on it (and undo what the session did).
    const again = await server.query(RESTORE, { id: globalId(archived) }, key)
    expect(again.errors).toBeUndefined()
  })

  it('a suggestions stream of maxSuggestions 500 spends 2,502 points and the whole burst bucket; a second at once is refused', async () => {
    const owner = await createUserWithContacts(db.prisma, 'stream-cost@example.com', 30)
    const key = await keyFor(owner, ['suggestions:subscribe'])
    const open = () =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: STREAM }),
      })
    const first = await open()
    expect(first.status).toBe(200)
    const rateLimit = first.headers.get('ratelimit')!
    expect(rateLimit).toMatch(/"hourly";r=7498;t=\d+/)
    expect(rateLimit).toMatch(/"burst";r=0;t=\d+/)
    await first.body?.cancel()

    const second = await open()
    expect(second.status).toBe(429)
    expect(second.headers.get('ratelimit')).toMatch(/^"burst";r=0;t=\d+$/)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0)
    await second.body?.cancel()
  })
})
