/**
 * CardDAV / CalDAV accounts (issue 15): connect one (the URL checked by the outbound guard, the
 * collections discovered with the given credentials, which are stored sealed), choose which of its
 * collections sync, list them, disconnect. Every lookup by id carries the viewer in its `where`:
 * another user's account is NOT_FOUND, exactly like an unknown id. Credentials never leave this
 * module in clear except into a {@link DavServices} session, are never logged and never returned.
 */
import type { DavCredentials } from './credential-box.ts'
import { z } from 'zod'
import type { AnnounceChange } from '../changes/announce.ts'
import type { CountedDavSession } from '../dav/session.ts'
import type { DavCollectionInfo, DavSession } from '../dav/types.ts'
import { DavHttpError } from '../dav/types.ts'
import type { Account, AccountCollection, Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { AccountKind } from '../generated/prisma/enums.ts'
import { badUserInput, ClientError, notFound } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { giveQuota } from '../quotas.ts'
import { parseInput, storableString } from '../validation.ts'
import { isUuid } from '../db/uuid.ts'

/**
 * The DAV wire as accounts and the sync job use it, bound to the server's settings (the outbound
 * guard's `DAV_ALLOW_PRIVATE_URLS`, the request timeout, the OAuth client, `SECRET_KEY`): built in
 * accounts/dav-services.ts from dav/session.ts, dav/client.ts, net/outbound-fetch.ts and
 * accounts/credential-box.ts; tests may bind their own.
 */
export interface DavServices {
  /** The URL if the guard lets the server fetch it; rejects (UnsafeUrlError, DNS failure) otherwise. */
  checkUrl(url: string): Promise<URL>
  /**
   * A session signed in with `credentials` through the guarded fetch; `onCredentialsChanged` is told
   * of refreshed bearer tokens (to store them sealed). `requests` counts the HTTP requests it sent.
   */
  session(credentials: DavCredentials, onCredentialsChanged?: (credentials: DavCredentials) => Promise<void> | void): CountedDavSession
  /** The address books (CARDDAV) or calendars (CALDAV) found from `url` (RFC 6764 well-known, principal, home set). */
  discover(session: DavSession, url: string, kind: AccountKind): Promise<DavCollectionInfo[]>
  /** AES-256-GCM sealed JSON of `credentials` (never the same twice). */
  seal(credentials: DavCredentials): string
  /** The credentials of a sealed box; throws a CredentialBoxError when it does not open (another key, tampered). */
  open(sealed: string): DavCredentials
  /** True for the credential box's own error (a box that does not open with this SECRET_KEY). */
  isCredentialBoxError(error: unknown): boolean
}

/** What the account functions need. */
export interface AccountDeps {
  prisma: PrismaClient
  dav: DavServices
  announce: AnnounceChange
  logger: Logger
  /** Accounts one user may connect (MAX_ACCOUNTS_PER_USER). */
  maxAccountsPerUser: number
}

/** An account with its collections, as the API shows it (never its credentials). */
export type AccountView = Omit<Account, 'credentials'> & { collections: AccountCollection[] }

/** Every column but `credentials`: what leaves the database for the API. */
export const ACCOUNT_VIEW_SELECT = {
  id: true,
  userId: true,
  kind: true,
  url: true,
  auth: true,
  status: true,
  lastSyncedAt: true,
  lastAttemptAt: true,
  lastError: true,
  syncLeaseUntil: true,
  syncLeaseOwner: true,
  retryAfter: true,
  contactsCount: true,
  eventsCount: true,
  writeCalendarUrl: true,
  createdAt: true,
  updatedAt: true,
  collections: { orderBy: [{ kind: 'asc' }, { url: 'asc' }] },
} as const satisfies Prisma.AccountSelect

const MAX_URL = 2048
/** Collections one account may have (discovery finding more is refused). */
export const MAX_COLLECTIONS = 200
const MAX_SECRET = 1024
const MAX_TOKEN = 8192

/** An http(s) URL without user info (credentials go in their own fields, never in a URL that is stored and shown). */
const davUrl = storableString()
  .trim()
  .min(1)
  .max(MAX_URL)
  .refine((value) => {
    try {
      const url = new URL(value)
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.hostname !== ''
    } catch {
      return false
    }
  }, 'must be an http:// or https:// URL without a user name or password in it')

const connectSchema = z
  .object({
    kind: z.enum(AccountKind),
    url: davUrl,
    username: storableString().min(1).max(MAX_SECRET).nullish(),
    password: storableString().min(1).max(MAX_SECRET).nullish(),
    accessToken: storableString().min(1).max(MAX_TOKEN).nullish(),
    refreshToken: storableString().min(1).max(MAX_TOKEN).nullish(),
  })
  .superRefine((input, context) => {
    const bearer = input.accessToken != null
    if (bearer && (input.username != null || input.password != null)) {
      context.addIssue({ code: 'custom', path: ['accessToken'], message: 'give either a user name and password, or an access token, not both' })
    } else if (!bearer && input.refreshToken != null) {
      context.addIssue({ code: 'custom', path: ['accessToken'], message: 'a refresh token needs its access token' })
    } else if (!bearer && input.username == null) {
      context.addIssue({ code: 'custom', path: ['username'], message: 'required with a password (or give an access token)' })
    } else if (!bearer && input.password == null) {
      context.addIssue({ code: 'custom', path: ['password'], message: 'required with a user name (or give an access token)' })
    }
  })

/**
 * What a client sends to connect an account: `kind` (CARDDAV | CALDAV), `url` (http(s), at most 2,048
 * characters, no user info), and either `username` + `password` (Basic, an app password; at most
 * 1,024 each) or `accessToken` (+ optional `refreshToken`; OAuth 2.0 bearer, at most 8,192 each).
 */
export type ConnectAccountInput = z.input<typeof connectSchema>

/** The viewer's account `id` with its collections, or null (unknown, malformed, or another user's). */
export async function findAccount(prisma: PrismaClient, userId: string, id: string): Promise<AccountView | null> {
  if (!isUuid(id)) return null
  return prisma.account.findFirst({ where: { id, userId }, select: ACCOUNT_VIEW_SELECT })
}

/** The viewer's accounts, oldest first, with their collections. */
export async function listAccounts(prisma: PrismaClient, userId: string): Promise<AccountView[]> {
  return prisma.account.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: ACCOUNT_VIEW_SELECT })
}

