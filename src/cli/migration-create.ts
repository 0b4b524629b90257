/** `npm run db:migration:create -- <name>`: writes a migration from the diff between prisma/migrations and schema.prisma. */
import { createMigration } from '../db/migrate.ts'
import { errorReason, exitWith } from '../failure.ts'

const name = process.argv[2]
if (!name) {
  process.stderr.write('usage: npm run db:migration:create -- <snake_case_name>\n')
  process.exit(1)
}
try {
  const file = await createMigration(name, new Date())
  process.stdout.write(file ? `created ${file}\n` : 'schema.prisma matches the migrations: nothing to create\n')
  // The wasm engine leaves timers behind; exit explicitly.
  process.exit(0)
} catch (error) {
  exitWith(`cannot create the migration: ${errorReason(error)}`)
}
