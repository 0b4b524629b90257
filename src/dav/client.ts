/**
 * The DAV wire (issue 15): discovery (RFC 6764, RFC 5397 current-user-principal, RFC 6352 / RFC 4791 home sets),
 * WebDAV sync (RFC 6578 sync-collection), listings (RFC 4918 PROPFIND), CardDAV / CalDAV multiget and
 * calendar-query, and conditional writes (If-Match / If-None-Match). Every answer is parsed as it streams in
 * (saxes, namespace-aware, no DTD / entity expansion): a multistatus is never held whole in memory, each text
 * value is bounded, and pages of at most {@link MULTIGET_MAX_HREFS} items are handed on as they are parsed.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes'
import { parseRetryAfter } from '../net/retry-after.ts'
import {
  DavHttpError,
  MULTIGET_MAX_HREFS,
  PreconditionFailedError,
  SyncTokenInvalidError,
  type DavChange,
  type DavCollectionInfo,
  type DavCollectionKind,
  type DavMember,
  type DavObject,
  type DavSession,
} from './types.ts'

const DAV = 'DAV:'
const CARD = 'urn:ietf:params:xml:ns:carddav'
const CAL = 'urn:ietf:params:xml:ns:caldav'
const CS = 'http://calendarserver.org/ns/'

/** Longest address-data / calendar-data (one vCard or iCalendar object) read, in characters. */
export const MAX_DATA_CHARS = 1024 * 1024
/** Longest other text value (href, etag, token, display name) read, in characters. */
export const MAX_TEXT_CHARS = 64 * 1024
/** The longest run of characters without markup read at all (a text node or a comment); past it the whole answer is refused. */
export const MAX_RUN_CHARS = 12 * MAX_DATA_CHARS
/** Deepest element nesting accepted in an answer. */
const MAX_DEPTH = 64
/** Most hrefs kept per property (home sets, principals). */
const MAX_PROP_HREFS = 256
/** Most error body read to find a precondition element (DAV:valid-sync-token), in bytes. */
const MAX_ERROR_BODY = 64 * 1024

const key = (ns: string, local: string) => `${ns} ${local}`
const K = {
  multistatus: key(DAV, 'multistatus'),
  response: key(DAV, 'response'),
  href: key(DAV, 'href'),
  status: key(DAV, 'status'),
  propstat: key(DAV, 'propstat'),
  prop: key(DAV, 'prop'),
  syncToken: key(DAV, 'sync-token'),
  getetag: key(DAV, 'getetag'),
  displayname: key(DAV, 'displayname'),
  resourcetype: key(DAV, 'resourcetype'),
  collection: key(DAV, 'collection'),
  currentUserPrincipal: key(DAV, 'current-user-principal'),
  addressbookHomeSet: key(CARD, 'addressbook-home-set'),
  calendarHomeSet: key(CAL, 'calendar-home-set'),
  addressbook: key(CARD, 'addressbook'),
  calendar: key(CAL, 'calendar'),
  addressData: key(CARD, 'address-data'),
  calendarData: key(CAL, 'calendar-data'),
  getctag: key(CS, 'getctag'),
}

/** One property's value as parsed: its text (bounded), the DAV:href children, the names of its child elements. */
interface PropValue {
  text: string
  hrefs: string[]
  children: Set<string>
}

/** One DAV:response of a multistatus: its href, its own status (RFC 4918 §14.24), and the properties found (2xx propstat). */
interface DavResponse {
  href: string
  status: number | null
  props: Map<string, PropValue>
  /** Properties in a non-2xx propstat (not found, forbidden). */
  missing: Set<string>
}

type MultistatusEvent = { type: 'response'; response: DavResponse } | { type: 'sync-token'; token: string }

function parseStatusLine(line: string): number | null {
  const match = /^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})/i.exec(line)
  return match ? Number(match[1]) : null
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function describe(method: string, url: string | URL): string {
  const target = new URL(String(url))
  return `${method} ${target.origin}${target.pathname}`
}

