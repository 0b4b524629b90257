/**
 * Refreshes an OAuth 2.0 bearer token (RFC 6749 §6, the refresh_token grant) for a DAV account whose server takes
 * bearer tokens (Google's CardDAV / CalDAV endpoints), with oauth4webapi. The token endpoint is fetched through the
 * outbound guard (the `fetchImpl` given).
 */
import * as oauth from 'oauth4webapi'
import type { SyncConfig } from '../config.ts'
import { UnsafeUrlError } from '../net/outbound-fetch.ts'
import { DavHttpError } from './types.ts'

/** A fresh access token; `refreshToken` is the new one when the server rotated it, else the one given; `expiresAt` in epoch ms. */
export interface RefreshedToken {
  accessToken: string
  refreshToken: string | null
  expiresAt: number | null
}

/**
 * Trades `refreshToken` for a new access token at `oauth.tokenUrl` with the configured client
 * (client_secret_post when a secret is set, else a public client).
 * Throws `DavHttpError(401)` when no client is configured or the grant is refused (invalid_grant,
 * invalid_client …: the account needs re-authentication), `DavHttpError(status)` for a 5xx / 429 answer,
 * `DavHttpError(0)` for a network error or timeout; `UnsafeUrlError` when the guard refuses the token URL.
 */
export async function refreshAccessToken(
  oauthConfig: SyncConfig['oauth'],
  refreshToken: string,
  fetchImpl: typeof fetch,
  now: () => Date,
): Promise<RefreshedToken> {
  if (oauthConfig.clientId === undefined || oauthConfig.clientId === '') {
    throw new DavHttpError(401, 'The access token expired and no OAuth client is configured (OAUTH_CLIENT_ID) to refresh it')
  }
  let tokenUrl: URL
  try {
    tokenUrl = new URL(oauthConfig.tokenUrl)
  } catch {
    throw new DavHttpError(401, 'OAUTH_TOKEN_URL is not a valid URL')
  }
  const as: oauth.AuthorizationServer = { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href }
  const client: oauth.Client = { client_id: oauthConfig.clientId }
  const clientAuth = oauthConfig.clientSecret ? oauth.ClientSecretPost(oauthConfig.clientSecret) : oauth.None()
  const requestedAt = now().getTime()
  let result: oauth.TokenEndpointResponse
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
      [oauth.customFetch]: fetchImpl,
      [oauth.allowInsecureRequests]: tokenUrl.protocol === 'http:',
    })
    result = await oauth.processRefreshTokenResponse(as, client, response)
  } catch (error) {
    throw refreshError(error)
  }
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? refreshToken,
    expiresAt: typeof result.expires_in === 'number' ? requestedAt + result.expires_in * 1000 : null,
  }
}

function refreshError(error: unknown): Error {
  if (error instanceof UnsafeUrlError || error instanceof DavHttpError) return error
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError) {
    if (error.status >= 500 || error.status === 429) return new DavHttpError(error.status, `The OAuth token endpoint answered ${error.status}`)
    const code = error instanceof oauth.ResponseBodyError ? error.error : 'invalid_token'
    return new DavHttpError(401, `The OAuth token endpoint refused the refresh token (${code})`)
  }
  if (error instanceof oauth.OperationProcessingError) {
    const cause = error.cause
    if (typeof cause === 'object' && cause !== null && typeof (cause as { status?: unknown }).status === 'number') {
      const status = (cause as { status: number }).status
      if (status >= 500 || status === 429) return new DavHttpError(status, `The OAuth token endpoint answered ${status}`)
      if (status === 400 || status === 401 || status === 403) return new DavHttpError(401, `The OAuth token endpoint refused the refresh token (${status})`)
      return new DavHttpError(502, `The OAuth token endpoint answered ${status}`)
    }
    return new DavHttpError(502, `The OAuth token endpoint's answer is not usable: ${error.message}`)
  }
  const message = error instanceof Error ? error.message : String(error)
  return new DavHttpError(0, `The OAuth token endpoint could not be reached: ${message}`)
}
