/**
 * Bearer tokens: random, shown once, stored as SHA-256 only. A leaked database
 * does not leak usable tokens; lookup is one indexed query on the hash.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { DEFAULT_MAX_TOKENS_PER_USER } from '../config.ts'
import { ClientError } from '../errors.ts'

const TOKEN_PREFIX = 'prm_'


export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Whether a string can be one of our tokens at all (checked before hashing or querying). */
export function looksLikeToken(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX) && token.length <= 200
}

/**
 * Creates a token for the user and returns it in clear; only its hash is stored.
 * A user holds at most `maxActive` active tokens (neither revoked nor expired;
 * default {@link DEFAULT_MAX_TOKENS_PER_USER}): past it, a `RATE_LIMITED`
 * {@link ClientError} (with `limit`) until one is revoked or expires. The count
 * and the insert run in one transaction holding the user's row, so concurrent
 * issues cannot pass the quota together.
 */
export async function issueToken(
  prisma: PrismaClient,
  userId: string,
  name: string | null = null,
  { maxActive = DEFAULT_MAX_TOKENS_PER_USER, now = new Date() }: { maxActive?: number; now?: Date } = {},
): Promise<string> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
  await prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
    const active = await tx.authToken.count({ where: { userId, ...activeTokenWhere(now) } })
    if (active >= maxActive) {
      throw new ClientError('RATE_LIMITED', `at most ${maxActive} active tokens per user: revoke one first (revokeToken)`, { limit: maxActive })
    }
    await tx.authToken.create({ data: { userId, tokenHash: hashToken(token), name } })
  })
  return token
}

/** The Prisma filter of active tokens: not revoked, not expired at `now`. */
export function activeTokenWhere(now: Date) {
  return { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}
