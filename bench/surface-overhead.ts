/**
 * Requests per second of a normal query through the whole HTTP stack, to
 * measure what the production surface (anonymous guard, CSRF, CORS, request-id
 * check) costs: run it on the code before and after, same machine, back to back.
 *   npx tsx bench/surface-overhead.ts [seconds per round = 5] [rounds = 3]
 * Servers: NODE_ENV=production and NODE_ENV=test (no anonymous guard), PGlite in memory.
 * Then CPU time per request in process (yoga.fetch, batches of 200 interleaved), which
 * a loaded machine disturbs less than throughput.
 */
import { randomBytes } from 'node:crypto'
import { issueToken } from '../src/auth/tokens.ts'
import { buildApp } from '../src/app.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { createLogger } from '../src/logger.ts'

const seconds = Number(process.argv[2] ?? 5)
const rounds = Number(process.argv[3] ?? 3)
const CONCURRENCY = 16

const db = await openDatabase({ dataDir: 'memory://' })
await applyMigrations(db)
const user = await db.prisma.user.create({ data: { email: 'bench@example.com', name: 'bench' } })
const token = await issueToken(db.prisma, user.id, 'bench')

async function requestsPerSecond(url: string, query: string, signedIn: boolean): Promise<number> {
  const body = JSON.stringify({ query })
  const headers = { 'content-type': 'application/json', ...(signedIn ? { authorization: `Bearer ${token}` } : {}) }
  const end = Date.now() + seconds * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const response = await fetch(url, { method: 'POST', headers, body })
        if (!response.ok) throw new Error(`status ${response.status}`)
        await response.arrayBuffer()
        done++
      }
    }),
  )
  return done / seconds
}

const servers: { nodeEnv: string; app: ReturnType<typeof buildApp>; url: string }[] = []
for (const nodeEnv of ['production', 'test']) {
  const app = buildApp({ config: { ...parseConfig({ NODE_ENV: nodeEnv, LOG_LEVEL: 'silent', SECRET_KEY: randomBytes(48).toString('base64url'), MAX_OPERATIONS_PER_USER: '1000' }), port: 0, host: '127.0.0.1' }, db, logger: createLogger('silent') })
  servers.push({ nodeEnv, app, url: (await app.start()).url })
}
const cases = [
  ['signed in: { me { email } }', '{ me { email } }', true],
  ['anonymous: { __typename }', '{ __typename }', false],
] as const
for (const { url } of servers) await requestsPerSecond(url, '{ __typename }', false) // warm up
for (let round = 1; round <= rounds; round++) {
  for (const [name, query, signedIn] of cases) {
    for (const { nodeEnv, url } of servers) {
      process.stdout.write(`round ${round}  ${nodeEnv.padEnd(10)}  ${name.padEnd(28)}  ${(await requestsPerSecond(url, query, signedIn)).toFixed(0)} req/s\n`)
    }
  }
}
/** Process CPU microseconds per request over `count` sequential in-process requests. */
async function cpuPerRequest(app: (typeof servers)[number]['app'], query: string, signedIn: boolean, count: number): Promise<number> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json', ...(signedIn ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query }) }
  const start = process.cpuUsage()
  for (let i = 0; i < count; i++) await (await app.yoga.fetch('http://localhost/graphql', init)).arrayBuffer()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / count
}
for (const [name, query, signedIn] of cases) {
  const samples = new Map<string, number[]>(servers.map(({ nodeEnv }) => [nodeEnv, []]))
  for (let batch = 0; batch < 10; batch++) {
    for (const { nodeEnv, app } of servers) samples.get(nodeEnv)!.push(await cpuPerRequest(app, query, signedIn, 200))
  }
  for (const [nodeEnv, values] of samples) {
    const median = values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    process.stdout.write(`cpu  ${nodeEnv.padEnd(10)}  ${name.padEnd(28)}  ${median.toFixed(0)} µs/request (median of 10 batches of 200)\n`)
  }
}
for (const { app } of servers) await app.stop()
await db.close()
