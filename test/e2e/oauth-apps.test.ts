/**
 * Connected apps (issue 16, OAuth 2.0) end to end on a real server, on PGlite and PostgreSQL: the
 * authorization-code flow with PKCE (the browser's part done in Node here; web/e2e/oauth-consent.test.ts
 * runs it in Chromium), the app's access token on HTTP, SSE and graphql-ws, refresh rotation and the
 * revocation of the whole grant when a used refresh token comes back, `connectedApps` and
 * `revokeConnectedApp` (tokens refused at once, open streams closed on this process and, through the
 * database, on another), the consent API's refusals, and nothing secret in the database in clear.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { hashClientSecret } from '../../src/oauth/clients.ts'
import { sseClient, wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { authorizationUrl, consentInNode, exchangeCode, pkcePair, refresh, registerTestApp, REDIRECT_URI, tokenRequest } from '../helpers/oauth-partner.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

const LIVE = 'subscription { suggestions(input: { maxSuggestions: 5, slots: [] }) { __typename } }'
/** "Within a few seconds" on a busy machine: the default re-check runs every 2 s. */
const WITHIN = { timeout: 8000, interval: 50 }
const SCOPES = ['contacts:read', 'suggestions:read', 'suggestions:subscribe']

describe.each(kinds)('connected apps (OAuth 2.0), on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db)
    origin = new URL(server.url).origin
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  const newUser = (): Promise<FixtureUser> => createUserWithContacts(db.prisma, `user${++users}@example.com`, 8)

  /** A user who connected a new app for `scope`: the app, its tokens, the user. */
  async function connect(scope = SCOPES.join(' '), user?: FixtureUser) {
    const viewer = user ?? (await newUser())
    const app = await registerTestApp(db.prisma, SCOPES)
    const { verifier, challenge } = pkcePair()
    const { redirect, details } = await consentInNode(authorizationUrl(origin, app, { scope, state: 'st4te', challenge }), viewer.token)
    expect(redirect.searchParams.get('state')).toBe('st4te')
    const code = redirect.searchParams.get('code')!
    const tokens = await exchangeCode(origin, app, code, verifier)
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200)
    return { user: viewer, app, code, verifier, details, tokens: tokens.body as { access_token: string; refresh_token: string; scope: string; expires_in: number } }
  }

  const me = async (token: string) => (await server.query('{ me { email } }', {}, token)) as { data?: { me: { email: string } } | null; errors?: { extensions?: { code?: string } }[] }

  it('connects an app with the authorization code and PKCE: the consent shows the app and its scopes, the token acts for the user', async () => {
    const { user, details, tokens } = await connect()
    expect(details).toEqual({ uid: expect.any(String), app: { clientId: expect.stringMatching(/^app_/), name: 'Partner CRM' }, scopes: SCOPES, redirectOrigin: new URL(REDIRECT_URI).origin })
    expect(tokens.expires_in).toBe(600)
    expect(tokens.scope.split(' ').sort()).toEqual([...SCOPES].sort())
    expect(tokens.access_token).not.toMatch(/^prm_/)
    expect((await me(tokens.access_token)).data).toEqual({ me: { email: user.email } })
  })

  it('grants no more than the app registered for, and what the user was asked for only', async () => {
    const { tokens, details } = await connect('contacts:read')
    expect(details.scopes).toEqual(['contacts:read'])
    expect(tokens.scope).toBe('contacts:read')
    // A scope outside the app's registration is refused at the authorization endpoint.
    const app = await registerTestApp(db.prisma, ['contacts:read'])
    const response = await fetch(authorizationUrl(origin, app, { scope: 'contacts:write', state: 's', challenge: pkcePair().challenge }), { redirect: 'manual' })
    const location = new URL(response.headers.get('location')!)
    expect(location.href.startsWith(REDIRECT_URI)).toBe(true)
    expect(location.searchParams.get('error')).toBe('invalid_scope')
  })

  it('requires PKCE (S256): no challenge, a plain one, or a wrong verifier is refused', async () => {
    const user = await newUser()
    const app = await registerTestApp(db.prisma, SCOPES)
    for (const extra of [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }]) {
      const url = new URL(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's' }))
      for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value)
      const response = await fetch(url, { redirect: 'manual' })
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request')
    }
    const { challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge }), user.token)
    const wrong = await exchangeCode(origin, app, redirect.searchParams.get('code')!, pkcePair().verifier)
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  it('takes a code once, and only from its app with its secret', async () => {
    const { app, code, verifier } = await connect()
    expect((await exchangeCode(origin, app, code, verifier)).body.error).toBe('invalid_grant')
    expect((await exchangeCode(origin, { ...app, clientSecret: `${app.clientSecret}x` }, code, verifier)).body.error).toBe('invalid_client')
  })

  it('rotates refresh tokens; a used one coming back revokes the whole grant (every token of the chain)', async () => {
    const { app, tokens } = await connect()
    const first = await refresh(origin, app, tokens.refresh_token)
    expect(first.status).toBe(200)
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token)
    expect(first.body.access_token).not.toBe(tokens.access_token)
    const second = await refresh(origin, app, first.body.refresh_token!)
    expect(second.status).toBe(200)
    expect((await me(second.body.access_token!)).data?.me).toBeDefined()
    // The first refresh token again (a thief's copy, or the app's stale one): the chain is over.
    const reused = await refresh(origin, app, tokens.refresh_token)
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    expect((await refresh(origin, app, second.body.refresh_token!)).body.error).toBe('invalid_grant')
    for (const accessToken of [tokens.access_token, first.body.access_token!, second.body.access_token!]) {
      expect((await me(accessToken)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    }
  })

  it("an app's token works on HTTP GET and POST, SSE and graphql-ws", async () => {
    const { user, tokens } = await connect()
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ me { email } }')}`, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' } })
    expect(await get.json()).toEqual({ data: { me: { email: user.email } } })
    expect((await me(tokens.access_token)).data).toEqual({ me: { email: user.email } })
    for (const client of [sseClient(server.url, tokens.access_token), wsClient(server.url, tokens.access_token)]) {
      try {
        let first: unknown
        for await (const result of client.iterate({ query: LIVE })) {
          first = result
          break
        }
        expect(first).toMatchObject({ data: { suggestions: { __typename: 'SuggestionBatch' } } })
      } finally {
        await client.dispose()
      }
    }
  })

  it('lists connected apps and disconnects one: its tokens are refused at once, its graphql-ws and SSE streams end', async () => {
    const { user, app, tokens } = await connect()
    const listed = await server.query('{ connectedApps { id clientId name scopes connectedAt expiresAt } }', {}, user.token)
    expect(listed.data!.connectedApps).toEqual([{ id: expect.any(String), clientId: app.clientId, name: 'Partner CRM', scopes: SCOPES, connectedAt: expect.any(String), expiresAt: expect.any(String) }])
    const id = listed.data!.connectedApps[0].id as string

    let closeCode: number | undefined
    const ws = wsClient(server.url, tokens.access_token, { on: { closed: (event) => void (closeCode ??= (event as { code: number }).code) } })
    const wsEvents: unknown[] = []
    ws.subscribe({ query: LIVE }, { next: (result) => void wsEvents.push(result), error: () => {}, complete: () => {} })
    const sse = sseClient(server.url, tokens.access_token)
    const sseResults: { errors?: { extensions?: Record<string, unknown> }[] }[] = []
    let sseEnded = false
    const sseDone = (async () => {
      for await (const result of sse.iterate({ query: LIVE })) sseResults.push(result as (typeof sseResults)[number])
    })()
      .catch(() => {})
      .finally(() => (sseEnded = true))
    try {
      await vi.waitFor(() => expect(JSON.stringify(wsEvents)).toContain('SuggestionsComplete'), WITHIN)
      await vi.waitFor(() => expect(JSON.stringify(sseResults)).toContain('SuggestionsComplete'), WITHIN)
      // Another user cannot see or revoke it.
      const other = await newUser()
      expect((await server.query('{ connectedApps { id } }', {}, other.token)).data).toEqual({ connectedApps: [] })
      const foreign = await server.query('mutation($id: ID!) { revokeConnectedApp(id: $id) }', { id }, other.token)
      expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      // Nor can the app itself (its token is not the user's own sign-in).
      const byApp = await server.query('mutation($id: ID!) { revokeConnectedApp(id: $id) }', { id }, tokens.access_token)
      expect(byApp.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')

      expect((await server.query('mutation($id: ID!) { revokeConnectedApp(id: $id) }', { id }, user.token)).data).toEqual({ revokeConnectedApp: true })
      expect((await me(tokens.access_token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect((await refresh(origin, app, tokens.refresh_token)).body.error).toBe('invalid_grant')
      await vi.waitFor(() => expect(closeCode).toBe(4403), WITHIN)
      await vi.waitFor(() => expect(sseEnded).toBe(true), WITHIN)
      expect(sseResults.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect((await server.query('{ connectedApps { id } }', {}, user.token)).data).toEqual({ connectedApps: [] })
      expect((await server.query('mutation($id: ID!) { revokeConnectedApp(id: $id) }', { id }, user.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    } finally {
      await ws.dispose()
      sse.dispose()
      await sseDone
    }
  })

  it('closes the stream of a grant another process revoked (only the database knows)', async () => {
    const { user, tokens } = await connect()
    let closeCode: number | undefined
    const ws = wsClient(server.url, tokens.access_token, { on: { closed: (event) => void (closeCode ??= (event as { code: number }).code) } })
    const events: unknown[] = []
    ws.subscribe({ query: LIVE }, { next: (result) => void events.push(result), error: () => {}, complete: () => {} })
    try {
      await vi.waitFor(() => expect(JSON.stringify(events)).toContain('SuggestionsComplete'), WITHIN)
      const row = await db.prisma.oAuthPayload.findFirstOrThrow({ where: { kind: 'Grant', accountId: user.id } })
      await db.prisma.oAuthPayload.deleteMany({ where: { grantId: row.id } })
      await vi.waitFor(() => expect(closeCode).toBe(4403), WITHIN)
    } finally {
      await ws.dispose()
    }
  })

  it('connecting the same app again replaces the earlier connection', async () => {
    const first = await connect()
    const app = first.app
    const { verifier, challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge }), first.user.token)
    const again = await exchangeCode(origin, app, redirect.searchParams.get('code')!, verifier)
    expect(again.status).toBe(200)
    expect((await me(first.tokens.access_token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    expect((await me(again.body.access_token!)).data?.me.email).toBe(first.user.email)
    expect((await server.query('{ connectedApps { scopes } }', {}, first.user.token)).data).toEqual({ connectedApps: [{ scopes: ['contacts:read'] }] })
  })

  it('a denial sends access_denied to the app, and no grant is made', async () => {
    const user = await newUser()
    const app = await registerTestApp(db.prisma, SCOPES)
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read', state: 'd', challenge: pkcePair().challenge }), user.token, { deny: true })
    expect(redirect.searchParams.get('error')).toBe('access_denied')
    expect(redirect.searchParams.get('state')).toBe('d')
    expect(await db.prisma.oAuthPayload.count({ where: { kind: 'Grant', accountId: user.id } })).toBe(0)
  })

  it("the consent API takes the user's own sign-in only, and the interaction of this browser only", async () => {
    const { tokens } = await connect()
    const user = await newUser()
    const app = await registerTestApp(db.prisma, SCOPES)
    const started = await fetch(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge: pkcePair().challenge }), { redirect: 'manual' })
    const page = new URL(started.headers.get('location')!, origin)
    const cookie = started.headers
      .getSetCookie()
      .map((header) => header.split(';')[0])
      .join('; ')
    const details = (headers: Record<string, string>) => fetch(`${page.href}/details`, { headers })
    expect((await details({ cookie })).status).toBe(401)
    expect((await details({ cookie, authorization: `Bearer ${tokens.access_token}` })).status).toBe(403)
    // Another browser (no interaction cookie) with a valid sign-in: nothing to consent to.
    expect((await details({ authorization: `Bearer ${user.token}` })).status).toBe(404)
    expect((await details({ cookie, authorization: `Bearer ${user.token}` })).status).toBe(200)
    expect((await fetch(`${page.href}/confirm`, { headers: { cookie, authorization: `Bearer ${user.token}` } })).status).toBe(405)
  })

  it('registerOAuthApp: developers only; the app it registers works', async () => {
    const user = await newUser()
    const input = { name: 'Dev App', redirectUris: [REDIRECT_URI], scopes: ['contacts:read'] }
    const REGISTER = 'mutation($input: RegisterOAuthAppInput!) { registerOAuthApp(input: $input) { clientId clientSecret name redirectUris scopes } }'
    expect((await server.query(REGISTER, { input }, user.token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    await db.prisma.user.update({ where: { id: user.id }, data: { isDeveloper: true } })
    const registered = await server.query(REGISTER, { input }, user.token)
    expect(registered.data!.registerOAuthApp).toMatchObject({ name: 'Dev App', redirectUris: [REDIRECT_URI], scopes: ['contacts:read'] })
    const app = registered.data!.registerOAuthApp as { clientId: string; clientSecret: string }
    const stored = await db.prisma.oAuthPayload.findUniqueOrThrow({ where: { kind_id: { kind: 'Client', id: app.clientId } } })
    expect(stored.accountId).toBe(user.id)
    expect((stored.payload as { client_secret: string }).client_secret).toBe(hashClientSecret(app.clientSecret))
    const { verifier, challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge }), user.token)
    const tokens = await tokenRequest(origin, app, { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT_URI })
    expect(tokens.status).toBe(200)
  })

  it('keeps no client secret, code, access or refresh token in clear in the database', async () => {
    const { app, code, tokens } = await connect()
    const next = await refresh(origin, app, tokens.refresh_token)
    const dump = JSON.stringify(await db.prisma.oAuthPayload.findMany())
    for (const secret of [app.clientSecret, code, tokens.access_token, tokens.refresh_token, next.body.access_token!, next.body.refresh_token!]) expect(dump).not.toContain(secret)
  })

  it('an API token of ours is never sent to the OAuth check, and a random bearer is refused', async () => {
    const user = await newUser()
    const unknownOurs = `${user.token}x`
    expect((await me(unknownOurs)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    expect((await me('A'.repeat(43))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    expect((await me('not a token at all')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    const token = await issueToken(db.prisma, user.id, 'second')
    expect((await me(token)).data?.me.email).toBe(user.email)
  })
})
