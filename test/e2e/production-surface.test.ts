/**
 * What a server shows to strangers, against real servers built with
 * NODE_ENV=production and with development: introspection and "Did you mean"
 * hints only for signed-in clients in production (HTTP POST, GET, SSE and
 * graphql-ws), CORS only to configured origins and never with credentials,
 * form-encoded and multipart POSTs refused before anything runs, `/metrics`
 * protected, request ids validated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken } from '../../src/auth/tokens.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { openRawSocket } from '../helpers/raw-ws.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { sseResults } from '../helpers/clients.ts'

const INTROSPECTION = '{ __schema { queryType { name } } }'
const TYPE_INTROSPECTION = '{ __type(name: "Contact") { name } }'
const TYPO = '{ mee { id } }'
const ENUM_TYPO = 'query($circle: DunbarCircle) { __typename contacts(filter: { circle: $circle }) { edges { cursor } } }'
const APP_ORIGIN = 'https://app.example.com'

let db: TestDatabase
let alice: FixtureUser
let production: TestServer
let development: TestServer
beforeAll(async () => {
  db = await openTestDatabase('pglite')
  alice = await createUserWithContacts(db.prisma, 'alice@example.com', 3)
  production = await startTestServer(db, { env: { NODE_ENV: 'production', CORS_ORIGINS: APP_ORIGIN } })
  development = await startTestServer(db, { env: { NODE_ENV: 'development' } })
})
afterAll(async () => {
  await production?.close()
  await development?.close()
  await db?.destroy()
})

interface Answer {
  status: number
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }
}

async function post(url: string, query: string, { token, variables }: { token?: string; variables?: Record<string, unknown> } = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

async function get(url: string, query: string, token?: string): Promise<Answer> {
  const response = await fetch(`${url}?query=${encodeURIComponent(query)}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

/** A query over SSE (the graphql-sse client): its first result. */
async function sse(url: string, query: string, token?: string): Promise<Answer['body']> {
  const [first] = await sseResults(url, { query }, token, () => true)
  return (first ?? {}) as Answer['body']
}

/** The distinct codes of an answer's errors (one document can break a rule in several places). */
const codes = (body: Answer['body']) => [...new Set(body.errors?.map((error) => error.extensions?.code))]
const messages = (body: Answer['body']) => body.errors?.map((error) => error.message).join(' ') ?? ''

