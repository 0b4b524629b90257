/**
 * `npm run -s oauth-client -- --name <app> --redirect-uri <url> [--redirect-uri <url>...] --scopes <a,b,...>`
 * registers a partner app (OAuth 2.0 client) and prints `client_id=...` and `client_secret=...` on stdout,
 * the secret this once (only its hash is stored). `--owner <email>` records the developer it belongs to.
 * `npm run -s oauth-client -- --developer <email>` lets that user (created if missing) register apps
 * themselves (`registerOAuthApp`); `--remove-developer <email>` takes it back.
 *
 * Trusted documents (persisted operations): `--documents <file.graphql|dir>` registers each file (a directory:
 * its `.graphql` and `.gql` files, recursively, by path) as a trusted document of the app just registered, or
 * of `--client <client_id>`, and prints `<id> <path>` per file (the id is the SHA-256 hex of the file's text);
 * `--trusted-only` sets the app to run its trusted documents only, `--any-documents` takes that back.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureUser } from '../auth/users.ts'
import { loadConfigOrExit } from '../config.ts'
import { applyMigrations } from '../db/migrate.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'
import { ClientError } from '../errors.ts'
import { databaseFailure } from '../failure.ts'
import { registerOAuthClient, setDeveloper } from '../oauth/clients.ts'
import { SCOPES } from '../auth/scopes.ts'
import { registerTrustedDocuments, setTrustedDocumentsOnly, MAX_DOCUMENTS_PER_CALL } from '../oauth/trusted-documents.ts'
import { schema } from '../graphql/schema.ts'
import { trustedDocumentChecks } from '../graphql/trusted-documents.ts'

const USAGE = [
  'usage: npm run -s oauth-client -- --name <app> --redirect-uri <url> [--redirect-uri <url>...] --scopes <list> [--owner <email>]',
  '       npm run -s oauth-client -- --developer <email> | --remove-developer <email>',
  '       npm run -s oauth-client -- --client <client_id> [--documents <file.graphql|dir>] [--trusted-only | --any-documents]',
  '       (--documents and --trusted-only also follow a registration: they apply to the new app)',
  `scopes (comma-separated): ${SCOPES.join(', ')}`,
].join('\n')

function fail(message: string, usage = false): never {
  process.stderr.write(`${message}\n${usage ? `${USAGE}\n` : ''}`)
  process.exit(1)
}

let values: {
  name?: string
  'redirect-uri'?: string[]
  scopes?: string
  owner?: string
  developer?: string
  'remove-developer'?: string
  client?: string
  documents?: string
  'trusted-only'?: boolean
  'any-documents'?: boolean
  help?: boolean
}
try {
  ;({ values } = parseArgs({
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      scopes: { type: 'string' },
      owner: { type: 'string' },
      developer: { type: 'string' },
      'remove-developer': { type: 'string' },
      client: { type: 'string' },
      documents: { type: 'string' },
      'trusted-only': { type: 'boolean' },
      'any-documents': { type: 'boolean' },
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
const trustedOnly = values['trusted-only'] ? true : values['any-documents'] ? false : undefined
if (values['trusted-only'] && values['any-documents']) fail('--trusted-only or --any-documents, not both', true)
const forExistingApp = values.client !== undefined
if (forExistingApp && values.documents === undefined && trustedOnly === undefined) fail('--client needs --documents, --trusted-only or --any-documents', true)
if (developer === undefined && !forExistingApp && (!values.name || !values['redirect-uri']?.length || !values.scopes)) {
  fail('--name, --redirect-uri and --scopes are required', true)
}

/** The GraphQL files of `path`: the file itself, or a directory's `.graphql` / `.gql` files, recursively, sorted by path. */
async function documentFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path]
  const entries = await readdir(path, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && /\.(graphql|gql)$/i.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
}

/** Registers the documents of `--documents` (in calls of at most MAX_DOCUMENTS_PER_CALL) and sets `--trusted-only`; prints `<id> <path>` lines. */
async function applyTrustedDocuments(prisma: typeof db.prisma, clientId: string): Promise<void> {
  const owner = { clientId, ownerId: null }
  if (values.documents !== undefined) {
    const files = await documentFiles(values.documents).catch((error: unknown) => fail(`cannot read ${values.documents}: ${(error as Error).message}`))
    if (files.length === 0) fail(`no .graphql or .gql file in ${values.documents}`)
    const checks = trustedDocumentChecks(schema, config.requestLimits)
    for (let start = 0; start < files.length; start += MAX_DOCUMENTS_PER_CALL) {
      const batch = files.slice(start, start + MAX_DOCUMENTS_PER_CALL)
      const texts = await Promise.all(batch.map((file) => readFile(file, 'utf8')))
      try {
        const ids = await registerTrustedDocuments(prisma, owner, texts, checks)
        ids.forEach((id, index) => process.stdout.write(`${id} ${batch[index]}\n`))
      } catch (error) {
        // `documents.<i>` names a file of this batch.
        if (!(error instanceof ClientError)) throw error
        const index = typeof error.details.field === 'string' ? /^documents\.(\d+)$/.exec(error.details.field)?.[1] : undefined
        throw index === undefined ? error : new ClientError(error.code, `${batch[Number(index)]}: ${error.message}`)
      }
    }
  }
  if (trustedOnly !== undefined) {
    await setTrustedDocumentsOnly(prisma, owner, trustedOnly)
    process.stderr.write(`${clientId} ${trustedOnly ? 'now runs its trusted documents only' : 'may now send any document'}\n`)
  }
}

const config = loadConfigOrExit()
const db = await openConfiguredDatabase(config).catch((error: unknown) => fail(databaseFailure(config.databaseUrl, 'open the database', error)))
try {
  await applyMigrations(db)
  if (developer !== undefined) {
    const isDeveloper = values.developer !== undefined
    if (isDeveloper) await ensureUser(db.prisma, developer)
    if (!(await setDeveloper(db.prisma, developer, isDeveloper))) fail(`no user ${developer}`)
    process.stderr.write(`${developer} ${isDeveloper ? 'may now register apps' : 'may no longer register apps'}\n`)
  } else if (forExistingApp) {
    await applyTrustedDocuments(db.prisma, values.client!)
  } else {
    const owner = values.owner === undefined ? null : (await ensureUser(db.prisma, values.owner)).id
    const app = await registerOAuthClient(db.prisma, {
      name: values.name!,
      redirectUris: values['redirect-uri']!,
      scopes: values.scopes!.split(',').map((scope) => scope.trim()).filter(Boolean),
      ownerId: owner,
    })
    process.stdout.write(`client_id=${app.clientId}\nclient_secret=${app.clientSecret}\n`)
    await applyTrustedDocuments(db.prisma, app.clientId)
  }
  await db.close()
  process.exit(0) // the wasm engine leaves timers behind
} catch (error) {
  await db.close().catch(() => {})
  if (error instanceof ClientError) fail(`${error.message}${typeof error.details.field === 'string' ? ` (${error.details.field})` : ''}`)
  fail(databaseFailure(config.databaseUrl, 'register the app', error))
}
