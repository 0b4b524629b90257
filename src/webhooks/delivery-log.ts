/**
 * The delivery log of an endpoint (issue 17): its deliveries newest first, a page at a time (keyset on the uuid v7
 * id, with a signed cursor), each with its recent attempts; and the two things a user does with it: send a
 * delivery again (`redeliverWebhook`) and send a test event (`sendTestWebhook`). Always through the owner. Those
 * two are bounded per user ({@link MAX_MANUAL_SENDS_PER_HOUR}): each makes the server POST to a URL of the user's
 * choosing, and a test send adds a row.
 */
import { z } from 'zod'
import { decodeCursor, encodeCursor, scopeDigest } from '../cursors/cursor-codec.ts'
import { badUserInput, ClientError, notFound } from '../errors.ts'
import type { Prisma, PrismaClient, WebhookAttempt, WebhookDelivery } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { HOUR_MS, SECOND_MS } from '../time.ts'
import { intBetween, parseInput } from '../validation.ts'
import { TEST_EVENT_TYPE } from './event-types.ts'
import { webhookPayload } from './webhook-events.ts'

/** Page size of `deliveries`: default and bounds (1..MAX). */
export const DEFAULT_DELIVERIES_PAGE = 20
export const MAX_DELIVERIES_PAGE = 100
/** Attempts shown per delivery (the latest): a whole schedule; also what the query cost counts for the list. */
export const ATTEMPTS_PER_DELIVERY = 10
/** Test sends and redeliveries one user may make in {@link MANUAL_SENDS_WINDOW_MS}, all endpoints together; past it RATE_LIMITED. */
export const MAX_MANUAL_SENDS_PER_HOUR = 100
/** The fixed window of {@link MAX_MANUAL_SENDS_PER_HOUR}, in ms. */
export const MANUAL_SENDS_WINDOW_MS = HOUR_MS

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
 * Takes one of the user's manual sends (test sends and redeliveries) in `tx`, the transaction that makes the send: a
 * fixed window of {@link MANUAL_SENDS_WINDOW_MS} on the user's row, begun by its first send (a conditional update:
 * two concurrent sends cannot both take the last one). Kept on the user, not the endpoint, so deleting and creating
 * endpoints does not reset it.
 *
 * @throws ClientError RATE_LIMITED with `limit` and `retryAfterSeconds` (when the window ends) past {@link MAX_MANUAL_SENDS_PER_HOUR}.
 */
async function takeManualSend(tx: Prisma.TransactionClient, userId: string, now: Date): Promise<void> {
  const windowStart = new Date(now.getTime() - MANUAL_SENDS_WINDOW_MS)
  const opened = await tx.user.updateMany({ where: { id: userId, OR: [{ webhookSendsSince: null }, { webhookSendsSince: { lte: windowStart } }] }, data: { webhookSends: 1, webhookSendsSince: now } })
  if (opened.count === 1) return
  const counted = await tx.user.updateMany({ where: { id: userId, webhookSendsSince: { gt: windowStart }, webhookSends: { lt: MAX_MANUAL_SENDS_PER_HOUR } }, data: { webhookSends: { increment: 1 } } })
  if (counted.count === 1) return
  const since = (await tx.user.findUnique({ where: { id: userId }, select: { webhookSendsSince: true } }))?.webhookSendsSince ?? now
  const retryAfterSeconds = Math.max(1, Math.ceil((since.getTime() + MANUAL_SENDS_WINDOW_MS - now.getTime()) / SECOND_MS))
  throw new ClientError('RATE_LIMITED', `At most ${MAX_MANUAL_SENDS_PER_HOUR} test sends and redeliveries an hour per user; retry in ${retryAfterSeconds} s`, {
    limit: MAX_MANUAL_SENDS_PER_HOUR,
    retryAfterSeconds,
  })
}

/**
 * Sends delivery `id` again, as it was (same `webhook-id`, so a receiver that has it can tell), from the start of
 * the retry schedule; one still PENDING is left as it is (it is queued, and nothing is counted). NOT_FOUND for
 * another user's or an unknown delivery; BAD_USER_INPUT naming `deliveryId` when its endpoint is paused or disabled;
 * RATE_LIMITED past {@link MAX_MANUAL_SENDS_PER_HOUR} (the delivery left as it was).
 */
export async function redeliver(prisma: PrismaClient, enqueue: (deliveryId: string) => Promise<void>, userId: string, id: string, now: Date): Promise<DeliveryView> {
  const delivery = await findDelivery(prisma, userId, id)
  if (!delivery) throw notFound('webhook delivery')
  await activeEndpoint(prisma, userId, delivery.endpointId, 'deliveryId')
  if (delivery.state !== 'PENDING') {
    const reset = await prisma.$transaction(async (tx) => {
      const { count } = await tx.webhookDelivery.updateMany({ where: { id, state: delivery.state }, data: { state: 'PENDING', attemptCount: 0, nextAttemptAt: now } })
      if (count === 1) await takeManualSend(tx, userId, now)
      return count === 1
    })
    if (reset) await enqueue(id)
  }
  return (await findDelivery(prisma, userId, id))!
}

/**
 * Sends a `webhook.test` event (`data: { endpointId }`) to endpoint `endpointId` now, as a delivery of its own. Same
 * refusals as {@link redeliver} (`endpointId`), RATE_LIMITED included (nothing created then).
 */
export async function sendTestEvent(prisma: PrismaClient, enqueue: (deliveryId: string) => Promise<void>, userId: string, endpointId: string, globalEndpointId: string, now: Date): Promise<DeliveryView> {
  await activeEndpoint(prisma, userId, endpointId, 'endpointId')
  const payload = webhookPayload(TEST_EVENT_TYPE, now, { endpointId: globalEndpointId })
  const delivery = await prisma.$transaction(async (tx) => {
    // The endpoint held until the row is in: a delete meanwhile waits (or went first: NOT_FOUND, not a foreign-key failure).
    const held = await tx.$queryRaw<unknown[]>`SELECT 1 FROM "WebhookEndpoint" WHERE id = ${endpointId}::uuid AND "userId" = ${userId}::uuid FOR SHARE`
    if (held.length === 0) throw notFound('webhook endpoint')
    await takeManualSend(tx, userId, now)
    return tx.webhookDelivery.create({ data: { endpointId, eventType: TEST_EVENT_TYPE, payload, nextAttemptAt: now }, select: { id: true } })
  })
  await enqueue(delivery.id)
  return (await findDelivery(prisma, userId, delivery.id))!
}
