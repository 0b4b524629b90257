/**
 * Hostile review of issue 14's walk sharing (src/suggestions/walk-sharing.ts): a stream joins a walk
 * under way only when the user's change version is the same. Two ways that lets a stream see data or
 * times older than the moment it subscribed:
 *
 * - A walk held open by a slow reader stays joinable for as long as it runs (its waits on the reader
 *   are not counted anywhere), so a stream opened hours later gets suggestions ranked, reasoned and
 *   fitted at the first stream's `now`: slots that already began.
 * - While the process's Redis connection is down, change notices of other processes are lost and the
 *   versions say so (`ChangeVersions.trusted` is false: the caches neither serve nor store). Walk
 *   sharing does not look at it: a stream opened after a write on another process joins a walk that
 *   read the data before it.
 *
 * The walk is held between its first batch and its next page by a gate on the walk's page statements
 * (the first pages of every class pass): deterministic, no timing.
 */
import net from 'node:net'
import type { Client } from 'graphql-ws'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Database } from '../../src/db/database.ts'
import { wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL } from '../helpers/redis.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const ready = (await availableDatabaseKinds()).includes('postgres') && (await redisAvailable())

const SUBSCRIPTION = /* GraphQL */ `
  subscription($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { suggestions { id contact { id } slot { start } } }
    }
  }
`
type Listed = { id: string; contact: { id: string }; slot: { start: string } | null }
type Event = { __typename: string; suggestions?: Listed[] }

/**
 * `db` with the walk's page statements held while `gate.closed` (the statement of all classes' first
 * pages passes): a walk then delivers its first batch and waits for its next page until `open()`.
 */
function gated(db: Database) {
  let release: () => void = () => {}
  let opened = Promise.resolve()
  const gate = {
    held: 0,
    close() {
      opened = new Promise<void>((resolve) => (release = resolve))
    },
    open() {
      release()
    },
  }
  const database: Database = {
    ...db,
    async queryPrepared(statement, values) {
      if (!statement.name.startsWith('minimal_first_pages')) {
        gate.held++
        await opened
        gate.held--
      }
      return db.queryPrepared(statement, values)
    },
  }
  return { database, gate }
}

