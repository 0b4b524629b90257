/**
 * Partner budgets end to end on a real server (issue 16, part 4), in-process (no Redis): the HTTP
 * answers and their RateLimit fields exactly as draft-ietf-httpapi-ratelimit-headers-11 writes them
 * (parsed by an RFC 9651 reader), 429 with Retry-After, graphql-ws refusals that leave the socket
 * open, and the stream cap shared by SSE and graphql-ws. The servers here budget the user's session
 * token (`isBudgeted: () => true`, the budgets' mechanics alone); a server with the default budgets
 * only partner credentials, so a session gets no RateLimit fields there (API keys on budgeted routes:
 * partner-transfers.test.ts, partner-suggestion-reach.test.ts).
 * The budgets shared by two processes on one Redis: partner-budgets-redis.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { parseList, type ListItem } from '../helpers/structured-fields.ts'
import { openRawSocket, type RawSocket } from '../helpers/raw-ws.ts'
import { sseClient, type SseClient } from '../helpers/clients.ts'

/** `me { id email }`: cost 3 (operationCost). */
const SMALL = '{ me { id email } }'
/** Cost 53: over an hourly budget of 10. */
const COSTLY = '{ me { email } contacts(first: 10) { edges { node { id name nextDueAt } } } }'
const SUBSCRIPTION = 'subscription { suggestions(input: { maxSuggestions: 3, slots: [] }) { __typename } }'

async function post(url: string, token: string, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  })
  return { response, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } }
}

/** The RateLimit items of `response` by policy name: { r, t }. */
function rateLimit(response: Response): Map<string, { r: unknown; t: unknown }> {
  const field = response.headers.get('ratelimit')
  expect(field).not.toBeNull()
  return new Map(parseList(field!).map((item: ListItem) => [item.value as string, { r: item.params.get('r'), t: item.params.get('t') }]))
}

