import path from 'node:path'
import type { Config } from '../config.ts'
import { openDatabase, type Database } from './database.ts'

/**
 * The database the configuration names: PostgreSQL when DATABASE_URL is set
 * (its `?schema=` parameter, Prisma's convention, picks the schema; default
 * `public`), else PGlite under DATA_DIR.
 */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  if (!config.databaseUrl) return openDatabase({ dataDir: path.resolve(config.dataDir, 'pglite') })
  const url = new URL(config.databaseUrl)
  const schema = url.searchParams.get('schema') ?? undefined
  url.searchParams.delete('schema')
  return openDatabase({ databaseUrl: url.toString(), schema })
}
