/**
 * `npm run -s apikey -- --user <email> --scopes <list> [--expires-days N] [--name <label>]`: creates the
 * user if missing and prints a new personal API key with those scopes (comma- or space-separated),
 * alone on stdout, so scripts can read it. The key expires after N days (default 90, at most 365).
 * While a development server holds the embedded database, the key is made through that server: a
 * short-lived session token from `POST /dev/token` (http/dev-token.ts) calls `createApiKey`, then is revoked.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createApiKey, DEFAULT_API_KEY_DAYS, parseApiKeyInput, type ApiKeyInput } from '../auth/api-keys.ts'
import { SCOPES } from '../auth/scopes.ts'
import { ensureUser } from '../auth/users.ts'
import { loadConfigOrExit } from '../config.ts'
import { applyMigrations } from '../db/migrate.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'
import { SECRET_KEY_FILE } from '../cursors/secret-key-file.ts'
import { mintTokenThroughServer, SERVER_FILE } from '../http/dev-token.ts'
import { ClientError } from '../errors.ts'
import { emailAddress } from '../validation.ts'
import { databaseFailure } from '../failure.ts'

const USAGE = `usage: npm run -s apikey -- --user <email> --scopes <list> [--expires-days N] [--name <label>]
  scopes: ${SCOPES.join(', ')} (comma-separated)
  --expires-days: 1..365, default ${DEFAULT_API_KEY_DAYS}`

/** Exits 1 with the message; the usage lines only after an argument error. */
function fail(message: string, usage = false): never {
  process.stderr.write(`${message}\n${usage ? `${USAGE}\n` : ''}`)
  process.exit(1)
}

let values: { user?: string; scopes?: string; 'expires-days'?: string; name?: string; help?: boolean }
try {
  ;({ values } = parseArgs({
    options: {
      user: { type: 'string' },
      scopes: { type: 'string' },
      'expires-days': { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }))
} catch (error) {
  fail(error instanceof Error ? error.message : String(error), true)
}
if (values.help) {
  process.stdout.write(`${USAGE}\nPrints a new API key for the user (created if missing), alone on stdout. It is shown once: store it.\n`)
  process.exit(0)
}
if (!values.user) fail('--user is required', true)
if (values.scopes === undefined) fail('--scopes is required', true)
// The arguments first: a bad e-mail, scope or expiry is said as such, before any word about the database.
if (!emailAddress.safeParse(values.user.trim().toLowerCase()).success) fail(`not an email address: ${values.user}`, true)
const days = values['expires-days']
if (days !== undefined && !/^\d+$/.test(days)) fail(`--expires-days: not a whole number of days: ${days}`, true)
const input: ApiKeyInput = {
  name: values.name ?? 'cli',
  scopes: values.scopes.split(/[\s,]+/),
  expiresInDays: days === undefined ? undefined : Number(days),
}
try {
  parseApiKeyInput(input, new Date())
} catch (error) {
  if (error instanceof ClientError) fail(error.message.replace(/^input\.expiresInDays/, '--expires-days').replace(/^input\./, '--'), true)
  throw error
}

const config = loadConfigOrExit()
const user = values.user

/** Makes the key through the development server that holds the embedded database (see the file's comment). */
async function createThroughServer(): Promise<string> {
  const secretKey = config.secretKey ?? (await readFile(path.join(config.dataDir, SECRET_KEY_FILE), 'utf8')).trim()
  const session = await mintTokenThroughServer(config.dataDir, secretKey, user, 'apikey-cli')
  const { url } = JSON.parse(await readFile(path.join(config.dataDir, SERVER_FILE), 'utf8')) as { url: string }
  const call = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(new URL('/graphql', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
      body: JSON.stringify({ query, variables }),
    })
    return (await response.json()) as { data?: Record<string, any> | null; errors?: { message: string }[] }
  }
  try {
    const created = await call('mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input })
    const key = created.data?.createApiKey?.key
    if (typeof key !== 'string') throw new Error(created.errors?.[0]?.message ?? 'no key in the answer')
    return key
  } finally {
    // The session token was only the way in: it ends now.
    const tokens = await call('{ tokens { id current } }', {}).catch(() => undefined)
    const current = (tokens?.data?.tokens as { id: string; current: boolean }[] | undefined)?.find((token) => token.current)
    if (current) await call('mutation ($id: ID!) { revokeToken(id: $id) { id } }', { id: current.id }).catch(() => {})
  }
}

const db = await openConfiguredDatabase(config).catch(async (error: unknown) => {
  const message = databaseFailure(config.databaseUrl, 'open the database', error)
  // The embedded database is held by a running development server: ask it instead.
  if (!message.includes('is in use by process')) fail(message)
  try {
    process.stdout.write(`${await createThroughServer()}\n`)
    process.exit(0)
  } catch (asking) {
    fail(`${message}\nAsking that server for a key failed too: ${asking instanceof Error ? asking.message : String(asking)}`)
  }
})
try {
  await applyMigrations(db)
  const { id } = await ensureUser(db.prisma, user)
  const { key } = await createApiKey(db.prisma, id, input, { maxActive: config.maxTokensPerUser, now: new Date() })
  process.stdout.write(`${key}\n`)
  await db.close()
  process.exit(0) // the wasm engine leaves timers behind
} catch (error) {
  await db.close().catch(() => {})
  if (error instanceof ClientError) fail(error.message)
  fail(databaseFailure(config.databaseUrl, 'create the API key', error))
}
