/**
 * The DAV wire against a real Radicale (CardDAV + CalDAV): discovery, RFC 6578 sync (first and incremental,
 * an invalid token), listings, multiget in pages, conditional writes, calendar-query, wrong credentials,
 * and the outbound guard in front of it all (a loopback server is refused unless private URLs are allowed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  calendarQuery,
  deleteObject,
  discoverCollections,
  listMembers,
  multiget,
  putObject,
  readCollectionState,
  syncCollection,
} from '../../src/dav/client.ts'
import { createDavSession } from '../../src/dav/session.ts'
import { DavHttpError, MULTIGET_MAX_HREFS, PreconditionFailedError, SyncTokenInvalidError, type DavChange } from '../../src/dav/types.ts'
import { createOutboundFetch, UnsafeUrlError } from '../../src/net/outbound-fetch.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'

const available = radicaleAvailable()
const oauth = { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' }

function vcard(uid: string, name: string): string {
  return `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEMAIL:${uid}@example.com\r\nEND:VCARD\r\n`
}

function vevent(uid: string, start: string, end: string): string {
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:${start}\r\nDTEND:${end}\r\nSUMMARY:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`
}

async function collect<T, R>(generator: AsyncGenerator<T[], R, undefined>): Promise<{ items: T[]; pages: number; result: R }> {
  const items: T[] = []
  let pages = 0
  for (;;) {
    const next = await generator.next()
    if (next.done) return { items, pages, result: next.value }
    pages++
    expect(next.value.length).toBeLessThanOrEqual(MULTIGET_MAX_HREFS)
    items.push(...next.value)
  }
}

describe.skipIf(!available)('DAV client against Radicale', () => {
  let radicale: Radicale
  const session = (password?: string, allowPrivate = true) =>
    createDavSession({
      credentials: { kind: 'BASIC', username: 'alice', password: password ?? radicale.users.alice! },
      fetch: createOutboundFetch({ allowPrivate, timeoutMs: 20_000 }),
      oauth,
      now: () => new Date(),
    })

  beforeAll(async () => {
    radicale = await startRadicale()
  })
  afterAll(async () => {
    await radicale?.stop()
  })

  it('discovers address books and calendars from the root URL, and a collection URL alone', async () => {
    const book = await radicale.createAddressBook('alice', 'discover-book', 'Friends')
    const calendar = await radicale.createCalendar('alice', 'discover-cal', 'Work')
    const dav = session()
    const books = await discoverCollections(dav, `${radicale.url}/`, 'CARDDAV')
    expect(books).toContainEqual(expect.objectContaining({ url: book, displayName: 'Friends', kind: 'ADDRESS_BOOK', syncToken: expect.any(String) }))
    expect(books.every((found) => found.kind === 'ADDRESS_BOOK')).toBe(true)
    const calendars = await discoverCollections(dav, radicale.url, 'CALDAV')
    expect(calendars).toContainEqual(expect.objectContaining({ url: calendar, displayName: 'Work', kind: 'CALENDAR' }))
    expect(calendars.some((found) => found.url === book)).toBe(false)

    const alone = await discoverCollections(dav, book, 'CARDDAV')
    expect(alone).toEqual([expect.objectContaining({ url: book, displayName: 'Friends', kind: 'ADDRESS_BOOK' })])
  })

  it('syncs from no token, then incrementally: exactly an added, an edited and a deleted card', async () => {
    const book = await radicale.createAddressBook('alice', 'sync-book')
    for (let i = 0; i < 5; i++) await radicale.put('alice', `${book}c${i}.vcf`, vcard(`c${i}`, `Card ${i}`), 'text/vcard')
    const dav = session()
    const first = await collect(syncCollection(dav, book, null))
    expect(first.items.map((change) => change.href).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `/alice/sync-book/c${i}.vcf`))
    expect(first.items.every((change) => !change.deleted && change.etag !== '')).toBe(true)
    expect(first.result).toEqual(expect.any(String))

    await radicale.put('alice', `${book}c5.vcf`, vcard('c5', 'Card 5'), 'text/vcard')
    await radicale.put('alice', `${book}c1.vcf`, vcard('c1', 'Card 1 edited'), 'text/vcard')
    await radicale.remove('alice', `${book}c3.vcf`)
    const before = dav.requests
    const next = await collect(syncCollection(dav, book, first.result))
    expect(dav.requests - before).toBe(1)
    const byHref = new Map<string, DavChange>(next.items.map((change) => [change.href, change]))
    expect([...byHref.keys()].sort()).toEqual(['/alice/sync-book/c1.vcf', '/alice/sync-book/c3.vcf', '/alice/sync-book/c5.vcf'])
    expect(byHref.get('/alice/sync-book/c3.vcf')).toEqual({ href: '/alice/sync-book/c3.vcf', deleted: true })
    expect(byHref.get('/alice/sync-book/c5.vcf')).toMatchObject({ etag: expect.any(String) })
    expect(next.result).not.toBe(first.result)

    const state = await readCollectionState(dav, book)
    expect(state.syncToken).toBe(next.result)
    const nothing = await collect(syncCollection(dav, book, next.result))
    expect(nothing.items).toEqual([])
  })

  it('refuses an invalid sync token with SyncTokenInvalidError', async () => {
    const book = await radicale.createAddressBook('alice', 'bad-token')
    await expect(collect(syncCollection(session(), book, 'http://radicale.org/ns/sync/not-a-token'))).rejects.toBeInstanceOf(SyncTokenInvalidError)
  })

  it('lists members and reads 300 of them with two multigets', async () => {
    const book = await radicale.createAddressBook('alice', 'big-book')
    for (let i = 0; i < 300; i++) await radicale.put('alice', `${book}m${i}.vcf`, vcard(`m${i}`, `Member ${i}`), 'text/vcard')
    const dav = session()
    const listed = await collect(listMembers(dav, book))
    expect(listed.items).toHaveLength(300)
    expect(listed.pages).toBe(2)
    expect(new Set(listed.items.map((member) => member.href)).size).toBe(300)
    const hrefs = listed.items.map((member) => member.href)
    const before = dav.requests
    const objects = [...(await multiget(dav, book, 'ADDRESS_BOOK', hrefs.slice(0, 200))), ...(await multiget(dav, book, 'ADDRESS_BOOK', hrefs.slice(200)))]
    expect(dav.requests - before).toBe(2)
    expect(objects).toHaveLength(300)
    const etags = new Map(listed.items.map((member) => [member.href, member.etag]))
    for (const object of objects) {
      expect(object.etag).toBe(etags.get(object.href))
      expect(object.data).toContain('BEGIN:VCARD')
    }
    await expect(multiget(dav, book, 'ADDRESS_BOOK', hrefs.concat(hrefs).slice(0, MULTIGET_MAX_HREFS + 1))).rejects.toBeInstanceOf(RangeError)
    // A deleted member is left out.
    await radicale.remove('alice', new URL(hrefs[0]!, book).href)
    expect((await multiget(dav, book, 'ADDRESS_BOOK', hrefs.slice(0, 3))).map((object) => object.href).sort()).toEqual(hrefs.slice(1, 3).sort())
  })

  it('writes with If-None-Match and If-Match, refuses a stale ETag, deletes', async () => {
    const book = await radicale.createAddressBook('alice', 'write-book')
    const dav = session()
    const url = `${book}w1.vcf`
    const created = await putObject(dav, url, vcard('w1', 'Written'), 'text/vcard; charset=utf-8', { ifNoneMatch: '*' })
    expect(created.etag).toEqual(expect.any(String))
    await expect(putObject(dav, url, vcard('w1', 'Again'), 'text/vcard', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError)
    const updated = await putObject(dav, url, vcard('w1', 'Updated'), 'text/vcard', { ifMatch: created.etag! })
    await expect(putObject(dav, url, vcard('w1', 'Stale'), 'text/vcard', { ifMatch: created.etag! })).rejects.toBeInstanceOf(PreconditionFailedError)
    await expect(deleteObject(dav, url, created.etag!)).rejects.toBeInstanceOf(PreconditionFailedError)
    await deleteObject(dav, url, updated.etag!)
    await deleteObject(dav, url)
    expect((await collect(listMembers(dav, book))).items).toEqual([])
  })

  it('queries a calendar for a time range', async () => {
    const calendar = await radicale.createCalendar('alice', 'range-cal')
    await radicale.put('alice', `${calendar}in.ics`, vevent('in', '20240610T090000Z', '20240610T100000Z'), 'text/calendar')
    await radicale.put('alice', `${calendar}out.ics`, vevent('out', '20240801T090000Z', '20240801T100000Z'), 'text/calendar')
    const found = await collect(calendarQuery(session(), calendar, { start: new Date('2024-06-01T00:00:00Z'), end: new Date('2024-07-01T00:00:00Z') }))
    expect(found.items.map((object) => object.href)).toEqual(['/alice/range-cal/in.ics'])
    expect(found.items[0]!.data).toContain('UID:in')
    const objects = await multiget(session(), calendar, 'CALENDAR', ['/alice/range-cal/out.ics'])
    expect(objects[0]!.data).toContain('UID:out')
  })

  it('answers a wrong password with DavHttpError 401', async () => {
    const error = await discoverCollections(session('wrong'), radicale.url, 'CARDDAV').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DavHttpError)
    expect((error as DavHttpError).status).toBe(401)
  })

  it('refuses the loopback server unless private URLs are allowed', async () => {
    const error = await discoverCollections(session(undefined, false), radicale.url, 'CARDDAV').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnsafeUrlError)
    expect((error as UnsafeUrlError).reason).toBe('private-address')
    await expect(discoverCollections(session(undefined, true), radicale.url, 'CARDDAV')).resolves.toEqual(expect.any(Array))
  })
})
