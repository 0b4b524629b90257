/**
 * The jobs runner on BullMQ (Redis), for several server processes: one queue
 * `suggestion-generation` shared by all of them, one worker per process, and
 * the daily refresh as a BullMQ job scheduler, so exactly one refresh job is
 * created per cron tick however many processes run (`upsertJobScheduler` with
 * the same id is the same scheduler).
 *
 * A regeneration is deduplicated by user: while a user's job waits, more
 * requests are dropped; while it runs, one more run is kept for after it
 * (`keepLastIfActive`), so a change made during a run is never missed.
 *
 * Imports have a queue of their own (`imports`), so a long import never holds a regeneration's
 * place: one job per import (job id `import-<id>`: asking again while it waits or runs adds
 * nothing), retried with backoff (each attempt resumes from the import's checkpoint), removed
 * when it ends, so a later resume can add it again. A process that dies under an import leaves
 * the job stalled: BullMQ hands it to another worker once its lock expires; and every start
 * re-adds the imports the database says are QUEUED or RUNNING.
 *
 * Account syncs have a queue of their own too (`account-sync`): one job per account (job id
 * `sync-<id>`), `syncAttempts` attempts, retried after the sync's own delay (its Retry-After, else
 * exponential backoff: a custom backoff strategy reads it from the error), failed for good with an
 * `UnrecoverableError` on NEEDS_REAUTH or ERROR. A job scheduler (`upsertJobScheduler`, one tick
 * for all processes) enqueues the accounts due every `syncScheduleEveryMs`.
 *
 * Webhook deliveries have a queue of their own (`webhook-deliveries`): one job per delivery (job id
 * `webhook-<id>`), its retries the same job at the delay the attempt returns (a custom backoff strategy reads it
 * from the error, as for syncs).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions as BullJobOptions } from 'bullmq'
import { DAY_MS, SECOND_MS, WEEK_MS } from '../time.ts'
import type { Jobs, JobsOptions } from './types.ts'
import { createJobWork, DEFAULTS, REFRESH_TIMEZONE, settleWithin } from './job-work.ts'
import type { RegenerationResult } from './processors/suggestion-generation-processor.ts'

export const QUEUE_NAME = 'suggestion-generation'
export const REGENERATE_JOB = 'regenerate-user-suggestions'
export const REFRESH_JOB = 'refresh-all-users'
export const REFRESH_SCHEDULER_ID = 'daily-suggestion-refresh'
export const IMPORT_QUEUE_NAME = 'imports'
export const IMPORT_JOB = 'run-import'
export const SYNC_QUEUE_NAME = 'account-sync'
export const SYNC_JOB = 'sync-account'
export const SYNC_SCHEDULE_JOB = 'enqueue-due-syncs'
export const SYNC_SCHEDULER_ID = 'account-sync-schedule'
export const WEBHOOK_QUEUE_NAME = 'webhook-deliveries'
export const WEBHOOK_JOB = 'deliver-webhook'
/** The backoff type of webhook jobs: the delay comes from the attempt ({@link WebhookRetryError}). */
const WEBHOOK_BACKOFF = 'webhook-retry'
/** BullMQ attempts per delivery job: the schedule's 10 and room for database failures (a job given up is queued again by the sweep of app.ts); deliver.ts decides when to stop. */
const WEBHOOK_JOB_ATTEMPTS = 20

/** A delivery to attempt again in `retryInMs`, read by the webhook worker's backoff strategy. */
class WebhookRetryError extends Error {
  override name = 'WebhookRetryError'
  constructor(readonly retryInMs: number) {
    super(`webhook delivery retried in ${retryInMs} ms`)
  }
}

/** The backoff type of sync jobs: the delay comes from the attempt's outcome ({@link SyncRetryError}). */
const SYNC_BACKOFF = 'sync-retry'

