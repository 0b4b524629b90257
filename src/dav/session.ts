/**
 * A {@link DavSession}: the account's credentials on every request (RFC 7617 Basic, RFC 6750 Bearer), a bearer
 * token refreshed once when it expired or the server answers 401, and failures turned into the sync's errors.
 */
import type { DavCredentials } from '../accounts/credential-box.ts'
import type { SyncConfig } from '../config.ts'
import { UnsafeUrlError } from '../net/outbound-fetch.ts'
import { refreshAccessToken } from './oauth.ts'
import { DavHttpError, type DavSession } from './types.ts'

/** What {@link createDavSession} needs: the account's credentials, the guarded fetch, the OAuth client and the clock. */
export interface DavSessionOptions {
  credentials: DavCredentials
  /** The guarded fetch (net/outbound-fetch.ts `createOutboundFetch`), bounded by the request timeout. */
  fetch: typeof fetch
  oauth: SyncConfig['oauth']
  now: () => Date
  /** Told the new credentials after a refresh (store them sealed); awaited before the request is retried. */
  onCredentialsChanged?: (credentials: DavCredentials) => Promise<void> | void
}

/** A session plus the number of HTTP requests it sent (token refreshes not counted). */
export type CountedDavSession = DavSession & { requests: number }

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

/**
 * Creates the session one account's sync (or discovery) uses. Its `fetch` adds `Authorization`; for a BEARER
 * account with a refresh token it refreshes the token first when `expiresAt` has passed, and once on a 401
 * (then retries the request once and calls `onCredentialsChanged`). Concurrent requests share one refresh.
 * Rejects with `DavHttpError(0)` on a network error or timeout, `DavHttpError(401)` when the refresh is refused,
 * `UnsafeUrlError` when the outbound guard refuses the host; an HTTP error status is returned, not thrown.
 */
export function createDavSession(options: DavSessionOptions): CountedDavSession {
  let credentials = options.credentials
  let refreshing: Promise<void> | null = null

  const authorization = (): string =>
    credentials.kind === 'BASIC' ? basicAuthorization(credentials.username, credentials.password) : `Bearer ${credentials.accessToken}`

  const canRefresh = (): boolean => credentials.kind === 'BEARER' && credentials.refreshToken !== null

  const refresh = (): Promise<void> => {
    refreshing ??= (async () => {
      if (credentials.kind !== 'BEARER' || credentials.refreshToken === null) return
      const token = await refreshAccessToken(options.oauth, credentials.refreshToken, options.fetch, options.now)
      credentials = { kind: 'BEARER', ...token }
      await options.onCredentialsChanged?.(credentials)
    })().finally(() => {
      refreshing = null
    })
    return refreshing
  }

  const send = async (url: string | URL, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers)
    headers.set('authorization', authorization())
    session.requests++
    try {
      return await options.fetch(url, { ...init, headers })
    } catch (error) {
      if (error instanceof UnsafeUrlError || error instanceof DavHttpError) throw error
      if (init.signal?.aborted) throw error
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
      const target = new URL(String(url))
      throw new DavHttpError(
        0,
        timedOut ? `${init.method ?? 'GET'} ${target.origin}${target.pathname} timed out` : `${init.method ?? 'GET'} ${target.origin}${target.pathname} failed${cause}`,
      )
    }
  }

  const session: CountedDavSession = {
    requests: 0,
    async fetch(url, init = {}) {
      if (credentials.kind === 'BEARER' && credentials.expiresAt !== null && credentials.expiresAt <= options.now().getTime() && canRefresh()) {
        await refresh()
      }
      const sentWith = credentials
      const response = await send(url, init)
      if (response.status !== 401 || !canRefresh()) return response
      await response.body?.cancel().catch(() => {})
      // Another request may have refreshed while this one was in flight: then just retry with its token.
      if (credentials === sentWith) await refresh()
      return send(url, init)
    },
  }
  return session
}