/** A subscriber: the suggestions of its first batch once it came, and whether it joined a walk under way. */
function subscriber(clients: Client[], server: TestServer, token: string, input: Record<string, unknown>) {
  const client = wsClient(server.url, token)
  clients.push(client)
  let resolveFirst: (list: Listed[]) => void = () => {}
  const firstBatch = new Promise<Listed[]>((resolve) => (resolveFirst = resolve))
  const errors: unknown[] = []
  client.subscribe<{ suggestions: Event }>(
    { query: SUBSCRIPTION, variables: { input } },
    {
      next: (result) => {
        if (result.errors) errors.push(result.errors)
        const event = result.data?.suggestions
        if (event?.__typename === 'SuggestionBatch') resolveFirst(event.suggestions!)
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  )
  return { firstBatch, errors, close: () => client.dispose() }
}

const AVAILABLE_ALL_DAY = /* GraphQL */ `
  mutation { setAvailability(timezone: "UTC", windows: [${[1, 2, 3, 4, 5, 6, 7].map((day) => `{ weekday: ${day}, startMinute: 0, endMinute: 1440 }`).join(', ')}]) { weekday } }
`

describe.skipIf(!ready)('hostile issue 14: a shared walk never serves a stream what is older than its subscription', () => {
  const clients: Client[] = []
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()))
  })

  describe('one process with a clock the test moves', () => {
    let db: TestDatabase
    let server: TestServer
    let alice: FixtureUser
    let gate: ReturnType<typeof gated>['gate']
    let nowMs = FIXTURE_NOW.getTime()

    beforeAll(async () => {
      db = await openTestDatabase('postgres')
      alice = await createUserWithContacts(db.prisma, 'alice@example.com', 60)
      const wrapped = gated(db)
      gate = wrapped.gate
      server = await startTestServer(wrapped.database, { clock: { now: () => new Date(nowMs) }, env: { REDIS_URL: '' } })
      expect((await server.query(AVAILABLE_ALL_DAY, {}, alice.token)).errors).toBeUndefined()
    })
    afterAll(async () => {
      gate?.open()
      await server?.close()
      await db?.destroy()
    })

    it('a stream opened two hours after another (same input, no write) gets slots that start after its own now, not the old walk’s', async () => {
      const input = { maxSuggestions: 20, batchSize: 3, live: false }
      gate.close()
      const first = subscriber(clients, server, alice.token, input)
      const early = await first.firstBatch
      await vi.waitFor(() => expect(gate.held).toBe(1)) // the walk waits for its next page: still under way
      expect(new Date(early[0]!.slot!.start).getTime()).toBeGreaterThanOrEqual(nowMs)

      // Two hours later (the first reader is slow: a walk's waits on its readers are not bounded), the same subscription.
      nowMs += 2 * 3_600_000
      const joinsBefore = server.app.walks.stats.joins
      const late = subscriber(clients, server, alice.token, input)
      const lateBatch = await late.firstBatch
      gate.open()
      // Every slot it is offered starts at or after the time it asked: nothing in the past.
      for (const suggestion of lateBatch) {
        expect(new Date(suggestion.slot!.start).getTime(), `slot ${suggestion.slot!.start} offered at ${new Date(nowMs).toISOString()}`).toBeGreaterThanOrEqual(nowMs)
      }
      expect(server.app.walks.stats.joins - joinsBefore, 'joined a walk started two hours earlier').toBe(0)
    })
  })

  describe('two processes, the second one’s Redis connection cut', () => {
    let db: TestDatabase
    let a: TestServer
    let b: TestServer
    let alice: FixtureUser
    let gate: ReturnType<typeof gated>['gate']
    let proxy: ReturnType<typeof redisProxy>

    beforeAll(async () => {
      db = await openTestDatabase('postgres')
      alice = await createUserWithContacts(db.prisma, 'alice@example.com', 60)
      proxy = redisProxy(new URL(TEST_REDIS_URL))
      const wrapped = gated(db)
      gate = wrapped.gate
      a = await startTestServer(db, { env: { REDIS_URL: TEST_REDIS_URL } })
      b = await startTestServer(wrapped.database, { env: { REDIS_URL: await proxy.url } })
    })
    afterAll(async () => {
      gate?.open()
      // Stopped only once B is connected again: BullMQ's worker.close() never returns when called while it reconnects.
      await proxy?.restore()
      await a?.close()
      await b?.close()
      proxy?.close()
      await db?.destroy()
    })

    it('a stream opened on B after a dismissal on A (B knows its notices are lost) never shows the dismissed contact', async () => {
      // B loses Redis: every connection it had is cut, and it has tried to reconnect (so it saw the close and
      // knows that notices may be lost from now on).
      await proxy.cut()
      const input = { maxSuggestions: 20, batchSize: 3, slots: [], live: false }
      gate.close()
      const first = subscriber(clients, b, alice.token, input)
      const [top] = await first.firstBatch
      await vi.waitFor(() => expect(gate.held).toBe(1)) // B's walk is under way, its first batch read before the write

      const dismissed = await a.query('mutation($id: ID!) { dismissSuggestion(id: $id) { id status } }', { id: top!.id }, alice.token)
      expect(dismissed.errors).toBeUndefined()

      const late = subscriber(clients, b, alice.token, input)
      const lateBatch = await late.firstBatch
      gate.open()
      expect(lateBatch.map((s) => s.contact.id), 'the contact dismissed before this stream opened').not.toContain(top!.contact.id)
    })
  })
})

/**
 * A TCP proxy to Redis that the test can cut: `cut()` destroys every connection and refuses new ones
 * (accepted, then closed at once) until `restore()`; it resolves once every client cut has come back to
 * try again (ioredis reconnects only after its 'close'). `restore()` resolves once they are all connected again.
 */
function redisProxy(target: URL) {
  const open = new Set<net.Socket>()
  let refusing = false
  let attemptsSinceCut = 0
  let cutCount = 0
  const server = net.createServer((client) => {
    if (refusing) {
      attemptsSinceCut++
      client.destroy()
      return
    }
    const upstream = net.connect(Number(target.port || 6379), target.hostname)
    open.add(client)
    client.pipe(upstream).pipe(client)
    const end = () => {
      open.delete(client)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  const url = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`)))
  return {
    url,
    async cut() {
      refusing = true
      attemptsSinceCut = 0
      cutCount = open.size
      for (const socket of [...open]) socket.destroy()
      await vi.waitFor(() => expect(attemptsSinceCut).toBeGreaterThanOrEqual(cutCount), { timeout: 20_000 })
    },
    async restore() {
      refusing = false
      await vi.waitFor(() => expect(open.size).toBeGreaterThanOrEqual(cutCount), { timeout: 20_000 })
    },
    close() {
      server.close()
    },
  }
}
