/**
 * `npm run bench:seed [-- --contacts N --users M]`: times the bulk load of
 * seedBenchUsers (COPY streamed with backpressure) into a fresh PostgreSQL
 * schema, with the tables' indexes in place, and prints seconds, contacts/s and
 * peak RSS. The schema is dropped at the end.
 *
 * DATABASE_URL names the server (default postgresql://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers } from '../src/seed/seed.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const NOW = new Date('2026-11-25T12:00:00.000Z')

function fail(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench:seed -- [--contacts N] [--users M] [--seed S]\n`)
  process.exit(1)
}

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) fail(`--${name} must be a positive integer, got "${text}"`)
  return value
}

let args
try {
  args = parseArgs({
    options: { contacts: { type: 'string' }, users: { type: 'string' }, seed: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  }).values
} catch (error) {
  fail((error as Error).message)
}
const contacts = positiveInteger('contacts', args.contacts, 1_000_000)
const users = positiveInteger('users', args.users, 1)
const seed = positiveInteger('seed', args.seed, 1)

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 2 })
let exitCode = 0
try {
  await applyMigrations(db)
  const rssBefore = process.memoryUsage().rss
  let peakHeap = 0
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }, 50)
  let contactsDoneAt = 0
  const started = performance.now()
  const result = await seedBenchUsers(db, {
    users,
    contacts,
    seed,
    now: NOW,
    emailPrefix: 'bench-seed',
    onProgress: (done, total) => {
      if (done === total && contactsDoneAt === 0) contactsDoneAt = performance.now()
    },
  })
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  // After the timing: what the load wrote (group ids live on the contact rows).
  const [{ count, groupIds } = { count: '0', groupIds: '0' }] = await db.query<{ count: string; groupIds: string }>(
    `SELECT count(*)::text AS count, coalesce(sum(cardinality("groupIds")), 0)::text AS "groupIds" FROM "Contact"`,
  )
  if (Number(count) !== users * contacts) throw new Error(`expected ${users * contacts} contacts, found ${count}`)
  const peakRss = process.resourceUsage().maxRSS * 1024
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
  const lines = [
    `bulk load into PostgreSQL (schema ${schema}, indexes in place)`,
    `  users              ${users}`,
    `  contacts           ${result.contacts.toLocaleString('en-US')}`,
    `  group ids          ${Number(groupIds).toLocaleString('en-US')} (in "Contact"."groupIds")`,
    `  total              ${seconds.toFixed(1)} s (the last contact was handed to COPY after ${((contactsDoneAt - started) / 1000).toFixed(1)} s; then commit, ANALYZE)`,
    `  contacts/s         ${Math.round(result.contacts / seconds).toLocaleString('en-US')}`,
    `  peak RSS           ${mb(peakRss)} (before the load: ${mb(rssBefore)}); peak heap used ${mb(peakHeap)}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
} catch (error) {
  process.stderr.write(`bench:seed failed: ${(error as Error).stack ?? String(error)}\n`)
  exitCode = 1
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close().catch(() => {})
}
process.exit(exitCode) // the wasm migration engine leaves timers behind
