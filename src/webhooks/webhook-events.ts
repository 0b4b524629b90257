/**
 * From changes to deliveries (issue 17): an event of a user becomes one delivery row per endpoint that wants it
 * (active, not paused or disabled), each queued as one job. `suggestions.updated` is sent after the user's stored
 * suggestions are regenerated (the regeneration job is already debounced and deduplicated per user across
 * processes, so a burst of changes gives one event), and only when the ranking differs from the one last sent to
 * that endpoint. Payloads are thin (`{type, timestamp, data}` with ids), under {@link MAX_PAYLOAD_BYTES}.
 */
import { createHash } from 'node:crypto'
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { ChangeEvent } from '../changes/announce.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { MINUTE_MS } from '../time.ts'
import type { WebhookEventType } from './event-types.ts'

/** The largest payload sent, in bytes. */
export const MAX_PAYLOAD_BYTES = 20 * 1024
/** How often a server sweeps for PENDING deliveries whose job was lost ({@link WebhookEvents.resumePending}). */
export const SWEEP_INTERVAL_MS = 5 * MINUTE_MS
/** A PENDING delivery due longer ago than this is taken for lost by the sweep (a live one is due within a minute). */
export const SWEEP_OVERDUE_MS = 10 * MINUTE_MS
/** Ranked suggestions named in a `suggestions.updated` (the stored top of the list). */
export const SUGGESTIONS_IN_EVENT = 50

/** A payload over {@link MAX_PAYLOAD_BYTES}: a bug in what an event carries, never sent. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError'
}

/**
 * The JSON body of an event: `{ type, timestamp (ISO 8601), data }`.
 *
 * @throws PayloadTooLargeError past {@link MAX_PAYLOAD_BYTES} bytes of UTF-8.
 */
export function webhookPayload(type: string, timestamp: Date, data: Record<string, unknown>): string {
  const body = JSON.stringify({ type, timestamp: timestamp.toISOString(), data })
  if (Buffer.byteLength(body, 'utf8') > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(`a ${type} payload is over ${MAX_PAYLOAD_BYTES} bytes`)
  return body
}

/** What the events need: the database, the delivery queue, the clock. */
export interface WebhookEventDeps {
  prisma: PrismaClient
  /** Queues delivery `deliveryId` (Jobs.enqueueWebhookDelivery) after `delayMs`. */
  enqueue(deliveryId: string, delayMs: number): Promise<void>
  now(): Date
  logger: Logger
}

/** The webhooks' side of the server's changes. */
export interface WebhookEvents {
  /** Creates and queues the deliveries of `type` for `userId`'s endpoints that want it; resolves with their ids. */
  emit(userId: string, type: WebhookEventType, data: Record<string, unknown>): Promise<string[]>
  /** The announcer's hook: a change with an event is emitted (in the background; failures are logged). */
  changed(userId: string, event: ChangeEvent | undefined): void
  /** After a regeneration of `userId`'s stored suggestions: `suggestions.updated` to each endpoint whose last ranking differs. */
  suggestionsRegenerated(userId: string): Promise<void>
  /**
   * Queues PENDING deliveries again, each at its `nextAttemptAt`; resolves with how many. At a start, all of them
   * (deliveries survive a restart); with `overdueMs`, only those due longer ago than that: the periodic sweep for jobs
   * lost (a job given up after its attempts while the database was down, a Redis emptied). Queueing a delivery whose
   * job still waits or runs adds nothing (one job per delivery), and a duplicate attempt is never sent (its claim).
   */
  resumePending(options?: { overdueMs?: number }): Promise<number>
}

/** The webhook events of a running server. */
export function createWebhookEvents(deps: WebhookEventDeps): WebhookEvents {
  const { prisma, logger } = deps

  const activeEndpoints = (userId: string, type: string) =>
    prisma.webhookEndpoint.findMany({ where: { userId, eventTypes: { has: type }, paused: false, disabledAt: null }, select: { id: true, suggestionsDigest: true } })

  async function createDeliveries(endpointIds: string[], type: string, payload: string): Promise<string[]> {
    const ids: string[] = []
    for (const endpointId of endpointIds) {
      const delivery = await prisma.webhookDelivery.create({ data: { endpointId, eventType: type, payload, nextAttemptAt: deps.now() }, select: { id: true } })
      ids.push(delivery.id)
    }
    // Queued after the rows exist: a job never finds its delivery missing (a queue failure leaves it PENDING for the next start).
    for (const id of ids) await deps.enqueue(id, 0)
    return ids
  }

  async function emit(userId: string, type: WebhookEventType, data: Record<string, unknown>): Promise<string[]> {
    const endpoints = await activeEndpoints(userId, type)
    if (endpoints.length === 0) return []
    return createDeliveries(endpoints.map((endpoint) => endpoint.id), type, webhookPayload(type, deps.now(), data))
  }

  return {
    emit,

    changed(userId, event) {
      if (!event) return
      emit(userId, event.type, event.data).catch((error: unknown) => logger.error({ err: error, userId, type: event.type }, 'webhook event not queued'))
    },

    async suggestionsRegenerated(userId) {
      const endpoints = await activeEndpoints(userId, 'suggestions.updated')
      if (endpoints.length === 0) return
      const top = await prisma.suggestion.findMany({
        where: { userId, status: 'PENDING' },
        orderBy: [{ priority: 'desc' }, { id: 'asc' }],
        select: { id: true, contactId: true },
        take: SUGGESTIONS_IN_EVENT,
      })
      const digest = createHash('sha256').update(top.map((row) => row.id).join('\n')).digest('base64url')
      const due = endpoints.filter((endpoint) => endpoint.suggestionsDigest !== digest)
      if (due.length === 0) return
      const payload = webhookPayload('suggestions.updated', deps.now(), {
        suggestions: top.map((row) => ({ id: encodeGlobalID('Suggestion', row.id), contactId: encodeGlobalID('Contact', row.contactId) })),
      })
      // Only the endpoints whose digest this call moved send: two regenerations racing send one event.
      const won: string[] = []
      for (const endpoint of due) {
        const { count } = await prisma.webhookEndpoint.updateMany({ where: { id: endpoint.id, suggestionsDigest: endpoint.suggestionsDigest }, data: { suggestionsDigest: digest } })
        if (count === 1) won.push(endpoint.id)
      }
      await createDeliveries(won, 'suggestions.updated', payload)
    },

    async resumePending({ overdueMs } = {}) {
      let resumed = 0
      let after: string | undefined
      const overdue = overdueMs === undefined ? {} : { OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lt: new Date(deps.now().getTime() - overdueMs) } }] }
      for (;;) {
        const page = await prisma.webhookDelivery.findMany({
          where: { state: 'PENDING', ...overdue, ...(after ? { id: { gt: after } } : {}) },
          orderBy: { id: 'asc' },
          select: { id: true, nextAttemptAt: true },
          take: 500,
        })
        const now = deps.now().getTime()
        for (const delivery of page) await deps.enqueue(delivery.id, Math.max(0, (delivery.nextAttemptAt?.getTime() ?? now) - now))
        resumed += page.length
        if (page.length < 500) return resumed
        after = page[page.length - 1]!.id
      }
    },
  }
}
