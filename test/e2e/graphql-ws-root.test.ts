/**
 * graphql-ws hands each operation yoga's enveloped `execute`/`subscribe` on the execution
 * arguments (as graphql-yoga's own graphql-ws example does), not through `rootValue`: root
 * resolvers receive no parent, over WebSocket as over HTTP. A one-field schema shows what a
 * root resolver receives; no database (the token lookup is answered by a stand-in).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from 'graphql-ws'
import { createSchema, createYoga, type YogaServerInstance } from 'graphql-yoga'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { TokenWatch } from '../../src/auth/token-watch.ts'
import type { Database } from '../../src/db/database.ts'
import type { GraphQLContext } from '../../src/graphql/context.ts'
import { attachGraphQLWs } from '../../src/graphql/websocket.ts'
import { createLogger } from '../../src/logger.ts'
import { systemClock } from '../../src/clock.ts'

let server: Server
let close: () => Promise<void>
let url: string

beforeAll(async () => {
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: 'type Query { rootKeys: [String!] } type Subscription { rootKeys: [String!] }',
      resolvers: {
        Query: { rootKeys: (root: unknown) => (root == null ? null : Object.keys(root)) },
        Subscription: {
          rootKeys: {
            subscribe: async function* (root: unknown) {
              yield { rootKeys: root == null ? null : Object.keys(root) }
            },
          },
        },
      },
    }),
  })
  // Any bearer token is a live one of user u1: the socket's authentication is not the point here.
  const authToken = {
    findUnique: async () => ({ id: 't1', userId: 'u1', revokedAt: null, expiresAt: null, lastUsedAt: new Date(), kind: 'SESSION', scopes: [] }),
    updateMany: async () => ({ count: 0 }),
  }
  const db = { prisma: { authToken } } as unknown as Database
  const tokenWatch = { watch: () => () => {} } as unknown as TokenWatch
  server = createServer(yoga)
  close = attachGraphQLWs(server, yoga as unknown as YogaServerInstance<Record<string, never>, GraphQLContext>, db, createLogger('silent'), tokenWatch, systemClock)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
})
afterAll(async () => {
  await close?.()
  await new Promise((resolve) => server?.close(resolve))
})

it.each([['a query', '{ rootKeys }'], ['a subscription', 'subscription { rootKeys }']])('gives the root resolvers of %s no parent', async (_label, query) => {
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer prm_any' }, retryAttempts: 0 })
  try {
    const results = []
    for await (const result of client.iterate({ query })) results.push(result)
    expect(results).toEqual([{ data: { rootKeys: null } }])
  } finally {
    await client.dispose()
  }
})

it('answers an operation it cannot identify, and variables that do not coerce, as HTTP does: a code, no `extensions.http`', async () => {
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer prm_any' }, retryAttempts: 0 })
  const errorsOf = async (payload: { query: string; variables?: Record<string, unknown> }) => {
    try {
      for await (const result of client.iterate(payload)) return result.errors
    } catch (errors) {
      return errors as { extensions?: Record<string, unknown> }[]
    }
  }
  try {
    const unnamed = await errorsOf({ query: 'query A { rootKeys } query B { rootKeys }' })
    expect(unnamed).toEqual([expect.objectContaining({ extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })])
    const coerced = await errorsOf({ query: 'query($n: Boolean!) { rootKeys @include(if: $n) }', variables: { n: 'x' } })
    expect(coerced?.length).toBe(1)
    expect(coerced?.[0]?.extensions ?? {}).not.toHaveProperty('http')
  } finally {
    await client.dispose()
  }
})
