/**
 * The OAuth 2.0 authorization server: oidc-provider (OpenID certified), configured for partner apps.
 *
 * - Authorization code grant only, PKCE required (S256, the only method oidc-provider accepts), confidential
 *   clients (`client_secret_basic`) whose secrets are stored hashed.
 * - One resource server, the GraphQL API (`<origin>/graphql`, RFC 8707 resource indicators, the default
 *   resource): opaque access tokens of {@link ACCESS_TOKEN_TTL_SECONDS}, carrying the partner scopes the
 *   user granted and the app may ask for.
 * - Refresh tokens rotate on every use; presenting a used one again revokes the whole grant (oidc-provider's
 *   refresh_token grant does that itself: `refreshToken.consumed` -> `revoke(ctx, grantId)`).
 * - Login and consent happen in the web client (the interaction URL is its page `/oauth/consent/<uid>`,
 *   http/oauth-routes.ts finishes it with the user's own token); every authorization asks for consent.
 * - Everything is stored through prisma-adapter.ts; keys come from SECRET_KEY (keys.ts).
 */
import { timingSafeEqual } from 'node:crypto'
import type { Configuration, default as Provider, KoaContextWithOIDC } from 'oidc-provider'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { isUuid } from '../db/uuid.ts'
import { SCOPES } from '../auth/scopes.ts'
import { hashClientSecret } from './clients.ts'
import { oauthCookieKeys, oauthSigningJwk } from './keys.ts'
import type { OidcProviderModule } from './oidc-provider-module.ts'
import { prismaAdapter } from './prisma-adapter.ts'

/** Where the authorization server is mounted on the main listener. */
export const OAUTH_PATH = '/oauth'
/** Access tokens live 10 minutes: a leaked one is short-lived; the refresh token gets the next. */
export const ACCESS_TOKEN_TTL_SECONDS = 10 * 60
/** A refresh token unused this long expires (each rotation issues a fresh one). */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600
/** A connection lasts at most a year; then the app asks the user again. */
export const GRANT_TTL_SECONDS = 365 * 24 * 3600
/** An authorization code is exchanged within a minute (RFC 6749 §4.1.2 recommends at most 10). */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60
/** The consent page has 10 minutes; the provider's browser session (only for the flow under way) as long. */
export const INTERACTION_TTL_SECONDS = 10 * 60

/** The resource indicator of the GraphQL API for an issuer (`<origin>/oauth` -> `<origin>/graphql`). */
export function apiResourceOf(issuer: string): string {
  return new URL('/graphql', issuer).href
}

/** The partner scopes an app registered for (its client metadata `scope`). */
function appScopes(client: { scope?: string | undefined } | undefined): string[] {
  const registered = new Set((client?.scope ?? '').split(' '))
  return SCOPES.filter((scope) => registered.has(scope))
}

const escapeHtml = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!)

