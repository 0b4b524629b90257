/**
 * `npm run token -- --user <email> [--name <label>]`: creates the user if missing
 * and prints a new bearer token, alone on stdout, so scripts can read it.
 */
import { parseArgs } from 'node:util'
import { issueToken } from '../auth/tokens.ts'
import { ensureUser } from '../auth/users.ts'
import { loadConfigOrExit } from '../config.ts'
import { applyMigrations } from '../db/migrate.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'

const USAGE = 'usage: npm run token -- --user <email> [--name <label>]'

/** Exits 1 with the message; the usage line only after an argument error. */
function fail(message: string, usage = false): never {
  process.stderr.write(`${message}\n${usage ? `${USAGE}\n` : ''}`)
  process.exit(1)
}

let values: { user?: string; name?: string }
try {
  ;({ values } = parseArgs({ options: { user: { type: 'string' }, name: { type: 'string' } } }))
} catch (error) {
  fail(error instanceof Error ? error.message : String(error), true)
}
if (!values.user) fail('--user is required', true)

const config = loadConfigOrExit()
const db = await openConfiguredDatabase(config).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))
try {
  await applyMigrations(db)
  const user = await ensureUser(db.prisma, values.user)
  const token = await issueToken(db.prisma, user.id, values.name ?? 'cli', { maxActive: config.maxTokensPerUser })
  process.stdout.write(`${token}\n`)
  await db.close()
  process.exit(0) // the wasm engine leaves timers behind
} catch (error) {
  await db.close().catch(() => {})
  fail(error instanceof Error ? error.message : String(error))
}
