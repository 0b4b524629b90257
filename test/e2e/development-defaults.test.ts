/**
 * `npm start` in development: it listens on loopback unless HOST says
 * otherwise, and even when told to listen on the network it hands the demo
 * token (GraphiQL's headers tab) only to the machine itself, asking by a
 * loopback name. Production keeps every interface.
 */
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { parseConfig } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, TEST_SERVER_SECRET_KEY } from '../helpers/server.ts'

/** An address of this machine other people could reach (not loopback), if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address

/** GraphiQL's page (9 MB: tests compare with `includes`, not to print it), asked for with this Host header (fetch always sends the URL's own). */
const graphiql = (url: string, host?: string) =>
  new Promise<string>((resolve, reject) => {
    request(url, { headers: { accept: 'text/html', ...(host ? { host } : {}), connection: 'close' } }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })

let db: TestDatabase
let alice: FixtureUser
beforeAll(async () => {
  db = await openTestDatabase('pglite')
  alice = await createUserWithContacts(db.prisma, 'alice@example.com', 1)
})
afterAll(() => db?.destroy())

describe('where the server listens', () => {
  const listening = async (env: Record<string, string>) => {
    const app = buildApp({ config: parseConfig({ PORT: '0', LOG_LEVEL: 'silent', SECRET_KEY: TEST_SERVER_SECRET_KEY, ...env }), db, logger: createLogger('silent') })
    await app.start()
    try {
      return (app.server.address() as AddressInfo).address
    } finally {
      await app.stop()
    }
  }

  it('development listens on loopback only; production on every interface; HOST overrides both', async () => {
    expect(await listening({ NODE_ENV: 'development' })).toBe('127.0.0.1')
    expect(['::', '0.0.0.0']).toContain(await listening({ NODE_ENV: 'production' }))
    expect(await listening({ NODE_ENV: 'development', HOST: '0.0.0.0' })).toBe('0.0.0.0')
  })
})

describe('the demo token in GraphiQL', () => {
  it('goes to the machine itself asking by a loopback name, never to a DNS-rebinding name', async () => {
    const server = await startTestServer(db, { demoToken: alice.token })
    try {
      expect((await graphiql(server.url)).includes(alice.token)).toBe(true)
      expect((await graphiql(server.url, `localhost:${new URL(server.url).port}`)).includes(alice.token)).toBe(true)
      const rebound = await graphiql(server.url, 'evil.example')
      expect(rebound.includes('subscription Suggestions')).toBe(true) // GraphiQL itself is served
      expect(rebound.includes(alice.token)).toBe(false)
      // In process (yoga.fetch, as tests and scripts call it) there is no socket, so no loopback client.
      const inProcess = await server.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } })
      expect(inProcess.status).toBe(200)
      expect((await inProcess.text()).includes(alice.token)).toBe(false)
    } finally {
      await server.close()
    }
  })

  it.skipIf(!externalAddress)('goes to no one on the network when HOST opens the server to it', async () => {
    const server = await startTestServer(db, { demoToken: alice.token, env: { HOST: '0.0.0.0' } })
    try {
      const port = new URL(server.url).port
      const fromNetwork = await graphiql(`http://${externalAddress}:${port}/graphql`)
      expect(fromNetwork.includes('subscription Suggestions')).toBe(true)
      expect(fromNetwork.includes(alice.token)).toBe(false)
      expect((await graphiql(`http://${externalAddress}:${port}/graphql`, 'localhost')).includes(alice.token)).toBe(false)
      expect((await graphiql(`http://127.0.0.1:${port}/graphql`)).includes(alice.token)).toBe(true)
    } finally {
      await server.close()
    }
  })
})
