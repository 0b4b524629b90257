/**
 * The project's Prometheus metrics (prom-client), one registry per call so
 * tests and several apps in one process never share state.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { readProcessHeap, type ReadHeap } from '../memory/memory-monitor.ts'
import { SECOND_MS } from '../time.ts'

/**
 * The original (OpenTelemetry-style) names and their Prometheus spelling:
 * Prometheus names cannot contain dots, and carry their unit.
 */
export const METRIC_NAMES = {
  'nodejs.heap.used.bytes': 'nodejs_heap_used_bytes',
  'nodejs.heap.percent': 'nodejs_heap_percent',
  'suggestion.generation.memory.peak': 'suggestion_generation_memory_peak_bytes',
  'suggestion.generation.duration': 'suggestion_generation_duration_seconds',
  'suggestion.generation.contacts.processed': 'suggestion_generation_contacts_processed_total',
} as const

export interface GenerationStats {
  durationMs: number
  peakHeapUsedBytes: number
  contactsProcessed: number
}

export function createMetrics(readHeap: ReadHeap = readProcessHeap) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const heapUsedBytes = new Gauge({
    name: METRIC_NAMES['nodejs.heap.used.bytes'],
    help: 'V8 heap used, in bytes',
    registers: [registry],
    collect() {
      this.set(readHeap().heapUsed)
    },
  })
  const heapPercent = new Gauge({
    name: METRIC_NAMES['nodejs.heap.percent'],
    help: 'V8 heap used, in percent of the heap limit',
    registers: [registry],
    collect() {
      const heap = readHeap()
      this.set((heap.heapUsed / heap.heapLimit) * 100)
    },
  })
  // A histogram, not a gauge of the last value: concurrent generations would overwrite each other.
  const generationMemoryPeakBytes = new Histogram({
    name: METRIC_NAMES['suggestion.generation.memory.peak'],
    help: 'Peak heap used while a suggestion generation ran, in bytes',
    buckets: [16, 32, 64, 128, 256, 512, 1024, 2048].map((mb) => mb * 1024 * 1024),
    registers: [registry],
  })
  const generationDurationSeconds = new Histogram({
    name: METRIC_NAMES['suggestion.generation.duration'],
    help: 'Duration of a suggestion generation, in seconds',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  const generationContactsProcessedTotal = new Counter({
    name: METRIC_NAMES['suggestion.generation.contacts.processed'],
    help: 'Contacts read by suggestion generations',
    registers: [registry],
  })
  let streams = { open: () => 0, waitingForChanges: () => 0, walks: () => ({ running: 0, waiting: 0 }) }
  const subscriptionsActive = new Gauge({
    name: 'suggestions_subscriptions_active',
    help: 'Suggestion streams open in this process',
    registers: [registry],
    collect() {
      this.set(streams.open())
    },
  })
  const subscriptionsWaiting = new Gauge({
    name: 'suggestions_subscriptions_waiting',
    help: 'Live suggestion streams in this process that sent everything and wait for a change',
    registers: [registry],
    collect() {
      this.set(streams.waitingForChanges())
    },
  })
  const walks = new Gauge({
    name: 'suggestion_walks',
    help: 'Suggestion walks in this process, running or waiting for admission',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const { running, waiting } = streams.walks()
      this.set({ state: 'running' }, running)
      this.set({ state: 'waiting' }, waiting)
    },
  })
  const syncRunsTotal = new Counter({
    name: 'sync_runs_total',
    help: 'Account syncs (CardDAV / CalDAV) by outcome: OK, NEEDS_REAUTH, RETRY (to be retried), ERROR',
    labelNames: ['outcome'],
    registers: [registry],
  })
  const syncDurationSeconds = new Histogram({
    name: 'sync_duration_seconds',
    help: 'Duration of an account sync, in seconds',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  })
  const syncItemsChangedTotal = new Counter({
    name: 'sync_items_changed_total',
    help: 'Contacts and events an account sync created, updated, removed, restored or wrote back',
    registers: [registry],
  })
  const webhookAttemptsTotal = new Counter({
    name: 'webhook_attempts_total',
    help: 'Webhook delivery attempts by result: succeeded, retry (failed, to be retried), failed (for good), skipped (already done, paused or deleted)',
    labelNames: ['result'],
    registers: [registry],
  })
  const webhookAttemptDurationSeconds = new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: 'Time from sending a webhook to its answer (or failure), in seconds',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  })
  let pendingWebhooks: () => Promise<number> = async () => 0
  const webhookDeliveriesPending = new Gauge({
    name: 'webhook_deliveries_pending',
    help: 'Webhook deliveries waiting for their first or next attempt (all processes: read from the database at scrape)',
    registers: [registry],
    async collect() {
      this.set(await pendingWebhooks().catch(() => Number.NaN))
    },
  })
  return {
    registry,
    webhookAttemptsTotal,
    webhookAttemptDurationSeconds,
    webhookDeliveriesPending,
    /** One webhook attempt that ran (webhooks/deliver.ts): its result and duration (ms; not observed when skipped). */
    recordWebhookAttempt(attempt: { result: string; durationMs: number }): void {
      webhookAttemptsTotal.inc({ result: attempt.result })
      if (attempt.result !== 'skipped') webhookAttemptDurationSeconds.observe(attempt.durationMs / SECOND_MS)
    },
    /** Where the pending deliveries gauge reads its value (a count in the database). */
    observeWebhooks(countPending: () => Promise<number>): void {
      pendingWebhooks = countPending
    },
    syncRunsTotal,
    syncDurationSeconds,
    syncItemsChangedTotal,
    /** One account sync that ran (sync/run-sync.ts): its outcome, duration (ms) and items changed. */
    recordSync(run: { outcome: string; durationMs: number; changed: number }): void {
      syncRunsTotal.inc({ outcome: run.outcome })
      syncDurationSeconds.observe(run.durationMs / SECOND_MS)
      if (run.changed > 0) syncItemsChangedTotal.inc(run.changed)
    },
    subscriptionsActive,
    subscriptionsWaiting,
    walks,
    /** Where the gauges of open streams and of walks read their values. */
    observeStreams(source: typeof streams): void {
      streams = source
    },
    heapUsedBytes,
    heapPercent,
    generationMemoryPeakBytes,
    generationDurationSeconds,
    generationContactsProcessedTotal,
    recordGeneration(stats: GenerationStats): void {
      generationDurationSeconds.observe(stats.durationMs / SECOND_MS)
      generationMemoryPeakBytes.observe(stats.peakHeapUsedBytes)
      generationContactsProcessedTotal.inc(stats.contactsProcessed)
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