/** A plain page of the authorization server (errors, sign-out): `title` as text, `html` trusted. */
const page = (title: string, html: string) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${html}</main></body></html>`

export interface OAuthProviderOptions {
  prisma: PrismaClient
  /** SECRET_KEY: derives the signing key and the cookie keys. */
  secretKey: string
  /** The issuer identifier: `<PUBLIC_URL or the listening origin>/oauth`. */
  issuer: string
  logger: Logger
  /** Told when oidc-provider revokes a grant itself (a refresh token reused, a token revoked by the app). */
  onGrantRevoked?: (grantId: string) => void
}

/** The configured oidc-provider instance (mount it with http/oauth-routes.ts). */
export function createOAuthProvider({ default: Provider, errors }: OidcProviderModule, { prisma, secretKey, issuer, logger, onGrantRevoked }: OAuthProviderOptions): Provider {
  const resource = apiResourceOf(issuer)
  const configuration: Configuration = {
    adapter: prismaAdapter(prisma),
    clients: [],
    jwks: { keys: [oauthSigningJwk(secretKey)] },
    cookies: {
      keys: oauthCookieKeys(secretKey),
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    // The partner scopes are "static" scopes too, so that a client's registered `scope` limits what it may
    // ask for (invalid_scope otherwise); they are granted for the API resource only (getResourceServerInfo).
    scopes: ['openid', 'offline_access', ...SCOPES],
    claims: { openid: ['sub'] },
    responseTypes: ['code'],
    // Every app is registered with HTTP Basic (clients.ts): advertise only that.
    clientAuthMethods: ['client_secret_basic'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'EdDSA',
    },
    // Client secrets are stored hashed, so nothing may use them as an HMAC key.
    enabledJWA: {
      idTokenSigningAlgValues: ['EdDSA'],
      clientAuthSigningAlgValues: ['EdDSA', 'ES256', 'PS256', 'RS256'],
      requestObjectSigningAlgValues: ['EdDSA', 'ES256', 'PS256', 'RS256'],
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      introspection: { enabled: false },
      registration: { enabled: false },
      // Kept for oidc-provider's own use: a consent by another user in a browser whose OAuth session is still
      // someone else's ends that session first (its confirmation page below), then resumes.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html'
          ctx.body = page(
            'Switch account',
            `<p>This browser is still signed in to ${escapeHtml(ctx.host)} for another account's app connection.</p>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign that account out and continue</button> <button type="submit" form="op.logoutForm">Cancel</button>`,
          )
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html'
          ctx.body = page('Signed out', '<p>You are signed out of the app connection. Go back to the app to connect again.</p>')
        },
      },
      revocation: {
        enabled: true,
        // An app revokes its own tokens only (RFC 7009 §2.1).
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          if (indicator !== resource) throw new errors.InvalidTarget()
          return { scope: appScopes(client).join(' '), accessTokenFormat: 'opaque', accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS }
        },
      },
    },
    // Server-to-server partners: no browser calls the token endpoint across origins.
    clientBasedCORS: () => false,
    findAccount: async (_ctx, sub) => {
      if (!isUuid(sub)) return undefined
      const user = await prisma.user.findUnique({ where: { id: sub }, select: { id: true } })
      return user ? { accountId: user.id, claims: () => ({ sub: user.id }) } : undefined
    },
    // Refresh tokens for every app allowed the grant (no `offline_access` needed), rotated on every use,
    // not tied to the short browser session of the consent.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    expiresWithSession: async () => false,
    // Every authorization asks for consent: an earlier grant is not reused silently (the grant of the
    // interaction just finished is the one used).
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc.result?.consent?.grantId
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Grant: GRANT_TTL_SECONDS,
      IdToken: ACCESS_TOKEN_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      Session: INTERACTION_TTL_SECONDS,
    },
    interactions: { url: async (_ctx, interaction) => `${OAUTH_PATH}/consent/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html'
      ctx.body = page(
        'Authorization failed',
        `${Object.entries(out)
          .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
          .join('')}<p>Go back to the app and start again.</p>`,
      )
    },
  }
  const provider = new Provider(issuer, configuration)
  // Client secrets are stored as SHA-256 (clients.ts): compare the hash of the presented secret. oidc-provider
  // has no option for it; its only use of the secret left is this comparison (HMAC algorithms are off above).
  Object.defineProperty(provider.Client.prototype, 'compareClientSecret', {
    value(this: { clientSecret?: string }, actual: unknown): boolean {
      if (typeof actual !== 'string' || typeof this.clientSecret !== 'string') return false
      const expected = Buffer.from(this.clientSecret, 'utf8')
      const presented = Buffer.from(hashClientSecret(actual), 'utf8')
      return expected.length === presented.length && timingSafeEqual(expected, presented)
    },
  })
  provider.on('server_error', (_ctx: unknown, error: unknown) => logger.error({ err: error }, 'OAuth server error'))
  // Koa's own report of an error that escaped (to the console when nobody listens): to the log instead.
  ;(provider as unknown as NodeJS.EventEmitter).on('error', (error: unknown) => logger.error({ err: error }, 'OAuth request failed'))
  provider.on('grant.revoked', (_ctx: unknown, grantId: string) => onGrantRevoked?.(grantId))
  return provider
}
