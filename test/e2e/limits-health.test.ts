/**
 * Issue 10, kind 3: /health stays responsive beside the heaviest requests the
 * limits allow (the most aliases of `contacts(first: N)` at the highest cost,
 * signed in, with 1,000 contacts) and the attacks they refuse (100,000 aliases
 * of `__typename`, 100 aliases of `contacts(first: 1000)`). Before the limits,
 * the attacks executed and held the event loop for seconds.
 *
 * What is asserted, and why: the server runs in this process, so what holds
 * this event loop holds the server's. A `setImmediate` chain reads the main
 * thread's CPU time at every turn of the loop: the most spent between two turns
 * is the longest the loop was held by work, which must stay under 100 ms. CPU time, not wall time: on a
 * busy machine (load 11 on 2 cores was seen while this was written) a 20 ms
 * block takes 100 ms of wall time, and /health's round trip or the event-loop
 * delay (monitorEventLoopDelay) measure the machine more than the server.
 * Those are still measured and printed, and every probe must have answered 200.
 * The attacks, before the limits, held the loop for seconds of CPU.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { watchLoopTurns } from '../helpers/loop-turns.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

// PGlite runs its queries on this thread: only PostgreSQL leaves the event loop to the server's own work.
const postgres = (await availableDatabaseKinds()).includes('postgres')
const { maxAliases, maxQueryCost } = parseConfig({}).requestLimits

// The heaviest query the default limits allow: every alias a `contacts` page, the pages as large as
// the cost allows (each alias costs 1 + first x (edges 1 + node 1 + 3 fields)).
const heaviestFirst = Math.floor((Math.floor(maxQueryCost / maxAliases) - 1) / 5)
const heaviestAllowed = `{ ${Array.from({ length: maxAliases }, (_, i) => `c${i}: contacts(first: ${heaviestFirst}) { edges { node { id name email } } }`).join(' ')} }`

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!

describe.skipIf(!postgres)('/health beside the heaviest requests', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 1000)
    server = await startTestServer(db, { env: { NODE_ENV: 'test' } })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('answers within 100 ms while the heaviest allowed and refused requests run', async () => {
    const health = server.url.replace(/graphql$/, 'health')
    const attacks = [
      { query: `{ ${Array.from({ length: 100_000 }, (_, i) => `a${i}: __typename`).join(' ')} }` },
      { query: `{ ${Array.from({ length: 100 }, (_, i) => `c${i}: contacts(first: 1000) { edges { node { id name email } } }`).join(' ')} }`, token: alice.token },
    ]
    const heavy = { query: heaviestAllowed, token: alice.token }
    const post = async ({ query, token }: { query: string; token?: string }) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query }),
      })
      return (await response.json()) as { data?: Record<string, { edges: unknown[] }>; errors?: { extensions?: { code?: string } }[] }
    }

    // Once before measuring: the first requests of a process compile (V8, Prisma's query plans).
    await Promise.all([post(heavy), ...attacks.map(post)])
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    const blocks = watchLoopTurns()
    let running = true
    const probes: number[] = []
    const probing = (async () => {
      while (running) {
        const started = performance.now()
        const response = await fetch(health)
        await response.text()
        expect(response.status).toBe(200)
        probes.push(performance.now() - started)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const answered: string[] = []
    // One heaviest request at a time: two at once double the work one event-loop turn may take
    // (their database answers land together), which no per-request limit can bound.
    for (let round = 0; round < 6; round++) {
      const results = await Promise.all([post(heavy), ...attacks.map(post)])
      answered.push(...results.map((result) => (result.errors?.length ? String(result.errors[0]!.extensions?.code) : 'data')))
      // The heaviest allowed request really ran: every alias a full page.
      expect(Object.values(results[0]!.data ?? {}).map((page) => page.edges.length)).toEqual(Array(maxAliases).fill(heaviestFirst))
    }
    running = false
    await probing
    const longestBlockMs = blocks.stop()
    delay.disable()

    const figures = `longest block ${longestBlockMs.toFixed(1)} ms of CPU; event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; /health p50 ${percentile(probes, 50)!.toFixed(1)} ms, p95 ${percentile(probes, 95)!.toFixed(1)} ms over ${probes.length} probes`
    process.stdout.write(`limits-health: ${figures}\n`)
    expect(probes.length).toBeGreaterThan(5)
    expect(longestBlockMs, figures).toBeLessThan(100)
    // The attacks were refused: the 1.9 MB one from its Content-Length, the 100 pages of 1,000 by its tokens.
    expect(new Set(answered.filter((_, i) => i % 3 >= 1))).toEqual(new Set(['QUERY_TOO_COMPLEX', 'BAD_REQUEST']))
  }, 120_000)
})
