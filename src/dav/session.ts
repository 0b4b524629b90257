/**
 * A DAV session: the account's credentials on every request through the outbound guard's fetch,
 * a bearer token refreshed when it has expired or the server answers 401 (once per request), and a
 * count of the requests sent (the sync's figures and tests assert on it).
 */
import type { DavCredentials } from '../accounts/credential-box.ts'
import type { SyncConfig } from '../config.ts'
import { UnsafeUrlError } from '../net/outbound-fetch.ts'
import { refreshAccessToken } from './oauth.ts'
import { DavHttpError, type DavSession } from './types.ts'

/** A token this close to its expiry is refreshed before use, in ms. */
const EXPIRY_MARGIN_MS = 60_000

export interface DavSessionOptions {
  credentials: DavCredentials
  /** The outbound guard's fetch (net/outbound-fetch.ts). */
  fetch: typeof fetch
  oauth: SyncConfig['oauth']
  now: () => Date
  /** Told of refreshed bearer credentials, to store them (sealed). */
  onCredentialsChanged?: ((credentials: DavCredentials) => Promise<void> | void) | undefined
}

const authorizationOf = (credentials: DavCredentials) =>
  credentials.kind === 'BASIC'
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`
    : `Bearer ${credentials.accessToken}`

/**
 * A {@link DavSession} over `options.fetch`. Its `fetch` returns HTTP error statuses as responses,
 * rejects with UnsafeUrlError for a refused URL and with DavHttpError(0) on a timeout or network error;
 * `requests` counts the HTTP requests sent (a refresh at the token endpoint is not one).
 */
export function createDavSession(options: DavSessionOptions): DavSession & { requests: number } {
  let credentials = options.credentials
  const refresh = async () => {
    if (credentials.kind !== 'BEARER' || !credentials.refreshToken) return false
    const token = await refreshAccessToken(options.oauth, credentials.refreshToken, options.fetch, options.now)
    credentials = { kind: 'BEARER', ...token }
    await options.onCredentialsChanged?.(credentials)
    return true
  }
  const session = {
    requests: 0,
    async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
      if (credentials.kind === 'BEARER' && credentials.expiresAt !== null && credentials.expiresAt - EXPIRY_MARGIN_MS <= options.now().getTime()) await refresh()
      const send = async () => {
        const headers = new Headers(init.headers)
        headers.set('authorization', authorizationOf(credentials))
        session.requests++
        try {
          return await options.fetch(url, { ...init, headers })
        } catch (error) {
          if (error instanceof UnsafeUrlError || error instanceof DavHttpError) throw error
          const cause = (error as { cause?: { code?: string; message?: string } }).cause
          const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : (cause?.code ?? cause?.message ?? (error as Error).message)
          throw new DavHttpError(0, `${init.method ?? 'GET'} ${String(url)}: ${reason}`)
        }
      }
      const response = await send()
      if (response.status !== 401 || credentials.kind !== 'BEARER' || !credentials.refreshToken) return response
      await response.body?.cancel()
      await refresh()
      return send()
    },
  }
  return session
}
