/**
 * The DAV client of the sync: discovery (RFC 6764, RFC 6352 §7, RFC 4791 §6), collection listings
 * and sync reports (RFC 4918 PROPFIND, RFC 6578 sync-collection), multiget and calendar-query
 * (RFC 6352 §8.7, RFC 4791 §7.8/§7.9), and conditional writes (RFC 7232 If-Match / If-None-Match).
 *
 * Multistatus answers are parsed as they arrive (saxes over the response body), and listings are
 * yielded in pages: a collection of 20,000 members is never held in memory at once. Each text value
 * is bounded ({@link MAX_VALUE_CHARS}); an answer that is not XML, or malformed, is a DavHttpError(502).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes'
import { DavHttpError, MULTIGET_MAX_HREFS, PreconditionFailedError, SyncTokenInvalidError, type DavChange, type DavCollectionInfo, type DavCollectionKind, type DavMember, type DavObject, type DavSession } from './types.ts'

const DAV = 'DAV:'
const CARDDAV = 'urn:ietf:params:xml:ns:carddav'
const CALDAV = 'urn:ietf:params:xml:ns:caldav'
const CALSERVER = 'http://calendarserver.org/ns/'

/** The longest text value read from a multistatus (a vCard or an iCalendar object included), in characters. */
export const MAX_VALUE_CHARS = 1024 * 1024

/** Objects per page of a calendar-query answer. */
const QUERY_PAGE = 100

/** One property of a `propstat` with a 2xx status: its text, the hrefs and the element names it holds. */
interface PropValue {
  text: string
  hrefs: string[]
  children: string[]
}

/** One `response` of a multistatus: `status` is the response-level one (a sync report's 404 for a removed member). */
interface MultistatusResponse {
  href: string
  status: number | null
  props: Map<string, PropValue>
  /** A `DAV:error` precondition name of the response, if any. */
  error: string | null
}

