import { serverAudits } from 'graphql-http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let db: TestDatabase
let server: TestServer
beforeAll(async () => {
  db = await openTestDatabase('pglite')
  server = await startTestServer(db)
})
afterAll(async () => {
  await server?.close()
  await db?.destroy()
})

// The GraphQL over HTTP spec's own audits (graphql-http). Every MUST passes.
describe('GraphQL over HTTP audits', () => {
  for (const audit of serverAudits({ url: () => server.url, fetchFn: fetch })) {
    it(audit.name, async () => {
      const result = await audit.fn()
      if (audit.name.startsWith('MUST')) expect(result.status, 'reason' in result ? result.reason : '').toBe('ok')
      else expect(['ok', 'warn']).toContain(result.status)
    })
  }
})
