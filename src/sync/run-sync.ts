/**
 * One sync of one account (issue 15), as the job runs it: at most one per account at a time across
 * every process, by a lease taken atomically in SQL (one `UPDATE … WHERE lease free … RETURNING`),
 * renewed while it runs and released at the end. Opens the sealed credentials, makes one DAV
 * session (a refreshed bearer token is stored sealed again), syncs each enabled collection with its
 * syncer (contacts-sync.ts, calendar-sync.ts: injected), then stores the account's status, counts
 * and last success. Failures are classified for the job runner (see {@link SyncRunOutcome}).
 */
import { reconcileAcceptedSuggestions } from './suggestion-events.ts'
import type { AnnounceChange } from '../changes/announce.ts'
import type { DavServices } from '../accounts/accounts.ts'
import type { CountedDavSession } from '../dav/session.ts'
import { DavHttpError, type DavSession } from '../dav/types.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import type { SyncProgressNotice } from '../pubsub/changes.ts'
import { MINUTE_MS } from '../time.ts'
import type { CollectionSyncResult, SyncAccount, SyncCollection, SyncDeps } from './types.ts'

/** Passes over the address books after the first, for local edits made while a run went on. */
const EXTRA_WRITE_BACK_PASSES = 2

/**
 * Syncs one collection (contacts-sync.ts `syncAddressBook`, calendar-sync.ts `syncCalendar`, or a test's
 * own) and stores its new sync token (and `lastSyncedAt`) on the AccountCollection itself, once what
 * the token stands for is stored: the run does not write it again.
 */
export type CollectionSyncer = (
  deps: SyncDeps & { horizonMs: number },
  account: SyncAccount,
  collection: SyncCollection,
  session: DavSession,
) => Promise<CollectionSyncResult>

/** The syncer of each kind of collection. */
export interface Syncers {
  ADDRESS_BOOK: CollectionSyncer
  CALENDAR: CollectionSyncer
}

/** What {@link runAccountSync} records in the metrics (metrics/metrics.ts `recordSync`). */
export interface SyncMetrics {
  recordSync(run: { outcome: SyncOutcomeKind; durationMs: number; changed: number }): void
}

export interface RunSyncDeps {
  prisma: PrismaClient
  dav: DavServices
  announce: AnnounceChange
  logger: Logger
  now: () => Date
  /** How far ahead calendars are read and recurring events expanded, in ms (the suggestion horizon). */
  horizonMs: number
  /** How long a taken lease lasts before another process may take it (default 5 minutes); renewed at a third of it. */
  leaseMs?: number
  /** Told as the sync starts, moves and ends (published for `syncProgress`). Must not throw. */
  publish?: (accountId: string, notice: SyncProgressNotice) => void
  metrics?: SyncMetrics
}

export interface RunSyncOptions {
  /** Who takes the lease: unique per process and run (e.g. `<host>:<pid>:<job id>`). */
  owner: string
  syncers: Syncers
  /** Aborted: the sync stops between pages and counts as retryable. */
  signal?: AbortSignal
}

/**
 * How a run ended: `OK`; `NEEDS_REAUTH` (401 / 403, or credentials that no longer open: never
 * retried); `RETRY` (5xx, a timeout or network error, 429 / 503 with `retryAfterMs` from Retry-After
 * or null for the runner's backoff; an abort); `ERROR` (anything else: not retried, the schedule tries again).
 */
export type SyncOutcomeKind = 'OK' | 'NEEDS_REAUTH' | 'RETRY' | 'ERROR'

/** What a run did, for the job runner, logs, metrics and tests. `skipped`: another run holds the lease, or the account is gone. */
export type SyncRunOutcome =
  | { accountId: string; skipped: true; reason: 'leased' | 'gone' }
  | { accountId: string; skipped: false; outcome: 'OK'; collections: number; changed: number; requests: number; durationMs: number }
  | { accountId: string; skipped: false; outcome: Exclude<SyncOutcomeKind, 'OK'>; error: string; retryAfterMs: number | null; durationMs: number }

const DEFAULT_LEASE_MS = 5 * MINUTE_MS
/** lastError is shown to the user: bounded. */
const MAX_ERROR_LENGTH = 1000

/** The lease was taken by another run (this one outlived it): this run stops and leaves the account to it. */
class LeaseLostError extends Error {
  override name = 'LeaseLostError'
}

/**
 * Syncs account `accountId` once (see the module comment). Never throws for a sync failure: the
 * outcome says what happened and whether to retry; rejects only when the database itself fails
 * while taking the lease.
 */
