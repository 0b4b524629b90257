import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMigrations, diffSchemaAgainstMigrations, MIGRATIONS_DIR } from '../../src/db/migrate.ts'
import { openDatabase } from '../../src/db/database.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()

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
    // Four "processes" starting together (each its own pool), as replicas do on a deploy.
    const others = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ databaseUrl: TEST_DATABASE_URL, schema: db.schema, maxConnections: 4 })))
    try {
      expect(await Promise.all(others.map((other) => applyMigrations(other)))).toEqual([[], [], [], []])
      const held = await db.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369")
      expect(held).toEqual([])
    } finally {
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