/** Throws the {@link DavHttpError} for a non-success answer (after freeing its body). */
async function fail(response: Response, method: string, url: string | URL): Promise<never> {
  await response.body?.cancel().catch(() => {})
  const retryAfterMs = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : null
  throw new DavHttpError(response.status, `${describe(method, url)}: ${response.status} ${response.statusText}`.trim(), retryAfterMs)
}

/** Reads at most `limit` bytes of a body as text, then drops the rest. */
async function readSmallBody(response: Response, limit = MAX_ERROR_BODY): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return text.slice(0, limit)
}

/**
 * Parses a multistatus as it streams in and yields its responses (and the top-level DAV:sync-token) chunk by
 * chunk. Only the properties in `wanted` are kept. Throws {@link DavHttpError} (502) for an answer that is not
 * XML, is malformed, nests too deep or holds a value over its bound.
 */
async function* streamMultistatus(response: Response, context: string, wanted: ReadonlySet<string>): AsyncGenerator<MultistatusEvent, void, undefined> {
  const contentType = response.headers.get('content-type')
  if (contentType !== null && !/[/+]xml\b/i.test(contentType)) {
    await response.body?.cancel().catch(() => {})
    throw new DavHttpError(502, `${context}: the server answered ${contentType.slice(0, 60)}, not XML`)
  }
  if (!response.body) throw new DavHttpError(502, `${context}: the server's answer has no body`)

  const events: MultistatusEvent[] = []
  const stack: string[] = []
  let seenRoot = false
  // The response being read, and the propstat / property / text capture inside it.
  let current: DavResponse | null = null
  let propstatProps: Map<string, PropValue> | null = null
  let propstatStatus: number | null = null
  let prop: { name: string; value: PropValue; depth: number } | null = null
  let text: { chars: string; limit: number; droppable?: boolean; overflow?: boolean } | null = null
  let propHref: string | null = null

  const bad = (message: string) => new DavHttpError(502, `${context}: ${message}`)
  const parser = new SaxesParser({ xmlns: true, position: false })
  parser.on('error', (error) => {
    throw bad(`malformed XML (${error.message.slice(0, 200)})`)
  })
  parser.on('doctype', () => {
    throw bad('a DOCTYPE is not accepted')
  })
  const onText = (chunk: string) => {
    if (text === null || text.overflow) return
    if (text.chars.length + chunk.length > text.limit) {
      // A card or event over its bound is left out (the others of the answer are read); any other value is an attack.
      if (!text.droppable) throw bad(`a value is longer than ${text.limit} characters`)
      text.overflow = true
      text.chars = ''
      return
    }
    text.chars += chunk
  }
  parser.on('text', onText)
  parser.on('cdata', onText)
  parser.on('opentag', (tag: SaxesTagNS) => {
    const name = key(tag.uri, tag.local)
    const parent = stack[stack.length - 1]
    stack.push(name)
    const depth = stack.length
    if (depth > MAX_DEPTH) throw bad(`elements nest deeper than ${MAX_DEPTH}`)
    if (depth === 1) {
      if (name !== K.multistatus) throw bad(`expected DAV:multistatus, got <${tag.local}>`)
      seenRoot = true
      return
    }
    if (depth === 2) {
      if (name === K.response) current = { href: '', status: null, props: new Map(), missing: new Set() }
      else if (name === K.syncToken) text = { chars: '', limit: MAX_TEXT_CHARS }
      return
    }
    if (current === null) return
    if (depth === 3) {
      if (name === K.href || name === K.status) text = { chars: '', limit: MAX_TEXT_CHARS }
      else if (name === K.propstat) {
        propstatProps = new Map()
        propstatStatus = null
      }
      return
    }
    if (propstatProps === null) return
    if (depth === 4 && parent === K.propstat && name === K.status) {
      text = { chars: '', limit: MAX_TEXT_CHARS }
      return
    }
    if (depth === 5 && parent === K.prop) {
      if (!wanted.has(name)) return
      prop = { name, value: { text: '', hrefs: [], children: new Set() }, depth }
      const data = name === K.addressData || name === K.calendarData
      text = { chars: '', limit: data ? MAX_DATA_CHARS : MAX_TEXT_CHARS, droppable: data }
      return
    }
    if (prop !== null && depth > prop.depth) {
      if (depth === prop.depth + 1) {
        if (prop.value.children.size < MAX_PROP_HREFS) prop.value.children.add(name)
        if (name === K.href) {
          propHref = ''
          text = { chars: '', limit: MAX_TEXT_CHARS }
        }
      }
    }
  })
  parser.on('closetag', (tag: SaxesTagNS) => {
    const name = key(tag.uri, tag.local)
    const depth = stack.length
    stack.pop()
    if (depth === 2) {
      if (name === K.response && current !== null) {
        if (current.href !== '') events.push({ type: 'response', response: current })
        current = null
      } else if (name === K.syncToken && text !== null) {
        events.push({ type: 'sync-token', token: text.chars.trim() })
        text = null
      }
      return
    }
    if (current === null) return
    if (depth === 3) {
      if (name === K.href && text !== null) {
        current.href = text.chars.trim()
        text = null
      } else if (name === K.status && text !== null) {
        current.status = parseStatusLine(text.chars)
        text = null
      } else if (name === K.propstat && propstatProps !== null) {
        const ok = propstatStatus === null || (propstatStatus >= 200 && propstatStatus < 300)
        for (const [propName, value] of propstatProps) {
          if (ok) current.props.set(propName, value)
          else current.missing.add(propName)
        }
        propstatProps = null
      }
      return
    }
    if (depth === 4 && name === K.status && propstatProps !== null && text !== null && prop === null) {
      propstatStatus = parseStatusLine(text.chars)
      text = null
      return
    }
    if (prop !== null) {
      if (depth === prop.depth) {
        const dropped = text?.overflow === true
        if (text !== null) prop.value.text = text.chars
        text = null
        if (!dropped) propstatProps?.set(prop.name, prop.value)
        prop = null
      } else if (depth === prop.depth + 1 && name === K.href && propHref !== null) {
        if (text !== null && prop.value.hrefs.length < MAX_PROP_HREFS) prop.value.hrefs.push(text.chars.trim())
        propHref = null
        // Back to the property's own text capture (its direct text, e.g. around the href, is not used).
        text = { chars: '', limit: MAX_TEXT_CHARS }
      }
    }
  })

  const reader = response.body.getReader()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  // saxes keeps a text node or a comment whole until the next '<': bound the run before it does, or a server
  // could make it hold 100 MB (values over their own bound but under this one are dropped, see onText).
  let sinceMarkup = 0
  const scan = (chunk: string): string => {
    for (let from = 0; ; ) {
      const at = chunk.indexOf('<', from)
      const run = sinceMarkup + (at < 0 ? chunk.length : at) - from
      if (run > MAX_RUN_CHARS) throw bad(`a value is longer than ${MAX_RUN_CHARS} characters`)
      if (at < 0) {
        sinceMarkup = run
        return chunk
      }
      sinceMarkup = 0
      from = at + 1
    }
  }
  let finished = false
  try {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>
      try {
        read = await reader.read()
      } catch (error) {
        // The body stopped coming within the request's time (or the connection broke): retryable.
        throw new DavHttpError(0, `${context}: ${error instanceof Error && error.name === 'TimeoutError' ? 'the answer did not finish in time' : 'the answer was cut off'}`)
      }
      const { done, value } = read
      try {
        if (done) {
          parser.write(scan(decoder.decode()))
          parser.close()
        } else {
          parser.write(scan(decoder.decode(value, { stream: true })))
        }
      } catch (error) {
        if (error instanceof DavHttpError) throw error
        throw bad(error instanceof Error ? error.message.slice(0, 200) : 'unreadable answer')
      }
      while (events.length > 0) yield events.shift()!
      if (done) break
    }
    if (!seenRoot) throw bad('the answer is empty')
    finished = true
  } finally {
    if (!finished) await reader.cancel().catch(() => {})
  }
}

