/**
 * Two server processes on different ports, one PostgreSQL, one Redis, as they
 * run behind a load balancer: a subscriber on one sees the update of a mutation
 * served by the other; when one is stopped mid-stream (SIGTERM), its clients
 * get the graphql-ws "going away" close (1001) and resume on the other from
 * their cursor with no duplicate and no gap.
 */
import type { Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL } from '../helpers/redis.ts'
import { startServerProcess, TEST_SECRET_KEY, type ServerProcess } from '../helpers/server-process.ts'

const ready = (await availableDatabaseKinds()).includes('postgres') && (await redisAvailable())

const SUBSCRIPTION = /* GraphQL */ `
  subscription($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { cursor suggestions { contact { id } } }
      ... on SuggestionsUpdated { suggestions { contact { id } } }
    }
  }
`
type Event = { __typename: string; cursor?: string; suggestions?: { contact: { id: string } }[] }

describe.skipIf(!ready)('two server processes on PostgreSQL and Redis', () => {
  let db: TestDatabase
  let alice: FixtureUser
  let a: ServerProcess
  let b: ServerProcess
  const clients: Client[] = []

  const connect = (server: ServerProcess) => {
    const client = wsClient(server.url, alice.token)
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 400)
    // One deployment: the processes share SECRET_KEY, so a cursor signed by A resumes on B.
    const env = { DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`, REDIS_URL: TEST_REDIS_URL, SEED_DEMO_DATA: 'false', NODE_ENV: 'production', SECRET_KEY: TEST_SECRET_KEY }
    // A is slowed down (it "throttles" every page) so that it can be stopped mid-stream.
    ;[a, b] = await Promise.all([
      startServerProcess({ ...env, MEMORY_THROTTLE_RATIO: '0.01', MEMORY_OPEN_RATIO: '0.99' }),
      startServerProcess(env),
    ])
  }, 120_000)
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()))
    for (const server of [a, b]) server?.child.kill('SIGKILL')
    await db?.destroy()
  })

  it('a mutation served by one process updates a live subscriber on the other', async () => {
    const events: Event[] = []
    const onB = connect(b)
    onB.subscribe<{ suggestions: Event }>(
      { query: SUBSCRIPTION, variables: { input: { maxSuggestions: 10, slots: [] } } },
      { next: (result) => void events.push(result.data!.suggestions), error: () => {}, complete: () => {} },
    )
    const typenames = () => events.map((e) => e.__typename)
    await vi.waitFor(() => expect(typenames()).toContain('SuggestionsComplete'), { timeout: 20_000 })
    const top = events.find((e) => e.__typename === 'SuggestionBatch')!.suggestions![0]!.contact.id
    const response = await fetch(a.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'mutation($id: ID!) { logInteraction(contactId: $id) { id } }', variables: { id: top } }),
    })
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined()
    await vi.waitFor(() => expect(typenames()).toContain('SuggestionsUpdated'), { timeout: 30_000 }) // a wiring test: the 1 s coalescing bound is live.test.ts's
    const updated = events.find((e) => e.__typename === 'SuggestionsUpdated')!
    expect(updated.suggestions).toHaveLength(10)
    expect(updated.suggestions!.map((s) => s.contact.id)).not.toContain(top)
    // The write also queued a regeneration on BullMQ, which one of the two processes ran.
    await vi.waitFor(async () => expect(await db.prisma.suggestion.count({ where: { userId: alice.id, status: 'PENDING' } })).toBe(50), { timeout: 40_000, interval: 250 })
  })

  it('stopping one mid-stream closes with 1001, and the client resumes on the other with no duplicate and no gap', async () => {
    const input = { maxSuggestions: 60, batchSize: 2, slots: [], live: false }
    const ids = (events: Event[]) => events.filter((e) => e.__typename === 'SuggestionBatch').flatMap((e) => e.suggestions!.map((s) => s.contact.id))

    const whole: Event[] = []
    for await (const result of connect(b).iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input } })) whole.push(result.data!.suggestions)
    expect(ids(whole)).toHaveLength(60)

    let closeCode: number | undefined
    const onA = wsClient(a.url, alice.token, { on: { closed: (event) => void (closeCode = (event as { code: number }).code) } })
    clients.push(onA)
    const before: Event[] = []
    let stopping: Promise<number | null> | undefined
    try {
      for await (const result of onA.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input } })) {
        before.push(result.data!.suggestions)
        if (ids(before).length >= 6 && !stopping) {
          a.child.kill('SIGTERM')
          stopping = a.exited
        }
      }
    } catch {
      // The socket closed under the stream: expected.
    }
    expect(await stopping).toBe(0)
    expect(closeCode).toBe(1001)
    const cursor = before.filter((e) => e.__typename === 'SuggestionBatch').at(-1)!.cursor!
    expect(before.some((e) => e.__typename === 'SuggestionsComplete')).toBe(false)

    const after: Event[] = []
    for await (const result of connect(b).iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input: { ...input, resumeFrom: cursor } } })) {
      after.push(result.data!.suggestions)
    }
    expect([...ids(before), ...ids(after)]).toEqual(ids(whole))
  })
})
