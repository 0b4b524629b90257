import { randomBytes } from 'node:crypto'
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMigrations, diffSchemaAgainstMigrations, MIGRATIONS_DIR } from '../../src/db/migrate.ts'
import { openDatabase } from '../../src/db/database.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()
/** The advisory lock Prisma's schema engine takes while it migrates. */
const MIGRATION_LOCK = 72707369

it('schema.prisma and prisma/migrations agree (a schema change without its migration fails here)', async () => {
  expect(await diffSchemaAgainstMigrations()).toBe('')
})

describe.each(kinds)('migrations on %s', (kind) => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase(kind) // migrated once already
  })
  afterAll(() => db?.destroy())

  async function shape() {
    return db.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = current_schema()
        ORDER BY table_name, column_name`,
    )
  }

  it('apply twice without change', async () => {
    const before = await shape()
    expect(before.length).toBeGreaterThan(50)
    expect(await applyMigrations(db)).toEqual([])
    expect(await shape()).toEqual(before)
    const history = await db.query<{ migration_name: string; finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM _prisma_migrations',
    )
    expect(history.length).toBeGreaterThan(0)
    expect(history.every((row) => row.finished_at !== null)).toBe(true)
  })

  // Registered on PostgreSQL only (not skipped on PGlite): PGlite has one process by construction.
  const itOnPostgres = kind === 'postgres' ? it : () => {}
  itOnPostgres('migrates from several processes at once, and leaves no advisory lock held', async () => {
    // Four "processes" starting together (each its own pool), as replicas do on a deploy. Their sessions (and
    // those applyMigrations opens from the same URL) carry an application_name of this test's own: other test
    // files migrate their schemas on the same server at the same time and take the same lock, and must not count.
    const applicationName = `migrations-test-${randomBytes(4).toString('hex')}`
    const url = new URL(TEST_DATABASE_URL)
    url.searchParams.set('application_name', applicationName)
    const others = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ databaseUrl: url.href, schema: db.schema, maxConnections: 4 })))
    // Another client holding the lock while we look (as a concurrent test's migration does on a busy machine).
    const outsider = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: `${applicationName}-outsider` })
    await outsider.connect()
    try {
      expect(await Promise.all(others.map((other) => applyMigrations(other)))).toEqual([[], [], [], []])
      await outsider.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`)
      const locks = `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                      WHERE l.locktype = 'advisory' AND l.objid = ${MIGRATION_LOCK} AND l.granted`
      // Counting every session's locks (as this test did) sees the outsider's: the failure seen under load.
      expect((await db.query(locks)).length).toBeGreaterThan(0)
      expect(await db.query(`${locks} AND a.application_name = $1`, [applicationName])).toEqual([])
      // The filter names live sessions: the four pools' own connections carry the name.
      expect(await db.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).not.toEqual([])
    } finally {
      await outsider.end()
      await Promise.all(others.map((other) => other.close()))
    }
  })

  it('applies a failing migration atomically: nothing of it remains', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'))
    await cp(MIGRATIONS_DIR, dir, { recursive: true })
    await mkdir(path.join(dir, '29991231000000_broken'))
    await writeFile(
      path.join(dir, '29991231000000_broken', 'migration.sql'),
      'CREATE TABLE "HalfDone" (id int);\nINSERT INTO "HalfDone" VALUES (1);\nSELECT 1 / 0;\n',
    )
    await expect(applyMigrations(db, dir)).rejects.toThrow()
    const tables = await db.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'HalfDone'`,
    )
    expect(tables).toEqual([])
  })
})
