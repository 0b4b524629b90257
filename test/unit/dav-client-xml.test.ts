/**
 * The DAV client's handling of what servers answer (dav/client.ts) with a scripted session: a multistatus is parsed
 * as it streams (the first page is handed on before the body ends), any namespace prefix and CDATA, bounded values,
 * refused non-XML / malformed / DOCTYPE answers, Retry-After, sync-token refusals and truncated sync answers,
 * and discovery through the well-known redirect, the principal and its home set.
 */
import { describe, expect, it } from 'vitest'
import { calendarQuery, discoverCollections, listMembers, MAX_DATA_CHARS, MAX_RUN_CHARS, multiget, readCollectionState, syncCollection } from '../../src/dav/client.ts'
import { parseRetryAfter } from '../../src/net/retry-after.ts'
import { DavHttpError, MULTIGET_MAX_HREFS, SyncTokenInvalidError, type DavSession } from '../../src/dav/types.ts'

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>

function scripted(handler: Handler): DavSession & { calls: { url: string; method: string; body: string; depth: string | null }[] } {
  const calls: { url: string; method: string; body: string; depth: string | null }[] = []
  return {
    calls,
    async fetch(url, init = {}) {
      calls.push({ url: String(url), method: init.method ?? 'GET', body: String(init.body ?? ''), depth: new Headers(init.headers).get('depth') })
      return handler(String(url), init)
    },
  }
}

const xml = (body: string, status = 207) => new Response(body, { status, headers: { 'content-type': 'application/xml; charset=utf-8' } })
const member = (href: string, etag: string) =>
  `<d:response><d:href>${href}</d:href><d:propstat><d:prop><d:getetag>${etag}</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`
const multistatus = (inner: string, token?: string) =>
  `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cal="urn:ietf:params:xml:ns:caldav">${inner}${token === undefined ? '' : `<d:sync-token>${token}</d:sync-token>`}</d:multistatus>`

const base = 'https://dav.example.com/u/book/'

async function drain<T>(generator: AsyncGenerator<T[], unknown, undefined>): Promise<{ items: T[]; result: unknown }> {
  const items: T[] = []
  for (;;) {
    const next = await generator.next()
    if (next.done) return { items, result: next.value }
    items.push(...next.value)
  }
}

