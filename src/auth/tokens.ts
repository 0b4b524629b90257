/**
 * Bearer tokens: random, shown once, stored as SHA-256 only. A leaked database
 * does not leak usable tokens; lookup is one indexed query on the hash.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.ts'

const TOKEN_PREFIX = 'prm_'

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Creates a token for the user and returns it in clear; only its hash is stored. */
export async function issueToken(prisma: PrismaClient, userId: string, name: string | null = null): Promise<string> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
  await prisma.authToken.create({ data: { userId, tokenHash: hashToken(token), name } })
  return token
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}

/** The user a token belongs to, or null when it is unknown, revoked or expired. */
export async function userIdForToken(prisma: PrismaClient, token: string, now: Date): Promise<string | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null
  const row = await prisma.authToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { userId: true, revokedAt: true, expiresAt: true },
  })
  if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) return null
  return row.userId
}
