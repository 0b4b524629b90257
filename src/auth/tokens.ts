/**
 * Bearer tokens: random, shown once, stored as SHA-256 only. A leaked database
 * does not leak usable tokens; lookup is one indexed query on the hash.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { AuthToken, Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { DEFAULT_MAX_TOKENS_PER_USER } from '../config.ts'
import { ClientError } from '../errors.ts'
import { API_KEY_PREFIX } from './api-key-format.ts'

const TOKEN_PREFIX = 'prm_'

/** A new session token: `prm_` and 256 random bits in base64url, never starting like an API key (`prm_key_`). */
function newSessionToken(): string {
  for (;;) {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
    if (!token.startsWith(API_KEY_PREFIX)) return token
  }
}

/** SHA-256 of a token, in hex: all the database keeps of it. */
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
  const token = newSessionToken()
  await insertTokenWithinQuota(prisma, { userId, tokenHash: hashToken(token), name }, { maxActive, now })
  return token
}

/**
 * Inserts an `AuthToken` row (a session token's or an API key's: sessions and keys share the quota)
 * unless the user already holds `maxActive` active tokens, in one transaction holding the user's row.
 *
 * @throws ClientError RATE_LIMITED (with `limit`) past the quota.
 */
export async function insertTokenWithinQuota(
  prisma: PrismaClient,
  data: Prisma.AuthTokenUncheckedCreateInput,
  { maxActive, now }: { maxActive: number; now: Date },
): Promise<AuthToken> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${data.userId}::uuid FOR UPDATE`
    const active = await tx.authToken.count({ where: { userId: data.userId, ...activeTokenWhere(now) } })
    if (active >= maxActive) {
      throw new ClientError('RATE_LIMITED', `at most ${maxActive} active tokens and API keys per user: revoke one first`, { limit: maxActive })
    }
    return tx.authToken.create({ data })
  })
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