/** The account's kind of collection: address books for CardDAV, calendars for CalDAV. */
const COLLECTION_WORDS: Record<AccountKind, string> = { CARDDAV: 'address book', CALDAV: 'calendar' }

/**
 * Connects an account: checks the input (BAD_USER_INPUT naming `input.<field>`) and the quota
 * (QUOTA_EXCEEDED, `resource: 'accounts'`), lets the outbound guard check the URL (refused:
 * BAD_USER_INPUT `input.url`), discovers the collections with the credentials (RFC 6764, RFC 6352
 * §7, RFC 4791 §6; refused with 401 / 403: BAD_USER_INPUT `input.password`; unreachable, or
 * nothing found: BAD_USER_INPUT `input.url`), then stores the account with its credentials sealed
 * and its collections (one found: enabled; several: the user picks with `setCollections`). The same
 * account connected again (kind, URL, user name) is a reconnect: same id, new credentials, status OK,
 * new collections added, nothing synced lost (what a NEEDS_REAUTH account needs).
 */
export async function connectAccount(deps: AccountDeps, userId: string, rawInput: unknown): Promise<AccountView> {
  const input = parseInput(connectSchema, rawInput, 'input')
  await assertAccountRoom(deps.prisma, userId, deps.maxAccountsPerUser)
  const credentials: DavCredentials =
    input.accessToken != null
      ? { kind: 'BEARER', accessToken: input.accessToken, refreshToken: input.refreshToken ?? null, expiresAt: null }
      : { kind: 'BASIC', username: input.username!, password: input.password! }
  try {
    await deps.dav.checkUrl(input.url)
  } catch (error) {
    throw badUserInput(`input.url: ${refusalOf(error)}`, 'input.url')
  }
  // A token refreshed during discovery is the one to store.
  let current = credentials
  const session = deps.dav.session(credentials, (refreshed) => void (current = refreshed))
  let found: DavCollectionInfo[]
  try {
    found = await deps.dav.discover(session, input.url, input.kind)
  } catch (error) {
    if (error instanceof DavHttpError && (error.status === 401 || error.status === 403)) {
      const field = input.accessToken != null ? 'input.accessToken' : 'input.password'
      throw badUserInput(`${field}: the server refused these credentials`, field)
    }
    if (error instanceof ClientError) throw error
    deps.logger.info({ err: error, userId }, 'account discovery failed')
    throw badUserInput(`input.url: ${discoveryFailure(error)}`, 'input.url')
  }
  const collections = dedupeByUrl(found.filter((collection) => collection.kind === (input.kind === 'CARDDAV' ? 'ADDRESS_BOOK' : 'CALENDAR')))
  // A person has a few address books or calendars; a server listing thousands is refused, not stored.
  if (collections.length > MAX_COLLECTIONS) {
    throw badUserInput(`input.url: the server lists ${collections.length} ${COLLECTION_WORDS[input.kind]}s, more than the ${MAX_COLLECTIONS} an account may have`, 'input.url')
  }
  if (collections.length === 0) throw badUserInput(`input.url: no ${COLLECTION_WORDS[input.kind]} was found for this account there`, 'input.url')
  const enableAll = collections.length === 1
  const created = await deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
    // The same account again (kind, URL and user name): a reconnect. Its credentials are replaced, its
    // collections and everything synced are kept, and collections new on the server are added (not enabled).
    const same = await sameAccount(tx, deps.dav, userId, input.kind, input.url, current)
    if (same) {
      await tx.account.update({
        where: { id: same },
        data: { auth: current.kind, credentials: deps.dav.seal(current), status: 'OK', lastError: null, retryAfter: null },
      })
      await tx.accountCollection.createMany({
        data: collections.map((collection) => ({ accountId: same, url: collection.url, displayName: collection.displayName?.slice(0, 500) ?? null, kind: collection.kind, enabled: false })),
        skipDuplicates: true,
      })
      return tx.account.findUniqueOrThrow({ where: { id: same }, select: ACCOUNT_VIEW_SELECT })
    }
    await assertAccountRoom(tx, userId, deps.maxAccountsPerUser)
    return tx.account.create({
      data: {
        userId,
        kind: input.kind,
        url: input.url,
        auth: current.kind,
        credentials: deps.dav.seal(current),
        collections: {
          create: collections.map((collection) => ({
            url: collection.url,
            displayName: collection.displayName?.slice(0, 500) ?? null,
            kind: collection.kind,
            enabled: enableAll,
          })),
        },
      },
      select: ACCOUNT_VIEW_SELECT,
    })
  })
  deps.logger.info({ userId, accountId: created.id, kind: created.kind, collections: collections.length }, 'account connected')
  return created
}

