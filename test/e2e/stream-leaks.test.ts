/**
 * Resources a subscription takes (the user's stream place, the change
 * listener) belong to the transport's stream: a client that leaves at any
 * moment, even a few milliseconds after sending, leaves nothing behind, over
 * SSE and graphql-ws, live or not, with or without RATE_LIMITED on the way.
 */
import { request as httpRequest } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { wsClient } from '../helpers/clients.ts'
import { openRawSocket } from '../helpers/raw-ws.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const SUBSCRIPTION = 'subscription($input: SuggestionsInput) { suggestions(input: $input) { __typename } }'
const PER_USER = 5

interface Attempt {
  /**
   * `sse`: a raw socket destroyed after sending; `fetch`: the same request through
   * Yoga's fetch handler with an AbortSignal, which hits the window a socket hits
   * only on a busy machine (aborted while the request is handled: the response
   * is dropped unread, and before the fix its stream kept its place for good).
   */
  transport: 'sse' | 'fetch' | 'ws'
  /** Milliseconds between sending the request and leaving. */
  delayMs: number
  live: boolean
  /** How a graphql-ws client leaves: closing the socket, or completing the operation on an open one. */
  leave: 'close' | 'complete'
}

/** An SSE request over a raw socket, destroyed `delayMs` after it is sent. */
function abortedSse(server: TestServer, token: string, attempt: Attempt): Promise<void> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ query: SUBSCRIPTION, variables: { input: { maxSuggestions: 5, slots: [], live: attempt.live } } })
    const req = httpRequest(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    })
    req.on('error', () => {})
    req.on('close', () => resolve())
    req.end(body, () => setTimeout(() => req.destroy(), attempt.delayMs))
  })
}

/** The SSE request through Yoga's fetch handler, its signal aborted `delayMs` after the call; a response that arrived first is cancelled as a transport would. */
async function abortedFetch(server: TestServer, token: string, attempt: Attempt): Promise<void> {
  const controller = new AbortController()
  const body = JSON.stringify({ query: SUBSCRIPTION, variables: { input: { maxSuggestions: 5, slots: [], live: attempt.live } } })
  const headers = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` }
  const response = Promise.resolve(server.app.yoga.fetch(server.url, { method: 'POST', headers, body, signal: controller.signal })).catch(() => undefined)
  await new Promise((resolve) => setTimeout(resolve, attempt.delayMs))
  controller.abort()
  await (await response)?.body?.cancel().catch(() => {})
}

/** A graphql-ws subscription over a raw socket, left `delayMs` after the subscribe message is sent. */
async function abortedWs(server: TestServer, token: string, attempt: Attempt): Promise<void> {
  const { socket, closed } = await openRawSocket(server.url, token)
  const payload = { query: SUBSCRIPTION, variables: { input: { maxSuggestions: 5, slots: [], live: attempt.live } } }
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload }), () =>
    setTimeout(() => {
      if (attempt.leave === 'close') return socket.terminate()
      socket.send(JSON.stringify({ id: '1', type: 'complete' }))
      // The socket itself stays a moment, then goes (the server must have let go of the operation by itself).
      setTimeout(() => socket.close(), 50)
    }, attempt.delayMs),
  )
  await closed
}

describe('stream resources are tied to the transport owning the stream', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 30)
    server = await startTestServer(db, { env: { SUBSCRIPTIONS_PER_USER: String(PER_USER) } })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('frees every place and listener of streams left 0-20 ms after sending, and the user can open the full number again', async () => {
    const attempts = fc.sample(
      fc.record<Attempt>({
        transport: fc.constantFrom('sse', 'fetch', 'ws'),
        delayMs: fc.integer({ min: 0, max: 20 }),
        live: fc.boolean(),
        leave: fc.constantFrom('close', 'complete'),
      }),
      { seed: 42, numRuns: 60 },
    )
    // In groups a little larger than the user's limit: some attempts meet RATE_LIMITED on the way.
    for (let i = 0; i < attempts.length; i += PER_USER + 1) {
      await Promise.all(
        attempts.slice(i, i + PER_USER + 1).map((attempt) => {
          if (attempt.transport === 'sse') return abortedSse(server, alice.token, attempt)
          if (attempt.transport === 'fetch') return abortedFetch(server, alice.token, attempt)
          return abortedWs(server, alice.token, attempt)
        }),
      )
    }
    await vi.waitFor(
      () => {
        expect(server.app.subscriptionLimiter.total()).toBe(0)
        expect(server.app.changeListeners(alice.id)).toBe(0)
      },
      { timeout: 10_000, interval: 50 },
    )

    // The user still has every place.
    const clients = Array.from({ length: PER_USER }, () =>
      wsClient(server.url, alice.token),
    )
    try {
      const iterators = clients.map((client) => client.iterate<{ suggestions: { __typename: string } }>({ query: SUBSCRIPTION, variables: { input: { maxSuggestions: 5, slots: [] } } }))
      const firsts = await Promise.all(iterators.map((iterator) => iterator.next().then((r) => r.value?.data?.suggestions.__typename, (errors: unknown) => JSON.stringify(errors))))
      expect(firsts).toEqual(Array(PER_USER).fill('SuggestionBatch'))
      await Promise.all(iterators.map((iterator) => iterator.return?.(undefined)))
    } finally {
      await Promise.all(clients.map((client) => client.dispose()))
    }
    await vi.waitFor(() => expect(server.app.subscriptionLimiter.total()).toBe(0), { timeout: 5000, interval: 50 })
  })
})
