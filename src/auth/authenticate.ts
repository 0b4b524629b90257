/**
 * One authentication for every transport: HTTP and SSE (the `Authorization`
 * header) and graphql-ws (`connectionParams.authorization`) all go through
 * {@link authenticate}, and long-lived streams keep the {@link Credential} it
 * returns so they can be ended when that token dies (see `token-watch.ts`).
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import { bearerToken, hashToken, looksLikeToken } from './tokens.ts'
import { claimsToBeApiKey, isWellFormedApiKey } from './api-key-format.ts'
import { storedScopes, type Scope } from './scopes.ts'
import { HOUR_MS } from '../time.ts'

export { SCOPES, type Scope } from './scopes.ts'

/** What kind of credential a request runs on: the user's own session token, a personal API key, an OAuth access token. */
export type CredentialKind = 'session' | 'apiKey' | 'oauth'

/** Who a request is, on which token, and what it may do: what a stream needs to be re-checked later. */
export interface Credential {
  userId: string
  /**
   * The id of the row behind it: the `AuthToken` id (session, apiKey) or the OAuth grant/token id
   * (oauth); never the token itself. Budgets key on `${kind}:${tokenId}`.
   */
  tokenId: string
  kind: CredentialKind
  /** null: the user's own session token, full access to their data. Otherwise the granted scopes. */
  scopes: ReadonlySet<Scope> | null
  /** When the token stops working; null: never (until revoked). */
  expiresAt: Date | null
  /** The OAuth app (client_id) an `oauth` credential acts for: its trusted documents are the ones it may run by id. */
  clientId?: string
}

/** Whether a credential is the user's own session (full access), not an API key or an OAuth token. */
export function isSessionCredential(credential: Credential): boolean {
  return credential.kind === 'session' && credential.scopes === null
}

/** How `authenticate` checks what is not one of our `prm_` tokens (issue 16: OAuth access tokens of connected apps, src/oauth/). */
export interface AuthenticateOptions {
  /** The credential of an OAuth access token, or null when it is unknown, revoked or expired. Unset: such tokens are refused. */
  verifyOAuthToken?: ((token: string) => Promise<Credential | null>) | undefined
}

/** `lastUsedAt` is written at most this often per token (ms): one write an hour, not one per request. */
export const LAST_USED_PRECISION_MS = HOUR_MS

/**
 * The credential of an `Authorization` value (`Bearer <token>`; anything but a
 * string counts as absent), or null when it is missing, malformed, unknown,
 * revoked or expired at `now`. Every call reads the database (no cache), so a
 * revocation on any process refuses the next request everywhere.
 *
 * - `prm_key_…`: a personal API key (scoped). One that is not well formed (length,
 *   alphabet, checksum) is refused without any query.
 * - `prm_…`: a session token (full access: `scopes` null).
 * - anything else: `options.verifyOAuthToken`, when given.
 *
 * One indexed query on the token's hash, plus one update when `lastUsedAt` is older than
 * {@link LAST_USED_PRECISION_MS}. Throws only what the database (or the verifier) throws.
 */
export async function authenticate(prisma: PrismaClient, authorization: unknown, now: Date, options: AuthenticateOptions = {}): Promise<Credential | null> {
  const token = bearerToken(typeof authorization === 'string' ? authorization : undefined)
  if (token === undefined) return null
  if (!looksLikeToken(token)) {
    // An OAuth access token never starts with `prm_`: a `prm_` token too long to be ours is nobody's.
    return options.verifyOAuthToken && !token.startsWith('prm_') ? options.verifyOAuthToken(token) : null
  }
  const apiKey = claimsToBeApiKey(token)
  if (apiKey && !isWellFormedApiKey(token)) return null
  const row = await prisma.authToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, userId: true, revokedAt: true, expiresAt: true, lastUsedAt: true, kind: true, scopes: true },
  })
  if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) return null
  // A key's hash names a key's row; the kind is checked anyway, so that a row can never be used as what it is not.
  if (row.kind !== (apiKey ? 'API_KEY' : 'SESSION')) return null
  // Every key expires (api-keys.ts sets it); a key row without an expiry is not one we made.
  if (apiKey && row.expiresAt === null) return null
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS) {
    // updateMany: a token deleted meanwhile is no error here.
    await prisma.authToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: now } })
  }
  return apiKey
    ? { userId: row.userId, tokenId: row.id, kind: 'apiKey', scopes: storedScopes(row.scopes), expiresAt: row.expiresAt }
    : { userId: row.userId, tokenId: row.id, kind: 'session', scopes: null, expiresAt: row.expiresAt }
}