/**
 * The viewer's account already connected with `kind`, `url` and the same user name (BASIC) or any bearer
 * token (BEARER), or null. The user name is inside the sealed credentials: each candidate is opened (a
 * user has at most MAX_ACCOUNTS_PER_USER); one that no longer opens (another SECRET_KEY) counts as the same.
 */
async function sameAccount(tx: Prisma.TransactionClient, dav: DavServices, userId: string, kind: AccountKind, url: string, credentials: DavCredentials): Promise<string | null> {
  const candidates = await tx.account.findMany({ where: { userId, kind, url }, select: { id: true, credentials: true }, orderBy: { createdAt: 'asc' } })
  for (const candidate of candidates) {
    let stored: DavCredentials
    try {
      stored = dav.open(candidate.credentials)
    } catch {
      return candidate.id
    }
    if (stored.kind !== credentials.kind) continue
    if (stored.kind === 'BEARER' || (credentials.kind === 'BASIC' && stored.username === credentials.username)) return candidate.id
  }
  return null
}

/** QUOTA_EXCEEDED when the user already has `limit` accounts. */
async function assertAccountRoom(db: PrismaClient | Prisma.TransactionClient, userId: string, limit: number): Promise<void> {
  const count = await db.account.count({ where: { userId } })
  if (count >= limit) throw new ClientError('QUOTA_EXCEEDED', `Quota reached: at most ${limit} accounts per user`, { limit, resource: 'accounts' })
}

/** Discovery may list a collection twice (under two home sets): keep the first. */
function dedupeByUrl(collections: DavCollectionInfo[]): DavCollectionInfo[] {
  const seen = new Set<string>()
  return collections.filter((collection) => !seen.has(collection.url) && seen.add(collection.url))
}

/** Why the guard refused a URL, for the user (the guard's own message names the reason, never a credential). */
function refusalOf(error: unknown): string {
  if (error instanceof Error && error.name === 'UnsafeUrlError') return error.message
  return 'this server cannot be reached'
}

