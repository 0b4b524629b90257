/**
 * Trusted documents (issue 16 part 5) end to end on a real server, on PGlite and PostgreSQL: an app's
 * developer registers documents, the app's OAuth token runs them by id on HTTP POST and GET, SSE and
 * graphql-ws (the suggestions subscription); an unknown id, another app's id, or an id from a session
 * gives PERSISTED_QUERY_NOT_FOUND with a 4xx; an app set to trusted documents only has full documents
 * refused with PERSISTED_QUERY_ONLY on every transport; scopes and limits still apply to a document run
 * by id; rows go with the app; introspection needs `schema:introspect` for partner credentials. A fast-check
 * property sends random ids, extensions and documents: never a 5xx nor INTERNAL_SERVER_ERROR.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../../src/auth/api-keys.ts'
import { registerOAuthClient, type RegisteredClient } from '../../src/oauth/clients.ts'
import { MAX_DOCUMENTS_PER_APP, trustedDocumentId } from '../../src/oauth/trusted-documents.ts'
import { results, sseClient, sseResults, wsClient, wsResults, type Result } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { authorizationUrl, consentInNode, exchangeCode, pkcePair, REDIRECT_URI } from '../helpers/oauth-partner.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

const ME = '{ me { email } }'
const CONTACTS = 'query Few { contacts(first: 2) { edges { node { name } } } }'
const LIVE = 'subscription { suggestions(input: { maxSuggestions: 5, slots: [] }) { __typename } }'
const CREATE = 'mutation { createContact(input: { name: "By id" }) { id } }'
const INTROSPECTION = '{ __schema { queryType { name } } }'
const DOCUMENTS = [ME, CONTACTS, LIVE, CREATE]
const SCOPES = ['contacts:read', 'suggestions:subscribe']

const apollo = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: id } })

interface Answer {
  status: number
  body: Result & { data?: any }
}

describe.each(kinds)('trusted documents, on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let developer: FixtureUser
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db)
    origin = new URL(server.url).origin
    developer = await createUserWithContacts(db.prisma, 'dev@example.com', 3)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  /** An app of the developer's for `scopes`, with `documents` registered through the API. */
  async function app(scopes = SCOPES, documents: string[] = DOCUMENTS): Promise<{ app: RegisteredClient; ids: string[] }> {
    const registered = await registerOAuthClient(db.prisma, { name: 'Partner CRM', redirectUris: [REDIRECT_URI], scopes, ownerId: developer.id })
    const answer = await server.query('mutation($c: String!, $d: [String!]!) { registerTrustedDocuments(clientId: $c, documents: $d) }', { c: registered.clientId, d: documents }, developer.token)
    expect(answer.errors).toBeUndefined()
    return { app: registered, ids: answer.data!.registerTrustedDocuments as string[] }
  }

  /** A new user who connected `registered`: the access token. */
  async function connect(registered: RegisteredClient, scope = SCOPES.join(' ')): Promise<{ user: FixtureUser; token: string }> {
    const user = await createUserWithContacts(db.prisma, `user${++users}@example.com`, 6)
    const { verifier, challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, registered, { scope, state: 's', challenge }), user.token)
    const tokens = await exchangeCode(origin, registered, redirect.searchParams.get('code')!, verifier)
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200)
    return { user, token: tokens.body.access_token! }
  }

  async function post(token: string | undefined, body: Record<string, unknown>): Promise<Answer> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as Answer['body'] }
  }

  async function get(token: string, search: Record<string, string>): Promise<Answer> {
    const response = await fetch(`${server.url}?${new URLSearchParams(search)}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/graphql-response+json' } })
    return { status: response.status, body: (await response.json()) as Answer['body'] }
  }

  const codeOf = (answer: { body: Result }) => answer.body.errors?.[0]?.extensions?.code

  it('gives each document its SHA-256 id; registering again changes nothing', async () => {
    const { app: registered, ids } = await app()
    expect(ids).toEqual(DOCUMENTS.map(trustedDocumentId))
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/)
    const again = await server.query('mutation($c: String!, $d: [String!]!) { registerTrustedDocuments(clientId: $c, documents: $d) }', { c: registered.clientId, d: [ME, ME] }, developer.token)
    expect(again.data).toEqual({ registerTrustedDocuments: [ids[0], ids[0]] })
    expect(await db.prisma.trustedDocument.count({ where: { clientId: registered.clientId } })).toBe(DOCUMENTS.length)
  })

  it("runs a document by id for the app's token on POST (Apollo's extension and documentId), GET, SSE and graphql-ws", async () => {
    const { app: registered, ids } = await app()
    const { user, token } = await connect(registered)
    const expected = { data: { me: { email: user.email } } }
    expect(await post(token, { extensions: apollo(ids[0]!) })).toEqual({ status: 200, body: expected })
    expect(await post(token, { documentId: `sha256:${ids[0]}` })).toEqual({ status: 200, body: expected })
    expect(await post(token, { documentId: `sha256:${ids[0]!.toUpperCase()}` })).toEqual({ status: 200, body: expected })
    expect(await get(token, { extensions: JSON.stringify(apollo(ids[0]!)) })).toEqual({ status: 200, body: expected })
    expect(await get(token, { documentId: `sha256:${ids[1]}`, operationName: 'Few' })).toMatchObject({ status: 200, body: { data: { contacts: { edges: [{ node: { name: expect.any(String) } }, expect.anything()] } } } })
    // The subscription by id, over SSE and graphql-ws (a query too over graphql-ws).
    const first = (result: Result) => result.data != null
    const sse = await sseResults(server.url, { query: '', extensions: apollo(ids[2]!) } as never, token, first)
    expect(sse[0]).toMatchObject({ data: { suggestions: { __typename: 'SuggestionBatch' } } })
    const ws = await wsResults(server.url, { query: '', extensions: apollo(ids[2]!) } as never, token, first)
    expect(ws[0]).toMatchObject({ data: { suggestions: { __typename: 'SuggestionBatch' } } })
    expect(await wsResults(server.url, { query: '', documentId: `sha256:${ids[0]}` } as never, token)).toMatchObject([expected])
  })

  it('refuses an unknown id, another app\'s id and an id from a session or API key with PERSISTED_QUERY_NOT_FOUND (400), on every transport', async () => {
    const { app: mine, ids } = await app()
    const { app: theirs } = await app(SCOPES, ['{ me { name } }'])
    const { token } = await connect(mine)
    const { user, token: theirToken } = await connect(theirs)
    const unknown = trustedDocumentId('{ me { id } }')
    const { key } = await createApiKey(db.prisma, user.id, { name: 'k', scopes: ['contacts:read'] }, { maxActive: 100, now: new Date() })
    for (const [who, credential, id] of [
      ['unknown id', token, unknown],
      ['malformed id', token, 'not-a-hash'],
      ["another app's id", theirToken, ids[0]!],
      ['a session', user.token, ids[0]!],
      ['an API key', key, ids[0]!],
    ] as const) {
      const answer = await post(credential, { extensions: apollo(id) })
      expect([who, answer.status, codeOf(answer)]).toEqual([who, 400, 'PERSISTED_QUERY_NOT_FOUND'])
    }
    expect(await get(token, { documentId: `sha256:${unknown}` })).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] } })
    const [sse] = await sseResults(server.url, { query: '', extensions: apollo(unknown) } as never, token)
    expect(sse?.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND')
    await expect(wsResults(server.url, { query: '', extensions: apollo(ids[0]!) } as never, theirToken)).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }),
    ])
    // No valid credential (revoked, expired, none): UNAUTHENTICATED, so that an app refreshes as it would for a text.
    for (const [who, credential] of [
      ['no credential', undefined],
      ['a revoked or unknown token', 'not-a-valid-token'],
    ] as const) {
      const answer = await post(credential, { extensions: apollo(ids[0]!) })
      expect([who, answer.status, codeOf(answer)]).toEqual([who, 401, 'UNAUTHENTICATED'])
    }
    // Neither a query nor an id: BAD_REQUEST, as without the plugin.
    expect(await post(token, {})).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'BAD_REQUEST' } }] } })
  })

  it('an app on trusted documents only: full documents refused with PERSISTED_QUERY_ONLY on POST, GET, SSE and graphql-ws; ids still run; other credentials unaffected', async () => {
    const { app: registered, ids } = await app()
    const { user, token } = await connect(registered)
    const setOnly = (enabled: boolean) =>
      server.query('mutation($c: String!, $e: Boolean!) { setTrustedDocumentsOnly(clientId: $c, enabled: $e) }', { c: registered.clientId, e: enabled }, developer.token)
    expect((await setOnly(true)).data).toEqual({ setTrustedDocumentsOnly: true })

    expect(await post(token, { query: ME })).toMatchObject({ status: 403, body: { errors: [{ extensions: { code: 'PERSISTED_QUERY_ONLY' } }] } })
    // The text of a registered document is refused too: the id is what this app sends.
    expect(codeOf(await post(token, { query: ME, extensions: apollo(ids[0]!) }))).toBe('PERSISTED_QUERY_ONLY')
    // Introspection is a full document like any other.
    expect(codeOf(await post(token, { query: INTROSPECTION }))).toBe('PERSISTED_QUERY_ONLY')
    expect(await get(token, { query: ME })).toMatchObject({ status: 403, body: { errors: [{ extensions: { code: 'PERSISTED_QUERY_ONLY' } }] } })
    const [sse] = await sseResults(server.url, { query: LIVE }, token)
    expect(sse?.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY')
    const socket = wsClient(server.url, token)
    try {
      await expect(results(socket, { query: LIVE })).rejects.toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_ONLY' } })])
      // The socket stays open, and the id runs on it.
      const live = await results(socket, { query: '', extensions: apollo(ids[2]!) } as never, (result) => result.data != null)
      expect(live[0]).toMatchObject({ data: { suggestions: { __typename: 'SuggestionBatch' } } })
    } finally {
      await socket.dispose()
    }
    expect(await post(token, { extensions: apollo(ids[0]!) })).toEqual({ status: 200, body: { data: { me: { email: user.email } } } })
    // The user's own session sends what it likes.
    expect((await post(user.token, { query: ME })).body).toEqual({ data: { me: { email: user.email } } })

    expect((await setOnly(false)).data).toEqual({ setTrustedDocumentsOnly: false })
    expect((await post(token, { query: ME })).body).toEqual({ data: { me: { email: user.email } } })
  })

  it('scopes still apply to a document run by id', async () => {
    const { app: registered, ids } = await app(['contacts:read', 'contacts:write', 'suggestions:subscribe'])
    const { token } = await connect(registered, 'contacts:read')
    const answer = await post(token, { extensions: apollo(ids[3]!) })
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'contacts:write' })
    const ws = await wsResults(server.url, { query: '', extensions: apollo(ids[2]!) } as never, token)
    expect(ws[0]?.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'suggestions:subscribe' })
  })

  it("is the developer's: another user's session gets NOT_FOUND, an API key or an app's token FORBIDDEN", async () => {
    const { app: registered } = await app()
    const other = await createUserWithContacts(db.prisma, `other${++users}@example.com`, 1)
    const register = (token: string) =>
      server.query('mutation($c: String!) { registerTrustedDocuments(clientId: $c, documents: ["{ me { id } }"]) }', { c: registered.clientId }, token)
    expect((await register(other.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    const { key } = await createApiKey(db.prisma, developer.id, { name: 'k', scopes: ['contacts:read'] }, { maxActive: 100, now: new Date() })
    expect((await register(key)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requires: 'session' })
    const { token } = await connect(registered)
    expect((await register(token)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requires: 'session' })
  })

  it(`holds at most ${MAX_DOCUMENTS_PER_APP} documents per app (QUOTA_EXCEEDED), and its documents go with the app`, async () => {
    const { app: registered } = await app(SCOPES, [ME])
    const register = (documents: string[]) =>
      server.query('mutation($c: String!, $d: [String!]!) { registerTrustedDocuments(clientId: $c, documents: $d) }', { c: registered.clientId, d: documents }, developer.token)
    for (let start = 1; start < MAX_DOCUMENTS_PER_APP; start += 200) {
      const batch = Array.from({ length: Math.min(200, MAX_DOCUMENTS_PER_APP - start) }, (_, i) => `${ME} # ${start + i}`)
      expect((await register(batch)).errors).toBeUndefined()
    }
    expect(await db.prisma.trustedDocument.count({ where: { clientId: registered.clientId } })).toBe(MAX_DOCUMENTS_PER_APP)
    // Known texts still register (nothing new), a new one does not.
    expect((await register([ME])).errors).toBeUndefined()
    expect((await register([`${ME} # new`])).errors?.[0]?.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: MAX_DOCUMENTS_PER_APP, resource: 'trustedDocuments' })
    await db.prisma.oAuthPayload.delete({ where: { kind_id: { kind: 'Client', id: registered.clientId } } })
    expect(await db.prisma.trustedDocument.count({ where: { clientId: registered.clientId } })).toBe(0)
  })

  it('introspection: a partner credential needs schema:introspect (FORBIDDEN naming it otherwise), on HTTP and graphql-ws; sessions keep it', async () => {
    const { app: registered } = await app([...SCOPES, 'schema:introspect'], [ME])
    const { user, token: without } = await connect(registered)
    const { token: withScope } = await connect(registered, [...SCOPES, 'schema:introspect'].join(' '))
    const introspected = { data: { __schema: { queryType: { name: 'Query' } } } }
    expect((await post(without, { query: INTROSPECTION })).body.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', scope: 'schema:introspect' } })
    expect(codeOf(await post(without, { query: '{ __type(name: "Query") { name } }' }))).toBe('FORBIDDEN')
    expect((await post(without, { query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } })
    await expect(wsResults(server.url, { query: INTROSPECTION }, without)).rejects.toContainEqual(expect.objectContaining({ extensions: { code: 'FORBIDDEN', scope: 'schema:introspect' } }))
    expect((await post(withScope, { query: INTROSPECTION })).body).toEqual(introspected)
    expect(await wsResults(server.url, { query: INTROSPECTION }, withScope)).toMatchObject([introspected])
    expect((await post(user.token, { query: INTROSPECTION })).body).toEqual(introspected)
    const { key } = await createApiKey(db.prisma, user.id, { name: 'k', scopes: ['contacts:read'] }, { maxActive: 100, now: new Date() })
    expect(codeOf(await post(key, { query: INTROSPECTION }))).toBe('FORBIDDEN')
    const { key: introspectingKey } = await createApiKey(db.prisma, user.id, { name: 'k2', scopes: ['schema:introspect'] }, { maxActive: 100, now: new Date() })
    expect((await post(introspectingKey, { query: INTROSPECTION })).body).toEqual(introspected)
    // A typo's "Did you mean" would list fields by another way: the hint is only for credentials that may introspect.
    const typo = '{ contactz { totalCount } }'
    const hints = async (credential: string) => (await post(credential, { query: typo })).body.errors?.map((error) => error.message).join(' ') ?? ''
    expect(await hints(key)).not.toContain('Did you mean')
    expect(await hints(introspectingKey)).toContain('Did you mean "contacts"?')
    expect(await hints(user.token)).toContain('Did you mean "contacts"?')
  })

  it('random ids, extensions, documentIds and documents never give a 5xx or INTERNAL_SERVER_ERROR, on HTTP and graphql-ws', async () => {
    const { app: open, ids } = await app()
    const { app: only } = await app()
    await db.prisma.oAuthAppSettings.create({ data: { clientId: only.clientId, trustedDocumentsOnly: true } })
    const tokens = [(await connect(open)).token, (await connect(only)).token, developer.token]
    const hash = fc.oneof(fc.constantFrom(...ids), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 70 }), fc.string({ maxLength: 80 }), fc.anything())
    const body = fc.record(
      {
        query: fc.oneof(fc.constantFrom(ME, '', '{', LIVE), fc.string({ maxLength: 100 }), fc.anything()),
        extensions: fc.oneof(fc.record({ persistedQuery: fc.record({ version: fc.oneof(fc.constant(1), fc.anything()), sha256Hash: hash }, { requiredKeys: [] }) }), fc.anything()),
        documentId: fc.oneof(hash.map((value) => (typeof value === 'string' ? `sha256:${value}` : value)), fc.anything()),
        operationName: fc.oneof(fc.constantFrom('Few', 'Nope'), fc.anything()),
      },
      { requiredKeys: [] },
    )
    const internal = (result: unknown) => JSON.stringify(result).includes('INTERNAL_SERVER_ERROR')
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...tokens), async (params, token) => {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
          body: JSON.stringify(params),
        })
        const text = await response.text()
        expect(response.status, text).toBeLessThan(500)
        expect(internal(text), text).toBe(false)
      }),
      { numRuns: 60, seed: 16_5 },
    )
    // graphql-ws: one socket per token, random payloads (query must be a string there, else graphql-ws closes with 4400).
    for (const token of tokens) {
      const socket = wsClient(server.url, token)
      try {
        await fc.assert(
          fc.asyncProperty(body, async (params) => {
            // Shapes graphql-ws itself accepts (others close the socket with 4400 before us): a string query
            // (not the live subscription, which would not end), an object or no extensions, a string or no operationName.
            const { extensions, operationName, documentId } = params as Record<string, unknown>
            const payload = {
              query: typeof params.query === 'string' && params.query !== LIVE ? params.query : '',
              ...(extensions !== null && typeof extensions === 'object' && !Array.isArray(extensions) ? { extensions } : {}),
              ...(typeof operationName === 'string' ? { operationName } : {}),
              ...(documentId === undefined ? {} : { documentId }),
            }
            const outcome = await results(socket, payload as never).then(
              (received) => received,
              (error: unknown) => error,
            )
            expect(internal(outcome), JSON.stringify(outcome)).toBe(false)
            expect(outcome instanceof Error || (outcome as { code?: number }).code !== undefined, JSON.stringify(outcome)).toBe(false)
          }),
          { numRuns: 25, seed: 16_6 },
        )
      } finally {
        await socket.dispose()
      }
    }
  })

  it('random documents given to registerTrustedDocuments never give a 5xx or INTERNAL_SERVER_ERROR', async () => {
    const { app: registered } = await app(SCOPES, [ME])
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom(ME, CONTACTS, '{ __schema { types { name } } }', 'subscription { a }')), { maxLength: 5 }), async (documents) => {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${developer.token}` },
          body: JSON.stringify({ query: 'mutation($c: String!, $d: [String!]!) { registerTrustedDocuments(clientId: $c, documents: $d) }', variables: { c: registered.clientId, d: documents } }),
        })
        const text = await response.text()
        expect(response.status, text).toBeLessThan(500)
        expect(text).not.toContain('INTERNAL_SERVER_ERROR')
      }),
      { numRuns: 40, seed: 16_7 },
    )
  })

  it('has the SSE client see no difference from graphql-ws for an id (one stream each, then closed)', async () => {
    const { app: registered, ids } = await app()
    const { token } = await connect(registered)
    const client = sseClient(server.url, token)
    try {
      const [first] = await results(client, { query: '', documentId: `sha256:${ids[0]}` } as never)
      expect(first?.data).toBeDefined()
    } finally {
      client.dispose()
    }
  })
})
