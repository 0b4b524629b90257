/** `npm run db:migrate`: applies pending migrations to the configured database (PGlite under DATA_DIR, or DATABASE_URL). */
import { loadConfigOrExit } from '../config.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'
import { applyMigrations } from '../db/migrate.ts'
import { databaseFailure, exitWith } from '../failure.ts'
import { createLogger } from '../logger.ts'

const config = loadConfigOrExit()
const logger = createLogger(config.logLevel)
const db = await openConfiguredDatabase(config).catch((error: unknown) => exitWith(databaseFailure(config.databaseUrl, 'open the database', error)))
try {
  const applied = await applyMigrations(db)
  logger.info({ applied, database: db.kind }, applied.length ? 'migrations applied' : 'database already up to date')
  await db.close()
  process.exit(0) // the wasm engine leaves timers behind
} catch (error) {
  await db.close().catch(() => {})
  exitWith(databaseFailure(config.databaseUrl, 'apply the migrations', error))
}
