import { randomBytes } from 'node:crypto'
import { appendFile, cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { applyMigrations, diffSchemaAgainstMigrations, MIGRATIONS_DIR } from '../../src/db/migrate.ts'
import { openDatabase } from '../../src/db/database.ts'
import { openSchemaEngine, schemaEngineState } from '../../src/db/schema-engine.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

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

  it('apply twice without change, and without loading the schema engine the second time', async () => {
    const before = await shape()
    expect(before.length).toBeGreaterThan(50)
    const { instantiations } = schemaEngineState()
    expect(await applyMigrations(db)).toEqual([])
    expect(schemaEngineState().instantiations).toBe(instantiations)
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
    // Four "processes" starting together on an empty schema (each its own pool), as replicas do on a first deploy:
    // the engine's lock lets one apply every migration, the others then find nothing to do. Their sessions (and
    // those applyMigrations opens from the same URL) carry an application_name of this test's own: other test
    // files migrate their schemas on the same server at the same time and take the same lock, and must not count.
    const applicationName = `migrations-test-${randomBytes(4).toString('hex')}`
    const url = new URL(TEST_DATABASE_URL)
    url.searchParams.set('application_name', applicationName)
    const schema = `${db.schema}_empty`
    await db.query(`CREATE SCHEMA "${schema}"`) // before the four: CREATE SCHEMA IF NOT EXISTS races with itself
    const others = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ databaseUrl: url.href, schema, maxConnections: 4 })))
    // Another client holding the lock while we look (as a concurrent test's migration does on a busy machine).
    const outsider = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: `${applicationName}-outsider` })
    await outsider.connect()
    try {
      const applied = await Promise.all(others.map((other) => applyMigrations(other)))
      expect(applied.filter((names) => names.length > 0)).toEqual([expect.arrayContaining(['20261125072640_init'])])
      expect(applied.filter((names) => names.length === 0)).toHaveLength(3)
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
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await Promise.all(others.map((other) => other.close()))
    }
  })

  it('loads the schema engine when a migration was edited since it was applied, and finds nothing to apply', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'))
    await cp(MIGRATIONS_DIR, dir, { recursive: true })
    await appendFile(path.join(dir, '20261125072640_init', 'migration.sql'), '\n-- a comment added after it was applied\n')
    const { instantiations } = schemaEngineState()
    expect(await applyMigrations(db, dir)).toEqual([])
    expect(schemaEngineState().instantiations).toBe(instantiations + 1)
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

it('releases the schema engine once the last one is freed: its wasm memory is collected', async () => {
  const db = await openDatabase({ dataDir: 'memory://' })
  try {
    let collected = false
    const registry = new FinalizationRegistry(() => (collected = true))
    // An engine of our own, open while applyMigrations opens and frees its one: the instance is shared, and
    // released when ours is freed. Done in a function of its own: no variable of this test keeps the engine.
    const applied = await (async () => {
      const ours = await openSchemaEngine(db.adapterFactory, (script) => db.executeScriptAtomically(script))
      registry.register(schemaEngineState().memory!, 'memory')
      const names = await applyMigrations(db)
      expect(schemaEngineState().memory).toBeDefined()
      ours.free()
      return names
    })()
    expect(applied).toContain('20261125072640_init')
    expect(schemaEngineState().memory).toBeUndefined()
    // (Every test database's migration instantiates it anew after such a release: that a new one works is shown there.)
    await vi.waitFor(
      () => {
        gc()
        expect(collected).toBe(true)
      },
      { timeout: 20_000, interval: 50 },
    )
  } finally {
    await db.close()
  }
})
