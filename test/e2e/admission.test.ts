/**
 * Admission control through the API: walks queue fairly for a free place, and
 * past the queue bound a new subscription gets RATE_LIMITED with a retry hint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wsClient } from '../helpers/clients.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const SUBSCRIPTION = 'subscription { suggestions(input: { maxSuggestions: 5, slots: [], live: false }) { __typename } }'

describe('admission control', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 20)
    server = await startTestServer(db, { env: { GENERATION_CONCURRENCY: '1', GENERATION_QUEUE_LIMIT: '1' } })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('queues a walk while the place is taken, refuses one past the bound, and serves both once it is free', async () => {
    const client = wsClient(server.url, alice.token)
    const run = async () => {
      const types: string[] = []
      for await (const result of client.iterate<{ suggestions: { __typename: string } }>({ query: SUBSCRIPTION })) {
        if (result.errors) throw result.errors
        types.push(result.data!.suggestions.__typename)
      }
      return types
    }
    try {
      // A walk under way holds the only place.
      const release = await server.app.admission.acquire('someone else')
      const queued = run()
      await expect.poll(() => server.app.admission.stats, { timeout: 30_000 }).toEqual({ running: 1, waiting: 1 }) // expect.poll gives up after 1 s by default
      // The queue is full: a new stream is refused at once with a hint.
      const refused = await run().then(
        () => undefined,
        (errors: { extensions?: Record<string, unknown> }[]) => errors[0]?.extensions,
      )
      expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) })
      release()
      const served = (types: string[]) => types[0] === 'SuggestionBatch' && types.at(-1) === 'SuggestionsComplete'
      expect(served(await queued)).toBe(true)
      expect(served(await run())).toBe(true)
      expect(server.app.admission.stats).toEqual({ running: 0, waiting: 0 })
    } finally {
      await client.dispose()
    }
  })
})
