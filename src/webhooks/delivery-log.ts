/**
 * The delivery log of an endpoint (issue 17): its deliveries newest first, a page at a time (keyset on the uuid v7
 * id, with a signed cursor), each with its recent attempts; and the two things a user does with it: send a
 * delivery again (`redeliverWebhook`) and send a test event (`sendTestWebhook`). Always through the owner.
 */
import { z } from 'zod'
import { decodeCursor, encodeCursor, scopeDigest } from '../cursors/cursor-codec.ts'
import { badUserInput, notFound } from '../errors.ts'
import type { PrismaClient, WebhookAttempt, WebhookDelivery } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { intBetween, parseInput } from '../validation.ts'
import { TEST_EVENT_TYPE } from './event-types.ts'
import { webhookPayload } from './webhook-events.ts'

/** Page size of `deliveries`: default and bounds (1..MAX). */
export const DEFAULT_DELIVERIES_PAGE = 20
export const MAX_DELIVERIES_PAGE = 100
/** Attempts shown per delivery (the latest). */
export const ATTEMPTS_PER_DELIVERY = 20

/** A delivery with its latest attempts, oldest first. */
export type DeliveryView = WebhookDelivery & { attempts: WebhookAttempt[] }

const pageSizeSchema = intBetween(1, MAX_DELIVERIES_PAGE)
const cursorSchema = z.strictObject({ id: z.uuid() })
const withAttempts = { attempts: { orderBy: [{ attemptedAt: 'desc' as const }, { id: 'desc' as const }], take: ATTEMPTS_PER_DELIVERY } }
const oldestFirst = (delivery: DeliveryView): DeliveryView => ({ ...delivery, attempts: [...delivery.attempts].reverse() })

/**
 * The deliveries of endpoint `endpointId` (the caller checked it is the viewer's), newest first, `first` 1..100.
 *
 * @throws ClientError BAD_USER_INPUT naming `first` or `after` (not a cursor of this list).
 */
export async function listDeliveries(prisma: PrismaClient, endpointId: string, first: number, after: string | null | undefined) {
  const size = parseInput(pageSizeSchema, first, 'first')
  const scope = scopeDigest({ endpointId, list: 'webhook-deliveries' })
  const last = after ? decodeCursor('webhook-deliveries', scope, after, cursorSchema, 'after').id : undefined
  const rows = await prisma.webhookDelivery.findMany({
    where: { endpointId, ...(last === undefined ? {} : { id: { lt: last } }) },
    orderBy: { id: 'desc' },
    take: size + 1,
    include: withAttempts,
  })
  const page = rows.slice(0, size).map(oldestFirst)
  return { rows: page, hasMore: rows.length > size, cursorAt: (index: number) => encodeCursor('webhook-deliveries', scope, { id: page[index]!.id }) }
}

/** The viewer's delivery `id` (through its endpoint's owner), or null. */
export async function findDelivery(prisma: PrismaClient, userId: string, id: string): Promise<DeliveryView | null> {
  if (!isUuid(id)) return null
  const delivery = await prisma.webhookDelivery.findFirst({ where: { id, endpoint: { userId } }, include: withAttempts })
  return delivery ? oldestFirst(delivery) : null
}

async function activeEndpoint(prisma: PrismaClient, userId: string, endpointId: string, field: string) {
  const endpoint = isUuid(endpointId) ? await prisma.webhookEndpoint.findFirst({ where: { id: endpointId, userId }, select: { id: true, paused: true, disabledAt: true } }) : null
  if (!endpoint) throw notFound('webhook endpoint')
  if (endpoint.paused || endpoint.disabledAt) throw badUserInput(`${field}: the endpoint is ${endpoint.paused ? 'paused' : 'disabled'}: resume it first (updateWebhookEndpoint with paused: false)`, field)
  return endpoint
}

/**
 * Sends delivery `id` again, as it was (same `webhook-id`, so a receiver that has it can tell), from the start of
 * the retry schedule; one still PENDING is left as it is (it is queued). NOT_FOUND for another user's or an
 * unknown delivery; BAD_USER_INPUT naming `deliveryId` when its endpoint is paused or disabled.
 */
export async function redeliver(prisma: PrismaClient, enqueue: (deliveryId: string) => Promise<void>, userId: string, id: string, now: Date): Promise<DeliveryView> {
  const delivery = await findDelivery(prisma, userId, id)
  if (!delivery) throw notFound('webhook delivery')
  await activeEndpoint(prisma, userId, delivery.endpointId, 'deliveryId')
  if (delivery.state !== 'PENDING') {
    const { count } = await prisma.webhookDelivery.updateMany({ where: { id, state: delivery.state }, data: { state: 'PENDING', attemptCount: 0, nextAttemptAt: now } })
    if (count === 1) await enqueue(id)
  }
  return (await findDelivery(prisma, userId, id))!
}

/** Sends a `webhook.test` event (`data: { endpointId }`) to endpoint `endpointId` now, as a delivery of its own. Same refusals as {@link redeliver} (`endpointId`). */
export async function sendTestEvent(prisma: PrismaClient, enqueue: (deliveryId: string) => Promise<void>, userId: string, endpointId: string, globalEndpointId: string, now: Date): Promise<DeliveryView> {
  await activeEndpoint(prisma, userId, endpointId, 'endpointId')
  const delivery = await prisma.webhookDelivery.create({
    data: { endpointId, eventType: TEST_EVENT_TYPE, payload: webhookPayload(TEST_EVENT_TYPE, now, { endpointId: globalEndpointId }), nextAttemptAt: now },
    select: { id: true },
  })
  await enqueue(delivery.id)
  return (await findDelivery(prisma, userId, delivery.id))!
}
