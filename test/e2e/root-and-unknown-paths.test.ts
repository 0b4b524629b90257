/**
 * Issue 13, item 10: `curl localhost:4000/` (no HTML Accept) answered an empty 404. It now lists the
 * routes (200 JSON), and any other unknown path answers a JSON 404 NOT_FOUND that says where the API is;
 * a browser still gets the web app, and GraphQL still answers at /graphql.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT_DOCUMENT } from '../../src/http/routes.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, TEST_SERVER_SECRET_KEY, type TestServer } from '../helpers/server.ts'

describe('the root and unknown paths', () => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    server = await startTestServer(db)
    origin = new URL(server.url).origin
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('GET / without an HTML Accept lists the routes as JSON', async () => {
    const response = await fetch(`${origin}/`, { headers: { accept: '*/*' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toEqual(ROOT_DOCUMENT)
  })

  it('an unknown path answers 404 with a JSON error NOT_FOUND naming /graphql, for any method', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/api/graphql'],
      ['DELETE', '/'],
      ['GET', '/graphqlx'],
    ] as const) {
      const response = await fetch(`${origin}${path}`, { method })
      expect(response.status, `${method} ${path}`).toBe(404)
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] }
      expect(body.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } })
      expect(body.errors[0]!.message).toContain('/graphql')
    }
  })

  it('GraphQL still answers at /graphql, with a query string too', async () => {
    const response = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } })
  })

  it('POST /dev/token (development) mints a token for the holder of the secret key, on this machine only', async () => {
    const post = (headers: Record<string, string>, body: string, method = 'POST') => fetch(`${origin}/dev/token`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'GET' ? {} : { body }) })
    const codeOf = async (response: Response) => ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code
    const good = JSON.stringify({ user: 'Dev.Token@Example.com' })

    const minted = await post({ 'x-secret-key': TEST_SERVER_SECRET_KEY }, good)
    expect(minted.status).toBe(200)
    const { token } = (await minted.json()) as { token: string }
    expect((await server.query<{ me: { email: string } }>('{ me { email } }', {}, token)).data?.me.email).toBe('dev.token@example.com')

    const wrongKey = await post({ 'x-secret-key': 'not the key' }, good)
    expect([wrongKey.status, await codeOf(wrongKey)]).toEqual([403, 'FORBIDDEN'])
    // A page of another site the browser sends here names its own host: refused even with the key.
    // (fetch does not send a Host of our choosing: node:http does.)
    const foreignHost = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${origin}/dev/token`, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json', 'x-secret-key': TEST_SERVER_SECRET_KEY } }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end(good)
    })
    expect(foreignHost.status).toBe(403)
    expect(JSON.parse(foreignHost.body)).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] })
    const get = await post({ 'x-secret-key': TEST_SERVER_SECRET_KEY }, '', 'GET')
    expect([get.status, await codeOf(get)]).toEqual([405, 'BAD_REQUEST'])
    for (const body of ['not json', JSON.stringify({ user: 'not an e-mail' }), JSON.stringify({ user: 'a@example.com', name: 'x'.repeat(101) }), 'x'.repeat(5000)]) {
      const refused = await post({ 'x-secret-key': TEST_SERVER_SECRET_KEY }, body)
      expect([refused.status, await codeOf(refused)]).toEqual([400, 'BAD_USER_INPUT'])
    }
  })
})
