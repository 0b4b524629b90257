/**
 * `/oauth/*` on the main listener: oidc-provider's endpoints (discovery at
 * `/oauth/.well-known/openid-configuration`, `/oauth/auth`, `/oauth/token`, `/oauth/token/revocation`,
 * `/oauth/jwks`...), and the consent API the web client's page `/oauth/consent/<uid>` calls with the
 * user's own token:
 *
 * - `GET  /oauth/consent/<uid>/details`: `{ uid, app: { clientId, name }, scopes, redirectOrigin }`
 * - `POST /oauth/consent/<uid>/confirm`: grants the scopes asked for; `{ redirectTo }` (the browser goes there)
 * - `POST /oauth/consent/<uid>/deny`: `{ redirectTo }` (the app gets `access_denied`)
 *
 * The interaction is bound to the browser that started it (oidc-provider's signed `_interaction` cookie,
 * whose path is the page's); the user is the one of the `Authorization` header, a session token only (an
 * API key or an app's token cannot connect apps). Refusals are JSON errors (json-error.ts):
 * 401 UNAUTHENTICATED, 403 FORBIDDEN, 404 NOT_FOUND (no such interaction in this browser: expired,
 * finished, or another browser's), 405 BAD_REQUEST.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isSessionCredential, type Credential } from '../auth/authenticate.ts'
import type { TokenWatch } from '../auth/token-watch.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { grantIdsOf, partnerScopes, revokeGrant } from '../oauth/grants.ts'
import type { OAuthServer } from '../oauth/oauth-server.ts'
import { apiResourceOf, OAUTH_PATH } from '../oauth/provider.ts'
import { sendJsonError } from './json-error.ts'

const CONSENT_API = /^\/oauth\/consent\/([A-Za-z0-9_-]{1,64})\/(details|confirm|deny)$/
const CONSENT_PAGE = /^\/oauth\/consent\/[A-Za-z0-9_-]{1,64}\/?$/

const pathOf = (url: string | undefined) => {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname
  } catch {
    return '/'
  }
}

/** Whether the request is for the OAuth server (`/oauth` and below). */
export function isOAuthPath(url: string | undefined): boolean {
  const path = pathOf(url)
  return path === OAUTH_PATH || path.startsWith(`${OAUTH_PATH}/`)
}

/** Whether the request is a browser loading the consent page (the web app answers it). */
export function isConsentPage(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && CONSENT_PAGE.test(pathOf(req.url))
}

export interface OAuthRoutesOptions {
  oauth: OAuthServer
  prisma: PrismaClient
  /** The credential of an `Authorization` header (the app's authenticate). */
  authenticate: (authorization: unknown) => Promise<Credential | null>
  tokenWatch: Pick<TokenWatch, 'revoked'>
  logger: Logger
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.statusCode = 200
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('cache-control', 'no-store')
  res.end(JSON.stringify(body))
}

/** The request listener of `/oauth/*`. */
export function oauthRoutes({ oauth, prisma, authenticate, tokenWatch, logger }: OAuthRoutesOptions) {
  const consent = async (req: IncomingMessage, res: ServerResponse, uid: string, action: string): Promise<void> => {
    if (req.method !== (action === 'details' ? 'GET' : 'POST')) return sendJsonError(res, 405, 'BAD_REQUEST', `${action} takes a ${action === 'details' ? 'GET' : 'POST'}`)
    const credential = await authenticate(req.headers.authorization)
    if (!credential) return sendJsonError(res, 401, 'UNAUTHENTICATED', 'Sign in to the web client first')
    if (!isSessionCredential(credential)) return sendJsonError(res, 403, 'FORBIDDEN', "Apps are connected with the user's own sign-in, not an API key or an app's token")
    const provider = await oauth.provider()
    let details: Awaited<ReturnType<typeof provider.interactionDetails>>
    try {
      details = await provider.interactionDetails(req, res)
    } catch {
      details = undefined as never
    }
    if (!details || details.uid !== uid) {
      return sendJsonError(res, 404, 'NOT_FOUND', 'This authorization request is over (expired, finished, or started in another browser): start again from the app')
    }
    const clientId = typeof details.params.client_id === 'string' ? details.params.client_id : ''
    const client = await provider.Client.find(clientId)
    if (!client) return sendJsonError(res, 404, 'NOT_FOUND', 'The app of this authorization request no longer exists')
    const requested = new Set(typeof details.params.scope === 'string' ? details.params.scope.split(' ') : [])
    const allowed = new Set((client.scope ?? '').split(' '))
    const scopes = partnerScopes([...requested].filter((scope) => allowed.has(scope)).join(' '))
    if (action === 'details') {
      const redirectUri = typeof details.params.redirect_uri === 'string' ? details.params.redirect_uri : client.redirectUris?.[0]
      return sendJson(res, {
        uid,
        app: { clientId, name: client.clientName ?? clientId },
        scopes,
        redirectOrigin: redirectUri && URL.canParse(redirectUri) ? new URL(redirectUri).origin : null,
      })
    }
    if (action === 'deny') {
      const redirectTo = await provider.interactionResult(req, res, { error: 'access_denied', error_description: 'The user did not allow the app' }, { mergeWithLastSubmission: false })
      return sendJson(res, { redirectTo })
    }
    const userId = credential.userId
    // One connection per user and app: connecting again replaces the earlier grant (and ends its tokens).
    for (const old of await grantIdsOf(prisma, userId, clientId)) {
      await revokeGrant(prisma, old)
      tokenWatch.revoked(old)
    }
    const grant = new provider.Grant({ accountId: userId, clientId })
    const statics = [...requested].filter((scope) => scope === 'openid' || scope === 'offline_access' || (scopes as string[]).includes(scope))
    if (statics.length > 0) grant.addOIDCScope(statics.join(' '))
    if (scopes.length > 0) grant.addResourceScope(apiResourceOf(provider.issuer), scopes.join(' '))
    const grantId = await grant.save()
    const redirectTo = await provider.interactionResult(req, res, { login: { accountId: userId, remember: false }, consent: { grantId } }, { mergeWithLastSubmission: false })
    logger.info({ userId, clientId, grantId, scopes }, 'app connected')
    return sendJson(res, { redirectTo })
  }

  let handler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req.url)
    const api = CONSENT_API.exec(path)
    if (api) return consent(req, res, api[1]!, api[2]!)
    handler ??= (await oauth.provider()).callback()
    // Mounted under /oauth the way Express mounts: the provider routes `req.url` without the prefix and
    // builds its URLs from `originalUrl` (oidc-provider's documented mounting).
    const originalUrl = req.url ?? '/'
    // `/oauth?x` routes as `/?x`: oidc-provider's router needs a path that starts with a slash.
    const rest = originalUrl.slice(OAUTH_PATH.length)
    Object.assign(req, { originalUrl, url: rest.startsWith('/') ? rest : `/${rest}` })
    await handler(req, res)
  }
}
