/**
 * Refreshing an OAuth 2.0 bearer token (RFC 6749 §6) for a DAV account (Google's CardDAV and CalDAV
 * endpoints), with oauth4webapi, through the outbound guard's fetch.
 */
import * as oauth from 'oauth4webapi'
import type { SyncConfig } from '../config.ts'
import { DavHttpError } from './types.ts'

/** A refreshed token: `expiresAt` in epoch ms (null: the server did not say). */
export interface RefreshedToken {
  accessToken: string
  refreshToken: string | null
  expiresAt: number | null
}

/**
 * Exchanges `refreshToken` at `config.tokenUrl` with the configured client (client_secret_post).
 * Throws DavHttpError(401) when no client is configured or the grant is refused (invalid_grant: the
 * user must sign in again), DavHttpError(0 / status) when the endpoint cannot be reached or fails.
 */
export async function refreshAccessToken(config: SyncConfig['oauth'], refreshToken: string, fetchImpl: typeof fetch, now: () => Date): Promise<RefreshedToken> {
  if (!config.clientId || !config.clientSecret) throw new DavHttpError(401, 'the access token expired and no OAuth client is configured to refresh it (OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET)')
  const tokenUrl = new URL(config.tokenUrl)
  const server: oauth.AuthorizationServer = { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href }
  const client: oauth.Client = { client_id: config.clientId }
  let response: Response
  try {
    response = await oauth.refreshTokenGrantRequest(server, client, oauth.ClientSecretPost(config.clientSecret), refreshToken, {
      [oauth.customFetch]: fetchImpl,
      [oauth.allowInsecureRequests]: tokenUrl.protocol === 'http:',
    })
  } catch (error) {
    throw new DavHttpError(0, `the token endpoint could not be reached: ${(error as Error).message}`)
  }
  try {
    const result = await oauth.processRefreshTokenResponse(server, client, response)
    return {
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? refreshToken,
      expiresAt: typeof result.expires_in === 'number' ? now().getTime() + result.expires_in * 1000 : null,
    }
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) throw new DavHttpError(401, `the token endpoint refused the refresh token (${error.error})`)
    const status = response.status >= 500 ? response.status : 0
    throw new DavHttpError(status, `the token endpoint answered badly: ${(error as Error).message}`)
  }
}
