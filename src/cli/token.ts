/**
 * `npm run token -- --user <email> [--name <label>]`: creates the user if missing
 * and prints a new bearer token, alone on stdout, so scripts can read it. While a
 * development server holds the embedded database, the token comes from that server
 * (`POST /dev/token`, http/dev-token.ts).
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { issueToken } from '../auth/tokens.ts'
import { ensureUser } from '../auth/users.ts'
import { loadConfigOrExit } from '../config.ts'
import { applyMigrations } from '../db/migrate.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'
import { SECRET_KEY_FILE } from '../cursors/secret-key-file.ts'
import { mintTokenThroughServer } from '../http/dev-token.ts'
import { emailAddress } from '../validation.ts'
import { databaseFailure } from '../failure.ts'

const USAGE = 'usage: npm run token -- --user <email> [--name <label>]'

/** Exits 1 with the message; the usage line only after an argument error. */
function fail(message: string, usage = false): never {
  process.stderr.write(`${message}\n${usage ? `${USAGE}\n` : ''}`)
  process.exit(1)
}

let values: { user?: string; name?: string; help?: boolean }
try {
  ;({ values } = parseArgs({ options: { user: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }))
} catch (error) {
  fail(error instanceof Error ? error.message : String(error), true)
}
if (values.help) {
  process.stdout.write(`${USAGE}\nPrints a new bearer token for the user (created if missing), alone on stdout.\n`)
  process.exit(0)
}
if (!values.user) fail('--user is required', true)
// The arguments first: a bad e-mail is said as such, before any word about the database.
if (!emailAddress.safeParse(values.user.trim().toLowerCase()).success) fail(`not an email address: ${values.user}`, true)

const config = loadConfigOrExit()
const user = values.user
const db = await openConfiguredDatabase(config).catch(async (error: unknown) => {
  const message = databaseFailure(config.databaseUrl, 'open the database', error)
  // The embedded database is held by a running development server: ask it instead.
  if (!message.includes('is in use by process')) fail(message)
  try {
    const secretKey = config.secretKey ?? (await readFile(path.join(config.dataDir, SECRET_KEY_FILE), 'utf8')).trim()
    process.stdout.write(`${await mintTokenThroughServer(config.dataDir, secretKey, user, values.name)}\n`)
    process.exit(0)
  } catch (asking) {
    fail(`${message}\nAsking that server for a token failed too: ${asking instanceof Error ? asking.message : String(asking)}`)
  }
})
try {
  await applyMigrations(db)
  const { id } = await ensureUser(db.prisma, user)
  const token = await issueToken(db.prisma, id, values.name ?? 'cli', { maxActive: config.maxTokensPerUser })
  process.stdout.write(`${token}\n`)
  await db.close()
  process.exit(0) // the wasm engine leaves timers behind
} catch (error) {
  await db.close().catch(() => {})
  fail(databaseFailure(config.databaseUrl, 'issue the token', error))
}