/** Why discovery failed, for the user: the status, a timeout, or a refused redirect. */
function discoveryFailure(error: unknown): string {
  if (error instanceof DavHttpError) {
    if (error.status === 0) return 'the server did not answer in time or cannot be reached'
    // 502: our own verdict on the answer (not XML, malformed): say that, not a status the server never sent.
    if (error.status === 502) return 'the server did not answer as a CardDAV or CalDAV server does (no WebDAV multistatus)'
    return `the server answered ${error.status}`
  }
  if (error instanceof Error && error.name === 'UnsafeUrlError') return error.message
  return 'no CardDAV or CalDAV service was found there'
}

/**
 * Chooses which of the viewer's account's collections sync: exactly those of `collectionUrls`
 * (each must be one of the account's, else BAD_USER_INPUT `collectionUrls`); the others stop syncing
 * (what they synced stays). Another user's or an unknown account: NOT_FOUND.
 */
export async function setAccountCollections(deps: Pick<AccountDeps, 'prisma'>, userId: string, id: string, collectionUrls: readonly string[]): Promise<AccountView> {
  const account = await findAccount(deps.prisma, userId, id)
  if (!account) throw notFound('account')
  const known = new Set(account.collections.map((collection) => collection.url))
  const wanted = new Set(collectionUrls)
  const stranger = collectionUrls.find((url) => !known.has(url))
  if (stranger !== undefined) throw badUserInput('collectionUrls: each must be the url of one of this account\'s collections', 'collectionUrls')
  await deps.prisma.$transaction([
    deps.prisma.accountCollection.updateMany({ where: { accountId: account.id, url: { in: [...wanted] } }, data: { enabled: true } }),
    deps.prisma.accountCollection.updateMany({ where: { accountId: account.id, url: { notIn: [...wanted] } }, data: { enabled: false } }),
  ])
  const updated = await findAccount(deps.prisma, userId, id)
  if (!updated) throw notFound('account')
  return updated
}

/**
 * Chooses the calendar of the viewer's CalDAV account that accepted suggestions are written to
 * (null: none; what was written stays). `calendarUrl` must be one of the account's calendars, else
 * BAD_USER_INPUT naming `calendarUrl`; another user's or an unknown account: NOT_FOUND.
 */
export async function setAccountWriteCalendar(deps: Pick<AccountDeps, 'prisma'>, userId: string, id: string, calendarUrl: string | null): Promise<AccountView> {
  const account = await findAccount(deps.prisma, userId, id)
  if (!account) throw notFound('account')
  if (calendarUrl !== null && !account.collections.some((collection) => collection.kind === 'CALENDAR' && collection.url === calendarUrl)) {
    throw badUserInput("calendarUrl: must be the url of one of this account's calendars", 'calendarUrl')
  }
  await deps.prisma.account.update({ where: { id: account.id }, data: { writeCalendarUrl: calendarUrl } })
  return { ...account, writeCalendarUrl: calendarUrl }
}

/**
 * Disconnects the viewer's account: its row goes, and its sealed credentials with it. Its synced
 * contacts stay as local contacts (no longer linked to the server: their href and ETag are cleared);
 * its synced events go (the calendar-event quota gets them back), and its recurring series. Another
 * user's or an unknown account: NOT_FOUND.
 */
export async function disconnectAccount(deps: Pick<AccountDeps, 'prisma' | 'announce' | 'logger'>, userId: string, id: string): Promise<true> {
  if (!isUuid(id)) throw notFound('account')
  const { contacts, events } = await deps.prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Account" WHERE id = ${id}::uuid AND "userId" = ${userId}::uuid FOR UPDATE`
    if (!row) throw notFound('account')
    const unlinked = await tx.contact.updateMany({
      where: { accountId: id, userId },
      data: { accountId: null, remoteHref: null, remoteEtag: null, remoteCard: null, remoteDirty: [] },
    })
    const deleted = await tx.calendarEvent.deleteMany({ where: { accountId: id, userId } })
    await giveQuota(tx, userId, 'calendarEvents', deleted.count)
    await tx.calendarSeries.deleteMany({ where: { accountId: id, userId } })
    await tx.account.delete({ where: { id } })
    return { contacts: unlinked.count, events: deleted.count }
  })
  if (contacts > 0) deps.announce(userId, 'contact')
  if (events > 0) deps.announce(userId, 'calendar')
  deps.logger.info({ userId, accountId: id, contacts, events }, 'account disconnected')
  return true
}
