/**
 * H6, hostile clients and a hostile DAV server against the account API (issue 15) on a real server: URLs in
 * every private spelling, NUL bytes, huge strings, malformed and foreign global ids (every refusal has a
 * code, never INTERNAL_SERVER_ERROR or a 5xx); a discovery that lists 20,000 address books; and the event
 * loop while a sync reads a 100 MB answer. Each test says in one line what it attacks and what is right.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const CONNECT = 'mutation($input: ConnectAccountInput!) { connectAccount(input: $input) { id collections { url } } }'
const HEAD = '<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:X="urn:x">'

describe('hostile clients and servers against the account API', () => {
  let db: TestDatabase
  let guarded: TestServer
  let open: TestServer
  let dav: Server
  let davUrl = ''
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    guarded = await startTestServer(db)
    open = await startTestServer(db, { env: { DAV_ALLOW_PRIVATE_URLS: 'true', DAV_REQUEST_TIMEOUT_MS: '60000' } })
    // A DAV server: /home/ is a principal whose home set lists 20,000 address books ('flood'); /book/ is one
    // address book whose listing is 100 MB of text ('huge').
    dav = createServer((request, response) => {
      request.resume()
      request.on('end', () => {
        response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' })
        const url = request.url ?? '/'
        if (url.startsWith('/book/') && request.headers.depth === '0') {
          response.end(`${HEAD}<D:response><D:href>/book/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
          return
        }
        if (url.startsWith('/book/')) {
          const chunk = 'a'.repeat(64 * 1024)
          response.write(`${HEAD}<X:junk>`)
          void (async () => {
            for (let i = 0; i < 1600 && !response.destroyed; i++) if (!response.write(chunk)) await once(response, 'drain')
            response.end('</X:junk></D:multistatus>')
          })()
          return
        }
        if (request.headers.depth === '0') {
          response.end(`${HEAD}<D:response><D:href>/home/</D:href><D:propstat><D:prop><C:addressbook-home-set><D:href>/home/</D:href></C:addressbook-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
          return
        }
        const books = Array.from({ length: 20_000 }, (_, i) => `<D:response><D:href>/home/b${i}/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>${'B'.repeat(400)}</D:displayname></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
        response.end(`${HEAD}${books.join('')}</D:multistatus>`)
      })
    })
    dav.listen(0, '127.0.0.1')
    await once(dav, 'listening')
    davUrl = `http://127.0.0.1:${(dav.address() as AddressInfo).port}`
  }, 60_000)
  afterAll(async () => {
    await guarded?.close()
    await open?.close()
    dav?.closeAllConnections()
    await new Promise((resolve) => dav?.close(resolve))
    await db?.destroy()
  })

  async function newUser() {
    const user = await db.prisma.user.create({ data: { email: `hostile15-${++users}@example.com` } })
    return { id: user.id, token: await issueToken(db.prisma, user.id, 'test') }
  }

  async function call(target: TestServer, query: string, variables: Record<string, unknown>, token: string) {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    })
    const text = await response.text()
    let body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] } = {}
    try {
      body = JSON.parse(text)
    } catch {
      body = { errors: [{ message: text.slice(0, 200) }] }
    }
    return { status: response.status, body }
  }

  const refusedWithCode = (answer: { status: number; body: { errors?: { extensions?: Record<string, any> }[] } }) => {
    expect(answer.status).toBeLessThan(500)
    expect(answer.body.errors?.length ?? 0).toBeGreaterThan(0)
    for (const error of answer.body.errors ?? []) {
      expect(error.extensions?.code).toBeTypeOf('string')
      expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR')
    }
  }

  it.each([
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]:80/dav/',
    'http://[fe80::1%25eth0]/',
    'http://[fd00::1]/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://0.0.0.0/',
    'http://0/',
    'http://localhost/',
    'http://localhost./',
    'http://LOCALHOST:5232/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://100.100.100.200/',
    'http://user:pass@example.com/',
    'http://:pass@example.com/',
    'https://example.com\u0000.evil/',
    'http://exa\u0000mple.com/',
    'gopher://127.0.0.1:25/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    `http://example.com/${'a'.repeat(100_000)}`,
    `http://${'a'.repeat(300)}.com/`,
    'http://\ud800.com/',
  ].map((url) => [JSON.stringify(url).slice(0, 60), url]))('connectAccount with url %s on a guarded server -> refused with a code (BAD_USER_INPUT on input.url), never fetched, never a 5xx', async (_label, url) => {
    const user = await newUser()
    const answer = await call(guarded, CONNECT, { input: { kind: 'CARDDAV', url, username: 'u', password: 'p' } }, user.token)
    refusedWithCode(answer)
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })

  it('huge and NUL-bearing credentials, and a 1 MB password -> refused with a code, never a 5xx', async () => {
    const user = await newUser()
    for (const input of [
      { kind: 'CARDDAV', url: 'https://example.com/', username: 'u\u0000', password: 'p' },
      { kind: 'CARDDAV', url: 'https://example.com/', username: 'u', password: 'x'.repeat(1024 * 1024) },
      { kind: 'CALDAV', url: 'https://example.com/', accessToken: 't'.repeat(200_000) },
      { kind: 'CALDAV', url: 'https://example.com/', accessToken: 't', username: 'u' },
      { kind: 'CARDDAV\u0000', url: 'https://example.com/', username: 'u', password: 'p' },
    ]) {
      refusedWithCode(await call(guarded, CONNECT, { input }, user.token))
    }
  })

  it('malformed, foreign-type and other users\' global ids on every account operation -> a code (NOT_FOUND / BAD_USER_INPUT), never INTERNAL_SERVER_ERROR', async () => {
    const user = await newUser()
    const ids = [
      '',
      'x',
      '\u0000',
      'QWNjb3VudDo=',
      encodeGlobalID('Account', 'not-a-uuid'),
      encodeGlobalID('Account', '00000000-0000-0000-0000-000000000000'),
      encodeGlobalID('Account', `${'\u0000'.repeat(10)}`),
      encodeGlobalID('Contact', '0190f0f0-0000-7000-8000-000000000000'),
      encodeGlobalID('Account', 'a'.repeat(100_000)),
      Buffer.from('Account:\ud800').toString('base64'),
    ]
    for (const id of ids) {
      for (const query of [
        'mutation($id: ID!) { syncAccount(id: $id) { id } }',
        'mutation($id: ID!) { disconnectAccount(id: $id) }',
        'mutation($id: ID!) { setAccountCollections(id: $id, collectionUrls: ["http://x/\\u0000"]) { id } }',
        'query($id: ID!) { node(id: $id) { id } }',
      ]) {
        const answer = await call(guarded, query, { id }, user.token)
        expect(answer.status).toBeLessThan(500)
        for (const error of answer.body.errors ?? []) expect(error.extensions?.code ?? 'MISSING').not.toMatch(/INTERNAL_SERVER_ERROR|MISSING/)
      }
    }
  })

  it('a discovery that lists 20,000 address books -> bounded: refused with a code or at most 1,000 collections stored and answered', { timeout: 120_000 }, async () => {
    const user = await newUser()
    const answer = await call(open, CONNECT, { input: { kind: 'CARDDAV', url: `${davUrl}/home/`, username: 'u', password: 'p' } }, user.token)
    expect(answer.status).toBeLessThan(500)
    const stored = await db.prisma.accountCollection.count({ where: { account: { userId: user.id } } })
    expect(stored).toBeLessThanOrEqual(1000)
    expect(answer.body.data?.connectAccount?.collections?.length ?? 0).toBeLessThanOrEqual(1000)
  })

  it('a sync reading a 100 MB listing -> other GraphQL requests keep answering within 1 s each (the event loop does not stall)', { timeout: 120_000 }, async () => {
    const user = await newUser()
    const connected = await call(open, CONNECT, { input: { kind: 'CARDDAV', url: `${davUrl}/book/`, username: 'u', password: 'p' } }, user.token)
    expect(connected.body.errors).toBeUndefined()
    const accountId = connected.body.data.connectAccount.id
    // connectAccount queued the sync (one collection, enabled): probe while it reads.
    const worst: number[] = []
    await vi.waitFor(
      async () => {
        const started = performance.now()
        const answer = await call(open, '{ accounts { status lastError } }', {}, user.token)
        worst.push(performance.now() - started)
        const account = answer.body.data.accounts[0]
        expect(account.status === 'OK' || account.lastError !== null).toBe(true)
      },
      { timeout: 100_000, interval: 20 },
    )
    expect(accountId).toBeTruthy()
    expect(Math.max(...worst)).toBeLessThan(1000)
  })
})
