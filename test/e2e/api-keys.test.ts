/**
 * Personal API keys end to end (issue 16, parts 1 and 3), on a real server: made by a session
 * (never by a key), listed, used over HTTP, SSE and graphql-ws within their scopes (a field outside
 * them is FORBIDDEN naming the scope, and the rest of the answer arrives), refused without a
 * database query when malformed, never stored, logged or echoed in clear, and revoked: the next
 * request is refused and its stream closes with 4403. And `npm run apikey`.
 */
import { spawnSync } from 'node:child_process'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { apiKeyChecksum, generateApiKey } from '../../src/auth/api-key-format.ts'
import { hashToken } from '../../src/auth/tokens.ts'
import { SCOPES } from '../../src/auth/scopes.ts'
import { sseResults, wsClient, wsResults } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { captureLogs, type LogLine } from '../helpers/log-capture.ts'
import { ROOT } from '../helpers/server-process.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name displayPrefix scopes createdAt expiresAt revokedAt } } }'
const LIST = '{ apiKeys { id name displayPrefix scopes expiresAt lastUsedAt revokedAt } }'
const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }'
const SUGGESTIONS = 'subscription { suggestions(input: { maxSuggestions: 3, slots: [], live: false }) { __typename ... on SuggestionBatch { suggestions { contact { name } } } } }'
const LIVE = 'subscription { suggestions(input: { maxSuggestions: 3, slots: [] }) { __typename } }'
const WITHIN = { timeout: 8000, interval: 50 }

interface Created {
  key: string
  apiKey: { id: string; name: string; displayPrefix: string; scopes: string[]; createdAt: string; expiresAt: string; revokedAt: string | null }
}

