import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { rankNaively } from '../../src/suggestions/ranking.ts'
import { sseClient, sseResults, wsClient } from '../helpers/clients.ts'
import { openRawSocket, stopReading } from '../helpers/raw-ws.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay'

const kinds = await availableDatabaseKinds()

const SUBSCRIPTION = /* GraphQL */ `
  subscription Suggestions($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { cursor scanned suggestions { id priority reason slot { start end } contact { id name } } }
      ... on SuggestionsComplete { total scanned suggestions { id contact { id } } }
      ... on SuggestionsUpdated { suggestions { id contact { id } } }
    }
  }
`

type Event = {
  __typename: string
  suggestions?: { id: string; priority: number; contact: { id: string } }[]
  total?: number
}

/** The suggestions of the SuggestionBatch events (SuggestionsComplete repeats them). */
const batched = (events: Event[]) => events.filter((e) => e.__typename === 'SuggestionBatch').flatMap((e) => e.suggestions!)
const contactId = (globalId: string) => decodeGlobalID(globalId).id

describe.each(kinds)('suggestions subscription on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let expected: string[]
  let contactQueries = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => void (sql.includes('"Contact"') && contactQueries++) })
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 150)
    await createUserWithContacts(db.prisma, 'bob@example.org', 50)
    // Bursts of writes are sent as one request of 30 aliased mutations (see logInteractions): above the default alias limit.
    server = await startTestServer(db, { env: { MAX_ALIASES: '30' } })
    const rows = await db.prisma.contact.findMany({ where: { userId: alice.id, archived: false } })
    // The server's clock runs; rank with a `now` a moment later, far from any tie that could flip.
    expected = rankNaively(rows, new Date(), 20).map((row) => row.id)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  /** A Prometheus value of the server's `/metrics`. */
  const metric = async (name: string) => {
    const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text()
    return Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1])
  }
  /** One request writing `count` interactions: a burst whose spread does not depend on the machine's load. */
  const logInteractions = (contactId: string, count: number) =>
    server.query(
      `mutation($id: ID!) { ${Array.from({ length: count }, (_, i) => `w${i}: logInteraction(contactId: $id) { id }`).join(' ')} }`,
      { id: contactId },
      alice.token,
    )

  it('streams the oracle top-K over graphql-ws, batch by batch, then completes', async () => {
    const client = wsClient(server.url, alice.token)
    const events: Event[] = []
    try {
      for await (const result of client.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input: { maxSuggestions: 20, batchSize: 3, slots: [], live: false } } })) {
        expect(result.errors).toBeUndefined()
        events.push(result.data!.suggestions)
      }
    } finally {
      await client.dispose()
    }
    const batches = events.filter((e) => e.__typename === 'SuggestionBatch')
    expect(batches.length).toBeGreaterThan(0)
    expect(events.at(-1)).toMatchObject({ __typename: 'SuggestionsComplete', total: 20 })
    expect(batches.flatMap((b) => b.suggestions!).map((s) => contactId(s.contact.id))).toEqual(expected)
    // Complete repeats the list it streamed, for clients that keep only the latest event.
    expect(events.at(-1)!.suggestions!.map((s) => s.id)).toEqual(batches.flatMap((b) => b.suggestions!).map((s) => s.id))
  })

  it('streams the same over SSE with the graphql-sse client', async () => {
    const client = sseClient(server.url, alice.token)
    const events: Event[] = []
    try {
      for await (const result of client.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input: { maxSuggestions: 20, slots: [], live: false } } })) {
        expect(result.errors).toBeUndefined()
        events.push(result.data!.suggestions)
      }
    } finally {
      client.dispose()
    }
    expect(events.at(-1)).toMatchObject({ __typename: 'SuggestionsComplete', total: 20 })
    expect(batched(events).map((s) => contactId(s.contact.id))).toEqual(expected)
  })

  it('stays open and sends one coalesced SuggestionsUpdated after changes, without the contact just talked to', async () => {
    const client = wsClient(server.url, alice.token)
    const events: Event[] = []
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ suggestions: Event }>(
        { query: SUBSCRIPTION, variables: { input: { maxSuggestions: 20, slots: [] } } },
        { next: (result) => void events.push(result.data!.suggestions), error: reject, complete: resolve },
      )
    })
    try {
      await vi.waitFor(() => expect(events.map((e) => e.__typename)).toContain('SuggestionsComplete'), { timeout: 10_000 })
      const top = batched(events)[0]!
      // A burst: three writes close together (one request: three HTTP round trips on a loaded machine can be
      // further apart than the 250 ms window) give one update. The window's timing is test/unit/live.test.ts's,
      // on a fake clock.
      expect((await logInteractions(top.contact.id, 3)).errors).toBeUndefined()
      await vi.waitFor(() => expect(events.map((e) => e.__typename)).toContain('SuggestionsUpdated'), { timeout: 30_000 })
      // Once the stream waits for changes again, it has sent every update of the burst (graphql-ws keeps their
      // order): a marker change now gives the next update, and any second update of the burst came before it.
      await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_waiting')).toBe(1), { timeout: 30_000, interval: 50 })
      const marker = batched(events)[1]!
      expect((await logInteractions(marker.contact.id, 1)).errors).toBeUndefined()
      await vi.waitFor(() => expect(events.filter((e) => e.__typename === 'SuggestionsUpdated').length).toBeGreaterThanOrEqual(2), { timeout: 30_000 })
      const updates = events.filter((e) => e.__typename === 'SuggestionsUpdated')
      expect(updates).toHaveLength(2)
      expect(updates[0]!.suggestions!.map((s) => s.contact.id)).not.toContain(top.contact.id)
      expect(updates[0]!.suggestions!.map((s) => s.contact.id)).toContain(marker.contact.id)
      expect(updates[0]!.suggestions).toHaveLength(20)
      expect(updates[1]!.suggestions!.map((s) => s.contact.id)).not.toContain(marker.contact.id)
    } finally {
      await client.dispose()
      await done.catch(() => {})
    }
  })

  it('stops reading the database as soon as the client leaves mid-stream', async () => {
    const input = { maxSuggestions: 120, batchSize: 1, slots: [], live: false }
    const full = wsClient(server.url, alice.token)
    const beforeFull = contactQueries
    for await (const _ of full.iterate({ query: SUBSCRIPTION, variables: { input } })) void _
    await full.dispose()
    const fullRunQueries = contactQueries - beforeFull
    expect(fullRunQueries).toBeGreaterThan(60)
    const beforeLeft = contactQueries
    const client = wsClient(server.url, alice.token)
    const iterator = client.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input } })
    const first = await iterator.next()
    expect(first.value?.data?.suggestions.__typename).toBe('SuggestionBatch')
    await iterator.return?.(undefined)
    await client.dispose()
    // A walk gives its place back after its `finally`, which closes every class stream: after that no page can be
    // read. Waiting for it replaces a fixed pause that a busy machine could outlast mid-page.
    await vi.waitFor(async () => expect(await metric('suggestion_walks{state="running"}')).toBe(0), { timeout: 30_000, interval: 50 })
    const settled = contactQueries
    expect(settled - beforeLeft).toBeLessThan(fullRunQueries / 2)
  })

  it('coalesces work for a consumer that stops reading, and frees its place when its socket dies', async () => {
    // The streams of the tests before were closed by their clients; the server may still be ending them.
    await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_active')).toBe(0), { timeout: 30_000, interval: 50 })
    // A raw graphql-transport-ws socket that stops reading after its first message.
    const raw = await openRawSocket(server.url, alice.token)
    const socket = raw.socket
    raw.send({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { input: { maxSuggestions: 20, slots: [] } } } })
    await raw.next((message) => message.type === 'next')
    stopReading(socket)
    // Whatever happens, the socket goes: a stream left open would hold one of alice's places in the next tests.
    try {
      expect(await metric('suggestions_subscriptions_active')).toBe(1)
      const generations = await metric('suggestion_generation_duration_seconds_count')
      const [contact] = await db.prisma.contact.findMany({ where: { userId: alice.id }, take: 1 })
      const id = encodeGlobalID('Contact', contact!.id)
      // One request of 30 writes: 30 sequential requests on a loaded machine spread over seconds, each second a walk.
      expect((await logInteractions(id, 30)).errors).toBeUndefined()
      // 30 changes in a burst give a few coalesced update walks, not 30 (the regeneration job they ask for waits 5 s).
      await vi.waitFor(async () => expect(await metric('suggestion_generation_duration_seconds_count')).toBeGreaterThan(generations), { timeout: 30_000, interval: 100 })
      // The stream has handled the burst once it waits for changes again; its walks are all counted by then.
      await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_waiting')).toBe(1), { timeout: 30_000, interval: 50 })
      const walks = (await metric('suggestion_generation_duration_seconds_count')) - generations
      expect(walks).toBeLessThanOrEqual(5)
    } finally {
      socket.terminate()
    }
    await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_active')).toBe(0), { timeout: 30_000, interval: 100 })
  })

  it('limits concurrent streams per user with RATE_LIMITED, and frees the place when one ends', async () => {
    const clients = Array.from({ length: 6 }, () =>
      wsClient(server.url, alice.token, { lazy: false }),
    )
    try {
      // `iterate` subscribes at once, and six sockets race to the server: open the sixth only once five hold their places.
      const subscribe = (client: (typeof clients)[number]) =>
        client.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input: { maxSuggestions: 5, slots: [] } } })
      const iterators = clients.slice(0, 5).map(subscribe)
      const firsts = await Promise.all(iterators.map((iterator) => iterator.next()))
      expect(firsts.map((r) => r.value?.data?.suggestions.__typename ?? JSON.stringify(r.value))).toEqual(Array(5).fill('SuggestionBatch'))
      const sixth = await subscribe(clients[5]!).next().then((r) => r.value, (errors: unknown) => ({ errors }))
      expect(JSON.stringify(sixth)).toContain('RATE_LIMITED')
      await iterators[0]!.return?.(undefined)
      // The place is free once the server saw the stream end (a fixed 200 ms could pass first on a busy machine).
      await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_active')).toBe(4), { timeout: 30_000, interval: 50 })
      const again = subscribe(clients[0]!)
      expect((await again.next()).value?.data?.suggestions.__typename).toBe('SuggestionBatch')
      await again.return?.(undefined)
      for (const iterator of iterators.slice(1, 5)) await iterator.return?.(undefined)
    } finally {
      await Promise.all(clients.map((client) => client.dispose()))
    }
  })

  it('resumes over a new socket from the last cursor with no duplicate and no gap', async () => {
    const connect = () =>
      wsClient(server.url, alice.token)
    const input = { maxSuggestions: 20, batchSize: 2, slots: [], live: false }
    const whole = connect()
    const uninterrupted: string[] = []
    for await (const result of whole.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input } })) {
      uninterrupted.push(...batched([result.data!.suggestions]).map((s) => contactId(s.contact.id)))
    }
    await whole.dispose()
    const first = connect()
    const received: string[] = []
    let cursor: string | undefined
    const iterator = first.iterate<{ suggestions: Event & { cursor?: string } }>({ query: SUBSCRIPTION, variables: { input } })
    for (let i = 0; i < 2; i++) {
      const event = (await iterator.next()).value!.data!.suggestions
      if (event.__typename === 'SuggestionBatch') {
        received.push(...event.suggestions!.map((s: { contact: { id: string } }) => contactId(s.contact.id)))
        cursor = event.cursor
      }
    }
    await first.dispose() // the connection drops mid-stream
    const second = connect()
    try {
      for await (const result of second.iterate<{ suggestions: Event }>({ query: SUBSCRIPTION, variables: { input: { ...input, resumeFrom: cursor } } })) {
        received.push(...batched([result.data!.suggestions]).map((s) => contactId(s.contact.id)))
      }
    } finally {
      await second.dispose()
    }
    expect(received).toEqual(uninterrupted)
    expect(uninterrupted).toHaveLength(20)
  })

  it("never shows one user another's suggestions", async () => {
    const bobToken = (await db.prisma.user.findUniqueOrThrow({ where: { email: 'bob@example.org' } })).id
    const bobContacts = new Set((await db.prisma.contact.findMany({ where: { userId: bobToken }, select: { id: true } })).map((c) => c.id))
    const payloads = await sseResults<{ suggestions: Event }>(server.url, { query: SUBSCRIPTION, variables: { input: { maxSuggestions: 500, slots: [], live: false } } }, alice.token)
    const ids = batched(payloads.map((payload) => payload.data!.suggestions)).map((s) => contactId(s.contact.id))
    expect(ids.length).toBeGreaterThan(100)
    expect(ids.some((id) => bobContacts.has(id))).toBe(false)
  })

  it('masks unexpected errors over graphql-ws and SSE: no message, stack or SQL', async () => {
    const failing = await startTestServer({
      ...db,
      prisma: new Proxy(db.prisma, {
        get(target, property, receiver) {
          if (property === 'suggestion') return { findMany: () => Promise.reject(new Error('SELECT * FROM secret_table')) }
          return Reflect.get(target, property, receiver)
        },
      }),
    })
    try {
      const client = wsClient(failing.url, alice.token)
      const outcome: unknown[] = []
      try {
        for await (const result of client.iterate({ query: SUBSCRIPTION, variables: { input: { live: false, slots: [] } } })) outcome.push(result)
      } catch (errors) {
        outcome.push(errors)
      } finally {
        await client.dispose()
      }
      const ws = JSON.stringify(outcome)
      expect(ws).toContain('INTERNAL_SERVER_ERROR')
      expect(ws).not.toMatch(/secret_table|SELECT|stack/)

      const sse = JSON.stringify(await sseResults(failing.url, { query: SUBSCRIPTION, variables: { input: { live: false, slots: [] } } }, alice.token))
      expect(sse).toContain('INTERNAL_SERVER_ERROR')
      expect(sse).not.toMatch(/secret_table|SELECT|stack/)
    } finally {
      await failing.close()
    }
  })

  it('answers /health with the database state', async () => {
    const response = await fetch(server.url.replace('/graphql', '/health'))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok', database: 'up' })
  })

  it('closes a socket with a bad token with 4403', async () => {
    const code = await new Promise<number>((resolve) => {
      const client = wsClient(server.url, 'prm_wrong', { on: { closed: (event) => resolve((event as { code: number }).code) } })
      client.subscribe({ query: SUBSCRIPTION }, { next: () => {}, error: () => {}, complete: () => {} })
    })
    expect(code).toBe(4403)
  })

  it('refuses bad input and missing auth with codes, over SSE', async () => {
    const firstPayload = async (variables: Record<string, unknown>, token?: string) => (await sseResults(server.url, { query: SUBSCRIPTION, variables }, token, () => true))[0]!
    expect((await firstPayload({ input: { maxSuggestions: 0 } }, alice.token)).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'maxSuggestions',
    })
    expect((await firstPayload({ input: { resumeFrom: 'garbage' } }, alice.token)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect((await firstPayload({})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })

  it('serves the engine metrics at /metrics', async () => {
    const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text()
    expect(text).toMatch(/^suggestion_generation_duration_seconds_count [1-9]/m)
    expect(text).toMatch(/^nodejs_heap_used_bytes \d+/m)
  })
})
