/**
 * H6, a hostile CardDAV server against the contacts sync (src/sync/contacts-sync.ts, write-back.ts) on PGlite:
 * hrefs outside the collection (another host, `..` traversal, another collection) in the listing, a 10 MB card
 * among good ones, a name of 100,000 characters, a card whose UID is another account's. Each test says in one
 * line what it attacks and what is right.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createDavSession } from '../../src/dav/session.ts'
import { createLogger } from '../../src/logger.ts'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'
import { syncAddressBook, type ContactsSyncDeps } from '../../src/sync/contacts-sync.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const card = (uid: string, name: string, lines: string[] = []) => ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${name}`, ...lines, 'END:VCARD', ''].join('\r\n')
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const unescapeXml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
const HEAD = '<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'

/** A CardDAV server (no sync token: every sync lists with PROPFIND and reads with multiget) serving `cards` by href; records each request. */
async function hostileBook(cards: Map<string, string>) {
  const requests: { method: string; path: string; body: string }[] = []
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push({ method: request.method!, path: request.url!, body })
      const xml = (text: string) => {
        response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' })
        response.end(text)
      }
      if (request.method === 'PROPFIND' && request.headers.depth === '0') {
        return xml(`${HEAD}<D:response><D:href>${request.url}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
      }
      if (request.method === 'PROPFIND') {
        const members = [...cards.keys()].map((href) => `<D:response><D:href>${escapeXml(href)}</D:href><D:propstat><D:prop><D:getetag>"e-${cards.get(href)!.length}"</D:getetag><D:resourcetype/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
        return xml(`${HEAD}<D:response><D:href>${request.url}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>${members.join('')}</D:multistatus>`)
      }
      if (request.method === 'REPORT') {
        const hrefs = [...body.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((match) => unescapeXml(match[1]!))
        const found = hrefs.filter((href) => cards.has(href))
        return xml(
          `${HEAD}${found.map((href) => `<D:response><D:href>${escapeXml(href)}</D:href><D:propstat><D:prop><D:getetag>"e-${cards.get(href)!.length}"</D:getetag><C:address-data>${escapeXml(cards.get(href)!)}</C:address-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`).join('')}</D:multistatus>`,
        )
      }
      if (request.method === 'PUT') {
        response.writeHead(204, { etag: '"put"' })
        return response.end()
      }
      response.writeHead(405)
      response.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, requests, server }
}

describe('a hostile CardDAV server against the contacts sync', () => {
  let db: TestDatabase
  const servers: Server[] = []
  let users = 0
  beforeAll(async () => {
    db = await openTestDatabase('pglite')
  })
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  })
  afterAll(async () => {
    await db?.destroy()
  })

  async function setup(cards: Map<string, string>, userId?: string) {
    const book = await hostileBook(cards)
    servers.push(book.server)
    const user = userId ?? (await db.prisma.user.create({ data: { email: `hostile-sync${++users}@example.com` } })).id
    const account = await db.prisma.account.create({ data: { userId: user, kind: 'CARDDAV', url: book.url, auth: 'BASIC', credentials: 'unused in this test' } })
    const bookUrl = `${book.url}/u/book/`
    const collection = await db.prisma.accountCollection.create({ data: { accountId: account.id, url: bookUrl, kind: 'ADDRESS_BOOK', enabled: true } })
    const deps: ContactsSyncDeps = { prisma: db.prisma, announce: () => {}, logger: createLogger('silent'), now: () => new Date() }
    const sync = async () => {
      const row = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })
      const session = createDavSession({
        credentials: { kind: 'BASIC', username: 'u', password: 'p' },
        fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 60_000 }),
        oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
        now: () => new Date(),
      })
      return syncAddressBook(deps, { id: account.id, userId: user }, row, session)
    }
    return { book, userId: user, account, bookUrl, sync }
  }

  const good = (uid: string, name: string) => card(uid, name, [`EMAIL:${uid}@example.com`])

  it('hrefs outside the collection (`..` traversal, another collection, another host) in a listing -> not stored as this collection\'s contacts', async () => {
    const cards = new Map([
      ['/u/book/ok.vcf', good('ok', 'Okay Person')],
      ['/u/book/../victim/x.vcf', good('trav', 'Traversal Person')],
      ['/u/book/%2e%2e/victim/y.vcf', good('enc', 'Encoded Traversal')],
      ['/other/book/z.vcf', good('other', 'Other Collection')],
      ['http://elsewhere.invalid/u/book/w.vcf', good('host', 'Other Host')],
    ])
    const { userId, bookUrl, sync } = await setup(cards)
    await sync()
    const stored = await db.prisma.contact.findMany({ where: { userId }, select: { name: true, remoteHref: true } })
    expect(stored.map((contact) => contact.name)).toContain('Okay Person')
    const outside = stored.filter((contact) => contact.remoteHref !== null && !new URL(contact.remoteHref, bookUrl).href.startsWith(bookUrl))
    expect(outside).toEqual([])
  })

  it('an edit here of a contact whose href is `/u/book/../victim/x.vcf` -> the write-back never PUTs outside the collection', async () => {
    const cards = new Map([['/u/book/../victim/x.vcf', good('trav2', 'Traversal Person')]])
    const { book, userId, sync } = await setup(cards)
    await sync()
    const contact = await db.prisma.contact.findFirst({ where: { userId, name: 'Traversal Person' } })
    // Skipped at pull time is right too: then there is nothing to write back.
    if (contact) {
      await db.prisma.contact.update({ where: { id: contact.id }, data: { name: 'Edited Here', remoteDirty: ['name'] } })
      await sync()
    }
    const puts = book.requests.filter((request) => request.method === 'PUT').map((request) => request.path)
    expect(puts.filter((path) => !path.startsWith('/u/book/'))).toEqual([])
  })

  it('one 10 MB card among good ones -> that card is skipped (rejected), the good ones sync and the sync does not fail', { timeout: 60_000 }, async () => {
    const cards = new Map([
      ['/u/book/a.vcf', good('a', 'Alpha Person')],
      ['/u/book/huge.vcf', card('huge', 'Huge Person', [`NOTE:${'x'.repeat(10 * 1024 * 1024)}`])],
      ['/u/book/b.vcf', good('b', 'Beta Person')],
    ])
    const { userId, sync } = await setup(cards)
    const outcome = await sync().catch((error: unknown) => error)
    expect(outcome).not.toBeInstanceOf(Error)
    const names = (await db.prisma.contact.findMany({ where: { userId }, select: { name: true } })).map((contact) => contact.name).sort()
    expect(names).toEqual(['Alpha Person', 'Beta Person'])
  })

  it('a card whose name is 100,000 characters -> rejected, the others stored, nothing of 100,000 characters written', async () => {
    const cards = new Map([
      ['/u/book/a.vcf', good('a2', 'Alpha Person')],
      ['/u/book/long.vcf', card('long', 'N'.repeat(100_000), ['EMAIL:long@example.com'])],
    ])
    const { userId, sync } = await setup(cards)
    const result = await sync()
    expect(result.rejected).toBe(1)
    const stored = await db.prisma.contact.findMany({ where: { userId }, select: { name: true } })
    expect(stored.map((contact) => contact.name)).toEqual(['Alpha Person'])
  })

  it("a card whose UID and href equal another account's card (same user) and another user's contact -> a separate contact; theirs untouched", async () => {
    const first = await setup(new Map([['/u/book/same.vcf', good('same-uid', 'First Account')]]))
    await first.sync()
    const other = await db.prisma.user.create({ data: { email: `hostile-other${++users}@example.com` } })
    const strangers = await db.prisma.contact.create({ data: { userId: other.id, name: 'Someone Else', externalId: 'same-uid', nextDueAt: new Date() } })
    const second = await setup(new Map([['/u/book/same.vcf', good('same-uid', 'Second Account')]]), first.userId)
    await second.sync()
    const mine = await db.prisma.contact.findMany({ where: { userId: first.userId }, orderBy: { name: 'asc' }, select: { name: true, accountId: true } })
    expect(mine).toEqual([
      { name: 'First Account', accountId: first.account.id },
      { name: 'Second Account', accountId: second.account.id },
    ])
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: strangers.id } })).toMatchObject({ name: 'Someone Else', accountId: null, userId: other.id })
  })
})
