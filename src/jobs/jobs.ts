/**
 * Background jobs: regenerating a user's stored suggestions after bulk
 * changes, and for every user daily. One interface, two implementations:
 * BullMQ on Redis when `redisUrl` is set (many processes share one queue and
 * one schedule), an in-process runner otherwise (the embedded default: one
 * process). Both dedupe per user, retry with exponential backoff, run at most
 * `concurrency` jobs at a time per process, and report progress and outcomes.
 */
import { createBullMQJobs } from './bullmq-jobs.ts'
import { createInProcessJobs } from './in-process-jobs.ts'
import type { Jobs, JobsOptions } from './types.ts'

export type { JobOutcome, Jobs, JobsOptions, Regenerate } from './types.ts'

/** BullMQ when `redisUrl` is set, else the in-process runner. */
export function createJobs(options: JobsOptions): Jobs {
  return options.redisUrl ? createBullMQJobs({ ...options, redisUrl: options.redisUrl }) : createInProcessJobs(options)
}
