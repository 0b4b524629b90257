/**
 * `npm run bench:subscriptions [-- --contacts 100000 --subscribers 100 --runs 5]`
 *
 * One server process (buildApp, PostgreSQL in a fresh schema) and real
 * graphql-ws clients: time to the first SuggestionBatch and to
 * SuggestionsComplete (top 50, live: false) beside the engine called directly
 * in the same run (the transport's overhead), then N concurrent subscribers
 * (top 50, pages of 10) and the messages per second the server delivered.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { buildApp } from '../src/app.ts'
import { issueToken } from '../src/auth/tokens.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers } from '../src/db/seed/seed.ts'
import { createLogger } from '../src/logger.ts'
import { createSuggestionEngine } from '../src/suggestions/generator.ts'

const { values } = parseArgs({
  options: {
    contacts: { type: 'string', default: '100000' },
    subscribers: { type: 'string', default: '100' },
    runs: { type: 'string', default: '5' },
  },
})
const contacts = Number(values.contacts)
const subscribers = Number(values.subscribers)
const runs = Number(values.runs)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const QUERY = `subscription($input: SuggestionsInput) { suggestions(input: $input) { __typename
  ... on SuggestionBatch { suggestions { id priority reason slot { start } contact { id name } } } ... on SuggestionsComplete { total } } }`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10 })
try {
  await applyMigrations(db)
  const { userIds } = await seedBenchUsers(db, { users: 1, contacts, now: new Date() })
  const userId = userIds[0]!
  await db.query('ANALYZE "Contact"')
  const token = await issueToken(db.prisma, userId)
  const config = { ...parseConfig({ NODE_ENV: 'production', SUBSCRIPTIONS_PER_USER: String(subscribers + 5) }), port: 0, host: '127.0.0.1' }
  const app = buildApp({ config, db, logger: createLogger('silent') })
  const { url } = await app.start()
  const wsUrl = url.replace('http', 'ws')
  const engine = createSuggestionEngine({ prisma: db.prisma, now: () => new Date(), defaultSlots: async () => [], userTimezone: async () => 'UTC' })

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
  await app.stop()

  const ms = (x: number) => `${x.toFixed(1)} ms`
  process.stdout.write(
    `${contacts.toLocaleString('en')} contacts, top 50, median of ${runs} runs (PostgreSQL)\n` +
      `| | engine alone | over graphql-ws | ratio |\n| --- | --- | --- | --- |\n` +
      `| first batch | ${ms(median(engineFirst))} | ${ms(median(wsFirst))} | ${(median(wsFirst) / median(engineFirst)).toFixed(2)} |\n` +
      `| complete | ${ms(median(engineDone))} | ${ms(median(wsDone))} | ${(median(wsDone) / median(engineDone)).toFixed(2)} |\n` +
      `${subscribers} concurrent subscribers: ${messages} messages in ${seconds.toFixed(2)} s = ${(messages / seconds).toFixed(0)} messages/s, ${errors} errors\n`,
  )
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(0)
