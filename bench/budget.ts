/**
 * `npm run bench:budget [-- --seconds 3 --rounds 7 --concurrency 16 --json]`
 *
 * What the partner budgets (src/graphql/limits/budget.ts, issue 16 part 4) cost a partner's
 * request: a small authenticated query (`me` and a page of 10 contacts) over HTTP POST against two
 * servers in this process on the same database (PostgreSQL, a fresh schema; `DATABASE_URL` or the
 * local `test` database): one that budgets the credential, on Redis (`REDIS_URL` or the local one,
 * a key prefix of this run; budgets too large to refuse anything, so every request pays the whole
 * check: a lease and both buckets in one round trip, the lease given back after, the RateLimit
 * fields), and one that does not (a user's own session, as before the budgets). Rounds alternate
 * between the two (and which goes first); requests per second are the median of the rounds, with
 * the median of each round pair's ratio (the steadier figure on a shared machine), the CPU time
 * per request, the budget check's own latency (`admit` then `release`, one at a time) and the load
 * average. Goal: with / without ≥ 1 / 1.1.
 *
 * Both servers see the same personal API key (scope contacts:read). Beside these figures: the time
 * `authenticate` takes to refuse a random `prm_key_…` string (its checksum fails: no database query,
 * which the run checks with a query counter), against the same call with the valid key (one indexed
 * query on PostgreSQL), in this process.
 */
import { randomBytes, randomInt } from 'node:crypto'
import { loadavg } from 'node:os'
import { buildApp } from '../src/app.ts'
import { createApiKey } from '../src/auth/api-keys.ts'
import { API_KEY_LENGTH, API_KEY_PREFIX } from '../src/auth/api-key-format.ts'
import { authenticate } from '../src/auth/authenticate.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { createCredentialBudgets } from '../src/graphql/limits/budget.ts'
import { createLogger } from '../src/logger.ts'
import { createSmallUser, measureRound, median, QUERY, type Round } from './request-rounds.ts'
import { benchArgs, benchFail, positiveInteger } from './args.ts'

const USAGE = 'npm run bench:budget [-- --seconds S] [--rounds R] [--concurrency C] [--json]'
const values = benchArgs(USAGE, {
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'boolean', default: false },
})
const fail = (message: string) => benchFail(USAGE, message)
const seconds = positiveInteger('seconds', values.seconds, 3, fail)
const rounds = positiveInteger('rounds', values.rounds, 7, fail)
const concurrency = positiveInteger('concurrency', values.concurrency, 16, fail)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A string shaped like an API key (prefix, length, alphabet) with random characters: its checksum fails but for 1 in 62^6. */
const randomKey = () => API_KEY_PREFIX + Array.from({ length: API_KEY_LENGTH - API_KEY_PREFIX.length }, () => BASE62[randomInt(62)]).join('')

