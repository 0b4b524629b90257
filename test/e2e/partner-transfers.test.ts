/**
 * The file routes under the partner budgets, and the per-user caps split into pools (hostile review
 * of issue 16): a partner credential's export or import is charged PARTNER_TRANSFER_POINTS, holds a
 * concurrent-request lease until its answer ends (or its client leaves), and every answer to it
 * carries RateLimit-Policy / RateLimit; over budget 429 RATE_LIMITED with Retry-After. A user's own
 * session has no budget. The per-user caps (EXPORTS_PER_USER, SUBSCRIPTIONS_PER_USER) count the
 * session and the user's partners in separate pools, so a partner at the cap never refuses the
 * session, and the partner pool still refuses past it. (MAX_OPERATIONS_PER_USER: test/unit/operation-limit-pools.test.ts.)
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApiKey } from '../../src/auth/api-keys.ts'
import type { Scope } from '../../src/auth/scopes.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { parseList } from '../helpers/structured-fields.ts'
import { wsClient, type WsClient } from '../helpers/clients.ts'

interface Answer {
  status: number
  headers: IncomingMessage['headers']
  body: string
}

function send(origin: string, path: string, token: string, { method = 'GET', body }: { method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'text/vcard'
    const req = httpRequest(`${origin}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A download whose client reads the first chunk and then nothing: it holds its places until destroyed. */
async function heldDownload(origin: string, path: string, token: string): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.once('data', () => {
        res.pause() // the socket fills, the server waits
        resolve({ req, res })
      })
      res.once('end', () => reject(new Error(`the download of ${path} ended (status ${res.statusCode}): too small to be held`)))
    })
    req.on('error', () => {})
    req.end()
  })
}

/** The `r` of the RateLimit item `name`. */
function remaining(answer: Answer, name: string): unknown {
  const field = answer.headers['ratelimit']
  expect(typeof field).toBe('string')
  return parseList(field as string).find((item) => item.value === name)?.params.get('r')
}

const VCARD = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEMAIL:ada@example.com\r\nEND:VCARD\r\n'
const ALL: Scope[] = ['contacts:read', 'calendar:read', 'imports:write', 'suggestions:subscribe']

describe('partner budgets on the export and import routes', () => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let user: FixtureUser
  let big: FixtureUser
  const key = async (owner: FixtureUser, scopes: Scope[] = ALL) => {
    const created = await createApiKey(db.prisma, owner.id, { name: `k${Math.random()}`, scopes }, { maxActive: 100, now: new Date() })
    return { key: created.key, leaseKey: `request:apiKey:${created.apiKey.id}` }
  }

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    // 3 transfers an hour; the burst is not what these tests look at; one request at a time per credential.
    server = await startTestServer(db, {
      env: { PARTNER_POINTS_PER_HOUR: '300', PARTNER_BURST_POINTS: '100000', PARTNER_TRANSFER_POINTS: '100', PARTNER_CONCURRENT_REQUESTS: '1', EXPORTS_PER_USER: '2' },
    })
    origin = new URL(server.url).origin
    user = await createUserWithContacts(db.prisma, 'transfers@example.com', 20)
    big = await createUserWithContacts(db.prisma, 'big-transfers@example.com', 6000)
    // 4 kB of notes each: 24 MB of cards, more than the socket buffers hold, so a download that is not read stays open.
    await db.prisma.contact.updateMany({ where: { userId: big.id }, data: { customNotes: 'n'.repeat(4000) } })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('charges each export and import of a key, with the RateLimit fields, then answers 429 with Retry-After', async () => {
    const { key: apiKey } = await key(user)
    const policy = '"hourly";q=300;w=3600, "burst";q=100000;w=10, "concurrent-requests";q=1;qu="concurrent-requests", "concurrent-streams";q=5;qu="concurrent-requests"'
    const answers = [await send(origin, '/export/contacts.vcf', apiKey), await send(origin, '/export/calendar.ics', apiKey), await send(origin, '/import/contacts', apiKey, { method: 'POST', body: VCARD })]
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 202])
    expect(answers[0]!.body).toContain('BEGIN:VCARD')
    for (const answer of answers) expect(answer.headers['ratelimit-policy']).toBe(policy)
    expect(answers.map((answer) => remaining(answer, 'hourly'))).toEqual([200, 100, 0])
    expect(remaining(answers[0]!, 'concurrent-requests')).toBe(0)

    for (const [path, options] of [['/export/contacts.csv', {}], ['/import/contacts', { method: 'POST', body: VCARD }]] as const) {
      const refused = await send(origin, path, apiKey, options)
      expect(refused.status).toBe(429)
      const retryAfter = refused.headers['retry-after']!
      expect(retryAfter).toMatch(/^[1-9]\d*$/)
      expect(Number(retryAfter)).toBeGreaterThan(3000)
      expect(refused.headers['ratelimit-policy']).toBe(policy)
      expect(refused.headers['ratelimit']).toMatch(/^"hourly";r=0;t=\d+$/)
      expect(JSON.parse(refused.body)).toEqual({ errors: [{ message: expect.stringContaining('hourly'), extensions: { code: 'RATE_LIMITED', retryAfterSeconds: Number(retryAfter), policy: 'hourly' } }] })
    }
    // Refused before the transfer (a scope it lacks), an answer still carries the buckets.
    const { key: narrow } = await key(user, ['contacts:read'])
    const forbidden = await send(origin, '/export/calendar.ics', narrow)
    expect(forbidden.status).toBe(403)
    expect(remaining(forbidden, 'hourly')).toBe(300)
  })

  it('leaves the user’s own session unbudgeted: no RateLimit fields, no refusal', async () => {
    for (let i = 0; i < 5; i++) {
      const answer = await send(origin, i % 2 ? '/export/contacts.csv' : '/export/contacts.vcf', user.token)
      expect(answer.status).toBe(200)
      expect(answer.headers['ratelimit']).toBeUndefined()
      expect(answer.headers['ratelimit-policy']).toBeUndefined()
    }
    const imported = await send(origin, '/import/contacts', user.token, { method: 'POST', body: VCARD })
    expect(imported.status).toBe(202)
    expect(imported.headers['ratelimit']).toBeUndefined()
  })

  it('holds a download’s lease while it streams and releases it when the client leaves', async () => {
    const { key: apiKey, leaseKey } = await key(big)
    const held = await heldDownload(origin, '/export/contacts.vcf', apiKey)
    expect(held.res.statusCode).toBe(200)
    expect(held.res.headers['ratelimit']).toContain('"concurrent-requests";r=0')
    expect(server.app.budgets.localLeases.count(leaseKey)).toBe(1)
    const second = await send(origin, '/export/contacts.csv', apiKey)
    expect(second.status).toBe(429)
    expect(JSON.parse(second.body).errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 1, policy: 'concurrent-requests' })
    held.req.destroy()
    await vi.waitFor(() => {
      expect(server.app.budgets.localLeases.count(leaseKey)).toBe(0)
      expect(server.app.exportLimiter.total()).toBe(0)
    })
    // Refused, the second download spent nothing: 2 of 3 transfers are left.
    const again = await send(origin, '/export/calendar.ics', apiKey)
    expect(again.status).toBe(200)
    expect(remaining(again, 'hourly')).toBe(100)
  })

  it('holds an upload’s lease while the body arrives and releases it when the client leaves', async () => {
    const { key: apiKey, leaseKey } = await key(user)
    const req = httpRequest(`${origin}/import/contacts`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/vcard' } })
    req.on('error', () => {})
    req.write(VCARD)
    await vi.waitFor(() => expect(server.app.budgets.localLeases.count(leaseKey)).toBe(1))
    req.destroy()
    await vi.waitFor(() => expect(server.app.budgets.localLeases.count(leaseKey)).toBe(0))
  })

  it('keeps the session’s export places when a partner holds every place of its pool, which still refuses past the cap', async () => {
    const [first, second, third] = await Promise.all([key(big), key(big), key(big)])
    const held = [await heldDownload(origin, '/export/contacts.vcf', first.key), await heldDownload(origin, '/export/contacts.vcf', second.key)]
    try {
      expect(server.app.exportLimiter.total()).toBe(2)
      // The partner pool is full (EXPORTS_PER_USER 2 for all the user's partners together)...
      const refused = await send(origin, '/export/contacts.csv', third.key)
      expect(refused.status).toBe(429)
      expect(JSON.parse(refused.body).errors[0]).toEqual({ message: 'at most 2 exports at once per user', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 } })
      expect(refused.headers['ratelimit-policy']).toBeDefined()
      expect(server.app.budgets.localLeases.count(third.leaseKey)).toBe(0)
      // ...and the user's own session still has its two.
      const sessions = [await heldDownload(origin, '/export/contacts.vcf', big.token), await heldDownload(origin, '/export/contacts.csv', big.token)]
      held.push(...sessions)
      expect(sessions.map((session) => session.res.statusCode)).toEqual([200, 200])
      expect((await send(origin, '/export/calendar.ics', big.token)).status).toBe(429)
    } finally {
      for (const download of held) download.req.destroy()
    }
    await vi.waitFor(() => expect(server.app.exportLimiter.total()).toBe(0))
  })
})

