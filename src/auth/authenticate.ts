/**
 * One authentication for every transport: HTTP and SSE (the `Authorization`
 * header) and graphql-ws (`connectionParams.authorization`) all go through
 * {@link authenticate}, and long-lived streams keep the {@link Credential} it
 * returns so they can be ended when that token dies (see `token-watch.ts`).
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import { bearerToken, hashToken, looksLikeToken } from './tokens.ts'
import { HOUR_MS } from '../time.ts'

/** Who a request is, and on which token: what a stream needs to be re-checked later. */
export interface Credential {
  userId: string
  /** The `AuthToken` row's id (never the token itself). */
  tokenId: string
  /** When the token stops working; null: never (until revoked). */
  expiresAt: Date | null
}

/** `lastUsedAt` is written at most this often per token (ms): one write an hour, not one per request. */
export const LAST_USED_PRECISION_MS = HOUR_MS

/**
 * The credential of an `Authorization` value (`Bearer <token>`; anything but a
 * string counts as absent), or null when it is missing, malformed, unknown,
 * revoked or expired at `now`. One indexed query on the token's hash, plus one
 * update when `lastUsedAt` is older than {@link LAST_USED_PRECISION_MS}.
 * A bearer token that is not ours (`prm_`) goes to `verifyOAuthToken` when given (OAuth access
 * tokens of connected apps, src/oauth/: kind `oauth`, `tokenId` the grant's id).
 */
export async function authenticate(
  prisma: PrismaClient,
  authorization: unknown,
  now: Date,
  { verifyOAuthToken }: { verifyOAuthToken?: (token: string) => Promise<Credential | null> } = {},
): Promise<Credential | null> {
  const token = bearerToken(typeof authorization === 'string' ? authorization : undefined)
  if (token === undefined) return null
  if (!looksLikeToken(token)) return verifyOAuthToken && !token.startsWith('prm_') ? verifyOAuthToken(token) : null
  const row = await prisma.authToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, userId: true, revokedAt: true, expiresAt: true, lastUsedAt: true },
  })
  if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) return null
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS) {
    // updateMany: a token deleted meanwhile is no error here.
    await prisma.authToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: now } })
  }
  return { userId: row.userId, tokenId: row.id, expiresAt: row.expiresAt }
}