export async function runAccountSync(deps: RunSyncDeps, accountId: string, options: RunSyncOptions): Promise<SyncRunOutcome> {
  const { prisma, dav } = deps
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS
  const started = performance.now()
  const logger = deps.logger.child({ component: 'sync', accountId })
  const publish = (notice: SyncProgressNotice) => {
    try {
      deps.publish?.(accountId, notice)
    } catch (error) {
      logger.warn({ err: error }, 'sync progress not published')
    }
  }

  const startedAt = deps.now()
  const [account] = await prisma.account.updateManyAndReturn({
    where: { id: accountId, OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: startedAt } }] },
    data: { syncLeaseUntil: new Date(startedAt.getTime() + leaseMs), syncLeaseOwner: options.owner, status: 'SYNCING', lastAttemptAt: startedAt },
    select: { id: true, userId: true, credentials: true, writeCalendarUrl: true },
  })
  if (!account) {
    const exists = await prisma.account.count({ where: { id: accountId } })
    return { accountId, skipped: true, reason: exists > 0 ? 'leased' : 'gone' }
  }
  publish({ phase: 'started', collectionUrl: null, done: 0, total: null })

  // The lease is renewed while the run goes on; losing it (another process took it) aborts the run.
  const lease = new AbortController()
  const renew = async (): Promise<void> => {
    const { count } = await prisma.account.updateMany({
      where: { id: accountId, syncLeaseOwner: options.owner },
      data: { syncLeaseUntil: new Date(deps.now().getTime() + leaseMs) },
    })
    if (count === 0) throw new LeaseLostError('the sync lease was taken by another run')
  }
  const renewal = setInterval(() => {
    renew().catch((error: unknown) => lease.abort(error))
  }, Math.max(1, Math.floor(leaseMs / 3)))
  renewal.unref()
  const signal = options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal

  let collections = 0
  let changed = 0
  let session: CountedDavSession | undefined
  try {
    let credentials
    try {
      credentials = dav.open(account.credentials)
    } catch (error) {
      if (dav.isCredentialBoxError(error)) throw new StoredCredentialsError()
      throw error
    }
    session = dav.session(credentials, async (refreshed) => {
      await prisma.account.updateMany({ where: { id: accountId }, data: { credentials: dav.seal(refreshed) } })
    })
    const enabled = await prisma.accountCollection.findMany({
      where: { accountId, enabled: true },
      orderBy: [{ kind: 'asc' }, { url: 'asc' }],
      select: { id: true, url: true, kind: true, syncToken: true, ctag: true },
    })
    const syncDeps: SyncDeps & { horizonMs: number } = {
      prisma,
      announce: deps.announce,
      logger,
      now: deps.now,
      horizonMs: deps.horizonMs,
      signal,
      onProgress: (progress) => publish({ phase: progress.phase, collectionUrl: progress.collectionUrl, done: progress.done, total: progress.total }),
    }
    const syncOne = async (collection: (typeof enabled)[number]) => {
      signal.throwIfAborted()
      await renew()
      const result = await options.syncers[collection.kind](syncDeps, { id: account.id, userId: account.userId }, collection, session!)
      collections += 1
      changed += result.created + result.updated + result.removed + result.restored + result.written
      logger.info({ collectionUrl: collection.url, ...result }, 'collection synced')
    }
    for (const collection of enabled) await syncOne(collection)
    // Edits made here while this run went on asked for a sync that this run stood for (the job is one per
    // account): write them back now, in at most two more passes over the address books.
    for (let pass = 0; pass < EXTRA_WRITE_BACK_PASSES; pass++) {
      if ((await prisma.contact.count({ where: { accountId, remoteDirty: { isEmpty: false } } })) === 0) break
      const books = await prisma.accountCollection.findMany({
        where: { accountId, enabled: true, kind: 'ADDRESS_BOOK' },
        orderBy: { url: 'asc' },
        select: { id: true, url: true, kind: true, syncToken: true, ctag: true },
      })
      if (books.length === 0) break
      for (const collection of books) await syncOne(collection)
    }
    // Accepted suggestions into the calendar the user chose for them (and out when no longer accepted).
    if (account.writeCalendarUrl) {
      signal.throwIfAborted()
      const events = await reconcileAcceptedSuggestions({ prisma, now: deps.now }, account.userId, account.writeCalendarUrl, session)
      changed += events.written + events.removed
    }
    signal.throwIfAborted()
    const [contactsCount, eventsCount] = await Promise.all([
      prisma.contact.count({ where: { accountId, archived: false } }),
      prisma.calendarEvent.count({ where: { accountId } }),
    ])
    const finished = await prisma.account.updateMany({
      where: { id: accountId, syncLeaseOwner: options.owner },
      data: {
        status: 'OK',
        lastSyncedAt: deps.now(),
        lastError: null,
        retryAfter: null,
        contactsCount,
        eventsCount,
        syncLeaseUntil: null,
        syncLeaseOwner: null,
      },
    })
    if (finished.count === 0) throw new LeaseLostError('the sync lease was taken by another run')
    const durationMs = performance.now() - started
    const outcome: SyncRunOutcome = { accountId, skipped: false, outcome: 'OK', collections, changed, requests: session.requests, durationMs }
    logger.info({ collections, changed, requests: session.requests, durationMs }, 'account synced')
    deps.metrics?.recordSync({ outcome: 'OK', durationMs, changed })
    return outcome
  } catch (error) {
    const durationMs = performance.now() - started
    if (error instanceof LeaseLostError || (signal.aborted && signal.reason instanceof LeaseLostError)) {
      logger.warn({ durationMs }, 'sync stopped: another run took the lease')
      return { accountId, skipped: true, reason: 'leased' }
    }
    const failure = classify(error, options.signal)
    const now = deps.now()
    await prisma.account
      .updateMany({
        where: { id: accountId, syncLeaseOwner: options.owner },
        data: {
          status: failure.outcome === 'NEEDS_REAUTH' ? 'NEEDS_REAUTH' : 'ERROR',
          lastError: failure.message.slice(0, MAX_ERROR_LENGTH),
          retryAfter: failure.retryAfterMs === null ? null : new Date(now.getTime() + failure.retryAfterMs),
          syncLeaseUntil: null,
          syncLeaseOwner: null,
        },
      })
      .catch((updateError: unknown) => logger.error({ err: updateError }, 'the failed sync could not be recorded'))
    const level = failure.outcome === 'ERROR' ? 'error' : 'warn'
    logger[level]({ err: error, outcome: failure.outcome, retryAfterMs: failure.retryAfterMs, requests: session?.requests, durationMs }, 'account sync failed')
    deps.metrics?.recordSync({ outcome: failure.outcome, durationMs, changed })
    return { accountId, skipped: false, outcome: failure.outcome, error: failure.message, retryAfterMs: failure.retryAfterMs, durationMs }
  } finally {
    clearInterval(renewal)
    publish({ phase: 'finished', collectionUrl: null, done: collections, total: null })
  }
}