describe('partner budgets over HTTP, graphql-ws and SSE (in-process)', () => {
  let db: TestDatabase
  let user: FixtureUser
  let other: FixtureUser
  let streams: FixtureUser
  let server: TestServer
  let sessions: TestServer
  const sockets: RawSocket[] = []
  const sse: SseClient<false>[] = []

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    ;[user, other, streams] = await Promise.all([
      createUserWithContacts(db.prisma, 'budget@example.com', 20),
      createUserWithContacts(db.prisma, 'other@example.com', 20),
      createUserWithContacts(db.prisma, 'streams@example.com', 20),
    ])
    server = await startTestServer(db, {
      env: { PARTNER_POINTS_PER_HOUR: '10', PARTNER_BURST_POINTS: '100', PARTNER_CONCURRENT_STREAMS: '1' },
      isBudgeted: () => true,
    })
    sessions = await startTestServer(db, { env: { PARTNER_POINTS_PER_HOUR: '10' } })
  }, 60_000)
  afterAll(async () => {
    for (const raw of sockets) raw.socket.terminate()
    for (const client of sse) client.dispose()
    await server?.close()
    await sessions?.close()
    await db?.destroy()
  })

  it('answers each request with RateLimit-Policy and RateLimit, then 429 with Retry-After once the hour is spent', async () => {
    const expectedPolicy = '"hourly";q=10;w=3600, "burst";q=100;w=10, "concurrent-requests";q=10;qu="concurrent-requests", "concurrent-streams";q=1;qu="concurrent-requests"'
    for (const left of [7, 4, 1]) {
      const { response, body } = await post(server.url, user.token, SMALL)
      expect(response.status).toBe(200)
      expect(body.errors).toBeUndefined()
      expect(response.headers.get('ratelimit-policy')).toBe(expectedPolicy)
      const items = rateLimit(response)
      expect([...items.keys()]).toEqual(['hourly', 'burst', 'concurrent-requests'])
      expect(items.get('hourly')!.r).toBe(left)
      expect(items.get('hourly')!.t).toBeGreaterThan(3500)
      expect(items.get('hourly')!.t).toBeLessThanOrEqual(3600)
      expect(items.get('burst')!.r).toBe(100 - (10 - left))
      expect(items.get('burst')!.t).toBeLessThanOrEqual(10)
      expect(items.get('concurrent-requests')).toEqual({ r: 9, t: undefined })
    }

    const { response, body } = await post(server.url, user.token, SMALL)
    expect(response.status).toBe(429)
    const retryAfter = response.headers.get('retry-after')!
    expect(retryAfter).toMatch(/^[1-9]\d*$/)
    expect(response.headers.get('ratelimit-policy')).toBe(expectedPolicy)
    // The refused policy alone, so that Retry-After is not earlier than the end of its effective window (section 6).
    expect(response.headers.get('ratelimit')).toMatch(/^"hourly";r=1;t=\d+$/)
    const t = rateLimit(response).get('hourly')!.t as number
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(t)
    expect(body.data ?? null).toBeNull()
    expect(body.errors).toHaveLength(1)
    expect(body.errors![0]!.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: Number(retryAfter), policy: 'hourly' })

    // Refused before execution (a syntax error), the answer still carries the buckets, unspent.
    const broken = await post(server.url, user.token, '{ me { ')
    expect(broken.response.status).toBe(400)
    expect(rateLimit(broken.response).get('hourly')!.r).toBe(1)
    // Another credential has its own budget.
    expect((await post(server.url, other.token, SMALL)).response.status).toBe(200)
  })

  it('refuses an operation costing more than the whole hour with QUERY_TOO_COMPLEX, spending nothing', async () => {
    const fresh = await createUserWithContacts(db.prisma, 'costly@example.com', 5)
    const { response, body } = await post(server.url, fresh.token, COSTLY)
    expect(response.status).toBe(400)
    expect(body.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'budget', cost: 53 })
    expect(response.headers.get('ratelimit-policy')).toContain('"hourly";q=10;w=3600')
    const again = await post(server.url, fresh.token, SMALL)
    expect(rateLimit(again.response).get('hourly')!.r).toBe(7)
  })

  it('gives a user’s own session no budget and no RateLimit fields where only partners are budgeted', async () => {
    for (let i = 0; i < 5; i++) {
      const { response, body } = await post(sessions.url, user.token, SMALL)
      expect(response.status).toBe(200)
      expect(body.errors).toBeUndefined()
      expect(response.headers.get('ratelimit')).toBeNull()
      expect(response.headers.get('ratelimit-policy')).toBeNull()
    }
  })

  it('over graphql-ws, refuses the operation only: its error has the code and retry time, the socket stays open', async () => {
    const fresh = await createUserWithContacts(db.prisma, 'ws@example.com', 5)
    const raw = await openRawSocket(server.url, fresh.token)
    sockets.push(raw)
    const run = async (id: string) => {
      raw.send({ id, type: 'subscribe', payload: { query: SMALL } })
      return raw.next((message) => message.id === id && (message.type === 'next' || message.type === 'error'))
    }
    const first = await run('1')
    expect(first).toMatchObject({ type: 'next', payload: { data: { me: { email: 'ws@example.com' } } } })
    expect(first!.payload.extensions.rateLimit).toEqual([
      { name: 'hourly', remaining: 7, resetSeconds: expect.any(Number) },
      { name: 'burst', remaining: 97, resetSeconds: expect.any(Number) },
      { name: 'concurrent-requests', remaining: 9 },
    ])
    await run('2')
    await run('3')
    const refused = await run('4')
    expect(refused!.type).toBe('next')
    expect(refused!.payload.errors).toHaveLength(1)
    expect(refused!.payload.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number), policy: 'hourly' })
    expect(refused!.payload.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(0)
    expect(refused!.payload.extensions.rateLimit).toEqual([{ name: 'hourly', remaining: 1, resetSeconds: expect.any(Number) }])
    // The socket is still open and answers the next operation.
    const after = await run('5')
    expect(after!.payload.errors[0].extensions.code).toBe('RATE_LIMITED')
    expect(raw.socket.readyState).toBe(raw.socket.OPEN)
  })

  it('counts streams on SSE and graphql-ws against one cap, and frees the place when a stream ends', async () => {
    // The first stream, over SSE, holds the credential's only place.
    const statuses: number[] = []
    const sseStream = sseClient(server.url, streams.token, { onStatus: (status) => statuses.push(status) })
    sse.push(sseStream)
    const events: unknown[] = []
    const stop = sseStream.subscribe({ query: SUBSCRIPTION }, { next: (event) => void events.push(event), error: () => {}, complete: () => {} })
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(0), { timeout: 15_000 })

    // A second stream, over graphql-ws, is refused; the socket stays open.
    const raw = await openRawSocket(server.url, streams.token)
    sockets.push(raw)
    raw.send({ id: 's2', type: 'subscribe', payload: { query: SUBSCRIPTION } })
    const refused = await raw.next((message) => message.id === 's2' && message.type !== 'complete')
    expect(refused!.type).toBe('next')
    expect(refused!.payload.errors[0].extensions).toEqual({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 1,
      policy: 'concurrent-streams',
    })
    // A second stream over SSE too: 429 with the stream policy's RateLimit item.
    const second = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${streams.token}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    })
    expect(second.status).toBe(429)
    expect(second.headers.get('retry-after')).toBe('1')
    expect(second.headers.get('ratelimit')).toBe('"concurrent-streams";r=0')
    await second.body?.cancel()

    // The first stream ends (its client leaves): the place is free again, on the socket still open.
    stop()
    await vi.waitFor(
      async () => {
        const id = `s${Math.random()}`
        raw.send({ id, type: 'subscribe', payload: { query: SUBSCRIPTION } })
        const answer = await raw.next((message) => message.id === id && message.type !== 'complete')
        raw.send({ id, type: 'complete' })
        expect(answer!.payload.errors).toBeUndefined()
      },
      { timeout: 10_000, interval: 200 },
    )
    expect(raw.socket.readyState).toBe(raw.socket.OPEN)
    expect(statuses[0]).toBe(200)
  })

  it('an SSE stream it admits answers 200 with the RateLimit fields, the stream place counted', async () => {
    const fresh = await createUserWithContacts(db.prisma, 'sse@example.com', 5)
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${fresh.token}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const items = rateLimit(response)
    expect([...items.keys()]).toEqual(['hourly', 'burst', 'concurrent-streams'])
    expect(items.get('hourly')!.r).toBe(8) // the subscription costs 2
    expect(items.get('concurrent-streams')).toEqual({ r: 0, t: undefined })
    await response.body?.cancel()
  })
})
