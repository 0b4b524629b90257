import path from 'node:path'
import type { Config } from '../config.ts'
import { openDatabase, type Database } from './database.ts'

/** The database the configuration names: PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR. */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  return config.databaseUrl
    ? openDatabase({ databaseUrl: config.databaseUrl })
    : openDatabase({ dataDir: path.resolve(config.dataDir, 'pglite') })
}
