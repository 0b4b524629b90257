/**
 * `npm run bench:load [-- --users 100 --contacts 10000 --per-user 10]`
 *
 * 1,000 concurrent graphql-ws subscriptions (100 users × 10, 10,000 contacts
 * each, PostgreSQL in a fresh schema) against real server processes started
 * as users run them (`src/main.ts`, `--max-old-space-size=256`):
 *   1. one process, queue bound above the load: every stream must succeed;
 *   2. one process, deliberately over capacity (queue bound 200): the only
 *      error allowed is RATE_LIMITED;
 *   3. two processes behind Redis, clients split between them: throughput.
 * Prints, per scenario, peak RSS of each server (VmHWM), p50/p95/p99 time to
 * the first SuggestionBatch and to SuggestionsComplete, events/s, errors by code.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { issueToken } from '../src/auth/tokens.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers } from '../src/seed/seed.ts'
import { startServerProcess, type ServerProcess } from '../test/helpers/server-process.ts'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100' },
    contacts: { type: 'string', default: '10000' },
    'per-user': { type: 'string', default: '10' },
    'max-old-space': { type: 'string', default: '256' },
    scenarios: { type: 'string', default: 'single,over,pair' },
    /** Extra node flags for the servers, e.g. --cpu-prof. */
    'node-args': { type: 'string', default: '' },
  },
})
const users = Number(values.users)
const contacts = Number(values.contacts)
const perUser = Number(values['per-user'])
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const QUERY = `subscription { suggestions(input: { maxSuggestions: 50, batchSize: 100, slots: [], live: false }) { __typename
  ... on SuggestionBatch { suggestions { id priority reason slot { start } contact { id name } } } } }`