describe('DAV client: parsing answers', () => {
  it('hands on the first page before the body has ended (a multistatus is never held whole)', async () => {
    const total = 1000
    let produced = 0
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(multistatus('').replace('</d:multistatus>', '')))
      },
      pull(controller) {
        if (produced === total) {
          controller.enqueue(encoder.encode('</d:multistatus>'))
          controller.close()
          return
        }
        // Ten members per chunk, pulled only when the parser wants more.
        let chunk = ''
        for (let i = 0; i < 10; i++, produced++) chunk += member(`/u/book/${produced}.vcf`, `"e${produced}"`)
        controller.enqueue(encoder.encode(chunk))
      },
    }, { highWaterMark: 0 })
    const session = scripted(() => new Response(body, { status: 207, headers: { 'content-type': 'text/xml' } }))
    const pages = listMembers(session, base)
    const first = await pages.next()
    expect(first.done).toBe(false)
    expect(first.value).toHaveLength(MULTIGET_MAX_HREFS)
    expect(produced).toBeLessThan(MULTIGET_MAX_HREFS + 50)
    let count = (first.value as unknown[]).length
    for await (const page of pages) count += page.length
    expect(count).toBe(total)
  })

  it('reads any prefix, default namespaces, CDATA, full-URL hrefs; skips the collection however its href is spelled', async () => {
    const card = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A & B <x>\r\nEND:VCARD\r\n'
    const session = scripted(() =>
      xml(
        `<?xml version="1.0"?><multistatus xmlns="DAV:"><response><href>https://dav.example.com/u/%62ook</href><propstat><prop><getetag>"c"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>` +
          `<response><href>/u/book/a.vcf</href><propstat><prop><getetag>"1"</getetag><C:address-data xmlns:C="urn:ietf:params:xml:ns:carddav"><![CDATA[${card}]]></C:address-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>` +
          `<response><href>/u/book/gone.vcf</href><status>HTTP/1.1 404 Not Found</status></response>` +
          `<response><href>/u/book/b.vcf</href><propstat><prop><getetag>"2"</getetag><x:address-data xmlns:x="urn:ietf:params:xml:ns:carddav">BEGIN:VCARD&#13;\nFN:Tom &amp; Jerry\nEND:VCARD</x:address-data></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`,
      ),
    )
    const objects = await multiget(session, base, 'ADDRESS_BOOK', ['/u/book/a.vcf', '/u/book/gone.vcf', '/u/book/b.vcf'])
    expect(objects).toEqual([
      // XML turns CR LF into LF (XML 1.0 §2.11), CDATA included; an encoded &#13; stays.
      { href: '/u/book/a.vcf', etag: '"1"', data: card.replace(/\r\n/g, '\n') },
      { href: '/u/book/b.vcf', etag: '"2"', data: 'BEGIN:VCARD\r\nFN:Tom & Jerry\nEND:VCARD' },
    ])
    expect(session.calls[0]).toMatchObject({ method: 'REPORT', depth: '1' })
    expect(session.calls[0]!.body).toContain('<X:addressbook-multiget')
    expect(session.calls[0]!.body).toContain('<D:href>/u/book/gone.vcf</D:href>')
  })

  it('refuses a non-XML answer, malformed XML, a DOCTYPE and a value over its bound with DavHttpError', async () => {
    const failWith = async (response: Response) => {
      const error = await drain(listMembers(scripted(() => response), base)).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DavHttpError)
      return (error as DavHttpError).message
    }
    expect(await failWith(new Response('<html><body>login</body></html>', { status: 207, headers: { 'content-type': 'text/html' } }))).toMatch(/not XML/)
    expect(await failWith(xml('<d:multistatus xmlns:d="DAV:"><d:response>'))).toMatch(/malformed|unreadable/i)
    expect(await failWith(xml('<html xmlns="http://www.w3.org/1999/xhtml"/>'))).toMatch(/expected DAV:multistatus/)
    expect(await failWith(xml('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><d:multistatus xmlns:d="DAV:">&b;</d:multistatus>'))).toMatch(/DOCTYPE/)
    expect(await failWith(xml(''))).toMatch(/empty|malformed|unreadable/i)
    expect(await failWith(xml(multistatus(member('/u/book/a.vcf', 'x'.repeat(70_000)))))).toMatch(/longer than/)
    const deep = '<d:x>'.repeat(100) + '</d:x>'.repeat(100)
    expect(await failWith(xml(multistatus(`<d:response><d:href>/a</d:href>${deep}</d:response>`)))).toMatch(/deeper/)

    const hugeCard = `BEGIN:VCARD\r\nNOTE:${'n'.repeat(MAX_DATA_CHARS)}\r\nEND:VCARD\r\n`
    const big = scripted(() => xml(multistatus(`<d:response><d:href>/u/book/a.vcf</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><card:address-data>${hugeCard}</card:address-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)))
    // A card over its bound is left out of the answer (the others are read); a run of text past MAX_RUN_CHARS refuses the answer.
    expect(await multiget(big, base, 'ADDRESS_BOOK', ['/u/book/a.vcf'])).toEqual([])
    const endless = scripted(() => xml(multistatus(`<d:response><d:href>/u/book/a.vcf</d:href><d:propstat><d:prop><card:address-data>${'n'.repeat(MAX_RUN_CHARS + 1)}</card:address-data></d:prop></d:propstat></d:response>`)))
    await expect(multiget(endless, base, 'ADDRESS_BOOK', ['/u/book/a.vcf'])).rejects.toThrow(/longer than/)
    const fits = `BEGIN:VCARD\r\nNOTE:${'n'.repeat(MAX_DATA_CHARS - 100)}\r\nEND:VCARD\r\n`
    const ok = scripted(() => xml(multistatus(`<d:response><d:href>/u/book/a.vcf</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><card:address-data>${fits}</card:address-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)))
    expect((await multiget(ok, base, 'ADDRESS_BOOK', ['/u/book/a.vcf']))[0]!.data).toHaveLength(fits.replace(/\r\n/g, '\n').length)
  })

  it('turns statuses into DavHttpError with Retry-After for 429 / 503', async () => {
    const error = async (response: Response) => (await readCollectionState(scripted(() => response), base).catch((caught: unknown) => caught)) as DavHttpError
    expect(await error(new Response('busy', { status: 503, headers: { 'retry-after': '120' } }))).toMatchObject({ status: 503, retryAfterMs: 120_000 })
    const later = new Date(Date.now() + 60_000).toUTCString()
    const limited = await error(new Response('', { status: 429, headers: { 'retry-after': later } }))
    expect(limited.status).toBe(429)
    expect(limited.retryAfterMs).toBeGreaterThan(50_000)
    expect(limited.retryAfterMs).toBeLessThanOrEqual(60_000)
    expect(await error(new Response('', { status: 500, headers: { 'retry-after': '5' } }))).toMatchObject({ status: 500, retryAfterMs: null })
    expect(await error(new Response('', { status: 401 }))).toMatchObject({ status: 401 })
    expect(parseRetryAfter('soon')).toBeNull()
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:30:00Z'))).toBe(0)
  })
})