/** A sync attempt to run again in `retryInMs` (its Retry-After or its backoff), read by the worker's backoff strategy. */
class SyncRetryError extends Error {
  override name = 'SyncRetryError'
  constructor(
    message: string,
    readonly retryInMs: number,
  ) {
    super(message)
  }
}
/** How long a request waits for the queue's first connection before failing. */
const REQUEST_TIMEOUT_MS = 2000
/** How long a finished job and a failed one stay in Redis, in seconds (BullMQ's unit for `age`). */
const COMPLETED_JOB_AGE_S = DAY_MS / SECOND_MS
const FAILED_JOB_AGE_S = WEEK_MS / SECOND_MS

type JobData = { userId: string } | Record<string, never>

export function createBullMQJobs(options: JobsOptions & { redisUrl: string }): Jobs {
  const work = createJobWork(options)
  const debounceMs = options.debounceMs ?? DEFAULTS.debounceMs
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs
  // BullMQ opens and closes its own connections from these options, and waits for Redis through an
  // outage (maxRetriesPerRequest: null, as BullMQ requires for workers).
  const connection = { url: options.redisUrl, maxRetriesPerRequest: null }
  const prefix = options.prefix ? { prefix: options.prefix } : {}
  const retention = {
    removeOnComplete: { count: 1000, age: COMPLETED_JOB_AGE_S },
    removeOnFail: { count: 1000, age: FAILED_JOB_AGE_S },
  }
  const retries: BullJobOptions = {
    attempts: work.attempts,
    backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULTS.backoffMs },
    ...retention,
  }
  const queue = new Queue<JobData>(QUEUE_NAME, { connection, ...prefix, defaultJobOptions: retries })
  queue.on('error', (error) => work.logger.error({ err: error }, 'job queue error'))
  let worker: Worker<JobData> | undefined
  const importRetries: BullJobOptions = { ...retries, removeOnComplete: true, removeOnFail: true }
  const importQueue = new Queue<{ importId: string }>(IMPORT_QUEUE_NAME, { connection, ...prefix, defaultJobOptions: importRetries })
  importQueue.on('error', (error) => work.logger.error({ err: error }, 'import queue error'))
  let importWorker: Worker<{ importId: string }> | undefined
  const addImport = (importId: string) => importQueue.add(IMPORT_JOB, { importId }, { ...importRetries, jobId: `import-${importId}` })
  const syncJobOptions: BullJobOptions = {
    attempts: work.syncAttempts,
    backoff: { type: SYNC_BACKOFF },
    removeOnComplete: true,
    removeOnFail: true,
  }
  const syncQueue = new Queue<{ accountId: string } | Record<string, never>>(SYNC_QUEUE_NAME, { connection, ...prefix, defaultJobOptions: syncJobOptions })
  syncQueue.on('error', (error) => work.logger.error({ err: error }, 'sync queue error'))
  let syncWorker: Worker<{ accountId: string } | Record<string, never>> | undefined
  const addSyncs = (accountIds: string[], delay = 0) =>
    syncQueue.addBulk(accountIds.map((accountId) => ({ name: SYNC_JOB, data: { accountId }, opts: { ...syncJobOptions, jobId: `sync-${accountId}`, delay } })))
  const webhookJobOptions: BullJobOptions = { attempts: WEBHOOK_JOB_ATTEMPTS, backoff: { type: WEBHOOK_BACKOFF }, removeOnComplete: true, removeOnFail: true }
  const webhookQueue = new Queue<{ deliveryId: string }>(WEBHOOK_QUEUE_NAME, { connection, ...prefix, defaultJobOptions: webhookJobOptions })
  webhookQueue.on('error', (error) => work.logger.error({ err: error }, 'webhook queue error'))
  let webhookWorker: Worker<{ deliveryId: string }> | undefined
  const running = new Set<Promise<unknown>>()
  let closing: Promise<void> | undefined

  /** One sync job: the schedule's tick, or an attempt whose outcome becomes BullMQ's retry or failure. */
  async function processSync(job: Job<{ accountId: string } | Record<string, never>>, signal?: AbortSignal): Promise<unknown> {
    if (job.name === SYNC_SCHEDULE_JOB) {
      return work.enqueueDueSyncs(async (accountIds) => {
        await addSyncs(accountIds)
      }, () => closing !== undefined)
    }
    const { accountId } = job.data as { accountId: string }
    const { outcome, retryInMs } = await work.syncAttempt(accountId, job.attemptsMade + 1, signal ?? new AbortController().signal, () => true)
    if (outcome.skipped || outcome.outcome === 'OK') return outcome
    if (outcome.outcome === 'RETRY' && retryInMs !== null) throw new SyncRetryError(outcome.error, retryInMs)
    // NEEDS_REAUTH and ERROR are never retried (a retry storm against refused credentials); a RETRY out of attempts fails.
    throw new UnrecoverableError(outcome.error)
  }

  const regenerationJob = (userId: string, delay: number) => ({
    name: REGENERATE_JOB,
    data: { userId },
    opts: { ...retries, delay, deduplication: { id: `user:${userId}`, keepLastIfActive: true } },
  })

  async function processJob(job: Job<JobData>, _token?: string, signal?: AbortSignal): Promise<RegenerationResult | number> {
    if (job.name === REFRESH_JOB) {
      return work.refreshAllUsers(
        async (userIds) => {
          await queue.addBulk(userIds.map((userId) => regenerationJob(userId, 0)))
        },
        () => closing !== undefined,
      )
    }
    const { userId } = job.data as { userId: string }
    return work.regenerateAttempt(
      userId,
      job.attemptsMade + 1,
      async (progress) => {
        await job.updateProgress({ ...progress })
      },
      signal ?? new AbortController().signal,
      // BullMQ retries a failed attempt whoever fails it; after a close here, another process takes it.
      () => true,
    )
  }

  return {
    async requestRegeneration(userId) {
      if (closing) {
        work.logger.warn({ userId }, 'jobs are closed; regeneration request dropped')
        return
      }
      // A caller (a mutation) is never held up by a missing Redis: fail at once while it is away.
      const timeout = new AbortController()
      const client = await Promise.race([
        queue.getBackend().client,
        sleep(REQUEST_TIMEOUT_MS, undefined, { signal: timeout.signal }).catch(() => undefined),
      ]).finally(() => timeout.abort())
      if (client?.status !== 'ready') throw new Error(`Redis is not connected (${client?.status ?? 'connecting'}); regeneration not queued`)
      const { name, data, opts } = regenerationJob(userId, debounceMs)
      await queue.add(name, data, opts)
    },

    async enqueueImport(importId) {
      if (!options.runImport) throw new Error('this runner has no runImport')
      if (closing) {
        work.logger.warn({ importId }, 'jobs are closed; import left queued for the next start')
        return
      }
      await addImport(importId)
    },

    async enqueueSync(accountId, syncOptions = {}) {
      if (!options.runSync) throw new Error('this runner has no runSync')
      if (closing) {
        work.logger.warn({ accountId }, 'jobs are closed; sync request dropped (the schedule catches up)')
        return
      }
      await addSyncs([accountId], Math.max(0, syncOptions.delayMs ?? 0))
    },

    async enqueueWebhookDelivery(deliveryId, deliveryOptions = {}) {
      if (!options.runWebhookDelivery) throw new Error('this runner has no runWebhookDelivery')
      if (closing) return // left PENDING: the next start queues it again
      // One job per delivery: its id is the delivery's, so asking again while it waits or runs adds nothing.
      await webhookQueue.add(WEBHOOK_JOB, { deliveryId }, { ...webhookJobOptions, jobId: `webhook-${deliveryId}`, delay: Math.max(0, deliveryOptions.delayMs ?? 0) })
    },

    async start() {
      if (worker || closing) return
      worker = new Worker<JobData>(
        QUEUE_NAME,
        (job, token, signal) => {
          const promise = processJob(job, token, signal)
          running.add(promise)
          return promise.finally(() => running.delete(promise))
        },
        { connection, ...prefix, concurrency: options.concurrency, ...retention },
      )
      worker.on('error', (error) => work.logger.error({ err: error }, 'job worker error'))
      await worker.waitUntilReady()
      await queue.upsertJobScheduler(
        REFRESH_SCHEDULER_ID,
        { pattern: options.refreshCron, tz: REFRESH_TIMEZONE },
        { name: REFRESH_JOB, data: {}, opts: retries },
      )
      if (options.runImport) {
        importWorker = new Worker<{ importId: string }>(
          IMPORT_QUEUE_NAME,
          (job, _token, signal) => {
            const promise = work.importAttempt(job.data.importId, job.attemptsMade + 1, signal ?? new AbortController().signal, () => true)
            running.add(promise)
            return promise.finally(() => running.delete(promise))
          },
          { connection, ...prefix, concurrency: options.importConcurrency ?? 1 },
        )
        importWorker.on('error', (error) => work.logger.error({ err: error }, 'import worker error'))
        await importWorker.waitUntilReady()
        await work.resumeImports(async (importId) => {
          await addImport(importId)
        })
      }
      if (options.runWebhookDelivery) {
        webhookWorker = new Worker<{ deliveryId: string }>(
          WEBHOOK_QUEUE_NAME,
          (job) => {
            const promise = work.webhookAttempt(job.data.deliveryId).then((retryInMs) => {
              if (retryInMs !== null) throw new WebhookRetryError(retryInMs)
            })
            running.add(promise)
            return promise.finally(() => running.delete(promise))
          },
          {
            connection,
            ...prefix,
            concurrency: options.webhookConcurrency ?? DEFAULTS.webhookConcurrency,
            settings: { backoffStrategy: (_attemptsMade, _type, error) => (error instanceof WebhookRetryError ? error.retryInMs : 60_000) },
          },
        )
        webhookWorker.on('error', (error) => work.logger.error({ err: error }, 'webhook worker error'))
        await webhookWorker.waitUntilReady()
      }
      if (options.runSync) {
        syncWorker = new Worker<{ accountId: string } | Record<string, never>>(
          SYNC_QUEUE_NAME,
          (job, _token, signal) => {
            const promise = processSync(job, signal)
            running.add(promise)
            return promise.finally(() => running.delete(promise))
          },
          {
            connection,
            ...prefix,
            concurrency: options.syncConcurrency ?? DEFAULTS.syncConcurrency,
            settings: {
              backoffStrategy: (attemptsMade, _type, error) =>
                error instanceof SyncRetryError ? error.retryInMs : work.syncBackoffMs * 2 ** Math.max(0, attemptsMade - 1),
            },
          },
        )
        syncWorker.on('error', (error) => work.logger.error({ err: error }, 'sync worker error'))
        await syncWorker.waitUntilReady()
        await syncQueue.upsertJobScheduler(
          SYNC_SCHEDULER_ID,
          { every: options.syncScheduleEveryMs ?? DEFAULTS.syncScheduleEveryMs },
          { name: SYNC_SCHEDULE_JOB, data: {}, opts: { removeOnComplete: true, removeOnFail: true } },
        )
      }
    },

    close() {
      closing ??= (async () => {
        if (worker) {
          // Take no new job, then wait (bounded) for the running ones.
          await worker.pause(true)
          options.onCloseWaiting?.(running.size)
          // Aborted jobs fail (and are retried later, by this or another process); one that ignores
          // its signal is cut off: its lock expires and BullMQ hands it to another worker as stalled.
          const finished = await settleWithin([...running], closeTimeoutMs, () => {
            work.logger.warn({ running: running.size }, 'jobs still running at close; aborting them')
            worker!.cancelAllJobs('shutting down')
          })
          await worker.close(!finished)
        }
        if (importWorker) {
          await importWorker.pause(true)
          const finished = await settleWithin([...running], closeTimeoutMs, () => importWorker!.cancelAllJobs('shutting down'))
          await importWorker.close(!finished)
        }
        if (syncWorker) {
          await syncWorker.pause(true)
          const finished = await settleWithin([...running], closeTimeoutMs, () => syncWorker!.cancelAllJobs('shutting down'))
          await syncWorker.close(!finished)
        }
        if (webhookWorker) {
          await webhookWorker.pause(true)
          const finished = await settleWithin([...running], closeTimeoutMs, () => webhookWorker!.cancelAllJobs('shutting down'))
          await webhookWorker.close(!finished)
        }
        await Promise.all([queue.close(), importQueue.close(), syncQueue.close(), webhookQueue.close()])
      })()
      return closing
    },
  }
}
