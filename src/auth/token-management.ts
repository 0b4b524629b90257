/**
 * What a user may do with their own tokens: list them and revoke one. Another
 * user's token id behaves exactly like an unknown id (NOT_FOUND).
 */
import type { AuthToken, PrismaClient } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { notFound } from '../errors.ts'
import type { TokenWatch } from './token-watch.ts'

/** The most tokens `listTokens` returns (active ones are bounded by the quota; revoked ones pile up). */
export const TOKEN_LIST_LIMIT = 500

/** The user's session tokens (not API keys: api-keys.ts), newest first, at most {@link TOKEN_LIST_LIMIT}; revoked and expired ones included. */
export function listTokens(prisma: PrismaClient, userId: string): Promise<AuthToken[]> {
  return prisma.authToken.findMany({ where: { userId, kind: 'SESSION' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: TOKEN_LIST_LIMIT })
}

/**
 * Revokes the user's token `tokenId` at `now` and returns it; revoking a revoked
 * token changes nothing and returns it as it is. The streams the token opened on
 * this process end at once, and on the others as soon as the broadcast of
 * `tokenWatch.revoked` reaches them (at worst at their next re-check), whoever calls this.
 *
 * @throws ClientError NOT_FOUND for an unknown id, a malformed one and another user's.
 */
export async function revokeToken(
  { prisma, tokenWatch }: { prisma: PrismaClient; tokenWatch: Pick<TokenWatch, 'revoked'> },
  userId: string,
  tokenId: string,
  now: Date,
): Promise<AuthToken> {
  if (!isUuid(tokenId)) throw notFound('token')
  await prisma.authToken.updateMany({ where: { id: tokenId, userId, revokedAt: null }, data: { revokedAt: now } })
  const token = await prisma.authToken.findFirst({ where: { id: tokenId, userId } })
  if (!token) throw notFound('token')
  tokenWatch.revoked(token.id)
  return token
}
