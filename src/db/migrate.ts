/**
 * Applies `prisma/migrations` (the standard Prisma layout and `_prisma_migrations`
 * table, so the Prisma CLI stays interoperable) and writes new migrations as the
 * diff from the migrations folder to `schema.prisma`. The schema engine (wasm, tens
 * of MB) is loaded only when there is something to do, and released after.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { MigrationList } from '@prisma/schema-engine-wasm'
import { openDatabase, type Database } from './database.ts'
import { PROJECT_ROOT } from '../project-root.ts'

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma', 'migrations')
export const SCHEMA_PATH = path.join(PROJECT_ROOT, 'prisma', 'schema.prisma')

const noFilter = { externalTables: [], externalEnums: [] }

async function readMigrationList(migrationsDir: string): Promise<MigrationList> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => [])
  const directories = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
  const lockfilePath = path.join(migrationsDir, 'migration_lock.toml')
  return {
    baseDir: migrationsDir,
    lockfile: { path: lockfilePath, content: await readFile(lockfilePath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      directories.map(async (name) => {
        const filePath = path.join(migrationsDir, name, 'migration.sql')
        const content = await readFile(filePath, 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        )
        return { path: name, migrationFile: { path: 'migration.sql', content } }
      }),
    ),
  }
}

/**
 * Whether `_prisma_migrations` already records every migration of the folder as applied (finished,
 * not rolled back, the checksum Prisma computes: SHA-256 of migration.sql, in hex) and none as failed
 * or still running. Then the schema engine would apply nothing, and is not loaded. Anything else
 * (no table yet, a new or edited migration, a failed one, another process applying) is left to it.
 */
async function allApplied(db: Database, list: MigrationList): Promise<boolean> {
  const table = `"${db.schema}"._prisma_migrations`
  const [found] = await db.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table])
  if (!found?.exists) return false
  const rows = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM ${table}`,
  )
  if (rows.some((row) => row.finished_at === null && row.rolled_back_at === null)) return false
  const applied = new Map(rows.filter((row) => row.rolled_back_at === null).map((row) => [row.migration_name, row.checksum]))
  return list.migrationDirectories.every(({ path: name, migrationFile: { content } }) => {
    return content.tag === 'ok' && applied.get(name) === createHash('sha256').update(content.value).digest('hex')
  })
}

/**
 * Applies every pending migration, each in its own transaction. Returns the names applied (none: already current).
 * Checks `_prisma_migrations` first (plain SQL over `db`): when every migration is recorded as applied, it
 * returns at once, without loading the schema engine.
 *
 * On PostgreSQL it runs over connections of its own, closed afterwards: the schema
 * engine takes `pg_advisory_lock` so that processes starting together migrate one
 * at a time, and never unlocks (its native form closes its connection). Over the
 * app's pool the lock would stay with a pooled connection, and every other process
 * would time out waiting for it.
 */
export async function applyMigrations(db: Database, migrationsDir = MIGRATIONS_DIR): Promise<string[]> {
  const migrationsList = await readMigrationList(migrationsDir)
  if (await allApplied(db, migrationsList)) return []
  if (db.kind !== 'postgres' || !db.pool) return applyOver(db, migrationsList)
  const own = await openDatabase({ databaseUrl: db.pool.options.connectionString, schema: db.schema, maxConnections: 2 })
  try {
    return await applyOver(own, migrationsList)
  } finally {
    await own.close()
  }
}

async function applyOver(db: Database, migrationsList: MigrationList): Promise<string[]> {
  const { openSchemaEngine } = await import('./schema-engine.ts')
  const { engine, free } = await openSchemaEngine(db.adapterFactory, (script) => db.executeScriptAtomically(script))
  try {
    const output = await engine.applyMigrations({ migrationsList, filters: noFilter })
    return output.appliedMigrationNames
  } finally {
    free()
  }
}

/**
 * The SQL that takes a database from the migrations folder to the schema, or
 * an empty string when they agree. Computed on a throwaway in-memory PGlite
 * (its shadow database is another in-memory PGlite), never on a real database.
 */
export async function diffSchemaAgainstMigrations(
  migrationsDir = MIGRATIONS_DIR,
  schemaPath = SCHEMA_PATH,
): Promise<string> {
  const { openSchemaEngine } = await import('./schema-engine.ts')
  const scratch = await openDatabase({ dataDir: 'memory://' })
  const { engine, free } = await openSchemaEngine(scratch.adapterFactory, (script) =>
    scratch.executeScriptAtomically(script),
  )
  try {
    const result = await engine.diff({
      from: { tag: 'migrations', ...(await readMigrationList(migrationsDir)) },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: await readFile(schemaPath, 'utf8') }] },
      script: true,
      exitCode: null,
      filters: noFilter,
    })
    const script = result.stdout ?? ''
    return /^\s*(-- This is an empty migration\.)?\s*$/.test(script) ? '' : script
  } finally {
    free()
    await scratch.close()
  }
}

/** Writes `prisma/migrations/<timestamp>_<name>/migration.sql`; returns its path, or undefined when nothing changed. */
export async function createMigration(
  name: string,
  now: Date,
  migrationsDir = MIGRATIONS_DIR,
  schemaPath = SCHEMA_PATH,
): Promise<string | undefined> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`migration name must be snake_case ([a-z0-9_]+): ${name}`)
  // The engine reads the provider from the lockfile, which the first migration creates.
  await mkdir(migrationsDir, { recursive: true })
  const lockfile = path.join(migrationsDir, 'migration_lock.toml')
  await readFile(lockfile).catch(() =>
    writeFile(lockfile, '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n'),
  )
  const script = await diffSchemaAgainstMigrations(migrationsDir, schemaPath)
  if (script === '') return undefined
  const stamp = now.toISOString().replace(/\D/g, '').slice(0, 14)
  const directory = path.join(migrationsDir, `${stamp}_${name}`)
  await mkdir(directory, { recursive: true })
  const file = path.join(directory, 'migration.sql')
  await writeFile(file, script)
  return file
}
