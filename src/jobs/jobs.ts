/**
 * Background jobs: regenerating a user's stored suggestions after bulk
 * changes, and for every user daily. One interface, two implementations:
 * BullMQ on Redis when `redisUrl` is set (many processes share one queue and
 * one schedule), an in-process runner otherwise (the embedded default: one
 * process). Both dedupe per user, retry with exponential backoff, run at most
 * `concurrency` jobs at a time per process, and report progress and outcomes.
 */
import { createInProcessJobs } from './in-process-jobs.ts'
import type { Jobs, JobsOptions } from './types.ts'

export type { JobOutcome, Jobs, JobsOptions, Regenerate, RunSync, RunWebhookDelivery } from './types.ts'

/**
 * BullMQ when `redisUrl` is set, else the in-process runner. BullMQ is loaded only then (about 8 MB
 * of a process's memory, with its native msgpack): its runner is made once its module is imported,
 * and the methods wait for that.
 */
export function createJobs(options: JobsOptions): Jobs {
  const { redisUrl } = options
  if (!redisUrl) return createInProcessJobs(options)
  const bullmq = import('./bullmq-jobs.ts').then(({ createBullMQJobs }) => createBullMQJobs({ ...options, redisUrl }))
  bullmq.catch(() => {}) // a failed import rejects each call instead
  return {
    requestRegeneration: async (userId) => (await bullmq).requestRegeneration(userId),
    enqueueImport: async (importId) => (await bullmq).enqueueImport(importId),
    enqueueSync: async (accountId, syncOptions) => (await bullmq).enqueueSync(accountId, syncOptions),
    enqueueWebhookDelivery: async (deliveryId, deliveryOptions) => (await bullmq).enqueueWebhookDelivery(deliveryId, deliveryOptions),
    start: async () => (await bullmq).start(),
    close: async () => (await bullmq).close(),
  }
}
