/**
 * `npm run bench:subscriptions [-- --contacts 100000 --subscribers 100 --runs 5 --slow 200]`
 * `npm run bench:subscriptions -- --demo` (the demo user on in-memory PGlite)
 *
 * One server process (buildApp, PostgreSQL in a fresh schema) and real
 * graphql-ws clients: time to the first SuggestionBatch and to
 * SuggestionsComplete (top 50, live: false) beside the engine called directly
 * in the same run (the transport's overhead), then N concurrent subscribers
 * (top 50, pages of 10) and the messages per second the server delivered.
 * Last, slow consumers: live top-500 subscriptions whose sockets stop reading
 * while the user's data keeps changing; the heap after GC with them open,
 * beside the heap before they came and after they left, second of two rounds
 * (run with --expose-gc: the npm script does).
 */
import { randomBytes } from 'node:crypto'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { buildApp } from '../src/app.ts'
import { issueToken } from '../src/auth/tokens.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers, seedDemoData } from '../src/seed/seed.ts'
import { createLogger } from '../src/logger.ts'
import { createSuggestionEngine } from '../src/suggestions/generator.ts'
import { benchArgs } from './args.ts'

const values = benchArgs('npm run bench:subscriptions [-- --contacts N] [--subscribers S] [--runs R] [--slow N] [--demo]', {
  contacts: { type: 'string', default: '100000' },
  subscribers: { type: 'string', default: '100' },
  runs: { type: 'string', default: '5' },
  slow: { type: 'string', default: '200' },
  demo: { type: 'boolean', default: false },
})
const contacts = Number(values.contacts)
const subscribers = Number(values.subscribers)
const runs = Number(values.runs)
const slowConsumers = Number(values.slow)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const QUERY = `subscription($input: SuggestionsInput) { suggestions(input: $input) { __typename
  ... on SuggestionBatch { suggestions { id priority reason slot { start } contact { id name } } } ... on SuggestionsComplete { total } } }`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = values.demo ? await openDatabase({}) : await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10 })