describe('introspection and field suggestions in production', () => {
  it('refuses introspection to anonymous clients over POST, GET and SSE, with UNAUTHENTICATED', async () => {
    for (const query of [INTROSPECTION, TYPE_INTROSPECTION]) {
      const answers = [(await post(production.url, query)).body, (await get(production.url, query)).body, await sse(production.url, query)]
      for (const body of answers) {
        expect(body.data ?? undefined).toBeUndefined()
        expect(codes(body)).toEqual(['UNAUTHENTICATED'])
      }
    }
    // A token that names no one is anonymous too.
    expect(codes((await post(production.url, INTROSPECTION, { token: 'prm_forged' })).body)).toEqual(['UNAUTHENTICATED'])
  })

  it('keeps introspection for a signed-in client over POST, GET and SSE', async () => {
    const answers = [(await post(production.url, INTROSPECTION, { token: alice.token })).body, (await get(production.url, INTROSPECTION, alice.token)).body, await sse(production.url, INTROSPECTION, alice.token)]
    for (const body of answers) expect(body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } })
  })

  it('decides per request, whatever the document cache holds: signed in, anonymous, signed in again, same document', async () => {
    const query = '{ __type(name: "Suggestion") { name } }'
    expect((await post(production.url, query, { token: alice.token })).body).toEqual({ data: { __type: { name: 'Suggestion' } } })
    expect(codes((await post(production.url, query)).body)).toEqual(['UNAUTHENTICATED'])
    expect(codes((await get(production.url, query)).body)).toEqual(['UNAUTHENTICATED'])
    expect((await post(production.url, query, { token: alice.token })).body).toEqual({ data: { __type: { name: 'Suggestion' } } })
  })

  it('hides "Did you mean" from anonymous clients, in validation and in variable errors, and shows it to a signed-in one', async () => {
    const anonymous = await post(production.url, TYPO)
    expect(messages(anonymous.body)).toContain('Cannot query field "mee"')
    expect(messages(anonymous.body)).not.toContain('Did you mean')
    expect(messages((await get(production.url, TYPO)).body)).not.toContain('Did you mean')
    const enumTypo = await post(production.url, ENUM_TYPO, { variables: { circle: 'INNR' } })
    expect(codes(enumTypo.body)).toEqual(['BAD_USER_INPUT'])
    expect(messages(enumTypo.body)).not.toContain('Did you mean')
    expect(messages(enumTypo.body)).not.toContain('INNER')

    expect(messages((await post(production.url, TYPO, { token: alice.token })).body)).toContain('Did you mean "me"?')
    expect(messages((await post(production.url, ENUM_TYPO, { token: alice.token, variables: { circle: 'INNR' } })).body)).toContain('Did you mean the enum value "INNER"?')
  })

  it('looks the token up once per request, though the guard asks before validation and the context after', async () => {
    const lookups: string[] = []
    // Lookups only: the first use of a token also records lastUsedAt (a write, at most once an hour).
    const counted = await openTestDatabase('pglite', { onQuery: (sql) => void (sql.includes('"AuthToken"') && /^\s*SELECT/i.test(sql) && lookups.push(sql)) })
    const server = await startTestServer(counted, { env: { NODE_ENV: 'production' } })
    try {
      const bob = await createUserWithContacts(counted.prisma, 'bob@example.com', 1)
      lookups.length = 0
      expect((await post(server.url, '{ me { email } }', { token: bob.token })).body.data).toEqual({ me: { email: 'bob@example.com' } })
      expect(lookups).toHaveLength(1)
    } finally {
      await server.close()
      await counted.destroy()
    }
  })

  it('keeps both open to anonymous clients in development', async () => {
    expect((await post(development.url, INTROSPECTION)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } })
    expect(messages((await post(development.url, TYPO)).body)).toContain('Did you mean "me"?')
  })

  it('over graphql-ws: a signed-in socket keeps them; once its token is revoked, introspection and hints are gone', async () => {
    // Anonymous sockets are refused at connection_init (4403) since before: nothing to introspect with.
    const anonymous = await openRawSocket(production.url)
    anonymous.send({ type: 'connection_init', payload: {} })
    expect(await anonymous.closed).toBe(4403)

    const user = await createUserWithContacts(db.prisma, 'revoked@example.com', 1)
    const socket = await openRawSocket(production.url, user.token)
    try {
      socket.send({ id: '1', type: 'subscribe', payload: { query: INTROSPECTION } })
      expect(await socket.next((message) => message.id === '1')).toMatchObject({ type: 'next', payload: { data: { __schema: { queryType: { name: 'Query' } } } } })
      socket.send({ id: '2', type: 'subscribe', payload: { query: TYPO } })
      expect(JSON.stringify(await socket.next((message) => message.id === '2'))).toContain('Did you mean')

      await db.prisma.authToken.update({ where: { tokenHash: hashToken(user.token) }, data: { revokedAt: new Date() } })
      socket.send({ id: '3', type: 'subscribe', payload: { query: INTROSPECTION } })
      socket.send({ id: '4', type: 'subscribe', payload: { query: TYPO } })
      const refused = await socket.next((message) => message.id === '3')
      const typo = await socket.next((message) => message.id === '4')
      // Either the operation is refused, or the socket is closed for the revoked token (4403): never the schema.
      if (refused === undefined) expect(await socket.closed).toBe(4403)
      else {
        expect(refused).toMatchObject({ type: 'error' })
        expect(codes({ errors: refused.payload })).toEqual(['UNAUTHENTICATED'])
        expect(JSON.stringify(typo)).toContain('Cannot query field')
        expect(JSON.stringify(typo)).not.toContain('Did you mean')
      }
    } finally {
      socket.socket.terminate()
    }
  })
})

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } })
  const cors = (response: Response) => ({
    origin: response.headers.get('access-control-allow-origin'),
    credentials: response.headers.get('access-control-allow-credentials'),
  })
  const postFrom = (url: string, origin: string) =>
    fetch(url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) })

  it('answers only configured origins in production, without credentials', async () => {
    for (const response of [await preflight(production.url, 'https://evil.example'), await postFrom(production.url, 'https://evil.example')]) {
      expect(cors(response)).toEqual({ origin: null, credentials: null })
    }
    for (const response of [await preflight(production.url, APP_ORIGIN), await postFrom(production.url, APP_ORIGIN)]) {
      expect(cors(response)).toEqual({ origin: APP_ORIGIN, credentials: null })
    }
    // The Vite dev server is not a production origin.
    expect(cors(await preflight(production.url, 'http://localhost:5173')).origin).toBeNull()
  })

  it('allows the Vite dev server and the server itself in development, nothing else', async () => {
    expect(cors(await preflight(development.url, 'http://localhost:5173'))).toEqual({ origin: 'http://localhost:5173', credentials: null })
    const own = new URL(development.url).origin
    expect(cors(await postFrom(development.url, own)).origin).toBe(own)
    expect(cors(await preflight(development.url, 'https://evil.example'))).toEqual({ origin: null, credentials: null })
  })
})

