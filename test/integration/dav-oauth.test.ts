/**
 * Bearer accounts (dav/oauth.ts, dav/session.ts) against a small local OAuth 2.0 token endpoint and a local
 * DAV stand-in that takes bearer tokens (Radicale takes only Basic): a 401 triggers one refresh, the retried
 * request carries the new token and onCredentialsChanged stores it; an expired token is refreshed before the
 * request; a refused grant, a missing client and a failing endpoint become the DavHttpErrors the sync acts on.
 * Google's real token endpoint cannot be reached from here; this exercises the same refresh_token grant.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { DavCredentials } from '../../src/accounts/credential-box.ts'
import { discoverCollections } from '../../src/dav/client.ts'
import { refreshAccessToken } from '../../src/dav/oauth.ts'
import { createDavSession } from '../../src/dav/session.ts'
import { DavHttpError } from '../../src/dav/types.ts'
import { createOutboundFetch, UnsafeUrlError } from '../../src/net/outbound-fetch.ts'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function serve(handler: (request: IncomingMessage, body: string, response: ServerResponse) => void): Promise<string> {
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => handler(request, body, response))
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

interface TokenEndpoint {
  url: string
  grants: URLSearchParams[]
}

/** A token endpoint (RFC 6749 §6): `answer` decides each reply; every grant's form is recorded. */
async function tokenEndpoint(answer: (form: URLSearchParams) => { status: number; body: unknown }): Promise<TokenEndpoint> {
  const grants: URLSearchParams[] = []
  const url = await serve((request, body, response) => {
    const form = new URLSearchParams(body)
    grants.push(form)
    const { status, body: reply } = answer(form)
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(reply))
  })
  return { url: `${url}/token`, grants }
}

/** A DAV stand-in that accepts only `Bearer <valid>` and answers a one-collection multistatus to PROPFIND. */
async function bearerDav(valid: () => string): Promise<{ url: string; authorizations: string[] }> {
  const authorizations: string[] = []
  const url = await serve((request, _body, response) => {
    authorizations.push(request.headers.authorization ?? '')
    if (request.headers.authorization !== `Bearer ${valid()}`) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="dav"' }).end()
      return
    }
    response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' }).end(
      `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:response><d:href>${request.url}</d:href>` +
        '<d:propstat><d:prop><d:resourcetype><d:collection/><c:addressbook/></d:resourcetype><d:displayname>Contacts</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>',
    )
  })
  return { url, authorizations }
}

const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 10_000 })
const now = () => new Date('2025-03-01T12:00:00Z')

