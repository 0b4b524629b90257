/**
 * Single flight through the API: ten tabs of one user opening the same subscription at once run one
 * engine walk (counted in /metrics), each getting all of it, and another user's walk queues behind
 * that one walk, not ten; a change that wakes ten live tabs re-walks once for all of them.
 *
 * The admission places are held by the test while the tabs subscribe, so their walk waits until all
 * ten are in (on a quick machine a walk could end before the tenth tab arrives, and the tenth would
 * rightly start a walk of its own).
 */
import type { Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { wsClient } from '../helpers/clients.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const SUBSCRIPTION = /* GraphQL */ `
  subscription($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { suggestions { id } }
      ... on SuggestionsUpdated { suggestions { id } }
    }
  }
`
type Event = { __typename: string; suggestions?: { id: string }[] }
const TABS = 10

describe('walk sharing through the API', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  const clients: Client[] = []

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 120)
    bob = await createUserWithContacts(db.prisma, 'bob@example.com', 30)
    server = await startTestServer(db, { env: { GENERATION_CONCURRENCY: '2', SUBSCRIPTIONS_PER_USER: String(TABS) } })
  })
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()))
    await server?.close()
    await db?.destroy()
  })

  /** A Prometheus value of the server's `/metrics`. */
  const metric = async (name: string) => {
    const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text()
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
  }

  /** A tab: its own socket, one subscription, every event it got. */
  function tab(token: string, input: Record<string, unknown>) {
    const client = wsClient(server.url, token)
    clients.push(client)
    const events: Event[] = []
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input } }, { next: (result) => void events.push(result.data!.suggestions), error: reject, complete: resolve })
    })
    return { events, done, close: () => client.dispose() }
  }

  const kinds = (events: Event[]) => events.map((event) => event.__typename)
  const ids = (events: Event[]) => events.filter((e) => e.__typename === 'SuggestionBatch').flatMap((e) => e.suggestions!.map((s) => s.id))

  it('runs one walk for ten tabs of a user opened at once, and queues another user behind that one walk, not ten', async () => {
    const generations = await metric('suggestion_generation_duration_seconds_count')
    const before = server.app.walks.stats
    const releases = await Promise.all([server.app.admission.acquire('someone else'), server.app.admission.acquire('someone else')])
    const tabs = Array.from({ length: TABS }, () => tab(alice.token, { maxSuggestions: 30, batchSize: 5, slots: [], live: false }))
    await vi.waitFor(() => expect(server.app.walks.stats.joins - before.joins).toBe(TABS - 1), { timeout: 30_000 })
    // Bob arrives: his walk waits behind alice's one walk (unshared, her ten tabs would be ten walks ahead of him).
    const bobTab = tab(bob.token, { maxSuggestions: 5, slots: [], live: false })
    await vi.waitFor(() => expect(server.app.admission.stats).toEqual({ running: 2, waiting: 2 }), { timeout: 30_000 })
    for (const release of releases) release()
    await Promise.all([...tabs, bobTab].map((t) => t.done))
    expect(kinds(bobTab.events).at(-1)).toBe('SuggestionsComplete')
    for (const t of tabs) {
      expect(kinds(t.events).at(-1)).toBe('SuggestionsComplete')
      expect(ids(t.events)).toEqual(ids(tabs[0]!.events))
    }
    expect(ids(tabs[0]!.events)).toHaveLength(30)
    expect(server.app.walks.stats.walks - before.walks).toBe(2) // alice's one, bob's one
    expect((await metric('suggestion_generation_duration_seconds_count')) - generations).toBe(2)
    await Promise.all([...tabs, bobTab].map((t) => t.close()))
  })

  it('re-walks once for ten live tabs that the same change wakes, and each gets the update', async () => {
    const tabs = Array.from({ length: TABS }, () => tab(alice.token, { maxSuggestions: 10, slots: [] }))
    await Promise.all(tabs.map((t) => vi.waitFor(() => expect(kinds(t.events)).toContain('SuggestionsComplete'), { timeout: 30_000 })))
    const top = ids(tabs[0]!.events)[0]!
    const before = server.app.walks.stats
    // The places are taken while the change is announced: the re-walk waits until every tab has woken and joined it.
    const releases = await Promise.all([server.app.admission.acquire('someone else'), server.app.admission.acquire('someone else')])
    const response = await server.query('mutation($id: ID!) { dismissSuggestion(id: $id) { id } }', { id: top }, alice.token)
    expect(response.errors).toBeUndefined()
    await vi.waitFor(() => expect(server.app.walks.stats.joins - before.joins).toBe(TABS - 1), { timeout: 30_000 })
    expect(server.app.walks.stats.walks - before.walks).toBe(1)
    for (const release of releases) release()
    for (const t of tabs) {
      await vi.waitFor(() => expect(kinds(t.events)).toContain('SuggestionsUpdated'), { timeout: 30_000 })
      const update = t.events.find((e) => e.__typename === 'SuggestionsUpdated')!
      expect(update.suggestions!.map((s) => s.id)).not.toContain(top)
      expect(update.suggestions).toHaveLength(10)
    }
    expect(server.app.walks.stats.walks - before.walks).toBe(1)
    await Promise.all(tabs.map((t) => t.close()))
  })
})
