/**
 * What a job does, shared by both runners: one regeneration attempt with its
 * log line and outcome, and the daily refresh's walk over every user.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { JobOutcome, JobsOptions, Regenerate } from './types.ts'
import { deleteAbandonedUploads, unfinishedImports } from '../imports/resume.ts'
import { regenerateStoredSuggestions, type RegenerationProgress, type RegenerationResult } from './processors/suggestion-generation-processor.ts'
import { refreshCalendarSeries } from '../imports/calendar/event-writes.ts'
import { walkDueAccounts, type SyncRunOutcome } from '../sync/run-sync.ts'
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../time.ts'

/** The refresh cron is read in UTC, whatever the host's zone, so every process agrees. */
/** The longest a sync attempt waits for its retry as a job; a longer Retry-After is left to the schedule. */
const MAX_RETRY_DELAY_MS = 6 * HOUR_MS

export const REFRESH_TIMEZONE = 'UTC'

/** How long jobs aborted at close get to stop before the runner closes anyway. */
export const ABORT_GRACE_MS = 1000

/**
 * Waits for the running jobs to settle, at most `timeoutMs`; past it calls
 * `abort` and gives them {@link ABORT_GRACE_MS} more. True when they ended in time.
 */
export async function settleWithin(running: unknown[], timeoutMs: number, abort: () => void): Promise<boolean> {
  const drained = Promise.allSettled(running)
  if (await settlesWithin(drained, timeoutMs)) return true
  abort()
  await settlesWithin(drained, ABORT_GRACE_MS)
  return false
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController()
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, false, { signal: timer.signal })])
  } finally {
    timer.abort()
  }
}

export const DEFAULTS = {
  attempts: 3,
  backoffMs: 1000,
  debounceMs: 1000,
  closeTimeoutMs: 10_000,
  refreshPageSize: 1000,
  syncAttempts: 5,
  syncBackoffMs: 10 * SECOND_MS,
  syncIntervalMs: 15 * MINUTE_MS,
  syncScheduleEveryMs: MINUTE_MS,
  syncConcurrency: 2,
  webhookConcurrency: 8,
}

/** What a sync attempt tells its runner: the outcome, and when to run it again (null: not). */
export interface SyncAttemptResult {
  outcome: SyncRunOutcome
  retryInMs: number | null
}