describe('OAuth refresh and bearer sessions', () => {
  it('refreshes once on a 401, retries with the new token, and hands the new credentials to be stored', async () => {
    const endpoint = await tokenEndpoint(() => ({ status: 200, body: { access_token: 'new-access', token_type: 'Bearer', expires_in: 3600 } }))
    const dav = await bearerDav(() => 'new-access')
    const changed: DavCredentials[] = []
    const session = createDavSession({
      credentials: { kind: 'BEARER', accessToken: 'old-access', refreshToken: 'refresh-1', expiresAt: null },
      fetch: guarded,
      oauth: { clientId: 'client-id', clientSecret: 'client-secret', tokenUrl: endpoint.url },
      now,
      onCredentialsChanged: (credentials) => void changed.push(credentials),
    })
    const found = await discoverCollections(session, `${dav.url}/user/contacts/`, 'CARDDAV')
    expect(found).toEqual([expect.objectContaining({ url: `${dav.url}/user/contacts/`, displayName: 'Contacts', kind: 'ADDRESS_BOOK' })])
    expect(dav.authorizations).toEqual(['Bearer old-access', 'Bearer new-access'])
    expect(session.requests).toBe(2)
    expect(endpoint.grants).toHaveLength(1)
    expect(Object.fromEntries(endpoint.grants[0]!)).toEqual({ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'client-id', client_secret: 'client-secret' })
    // The endpoint did not rotate the refresh token: the old one is kept.
    expect(changed).toEqual([{ kind: 'BEARER', accessToken: 'new-access', refreshToken: 'refresh-1', expiresAt: now().getTime() + 3_600_000 }])

    // The next request uses the new token straight away.
    await discoverCollections(session, `${dav.url}/user/contacts/`, 'CARDDAV')
    expect(dav.authorizations.at(-1)).toBe('Bearer new-access')
    expect(endpoint.grants).toHaveLength(1)
  })

  it('refreshes an expired token before the request, keeps a rotated refresh token, and shares one refresh between concurrent requests', async () => {
    let issued = 0
    const endpoint = await tokenEndpoint(() => ({ status: 200, body: { access_token: `fresh-${++issued}`, token_type: 'bearer', expires_in: 60, refresh_token: 'refresh-2' } }))
    const dav = await bearerDav(() => 'fresh-1')
    const changed: DavCredentials[] = []
    const session = createDavSession({
      credentials: { kind: 'BEARER', accessToken: 'expired', refreshToken: 'refresh-1', expiresAt: now().getTime() - 1 },
      fetch: guarded,
      oauth: { clientId: 'client-id', clientSecret: undefined, tokenUrl: endpoint.url },
      now,
      onCredentialsChanged: (credentials) => void changed.push(credentials),
    })
    const answers = await Promise.all([1, 2, 3].map(() => session.fetch(`${dav.url}/x/`, { method: 'PROPFIND', headers: { depth: '0' } })))
    expect(answers.map((answer) => answer.status)).toEqual([207, 207, 207])
    await Promise.all(answers.map((answer) => answer.text()))
    expect(dav.authorizations).toEqual(['Bearer fresh-1', 'Bearer fresh-1', 'Bearer fresh-1'])
    expect(endpoint.grants).toHaveLength(1)
    expect(endpoint.grants[0]!.get('client_secret')).toBeNull()
    expect(changed).toEqual([{ kind: 'BEARER', accessToken: 'fresh-1', refreshToken: 'refresh-2', expiresAt: now().getTime() + 60_000 }])
  })

  it('turns a refused grant, a missing client, a failing or unreachable endpoint into DavHttpErrors', async () => {
    const refused = await tokenEndpoint(() => ({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } }))
    const status = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: unknown) => (error instanceof DavHttpError ? error.status : error))
    const config = (tokenUrl: string) => ({ clientId: 'client-id', clientSecret: 'client-secret', tokenUrl })
    expect(await status(refreshAccessToken(config(refused.url), 'revoked', guarded, now))).toBe(401)
    expect(await status(refreshAccessToken({ clientId: undefined, clientSecret: undefined, tokenUrl: refused.url }, 'r', guarded, now))).toBe(401)
    expect(refused.grants).toHaveLength(1)
    const broken = await tokenEndpoint(() => ({ status: 503, body: { error: 'temporarily_unavailable' } }))
    expect(await status(refreshAccessToken(config(broken.url), 'r', guarded, now))).toBe(503)
    const html = await serve((_request, _body, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'))
    expect(await status(refreshAccessToken(config(`${html}/token`), 'r', guarded, now))).toBe(502)
    const closed = await serve((request) => request.socket.destroy())
    expect(await status(refreshAccessToken(config(`${closed}/token`), 'r', guarded, now))).toBe(0)
    const strict = createOutboundFetch({ allowPrivate: false, timeoutMs: 10_000 })
    await expect(refreshAccessToken(config(refused.url), 'r', strict, now)).rejects.toBeInstanceOf(UnsafeUrlError)

    // Through a session: the DAV request fails as 401 (needs re-authentication), after one refresh attempt.
    const dav = await bearerDav(() => 'never')
    const session = createDavSession({
      credentials: { kind: 'BEARER', accessToken: 'old', refreshToken: 'revoked', expiresAt: null },
      fetch: guarded,
      oauth: config(refused.url),
      now,
    })
    expect(await status(discoverCollections(session, `${dav.url}/c/`, 'CARDDAV'))).toBe(401)
    expect(refused.grants).toHaveLength(2)
    expect(session.requests).toBe(1)
  })

  it('returns the 401 as it is for a bearer account without a refresh token, and counts no refresh', async () => {
    const dav = await bearerDav(() => 'never')
    const session = createDavSession({
      credentials: { kind: 'BEARER', accessToken: 'old', refreshToken: null, expiresAt: now().getTime() - 1 },
      fetch: guarded,
      oauth: { clientId: 'client-id', clientSecret: 'secret', tokenUrl: 'http://127.0.0.1:9/token' },
      now,
    })
    const answer = await session.fetch(`${dav.url}/c/`, { method: 'PROPFIND' })
    expect(answer.status).toBe(401)
    expect(session.requests).toBe(1)
  })

  it('makes a network failure and a timeout DavHttpError(0); a refused host stays UnsafeUrlError', async () => {
    const closed = await serve((request) => request.socket.destroy())
    const session = createDavSession({ credentials: { kind: 'BASIC', username: 'a', password: 'b' }, fetch: guarded, oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'x' }, now })
    await expect(session.fetch(`${closed}/`)).rejects.toMatchObject({ name: 'DavHttpError', status: 0 })
    const silent = await serve(() => {})
    const slow = createDavSession({ credentials: { kind: 'BASIC', username: 'a', password: 'b' }, fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 200 }), oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'x' }, now })
    await expect(slow.fetch(`${silent}/`)).rejects.toMatchObject({ name: 'DavHttpError', status: 0, message: expect.stringContaining('timed out') })
    const strict = createDavSession({ credentials: { kind: 'BASIC', username: 'a', password: 'b' }, fetch: createOutboundFetch({ allowPrivate: false, timeoutMs: 1000 }), oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'x' }, now })
    await expect(strict.fetch(`${closed}/`)).rejects.toBeInstanceOf(UnsafeUrlError)
  })
})