const PROPFIND_HEADERS = { 'content-type': 'application/xml; charset=utf-8' }

function propfindBody(props: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="${CARD}" xmlns:L="${CAL}" xmlns:CS="${CS}"><D:prop>${props}</D:prop></D:propfind>`
}

/** Sends a PROPFIND / REPORT and checks it answered a multistatus (207, or 200 from lenient servers). */
async function requestMultistatus(session: DavSession, method: 'PROPFIND' | 'REPORT', url: string, depth: '0' | '1', body: string): Promise<Response> {
  const response = await session.fetch(url, { method, headers: { ...PROPFIND_HEADERS, depth }, body })
  if (response.status !== 207 && response.status !== 200) await fail(response, method, url)
  return response
}

function normalizedPath(href: string, base: string): string {
  let path: string
  try {
    path = new URL(href, base).pathname
  } catch {
    return href
  }
  try {
    path = decodeURIComponent(path)
  } catch {
    // keep it encoded
  }
  return path.replace(/\/+$/, '')
}

/** True when `href` names the collection at `collectionUrl` itself (trailing slash and percent-encoding aside). */
function isSelf(href: string, collectionUrl: string): boolean {
  return normalizedPath(href, collectionUrl) === normalizedPath(collectionUrl, collectionUrl)
}

/**
 * True when `href` names a member of the collection at `collectionUrl`: same origin, and its path (resolved
 * as a URL resolves it, `..` and `%2e%2e` included, then decoded) inside the collection's. A server may not
 * hand the sync a member elsewhere: it would be stored as this collection's, and written back there.
 */
export function isMemberHref(href: string, collectionUrl: string): boolean {
  let url: URL
  let collection: URL
  try {
    url = new URL(href, collectionUrl)
    collection = new URL(collectionUrl)
  } catch {
    return false
  }
  if (url.origin !== collection.origin) return false
  const path = normalizedPath(url.href, collectionUrl)
  const base = normalizedPath(collection.href, collectionUrl)
  return path.startsWith(`${base}/`) && !path.slice(base.length).split('/').includes('..')
}

function stripEtag(value: string | undefined): string | null {
  const etag = value?.trim()
  return etag ? etag : null
}

/**
 * Reads a collection's change state: DAV:sync-token (RFC 6578) and CS:getctag, each null when the server has none.
 * Throws {@link DavHttpError} for a non-success status.
 */
export async function readCollectionState(session: DavSession, collectionUrl: string): Promise<{ syncToken: string | null; ctag: string | null }> {
  const response = await requestMultistatus(session, 'PROPFIND', collectionUrl, '0', propfindBody('<D:sync-token/><CS:getctag/>'))
  let state = { syncToken: null as string | null, ctag: null as string | null }
  for await (const event of streamMultistatus(response, describe('PROPFIND', collectionUrl), new Set([K.syncToken, K.getctag]))) {
    if (event.type !== 'response' || !isSelf(event.response.href, collectionUrl)) continue
    state = {
      syncToken: event.response.props.get(K.syncToken)?.text.trim() || null,
      ctag: event.response.props.get(K.getctag)?.text.trim() || null,
    }
  }
  return state
}

const COLLECTION_PROPS = '<D:resourcetype/><D:displayname/><D:sync-token/><CS:getctag/>'
const COLLECTION_WANTED = new Set([K.resourcetype, K.displayname, K.syncToken, K.getctag])

function collectionKindOf(response: DavResponse): DavCollectionKind | null {
  const types = response.props.get(K.resourcetype)?.children
  if (!types) return null
  if (types.has(K.addressbook)) return 'ADDRESS_BOOK'
  if (types.has(K.calendar)) return 'CALENDAR'
  return null
}

function toCollectionInfo(response: DavResponse, base: string, kind: DavCollectionKind): DavCollectionInfo {
  return {
    url: new URL(response.href, base).href,
    displayName: response.props.get(K.displayname)?.text.trim() || null,
    kind,
    syncToken: response.props.get(K.syncToken)?.text.trim() || null,
    ctag: response.props.get(K.getctag)?.text.trim() || null,
  }
}

/** A PROPFIND Depth 0 that tells what `url` is: a collection (with its state), a principal or a context path. */
async function probe(session: DavSession, url: string, kind: 'CARDDAV' | 'CALDAV'): Promise<DavResponse | null> {
  const homeSet = kind === 'CARDDAV' ? '<C:addressbook-home-set/>' : '<L:calendar-home-set/>'
  const response = await requestMultistatus(session, 'PROPFIND', url, '0', propfindBody(`${COLLECTION_PROPS}<D:current-user-principal/>${homeSet}`))
  let found: DavResponse | null = null
  for await (const event of streamMultistatus(
    response,
    describe('PROPFIND', url),
    new Set([...COLLECTION_WANTED, K.currentUserPrincipal, K.addressbookHomeSet, K.calendarHomeSet]),
  )) {
    if (event.type === 'response' && (found === null || isSelf(event.response.href, url))) found = event.response
  }
  return found
}

/** Follows the RFC 6764 well-known redirect (at most 5 hops, through the session) and returns the context path's URL. */
async function wellKnownContext(session: DavSession, url: string, kind: 'CARDDAV' | 'CALDAV'): Promise<string> {
  let target = new URL(`/.well-known/${kind === 'CARDDAV' ? 'carddav' : 'caldav'}`, url).href
  for (let hop = 0; hop < 5; hop++) {
    const response = await session.fetch(target, { method: 'PROPFIND', headers: { ...PROPFIND_HEADERS, depth: '0' }, body: propfindBody('<D:current-user-principal/>'), redirect: 'manual' })
    await response.body?.cancel().catch(() => {})
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location !== null) {
      target = new URL(location, target).href
      continue
    }
    if (response.status === 401 || response.status === 403) await fail(response, 'PROPFIND', target)
    if (response.status === 207 || response.status === 200) return target
    throw new DavHttpError(response.status, `${describe('PROPFIND', target)}: ${response.status}`)
  }
  throw new DavHttpError(508, `${describe('PROPFIND', target)}: too many redirects`)
}

function isAuthError(error: unknown): boolean {
  return error instanceof DavHttpError && (error.status === 401 || error.status === 403)
}

/**
 * Finds the address books (`CARDDAV`) or calendars (`CALDAV`) an account can sync, from the URL the user gave:
 * when `url` is itself an address book / calendar it is returned alone; otherwise its DAV:current-user-principal
 * (RFC 5397) or, failing that, the RFC 6764 `/.well-known/carddav|caldav` context path leads to the principal,
 * whose CARD:addressbook-home-set (RFC 6352 §7.1.1) / CAL:calendar-home-set (RFC 4791 §6.2.1) is listed
 * (PROPFIND Depth 1: resourcetype, displayname, sync-token, CS:getctag). URLs in the result are absolute.
 * Throws {@link DavHttpError} 401 / 403 for refused credentials, another status when nothing DAV answers.
 */
export async function discoverCollections(session: DavSession, url: string, kind: 'CARDDAV' | 'CALDAV'): Promise<DavCollectionInfo[]> {
  const wantedKind: DavCollectionKind = kind === 'CARDDAV' ? 'ADDRESS_BOOK' : 'CALENDAR'
  const homeSetKey = kind === 'CARDDAV' ? K.addressbookHomeSet : K.calendarHomeSet
  let start: DavResponse | null = null
  let startUrl = url
  let firstError: unknown = null
  try {
    start = await probe(session, url, kind)
  } catch (error) {
    if (isAuthError(error)) throw error
    firstError = error
  }
  if (start !== null && collectionKindOf(start) === wantedKind) return [toCollectionInfo(start, url, wantedKind)]

  let homeSets = start?.props.get(homeSetKey)?.hrefs ?? []
  let principal = start?.props.get(K.currentUserPrincipal)?.hrefs[0] ?? null
  if (homeSets.length === 0 && principal === null) {
    try {
      startUrl = await wellKnownContext(session, url, kind)
      start = await probe(session, startUrl, kind)
    } catch (error) {
      if (isAuthError(error)) throw error
      throw firstError ?? error
    }
    homeSets = start?.props.get(homeSetKey)?.hrefs ?? []
    principal = start?.props.get(K.currentUserPrincipal)?.hrefs[0] ?? null
  }
  if (homeSets.length === 0 && principal !== null) {
    const principalUrl = new URL(principal, startUrl).href
    const found = await probe(session, principalUrl, kind)
    homeSets = (found?.props.get(homeSetKey)?.hrefs ?? []).map((href) => new URL(href, principalUrl).href)
  } else {
    homeSets = homeSets.map((href) => new URL(href, startUrl).href)
  }

  const collections = new Map<string, DavCollectionInfo>()
  for (const home of homeSets) {
    const response = await requestMultistatus(session, 'PROPFIND', home, '1', propfindBody(COLLECTION_PROPS))
    for await (const event of streamMultistatus(response, describe('PROPFIND', home), COLLECTION_WANTED)) {
      if (event.type !== 'response') continue
      if (event.response.status !== null && event.response.status >= 300) continue
      if (collectionKindOf(event.response) !== wantedKind) continue
      const info = toCollectionInfo(event.response, home, wantedKind)
      if (!collections.has(info.url)) collections.set(info.url, info)
    }
  }
  return [...collections.values()]
}

/**
 * RFC 6578 sync-collection (sync-level 1, prop DAV:getetag) from `syncToken` (null: the initial sync, every
 * member). Yields pages of at most {@link MULTIGET_MAX_HREFS} changes as they are parsed (a member with status
 * 404 is deleted; the collection's own href is skipped); follows a truncated answer (507 on the collection,
 * §3.6) with the token it returned; returns the new sync token.
 * Throws {@link SyncTokenInvalidError} when the server refuses the token (403 / 409 with DAV:valid-sync-token,
 * 410, or any 403 / 409 when a token was sent); {@link DavHttpError} for other failures.
 */
export async function* syncCollection(session: DavSession, collectionUrl: string, syncToken: string | null): AsyncGenerator<DavChange[], string | null, undefined> {
  let token = syncToken
  for (let round = 0; ; round++) {
    const body =
      `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">` +
      (token === null || token === '' ? '<D:sync-token/>' : `<D:sync-token>${escapeXml(token)}</D:sync-token>`) +
      '<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>'
    const response = await session.fetch(collectionUrl, { method: 'REPORT', headers: { ...PROPFIND_HEADERS, depth: '0' }, body })
    if (response.status !== 207 && response.status !== 200) {
      if (response.status === 403 || response.status === 409 || response.status === 410) {
        const text = await readSmallBody(response)
        const sent = token !== null && token !== ''
        if (response.status === 410 || text.includes('valid-sync-token') || sent) {
          throw new SyncTokenInvalidError(`${describe('REPORT', collectionUrl)}: the server refused the sync token (${response.status})`)
        }
        throw new DavHttpError(response.status, `${describe('REPORT', collectionUrl)}: ${response.status} ${response.statusText}`.trim())
      }
      await fail(response, 'REPORT', collectionUrl)
    }
    let page: DavChange[] = []
    let newToken: string | null = null
    let truncated = false
    for await (const event of streamMultistatus(response, describe('REPORT', collectionUrl), new Set([K.getetag]))) {
      if (event.type === 'sync-token') {
        newToken = event.token || null
        continue
      }
      const item = event.response
      if (isSelf(item.href, collectionUrl)) {
        if (item.status === 507) truncated = true
        continue
      }
      if (!isMemberHref(item.href, collectionUrl)) continue
      const etag = stripEtag(item.props.get(K.getetag)?.text)
      if (item.status === 404 || (etag === null && item.props.size === 0 && item.missing.size > 0 && item.status === null)) {
        page.push({ href: item.href, deleted: true })
      } else if (item.status === null || (item.status >= 200 && item.status < 300)) {
        page.push({ href: item.href, etag: etag ?? '' })
      }
      if (page.length >= MULTIGET_MAX_HREFS) {
        yield page
        page = []
      }
    }
    if (page.length > 0) yield page
    if (!truncated || newToken === null || newToken === token || round >= 1000) return newToken
    token = newToken
  }
}