describe('DAV client: sync-collection', () => {
  it('sends the token, reads changes and deletions, skips the collection, returns the new token', async () => {
    const session = scripted(() =>
      xml(
        multistatus(
          member('/u/book/', '"self"') + member('/u/book/a.vcf', '"2"') + '<d:response><d:href>/u/book/b.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>',
          'tok-2',
        ),
      ),
    )
    const { items, result } = await drain(syncCollection(session, base, 'tok-1&<'))
    expect(items).toEqual([{ href: '/u/book/a.vcf', etag: '"2"' }, { href: '/u/book/b.vcf', deleted: true }])
    expect(result).toBe('tok-2')
    expect(session.calls[0]).toMatchObject({ method: 'REPORT', depth: '0' })
    expect(session.calls[0]!.body).toContain('<D:sync-token>tok-1&amp;&lt;</D:sync-token>')
    expect(session.calls[0]!.body).toContain('<D:sync-level>1</D:sync-level>')
  })

  it('refuses the token with SyncTokenInvalidError on DAV:valid-sync-token, 410, or any 403 / 409 after a token', async () => {
    const refusal = (status: number, body = '') => () => new Response(body, { status, headers: { 'content-type': 'application/xml' } })
    const validSyncToken = '<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
    await expect(drain(syncCollection(scripted(refusal(403, validSyncToken)), base, null))).rejects.toBeInstanceOf(SyncTokenInvalidError)
    await expect(drain(syncCollection(scripted(refusal(409, validSyncToken)), base, 'old'))).rejects.toBeInstanceOf(SyncTokenInvalidError)
    await expect(drain(syncCollection(scripted(refusal(410)), base, 'old'))).rejects.toBeInstanceOf(SyncTokenInvalidError)
    await expect(drain(syncCollection(scripted(refusal(403)), base, 'old'))).rejects.toBeInstanceOf(SyncTokenInvalidError)
    await expect(drain(syncCollection(scripted(refusal(403)), base, null))).rejects.toMatchObject({ name: 'DavHttpError', status: 403 })
    await expect(drain(syncCollection(scripted(refusal(500)), base, 'old'))).rejects.toMatchObject({ name: 'DavHttpError', status: 500 })
  })

  it('follows a truncated answer (507 on the collection, RFC 6578 §3.6) with the token it returned', async () => {
    const answers = [
      multistatus('<d:response><d:href>/u/book/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>' + member('/u/book/a.vcf', '"1"'), 'part-1'),
      multistatus(member('/u/book/b.vcf', '"1"'), 'done'),
    ]
    const session = scripted(() => xml(answers.shift()!))
    const { items, result } = await drain(syncCollection(session, base, null))
    expect(items.map((change) => change.href)).toEqual(['/u/book/a.vcf', '/u/book/b.vcf'])
    expect(result).toBe('done')
    expect(session.calls[1]!.body).toContain('<D:sync-token>part-1</D:sync-token>')
  })
})

