/**
 * Production runs the compiled build (`npm start`: `node dist/server/main.js`): built here when stale,
 * started on an empty PostgreSQL schema with NODE_ENV=production, it finds its migrations from dist/,
 * applies them (the schema engine's chunk loads), serves GraphQL and a protected /metrics.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { ensureUser } from '../../src/auth/users.ts'
import { openDatabase, type Database } from '../../src/db/database.ts'
import { availableDatabaseKinds, TEST_DATABASE_URL } from '../helpers/databases.ts'
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts'

const kinds = await availableDatabaseKinds()
const METRICS_TOKEN = randomBytes(24).toString('base64url')

describe.runIf(kinds.includes('postgres'))('the compiled server (dist/server/main.js) in production on PostgreSQL', () => {
  const schema = `compiled_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  let db: Database
  let server: ServerProcess
  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: TEST_DATABASE_URL, schema, maxConnections: 2 }) // not migrated: the server does it
    server = await startServerProcess(
      { DATABASE_URL: `${TEST_DATABASE_URL}?schema=${schema}`, NODE_ENV: 'production', METRICS_TOKEN, SEED_DEMO_DATA: 'false', REDIS_URL: '' },
      { compiled: true },
    )
  })
  afterAll(async () => {
    server?.child.kill('SIGTERM')
    await server?.exited
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await db?.close()
  })

  it('applies the migrations on its first start and answers a query', async () => {
    const migrated = server.logs.find((entry) => entry.msg === 'migrations applied')
    expect(migrated?.applied).toEqual(expect.arrayContaining(['20261125072640_init']))
    const user = await ensureUser(db.prisma, 'compiled@example.com')
    const token = await issueToken(db.prisma, user.id)
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    })
    expect(await response.json()).toEqual({ data: { me: { email: 'compiled@example.com' } } })
  })

  it('serves /metrics with its token only', async () => {
    const metrics = new URL('/metrics', server.url)
    expect((await fetch(metrics)).status).toBe(401)
    const response = await fetch(metrics, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(response.status).toBe(200)
    expect(await response.text()).toMatch(/^nodejs_heap_used_bytes \d+/m)
  })
})
