/**
 * Hostile review of issue 15's full resync without the set of listed hrefs (contacts-sync.ts pullFull: each
 * listed contact stamped with the resync's start in `lastSyncedAt`, the unstamped ones archived as gone), on
 * PostgreSQL, against a scripted CardDAV server. Each test says what it attacks and what is right: no contact
 * still on the server archived, no contact gone from it kept, whatever the wall clock does; no listing left
 * open when a resync stops half-way.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { MULTIGET_MAX_HREFS } from '../../src/dav/types.ts'
import { createDavSession } from '../../src/dav/session.ts'
import { createLogger } from '../../src/logger.ts'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'
import { syncCalendar } from '../../src/sync/calendar-sync.ts'
import { syncAddressBook, type ContactsSyncDeps } from '../../src/sync/contacts-sync.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const card = (uid: string, name: string, lines: string[] = []) => ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${name}`, ...lines, 'END:VCARD', ''].join('\r\n')
const good = (uid: string, name: string) => card(uid, name, [`EMAIL:${uid}@example.com`])
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const unescapeXml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
const HEAD = '<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
const etagOf = (data: string) => `"e-${data.length}-${data.charCodeAt(data.length - 12)}"`
const member = (href: string, data: string) =>
  `<D:response><D:href>${escapeXml(href)}</D:href><D:propstat><D:prop><D:getetag>${etagOf(data)}</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`

interface Book {
  url: string
  server: Server
  /** Every card of the server by absolute path (several collections may share it). */
  cards: Map<string, string>
  /** Called as a multiget arrives (awaited before it is answered). */
  onMultiget: () => void | Promise<void>
  /** sync-collection from no token: answer the first MULTIGET_MAX_HREFS members, then hold the rest; resolves `listingClosed` when its connection goes. */
  holdListing: boolean
  listingClosed: Promise<void>
}

/**
 * A CardDAV server without sync (every sync is a full PROPFIND listing), or with it (`syncToken`): then
 * the full listing is a sync-collection from no token.
 */
async function scriptedServer(options: { syncToken?: string } = {}): Promise<Book> {
  let closed = () => {}
  const book: Book = {
    url: '',
    server: undefined as never,
    cards: new Map(),
    onMultiget: () => {},
    holdListing: false,
    listingClosed: new Promise<void>((resolve) => (closed = resolve)),
  }
  book.server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const path = request.url!
      const inCollection = [...book.cards.keys()].filter((href) => href.startsWith(path) && href !== path)
      const xml = (text: string) => {
        response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' })
        response.end(text)
      }
      if (request.method === 'PROPFIND' && request.headers.depth === '0') {
        const token = options.syncToken ? `<D:sync-token>${options.syncToken}</D:sync-token>` : ''
        return xml(`${HEAD}<D:response><D:href>${path}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>${token}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
      }
      if (request.method === 'PROPFIND') {
        const self = `<D:response><D:href>${path}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
        return xml(`${HEAD}${self}${inCollection.map((href) => member(href, book.cards.get(href)!)).join('')}</D:multistatus>`)
      }
      if (request.method === 'REPORT' && body.includes('sync-collection')) {
        const members = inCollection.map((href) => member(href, book.cards.get(href)!))
        if (!book.holdListing) return xml(`${HEAD}${members.join('')}<D:sync-token>${options.syncToken}-next</D:sync-token></D:multistatus>`)
        response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' })
        response.write(`${HEAD}${members.slice(0, MULTIGET_MAX_HREFS + 1).join('')}`)
        response.once('close', () => closed())
        return
      }
      if (request.method === 'REPORT') return void Promise.resolve(book.onMultiget()).then(() => {
        const hrefs = [...body.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((match) => unescapeXml(match[1]!))
        const found = hrefs.filter((href) => book.cards.has(href))
        return xml(
          `${HEAD}${found.map((href) => `<D:response><D:href>${escapeXml(href)}</D:href><D:propstat><D:prop><D:getetag>${etagOf(book.cards.get(href)!)}</D:getetag><C:address-data>${escapeXml(book.cards.get(href)!)}</C:address-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`).join('')}</D:multistatus>`,
        )
      })
      response.writeHead(405)
      response.end()
    })
  })
  book.server.listen(0, '127.0.0.1')
  await once(book.server, 'listening')
  book.url = `http://127.0.0.1:${(book.server.address() as AddressInfo).port}`
  return book
}