describe('per-user stream places: the session and the partners in separate pools', () => {
  let db: TestDatabase
  let server: TestServer
  let user: FixtureUser
  const clients: WsClient[] = []
  const SUBSCRIPTION = 'subscription { suggestions(input: { maxSuggestions: 3, slots: [] }) { __typename } }'

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    server = await startTestServer(db, { env: { SUBSCRIPTIONS_PER_USER: '2' } })
    user = await createUserWithContacts(db.prisma, 'streams-pool@example.com', 10)
  }, 60_000)
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()))
    await server?.close()
    await db?.destroy()
  })

  /** Subscribes on a new socket with `token` and returns the first result (or the errors it failed with) and its iterator. */
  async function subscribe(token: string) {
    const client = wsClient(server.url, token)
    clients.push(client)
    const iterator = client.iterate<{ suggestions: { __typename: string } }>({ query: SUBSCRIPTION })
    const first = await iterator.next().then((result) => result.value, (errors: unknown) => ({ errors }))
    return { first: JSON.stringify(first), iterator }
  }

  it('a key holding the user’s stream cap does not refuse the session’s streams; the partner pool still refuses', async () => {
    const { key: apiKey } = await createApiKey(db.prisma, user.id, { name: 'streams', scopes: ['suggestions:subscribe'] }, { maxActive: 100, now: new Date() })
    const partner = [await subscribe(apiKey), await subscribe(apiKey)]
    for (const stream of partner) expect(stream.first).toContain('SuggestionBatch')
    expect(server.app.subscriptionLimiter.count(`${user.id}:partner`)).toBe(2)
    expect((await subscribe(apiKey)).first).toContain('RATE_LIMITED')
    const session = [await subscribe(user.token), await subscribe(user.token)]
    for (const stream of session) expect(stream.first).toContain('SuggestionBatch')
    expect(server.app.subscriptionLimiter.count(user.id)).toBe(2)
    expect((await subscribe(user.token)).first).toContain('RATE_LIMITED')
    for (const stream of [...partner, ...session]) await stream.iterator.return?.(undefined)
    await vi.waitFor(() => expect(server.app.subscriptionLimiter.total()).toBe(0))
  })
})
