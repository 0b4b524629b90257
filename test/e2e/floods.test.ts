/**
 * What a hostile review found after the limits were in place: one signed-in
 * graphql-ws socket sending hundreds of heavy queries at once killed a 256 MB
 * process (each within the cost limit; nothing bounded how many ran), 800
 * concurrent HTTP requests of one user held the server for 35 s, and an
 * invalid JSON body was echoed back whole in the error. Each fails on the code
 * before the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { openRawSocket } from '../helpers/raw-ws.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const PAGE = '{ contacts(first: 100) { edges { node { id name email } } } }'
// PostgreSQL when it answers (always in CI): PGlite runs one query at a time, so HTTP requests hardly overlap there.
const kind = (await availableDatabaseKinds()).includes('postgres') ? 'postgres' : 'pglite'

describe('one user flooding the server', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 100)
    server = await startTestServer(db, { env: { NODE_ENV: 'production', MAX_OPERATIONS_PER_USER: '1' } })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('runs at most MAX_OPERATIONS_PER_USER operations of one socket at once; the rest get RATE_LIMITED and the socket stays open', async () => {
    const raw = await openRawSocket(server.url, alice.token)
    try {
      for (let i = 0; i < 30; i++) raw.send({ id: `q${i}`, type: 'subscribe', payload: { query: PAGE } })
      for (let i = 0; i < 30; i++) await raw.next((message) => message.id === `q${i}` && (message.type === 'complete' || message.type === 'error'))
      const answered = raw.messages.filter((message) => message.type === 'next')
      const limited = answered.filter((message) => message.payload.errors?.[0]?.extensions?.code === 'RATE_LIMITED')
      const served = answered.filter((message) => message.payload.data?.contacts)
      expect(served.length + limited.length).toBe(30)
      expect(limited.length).toBeGreaterThan(0)
      expect(served.length).toBeGreaterThanOrEqual(1)
      expect(limited[0]!.payload.errors[0].extensions).toMatchObject({ retryAfterSeconds: 1 })
      expect(limited[0]!.payload.errors[0].extensions).not.toHaveProperty('http')
      // The socket still serves once the burst is over.
      raw.send({ id: 'after', type: 'subscribe', payload: { query: '{ me { email } }' } })
      expect((await raw.next((message) => message.id === 'after' && message.type === 'next'))!.payload.data).toEqual({ me: { email: 'alice@example.com' } })
    } finally {
      raw.socket.close()
    }
  })

  it('answers HTTP requests past the bound with 429, Retry-After and RATE_LIMITED', async () => {
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${alice.token}` },
          body: JSON.stringify({ query: PAGE }),
        }).then(async (response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] } })),
      ),
    )
    const limited = responses.filter((response) => response.status === 429)
    expect(limited.length).toBeGreaterThan(0)
    expect(limited[0]).toMatchObject({ retryAfter: '1', body: { errors: [{ extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 } }] } })
    expect(responses.filter((response) => response.status === 200).length).toBeGreaterThanOrEqual(1)
    // Nothing is left counted: the next request runs.
    const after = await server.query('{ me { email } }', {}, alice.token)
    expect(after.data).toEqual({ me: { email: 'alice@example.com' } })
  })

  it('does not send an invalid JSON body back in its error', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query":"${'x'.repeat(500_000)}` })
    const text = await response.text()
    expect(response.status).toBe(400)
    expect(text.length).toBeLessThan(2000)
    expect(JSON.parse(text)).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] })
  })
})