const key = (uri: string, local: string) => `${uri} ${local}`
const statusOf = (line: string) => Number(/^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(line.trim())?.[1] ?? NaN)
const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** The Retry-After of a response in ms from now (seconds or an HTTP date), or null. */
function retryAfterMs(response: Response): number | null {
  const value = response.headers.get('retry-after')
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

/** The error of a response that did not succeed (its body discarded). */
async function failure(response: Response, what: string): Promise<DavHttpError> {
  await response.body?.cancel().catch(() => {})
  if (response.status === 412) return new PreconditionFailedError(`${what}: the resource changed on the server (412)`)
  const retry = response.status === 429 || response.status === 503 ? retryAfterMs(response) : null
  return new DavHttpError(response.status, `${what}: ${response.status} ${response.statusText}`.trim(), retry)
}

/**
 * The responses of a multistatus body, as they are parsed; the last item may be the top-level
 * `DAV:sync-token`. Throws DavHttpError(502) on an answer that is not XML or is malformed.
 */
async function* readMultistatus(response: Response, what: string): AsyncGenerator<MultistatusResponse | { syncToken: string }, void, undefined> {
  const type = response.headers.get('content-type') ?? ''
  if (!/xml/i.test(type) || !response.body) {
    await response.body?.cancel().catch(() => {})
    throw new DavHttpError(502, `${what}: the server answered ${type || 'no content type'}, not XML`)
  }
  const parser = new SaxesParser({ xmlns: true, position: false })
  const ready: (MultistatusResponse | { syncToken: string })[] = []
  const stack: string[] = []
  let current: MultistatusResponse | null = null
  let propstat: { status: number; props: Map<string, PropValue> } | null = null
  let prop: PropValue | null = null
  let propKey = ''
  let text = ''
  let failed: Error | null = null
  parser.on('error', (error) => (failed ??= error))
  parser.on('opentag', (tag: SaxesTagNS) => {
    const name = key(tag.uri, tag.local)
    stack.push(name)
    text = ''
    const parent = stack[stack.length - 2]
    if (name === key(DAV, 'response')) current = { href: '', status: null, props: new Map(), error: null }
    else if (name === key(DAV, 'propstat') && current) propstat = { status: 0, props: new Map() }
    else if (parent === key(DAV, 'prop') && propstat) {
      propKey = name
      prop = { text: '', hrefs: [], children: [] }
    } else if (prop && stack[stack.length - 2] === propKey) prop.children.push(name)
    else if (parent === key(DAV, 'error') && current) current.error = name
  })
  parser.on('text', (chunk) => {
    if (text.length + chunk.length > MAX_VALUE_CHARS) failed ??= new DavHttpError(502, `${what}: a value is over ${MAX_VALUE_CHARS} characters`)
    else text += chunk
  })
  parser.on('cdata', (chunk) => {
    if (text.length + chunk.length > MAX_VALUE_CHARS) failed ??= new DavHttpError(502, `${what}: a value is over ${MAX_VALUE_CHARS} characters`)
    else text += chunk
  })
  parser.on('closetag', (tag: SaxesTagNS) => {
    const name = key(tag.uri, tag.local)
    stack.pop()
    const parent = stack[stack.length - 1]
    if (name === key(DAV, 'href')) {
      if (prop) prop.hrefs.push(text.trim())
      else if (current && parent === key(DAV, 'response')) current.href = text.trim()
    } else if (name === key(DAV, 'status')) {
      if (propstat && parent === key(DAV, 'propstat')) propstat.status = statusOf(text)
      else if (current && parent === key(DAV, 'response')) current.status = statusOf(text)
    } else if (prop && name === propKey && parent === key(DAV, 'prop')) {
      prop.text = prop.children.length === 0 ? text : ''
      propstat!.props.set(propKey, prop)
      prop = null
    } else if (name === key(DAV, 'propstat') && propstat && current) {
      if (propstat.status >= 200 && propstat.status < 300) for (const [name_, value] of propstat.props) current.props.set(name_, value)
      propstat = null
    } else if (name === key(DAV, 'response') && current) {
      ready.push(current)
      current = null
    } else if (name === key(DAV, 'sync-token') && parent === key(DAV, 'multistatus')) ready.push({ syncToken: text.trim() })
    if (!prop) text = ''
  })
  const decoder = new TextDecoder()
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.write(decoder.decode(chunk, { stream: true }))
      if (failed) break
      yield* ready.splice(0)
    }
    if (!failed) parser.write(decoder.decode()).close()
  } catch (error) {
    if (error instanceof DavHttpError) throw error
    failed ??= error as Error
  } finally {
    if (failed) await response.body.cancel().catch(() => {})
  }
  if (failed) throw failed instanceof DavHttpError ? failed : new DavHttpError(502, `${what}: malformed XML (${failed.message})`)
  yield* ready.splice(0)
}

