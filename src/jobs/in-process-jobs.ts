/**
 * The jobs runner for one process without Redis (the embedded default). Same
 * behaviour as the BullMQ one, kept small: a FIFO of user ids, at most
 * `concurrency` running, one entry per user while queued (a request for a
 * user whose job is running queues one more run after it, so no change is
 * missed), retries with exponential backoff, and the daily refresh from the
 * cron's next run with one timer. Queued work is dropped on close; the next
 * daily refresh catches up. It is not a broker: nothing survives a restart.
 * Account syncs: a FIFO of their own (one entry per account while queued, running or waiting to
 * retry), retried at the sync's Retry-After or with backoff, never after NEEDS_REAUTH or ERROR, and
 * a timer every `syncScheduleEveryMs` (and once at start) enqueueing the accounts due.
 * Webhook deliveries: a FIFO of their own (one entry per delivery until it is done), each retried at the delay its
 * attempt returns; dropped on close, they stay PENDING in the database and the next start queues them again.
 */
import { CronExpressionParser } from 'cron-parser'
import type { Jobs, JobsOptions } from './types.ts'
import { createJobWork, DEFAULTS, REFRESH_TIMEZONE, settleWithin } from './job-work.ts'

/** Node's timers overflow past about 24.8 days; a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

type UserState = 'queued' | 'running' | 'running-again'

export function createInProcessJobs(options: JobsOptions): Jobs {
  const work = createJobWork(options)
  const now = options.now ?? (() => new Date())
  const backoffMs = options.backoffMs ?? DEFAULTS.backoffMs
  const debounceMs = options.debounceMs ?? DEFAULTS.debounceMs
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs
  const pageSize = options.refreshPageSize ?? DEFAULTS.refreshPageSize

  const states = new Map<string, UserState>()
  const ready: { userId: string; attempt: number }[] = []
  const running = new Set<Promise<void>>()
  const controllers = new Set<AbortController>()
  const timers = new Set<NodeJS.Timeout>()
  let roomWaiters: (() => void)[] = []
  // Imports: their own FIFO and bound, so a long import never takes a regeneration's place.
  const importConcurrency = options.importConcurrency ?? 1
  const importIds = new Set<string>()
  const importsReady: { importId: string; attempt: number }[] = []
  const importsRunning = new Set<Promise<void>>()
  // Syncs: their own FIFO and bound; an account is in `syncIds` from its enqueue until its last attempt ends.
  const syncConcurrency = options.syncConcurrency ?? DEFAULTS.syncConcurrency
  const syncIds = new Set<string>()
  const syncsReady: { accountId: string; attempt: number }[] = []
  const syncsRunning = new Set<Promise<void>>()
  // Webhook deliveries: their own FIFO and bound; a delivery is in `deliveryIds` from its enqueue until it is done.
  const webhookConcurrency = options.webhookConcurrency ?? DEFAULTS.webhookConcurrency
  const deliveryIds = new Set<string>()
  const deliveriesReady: string[] = []
  const deliveriesRunning = new Set<Promise<void>>()
  let syncScheduling: Promise<unknown> | undefined
  let refreshing: Promise<unknown> | undefined
  let started = false
  let closing: Promise<void> | undefined

  /**
   * Runs `fn` after `ms` unless closed first. A wait past {@link MAX_TIMER_MS} is taken in steps: Node fires a longer
   * timer after 1 ms (a delivery or sync queued days ahead would run at once). Not a number: waits the longest step.
   */
  function later(ms: number, fn: () => void): void {
    const wait = Number.isNaN(ms) ? MAX_TIMER_MS : Math.max(0, ms)
    const step = Math.min(wait, MAX_TIMER_MS)
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (wait > step) later(wait - step, fn)
      else fn()
    }, step)
    timers.add(timer)
  }

  function enqueue(userId: string, delayMs: number): void {
    if (closing) {
      work.logger.warn({ userId }, 'jobs are closed; regeneration request dropped')
      return
    }
    const state = states.get(userId)
    if (state === 'queued' || state === 'running-again') return
    if (state === 'running') {
      states.set(userId, 'running-again')
      return
    }
    states.set(userId, 'queued')
    if (delayMs > 0) later(delayMs, () => push(userId, 1))
    else push(userId, 1)
  }

  function push(userId: string, attempt: number): void {
    ready.push({ userId, attempt })
    pump()
  }

  function pump(): void {
    while (started && !closing && running.size < options.concurrency && ready.length > 0) {
      const task = ready.shift()!
      const promise = run(task.userId, task.attempt).finally(() => {
        running.delete(promise)
        pump()
      })
      running.add(promise)
    }
  }

  async function run(userId: string, attempt: number): Promise<void> {
    states.set(userId, 'running')
    const controller = new AbortController()
    controllers.add(controller)
    try {
      await work.regenerateAttempt(userId, attempt, async () => {}, controller.signal, () => !closing)
    } catch {
      // Logged and reported by regenerateAttempt; retry unless it was the last attempt.
      if (attempt < work.attempts && !closing) {
        states.set(userId, 'queued') // a request made meanwhile is served by the retry
        later(backoffMs * 2 ** (attempt - 1), () => push(userId, attempt + 1))
        return
      }
    } finally {
      controllers.delete(controller)
    }
    const again = states.get(userId) === 'running-again'
    states.delete(userId)
    notifyRoom()
    if (again) enqueue(userId, 0)
  }

  function enqueueImport(importId: string): void {
    if (closing) {
      work.logger.warn({ importId }, 'jobs are closed; import left queued for the next start')
      return
    }
    if (importIds.has(importId)) return
    importIds.add(importId)
    importsReady.push({ importId, attempt: 1 })
    pumpImports()
  }

  function pumpImports(): void {
    while (started && !closing && importsRunning.size < importConcurrency && importsReady.length > 0) {
      const task = importsReady.shift()!
      const promise = runImportTask(task.importId, task.attempt).finally(() => {
        importsRunning.delete(promise)
        pumpImports()
      })
      importsRunning.add(promise)
    }
  }

  async function runImportTask(importId: string, attempt: number): Promise<void> {
    const controller = new AbortController()
    controllers.add(controller)
    try {
      await work.importAttempt(importId, attempt, controller.signal, () => !closing)
    } catch {
      // Logged and reported by importAttempt; a retry resumes from the checkpoint.
      if (attempt < work.attempts && !closing) {
        later(backoffMs * 2 ** (attempt - 1), () => {
          importsReady.push({ importId, attempt: attempt + 1 })
          pumpImports()
        })
        return
      }
    } finally {
      controllers.delete(controller)
    }
    importIds.delete(importId)
  }

  function enqueueSync(accountId: string, delayMs: number): void {
    if (closing) {
      work.logger.warn({ accountId }, 'jobs are closed; sync request dropped (the schedule catches up)')
      return
    }
    if (syncIds.has(accountId)) return
    syncIds.add(accountId)
    if (delayMs > 0) later(delayMs, () => pushSync(accountId, 1))
    else pushSync(accountId, 1)
  }

  function pushSync(accountId: string, attempt: number): void {
    syncsReady.push({ accountId, attempt })
    pumpSyncs()
  }

  function pumpSyncs(): void {
    while (started && !closing && syncsRunning.size < syncConcurrency && syncsReady.length > 0) {
      const task = syncsReady.shift()!
      const promise = runSyncTask(task.accountId, task.attempt).finally(() => {
        syncsRunning.delete(promise)
        pumpSyncs()
      })
      syncsRunning.add(promise)
    }
  }

  async function runSyncTask(accountId: string, attempt: number): Promise<void> {
    const controller = new AbortController()
    controllers.add(controller)
    try {
      const { retryInMs } = await work.syncAttempt(accountId, attempt, controller.signal, () => !closing)
      if (retryInMs !== null && !closing) {
        later(retryInMs, () => pushSync(accountId, attempt + 1))
        return
      }
    } finally {
      controllers.delete(controller)
    }
    syncIds.delete(accountId)
  }

  function enqueueDelivery(deliveryId: string, delayMs: number): void {
    if (closing) return // left PENDING: the next start queues it again
    if (deliveryIds.has(deliveryId)) return
    deliveryIds.add(deliveryId)
    if (delayMs > 0) later(delayMs, () => pushDelivery(deliveryId))
    else pushDelivery(deliveryId)
  }

  function pushDelivery(deliveryId: string): void {
    deliveriesReady.push(deliveryId)
    pumpDeliveries()
  }

  function pumpDeliveries(): void {
    while (started && !closing && deliveriesRunning.size < webhookConcurrency && deliveriesReady.length > 0) {
      const deliveryId = deliveriesReady.shift()!
      const promise = work
        .webhookAttempt(deliveryId)
        .then((retryInMs) => {
          if (retryInMs !== null && !closing) later(retryInMs, () => pushDelivery(deliveryId))
          else deliveryIds.delete(deliveryId)
        })
        .finally(() => {
          deliveriesRunning.delete(promise)
          pumpDeliveries()
        })
      deliveriesRunning.add(promise)
    }
  }

  /** Enqueues the accounts due now, then again every `syncScheduleEveryMs` (a tick still walking is not started twice). */
  function scheduleSyncs(): void {
    if (closing || !options.runSync) return
    syncScheduling ??= work
      .enqueueDueSyncs(
        async (accountIds) => {
          for (const accountId of accountIds) enqueueSync(accountId, 0)
        },
        () => closing !== undefined,
      )
      .catch(() => {}) // logged by enqueueDueSyncs
      .finally(() => (syncScheduling = undefined))
    later(options.syncScheduleEveryMs ?? DEFAULTS.syncScheduleEveryMs, scheduleSyncs)
  }

  function notifyRoom(): void {
    const waiters = roomWaiters
    roomWaiters = []
    for (const wake of waiters) wake()
  }

  /** Resolves once fewer than `pageSize` users are queued or running, or on close. */
  async function waitForRoom(): Promise<void> {
    while (states.size >= pageSize && !closing) await new Promise<void>((resolve) => roomWaiters.push(resolve))
  }

  function scheduleRefresh(): void {
    if (closing) return
    const next = CronExpressionParser.parse(options.refreshCron, { currentDate: now(), tz: REFRESH_TIMEZONE }).next().toDate()
    const wait = (at: Date) => {
      const delay = at.getTime() - now().getTime()
      if (delay > 0) return later(Math.min(delay, MAX_TIMER_MS), () => wait(at))
      // A refresh still walking (huge user base) is not started twice.
      refreshing ??= work
        .refreshAllUsers(
          async (userIds) => {
            for (const userId of userIds) enqueue(userId, 0)
            await waitForRoom()
          },
          () => closing !== undefined,
        )
        .catch(() => {}) // logged by refreshAllUsers
        .finally(() => (refreshing = undefined))
      scheduleRefresh()
    }
    wait(next)
  }

  return {
    async requestRegeneration(userId) {
      enqueue(userId, debounceMs)
    },

    async enqueueImport(importId) {
      if (!options.runImport) throw new Error('this runner has no runImport')
      enqueueImport(importId)
    },

    async enqueueSync(accountId, syncOptions = {}) {
      if (!options.runSync) throw new Error('this runner has no runSync')
      enqueueSync(accountId, Math.max(0, syncOptions.delayMs ?? 0))
    },

    async enqueueWebhookDelivery(deliveryId, deliveryOptions = {}) {
      if (!options.runWebhookDelivery) throw new Error('this runner has no runWebhookDelivery')
      enqueueDelivery(deliveryId, Math.max(0, deliveryOptions.delayMs ?? 0))
    },

    async start() {
      if (started || closing) return
      started = true
      pumpDeliveries()
      scheduleRefresh()
      scheduleSyncs()
      pumpSyncs()
      pump()
      await work.resumeImports(async (importId) => enqueueImport(importId))
      pumpImports()
    },

    close() {
      closing ??= (async () => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        ready.length = 0
        importsReady.length = 0
        syncsReady.length = 0
        deliveriesReady.length = 0
        notifyRoom()
        options.onCloseWaiting?.(running.size + importsRunning.size + syncsRunning.size + deliveriesRunning.size + (refreshing ? 1 : 0))
        // A job that ignores its signal is left behind. An import stopped here stays RUNNING: the next start resumes it.
        await settleWithin([...running, ...importsRunning, ...syncsRunning, ...deliveriesRunning, refreshing, syncScheduling], closeTimeoutMs, () => {
          work.logger.warn({ running: running.size }, 'jobs still running at close; aborting them')
          for (const controller of controllers) controller.abort(new Error('shutting down'))
        })
        states.clear()
        importIds.clear()
        syncIds.clear()
        deliveryIds.clear()
      })()
      return closing
    },
  }
}
