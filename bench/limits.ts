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
 * the rounds, beside the process's CPU time per request (steadier on a busy
 * machine) and the cost check's own time. `--json` prints one JSON object.
 */
import { randomBytes } from 'node:crypto'
import { parse } from 'graphql'
import { buildApp } from '../src/app.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { costError } from '../src/graphql/limits/query-cost.ts'
import { createLogger } from '../src/logger.ts'
import { createSmallUser, measureRound, median, QUERY, type Round } from './request-rounds.ts'
import { benchArgs } from './args.ts'

const values = benchArgs('npm run bench:limits [-- --seconds S] [--rounds R] [--concurrency C] [--json]', {
  seconds: { type: 'string', default: '3' },
  rounds: { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '16' },
  json: { type: 'boolean', default: false },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const concurrency = Number(values.concurrency)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'



/** The limits' own work on this query, µs per request: the cost computed from the document and variables (the other checks are O(1) or cached). */
function costCheckMicros(schema: Parameters<typeof costError>[0]['schema']): number {
  const document = parse(QUERY)
  const runs = 20_000
  const started = performance.now()
  for (let i = 0; i < runs; i++) costError({ schema, document, variableValues: { first: 10 }, operationName: undefined, contextValue: {} }, 10_000)
  return ((performance.now() - started) * 1000) / runs
}

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10 })
try {
  await applyMigrations(db)
  const { token } = await createSmallUser(db.prisma)
  const config = { ...parseConfig({ NODE_ENV: 'production', SECRET_KEY: randomBytes(48).toString('base64url'), MAX_OPERATIONS_PER_USER: '1000' }), port: 0, host: '127.0.0.1' }
  const servers = {
    with: buildApp({ config, db, logger: createLogger('silent') }),
    without: buildApp({ config, db, logger: createLogger('silent'), withoutRequestLimits: true }),
  }
  const urls = { with: (await servers.with.start()).url, without: (await servers.without.start()).url }
  // Warm-up: JIT, Prisma's plans, the document caches.
  for (const variant of ['with', 'without'] as const) await measureRound(urls[variant], token, 1, concurrency)
  const measured = { with: [] as Round[], without: [] as Round[] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const)
    for (const variant of order) measured[variant].push(await measureRound(urls[variant], token, seconds, concurrency))
  }
  const figures = { with: measured.with.map((r) => r.rps), without: measured.without.map((r) => r.rps) }
  const cpu = { with: median(measured.with.map((r) => r.cpuMicrosPerRequest)), without: median(measured.without.map((r) => r.cpuMicrosPerRequest)) }
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
    // Each round's pair ran back to back: the median of their ratios suffers least from the machine's load changing.
    pairedRatio: Number(median(figures.with.map((rps, i) => rps / figures.without[i]!)).toFixed(3)),
    cpuMicrosPerRequestWithLimits: Math.round(cpu.with),
    cpuMicrosPerRequestWithoutLimits: Math.round(cpu.without),
    costCheckMicrosPerRequest: Number(costCheckMicros(servers.with.yoga.getEnveloped().schema).toFixed(2)),
    roundsWithLimitsRps: figures.with.map(Math.round),
    roundsWithoutLimitsRps: figures.without.map(Math.round),
    date: new Date().toISOString(),
  }
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    process.stdout.write(`small authenticated query, ${concurrency} concurrent clients, median of ${rounds} rounds of ${seconds} s\n`)
    process.stdout.write(`  with the limits:    ${result.withLimitsRps} req/s  (rounds: ${result.roundsWithLimitsRps.join(', ')})\n`)
    process.stdout.write(`  without the limits: ${result.withoutLimitsRps} req/s  (rounds: ${result.roundsWithoutLimitsRps.join(', ')})\n`)
    process.stdout.write(`  ratio (with / without): ${result.ratio}; median of the rounds' ratios: ${result.pairedRatio}\n`)
    process.stdout.write(`  CPU per request (server and clients): ${result.cpuMicrosPerRequestWithLimits} µs with, ${result.cpuMicrosPerRequestWithoutLimits} µs without\n`)
    process.stdout.write(`  the cost check alone: ${result.costCheckMicrosPerRequest} µs per request\n`)
  }
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(0)
