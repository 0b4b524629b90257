/**
 * Entry point: config -> database (migrated) -> demo data (outside production)
 * -> app -> listen. SIGINT/SIGTERM stop it gracefully.
 */
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { loadOrIssueDemoToken } from './auth/demo-token-file.ts'
import { buildApp } from './app.ts'
import { loadConfigOrExit } from './config.ts'
import { loadOrCreateSecretKey } from './cursors/secret-key-file.ts'
import { applyMigrations } from './db/migrate.ts'
import { openConfiguredDatabase } from './db/open-configured.ts'
import { DEMO_EMAIL, seedDemoData } from './seed/seed.ts'
import { writeServerFile } from './http/dev-token.ts'
import { isLoopbackAddress } from './http/loopback.ts'
import { createLogger } from './logger.ts'
import { startSteps } from './start-steps.ts'
import { databaseFailure, errorCode, errorReason, withoutPassword } from './failure.ts'
import { pingRedis } from './pubsub/redis-ping.ts'

const STARTUP_TOKEN_NAME = 'development start-up token'

// Before any WebAssembly is instantiated (Prisma's query compiler, at the first query): V8 re-compiles a wasm
// function with its optimizing compiler once it has run a budget of code. At the default budget the start-up's
// few queries (the compiler reading the data model) already cross it, and the optimizing compiles' memory, freed
// afterwards, stays with the allocator: an idle process held about 70 MB more RSS. Ten times the default: the
// code that runs under load is still optimized, after a few more calls.
setFlagsFromString('--wasm-tiering-budget=18000000')

const environment = loadConfigOrExit()
const logger = createLogger(environment.logLevel)
// Production requires SECRET_KEY (config.ts); elsewhere a key kept in the data directory keeps cursors valid across restarts.
const config = {
  ...environment,
  secretKey:
    environment.secretKey ??
    (await loadOrCreateSecretKey(environment.dataDir).catch((error: unknown) => {
      logger.fatal({ err: error }, `cannot keep a secret key in ${environment.dataDir}: ${error instanceof Error ? error.message : String(error)}; set SECRET_KEY`)
      process.exit(1)
    })),
}

// In development the steps of a start are told on stderr, for a person (the JSON log stays on stdout).
const steps = startSteps(config.nodeEnv === 'development' ? process.stderr : null)

// DATA_DIR's default is absolute (the project's .data); shown from the current directory when it is below it.
const shownDataDir = relative(process.cwd(), config.dataDir).startsWith('..') ? config.dataDir : `./${relative(process.cwd(), config.dataDir)}`
const databaseStep = config.databaseUrl
  ? 'opening PostgreSQL'
  : existsSync(join(config.dataDir, 'pglite'))
    ? `opening the embedded database in ${shownDataDir}`
    : `creating the embedded database in ${shownDataDir} (first start only: 10-50 s)`
/**
 * Ends a start that cannot go on: one fatal line saying why (a system error's code, without its stack:
 * it is the environment, not a bug) and exit code 1.
 */
function startFailed(message: string, error: unknown): never {
  logger.fatal(errorCode(error) ? { code: errorCode(error) } : { err: error }, message)
  process.exit(1)
}
const databaseFailed = (doing: string, error: unknown) => startFailed(databaseFailure(config.databaseUrl, doing, error), error)

// Once, before anything connects to it: BullMQ and the pub/sub clients retry an unreachable Redis forever.
const { redisUrl } = config
if (redisUrl) {
  await steps.run('reaching Redis', () => pingRedis(redisUrl)).catch((error: unknown) => startFailed(`cannot reach Redis at ${withoutPassword(redisUrl)}: ${errorReason(error)}`, error))
}
const db = await steps.run(databaseStep, () => openConfiguredDatabase(config)).catch((error: unknown) => databaseFailed('open the database', error))
const applied = await steps.run('applying migrations', () => applyMigrations(db), (done) => `${done.length} applied`).catch((error: unknown) => databaseFailed('apply the migrations', error))
if (applied.length > 0) logger.info({ applied }, 'migrations applied')

let demoToken: string | undefined
let seededUserId: string | undefined
if (config.seedDemoData) {
  const { userId, created } = await steps.run('demo data (the first start seeds 2,000 contacts)', () => seedDemoData(db, { now: new Date() }), (seeded) => (seeded.created ? 'seeded' : 'already there'))
  if (created) {
    logger.info({ email: DEMO_EMAIL }, 'demo data seeded')
    seededUserId = userId // its stored suggestions are made once the jobs run
  }
  if (config.nodeEnv === 'development') {
    // The same token across restarts (kept in the data directory), so open tabs and copied curl commands keep working.
    demoToken = await loadOrIssueDemoToken(db.prisma, { dataDir: config.dataDir, userId, name: STARTUP_TOKEN_NAME, maxActive: config.maxTokensPerUser })
  }
}

const app = buildApp({ config, db, logger, demoToken })
const { url } = await steps.run('starting the server', () => app.start()).catch((error: unknown) => {
  if (errorCode(error) !== 'EADDRINUSE') startFailed(`cannot start the server: ${errorReason(error)}`, error)
  // Listen errors carry the port (METRICS_PORT's listener may be the busy one).
  const port = (error as { port?: number }).port ?? config.port
  startFailed(`port ${port} is in use: stop the other server or set ${port === config.metricsPort && port !== config.port ? 'METRICS_PORT' : 'PORT'}`, error)
})
// In development `npm run token` finds this server here when the embedded database is held by it.
const removeServerFile = config.nodeEnv === 'development' ? await writeServerFile(config.dataDir, url).catch(() => () => {}) : () => {}
if (seededUserId) void app.jobs.requestRegeneration(seededUserId).catch((error: unknown) => logger.warn({ err: error }, 'regeneration not queued'))
logger.info({ url, database: db.kind }, `the web app on ${url.replace(/graphql$/, '')}, GraphQL${config.nodeEnv === 'development' ? ' and GraphiQL' : ''} on ${url}`)
if (demoToken) logger.info({ email: DEMO_EMAIL }, `demo token (send as "Authorization: Bearer <token>"): ${demoToken}`)
if (demoToken && config.host !== undefined && !isLoopbackAddress(config.host)) {
  logger.warn({ host: config.host }, 'listening beyond loopback (HOST): the web app and GraphiQL hand the demo token only to this machine, at localhost')
}
steps.ready(url, demoToken)

let stopping = false
/**
 * SIGTERM/SIGINT: stop accepting, close WebSockets with 1001 (clients resume
 * elsewhere from their cursor), give requests a moment, then the database;
 * exit 0, or 1 when it takes longer than SHUTDOWN_TIMEOUT_MS.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting')
    process.exit(1)
  }, config.shutdownTimeoutMs)
  timer.unref()
  try {
    removeServerFile()
    await app.stop({ graceMs: Math.min(2000, config.shutdownTimeoutMs / 2) })
    await db.close()
    logger.info('stopped')
    process.exit(0)
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed')
    process.exit(1)
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