describe('CSRF prevention', () => {
  const groups = () => db.prisma.group.count({ where: { userId: alice.id } })
  const mutation = 'mutation { createGroup(name: "csrf") { id } }'

  it('refuses form-encoded, multipart and text/plain POSTs with 403 BAD_REQUEST before anything runs, in production and development', async () => {
    const before = await groups()
    for (const server of [production, development]) {
      const multipart = new FormData()
      multipart.set('operations', JSON.stringify({ query: mutation }))
      multipart.set('map', '{}')
      const attempts = [
        fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${alice.token}` }, body: new URLSearchParams({ query: mutation }) }),
        fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: multipart }),
        fetch(server.url, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${alice.token}` }, body: JSON.stringify({ query: mutation }) }),
      ]
      for (const response of await Promise.all(attempts)) {
        expect(response.status).toBe(403)
        expect(codes((await response.json()) as Answer['body'])).toEqual(['BAD_REQUEST'])
      }
    }
    expect(await groups()).toBe(before)
  })

  it('keeps JSON POSTs and GETs working', async () => {
    for (const server of [production, development]) {
      expect((await post(server.url, '{ me { email } }', { token: alice.token })).body.data).toEqual({ me: { email: 'alice@example.com' } })
      expect((await get(server.url, '{ __typename }')).body).toEqual({ data: { __typename: 'Query' } })
    }
  })
})

describe('/metrics', () => {
  const METRICS_TOKEN = 'metrics-token-0123456789'

  it('is not served in production without a token or a port of its own (404)', async () => {
    const response = await fetch(new URL('/metrics', production.url))
    expect(response.status).toBe(404)
    expect(await response.text()).not.toContain('nodejs_heap')
  })

  it('is open in development (which listens on loopback)', async () => {
    const response = await fetch(new URL('/metrics', development.url))
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('nodejs_heap_used_bytes')
  })

  it('answers only the bearer of METRICS_TOKEN (401 otherwise)', async () => {
    const server = await startTestServer(db, { env: { NODE_ENV: 'production', METRICS_TOKEN } })
    try {
      const url = new URL('/metrics', server.url)
      const missing = await fetch(url)
      expect(missing.status).toBe(401)
      expect(missing.headers.get('www-authenticate')).toContain('Bearer')
      expect((await fetch(url, { headers: { authorization: 'Bearer metrics-token-0123456788' } })).status).toBe(401)
      // A user's token is not the metrics token.
      expect((await fetch(url, { headers: { authorization: `Bearer ${alice.token}` } })).status).toBe(401)
      const allowed = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
      expect(allowed.status).toBe(200)
      expect(await allowed.text()).toContain('nodejs_heap_used_bytes')
    } finally {
      await server.close()
    }
  })

  it('with METRICS_PORT, is served on its own listener and not on the API port', async () => {
    const server = await startTestServer(db, { env: { NODE_ENV: 'production', METRICS_PORT: '0' } })
    try {
      expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      expect(new URL(server.metricsUrl!).port).not.toBe(new URL(server.url).port)
      const metrics = await fetch(server.metricsUrl!)
      expect(metrics.status).toBe(200)
      expect(await metrics.text()).toContain('nodejs_heap_used_bytes')
      expect((await fetch(new URL('/metrics', server.url))).status).toBe(404)
      // Nothing else is on the metrics port.
      expect((await fetch(new URL('/graphql?query=%7B__typename%7D', server.metricsUrl))).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})

describe('request ids', () => {
  const contextFor = (server: TestServer, requestId: string) =>
    server.app.yoga.getEnveloped({ request: new Request(server.url, { headers: { 'x-request-id': requestId } }) } as never).contextFactory() as unknown as Promise<{ requestId: string }>

  it("keeps a client's plain request id and replaces anything else with a fresh UUID", async () => {
    expect((await contextFor(production, 'req-42.a:b_c')).requestId).toBe('req-42.a:b_c')
    for (const forged of ['x'.repeat(65), 'a b', 'a"}{"level":50', '<script>', 'é']) {
      expect((await contextFor(production, forged)).requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    }
  })
})
