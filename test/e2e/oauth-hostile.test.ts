/**
 * Property (issue 16): hostile requests to every `/oauth` endpoint (the authorization server and the
 * consent API) never get a 5xx, never crash the server and leave no unhandled rejection, on PGlite and
 * PostgreSQL. Requests mix a real app, a real user, a real interaction and real tokens with hostile
 * values: NUL bytes and invalid UTF-8 in raw percent-encodings, lone surrogates, huge strings, repeated
 * parameters, broken Basic credentials, forged cookies, every method, form, JSON and binary bodies.
 * Afterwards the whole flow still works. Seeded (16); `FUZZ_SEED` and `FUZZ_RUNS` explore further.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RegisteredClient } from '../../src/oauth/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { authorizationUrl, consentInNode, exchangeCode, pkcePair, registerTestApp, REDIRECT_URI } from '../helpers/oauth-partner.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const SEED = Number(process.env.FUZZ_SEED ?? 16)
const RUNS = Number(process.env.FUZZ_RUNS ?? 250)

/** What the property may pick from: the real things of the server under test (filled in beforeAll). */
const real = { clientId: '', clientSecret: '', uid: '', cookie: '', userToken: '', accessToken: '', refreshToken: '', code: '', verifier: '' }
const pickReal = (key: keyof typeof real) => fc.constant(null).map(() => real[key])

/** Raw fragments of a query string or form body, as a hostile client sends them (not re-encoded). */
const rawValues = fc.oneof(
  fc.constantFrom('', '%00', 'a%00b', '%ED%A0%80', '%FF%FE', '%', '%zz', '%2F..%2F..', '+', '%20', '%0D%0ASet-Cookie:%20x=1', 'javascript:alert(1)', 'http://evil.example/', 'S256', 'plain', 'code', 'none', 'openid'),
  fc.constantFrom('contacts:read', 'contacts:read%20suggestions:subscribe', 'offline_access', 'admin', 'authorization_code', 'refresh_token', 'client_credentials', 'consent', 'login'),
  fc.string({ maxLength: 40 }).map((value) => encodeURIComponent(value)),
  fc.string({ unit: 'binary', maxLength: 20 }).map((value) => [...Buffer.from(value, 'latin1')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom(10, 5000, 70_000).map((length) => 'x'.repeat(length)),
  pickReal('clientId'),
  pickReal('code'),
  pickReal('verifier'),
  pickReal('refreshToken'),
  pickReal('accessToken'),
  fc.constant(encodeURIComponent(REDIRECT_URI)),
)

const PARAMS = [
  'client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'resource', 'prompt',
  'request', 'request_uri', 'nonce', 'max_age', 'claims', 'response_mode', 'grant_type', 'code', 'code_verifier', 'refresh_token',
  'token', 'token_type_hint', 'client_secret', 'client_assertion', 'client_assertion_type', 'id_token_hint', 'post_logout_redirect_uri', 'xsrf', 'logout',
]

/** `name=value&...`, parameters repeated at times (a parameter twice is its own error). */
const rawPairs = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 8 }).map((name) => encodeURIComponent(name))), rawValues), { maxLength: 12 }).map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&'))

