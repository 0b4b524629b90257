/**
 * The types the job runners share (the interface, its options, an outcome):
 * their own module, so `jobs.ts` can import both runners without the runners
 * importing it back (an import cycle).
 */
import type { Logger } from '../logger.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { SuggestionEngine } from '../suggestions/generator.ts'
import type { RegenerationProgress, RegenerationResult } from './processors/suggestion-generation-processor.ts'
import type { ImportAttempt } from '../imports/run-import.ts'
import type { AnnounceChange } from '../changes/announce.ts'
import type { SyncRunOutcome } from '../sync/run-sync.ts'

export interface Jobs {
  /**
   * Regenerate the user's stored suggestions soon; bursts for one user collapse into one job.
   * Call after `start`. On BullMQ it rejects at once when Redis is unreachable (callers log
   * it and go on: the daily refresh catches up); after `close` it logs and does nothing.
   */
  requestRegeneration(userId: string): Promise<void>
  /**
   * Runs the import `importId` (stored by imports/upload.ts, QUEUED) as a job, with retries
   * that resume from its checkpoint. One job per import however often it is asked for.
   * Rejects when the queue is unreachable (the import stays QUEUED: the next start resumes it).
   */
  enqueueImport(importId: string): Promise<void>
  /**
   * Syncs account `accountId` as a job, after `delayMs` (default 0; a Retry-After still running):
   * one job per account however often it is asked for (asked while one waits or runs: nothing is
   * added). Retried with backoff on 5xx, timeouts and network errors (at Retry-After on 429 / 503),
   * never after 401 / 403. Rejects when the queue is unreachable or the runner has no `runSync`.
   */
  enqueueSync(accountId: string, options?: { delayMs?: number }): Promise<void>
  /**
   * Runs webhook delivery `deliveryId` as one job, after `delayMs` (default 0): one job per delivery however often
   * it is asked for; its retries are the same job, at the delay each attempt returns (webhooks/deliver.ts). Rejects
   * when the queue is unreachable (the delivery stays PENDING: the next start queues it again) or the runner has no
   * `runWebhookDelivery`.
   */
  enqueueWebhookDelivery(deliveryId: string, options?: { delayMs?: number }): Promise<void>
  /**
   * Starts the worker(s) and the schedule: every user daily (cron), as a repeatable job, not a
   * timer per process; and re-enqueues every import left QUEUED or RUNNING (a restart resumes them).
   * With `runSync`: every `syncScheduleEveryMs` the accounts due (see sync/run-sync.ts `walkDueAccounts`)
   * are enqueued: a BullMQ job scheduler (one tick for all processes), or a timer in-process.
   */
  start(): Promise<void>
  /** Stops taking jobs, waits for running ones (bounded), closes its connections. Idempotent. */
  close(): Promise<void>
}

/** What one job did, for logs, metrics and tests: an attempt of a regeneration, or a daily refresh. */
export type JobOutcome =
  | ({ job: 'regenerate'; userId: string; attempt: number; ok: true } & RegenerationResult)
  | { job: 'regenerate'; userId: string; attempt: number; ok: false; error: string; willRetry: boolean; durationMs: number }
  | { job: 'refresh'; ok: true; usersEnqueued: number; durationMs: number }
  | { job: 'refresh'; ok: false; error: string; durationMs: number }
  | { job: 'import'; importId: string; attempt: number; ok: true; durationMs: number }
  | { job: 'import'; importId: string; attempt: number; ok: false; error: string; willRetry: boolean; durationMs: number }
  /** An attempt of an account sync (`ok`: synced or skipped); `retryInMs`: when the runner runs it again (null: it does not). */
  | { job: 'sync'; accountId: string; attempt: number; ok: boolean; outcome: SyncRunOutcome; retryInMs: number | null }
  | { job: 'sync-schedule'; ok: true; accountsEnqueued: number; durationMs: number }
  | { job: 'sync-schedule'; ok: false; error: string; durationMs: number }

/** Runs one attempt of a webhook delivery (webhooks/deliver.ts `attemptDelivery` bound): when to run it again (null: not). */
export type RunWebhookDelivery = (deliveryId: string) => Promise<{ retryInMs: number | null }>