/** The sealed credentials no longer open (SECRET_KEY changed, or the row was tampered with). */
class StoredCredentialsError extends Error {
  override name = 'StoredCredentialsError'
  constructor() {
    super('the stored credentials cannot be opened (was SECRET_KEY changed?): connect the account again')
  }
}

/** A failure's outcome, the message the user sees as `lastError`, and Retry-After. */
export function classify(error: unknown, signal?: AbortSignal): { outcome: Exclude<SyncOutcomeKind, 'OK'>; message: string; retryAfterMs: number | null } {
  if (error instanceof StoredCredentialsError) return { outcome: 'NEEDS_REAUTH', message: error.message, retryAfterMs: null }
  if (error instanceof DavHttpError) {
    if (error.status === 401 || error.status === 403) {
      return { outcome: 'NEEDS_REAUTH', message: `the server refused the credentials (${error.status}): connect the account again`, retryAfterMs: null }
    }
    if (error.status === 429 || error.status === 503) return { outcome: 'RETRY', message: `the server is busy (${error.status}); retrying later`, retryAfterMs: error.retryAfterMs }
    if (error.status === 0 || error.status >= 500) {
      return { outcome: 'RETRY', message: error.status === 0 ? 'the server did not answer in time or cannot be reached; retrying' : `the server failed (${error.status}); retrying`, retryAfterMs: null }
    }
    return { outcome: 'ERROR', message: `the server answered ${error.status}: ${error.message}`, retryAfterMs: null }
  }
  if (signal?.aborted) return { outcome: 'RETRY', message: 'the sync was interrupted; retrying', retryAfterMs: null }
  // A body that stopped coming within DAV_REQUEST_TIMEOUT_MS: the read fails with the timeout signal's reason.
  if (error instanceof Error && error.name === 'TimeoutError') return { outcome: 'RETRY', message: 'the server did not answer in time; retrying', retryAfterMs: null }
  if (error instanceof Error && error.name === 'UnsafeUrlError') return { outcome: 'ERROR', message: error.message, retryAfterMs: null }
  return { outcome: 'ERROR', message: 'the sync failed unexpectedly; it runs again at the next interval', retryAfterMs: null }
}

/**
 * The ids of the accounts due for a scheduled sync at `now`, in id order, `pageSize` at a time (keyset:
 * `id > last`): not synced (attempted) for `intervalMs`, not waiting for re-authentication, past any
 * Retry-After, not leased, with at least one enabled collection.
 */
export async function* walkDueAccounts(prisma: PrismaClient, now: Date, intervalMs: number, pageSize: number): AsyncGenerator<string[], void, undefined> {
  const dueBefore = new Date(now.getTime() - intervalMs)
  let last: string | undefined
  for (;;) {
    const page = await prisma.account.findMany({
      where: {
        ...(last === undefined ? {} : { id: { gt: last } }),
        status: { not: 'NEEDS_REAUTH' },
        AND: [
          { OR: [{ lastAttemptAt: null }, { lastAttemptAt: { lt: dueBefore } }] },
          { OR: [{ retryAfter: null }, { retryAfter: { lte: now } }] },
          { OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: now } }] },
        ],
        collections: { some: { enabled: true } },
      },
      orderBy: { id: 'asc' },
      select: { id: true },
      take: pageSize,
    })
    if (page.length === 0) return
    yield page.map((account) => account.id)
    if (page.length < pageSize) return
    last = page[page.length - 1]!.id
  }
}
