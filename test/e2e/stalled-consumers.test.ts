/**
 * Shared capacity is not held across I/O the client controls: SSE streams
 * whose sockets read nothing do not keep the generation places (another
 * user's stream completes promptly), and stalled streams, SSE and graphql-ws,
 * are dropped within STREAM_WRITE_TIMEOUT_MS.
 */
import { request as httpRequest, type ClientRequest, type ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type WebSocket from 'ws'
import { wsClient } from '../helpers/clients.ts'
import { openRawSocket, stopReading } from '../helpers/raw-ws.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserForHeavyWalks, createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const WRITE_TIMEOUT_MS = 2000
/** Every event carries the contacts' 16 kB notes: a few events fill the kernel's socket buffers (about 4 MB on loopback). */
const FAT = 'subscription($input: SuggestionsInput) { suggestions(input: $input) { __typename ... on SuggestionBatch { suggestions { contact { customNotes } } } } }'
const FAT_INPUT = { maxSuggestions: 500, batchSize: 20, slots: [] }

/** An SSE stream whose socket stops reading as soon as the response starts. */
function stalledSse(server: TestServer, token: string): { request: ClientRequest } {
  const request = httpRequest(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
  })
  request.on('error', () => {})
  request.on('response', (response) => response.socket.pause())
  request.end(JSON.stringify({ query: FAT, variables: { input: FAT_INPUT } }))
  return { request }
}

/** A graphql-ws socket with `streams` subscriptions that stops reading after its first message. */
async function stalledWs(server: TestServer, token: string, streams: number): Promise<{ socket: WebSocket; closed: Promise<void> }> {
  const raw = await openRawSocket(server.url, token)
  for (let id = 1; id <= streams; id++) raw.send({ id: String(id), type: 'subscribe', payload: { query: FAT, variables: { input: FAT_INPUT } } })
  void raw.next((message) => message.type === 'next').then(() => stopReading(raw.socket))
  return { socket: raw.socket, closed: raw.closed.then(() => {}) }
}

describe('stalled consumers', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  const mallory: FixtureUser[] = []
  /** Every HTTP response of the server, to see which ones wait for their client to drain. */
  const responses: ServerResponse[] = []

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 30)
    for (const name of ['mallory1', 'mallory2', 'mallory3']) {
      mallory.push(await createUserForHeavyWalks(db.prisma, `${name}@example.org`, { count: 520, timezones: ['UTC'], notesBytes: 16_000 }))
    }
    server = await startTestServer(db, { env: { GENERATION_CONCURRENCY: '8', STREAM_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS) } })
    server.app.server.on('request', (_request, response: ServerResponse) => responses.push(response))
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('lets another user complete while 8 SSE streams read nothing, and drops the stalled ones within the bound', async () => {
    const stalled = [0, 0, 0, 0, 1, 1, 1, 1].map((i) => stalledSse(server, mallory[i]!.token))
    try {
      // All eight are stuck on their clients: the server's writes wait to drain.
      const stuck = new Set<ServerResponse>()
      await vi.waitFor(
        () => {
          for (const response of responses) if (response.writableNeedDrain) stuck.add(response)
          expect(stuck.size).toBe(8)
        },
        { timeout: 60_000, interval: 20 },
      )
      const stuckAt = performance.now()

      // A third user's stream gets a place and completes promptly.
      const client = wsClient(server.url, alice.token)
      const types: string[] = []
      try {
        for await (const result of client.iterate<{ suggestions: { __typename: string } }>({ query: 'subscription { suggestions(input: { maxSuggestions: 5, slots: [], live: false }) { __typename } }' })) {
          expect(result.errors).toBeUndefined()
          types.push(result.data!.suggestions.__typename)
        }
      } finally {
        await client.dispose()
      }
      expect(types.at(-1)).toBe('SuggestionsComplete')
      expect(performance.now() - stuckAt).toBeLessThan(WRITE_TIMEOUT_MS)

      // The server closes the stalled responses within the bound (generous slack for a busy machine); a paused client cannot see it.
      await vi.waitFor(() => expect([...stuck].filter((response) => !response.destroyed)).toEqual([]), { timeout: 30_000, interval: 50 })
      expect(performance.now() - stuckAt).toBeLessThan(3 * WRITE_TIMEOUT_MS + 2000)
      await vi.waitFor(() => expect(server.app.subscriptionLimiter.total()).toBe(0), { timeout: 5000, interval: 50 })
      expect(server.app.admission.stats).toEqual({ running: 0, waiting: 0 })
    } finally {
      for (const stream of stalled) stream.request.destroy()
    }
  }, 120_000)

  it('drops graphql-ws streams whose socket reads nothing within the bound', async () => {
    const { socket, closed } = await stalledWs(server, mallory[2]!.token, 4)
    try {
      await vi.waitFor(() => expect(server.app.subscriptionLimiter.count(mallory[2]!.id)).toBe(4), { timeout: 30_000, interval: 50 })
      const started = performance.now()
      // Each stream ends once its next event has waited WRITE_TIMEOUT_MS for the client (the socket itself goes on graphql-ws's ping).
      await vi.waitFor(() => expect(server.app.subscriptionLimiter.count(mallory[2]!.id)).toBe(0), { timeout: 60_000, interval: 50 })
      expect(performance.now() - started).toBeLessThan(3 * WRITE_TIMEOUT_MS + 5000)
      expect(server.app.admission.stats).toEqual({ running: 0, waiting: 0 })
    } finally {
      socket.terminate()
      await closed
    }
  }, 120_000)
})
