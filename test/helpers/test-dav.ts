/**
 * For the account and sync-job tests: the real DAV services with test settings, collection syncers
 * that make one real request to the collection through the session and change nothing (for the
 * orchestration: leases, retries, statuses), and a counting proxy between the server and Radicale.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { DavServices } from '../../src/accounts/accounts.ts'
import { createDavServices } from '../../src/accounts/dav-services.ts'
import { DavHttpError, type DavSession } from '../../src/dav/types.ts'
import type { CollectionSyncer, Syncers } from '../../src/sync/run-sync.ts'
import { emptySyncResult } from '../../src/sync/types.ts'

/** The real DAV services for tests: the guard as DAV_ALLOW_PRIVATE_URLS says, a random SECRET_KEY, no OAuth client. */
export function testDavServices(options: { allowPrivate: boolean }): DavServices {
  return createDavServices(
    { allowPrivateUrls: options.allowPrivate, intervalMs: 15 * 60_000, requestTimeoutMs: 10_000, maxAccountsPerUser: 10, oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' } },
    randomBytes(32).toString('base64url'),
    () => new Date(),
  )
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

/** A syncer that lists the collection through the session (one real PROPFIND) and changes nothing. */
export const listingSyncer: CollectionSyncer = async (deps, account, collection, session) => {
  deps.onProgress?.({ accountId: account.id, collectionUrl: collection.url, phase: 'listing', done: 0, total: null })
  const xml = await propfind(session, collection.url, '1', '<D:getetag/>')
  const members = elements(xml, 'response').length - 1
  deps.onProgress?.({ accountId: account.id, collectionUrl: collection.url, phase: 'done', done: members, total: members })
  return { ...emptySyncResult(), unchanged: members, requests: 1 }
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
