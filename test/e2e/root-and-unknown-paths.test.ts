/**
 * Issue 13, item 10: `curl localhost:4000/` (no HTML Accept) answered an empty 404. It now lists the
 * routes (200 JSON), and any other unknown path answers a JSON 404 NOT_FOUND that says where the API is;
 * a browser still gets the web app, and GraphQL still answers at /graphql.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT_DOCUMENT } from '../../src/http/routes.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

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
})