/** Sends a PROPFIND / REPORT with an XML body; resolves the 207 response, throws DavHttpError otherwise. */
async function xmlRequest(session: DavSession, method: 'PROPFIND' | 'REPORT', url: string, depth: '0' | '1', body: string): Promise<Response> {
  const response = await session.fetch(url, {
    method,
    headers: { depth, 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml, text/xml' },
    body: `<?xml version="1.0" encoding="utf-8"?>${body}`,
  })
  if (response.status !== 207) throw await failure(response, `${method} ${url}`)
  return response
}

/** The path of a URL or href, without a trailing slash, for comparing a response's href with a request's URL. */
const pathOf = (href: string, base: string) => {
  try {
    return decodeURIComponent(new URL(href, base).pathname).replace(/\/+$/, '')
  } catch {
    return href
  }
}

const PROPS = `<D:prop><D:resourcetype/><D:displayname/><D:sync-token/><CS:getctag/><D:current-user-principal/><CARD:addressbook-home-set/><CAL:calendar-home-set/></D:prop>`
const NAMESPACES = `xmlns:D="DAV:" xmlns:CARD="${CARDDAV}" xmlns:CAL="${CALDAV}" xmlns:CS="${CALSERVER}"`

/** Every response of a PROPFIND of the discovery properties at `url`, with absolute hrefs. */
async function propfindAll(session: DavSession, url: string, depth: '0' | '1'): Promise<MultistatusResponse[]> {
  const responses: MultistatusResponse[] = []
  const response = await xmlRequest(session, 'PROPFIND', url, depth, `<D:propfind ${NAMESPACES}>${PROPS}</D:propfind>`)
  for await (const item of readMultistatus(response, `PROPFIND ${url}`)) if ('href' in item) responses.push(item)
  return responses
}

/** The collection a discovery response describes, if it is one of `kind`. */
function collectionOf(response: MultistatusResponse, base: string, kind: DavCollectionKind): DavCollectionInfo | null {
  const types = response.props.get(key(DAV, 'resourcetype'))?.children ?? []
  const wanted = kind === 'ADDRESS_BOOK' ? key(CARDDAV, 'addressbook') : key(CALDAV, 'calendar')
  if (!types.includes(wanted)) return null
  const text = (name: string) => response.props.get(name)?.text.trim() || null
  return {
    url: new URL(response.href, base).href,
    displayName: text(key(DAV, 'displayname')),
    kind,
    syncToken: text(key(DAV, 'sync-token')),
    ctag: text(key(CALSERVER, 'getctag')),
  }
}

/**
 * The address books (CARDDAV) or calendars (CALDAV) of the account at `url`: `url` itself when it
 * is one; else its principal (DAV:current-user-principal of `url`, or of `/.well-known/carddav|caldav`,
 * RFC 6764), the principal's home set, and the home set's members of that kind. Throws DavHttpError
 * (401 / 403: the credentials are refused; 404 and others: nothing DAV there).
 */
export async function discoverCollections(session: DavSession, url: string, kind: 'CARDDAV' | 'CALDAV'): Promise<DavCollectionInfo[]> {
  const collectionKind: DavCollectionKind = kind === 'CARDDAV' ? 'ADDRESS_BOOK' : 'CALENDAR'
  const homeSetKey = kind === 'CARDDAV' ? key(CARDDAV, 'addressbook-home-set') : key(CALDAV, 'calendar-home-set')
  const [self] = await propfindAll(session, url, '0')
  const itself = self ? collectionOf(self, url, collectionKind) : null
  if (itself) return [itself]
  let principal = self?.props.get(key(DAV, 'current-user-principal'))?.hrefs[0]
  let principalBase = url
  if (!principal) {
    const wellKnown = new URL(`/.well-known/${kind.toLowerCase()}`, url).href
    const [found] = await propfindAll(session, wellKnown, '0').catch((error: unknown) => {
      if (error instanceof DavHttpError && (error.status === 401 || error.status === 403)) throw error
      return []
    })
    principal = found?.props.get(key(DAV, 'current-user-principal'))?.hrefs[0]
    principalBase = wellKnown
  }
  const homes = new Set<string>()
  if (principal) {
    const principalUrl = new URL(principal, principalBase).href
    const [described] = await propfindAll(session, principalUrl, '0')
    for (const href of described?.props.get(homeSetKey)?.hrefs ?? []) homes.add(new URL(href, principalUrl).href)
  }
  for (const href of self?.props.get(homeSetKey)?.hrefs ?? []) homes.add(new URL(href, url).href)
  // No principal or home set: `url` may be a home set itself.
  if (homes.size === 0) homes.add(url)
  const found = new Map<string, DavCollectionInfo>()
  for (const home of homes) {
    for (const response of await propfindAll(session, home, '1')) {
      const collection = collectionOf(response, home, collectionKind)
      if (collection) found.set(collection.url, collection)
    }
  }
  return [...found.values()]
}

/** The collection's current sync token (DAV:sync-token) and CS:getctag. Throws DavHttpError. */
export async function readCollectionState(session: DavSession, collectionUrl: string): Promise<{ syncToken: string | null; ctag: string | null }> {
  const body = `<D:propfind xmlns:D="DAV:" xmlns:CS="${CALSERVER}"><D:prop><D:sync-token/><CS:getctag/></D:prop></D:propfind>`
  const response = await xmlRequest(session, 'PROPFIND', collectionUrl, '0', body)
  let state = { syncToken: null as string | null, ctag: null as string | null }
  for await (const item of readMultistatus(response, `PROPFIND ${collectionUrl}`)) {
    if (!('href' in item)) continue
    state = {
      syncToken: item.props.get(key(DAV, 'sync-token'))?.text.trim() || null,
      ctag: item.props.get(key(CALSERVER, 'getctag'))?.text.trim() || null,
    }
  }
  return state
}

/**
 * The changes of a collection since `syncToken` (null: every member), RFC 6578 sync-collection at
 * sync-level 1, in pages of at most MULTIGET_MAX_HREFS as they are parsed; returns the new token.
 * A member whose response status is 404 was removed. Throws SyncTokenInvalidError when the server
 * refuses the token (DAV:valid-sync-token, or 403 / 409 / 410 to a request with a token), DavHttpError otherwise.
 */
export async function* syncCollection(session: DavSession, collectionUrl: string, syncToken: string | null): AsyncGenerator<DavChange[], string | null, undefined> {
  const body = `<D:sync-collection xmlns:D="DAV:"><D:sync-token>${syncToken ? xmlEscape(syncToken) : ''}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
  const response = await session.fetch(collectionUrl, {
    method: 'REPORT',
    headers: { depth: '0', 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml, text/xml' },
    body: `<?xml version="1.0" encoding="utf-8"?>${body}`,
  })
  if (response.status !== 207) {
    const text = response.status === 403 || response.status === 409 ? await response.text().catch(() => '') : ''
    if (text.includes('valid-sync-token') || (syncToken !== null && [403, 409, 410].includes(response.status))) {
      throw new SyncTokenInvalidError(`the server refused the sync token of ${collectionUrl} (${response.status})`)
    }
    if (text) throw new DavHttpError(response.status, `REPORT ${collectionUrl}: ${response.status}`)
    throw await failure(response, `REPORT ${collectionUrl}`)
  }
  const self = pathOf(collectionUrl, collectionUrl)
  let token: string | null = null
  let page: DavChange[] = []
  for await (const item of readMultistatus(response, `REPORT ${collectionUrl}`)) {
    if (!('href' in item)) {
      token = item.syncToken || null
      continue
    }
    if (pathOf(item.href, collectionUrl) === self) continue
    if (item.status === 404) page.push({ href: item.href, deleted: true })
    else {
      const etag = item.props.get(key(DAV, 'getetag'))?.text.trim()
      if (etag) page.push({ href: item.href, etag })
    }
    if (page.length >= MULTIGET_MAX_HREFS) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
  return token
}

/** The members of a collection with their ETags (PROPFIND Depth 1), in pages, sub-collections and the collection itself left out. Throws DavHttpError. */
export async function* listMembers(session: DavSession, collectionUrl: string): AsyncGenerator<DavMember[], void, undefined> {
  const response = await xmlRequest(session, 'PROPFIND', collectionUrl, '1', `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>`)
  const self = pathOf(collectionUrl, collectionUrl)
  let page: DavMember[] = []
  for await (const item of readMultistatus(response, `PROPFIND ${collectionUrl}`)) {
    if (!('href' in item) || pathOf(item.href, collectionUrl) === self) continue
    if ((item.props.get(key(DAV, 'resourcetype'))?.children ?? []).includes(key(DAV, 'collection'))) continue
    const etag = item.props.get(key(DAV, 'getetag'))?.text.trim()
    if (!etag) continue
    page.push({ href: item.href, etag })
    if (page.length >= MULTIGET_MAX_HREFS) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
}

/** The data property of a kind of collection. */
const dataKey = (kind: DavCollectionKind) => (kind === 'ADDRESS_BOOK' ? key(CARDDAV, 'address-data') : key(CALDAV, 'calendar-data'))

/** The objects of a multistatus that came with data and an ETag. */
async function objectsOf(response: Response, kind: DavCollectionKind, what: string, pageSize: number): Promise<DavObject[]> {
  const objects: DavObject[] = []
  for await (const page of objectPages(response, kind, what, pageSize)) objects.push(...page)
  return objects
}

async function* objectPages(response: Response, kind: DavCollectionKind, what: string, pageSize: number): AsyncGenerator<DavObject[], void, undefined> {
  let page: DavObject[] = []
  for await (const item of readMultistatus(response, what)) {
    if (!('href' in item) || (item.status !== null && item.status !== 200)) continue
    const data = item.props.get(dataKey(kind))?.text
    const etag = item.props.get(key(DAV, 'getetag'))?.text.trim()
    if (data === undefined || !etag) continue
    page.push({ href: item.href, etag, data })
    if (page.length >= pageSize) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
}

/**
 * The members `hrefs` with their data (CARDDAV:addressbook-multiget / CALDAV:calendar-multiget);
 * those the server answers 404 for are left out. Throws RangeError past MULTIGET_MAX_HREFS hrefs,
 * DavHttpError when the server fails.
 */
export async function multiget(session: DavSession, collectionUrl: string, kind: DavCollectionKind, hrefs: string[]): Promise<DavObject[]> {
  if (hrefs.length > MULTIGET_MAX_HREFS) throw new RangeError(`at most ${MULTIGET_MAX_HREFS} hrefs per multiget, got ${hrefs.length}`)
  if (hrefs.length === 0) return []
  const list = hrefs.map((href) => `<D:href>${xmlEscape(href)}</D:href>`).join('')
  const body =
    kind === 'ADDRESS_BOOK'
      ? `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="${CARDDAV}"><D:prop><D:getetag/><C:address-data/></D:prop>${list}</C:addressbook-multiget>`
      : `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:prop><D:getetag/><C:calendar-data/></D:prop>${list}</C:calendar-multiget>`
  const response = await xmlRequest(session, 'REPORT', collectionUrl, '1', body)
  return objectsOf(response, kind, `REPORT ${collectionUrl}`, Number.POSITIVE_INFINITY)
}

/** `date` as an iCalendar UTC date-time (`YYYYMMDDTHHMMSSZ`). */
const icalUtc = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')

/**
 * The calendar objects with a VEVENT overlapping `range` (CALDAV:calendar-query with a time-range,
 * RFC 4791 §7.8), with their data, in pages as they are parsed. Throws DavHttpError.
 */
export async function* calendarQuery(session: DavSession, calendarUrl: string, range: { start: Date; end: Date }): AsyncGenerator<DavObject[], void, undefined> {
  const body = `<C:calendar-query xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${icalUtc(range.start)}" end="${icalUtc(range.end)}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
  const response = await xmlRequest(session, 'REPORT', calendarUrl, '1', body)
  yield* objectPages(response, 'CALENDAR', `REPORT ${calendarUrl}`, QUERY_PAGE)
}

/**
 * Writes `body` at `url` only if the server's copy still has the ETag `ifMatch`, or only if there
 * is none (`ifNoneMatch: '*'`, a create). Returns the new ETag when the server gives one.
 * Throws PreconditionFailedError (412), DavHttpError otherwise.
 */
export async function putObject(
  session: DavSession,
  url: string,
  body: string,
  contentType: string,
  precondition: { ifMatch: string } | { ifNoneMatch: '*' },
): Promise<{ etag: string | null }> {
  const headers: Record<string, string> = { 'content-type': contentType }
  if ('ifMatch' in precondition) headers['if-match'] = precondition.ifMatch
  else headers['if-none-match'] = '*'
  const response = await session.fetch(url, { method: 'PUT', headers, body })
  if (!response.ok) throw await failure(response, `PUT ${url}`)
  await response.body?.cancel().catch(() => {})
  return { etag: response.headers.get('etag') }
}

/** Deletes `url` (only if its ETag is still `ifMatch`, when given); a 404 / 410 is success. Throws PreconditionFailedError, DavHttpError. */
export async function deleteObject(session: DavSession, url: string, ifMatch?: string): Promise<void> {
  const response = await session.fetch(url, { method: 'DELETE', headers: ifMatch ? { 'if-match': ifMatch } : {} })
  if (response.ok || response.status === 404 || response.status === 410) {
    await response.body?.cancel().catch(() => {})
    return
  }
  throw await failure(response, `DELETE ${url}`)
}
