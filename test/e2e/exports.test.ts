/**
 * Issue 12, export: `GET /export/contacts.vcf|.csv`, `/export/calendar.ics` (Bearer) stream the
 * viewer's data and nobody else's; the calendar feed at its secret URL (rotate, rotate again,
 * revoke); a client that leaves stops the walk; the per-user limit; and no path under `/export`
 * or `/feeds` gives a 5xx.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import fc from 'fast-check'
import ICAL from 'ical.js'
import { parse as parseCsv } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

/** A GET through node:http (fetch normalises paths; the property test sends them raw). */
function get(origin: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(origin)
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe.each(kinds)('exports on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let alice: FixtureUser
  let bob: FixtureUser
  let contactQueries = 0
  const auth = (user: FixtureUser) => ({ authorization: `Bearer ${user.token}` })

  async function addCalendar(user: FixtureUser, label: string) {
    const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId: user.id }, orderBy: { id: 'asc' } })
    await db.prisma.calendarEvent.create({ data: { userId: user.id, title: `${label} busy, dentist`, startsAt: new Date('2030-01-07T09:00:00Z'), endsAt: new Date('2030-01-07T10:00:00Z') } })
    const base = { userId: user.id, contactId: contact.id, priority: 1, reason: `${label} reason` }
    await db.prisma.suggestion.create({ data: { ...base, id: `sg_${label}_accepted`, status: 'ACCEPTED', slotStart: new Date('2030-01-08T12:00:00Z'), slotEnd: new Date('2030-01-08T12:30:00Z') } })
    await db.prisma.suggestion.create({ data: { ...base, id: `sg_${label}_pending`, status: 'PENDING', slotStart: new Date('2030-01-09T12:00:00Z'), slotEnd: new Date('2030-01-09T12:30:00Z') } })
    await db.prisma.suggestion.create({ data: { ...base, id: `sg_${label}_noslot`, status: 'ACCEPTED' } })
    return contact
  }

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => void (/FROM\s+("[^"]+"\.)?"Contact"/.test(sql) && contactQueries++) })
    server = await startTestServer(db, { env: { EXPORTS_PER_USER: '1', PUBLIC_URL: 'https://app.example' } })
    origin = new URL(server.url).origin
    alice = await createUserWithContacts(db.prisma, 'alice@alice.example', 40)
    bob = await createUserWithContacts(db.prisma, 'bob@bob.example', 10)
    await addCalendar(alice, 'alice')
    await addCalendar(bob, 'bob')
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('streams the viewer’s contacts as vCard 4.0, archived ones too, and none of another user’s', async () => {
    const res = await get(origin, '/export/contacts.vcf', auth(alice))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/vcard; charset=utf-8')
    expect(res.headers['content-disposition']).toBe('attachment; filename="contacts.vcf"')
    expect(res.headers['transfer-encoding']).toBe('chunked')
    const cards = ICAL.parse(res.body) as unknown as unknown[][]
    expect(cards).toHaveLength(40)
    expect(res.body).toContain('EMAIL;PREF=1:contact0@alice.example')
    expect(res.body).not.toContain('bob.example')
    expect(res.body).toMatch(/CATEGORIES:.*(Family|Work|Climbing)/)
  })

  it('streams Google CSV: one header, one row per contact, parsable', async () => {
    const res = await get(origin, '/export/contacts.csv', auth(alice))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    const rows = parseCsv(res.body) as string[][]
    expect(rows[0]!.slice(0, 6)).toEqual(['Name', 'Given Name', 'Family Name', 'Birthday', 'Notes', 'Labels'])
    expect(rows).toHaveLength(41)
    expect(res.body).not.toContain('bob.example')
  })

  it('streams the calendar: busy events and accepted suggestions with slots, nobody else’s', async () => {
    const res = await get(origin, '/export/calendar.ics', auth(alice))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8')
    const events = new ICAL.Component(ICAL.parse(res.body)).getAllSubcomponents('vevent').map((v) => new ICAL.Event(v))
    expect(events.map((e) => e.summary).sort()).toEqual(['Catch up with Ada 00', 'alice busy, dentist'])
    expect(events.map((e) => e.uid)).toContain('sg_alice_accepted@app.example')
    expect(res.body).not.toContain('bob')
  })

  it('refuses without a valid token: 401 UNAUTHENTICATED in JSON', async () => {
    for (const headers of [{}, { authorization: 'Bearer prm_nope' }, { authorization: 'Basic abc' }] as Record<string, string>[]) {
      const res = await get(origin, '/export/contacts.vcf', headers)
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Bearer')
      expect(JSON.parse(res.body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }] })
    }
    expect((await get(origin, '/export/nothing.txt', auth(alice))).status).toBe(404)
    const post = await get(origin, '/export/contacts.vcf', auth(alice), 'POST')
    expect(post.status).toBe(405)
    expect(JSON.parse(post.body).errors[0].extensions.code).toBe('BAD_REQUEST')
  })

  it('stops the walk when the client leaves, frees its place, and refuses a second export at once with 429', async () => {
    const big = await createUserWithContacts(db.prisma, 'big@big.example', 6000)
    // 4 kB of notes each: 24 MB of cards, more than the socket buffers hold, so the server must wait for the client.
    await db.prisma.contact.updateMany({ where: { userId: big.id }, data: { customNotes: 'n'.repeat(4000) } })
    let firstChunk!: () => void
    const started = new Promise<void>((resolve) => (firstChunk = resolve))
    const req = httpRequest(`${origin}/export/contacts.vcf`, { headers: auth(big) }, (res) => {
      res.once('data', () => {
        res.pause() // read nothing more: the socket fills, the server waits
        firstChunk()
      })
    })
    req.on('error', () => {})
    req.end()
    await started
    expect(server.app.exportLimiter.total()).toBe(1)
    const second = await get(origin, '/export/contacts.csv', auth(big))
    expect(second.status).toBe(429)
    expect(second.headers['retry-after']).toBe('1')
    expect(JSON.parse(second.body).errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 1 })
    const queriesWhenLeft = contactQueries
    expect(queriesWhenLeft).toBeGreaterThan(0)
    req.destroy()
    await vi.waitFor(() => expect(server.app.exportLimiter.total()).toBe(0))
    // 6,000 contacts are 6 pages; the walk was held by the client, and stopped when it left.
    expect(contactQueries - queriesWhenLeft).toBeLessThanOrEqual(1)
    expect((await get(origin, '/export/contacts.csv', auth(big))).status).toBe(200)
  })

  describe('the calendar feed', () => {
    const rotate = (user: FixtureUser) => server.query<{ rotateCalendarFeed: { url: string; createdAt: string } }>('mutation { rotateCalendarFeed { url createdAt } }', {}, user.token)
    const pathOf = (url: string) => new URL(url).pathname

    it('is off until rotated; rotate gives a URL (shown once) that serves the accepted suggestions only', async () => {
      expect((await server.query('{ calendarFeed { url createdAt } }', {}, alice.token)).data).toEqual({ calendarFeed: null })
      const { data } = await rotate(alice)
      const url = data!.rotateCalendarFeed.url
      expect(url).toMatch(/^https:\/\/app\.example\/feeds\/[A-Za-z0-9_-]{43}\.ics$/)
      const feed = await get(origin, pathOf(url))
      expect(feed.status).toBe(200)
      expect(feed.headers['content-type']).toBe('text/calendar; charset=utf-8')
      expect(feed.headers['cache-control']).toBe('private, max-age=300')
      const events = new ICAL.Component(ICAL.parse(feed.body)).getAllSubcomponents('vevent').map((v) => new ICAL.Event(v))
      expect(events.map((e) => [e.uid, e.summary])).toEqual([['sg_alice_accepted@app.example', 'Catch up with Ada 00']])
      expect(feed.body).not.toContain('dentist')
      const listed = await server.query('{ calendarFeed { url createdAt } }', {}, alice.token)
      expect(listed.data).toEqual({ calendarFeed: { url: null, createdAt: data!.rotateCalendarFeed.createdAt } })
      // The database holds the hash only.
      const row = await db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } })
      expect(row.calendarFeedHash).not.toContain(pathOf(url).slice(7, -4))
    })

    it('a rotated-away, another user’s, revoked or malformed secret gives 404; each user sees only their own', async () => {
      const old = pathOf((await rotate(alice)).data!.rotateCalendarFeed.url)
      const current = pathOf((await rotate(alice)).data!.rotateCalendarFeed.url)
      expect((await get(origin, old)).status).toBe(404)
      expect(JSON.parse((await get(origin, old)).body).errors[0].extensions.code).toBe('NOT_FOUND')
      const bobs = pathOf((await rotate(bob)).data!.rotateCalendarFeed.url)
      const bobFeed = await get(origin, bobs)
      expect(bobFeed.body).toContain('sg_bob_accepted')
      expect(bobFeed.body).not.toContain('alice')
      expect((await get(origin, current)).body).not.toContain('bob')
      expect((await get(origin, '/feeds/short.ics')).status).toBe(404)
      expect((await get(origin, `/feeds/${'A'.repeat(43)}.ics`)).status).toBe(404)
      expect((await server.query('mutation { revokeCalendarFeed }', {}, alice.token)).data).toEqual({ revokeCalendarFeed: true })
      expect((await get(origin, current)).status).toBe(404)
      expect((await server.query('mutation { revokeCalendarFeed }', {}, alice.token)).data).toEqual({ revokeCalendarFeed: false })
      expect((await server.query('{ calendarFeed { createdAt } }', {}, alice.token)).data).toEqual({ calendarFeed: null })
      expect((await get(origin, bobs)).status).toBe(200)
    })

    it('needs a viewer for the GraphQL fields', async () => {
      const res = await server.query('mutation { rotateCalendarFeed { url } }')
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    })
  })

  it('never answers 5xx to any path, method or header under /export and /feeds', async () => {
    const segment = fc.oneof(fc.webSegment(), fc.string({ maxLength: 30 }).map(encodeURIComponent), fc.constantFrom('..', '.', '%', '%zz', '%00', 'contacts.vcf', 'calendar.ics', `${'A'.repeat(43)}.ics`, ''))
    const path = fc
      .tuple(fc.constantFrom('/export', '/feeds', '/export/', '/feeds/'), fc.array(segment, { maxLength: 4 }), fc.option(fc.webQueryParameters(), { nil: undefined }))
      .map(([prefix, segments, query]) => `${prefix}${segments.join('/')}${query === undefined ? '' : `?${query}`}`)
    const headers = fc.constantFrom<Record<string, string>>({}, auth(alice), { authorization: 'Bearer ' }, { authorization: 'Bearer prm_' + 'x'.repeat(300) })
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'), headers, async (p, method, h) => {
        const res = await get(origin, p, h, method)
        expect(res.status).toBeLessThan(500)
      }),
      { numRuns: 150 },
    )
    await vi.waitFor(() => expect(server.app.exportLimiter.total()).toBe(0))
  })

  it('a HEAD is answered with the headers only', async () => {
    const res = await get(origin, '/export/contacts.csv', auth(alice), 'HEAD')
    expect(res.status).toBe(200)
    expect(res.body).toBe('')
  })
})
