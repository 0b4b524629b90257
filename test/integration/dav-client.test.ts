/**
 * The DAV client against a real Radicale: discovery, sync-collection (first, incremental, a refused
 * token), listings, multiget pages, conditional writes, calendar-query, wrong credentials, and the
 * outbound guard in front of it all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendarQuery, deleteObject, discoverCollections, listMembers, multiget, putObject, readCollectionState, syncCollection } from '../../src/dav/client.ts'
import { createDavSession } from '../../src/dav/session.ts'
import { DavHttpError, PreconditionFailedError, SyncTokenInvalidError, type DavChange } from '../../src/dav/types.ts'
import { createOutboundFetch, UnsafeUrlError } from '../../src/net/outbound-fetch.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'

const available = radicaleAvailable()
const oauth = { clientId: undefined, clientSecret: undefined, tokenUrl: 'http://127.0.0.1:1/token' }
const card = (uid: string, name: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`

async function drain<T, R>(generator: AsyncGenerator<T[], R, undefined>): Promise<{ items: T[]; pages: number; result: R }> {
  const items: T[] = []
  let pages = 0
  for (;;) {
    const next = await generator.next()
    if (next.done) return { items, pages, result: next.value }
    items.push(...next.value)
    pages++
  }
}

describe.skipIf(!available)('DAV client against Radicale', () => {
  let radicale: Radicale
  let book: string
  const session = (password = radicale.users.alice!, allowPrivate = true) =>
    createDavSession({ credentials: { kind: 'BASIC', username: 'alice', password }, fetch: createOutboundFetch({ allowPrivate, timeoutMs: 10_000 }), oauth, now: () => new Date() })

  beforeAll(async () => {
    radicale = await startRadicale()
    book = await radicale.createAddressBook('alice', 'contacts', 'My contacts')
    await radicale.createCalendar('alice', 'work', 'Work')
  })
  afterAll(() => radicale?.stop())

  it('discovers the address books from the server root and from the collection itself', async () => {
    const fromRoot = await discoverCollections(session(), `${radicale.url}/`, 'CARDDAV')
    expect(fromRoot).toEqual([expect.objectContaining({ url: book, displayName: 'My contacts', kind: 'ADDRESS_BOOK' })])
    expect(fromRoot[0]!.syncToken).toMatch(/sync/)
    expect(await discoverCollections(session(), book, 'CARDDAV')).toEqual([expect.objectContaining({ url: book })])
    const calendars = await discoverCollections(session(), radicale.url, 'CALDAV')
    expect(calendars.map((calendar) => calendar.displayName)).toEqual(['Work'])
  })

  it('refuses wrong credentials with 401, and a loopback server when private addresses are not allowed', async () => {
    await expect(discoverCollections(session('wrong'), radicale.url, 'CARDDAV')).rejects.toMatchObject({ name: 'DavHttpError', status: 401 })
    await expect(discoverCollections(session(undefined, false), radicale.url, 'CARDDAV')).rejects.toBeInstanceOf(UnsafeUrlError)
  })

  it('syncs from no token, then only what changed, in pages, and refuses a garbage token', async () => {
    const hrefs = Array.from({ length: 250 }, (_, index) => `${book}c${index}.vcf`)
    for (let index = 0; index < hrefs.length; index += 25) {
      await Promise.all(hrefs.slice(index, index + 25).map((href, offset) => radicale.put('alice', href, card(`c${index + offset}`, `Person ${index + offset}`), 'text/vcard')))
    }
    const first = await drain(syncCollection(session(), book, null))
    expect(first.items).toHaveLength(250)
    expect(first.pages).toBe(2)
    expect(first.result).toBeTruthy()

    await radicale.put('alice', `${book}c1.vcf`, card('c1', 'Renamed'), 'text/vcard')
    await radicale.remove('alice', `${book}c2.vcf`)
    await radicale.put('alice', `${book}new.vcf`, card('new', 'New'), 'text/vcard')
    const counted = session()
    const next = await drain(syncCollection(counted, book, first.result))
    expect(counted.requests).toBe(1)
    const byHref = new Map(next.items.map((change: DavChange) => [new URL(change.href, book).href, change]))
    expect(byHref.size).toBe(3)
    expect(byHref.get(`${book}c2.vcf`)).toMatchObject({ deleted: true })
    expect(byHref.get(`${book}c1.vcf`)).toMatchObject({ etag: expect.any(String) })
    expect(byHref.get(`${book}new.vcf`)).toMatchObject({ etag: expect.any(String) })
    expect((await readCollectionState(session(), book)).syncToken).toBe(next.result)

    await expect(drain(syncCollection(session(), book, 'http://radicale.org/ns/sync/garbage'))).rejects.toBeInstanceOf(SyncTokenInvalidError)

    const members = await drain(listMembers(session(), book))
    expect(members.items).toHaveLength(250)
    const objects = [...(await multiget(session(), book, 'ADDRESS_BOOK', members.items.slice(0, 200).map((member) => member.href))), ...(await multiget(session(), book, 'ADDRESS_BOOK', members.items.slice(200).map((member) => member.href)))]
    expect(objects).toHaveLength(250)
    expect(objects.find((object) => object.href.endsWith('/c1.vcf'))?.data).toContain('FN:Renamed')
    await expect(multiget(session(), book, 'ADDRESS_BOOK', new Array(201).fill(`${book}c0.vcf`))).rejects.toBeInstanceOf(RangeError)
  })

  it('writes with If-Match and If-None-Match, and deletes', async () => {
    const url = `${book}written.vcf`
    const created = await putObject(session(), url, card('written', 'Written'), 'text/vcard', { ifNoneMatch: '*' })
    expect(created.etag).toBeTruthy()
    await expect(putObject(session(), url, card('written', 'Again'), 'text/vcard', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError)
    const updated = await putObject(session(), url, card('written', 'Updated'), 'text/vcard', { ifMatch: created.etag! })
    await expect(putObject(session(), url, card('written', 'Stale'), 'text/vcard', { ifMatch: created.etag! })).rejects.toBeInstanceOf(PreconditionFailedError)
    await expect(deleteObject(session(), url, created.etag!)).rejects.toBeInstanceOf(PreconditionFailedError)
    await deleteObject(session(), url, updated.etag!)
    await deleteObject(session(), url)
  })

  it('finds the events of a time range', async () => {
    const calendar = `${radicale.url}/alice/work/`
    const event = (uid: string, start: string) =>
      `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:${start}\r\nDURATION:PT1H\r\nSUMMARY:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`
    await radicale.put('alice', `${calendar}in.ics`, event('in', '20261202T100000Z'), 'text/calendar')
    await radicale.put('alice', `${calendar}out.ics`, event('out', '20270301T100000Z'), 'text/calendar')
    const { items } = await drain(calendarQuery(session(), calendar, { start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-31T00:00:00Z') }))
    expect(items.map((item) => item.href)).toEqual(['/alice/work/in.ics'])
    expect(items[0]!.data).toContain('UID:in')
  })

  it('answers a timeout or a refused connection with DavHttpError(0)', async () => {
    const closed = createDavSession({ credentials: { kind: 'BASIC', username: 'a', password: 'b' }, fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 2000 }), oauth, now: () => new Date() })
    await expect(closed.fetch('http://127.0.0.1:1/')).rejects.toMatchObject({ status: 0 })
    expect(new DavHttpError(0, 'x').status).toBe(0)
  })
})