describe('full resync stamps against a scripted CardDAV server (PostgreSQL)', () => {
  let db: TestDatabase
  const servers: Server[] = []
  let users = 0
  beforeAll(async () => {
    db = await openTestDatabase('postgres')
  })
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
  afterAll(async () => {
    await db?.destroy()
  })

  /** An account on `book` with the collections `paths` (e.g. `/u/book/`); `sync(path)` syncs one with `clock`. */
  async function setup(book: Book, paths: string[]) {
    servers.push(book.server)
    const user = await db.prisma.user.create({ data: { email: `hostile-stamps${++users}-${Date.now()}@example.com` } })
    const account = await db.prisma.account.create({ data: { userId: user.id, kind: 'CARDDAV', url: book.url, auth: 'BASIC', credentials: 'unused in this test' } })
    const collections = new Map<string, string>()
    for (const path of paths) {
      const row = await db.prisma.accountCollection.create({ data: { accountId: account.id, url: `${book.url}${path}`, kind: 'ADDRESS_BOOK', enabled: true } })
      collections.set(path, row.id)
    }
    const clock = { at: () => new Date() }
    const controller = { current: new AbortController() }
    const sync = async (path: string) => {
      const deps: ContactsSyncDeps = { prisma: db.prisma, announce: () => {}, logger: createLogger('silent'), now: () => clock.at(), signal: controller.current.signal }
      const row = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collections.get(path)! } })
      const session = createDavSession({
        credentials: { kind: 'BASIC', username: 'u', password: 'p' },
        fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 60_000 }),
        oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
        now: () => new Date(),
      })
      return syncAddressBook(deps, { id: account.id, userId: user.id }, row, session)
    }
    const syncAsCalendar = async (path: string) => {
      const row = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collections.get(path)! } })
      const session = createDavSession({
        credentials: { kind: 'BASIC', username: 'u', password: 'p' },
        fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 60_000 }),
        oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
        now: () => new Date(),
      })
      const deps = { prisma: db.prisma, announce: () => {}, logger: createLogger('silent'), now: () => clock.at(), signal: controller.current.signal, horizonMs: 30 * 86_400_000 }
      return syncCalendar(deps, { id: account.id, userId: user.id }, row, session)
    }
    const byName = async (name: string) => db.prisma.contact.findFirstOrThrow({ where: { userId: user.id, name } })
    return { userId: user.id, sync, syncAsCalendar, clock, controller, byName }
  }

  it('the wall clock steps back an hour during the resync -> the updated and the new contact, both on the server, stay unarchived', async () => {
    const book = await scriptedServer()
    book.cards.set('/u/book/a.vcf', good('a', 'Anna Clock'))
    const { sync, clock, byName } = await setup(book, ['/u/book/'])
    await sync('/u/book/')
    book.cards.set('/u/book/a.vcf', good('a', 'Anna Clock Changed'))
    book.cards.set('/u/book/b.vcf', good('b', 'Bert Clock'))
    // The listing is taken at the real time; the pages are written after an NTP step back.
    book.onMultiget = () => {
      const back = Date.now() - 3_600_000
      clock.at = () => new Date(back)
    }
    await sync('/u/book/')
    expect(await byName('Anna Clock Changed')).toMatchObject({ archived: false, remoteDeletedAt: null })
    expect(await byName('Bert Clock')).toMatchObject({ archived: false, remoteDeletedAt: null })
  })

  it('the previous sync ran with a clock an hour fast, this resync with the right one -> the card deleted on the server is archived', async () => {
    const book = await scriptedServer()
    book.cards.set('/u/book/a.vcf', good('a', 'Anna Fast'))
    book.cards.set('/u/book/gone.vcf', good('gone', 'Gone Fast'))
    const { sync, clock, byName } = await setup(book, ['/u/book/'])
    clock.at = () => new Date(Date.now() + 3_600_000)
    await sync('/u/book/')
    book.cards.delete('/u/book/gone.vcf')
    clock.at = () => new Date()
    const result = await sync('/u/book/')
    expect(result.removed).toBe(1)
    expect(await byName('Gone Fast')).toMatchObject({ archived: true })
    expect(await byName('Anna Fast')).toMatchObject({ archived: false })
  })

  it('two address books /u/book/ and /u/book2/ of one account -> a resync of /u/book/ archives nothing of /u/book2/', async () => {
    const book = await scriptedServer()
    book.cards.set('/u/book/a.vcf', good('a1', 'Anna Book'))
    book.cards.set('/u/book2/b.vcf', good('b2', 'Bert BookTwo'))
    const { sync, byName } = await setup(book, ['/u/book/', '/u/book2/'])
    await sync('/u/book/')
    await sync('/u/book2/')
    book.cards.delete('/u/book/a.vcf')
    const result = await sync('/u/book/')
    expect(result.removed).toBe(1)
    expect(await byName('Anna Book')).toMatchObject({ archived: true })
    expect(await byName('Bert BookTwo')).toMatchObject({ archived: false })
  })

  it('a card whose new version the mapping rejects, and a contact edited here (remoteDirty) during the resync whose card changed -> both kept, unarchived', async () => {
    const book = await scriptedServer()
    book.cards.set('/u/book/r.vcf', good('r', 'Rita Rejected'))
    book.cards.set('/u/book/d.vcf', good('d', 'Dirk Dirty'))
    const { sync, byName } = await setup(book, ['/u/book/'])
    await sync('/u/book/')
    book.cards.set('/u/book/r.vcf', 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:r\r\nEND:VCARD\r\n')
    book.cards.set('/u/book/d.vcf', good('d', 'Dirk Server Side'))
    const dirty = await byName('Dirk Dirty')
    // The user edits the contact while the resync reads the page.
    book.onMultiget = async () => {
      await db.prisma.contact.update({ where: { id: dirty.id }, data: { remoteDirty: ['name'], name: 'Dirk Edited Here' } })
    }
    const result = await sync('/u/book/')
    expect(result).toMatchObject({ fullResync: true, removed: 0 })
    expect(await byName('Rita Rejected')).toMatchObject({ archived: false })
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: dirty.id } })).toMatchObject({ archived: false, name: 'Dirk Edited Here' })
  })

  it('a resync aborted after its first page, then another in which a listed card is gone -> only that card archived', async () => {
    const book = await scriptedServer()
    for (let at = 0; at < MULTIGET_MAX_HREFS + 5; at++) book.cards.set(`/u/book/${String(at).padStart(4, '0')}.vcf`, good(`p${at}`, `Person ${at}`))
    const { sync, controller, userId, byName } = await setup(book, ['/u/book/'])
    await sync('/u/book/')
    book.cards.set('/u/book/0000.vcf', good('p0', 'Person 0 Renamed'))
    book.onMultiget = () => controller.current.abort(new Error('stopped'))
    await expect(sync('/u/book/')).rejects.toThrow('stopped')
    controller.current = new AbortController()
    book.onMultiget = () => {}
    // One stamped by the aborted run (first page), one not.
    book.cards.delete('/u/book/0199.vcf')
    book.cards.delete(`/u/book/0${MULTIGET_MAX_HREFS + 4}.vcf`)
    const result = await sync('/u/book/')
    expect(result.removed).toBe(2)
    expect(await byName('Person 199')).toMatchObject({ archived: true })
    expect(await byName(`Person ${MULTIGET_MAX_HREFS + 4}`)).toMatchObject({ archived: true })
    expect(await db.prisma.contact.count({ where: { userId, archived: false } })).toBe(MULTIGET_MAX_HREFS + 3)
  })

  it('a resync by sync-collection stopped after its first page (abort) -> the listing still being sent is closed, not left open with no timer', async () => {
    const book = await scriptedServer({ syncToken: 'http://example.com/sync/1' })
    for (let at = 0; at < MULTIGET_MAX_HREFS + 5; at++) book.cards.set(`/u/book/${String(at).padStart(4, '0')}.vcf`, good(`q${at}`, `Queued ${at}`))
    const { sync, controller } = await setup(book, ['/u/book/'])
    book.holdListing = true
    book.onMultiget = () => controller.current.abort(new Error('stopped'))
    await expect(sync('/u/book/')).rejects.toThrow('stopped')
    await vi.waitFor(() => book.listingClosed, { timeout: 10_000 })
  })

  it('a calendar\'s sync-collection listing stopped after its first page (abort) -> that listing is closed too', async () => {
    const book = await scriptedServer({ syncToken: 'http://example.com/sync/1' })
    for (let at = 0; at < MULTIGET_MAX_HREFS + 5; at++) book.cards.set(`/u/cal/${String(at).padStart(4, '0')}.ics`, `BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n${at}`)
    const { syncAsCalendar, controller } = await setup(book, ['/u/cal/'])
    book.holdListing = true
    book.onMultiget = () => controller.current.abort(new Error('stopped'))
    await expect(syncAsCalendar('/u/cal/')).rejects.toThrow('stopped')
    await vi.waitFor(() => book.listingClosed, { timeout: 10_000 })
  })
})