describe.each(kinds)('personal API keys, on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let logs: LogLine[]
  let users = 0
  /** Every SQL statement the server sent, in order. */
  const statements: string[] = []
  /** Every answer body the tests read, to search for keys in clear. */
  const answers: string[] = []
  /** Every key made in this file. */
  const keys: string[] = []

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => void statements.push(sql) })
    const captured = captureLogs('debug')
    logs = captured.lines
    server = await startTestServer(db, { logger: captured.logger })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  const newUser = (): Promise<FixtureUser> => createUserWithContacts(db.prisma, `keys${++users}@example.com`, 12)
  const query = async <Data = Record<string, any>>(document: string, variables: Record<string, unknown> | undefined, token: string) => {
    const answer = await server.query<Data>(document, variables, token)
    answers.push(JSON.stringify(answer))
    return answer
  }
  const createKey = async (session: string, scopes: string[], extra: Record<string, unknown> = {}) => {
    const answer = await query<{ createApiKey: Created }>(CREATE, { input: { name: 'script', scopes, ...extra } }, session)
    expect(answer.errors).toBeUndefined()
    keys.push(answer.data!.createApiKey.key)
    return answer.data!.createApiKey
  }

  it('a session makes a key: shown once, stored as a hash with its prefix, scopes and a 90-day expiry; listed without the key', async () => {
    const user = await newUser()
    const created = await createKey(user.token, ['suggestions:subscribe', 'contacts:read'])
    expect(created.key).toMatch(/^prm_key_[0-9A-Za-z]{36}$/)
    expect(created.apiKey).toMatchObject({ name: 'script', displayPrefix: created.key.slice(0, 12), scopes: ['contacts:read', 'suggestions:subscribe'], revokedAt: null })
    expect(new Date(created.apiKey.expiresAt).getTime() - new Date(created.apiKey.createdAt).getTime()).toBe(90 * 86_400_000)
    const row = await db.prisma.authToken.findUniqueOrThrow({ where: { tokenHash: hashToken(created.key) } })
    expect(row).toMatchObject({ kind: 'API_KEY', userId: user.id, displayPrefix: created.key.slice(0, 12) })
    const listed = await query<{ apiKeys: { id: string; displayPrefix: string }[] }>(LIST, undefined, user.token)
    expect(listed.data!.apiKeys).toEqual([expect.objectContaining({ id: created.apiKey.id, displayPrefix: created.key.slice(0, 12) })])
    expect(JSON.stringify(listed)).not.toContain(created.key)
    // Session tokens and keys are listed apart.
    const tokens = await query<{ tokens: { id: string }[] }>('{ tokens { id } }', undefined, user.token)
    expect(tokens.data!.tokens.map((token) => token.id)).not.toContain(created.apiKey.id)
  })

  it('a key answers within its scopes; a field outside them is FORBIDDEN naming the scope, and the rest arrives', async () => {
    const user = await newUser()
    const { key } = await createKey(user.token, ['suggestions:read'])
    const answer = await query<any>('{ me { email tags { name } } contacts(first: 2) { totalCount } suggestionsByStatus(statuses: [ACCEPTED]) { totalCount } apiKeys { id } }', undefined, key)
    expect(answer.data).toEqual({ me: { email: user.email, tags: null }, contacts: null, suggestionsByStatus: { totalCount: 0 }, apiKeys: null })
    const byPath = Object.fromEntries(answer.errors!.map((error) => [error.path!.join('.'), error.extensions]))
    expect(byPath).toEqual({
      'me.tags': { code: 'FORBIDDEN', scope: 'contacts:read' },
      contacts: { code: 'FORBIDDEN', scope: 'contacts:read' },
      apiKeys: { code: 'FORBIDDEN', requires: 'session' },
    })
    // A write outside the scopes changes nothing.
    const write = await query<any>('mutation { createGroup(name: "From a key") { id } }', undefined, key)
    expect(write.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', scope: 'contacts:write' })
    expect(await db.prisma.group.count({ where: { userId: user.id, name: 'From a key' } })).toBe(0)
    // node(id) checks the type's scope too.
    const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId: user.id } })
    const node = await query<any>('query($id: ID!) { node(id: $id) { id } }', { id: encodeGlobalID('Contact', contact.id) }, key)
    expect(node.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', scope: 'contacts:read' })
  })

  it('a key cannot make, list or revoke keys, whatever its scopes', async () => {
    const user = await newUser()
    const { key, apiKey } = await createKey(user.token, [...SCOPES])
    const made = await query<any>(CREATE, { input: { name: 'child', scopes: ['contacts:read'] } }, key)
    expect(made.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', requires: 'session' })
    const revoked = await query<any>(REVOKE, { id: apiKey.id }, key)
    expect(revoked.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', requires: 'session' })
    expect(await db.prisma.authToken.count({ where: { userId: user.id, kind: 'API_KEY' } })).toBe(1)
  })

  it('streams suggestions over SSE and graphql-ws with suggestions:subscribe; without it, one FORBIDDEN and no event', async () => {
    const user = await newUser()
    const allowed = (await createKey(user.token, ['suggestions:subscribe'])).key
    const refused = (await createKey(user.token, ['suggestions:read', 'contacts:read'])).key
    for (const run of [sseResults, wsResults]) {
      const events = await run(server.url, { query: SUGGESTIONS }, allowed)
      expect(events.every((event) => event.errors === undefined)).toBe(true)
      expect(events.map((event) => event.data!.suggestions.__typename)).toContain('SuggestionsComplete')
      expect(events.find((event) => event.data!.suggestions.__typename === 'SuggestionBatch')!.data!.suggestions.suggestions.length).toBeGreaterThan(0)
      answers.push(JSON.stringify(events))
    }
    const overSse = await sseResults(server.url, { query: SUGGESTIONS }, refused)
    expect(overSse).toEqual([{ errors: [expect.objectContaining({ extensions: { code: 'FORBIDDEN', scope: 'suggestions:subscribe' } })] }])
    const overWs = await wsResults(server.url, { query: SUGGESTIONS }, refused).catch((errors: unknown) => errors)
    expect(JSON.stringify(overWs)).toContain('"scope":"suggestions:subscribe"')
    expect(JSON.stringify(overWs)).not.toContain('SuggestionBatch')
  })

  it('the export and import routes and multipart imports check the scopes too, before reading or storing anything', async () => {
    const user = await newUser()
    const reader = (await createKey(user.token, ['contacts:read'])).key
    const importer = (await createKey(user.token, ['imports:write'])).key
    const origin = new URL(server.url).origin
    const get = (path: string, key: string) => fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${key}` } })
    const refused = async (response: Response, scope: string) => {
      expect(response.status).toBe(403)
      const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] }
      expect(body.errors[0]!.extensions).toEqual({ code: 'FORBIDDEN', scope })
    }
    await refused(await get('/export/contacts.vcf', importer), 'contacts:read')
    await refused(await get('/export/calendar.ics', reader), 'calendar:read')
    const allowed = await get('/export/contacts.csv', reader)
    expect(allowed.status).toBe(200)
    await allowed.arrayBuffer()

    const vcard = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n'
    await refused(await fetch(`${origin}/import/contacts`, { method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'text/vcard' }, body: vcard }), 'imports:write')
    const form = new FormData()
    form.append('operations', JSON.stringify({ query: 'mutation($file: File!) { importContacts(file: $file) { id } }', variables: { file: null } }))
    form.append('map', JSON.stringify({ 0: ['variables.file'] }))
    form.append('0', new Blob([vcard], { type: 'text/vcard' }), 'contacts.vcf')
    const multipart = await fetch(server.url, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${reader}` }, body: form })
    const body = (await multipart.json()) as { errors: { extensions: Record<string, unknown> }[] }
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'imports:write' })
    expect(await db.prisma.import.count({ where: { userId: user.id } })).toBe(0)
    const accepted = await fetch(`${origin}/import/contacts`, { method: 'POST', headers: { authorization: `Bearer ${importer}`, 'content-type': 'text/vcard' }, body: vcard })
    expect(accepted.status).toBe(202)
  })

  it('refuses a malformed key (a typo, a made-up one) with UNAUTHENTICATED and without any query of AuthToken', async () => {
    const user = await newUser()
    const { key } = await createKey(user.token, ['contacts:read'])
    const typo = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21)
    const random = `prm_key_${'Z'.repeat(30)}000000`
    const before = statements.length
    for (const bad of [typo, random, `${key}x`, key.slice(0, -1), 'prm_key_']) {
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bad}` }, body: JSON.stringify({ query: '{ me { id } }' }) })
      expect(response.status).toBeLessThan(500)
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] }
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED')
    }
    // graphql-ws too: the socket is refused (4403) without a lookup.
    const refusal = await wsResults(server.url, { query: '{ me { id } }' }, typo).catch((error: unknown) => error)
    expect((refusal as { code?: number }).code).toBe(4403)
    expect(statements.slice(before).filter((sql) => sql.includes('"AuthToken"'))).toEqual([])
    // A well-formed key that is not stored costs one lookup, and is refused the same way.
    const unknown = generateApiKey()
    const lookups = statements.length
    expect((await query<any>('{ me { id } }', undefined, unknown)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED')
    expect(statements.slice(lookups).filter((sql) => sql.includes('"AuthToken"'))).toHaveLength(1)
    expect(apiKeyChecksum(unknown.slice(8, 38))).toBe(unknown.slice(38))
  })

  it('revocation: the next request is refused, a live graphql-ws stream closes with 4403; another user, a session id: NOT_FOUND', async () => {
    const user = await newUser()
    const other = await newUser()
    const { key, apiKey } = await createKey(user.token, ['suggestions:subscribe', 'contacts:read'])
    const id = apiKey.id
    expect((await query<any>(REVOKE, { id }, other.token)).errors![0]!.extensions!.code).toBe('NOT_FOUND')
    const session = await db.prisma.authToken.findUniqueOrThrow({ where: { tokenHash: hashToken(user.token) } })
    expect((await query<any>(REVOKE, { id: encodeGlobalID('ApiKey', session.id) }, user.token)).errors![0]!.extensions!.code).toBe('NOT_FOUND')
    expect((await query<any>('{ me { id } }', undefined, key)).errors).toBeUndefined()

    let closed: number | undefined
    const events: unknown[] = []
    const client = wsClient(server.url, key, { on: { closed: (event) => void (closed ??= (event as { code: number }).code) } })
    client.subscribe({ query: LIVE }, { next: (result) => void events.push(result), error: () => {}, complete: () => {} })
    try {
      await vi.waitFor(() => expect(JSON.stringify(events)).toContain('SuggestionsComplete'), { timeout: 20_000 })
      const revoked = await query<any>(REVOKE, { id }, user.token)
      expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull()
      expect((await query<any>('{ me { id } }', undefined, key)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED')
      await vi.waitFor(() => expect(closed).toBe(4403), WITHIN)
      // Revoking again changes nothing.
      const again = await query<any>(REVOKE, { id }, user.token)
      expect(again.data.revokeApiKey.revokedAt).toBe(revoked.data.revokeApiKey.revokedAt)
    } finally {
      await client.dispose()
    }
  })

  it('an expired key is refused', async () => {
    const user = await newUser()
    const { key } = await createKey(user.token, ['contacts:read'], { expiresInDays: 1 })
    await db.prisma.authToken.update({ where: { tokenHash: hashToken(key) }, data: { expiresAt: new Date(Date.now() - 1000) } })
    expect((await query<any>('{ me { id } }', undefined, key)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED')
  })

  it('no key made above is anywhere in the database, the logs or an answer other than its creation', async () => {
    expect(keys.length).toBeGreaterThan(5)
    const tables = await db.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = $2', [db.schema, 'BASE TABLE'])
    expect(tables.map((table) => table.name)).toContain('AuthToken')
    let dump = ''
    for (const { name } of tables) {
      const rows = await db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${db.schema}"."${name}" t`)
      dump += rows.map((row) => row.row).join('\n')
    }
    const logged = logs.map((line) => JSON.stringify(line)).join('\n')
    expect(logged.length).toBeGreaterThan(0)
    const creations = answers.filter((answer) => answer.includes('"createApiKey"'))
    const others = answers.filter((answer) => !creations.includes(answer)).join('\n')
    for (const key of keys) {
      // The whole key and its secret part (without the prefix) alike.
      for (const secret of [key, key.slice(8)]) {
        expect(dump).not.toContain(secret)
        expect(logged).not.toContain(secret)
        expect(others).not.toContain(secret)
      }
      expect(dump).toContain(hashToken(key))
    }
  })
})

