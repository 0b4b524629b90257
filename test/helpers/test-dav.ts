/**
 * For the account and sync-job tests, until the lead merges H1's DAV client (dav/session.ts,
 * dav/client.ts, net/outbound-fetch.ts, accounts/credential-box.ts) and app.ts binds it by default:
 * a small real {@link DavServices} over HTTP (Basic or Bearer auth, PROPFIND discovery of the
 * principal's home set as RFC 6352 §7.1 / RFC 4791 §6.2 describe it, a loopback / private address
 * refusal unless allowed, AES-256-GCM sealing), and collection syncers that make a real request to
 * the collection through the session. A counting proxy stands between the server and Radicale.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { createServer, type Server } from 'node:http'
import ipaddr from 'ipaddr.js'
import type { AccountCredentials, DavServices } from '../../src/accounts/accounts.ts'
import { DavHttpError, type DavCollectionInfo, type DavSession } from '../../src/dav/types.ts'
import type { CollectionSyncer, Syncers } from '../../src/sync/run-sync.ts'

class TestCredentialBoxError extends Error {
  override name = 'CredentialBoxError'
}

class TestUnsafeUrlError extends Error {
  override name = 'UnsafeUrlError'
}

/** A DavServices for tests (see the module comment); `allowPrivate` as DAV_ALLOW_PRIVATE_URLS. */
export function testDavServices(options: { allowPrivate: boolean; key?: Buffer }): DavServices {
  const key = options.key ?? randomBytes(32)
  const guard = async (target: URL) => {
    const host = target.hostname.replace(/^\[|\]$/g, '')
    const addresses = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address)
    if (!options.allowPrivate && addresses.some((address) => ipaddr.process(address).range() !== 'unicast')) {
      throw new TestUnsafeUrlError(`${target.hostname} resolves to a private or loopback address: refused`)
    }
    return target
  }
  return {
    checkUrl: async (url) => guard(new URL(url)),
    session(credentials) {
      const authorization =
        credentials.kind === 'BASIC'
          ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
          : `Bearer ${credentials.accessToken}`
      const session = {
        requests: 0,
        async fetch(url: string | URL, init: RequestInit = {}) {
          await guard(new URL(url))
          session.requests += 1
          try {
            return await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), authorization }, signal: AbortSignal.timeout(10_000) })
          } catch (error) {
            throw new DavHttpError(0, `${init.method ?? 'GET'} ${String(url)}: ${(error as Error).message}`)
          }
        },
      }
      return session
    },
    discover: (session, url, kind) => discover(session, url, kind === 'CARDDAV' ? 'ADDRESS_BOOK' : 'CALENDAR'),
    seal(credentials) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()])
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
    },
    open(sealed) {
      try {
        const raw = Buffer.from(sealed.slice(3), 'base64url')
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
        decipher.setAuthTag(raw.subarray(12, 28))
        return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as AccountCredentials
      } catch {
        throw new TestCredentialBoxError('the credentials do not open with this key')
      }
    },
    isCredentialBoxError: (error) => error instanceof TestCredentialBoxError,
  }
}

/** A PROPFIND through the session; a status of 400 or more is a DavHttpError (with Retry-After in ms). */
export async function propfind(session: DavSession, url: string, depth: '0' | '1', props: string): Promise<string> {
  const response = await session.fetch(url, {
    method: 'PROPFIND',
    headers: { depth, 'content-type': 'application/xml; charset=utf-8' },
    body: `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:K="urn:ietf:params:xml:ns:caldav"><D:prop>${props}</D:prop></D:propfind>`,
  })
  const text = await response.text()
  if (response.status >= 400) {
    const retryAfter = response.headers.get('retry-after')
    throw new DavHttpError(response.status, `PROPFIND ${url}: ${response.status}`, retryAfter === null ? null : Number(retryAfter) * 1000)
  }
  return text
}

/** The text of each `<…:tag>` element (any prefix), in order. */
const elements = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<(?:[\\w-]+:)?${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w-]+:)?${tag}>`, 'g'))].map((match) => match[1]!)

async function discover(session: DavSession, url: string, kind: DavCollectionInfo['kind']): Promise<DavCollectionInfo[]> {
  const principalXml = await propfind(session, url, '0', '<D:current-user-principal/>')
  const principal = elements(elements(principalXml, 'current-user-principal')[0] ?? '', 'href')[0]
  if (!principal) throw new Error('no principal')
  const homeProp = kind === 'ADDRESS_BOOK' ? 'addressbook-home-set' : 'calendar-home-set'
  const homeXml = await propfind(session, new URL(principal, url).href, '0', kind === 'ADDRESS_BOOK' ? '<C:addressbook-home-set/>' : '<K:calendar-home-set/>')
  const home = elements(elements(homeXml, homeProp)[0] ?? '', 'href')[0]
  if (!home) throw new Error('no home set')
  const listing = await propfind(session, new URL(home, url).href, '1', '<D:resourcetype/><D:displayname/><D:sync-token/>')
  return elements(listing, 'response').flatMap((response) => {
    const type = elements(response, 'resourcetype')[0] ?? ''
    const isKind = kind === 'ADDRESS_BOOK' ? /addressbook/.test(type) : /calendar/.test(type)
    if (!isKind) return []
    return [{
      url: new URL(elements(response, 'href')[0]!, url).href,
      displayName: elements(response, 'displayname')[0] ?? null,
      kind,
      syncToken: elements(response, 'sync-token')[0] ?? null,
      ctag: null,
    }]
  })
}

/** A syncer that lists the collection through the session (one real PROPFIND) and changes nothing. */
export const listingSyncer: CollectionSyncer = async (deps, account, collection, session) => {
  deps.onProgress?.({ accountId: account.id, collectionUrl: collection.url, phase: 'listing', done: 0, total: null })
  const xml = await propfind(session, collection.url, '1', '<D:getetag/>')
  const members = elements(xml, 'response').length - 1
  deps.onProgress?.({ accountId: account.id, collectionUrl: collection.url, phase: 'done', done: members, total: members })
  return { read: 0, created: 0, updated: 0, unchanged: members, removed: 0, restored: 0, written: 0, conflicts: 0, requests: 1, fullResync: false, syncToken: null }
}

export const listingSyncers: Syncers = { ADDRESS_BOOK: listingSyncer, CALENDAR: listingSyncer }

/** A proxy to `target` that counts requests, and answers `refuse(n)`'s status instead of forwarding when it gives one. */
export interface CountingProxy {
  url: string
  requests: number
  /** Called with the request number (1-based); a status: answered without forwarding; undefined: forwarded. */
  refuse: (n: number) => { status: number; headers?: Record<string, string> } | undefined
  close(): Promise<void>
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const proxy: CountingProxy = { url: '', requests: 0, refuse: () => undefined, close: async () => {} }
  const server: Server = createServer((request, response) => {
    const n = ++proxy.requests
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const refusal = proxy.refuse(n)
      if (refusal) {
        response.writeHead(refusal.status, refusal.headers ?? {})
        response.end()
        return
      }
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value
      fetch(`${target}${request.url}`, { method: request.method!, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : null, redirect: 'manual' }).then(
        async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer())
          const out: Record<string, string> = {}
          answer.headers.forEach((value, name) => {
            if (name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'connection' && name !== 'content-length') out[name] = value
          })
          // Radicale's absolute hrefs and redirects name itself: they are paths, valid through the proxy too.
          response.writeHead(answer.status, out)
          response.end(body)
        },
        () => {
          response.writeHead(502)
          response.end()
        },
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  proxy.url = `http://127.0.0.1:${port}`
  proxy.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  return proxy
}
