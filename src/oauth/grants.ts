/**
 * Connected apps as the rest of the server sees them: an OAuth grant (oidc-provider's `Grant`, one per
 * user and app) is the connection; its access tokens authenticate requests ({@link verifyOAuthAccessToken}),
 * and deleting the grant with everything issued under it ({@link revokeGrant}) ends the connection on every
 * process: the next request is refused, and open streams end at their re-check ({@link readGrantStates}).
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Credential } from '../auth/authenticate.ts'
import type { TokenState, TokenStateReader, TokenWatch } from '../auth/token-watch.ts'
import { SCOPES, type Scope } from '../auth/scopes.ts'
import { notFound } from '../errors.ts'
import { hashOAuthId, lookupable, MAX_ID_LENGTH } from './prisma-adapter.ts'

/** oidc-provider's opaque access tokens: 256 random bits in base64url (its default `bitsOfOpaqueRandomness`). */
const ACCESS_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** What a Grant row's payload holds (oidc-provider's Grant model). */
interface GrantPayload {
  accountId?: string
  clientId?: string
  /** Scopes per resource indicator, space-separated. */
  resources?: Record<string, string>
}

/** What an AccessToken row's payload holds (the fields read here). */
interface AccessTokenPayload {
  accountId?: string
  grantId?: string
  clientId?: string
  scope?: string
  aud?: string | string[]
  jkt?: string
  'x5t#S256'?: string
}

/** The partner scopes of a space-separated scope string, in the order of SCOPES; anything else (openid...) is left out. */
export function partnerScopes(scope: string | undefined): Scope[] {
  const given = new Set((scope ?? '').split(' '))
  return SCOPES.filter((known) => given.has(known))
}

/**
 * The credential of an OAuth access token, or null when it is not one: malformed (no query), unknown,
 * expired, for another resource than `resource` (the GraphQL API), sender-constrained (DPoP and mTLS are
 * off, so such a token cannot be ours to accept), or its grant is gone or expired.
 * Kind `oauth`, `clientId` the app's; `tokenId` is the grant's id (revoking the grant ends every token and stream of it);
 * `scopes` are the token's; `expiresAt` is the grant's (an open stream lives while its grant does, and is
 * re-checked like any other; a new request needs an unexpired access token). Two indexed reads.
 */
export async function verifyOAuthAccessToken(prisma: PrismaClient, token: string, { resource, now }: { resource: string; now: Date }): Promise<Credential | null> {
  if (!ACCESS_TOKEN_SHAPE.test(token)) return null
  const row = await prisma.oAuthPayload.findUnique({
    where: { kind_id: { kind: 'AccessToken', id: hashOAuthId(token) } },
    select: { payload: true, expiresAt: true },
  })
  if (!row || row.expiresAt === null || row.expiresAt <= now) return null
  const payload = row.payload as AccessTokenPayload
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  if (!audiences.includes(resource) || payload.jkt !== undefined || payload['x5t#S256'] !== undefined) return null
  if (typeof payload.accountId !== 'string' || typeof payload.grantId !== 'string' || payload.grantId.length > MAX_ID_LENGTH) return null
  const grant = await prisma.oAuthPayload.findUnique({ where: { kind_id: { kind: 'Grant', id: payload.grantId } }, select: { accountId: true, expiresAt: true } })
  if (!grant || grant.accountId !== payload.accountId || (grant.expiresAt !== null && grant.expiresAt <= now)) return null
  return {
    userId: payload.accountId,
    tokenId: payload.grantId,
    kind: 'oauth',
    scopes: new Set(partnerScopes(payload.scope)),
    expiresAt: grant.expiresAt,
    ...(typeof payload.clientId === 'string' ? { clientId: payload.clientId } : {}),
  }
}

/** TokenWatch's reader of `oauth` credentials: the grants that still exist (revoked ones are deleted). */
export function readGrantStates(prisma: PrismaClient): TokenStateReader {
  return async (ids): Promise<TokenState[]> => {
    const rows = await prisma.oAuthPayload.findMany({ where: { kind: 'Grant', id: { in: ids } }, select: { id: true, expiresAt: true } })
    return rows.map((row) => ({ id: row.id, revokedAt: null, expiresAt: row.expiresAt }))
  }
}

/** A user's connection to an app: what `connectedApps` lists. */
export interface ConnectedApp {
  /** The grant's id. */
  id: string
  clientId: string
  /** The app's name as its developer registered it. */
  name: string
  scopes: Scope[]
  connectedAt: Date
  /** When the connection ends unless renewed (the grant's expiry); null: never. */
  expiresAt: Date | null
}

/** The user's connected apps (unexpired grants), newest first. Two queries (grants, then their clients). */
export async function listConnectedApps(prisma: PrismaClient, userId: string, now: Date): Promise<ConnectedApp[]> {
  const grants = await prisma.oAuthPayload.findMany({
    where: { kind: 'Grant', accountId: userId, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    select: { id: true, payload: true, createdAt: true, expiresAt: true },
  })
  const clientIds = [...new Set(grants.map((grant) => (grant.payload as GrantPayload).clientId).filter((id): id is string => typeof id === 'string'))]
  const clients = await prisma.oAuthPayload.findMany({ where: { kind: 'Client', id: { in: clientIds } }, select: { id: true, payload: true } })
  const names = new Map(clients.map((client) => [client.id, (client.payload as { client_name?: string }).client_name ?? client.id]))
  return grants.flatMap((grant) => {
    const payload = grant.payload as GrantPayload
    // A grant whose app was deleted is no connection any more.
    const name = payload.clientId === undefined ? undefined : names.get(payload.clientId)
    if (name === undefined || payload.clientId === undefined) return []
    const scopes = partnerScopes(Object.values(payload.resources ?? {}).join(' '))
    return [{ id: grant.id, clientId: payload.clientId, name, scopes, connectedAt: grant.createdAt, expiresAt: grant.expiresAt }]
  })
}

/** Deletes the grant `grantId` and everything issued under it (codes, access and refresh tokens). Idempotent. */
export async function revokeGrant(prisma: PrismaClient, grantId: string): Promise<void> {
  // Every row of the grant carries its id in `grantId`, the Grant row included (prisma-adapter.ts).
  await prisma.oAuthPayload.deleteMany({ where: { grantId } })
}

/**
 * Disconnects the user's app `grantId`: the grant and its tokens are deleted, the streams they opened on
 * this process end at once (other processes: at their re-check).
 *
 * @throws ClientError NOT_FOUND for an unknown id, a malformed one, and another user's.
 */
export async function revokeConnectedApp(
  { prisma, tokenWatch }: { prisma: PrismaClient; tokenWatch: Pick<TokenWatch, 'revoked'> },
  userId: string,
  grantId: string,
): Promise<void> {
  if (!lookupable(grantId)) throw notFound('connected app')
  const grant = await prisma.oAuthPayload.findFirst({ where: { kind: 'Grant', id: grantId, accountId: userId }, select: { id: true } })
  if (!grant) throw notFound('connected app')
  await revokeGrant(prisma, grantId)
  tokenWatch.revoked(grantId)
}

/** The ids of the user's grants to the app `clientId` (connecting it again replaces them). */
export async function grantIdsOf(prisma: PrismaClient, userId: string, clientId: string): Promise<string[]> {
  if (!lookupable(clientId)) return []
  const rows = await prisma.oAuthPayload.findMany({ where: { kind: 'Grant', accountId: userId, payload: { path: ['clientId'], equals: clientId } }, select: { id: true } })
  return rows.map((row) => row.id)
}
