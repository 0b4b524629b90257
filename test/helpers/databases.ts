/**
 * Test databases: a fresh in-memory PGlite, or a fresh schema in the PostgreSQL
 * `test` database (so concurrent runs never collide), both migrated.
 * PostgreSQL tests must run in CI: there a missing server is a failure.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDatabase, type Database } from '../../src/db/database.ts'
import { applyMigrations } from '../../src/db/migrate.ts'

export type DatabaseKind = 'pglite' | 'postgres'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const inCI = process.env.CI === 'true' || process.env.CI === '1'

let reachable: boolean | undefined
async function postgresReachable(): Promise<boolean> {
  if (reachable !== undefined) return reachable
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    reachable = true
  } catch {
    reachable = false
  } finally {
    await client.end().catch(() => {})
  }
  return reachable
}

/**
 * The kinds to run against: both when PostgreSQL answers; outside CI a missing
 * PostgreSQL drops it (with a warning); in CI it throws, failing the run.
 */
export async function availableDatabaseKinds(): Promise<DatabaseKind[]> {
  if (await postgresReachable()) return ['pglite', 'postgres']
  if (inCI) throw new Error(`PostgreSQL is required in CI and is not reachable at ${TEST_DATABASE_URL}`)
  process.stderr.write(`warning: PostgreSQL not reachable at ${TEST_DATABASE_URL}; its tests are skipped (outside CI only)\n`)
  return ['pglite']
}

export interface TestDatabase extends Database {
  /** Closes the connections and drops the test schema. */
  destroy(): Promise<void>
}

export async function openTestDatabase(
  kind: DatabaseKind,
  options: { onQuery?: (sql: string) => void } = {},
): Promise<TestDatabase> {
  const schema = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const db =
    kind === 'pglite'
      ? await openDatabase({ dataDir: 'memory://', ...options })
      : await openDatabase({ databaseUrl: TEST_DATABASE_URL, schema, maxConnections: 4, ...options })
  await applyMigrations(db)
  return Object.assign(db, {
    async destroy() {
      if (kind === 'postgres') await db.query(`DROP SCHEMA "${schema}" CASCADE`)
      await db.close()
    },
  })
}