const schema = `load_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 4 })
const servers: ServerProcess[] = []
try {
  await applyMigrations(db)
  const seedStarted = performance.now()
  const { userIds } = await seedBenchUsers(db, { users, contacts, now: new Date() })
  await db.query('ANALYZE "Contact"')
  process.stdout.write(`seeded ${users} users × ${contacts.toLocaleString('en')} contacts in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n\n`)
  const tokens = await Promise.all(userIds.map((id) => issueToken(db.prisma, id)))

  const env = {
    DATABASE_URL: `${DATABASE_URL}?schema=${schema}`,
    NODE_ENV: 'production',
    // One deployment: every process signs and reads cursors with the same key.
    SECRET_KEY: randomBytes(48).toString('base64url'),
    SEED_DEMO_DATA: 'false',
    SUBSCRIPTIONS_PER_USER: String(perUser),
  }
  const start = async (count: number, extra: Record<string, string>) => {
    const started = await Promise.all(
      Array.from({ length: count }, () => startServerProcess({ ...env, ...extra }, { nodeArgs: [`--max-old-space-size=${values['max-old-space']}`, ...values['node-args'].split(' ').filter(Boolean)] })),
    )
    servers.push(...started)
    return started
  }
  const stop = async (group: ServerProcess[]) => {
    const peaks = group.map(peakRssMb)
    const walks = await Promise.all(group.map(walkStats))
    for (const server of group) server.child.kill('SIGTERM')
    const codes = await Promise.all(group.map((server) => server.exited))
    return { peaks, codes, walks }
  }

  const report = (name: string, result: LoadResult, stopped: Awaited<ReturnType<typeof stop>>) =>
    process.stdout.write(
      `## ${name}\n` +
        `streams: ${result.completed} complete of ${result.streams}; errors by code: ${JSON.stringify(result.errors)}\n` +
        `first batch: p50 ${ms(pct(result.first, 50))}, p95 ${ms(pct(result.first, 95))}, p99 ${ms(pct(result.first, 99))}\n` +
        `complete:    p50 ${ms(pct(result.done, 50))}, p95 ${ms(pct(result.done, 95))}, p99 ${ms(pct(result.done, 99))}\n` +
        `${result.events} events in ${result.seconds.toFixed(2)} s = ${(result.events / result.seconds).toFixed(0)} events/s (${result.throttled} SuggestionsThrottled)\n` +
        `server walks: ${stopped.walks.map((w) => `${w.count} walks, mean ${ms(w.meanMs)}`).join('; ')}\n` +
        `peak RSS: ${stopped.peaks.map((mb) => `${mb.toFixed(0)} MB`).join(', ')}; exit codes after SIGTERM: ${stopped.codes.join(', ')}\n\n`,
    )

  const scenarios = new Set(values.scenarios.split(','))
  let single: LoadResult | undefined
  if (scenarios.has('single')) {
    const one = await start(1, { GENERATION_QUEUE_LIMIT: String(users * perUser) })
    single = await load(one, tokens)
    report(`1 process, ${users * perUser} streams (queue bound ${users * perUser})`, single, await stop(one))
  }
  if (scenarios.has('over')) {
    const tight = await start(1, { GENERATION_QUEUE_LIMIT: '200' })
    report('1 process, deliberately over capacity (queue bound 200)', await load(tight, tokens), await stop(tight))
  }
  if (scenarios.has('pair')) {
    const two = await start(2, { GENERATION_QUEUE_LIMIT: String(users * perUser), REDIS_URL })
    const pair = await load(two, tokens)
    report(`2 processes behind Redis, ${users * perUser} streams split between them`, pair, await stop(two))
    if (single) process.stdout.write(`throughput, 2 processes / 1: ${(pair.events / pair.seconds / (single.events / single.seconds)).toFixed(2)}\n`)
  }
} finally {
  for (const server of servers) server.child.kill('SIGKILL')
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(0)

interface LoadResult {
  streams: number
  completed: number
  throttled: number
  first: number[]
  done: number[]
  events: number
  seconds: number
  errors: Record<string, number>
}

/** All streams at once, `perUser` per user, each on its own socket, spread over the servers. */
async function load(targets: ServerProcess[], tokens: string[]): Promise<LoadResult> {
  const clients: Client[] = []
  const result: LoadResult = { streams: 0, completed: 0, throttled: 0, first: [], done: [], events: 0, seconds: 0, errors: {} }
  const error = (code: string) => void (result.errors[code] = (result.errors[code] ?? 0) + 1)
  const streams = tokens.flatMap((token) => Array.from({ length: perUser }, () => token))
  result.streams = streams.length
  const started = performance.now()
  await Promise.all(
    streams.map(async (token, index) => {
      const target = targets[index % targets.length]!
      const client = createClient({ url: target.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true })
      clients.push(client)
      const t = performance.now()
      let first = 0
      try {
        for await (const message of client.iterate<{ suggestions: { __typename: string } }>({ query: QUERY })) {
          result.events++
          if (message.errors) for (const e of message.errors) error(String(e.extensions?.code ?? 'NO_CODE'))
          const type = message.data?.suggestions.__typename
          if (type === 'SuggestionBatch' && first === 0) first = performance.now() - t
          if (type === 'SuggestionsThrottled') result.throttled++
          if (type === 'SuggestionsComplete') {
            result.completed++
            result.done.push(performance.now() - t)
          }
        }
        if (first > 0) result.first.push(first)
      } catch (caught) {
        const errors = Array.isArray(caught) ? (caught as { extensions?: { code?: string } }[]) : []
        if (errors.length > 0) for (const e of errors) error(String(e.extensions?.code ?? 'NO_CODE'))
        else error(caught instanceof Error ? caught.message : `close ${(caught as { code?: number }).code ?? '?'}`)
      }
    }),
  )
  result.seconds = (performance.now() - started) / 1000
  await Promise.all(clients.map((client) => client.dispose()))
  return result
}

/** How many walks the server ran and their mean duration, from its /metrics. */
async function walkStats(server: ServerProcess): Promise<{ count: number; meanMs: number }> {
  const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text()
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
  const count = read('suggestion_generation_duration_seconds_count')
  return { count, meanMs: (read('suggestion_generation_duration_seconds_sum') / count) * 1000 }
}

/** The process's peak resident set (Linux VmHWM), in MB. */
function peakRssMb(server: ServerProcess): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8')
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`
}
