/**
 * `npm run -s oauth-client -- --name <app> --redirect-uri <url> [--redirect-uri <url>...] --scopes <a,b,...>`
 * registers a partner app (OAuth 2.0 client) and prints `client_id=...` and `client_secret=...` on stdout,
 * the secret this once (only its hash is stored). `--owner <email>` records the developer it belongs to.
 * `npm run -s oauth-client -- --developer <email>` lets that user (created if missing) register apps
 * themselves (`registerOAuthApp`); `--remove-developer <email>` takes it back.
 */
import { parseArgs } from 'node:util'
import { ensureUser } from '../auth/users.ts'
import { loadConfigOrExit } from '../config.ts'
import { applyMigrations } from '../db/migrate.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'
import { ClientError } from '../errors.ts'
import { databaseFailure } from '../failure.ts'
import { registerOAuthClient, setDeveloper } from '../oauth/clients.ts'
import { SCOPES } from '../auth/scopes.ts'

const USAGE = [
  'usage: npm run -s oauth-client -- --name <app> --redirect-uri <url> [--redirect-uri <url>...] --scopes <list> [--owner <email>]',
  '       npm run -s oauth-client -- --developer <email> | --remove-developer <email>',
  `scopes (comma-separated): ${SCOPES.join(', ')}`,
].join('\n')

function fail(message: string, usage = false): never {
  process.stderr.write(`${message}\n${usage ? `${USAGE}\n` : ''}`)
  process.exit(1)
}

let values: { name?: string; 'redirect-uri'?: string[]; scopes?: string; owner?: string; developer?: string; 'remove-developer'?: string; help?: boolean }
try {
  ;({ values } = parseArgs({
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      scopes: { type: 'string' },
      owner: { type: 'string' },
      developer: { type: 'string' },
      'remove-developer': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }))
} catch (error) {
  fail(error instanceof Error ? error.message : String(error), true)
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const developer = values.developer ?? values['remove-developer']
if (developer === undefined && (!values.name || !values['redirect-uri']?.length || !values.scopes)) fail('--name, --redirect-uri and --scopes are required', true)

const config = loadConfigOrExit()
const db = await openConfiguredDatabase(config).catch((error: unknown) => fail(databaseFailure(config.databaseUrl, 'open the database', error)))
try {
  await applyMigrations(db)
  if (developer !== undefined) {
    const isDeveloper = values.developer !== undefined
    if (isDeveloper) await ensureUser(db.prisma, developer)
    if (!(await setDeveloper(db.prisma, developer, isDeveloper))) fail(`no user ${developer}`)
    process.stderr.write(`${developer} ${isDeveloper ? 'may now register apps' : 'may no longer register apps'}\n`)
  } else {
    const owner = values.owner === undefined ? null : (await ensureUser(db.prisma, values.owner)).id
    const app = await registerOAuthClient(db.prisma, {
      name: values.name!,
      redirectUris: values['redirect-uri']!,
      scopes: values.scopes!.split(',').map((scope) => scope.trim()).filter(Boolean),
      ownerId: owner,
    })
    process.stdout.write(`client_id=${app.clientId}\nclient_secret=${app.clientSecret}\n`)
  }
  await db.close()
  process.exit(0) // the wasm engine leaves timers behind
} catch (error) {
  await db.close().catch(() => {})
  if (error instanceof ClientError) fail(`${error.message}${typeof error.details.field === 'string' ? ` (${error.details.field})` : ''}`)
  fail(databaseFailure(config.databaseUrl, 'register the app', error))
}
