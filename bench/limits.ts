/**
 * `npm run bench:limits [-- --seconds 3 --rounds 5 --concurrency 16 --json]`
 *
 * What the request limits (src/graphql/limits/) cost a normal request: a small
 * authenticated query (`me` and a page of 10 contacts) over HTTP POST, against
 * two servers in this process on the same database (PostgreSQL, a fresh schema;
 * `DATABASE_URL` or the local `test` database): one with the limits, one
 * without (`withoutRequestLimits`: Yoga's defaults, as before the limits).
 * Rounds alternate between the two (and which goes first) so that the
 * machine's other load falls on both; requests per second are the median of
 * the rounds. `--json` prints one JSON object.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.ts'
import { issueToken } from '../src/auth/tokens.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { computeNextDueAt } from '../src/contacts/cadence.ts'
import { createLogger } from '../src/logger.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const concurrency = Number(values.concurrency)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const QUERY = 'query Home($first: Int) { me { email } contacts(first: $first) { edges { node { id name nextDueAt } } } }'
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Requests per second that `concurrency` clients get from `url` in `seconds`; every answer must carry data and no error. */
async function requestsPerSecond(url: string, token: string, durationSeconds: number): Promise<number> {
  const body = JSON.stringify({ query: QUERY, variables: { first: 10 } })
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` }
  const until = performance.now() + durationSeconds * 1000
  let completed = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const response = await fetch(url, { method: 'POST', headers, body })
        const result = (await response.json()) as { data?: unknown; errors?: unknown[] }
        if (response.status !== 200 || result.errors || !result.data) throw new Error(`unexpected answer: ${response.status} ${JSON.stringify(result)}`)
        completed++
      }
    }),
  )
  return completed / durationSeconds
}

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10 })
try {
  await applyMigrations(db)
  const createdAt = new Date()
  const user = await db.prisma.user.create({ data: { email: 'bench@example.com' } })
  await db.prisma.contact.createMany({
    data: Array.from({ length: 100 }, (_, i) => ({
      userId: user.id,
      name: `Contact ${String(i).padStart(3, '0')}`,
      createdAt,
      nextDueAt: computeNextDueAt({ frequencyPreference: null, dunbarCircle: null, lastContactDate: null, createdAt }),
    })),
  })
  const token = await issueToken(db.prisma, user.id)
  const config = { ...parseConfig({ NODE_ENV: 'production' }), port: 0, host: '127.0.0.1' }
  const servers = {
    with: buildApp({ config, db, logger: createLogger('silent') }),
    without: buildApp({ config, db, logger: createLogger('silent'), withoutRequestLimits: true }),
  }
  const urls = { with: (await servers.with.start()).url, without: (await servers.without.start()).url }
  // Warm-up: JIT, Prisma's plans, the document caches.
  for (const variant of ['with', 'without'] as const) await requestsPerSecond(urls[variant], token, 1)
  const figures = { with: [] as number[], without: [] as number[] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const)
    for (const variant of order) figures[variant].push(await requestsPerSecond(urls[variant], token, seconds))
  }
  await servers.with.stop()
  await servers.without.stop()
  const result = {
    query: QUERY,
    concurrency,
    seconds,
    rounds,
    withLimitsRps: Math.round(median(figures.with)),
    withoutLimitsRps: Math.round(median(figures.without)),
    ratio: Number((median(figures.with) / median(figures.without)).toFixed(3)),
    roundsWithLimitsRps: figures.with.map(Math.round),
    roundsWithoutLimitsRps: figures.without.map(Math.round),
    date: new Date().toISOString(),
  }
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    process.stdout.write(`small authenticated query, ${concurrency} concurrent clients, median of ${rounds} rounds of ${seconds} s\n`)
    process.stdout.write(`  with the limits:    ${result.withLimitsRps} req/s  (rounds: ${result.roundsWithLimitsRps.join(', ')})\n`)
    process.stdout.write(`  without the limits: ${result.withoutLimitsRps} req/s  (rounds: ${result.roundsWithoutLimitsRps.join(', ')})\n`)
    process.stdout.write(`  ratio (with / without): ${result.ratio}\n`)
  }
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(0)