/** Mean microseconds per call of `authenticate` on `keys()`, after a warm-up; throws when a call's outcome is not `accepted`. */
async function timeAuthenticate(db: { prisma: Parameters<typeof authenticate>[0] }, keys: () => string, calls: number, accepted: boolean): Promise<number> {
  const once = async () => {
    if ((await authenticate(db.prisma, `Bearer ${keys()}`, new Date())) !== null !== accepted) throw new Error(`a ${accepted ? 'valid' : 'random'} key was ${accepted ? 'refused' : 'accepted'}`)
  }
  for (let i = 0; i < Math.min(calls, 200); i++) await once()
  const started = performance.now()
  for (let i = 0; i < calls; i++) await once()
  return ((performance.now() - started) * 1000) / calls
}

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const keyPrefix = `bench-budget-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
let queries = 0
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10, onQuery: () => queries++ })
try {
  await applyMigrations(db)
  const { userId } = await createSmallUser(db.prisma)
  const { key: token } = await createApiKey(db.prisma, userId, { name: 'bench', scopes: ['contacts:read'] }, { maxActive: 10, now: new Date() })
  // Budgets no request reaches: every request pays the check, none is refused.
  const config = {
    ...parseConfig({
      NODE_ENV: 'production',
      SECRET_KEY: randomBytes(48).toString('base64url'),
      MAX_OPERATIONS_PER_USER: '1000',
      PARTNER_POINTS_PER_HOUR: '1000000000000',
      PARTNER_BURST_POINTS: '1000000000000',
      PARTNER_CONCURRENT_REQUESTS: '10000',
    }),
    port: 0,
    host: '127.0.0.1',
  }
  const logger = createLogger('silent')
  const budgets = createCredentialBudgets({ limits: config.partnerBudgets, redisUrl: REDIS_URL, logger, keyPrefix })
  const servers = {
    with: buildApp({ config, db, logger, budgets, isBudgeted: () => true }),
    without: buildApp({ config, db, logger, isBudgeted: () => false }),
  }
  const urls = { with: (await servers.with.start()).url, without: (await servers.without.start()).url }
  // Warm-up: JIT, Prisma's plans, the document caches, the Redis scripts.
  // Every answer carries the RateLimit fields exactly when its server budgets.
  const rateLimitFields = (budgeted: boolean) => (response: Response) => {
    if ((response.headers.get('ratelimit') !== null) !== budgeted) throw new Error(`RateLimit fields ${budgeted ? 'missing' : 'unexpected'}`)
  }
  for (const variant of ['with', 'without'] as const) await measureRound(urls[variant], token, 1, concurrency, rateLimitFields(variant === 'with'))
  const measured = { with: [] as Round[], without: [] as Round[] }
  const loads: number[] = [loadavg()[0]!]
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const)
    for (const variant of order) measured[variant].push(await measureRound(urls[variant], token, seconds, concurrency, rateLimitFields(variant === 'with')))
    loads.push(loadavg()[0]!)
  }
  // The check alone, one at a time: the round trip a request waits for, and the lease's release.
  const checks = 2000
  const credential = { tokenId: 'bench-latency', kind: 'apiKey' }
  const started = performance.now()
  for (let i = 0; i < checks; i++) {
    const decision = await budgets.admit(credential, 53, 'request')
    if (!decision.allowed) throw new Error(`the bench's budget refused: ${decision.message}`)
    decision.release()
  }
  const checkMicros = ((performance.now() - started) * 1000) / checks
  // Refusing a random key: no query at all (counted), against authenticating the valid key (one query).
  const queriesBefore = queries
  const randomKeyMicros = await timeAuthenticate(db, randomKey, 100_000, false)
  if (queries !== queriesBefore) throw new Error(`refusing random keys sent ${queries - queriesBefore} queries`)
  const validKeyMicros = await timeAuthenticate(db, () => token, 2000, true)
  await servers.with.stop()
  await servers.without.stop()
  const figures = { with: measured.with.map((r) => r.rps), without: measured.without.map((r) => r.rps) }
  const result = {
    query: QUERY,
    store: 'redis',
    concurrency,
    seconds,
    rounds,
    withBudgetRps: Math.round(median(figures.with)),
    withoutBudgetRps: Math.round(median(figures.without)),
    ratio: Number((median(figures.with) / median(figures.without)).toFixed(3)),
    pairedRatio: Number(median(figures.with.map((rps, i) => rps / figures.without[i]!)).toFixed(3)),
    cpuMicrosPerRequestWithBudget: Math.round(median(measured.with.map((r) => r.cpuMicrosPerRequest))),
    cpuMicrosPerRequestWithoutBudget: Math.round(median(measured.without.map((r) => r.cpuMicrosPerRequest))),
    budgetCheckMicros: Math.round(checkMicros),
    randomKeyRefusalMicros: Number(randomKeyMicros.toFixed(2)),
    randomKeyRefusalQueries: 0,
    validKeyAuthenticateMicros: Math.round(validKeyMicros),
    randomKeyRefusalRatio: Number((randomKeyMicros / validKeyMicros).toFixed(4)),
    roundsWithBudgetRps: figures.with.map(Math.round),
    roundsWithoutBudgetRps: figures.without.map(Math.round),
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
    date: new Date().toISOString(),
  }
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    process.stdout.write(`small authenticated query, ${concurrency} concurrent clients, median of ${rounds} rounds of ${seconds} s; load average ${result.loadAverage.min.toFixed(2)}-${result.loadAverage.max.toFixed(2)}\n`)
    process.stdout.write(`  budgeted (Redis):  ${result.withBudgetRps} req/s  (rounds: ${result.roundsWithBudgetRps.join(', ')})\n`)
    process.stdout.write(`  not budgeted:      ${result.withoutBudgetRps} req/s  (rounds: ${result.roundsWithoutBudgetRps.join(', ')})\n`)
    process.stdout.write(`  ratio (with / without): ${result.ratio}; median of the rounds' ratios: ${result.pairedRatio} (goal ≥ ${(1 / 1.1).toFixed(3)}: overhead ≤ 1.1×)\n`)
    process.stdout.write(`  CPU per request (servers and clients): ${result.cpuMicrosPerRequestWithBudget} µs with, ${result.cpuMicrosPerRequestWithoutBudget} µs without\n`)
    process.stdout.write(`  the budget check alone (admit + release, one at a time): ${result.budgetCheckMicros} µs\n`)
    process.stdout.write(
      `  refusing a random API key: ${result.randomKeyRefusalMicros} µs, 0 queries (a valid key: ${result.validKeyAuthenticateMicros} µs, one query; ratio ${result.randomKeyRefusalRatio})\n`,
    )
  }
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(0)
