/**
 * Personal API keys (issue 16): a user's own scripts act for them with a key that has scopes and
 * an expiry. A key lives in the `AuthToken` table (kind API_KEY), so authentication, listing,
 * revocation and the stream re-check work as for session tokens; only its SHA-256 and its first
 * characters are stored, and the key itself is returned once, by {@link createApiKey}.
 */
import type { AuthToken, PrismaClient } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput, notFound } from '../errors.ts'
import { DAY_MS } from '../time.ts'
import { intBetween, parseInput, text } from '../validation.ts'
import { displayPrefixOf, generateApiKey } from './api-key-format.ts'
import { parseScopes, type Scope } from './scopes.ts'
import type { TokenWatch } from './token-watch.ts'
import { hashToken, insertTokenWithinQuota } from './tokens.ts'

/** Days a key lives when its creator does not say (90: a quarter, then it is renewed on purpose). */
export const DEFAULT_API_KEY_DAYS = 90

/** The longest a key may live, in days: every key expires. */
export const MAX_API_KEY_DAYS = 365

/** The longest name of a key. */
export const MAX_API_KEY_NAME = 100

/** The most keys {@link listApiKeys} returns (active ones are bounded by the token quota; revoked ones pile up). */
export const API_KEY_LIST_LIMIT = 500

/** What a key is made with. */
export interface ApiKeyInput {
  name: string
  /** Scope names (unknown ones are refused); at least one. */
  scopes: readonly string[]
  /** 1..{@link MAX_API_KEY_DAYS}; null or undefined: {@link DEFAULT_API_KEY_DAYS}. */
  expiresInDays?: number | null | undefined
}

/** A key just made: its row, and the key itself, to show once. */
export interface CreatedApiKey {
  apiKey: AuthToken
  /** The key in clear. Never stored, never logged: hand it to the user and drop it. */
  key: string
}

/** Pure: the checked name, scopes and expiry of `input` at `now`. Throws BAD_USER_INPUT naming the field at fault. */
export function parseApiKeyInput(input: ApiKeyInput, now: Date): { name: string; scopes: Scope[]; expiresAt: Date } {
  const name = parseInput(text(MAX_API_KEY_NAME), input.name, 'input.name')
  const scopes = parseScopes(input.scopes, 'input.scopes')
  if (scopes.length === 0) throw badUserInput('input.scopes: choose at least one scope', 'input.scopes')
  const days = parseInput(intBetween(1, MAX_API_KEY_DAYS), input.expiresInDays ?? DEFAULT_API_KEY_DAYS, 'input.expiresInDays')
  return { name, scopes, expiresAt: new Date(now.getTime() + days * DAY_MS) }
}

/**
 * Makes a key for the user: checks the input, stores its SHA-256, display prefix, scopes and expiry
 * within the user's token quota (sessions and keys together), and returns the key in clear with its row.
 *
 * @throws ClientError BAD_USER_INPUT (name, scopes, expiresInDays), RATE_LIMITED past the quota.
 */
export async function createApiKey(
  prisma: PrismaClient,
  userId: string,
  input: ApiKeyInput,
  { maxActive, now }: { maxActive: number; now: Date },
): Promise<CreatedApiKey> {
  const { name, scopes, expiresAt } = parseApiKeyInput(input, now)
  const key = generateApiKey()
  const apiKey = await insertTokenWithinQuota(
    prisma,
    { userId, kind: 'API_KEY', tokenHash: hashToken(key), displayPrefix: displayPrefixOf(key), name, scopes, expiresAt, createdAt: now },
    { maxActive, now },
  )
  return { apiKey, key }
}

/** The user's API keys, newest first, at most {@link API_KEY_LIST_LIMIT}; revoked and expired ones included. */
export function listApiKeys(prisma: PrismaClient, userId: string): Promise<AuthToken[]> {
  return prisma.authToken.findMany({ where: { userId, kind: 'API_KEY' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: API_KEY_LIST_LIMIT })
}

/** The user's API key `id`, or null (another user's, a session token's, unknown or malformed id). */
export function findApiKey(prisma: PrismaClient, userId: string, id: string): Promise<AuthToken | null> {
  if (!isUuid(id)) return Promise.resolve(null)
  return prisma.authToken.findFirst({ where: { id, userId, kind: 'API_KEY' } })
}

/**
 * Revokes the user's API key `id` at `now` and returns it; a revoked key is returned as it is.
 * Its requests are refused from now on (every request reads the database), and its streams end on
 * every process (`tokenWatch.revoked` publishes the revocation).
 *
 * @throws ClientError NOT_FOUND for an unknown or malformed id, another user's key, or a session token's id.
 */
export async function revokeApiKey(
  { prisma, tokenWatch }: { prisma: PrismaClient; tokenWatch: Pick<TokenWatch, 'revoked'> },
  userId: string,
  id: string,
  now: Date,
): Promise<AuthToken> {
  if (!isUuid(id)) throw notFound('API key')
  await prisma.authToken.updateMany({ where: { id, userId, kind: 'API_KEY', revokedAt: null }, data: { revokedAt: now } })
  const key = await findApiKey(prisma, userId, id)
  if (!key) throw notFound('API key')
  tokenWatch.revoked(key.id)
  return key
}