export function createJobWork(options: JobsOptions) {
  const logger = options.logger.child({ component: 'jobs' })
  const attempts = options.attempts ?? DEFAULTS.attempts
  const pageSize = options.refreshPageSize ?? DEFAULTS.refreshPageSize
  const regenerate: Regenerate =
    options.regenerate ??
    ((userId, onProgress, signal) =>
      regenerateStoredSuggestions(
        { prisma: options.prisma, engine: options.engine, ...(options.maxSuggestions ? { maxSuggestions: options.maxSuggestions } : {}) },
        { userId, signal },
        onProgress,
      ))

  const refreshCalendar =
    options.refreshCalendar ??
    ((now: Date) =>
      refreshCalendarSeries(options.prisma, now, options.calendarHorizonDays ?? 7, {
        ...(options.maxCalendarEvents === undefined ? {} : { maxEvents: options.maxCalendarEvents }),
        announce: options.announce,
      }))

  function done(outcome: JobOutcome): void {
    try {
      options.onJobDone?.(outcome)
    } catch (error) {
      logger.error({ err: error }, 'onJobDone threw')
    }
  }

  /**
   * One attempt (1-based): logs duration and contacts processed, reports the
   * outcome, rethrows a failure. `mayRetry` says whether the runner would still
   * retry a failure (the in-process one does not once closing).
   */
  async function regenerateAttempt(
    userId: string,
    attempt: number,
    report: (progress: RegenerationProgress) => Promise<void>,
    signal: AbortSignal,
    mayRetry: () => boolean,
  ): Promise<RegenerationResult> {
    const started = performance.now()
    const onProgress = async (progress: RegenerationProgress) => {
      options.onProgress?.(userId, progress)
      await report(progress)
    }
    try {
      const result = await regenerate(userId, onProgress, signal)
      logger.info({ userId, attempt, ...result }, 'suggestions regenerated')
      done({ job: 'regenerate', userId, attempt, ok: true, ...result })
      return result
    } catch (error) {
      const willRetry = attempt < attempts && mayRetry()
      const message = error instanceof Error ? error.message : String(error)
      const durationMs = performance.now() - started
      logger[willRetry ? 'warn' : 'error']({ userId, attempt, willRetry, durationMs, err: error }, 'suggestion regeneration failed')
      done({ job: 'regenerate', userId, attempt, ok: false, error: message, willRetry, durationMs })
      throw error
    }
  }

  /**
   * The daily refresh: first imported recurring events are expanded up to the new horizon (so the
   * regenerations see them; a failure there is logged and does not stop the rest), then every user
   * id by keyset (`id > last`, one page at a time), handed to `enqueue` page by page so memory
   * stays flat. Returns how many users were enqueued.
   */
  async function refreshAllUsers(enqueue: (userIds: string[]) => Promise<void>, stopped: () => boolean): Promise<number> {
    const started = performance.now()
    try {
      const extended = await refreshCalendar(options.now?.() ?? new Date())
      logger.info({ calendarSeries: extended }, 'imported recurring events extended to the horizon')
    } catch (error) {
      logger.error({ err: error }, 'extending imported recurring events failed')
    }
    try {
      let enqueued = 0
      for await (const userIds of walkUserIds(options.prisma, pageSize)) {
        if (stopped()) break
        await enqueue(userIds)
        enqueued += userIds.length
      }
      const durationMs = performance.now() - started
      logger.info({ usersEnqueued: enqueued, durationMs }, 'daily suggestion refresh enqueued')
      done({ job: 'refresh', ok: true, usersEnqueued: enqueued, durationMs })
      return enqueued
    } catch (error) {
      const durationMs = performance.now() - started
      logger.error({ err: error, durationMs }, 'daily suggestion refresh failed')
      done({ job: 'refresh', ok: false, error: error instanceof Error ? error.message : String(error), durationMs })
      throw error
    }
  }

  /**
   * One attempt (1-based) of an import: the runner's `runImport`, told whether this attempt is
   * the last (then a failure marks the import FAILED), with its log line and outcome. Rethrows.
   */
  async function importAttempt(importId: string, attempt: number, signal: AbortSignal, mayRetry: () => boolean): Promise<void> {
    const runImport = options.runImport
    if (!runImport) throw new Error('this runner has no runImport')
    const started = performance.now()
    try {
      await runImport(importId, { attempt, final: attempt >= attempts || !mayRetry(), signal })
      done({ job: 'import', importId, attempt, ok: true, durationMs: performance.now() - started })
    } catch (error) {
      const willRetry = attempt < attempts && mayRetry()
      const durationMs = performance.now() - started
      logger[willRetry ? 'warn' : 'error']({ importId, attempt, willRetry, durationMs, err: error }, 'import attempt failed')
      done({ job: 'import', importId, attempt, ok: false, error: error instanceof Error ? error.message : String(error), willRetry, durationMs })
      throw error
    }
  }

  /**
   * At start: hands every import left QUEUED or RUNNING to `enqueue` (they resume from their
   * checkpoint), and deletes the pieces of uploads abandoned mid-way. Logs and swallows errors:
   * a database that is not there yet must not stop the server (the next start tries again).
   */
  async function resumeImports(enqueue: (importId: string) => Promise<void>): Promise<number> {
    if (!options.runImport) return 0
    let resumed = 0
    try {
      await deleteAbandonedUploads(options.prisma, (options.now ?? (() => new Date()))())
      for await (const ids of unfinishedImports(options.prisma)) {
        for (const id of ids) await enqueue(id)
        resumed += ids.length
      }
      if (resumed > 0) logger.info({ resumed }, 'unfinished imports resumed')
    } catch (error) {
      logger.error({ err: error, resumed }, 'resuming imports failed')
    }
    return resumed
  }

  const syncAttempts = options.syncAttempts ?? DEFAULTS.syncAttempts
  const syncBackoffMs = options.syncBackoffMs ?? DEFAULTS.syncBackoffMs

  /**
   * When a sync that ended with `outcome` on `attempt` (1-based) runs again: a RETRY outcome at its
   * Retry-After, else after the exponential backoff (syncBackoffMs · 2^(attempt-1)), while attempts
   * remain; never after OK, a skip, NEEDS_REAUTH or ERROR.
   */
  function syncRetryIn(outcome: SyncRunOutcome, attempt: number): number | null {
    if (outcome.skipped || outcome.outcome !== 'RETRY' || attempt >= syncAttempts) return null
    // A Retry-After past a few hours is the schedule's to honour (the account's `retryAfter`), not a timer's:
    // Node fires a timer of more than 2^31 - 1 ms at once.
    if (outcome.retryAfterMs !== null && outcome.retryAfterMs > MAX_RETRY_DELAY_MS) return null
    return outcome.retryAfterMs ?? syncBackoffMs * 2 ** (attempt - 1)
  }

  /**
   * One attempt (1-based) of an account sync, with its log line and outcome; `mayRetry` says
   * whether the runner would still retry (not once closing). A rejection (the database failed while
   * taking the lease) is retried like a RETRY outcome.
   */
  async function syncAttempt(accountId: string, attempt: number, signal: AbortSignal, mayRetry: () => boolean): Promise<SyncAttemptResult> {
    const runSync = options.runSync
    if (!runSync) throw new Error('this runner has no runSync')
    const started = performance.now()
    let outcome: SyncRunOutcome
    try {
      outcome = await runSync(accountId, { attempt, signal })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      logger.error({ accountId, attempt, err: error }, 'account sync could not run')
      outcome = { accountId, skipped: false, outcome: 'RETRY', error: message, retryAfterMs: null, durationMs: performance.now() - started }
    }
    const retryInMs = mayRetry() ? syncRetryIn(outcome, attempt) : null
    if (outcome.skipped) logger.info({ accountId, attempt, reason: outcome.reason }, 'account sync skipped')
    else if (outcome.outcome !== 'OK') logger.info({ accountId, attempt, outcome: outcome.outcome, retryInMs }, 'account sync attempt ended')
    done({ job: 'sync', accountId, attempt, ok: outcome.skipped || outcome.outcome === 'OK', outcome, retryInMs })
    return { outcome, retryInMs }
  }

  /**
   * The sync schedule's tick: every account due now (sync/run-sync.ts `walkDueAccounts`), by keyset
   * pages handed to `enqueue`, so memory stays flat. Returns how many were enqueued; logs and rethrows a failure.
   */
  async function enqueueDueSyncs(enqueue: (accountIds: string[]) => Promise<void>, stopped: () => boolean): Promise<number> {
    const started = performance.now()
    try {
      let enqueued = 0
      const now = (options.now ?? (() => new Date()))()
      for await (const accountIds of walkDueAccounts(options.prisma, now, options.syncIntervalMs ?? DEFAULTS.syncIntervalMs, pageSize)) {
        if (stopped()) break
        await enqueue(accountIds)
        enqueued += accountIds.length
      }
      const durationMs = performance.now() - started
      if (enqueued > 0) logger.info({ accountsEnqueued: enqueued, durationMs }, 'due account syncs enqueued')
      done({ job: 'sync-schedule', ok: true, accountsEnqueued: enqueued, durationMs })
      return enqueued
    } catch (error) {
      const durationMs = performance.now() - started
      logger.error({ err: error, durationMs }, 'enqueueing the due account syncs failed')
      done({ job: 'sync-schedule', ok: false, error: error instanceof Error ? error.message : String(error), durationMs })
      throw error
    }
  }

  /**
   * One attempt of a webhook delivery: when to run it again (null: done). A rejection (the database failed)
   * is logged and retried after a minute, the delivery's state unchanged.
   */
  async function webhookAttempt(deliveryId: string): Promise<number | null> {
    const run = options.runWebhookDelivery
    if (!run) throw new Error('this runner has no runWebhookDelivery')
    try {
      return (await run(deliveryId)).retryInMs
    } catch (error) {
      logger.error({ deliveryId, err: error }, 'webhook delivery could not run')
      return MINUTE_MS
    }
  }

  return { logger, attempts, webhookAttempt, regenerateAttempt, refreshAllUsers, importAttempt, resumeImports, syncAttempts, syncBackoffMs, syncRetryIn, syncAttempt, enqueueDueSyncs }
}

/** Every user id in id order, `pageSize` at a time (keyset: `id > last`). */
export async function* walkUserIds(prisma: PrismaClient, pageSize: number): AsyncGenerator<string[], void, undefined> {
  let last: string | undefined
  for (;;) {
    const page = await prisma.user.findMany({
      where: last === undefined ? {} : { id: { gt: last } },
      orderBy: { id: 'asc' },
      select: { id: true },
      take: pageSize,
    })
    if (page.length === 0) return
    yield page.map((user) => user.id)
    if (page.length < pageSize) return
    last = page[page.length - 1]!.id
  }
}