describe.skipIf(!kinds.includes('postgres'))('npm run apikey', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase('postgres')
  })
  afterAll(() => db?.destroy())

  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/apikey.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`, REDIS_URL: '' },
      encoding: 'utf8',
      timeout: 90_000,
    })

  it('prints the key alone, with the scopes and expiry asked for, for a user it creates', async () => {
    const result = run('--user', 'Script@Example.com', '--scopes', 'contacts:read,suggestions:subscribe', '--expires-days', '7')
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^prm_key_[0-9A-Za-z]{36}\n$/)
    const row = await db.prisma.authToken.findUniqueOrThrow({ where: { tokenHash: hashToken(result.stdout.trim()) }, include: { user: true } })
    expect(row).toMatchObject({ kind: 'API_KEY', scopes: ['contacts:read', 'suggestions:subscribe'], user: { email: 'script@example.com' } })
    expect(row.expiresAt!.getTime() - row.createdAt.getTime()).toBe(7 * 86_400_000)
  })

  it('names an unknown scope or a bad expiry, and prints no key', () => {
    const unknown = run('--user', 'script@example.com', '--scopes', 'contacts:read,contacts:eat')
    expect(unknown.status).toBe(1)
    expect(unknown.stdout).toBe('')
    expect(unknown.stderr.split('\n')[0]).toContain('"contacts:eat"')
    const long = run('--user', 'script@example.com', '--scopes', 'contacts:read', '--expires-days', '366')
    expect(long.status).toBe(1)
    expect(long.stderr.split('\n')[0]).toBe('--expires-days: must be an integer between 1 and 365, got 366')
  })
})
