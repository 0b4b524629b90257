/**
 * OAuth clients (partner apps): registered by an operator (`npm run oauth-client`) or by a developer
 * (`registerOAuthApp`), stored as oidc-provider client metadata in `OAuthPayload` (kind `Client`).
 * The secret is shown once; only its SHA-256 is stored (the provider compares hashes: see provider.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { badUserInput, ClientError } from '../errors.ts'
import { isScope, SCOPES, type Scope } from '../auth/scopes.ts'
import { isStorableText } from '../validation.ts'

/** Apps one developer may register (operators through the CLI have no limit). */
export const MAX_APPS_PER_DEVELOPER = 20
/** Redirect URIs per app. */
export const MAX_REDIRECT_URIS = 10
const MAX_NAME_LENGTH = 100
const MAX_URI_LENGTH = 2000
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** What a registration answers, the secret included (the only time it is seen). */
export interface RegisteredClient {
  clientId: string
  clientSecret: string
  name: string
  redirectUris: string[]
  scopes: Scope[]
}

export interface ClientRegistration {
  name: string
  redirectUris: readonly string[]
  scopes: readonly string[]
  /** The developer who registered it (null: an operator, through the CLI). */
  ownerId?: string | null
}

/** SHA-256 (hex) of a client secret: what the client's metadata holds as `client_secret`. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/**
 * A redirect URI an app may register: absolute, no fragment, https, or http on a loopback host (RFC 8252
 * §7.3, for native apps and development). Returns the URI as given, or throws BAD_USER_INPUT (`redirectUris`).
 */
export function checkRedirectUri(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw badUserInput(`not an absolute URL: ${value.slice(0, 100)}`, 'redirectUris')
  }
  if (value.length > MAX_URI_LENGTH || !isStorableText(value)) throw badUserInput(`a redirect URI has at most ${MAX_URI_LENGTH} storable characters`, 'redirectUris')
  if (url.hash !== '' || value.includes('#')) throw badUserInput('a redirect URI has no fragment (RFC 6749 §3.1.2)', 'redirectUris')
  if (url.username !== '' || url.password !== '') throw badUserInput('a redirect URI carries no user name or password', 'redirectUris')
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw badUserInput('a redirect URI is https (http only on 127.0.0.1, [::1] or localhost)', 'redirectUris')
  }
  return value
}

const hasControlCharacter = (text: string) => [...text].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f)

/** The registration checked: a name, 1 to {@link MAX_REDIRECT_URIS} redirect URIs, at least one known scope. */
function checkRegistration({ name, redirectUris, scopes }: ClientRegistration): { name: string; redirectUris: string[]; scopes: Scope[] } {
  const trimmed = name.trim()
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH || hasControlCharacter(trimmed) || !isStorableText(trimmed)) {
    throw badUserInput(`an app name has 1 to ${MAX_NAME_LENGTH} printable characters`, 'name')
  }
  if (redirectUris.length === 0 || redirectUris.length > MAX_REDIRECT_URIS) throw badUserInput(`an app has 1 to ${MAX_REDIRECT_URIS} redirect URIs`, 'redirectUris')
  const uris = [...new Set(redirectUris.map(checkRedirectUri))]
  const unknown = scopes.filter((scope) => !isScope(scope))
  if (unknown.length > 0) throw badUserInput(`unknown scope ${JSON.stringify(unknown[0]!.slice(0, 50))}: one of ${SCOPES.join(', ')}`, 'scopes')
  if (scopes.length === 0) throw badUserInput('an app asks for at least one scope', 'scopes')
  return { name: trimmed, redirectUris: uris, scopes: SCOPES.filter((scope) => scopes.includes(scope)) }
}

/**
 * Registers an app and returns its client id and secret (in clear, once). A developer (`ownerId`) holds
 * at most {@link MAX_APPS_PER_DEVELOPER}. Confidential clients of the authorization-code grant with refresh
 * tokens, `client_secret_basic` at the token endpoint, PKCE required (provider.ts).
 *
 * @throws ClientError BAD_USER_INPUT (`name`, `redirectUris`, `scopes`), QUOTA_EXCEEDED past the limit.
 */
export async function registerOAuthClient(prisma: PrismaClient, registration: ClientRegistration): Promise<RegisteredClient> {
  const { name, redirectUris, scopes } = checkRegistration(registration)
  const ownerId = registration.ownerId ?? null
  if (ownerId !== null) {
    const count = await prisma.oAuthPayload.count({ where: { kind: 'Client', accountId: ownerId } })
    if (count >= MAX_APPS_PER_DEVELOPER) {
      throw new ClientError('QUOTA_EXCEEDED', `at most ${MAX_APPS_PER_DEVELOPER} apps per developer`, { limit: MAX_APPS_PER_DEVELOPER, resource: 'oauthApps' })
    }
  }
  const clientId = `app_${randomBytes(16).toString('base64url')}`
  const clientSecret = `prm_oas_${randomBytes(32).toString('base64url')}`
  const metadata = {
    client_id: clientId,
    client_secret: hashClientSecret(clientSecret),
    client_name: name,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: scopes.join(' '),
  }
  await prisma.oAuthPayload.create({ data: { kind: 'Client', id: clientId, payload: metadata, accountId: ownerId } })
  return { clientId, clientSecret, name, redirectUris, scopes }
}

/** Marks the user with `email` as a developer (or not); false when no such user exists. */
export async function setDeveloper(prisma: PrismaClient, email: string, isDeveloper: boolean): Promise<boolean> {
  const { count } = await prisma.user.updateMany({ where: { email: email.trim().toLowerCase() }, data: { isDeveloper } })
  return count > 0
}
