/**
 * Two server processes on one PostgreSQL and one Redis, each caching what its engine reads of a user
 * (time zone, free time, statuses): a stale cache is never served after a write on either process.
 * A write is seen at once by a subscription on the process that served it (its announcer drops the
 * caches synchronously), and on the other once the change notice reached it (seen as its live
 * subscriber's update: the notice that wakes the stream dropped the caches first).
 *
 * Each write would be missed by a cache that kept its entry: the caches are warm before every write
 * (a walk on each process), and every check tells a stale answer from a fresh one.
 */
import type { Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL } from '../helpers/redis.ts'
import { startServerProcess, TEST_SECRET_KEY, type ServerProcess } from '../helpers/server-process.ts'

const ready = (await availableDatabaseKinds()).includes('postgres') && (await redisAvailable())

/** Default slots (the user's free time), so the free-time and time-zone caches are read. */
const INPUT = { maxSuggestions: 10 }
const SUBSCRIPTION = /* GraphQL */ `
  subscription($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { suggestions { id contact { id } slot { start } } }
      ... on SuggestionsUpdated { suggestions { id contact { id } slot { start } } }
    }
  }
`
type Listed = { id: string; contact: { id: string }; slot: { start: string } | null }
type Event = { __typename: string; suggestions?: Listed[] }

/** What a list shows of the three caches: the contacts (statuses), and the UTC times its slots start at (zone, free time). */
const view = (list: Listed[]) => ({
  contacts: list.map((s) => s.contact.id),
  slotTimes: [...new Set(list.flatMap((s) => (s.slot ? [s.slot.start.slice(11, 16)] : [])))].sort(),
})

describe.skipIf(!ready)('caches of two server processes on PostgreSQL and Redis', () => {
  let db: TestDatabase
  let alice: FixtureUser
  let a: ServerProcess
  let b: ServerProcess
  const clients: Client[] = []

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 60)
    const env = { DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`, REDIS_URL: TEST_REDIS_URL, SEED_DEMO_DATA: 'false', NODE_ENV: 'production', SECRET_KEY: TEST_SECRET_KEY }
    ;[a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)])
  }, 120_000)
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()))
    for (const server of [a, b]) server?.child.kill('SIGKILL')
    await db?.destroy()
  })

  const connect = (server: ServerProcess) => {
    const client = wsClient(server.url, alice.token)
    clients.push(client)
    return client
  }

  /** A walk on `server` (not live): the suggestions it lists. */
  async function walk(server: ServerProcess): Promise<Listed[]> {
    const client = connect(server)
    const listed: Listed[] = []
    for await (const result of client.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input: { ...INPUT, live: false } } })) {
      expect(result.errors).toBeUndefined()
      listed.push(...(result.data!.suggestions.suggestions ?? []))
    }
    return listed
  }

  /** A live subscriber on `server`: its latest list (first walk, then each update). */
  async function live(server: ServerProcess) {
    const lists: Listed[][] = []
    const first: Listed[] = []
    connect(server).subscribe<{ suggestions: Event }>(
      { query: SUBSCRIPTION, variables: { input: INPUT } },
      {
        next: (result) => {
          const event = result.data!.suggestions
          if (event.__typename === 'SuggestionBatch') first.push(...event.suggestions!)
          else if (event.__typename === 'SuggestionsComplete') lists.push([...first])
          else if (event.__typename === 'SuggestionsUpdated') lists.push(event.suggestions!)
        },
        error: () => {},
        complete: () => {},
      },
    )
    await vi.waitFor(() => expect(lists).toHaveLength(1), { timeout: 30_000 })
    return { latest: () => view(lists.at(-1)!) }
  }

  /** Sends `mutation` to `server`; every field must succeed. */
  async function write(server: ServerProcess, mutation: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: mutation, variables }),
    })
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined()
  }

  const availability = (timezone: string) =>
    `setAvailability(timezone: "${timezone}", windows: [${[1, 2, 3, 4, 5, 6, 7].map((day) => `{ weekday: ${day}, startMinute: 540, endMinute: 600 }`).join(', ')}]) { weekday }`

  it('never serves a stale time zone, free time or status after a write on either process', async () => {
    // Every day 09:00-10:00 UTC: slots start at 09:00 and 09:30 UTC.
    await write(a, `mutation { ${availability('UTC')} }`)
    const warm = await walk(a)
    expect(view(await walk(b))).toEqual(view(warm))
    expect(view(warm).slotTimes).toEqual(['09:00', '09:30'])
    const top = warm[0]!
    const onA = await live(a)
    const onB = await live(b)

    // A write on A: the top suggestion dismissed, the zone moved to Kolkata (+05:30: 03:30 and 04:00 UTC).
    await write(a, `mutation($id: ID!) { dismissSuggestion(id: $id) { id } ${availability('Asia/Kolkata')} }`, { id: top.id })
    const freshOnA = view(await walk(a)) // at once, on the process that served the write
    expect(freshOnA.contacts).not.toContain(top.contact.id)
    expect(freshOnA.slotTimes).toEqual(['03:30', '04:00'])
    // On B once its live subscriber saw the change, then a new walk there.
    await vi.waitFor(() => expect(onB.latest()).toEqual(freshOnA), { timeout: 30_000 })
    expect(view(await walk(b))).toEqual(freshOnA)

    // A write on B: the dismissal undone, and the whole horizon busy (no free slot at all).
    const start = new Date(Date.now() - 3_600_000).toISOString()
    const end = new Date(Date.now() + 9 * 86_400_000).toISOString()
    await write(b, `mutation($id: ID!) { restoreSuggestion(id: $id) { id } addCalendarEvent(input: { startsAt: "${start}", endsAt: "${end}" }) { id } }`, { id: top.id })
    const freshOnB = view(await walk(b))
    expect(freshOnB.contacts).toContain(top.contact.id)
    expect(freshOnB.slotTimes).toEqual([])
    await vi.waitFor(() => expect(onA.latest()).toEqual(freshOnB), { timeout: 30_000 })
    expect(view(await walk(a))).toEqual(freshOnB)
  })
})