const paths = fc.oneof(
  fc.constantFrom('/oauth', '/oauth/', '/oauth/auth', '/oauth/token', '/oauth/token/revocation', '/oauth/token/introspection', '/oauth/jwks', '/oauth/me', '/oauth/reg'),
  fc.constantFrom('/oauth/.well-known/openid-configuration', '/oauth/session/end', '/oauth/session/end/confirm', '/oauth/session/end/success', '/oauth/device', '/oauth/request', '/oauth/backchannel'),
  fc.constantFrom('details', 'confirm', 'deny', '').chain((action) =>
    fc.oneof(pickReal('uid'), fc.constantFrom('x', 'A'.repeat(64), 'A'.repeat(65), '..', '%00', '%ED%A0%80')).map((uid) => `/oauth/consent/${uid}${action ? `/${action}` : ''}`),
  ),
  fc.oneof(pickReal('uid'), fc.constantFrom('x', '%00', '%ED%A0%80', 'A'.repeat(300))).map((uid) => `/oauth/auth/${uid}`),
  fc.string({ maxLength: 30 }).map((tail) => `/oauth/${encodeURIComponent(tail)}`),
  fc.constantFrom('/oauth/%00', '/oauth//token', '/oauth/token/', '/oauth/..%2F..%2Fgraphql', '/oauth/%ED%A0%80'),
)

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(null).map(() => `Basic ${Buffer.from(`${real.clientId}:${real.clientSecret}`).toString('base64')}`),
  fc.constant(null).map(() => `Basic ${Buffer.from(`${real.clientId}:wrong`).toString('base64')}`),
  fc.constantFrom('Basic', 'Basic ', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from('%00:%ED%A0%80').toString('base64')}`, `Basic ${Buffer.from(':').toString('base64')}`, 'Bearer', `Bearer ${'A'.repeat(43)}`),
  fc.constant(null).map(() => `Bearer ${real.userToken}`),
  fc.constant(null).map(() => `Bearer ${real.accessToken}`),
  fc.string({ maxLength: 40 }).map((value) => `Basic ${Buffer.from(value).toString('base64')}`),
)

const cookie = fc.oneof(
  fc.constant(undefined),
  fc.constant(null).map(() => real.cookie),
  fc.constantFrom('_interaction=x; _interaction.sig=y', '_session=A; _session.sig=B; _session.legacy=C', '_interaction=%00', '_interaction_resume=' + 'z'.repeat(5000)),
)

const body = fc.oneof(
  fc.constant(undefined),
  rawPairs.map((text) => ({ type: 'application/x-www-form-urlencoded', text })),
  rawPairs.map((text) => ({ type: 'application/json', text: JSON.stringify(Object.fromEntries(new URLSearchParams(text))) })),
  fc.constantFrom('{', '[]', 'null', '{"grant_type":["a","b"]}', '\u0000\u0001').map((text) => ({ type: 'application/json', text })),
  fc
    .tuple(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data'))
    .map(([bytes, type]) => ({ type, text: Buffer.from(bytes).toString('latin1') })),
)

const requests = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  path: paths,
  query: fc.option(rawPairs, { nil: undefined }),
  authorization,
  cookie,
  body,
  accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*'),
})

describe.each(kinds)('hostile requests to /oauth, on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let user: FixtureUser
  let app: RegisteredClient
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled)
    db = await openTestDatabase(kind)
    server = await startTestServer(db)
    origin = new URL(server.url).origin
    user = await createUserWithContacts(db.prisma, 'alice@example.com', 5)
    app = await registerTestApp(db.prisma, ['contacts:read', 'suggestions:subscribe'])
    const { verifier, challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge }), user.token)
    const tokens = await exchangeCode(origin, app, redirect.searchParams.get('code')!, verifier)
    // A pending interaction of "this browser", and a code not yet exchanged, for the property to poke at.
    const second = pkcePair()
    const started = await fetch(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge: second.challenge }), { redirect: 'manual' })
    Object.assign(real, {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      uid: new URL(started.headers.get('location')!, origin).pathname.split('/').at(-1)!,
      cookie: started.headers
        .getSetCookie()
        .map((header) => header.split(';')[0])
        .join('; '),
      userToken: user.token,
      accessToken: tokens.body.access_token!,
      refreshToken: tokens.body.refresh_token!,
      code: redirect.searchParams.get('code')!,
      verifier: second.verifier,
    })
  })
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    await server?.close()
    await db?.destroy()
  })

  it('never answers 5xx, never crashes, leaves no unhandled rejection', async () => {
    const seen = new Set<number>()
    await fc.assert(
      fc.asyncProperty(requests, async ({ method, path, query, authorization, cookie, body, accept }) => {
        const headers: Record<string, string> = {}
        if (authorization !== undefined) headers.authorization = authorization
        if (cookie !== undefined) headers.cookie = cookie
        if (accept !== undefined) headers.accept = accept
        const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD'
        if (sendsBody) headers['content-type'] = body.type
        let response: Response
        try {
          response = await fetch(`${origin}${path}${query === undefined ? '' : `?${query}`}`, {
            method,
            headers,
            redirect: 'manual',
            ...(sendsBody ? { body: Buffer.from(body.text, 'latin1') } : {}),
          })
        } catch (error) {
          // The client refused to send it (a header it cannot encode): nothing reached the server.
          if (error instanceof TypeError && !(error.cause instanceof Error && /ECONNRESET|ECONNREFUSED|other side closed/.test(error.cause.message))) return
          throw error
        }
        const text = await response.text()
        seen.add(response.status)
        expect(response.status, `${method} ${path}?${query ?? ''}: ${text.slice(0, 300)}`).toBeLessThan(500)
        expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|PrismaClient|invalid byte sequence/)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    // The requests reached the endpoints' own logic (redirects, answers, refusals), not only 404s.
    expect([...seen]).toEqual(expect.arrayContaining([200, 303, 400, 401, 404, 405]))
    expect(unhandled).toEqual([])
    expect((await fetch(`${origin}/health`)).status).toBe(200)
    // The whole flow still works afterwards.
    const { verifier, challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read', state: 's', challenge }), user.token)
    const tokens = await exchangeCode(origin, app, redirect.searchParams.get('code')!, verifier)
    expect((await server.query('{ me { email } }', {}, tokens.body.access_token)).data).toEqual({ me: { email: user.email } })
  })
})