/** Runs one sync of an account: sync/run-sync.ts's `runAccountSync` with its dependencies and owner bound. */
export type RunSync = (accountId: string, attempt: { attempt: number; signal: AbortSignal }) => Promise<SyncRunOutcome>

/** Runs (or resumes) one import: imports/run-import.ts's `runImport` with its dependencies bound. */
export type RunImport = (importId: string, attempt: ImportAttempt) => Promise<unknown>

/** Regenerates one user's suggestions (the processor, or a stand-in in tests). */
export type Regenerate = (
  userId: string,
  onProgress: (progress: RegenerationProgress) => Promise<void>,
  signal: AbortSignal,
) => Promise<RegenerationResult>

export interface JobsOptions {
  /** Redis for BullMQ; absent: the in-process runner. */
  redisUrl?: string | undefined
  /** BullMQ key prefix (default `bull`); tests give each run its own. */
  prefix?: string | undefined
  prisma: PrismaClient
  engine: SuggestionEngine
  logger: Logger
  /** Jobs run at the same time in this process. */
  concurrency: number
  /** When every user's suggestions are refreshed (cron, with optional seconds field). */
  refreshCron: string
  /** The in-process runner's clock for the cron (BullMQ schedules on its own). */
  now?: () => Date
  /** Called after every attempt and every refresh. */
  onJobDone?: (outcome: JobOutcome) => void
  /** Called with each progress report of a regeneration (BullMQ also stores it with `job.updateProgress`). */
  onProgress?: (userId: string, progress: RegenerationProgress) => void
  /** Suggestions stored per user (the engine's top K), default 50. */
  maxSuggestions?: number
  /** Attempts per regeneration (default 3), the first retry's delay (default 1 s), doubling after. */
  attempts?: number
  backoffMs?: number
  /** How long a requested regeneration waits, so a burst of changes collapses into one run (default 1 s). */
  debounceMs?: number
  /** How long `close` waits for running jobs before aborting them (default 10 s). */
  closeTimeoutMs?: number
  /**
   * Called by `close` once it takes no more jobs, as it starts waiting for the jobs still running
   * (their number; the in-process runner counts a daily refresh still walking as one). Tests
   * observe the wait with it instead of sleeping; it must not throw.
   */
  onCloseWaiting?: (running: number) => void
  /** Users read per page by the daily refresh (default 1000). */
  refreshPageSize?: number
  /** Replaces the processor (tests inject failures and slow jobs with it). */
  regenerate?: Regenerate
  /** Runs an import; absent, `enqueueImport` refuses and nothing is resumed at start. */
  runImport?: RunImport
  /** Imports run at the same time in this process (default 1: an import is a long stream of batch writes). */
  importConcurrency?: number
  /** How far ahead imported recurring events are expanded, in days (the suggestion horizon; default 7). */
  calendarHorizonDays?: number
  /** The calendar-event quota the daily series refresh respects (default: MAX_CALENDAR_EVENTS_PER_USER's default). */
  maxCalendarEvents?: number
  /** Told of each user whose recurring events the daily refresh extended (a `calendar` change). */
  announce?: AnnounceChange
  /**
   * Replaces the daily refresh's first step, extending imported recurring events to the new
   * horizon (imports/calendar/event-writes.ts `refreshCalendarSeries`); tests inject it.
   */
  refreshCalendar?: (now: Date) => Promise<unknown>
  /** Runs an account sync; absent, `enqueueSync` refuses and nothing is scheduled. */
  runSync?: RunSync
  /** How long after its last attempt an account is due again (SYNC_INTERVAL_MINUTES; default 15 minutes). */
  syncIntervalMs?: number
  /** How often the due accounts are looked for (default 1 minute). */
  syncScheduleEveryMs?: number
  /** Attempts per sync (default 5), the first retry's delay (default 10 s), doubling after. */
  syncAttempts?: number
  syncBackoffMs?: number
  /** Syncs run at the same time in this process (default 2). */
  syncConcurrency?: number
  /** Runs a webhook delivery's attempt; absent, `enqueueWebhookDelivery` refuses. */
  runWebhookDelivery?: RunWebhookDelivery
  /** Webhook attempts run at the same time in this process (default 8: they mostly wait on receivers). */
  webhookConcurrency?: number
}