describe('DAV client: discovery and queries', () => {
  it('goes from a host through /.well-known, the principal and its home set to the address books', async () => {
    const origin = 'https://dav.example.com'
    const session = scripted((url, init) => {
      const path = new URL(url).pathname
      if (path === '/') return new Response('not here', { status: 404 })
      if (path === '/.well-known/carddav') {
        expect(init.redirect).toBe('manual')
        return new Response(null, { status: 301, headers: { location: '/dav/' } })
      }
      if (path === '/dav/') return xml(multistatus('<d:response><d:href>/dav/</d:href><d:propstat><d:prop><d:current-user-principal><d:href>/dav/principals/u/</d:href></d:current-user-principal></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'))
      if (path === '/dav/principals/u/')
        return xml(multistatus('<d:response><d:href>/dav/principals/u/</d:href><d:propstat><d:prop><card:addressbook-home-set><d:href>/dav/home/u/</d:href></card:addressbook-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'))
      if (path === '/dav/home/u/') {
        expect(new Headers(init.headers).get('depth')).toBe('1')
        const collection = (href: string, types: string, name: string, extra = '') =>
          `<d:response><d:href>${href}</d:href><d:propstat><d:prop><d:resourcetype><d:collection/>${types}</d:resourcetype><d:displayname>${name}</d:displayname>${extra}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><cs:getctag xmlns:cs="http://calendarserver.org/ns/"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>`
        return xml(
          multistatus(
            collection('/dav/home/u/', '', 'home') +
              collection('/dav/home/u/friends/', '<card:addressbook/>', 'Friends', '<d:sync-token>s1</d:sync-token>') +
              collection('/dav/home/u/work/', '<card:addressbook/>', 'Work') +
              collection('/dav/home/u/cal/', '<cal:calendar/>', 'Calendar'),
          ),
        )
      }
      return new Response('', { status: 404 })
    })
    const found = await discoverCollections(session, `${origin}/`, 'CARDDAV')
    expect(found).toEqual([
      { url: `${origin}/dav/home/u/friends/`, displayName: 'Friends', kind: 'ADDRESS_BOOK', syncToken: 's1', ctag: null },
      { url: `${origin}/dav/home/u/work/`, displayName: 'Work', kind: 'ADDRESS_BOOK', syncToken: null, ctag: null },
    ])
  })

  it('passes 401 / 403 from discovery on as they are', async () => {
    for (const status of [401, 403]) {
      await expect(discoverCollections(scripted(() => new Response('', { status })), 'https://dav.example.com/', 'CALDAV')).rejects.toMatchObject({ status })
    }
  })

  it('asks calendar-query for VEVENTs in the range, in UTC', async () => {
    const session = scripted(() => xml(multistatus(`<d:response><d:href>/u/cal/e.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><cal:calendar-data>BEGIN:VCALENDAR\nEND:VCALENDAR</cal:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)))
    const { items } = await drain(calendarQuery(session, 'https://dav.example.com/u/cal/', { start: new Date('2025-03-30T00:00:00+01:00'), end: new Date('2025-04-06T00:00:00+02:00') }))
    expect(items).toEqual([{ href: '/u/cal/e.ics', etag: '"1"', data: 'BEGIN:VCALENDAR\nEND:VCALENDAR' }])
    expect(session.calls[0]!.body).toContain('<C:comp-filter name="VEVENT"><C:time-range start="20250329T230000Z" end="20250405T220000Z"/>')
  })
})