/**
 * Lists a collection's members with their ETags (PROPFIND Depth 1, DAV:getetag; RFC 4918 §9.1), in pages of at
 * most {@link MULTIGET_MAX_HREFS} as they stream in; the collection itself and sub-collections are skipped.
 * Throws {@link DavHttpError} for a non-success status.
 */
export async function* listMembers(session: DavSession, collectionUrl: string): AsyncGenerator<DavMember[], void, undefined> {
  const response = await requestMultistatus(session, 'PROPFIND', collectionUrl, '1', propfindBody('<D:getetag/><D:resourcetype/>'))
  let page: DavMember[] = []
  for await (const event of streamMultistatus(response, describe('PROPFIND', collectionUrl), new Set([K.getetag, K.resourcetype]))) {
    if (event.type !== 'response' || !isMemberHref(event.response.href, collectionUrl)) continue
    const item = event.response
    if (item.status !== null && item.status >= 300) continue
    if (item.props.get(K.resourcetype)?.children.has(K.collection)) continue
    const etag = stripEtag(item.props.get(K.getetag)?.text)
    if (etag === null) continue
    page.push({ href: item.href, etag })
    if (page.length >= MULTIGET_MAX_HREFS) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
}

async function collectObjects(response: Response, context: string, dataKey: string, collectionUrl: string, onPage: (objects: DavObject[]) => void, pageSize: number): Promise<void> {
  let page: DavObject[] = []
  for await (const event of streamMultistatus(response, context, new Set([K.getetag, dataKey]))) {
    if (event.type !== 'response' || !isMemberHref(event.response.href, collectionUrl)) continue
    const item = event.response
    if (item.status !== null && item.status >= 300) continue
    const data = item.props.get(dataKey)?.text
    if (data === undefined) continue
    page.push({ href: item.href, etag: stripEtag(item.props.get(K.getetag)?.text) ?? '', data })
    if (page.length >= pageSize) {
      onPage(page)
      page = []
    }
  }
  if (page.length > 0) onPage(page)
}

/**
 * Reads members with their data: CARD:addressbook-multiget (RFC 6352 §8.7) for an address book,
 * CAL:calendar-multiget (RFC 4791 §7.9) for a calendar, of at most {@link MULTIGET_MAX_HREFS} hrefs (else a
 * RangeError). Hrefs the server answers 404 for (deleted meanwhile) are left out. Each vCard / iCalendar text is
 * bounded by {@link MAX_DATA_CHARS}. Throws {@link DavHttpError} for a non-success status.
 */
export async function multiget(session: DavSession, collectionUrl: string, kind: DavCollectionKind, hrefs: string[]): Promise<DavObject[]> {
  if (hrefs.length > MULTIGET_MAX_HREFS) throw new RangeError(`multiget takes at most ${MULTIGET_MAX_HREFS} hrefs (got ${hrefs.length})`)
  if (hrefs.length === 0) return []
  const [ns, root, data, dataKey] = kind === 'ADDRESS_BOOK' ? [CARD, 'addressbook-multiget', 'address-data', K.addressData] : [CAL, 'calendar-multiget', 'calendar-data', K.calendarData]
  const body =
    `<?xml version="1.0" encoding="utf-8"?><X:${root} xmlns:D="DAV:" xmlns:X="${ns}"><D:prop><D:getetag/><X:${data}/></D:prop>` +
    hrefs.map((href) => `<D:href>${escapeXml(href)}</D:href>`).join('') +
    `</X:${root}>`
  const response = await requestMultistatus(session, 'REPORT', collectionUrl, '1', body)
  const objects: DavObject[] = []
  await collectObjects(response, describe('REPORT', collectionUrl), dataKey, collectionUrl, (page) => objects.push(...page), MULTIGET_MAX_HREFS)
  return objects
}

/** An iCalendar UTC date-time (RFC 5545 §3.3.5 form 2), as CalDAV time-range wants it. */
function icalUtc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

/**
 * CAL:calendar-query (RFC 4791 §7.8) for the VEVENTs overlapping `[range.start, range.end)` (a CAL:time-range
 * filter; the server decides overlap, recurring events included when any instance overlaps), with their
 * calendar-data; yields pages of at most {@link MULTIGET_MAX_HREFS} objects as they stream in.
 * Throws {@link DavHttpError} for a non-success status.
 */
export async function* calendarQuery(session: DavSession, calendarUrl: string, range: { start: Date; end: Date }): AsyncGenerator<DavObject[], void, undefined> {
  const body =
    `<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="${CAL}"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
    `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${icalUtc(range.start)}" end="${icalUtc(range.end)}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
  const response = await requestMultistatus(session, 'REPORT', calendarUrl, '1', body)
  let page: DavObject[] = []
  for await (const event of streamMultistatus(response, describe('REPORT', calendarUrl), new Set([K.getetag, K.calendarData]))) {
    if (event.type !== 'response' || !isMemberHref(event.response.href, calendarUrl)) continue
    const item = event.response
    if (item.status !== null && item.status >= 300) continue
    const data = item.props.get(K.calendarData)?.text
    if (data === undefined) continue
    page.push({ href: item.href, etag: stripEtag(item.props.get(K.getetag)?.text) ?? '', data })
    if (page.length >= MULTIGET_MAX_HREFS) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
}

/**
 * Writes a member (PUT, RFC 4918 §9.7) with a precondition: `ifMatch` (update only if unchanged, the ETag read)
 * or `ifNoneMatch: '*'` (create only if absent). Returns the new ETag when the server gives one (RFC 6352 §6.3.2
 * lets it not). Throws {@link PreconditionFailedError} on 412, {@link DavHttpError} for another failure.
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
  if (response.status === 412) {
    await response.body?.cancel().catch(() => {})
    throw new PreconditionFailedError(`${describe('PUT', url)}: the resource changed on the server (412)`)
  }
  if (response.status < 200 || response.status >= 300) await fail(response, 'PUT', url)
  await response.body?.cancel().catch(() => {})
  return { etag: response.headers.get('etag') }
}

/**
 * Deletes a member (DELETE, RFC 4918 §9.6), with `If-Match` when `ifMatch` is given. A 404 counts as done.
 * Throws {@link PreconditionFailedError} on 412, {@link DavHttpError} for another failure.
 */
export async function deleteObject(session: DavSession, url: string, ifMatch?: string): Promise<void> {
  const headers: Record<string, string> = {}
  if (ifMatch !== undefined) headers['if-match'] = ifMatch
  const response = await session.fetch(url, { method: 'DELETE', headers })
  await response.body?.cancel().catch(() => {})
  if (response.status === 412) throw new PreconditionFailedError(`${describe('DELETE', url)}: the resource changed on the server (412)`)
  if (response.status === 404 || (response.status >= 200 && response.status < 300)) return
  await fail(response, 'DELETE', url)
}