try {
  await applyMigrations(db)
  const userId = values.demo
    ? (await seedDemoData(db, { now: new Date() })).userId
    : (await seedBenchUsers(db, { users: 1, contacts, now: new Date() })).userIds[0]!
  await db.query('ANALYZE "Contact"')
  const contactCount = await db.prisma.contact.count({ where: { userId } })
  const token = await issueToken(db.prisma, userId)
  const limit = String(Math.max(subscribers, slowConsumers) + 5)
  const config = { ...parseConfig({ NODE_ENV: 'production', SECRET_KEY: randomBytes(48).toString('base64url'), SUBSCRIPTIONS_PER_USER: limit }), port: 0, host: '127.0.0.1' }
  const app = buildApp({ config, db, logger: createLogger('silent') })
  const { url } = await app.start()
  const wsUrl = url.replace('http', 'ws')
  const engine = createSuggestionEngine({ prisma: db.prisma, contactRows: db, now: () => new Date(), defaultSlots: async () => [], userTimezone: async () => 'UTC' })

  const engineFirst: number[] = []
  const engineDone: number[] = []
  const wsFirst: number[] = []
  const wsDone: number[] = []
  for (let run = 0; run <= runs; run++) {
    let t = performance.now()
    let first = 0
    for await (const event of engine.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 50, slots: [] })) {
      if (event.kind === 'batch' && first === 0) first = performance.now() - t
    }
    if (run > 0) {
      engineFirst.push(first)
      engineDone.push(performance.now() - t)
    }

    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false })
    await new Promise<void>((resolve) => client.on('connected', () => resolve()))
    t = performance.now()
    first = 0
    for await (const result of client.iterate<{ suggestions: { __typename: string } }>({ query: QUERY, variables: { input: { maxSuggestions: 50, slots: [], live: false } } })) {
      if (result.data?.suggestions.__typename === 'SuggestionBatch' && first === 0) first = performance.now() - t
    }
    if (run > 0) {
      wsFirst.push(first)
      wsDone.push(performance.now() - t)
    }
    await client.dispose()
  }

  const clients = Array.from({ length: subscribers }, () =>
    createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false }),
  )
  await Promise.all(clients.map((client) => new Promise<void>((resolve) => client.on('connected', () => resolve()))))
  let messages = 0
  let errors = 0
  const started = performance.now()
  await Promise.all(
    clients.map(async (client) => {
      for await (const result of client.iterate({ query: QUERY, variables: { input: { maxSuggestions: 50, batchSize: 10, slots: [], live: false } } })) {
        if (result.errors) errors++
        messages++
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  await Promise.all(clients.map((client) => client.dispose()))

  // The first round warms caches (the heap then plateaus round after round): measure the second.
  if (slowConsumers > 0) await measureSlowConsumers(wsUrl, url, token, userId)
  const slow = slowConsumers > 0 ? await measureSlowConsumers(wsUrl, url, token, userId) : undefined
  await app.stop()

  const ms = (x: number) => `${x.toFixed(1)} ms`
  process.stdout.write(
    `${contactCount.toLocaleString('en')} contacts, top 50, median of ${runs} runs (${values.demo ? 'demo user, PGlite' : 'PostgreSQL'})\n` +
      `| | engine alone | over graphql-ws | ratio |\n| --- | --- | --- | --- |\n` +
      `| first batch | ${ms(median(engineFirst))} | ${ms(median(wsFirst))} | ${(median(wsFirst) / median(engineFirst)).toFixed(2)} |\n` +
      `| complete | ${ms(median(engineDone))} | ${ms(median(wsDone))} | ${(median(wsDone) / median(engineDone)).toFixed(2)} |\n` +
      `${subscribers} concurrent subscribers: ${messages} messages in ${seconds.toFixed(2)} s = ${(messages / seconds).toFixed(0)} messages/s, ${errors} errors\n` +
      (slow ? `${slow}\n` : ''),
  )
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(0)

/**
 * Slow consumers: live top-500 subscriptions over raw graphql-transport-ws
 * sockets that stop reading after their first message, while the user's data
 * changes every 100 ms for 5 s. Heap after GC before, while they are open, and
 * after they leave; and how much the server's sockets hold unsent.
 */
async function measureSlowConsumers(wsUrl: string, httpUrl: string, token: string, userId: string): Promise<string> {
  const gc = (globalThis as { gc?: () => void }).gc
  const heap = () => {
    gc?.()
    gc?.()
    return process.memoryUsage().heapUsed
  }
  const before = heap()
  const sockets = await Promise.all(
    Array.from({ length: slowConsumers }, () => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws')
      return new Promise<WebSocket>((resolve, reject) => {
        socket.on('error', reject)
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })))
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string }
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { input: { maxSuggestions: 500, batchSize: 100, slots: [] } } } }))
          } else if (message.type === 'next') {
            // Stop reading: from here on the kernel's buffers fill and the server's sends wait.
            ;(socket as unknown as { _socket: { pause(): void } })._socket.pause()
            socket.removeAllListeners('message')
            resolve(socket)
          }
        })
      })
    }),
  )
  const contactIds = (await db.prisma.contact.findMany({ where: { userId }, select: { id: true }, take: 50 })).map((c) => c.id)
  for (const [i, id] of contactIds.entries()) {
    const globalId = Buffer.from(`Contact:${id}`).toString('base64')
    await fetch(httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation($id: ID!) { logInteraction(contactId: $id) { id } }', variables: { id: globalId } }),
    })
    if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const during = heap()
  for (const socket of sockets) socket.terminate()
  // Gone when the server's gauge of open streams says so (walks under way finish their page first).
  const metricsUrl = httpUrl.replace('/graphql', '/metrics')
  const open = async () => Number(/^suggestions_subscriptions_active (\S+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1])
  const leaving = performance.now()
  while ((await open()) > 0 && performance.now() - leaving < 60_000) await new Promise((resolve) => setTimeout(resolve, 100))
  const left = await open()
  const after = heap()
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`
  return (
    `${slowConsumers} slow consumers (live top 500, sockets paused, 50 changes): heap after GC ${mb(before)} before, ${mb(during)} while paused ` +
    `(+${((during - before) / slowConsumers / 1024).toFixed(0)} kB each), ${mb(after)} after they left ` +
    `(${left} streams still open after ${((performance.now() - leaving) / 1000).toFixed(1)} s)${gc ? '' : ' (no --expose-gc: figures noisy)'}`
  )
}
