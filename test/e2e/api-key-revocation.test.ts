/**
 * Revoking an API key on one process reaches every process (issue 16): two server processes on one
 * PostgreSQL and one Redis. The key is revoked through process A; on process B the next request is
 * refused at once (every request reads the database) and its open graphql-ws stream closes with 4403
 * and its SSE stream ends within 5 s. The periodic re-check is set to 10 minutes here, so only the
 * revocation published over Redis can end the streams in time.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { sseClient, wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL } from '../helpers/redis.ts'
import { startServerProcess, TEST_SECRET_KEY, type ServerProcess } from '../helpers/server-process.ts'

const ready = (await availableDatabaseKinds()).includes('postgres') && (await redisAvailable())

const LIVE = 'subscription { suggestions(input: { maxSuggestions: 5, slots: [] }) { __typename } }'

async function post(url: string, token: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  return (await response.json()) as { data?: any; errors?: { extensions?: Record<string, unknown> }[] }
}

describe.skipIf(!ready)('revoking an API key on one of two processes (PostgreSQL, Redis)', () => {
  let db: TestDatabase
  let alice: FixtureUser
  let a: ServerProcess
  let b: ServerProcess

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 30)
    const env = {
      DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`,
      REDIS_URL: TEST_REDIS_URL,
      SEED_DEMO_DATA: 'false',
      NODE_ENV: 'production',
      SECRET_KEY: TEST_SECRET_KEY,
      // Ten minutes: a stream that ends within 5 s was ended by the published revocation, not by this check.
      TOKEN_RECHECK_INTERVAL_MS: String(10 * 60_000),
    }
    ;[a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)])
  }, 120_000)
  afterAll(async () => {
    for (const server of [a, b]) server?.child.kill('SIGKILL')
    await db?.destroy()
  })

  it('refuses the next request on the other process at once, and ends its graphql-ws (4403) and SSE streams within 5 s', async () => {
    const created = await post(a.url, alice.token, 'mutation { createApiKey(input: { name: "two", scopes: ["suggestions:subscribe"] }) { key apiKey { id } } }')
    expect(created.errors).toBeUndefined()
    const { key, apiKey } = created.data.createApiKey as { key: string; apiKey: { id: string } }
    expect((await post(b.url, key, '{ me { id } }')).errors).toBeUndefined()

    // A live stream of each transport on B.
    let wsClosed: { code: number; at: number } | undefined
    const wsEvents: unknown[] = []
    const ws = wsClient(b.url, key, { on: { closed: (event) => void (wsClosed ??= { code: (event as { code: number }).code, at: Date.now() }) } })
    ws.subscribe({ query: LIVE }, { next: (result) => void wsEvents.push(result), error: () => {}, complete: () => {} })
    const sseEvents: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] }[] = []
    let sseEnded: number | undefined
    const sse = sseClient(b.url, key)
    const sseDone = (async () => {
      for await (const result of sse.iterate({ query: LIVE })) sseEvents.push(result as (typeof sseEvents)[number])
    })()
      .catch(() => {})
      .finally(() => (sseEnded = Date.now()))
    try {
      await vi.waitFor(() => {
        expect(JSON.stringify(wsEvents)).toContain('SuggestionsComplete')
        expect(JSON.stringify(sseEvents)).toContain('SuggestionsComplete')
      }, { timeout: 30_000, interval: 50 })

      const revoked = await post(a.url, alice.token, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: apiKey.id })
      expect(revoked.errors).toBeUndefined()
      const at = Date.now()
      const next = await post(b.url, key, '{ me { id } }')
      expect(next.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect(Date.now() - at).toBeLessThan(1000)

      await vi.waitFor(() => {
        expect(wsClosed?.code).toBe(4403)
        expect(sseEnded).toBeDefined()
      }, { timeout: 5000, interval: 25 })
      expect(wsClosed!.at - at).toBeLessThan(5000)
      expect(sseEnded! - at).toBeLessThan(5000)
      expect(sseEvents.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    } finally {
      sse.dispose()
      await sseDone
      await ws.dispose()
    }
  }, 60_000)
})
