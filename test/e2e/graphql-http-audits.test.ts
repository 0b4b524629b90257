import { serverAudits } from 'graphql-http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let db: TestDatabase
let development: TestServer
let production: TestServer
let token: string
beforeAll(async () => {
  db = await openTestDatabase('pglite')
  token = (await createUserWithContacts(db.prisma, 'auditor@example.com', 0)).token
  development = await startTestServer(db)
  production = await startTestServer(db, { env: { NODE_ENV: 'production' } })
})
afterAll(async () => {
  await development?.close()
  await production?.close()
  await db?.destroy()
})

/** fetch with a user's token: production keeps introspection (some audits use `__type`) for signed-in clients. */
const signedInFetch: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } })

// The GraphQL over HTTP spec's own audits (graphql-http). Every MUST passes, in development
// (anonymous) and in production (signed in), CSRF prevention and CORS included.
describe.each([
  ['development, anonymous', () => development.url, fetch],
  ['production, signed in', () => production.url, signedInFetch],
] as const)('GraphQL over HTTP audits (%s)', (_name, url, fetchFn) => {
  for (const audit of serverAudits({ url, fetchFn })) {
    it(audit.name, async () => {
      const result = await audit.fn()
      if (audit.name.startsWith('MUST')) expect(result.status, 'reason' in result ? result.reason : '').toBe('ok')
      else expect(['ok', 'warn']).toContain(result.status)
    })
  }
})
