/**
 * Webhook endpoints (issue 17): a user's (or a partner key's with webhooks:manage) receivers of events. Create (the
 * secret is in the answer, once), list, update (a `paused: false` resumes a paused or disabled endpoint), pause,
 * rotate the secret (the previous one keeps signing beside the new one for {@link PREVIOUS_SECRET_TTL_MS}), delete.
 * Every function has the owner in its `where`: another user's endpoint is NOT_FOUND, like an unknown one.
 */
import { z } from 'zod'
import { ClientError, notFound } from '../errors.ts'
import type { Prisma, PrismaClient, WebhookEndpoint } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { HOUR_MS } from '../time.ts'
import { parseInput, storableString } from '../validation.ts'
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-types.ts'
import { generateWebhookSecret } from './webhook-secrets.ts'
import { checkWebhookUrl, type WebhookUrlPolicy } from './webhook-url.ts'

/** The longest description, in characters. */
export const MAX_WEBHOOK_DESCRIPTION = 500
/** How long the secret replaced by a rotation keeps signing beside the new one. */
export const PREVIOUS_SECRET_TTL_MS = 24 * HOUR_MS

/** What the endpoint functions need: the database, the URL policy, the quota and the sealing of secrets. */
export interface WebhookEndpointDeps {
  prisma: PrismaClient
  urlPolicy: WebhookUrlPolicy
  /** MAX_WEBHOOK_ENDPOINTS_PER_USER. */
  maxEndpointsPerUser: number
  /** Seals a secret for storage (webhook-secrets.ts `sealWebhookSecret` bound to SECRET_KEY). */
  seal(secret: string): string
}

/** The columns an endpoint is shown with: never its secrets. */
export const WEBHOOK_ENDPOINT_VIEW_SELECT = {
  id: true,
  userId: true,
  url: true,
  eventTypes: true,
  description: true,
  paused: true,
  disabledAt: true,
  disabledReason: true,
  failingSince: true,
  previousSecretExpiresAt: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.WebhookEndpointSelect

/** An endpoint as the API shows it. */
export type WebhookEndpointView = Pick<WebhookEndpoint, keyof typeof WEBHOOK_ENDPOINT_VIEW_SELECT>

/** An endpoint and its secret in clear: the answer of a create or a rotation, the only time the secret is shown. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpointView
  secret: string
}

const eventTypesSchema = z
  .array(storableString().max(64), { error: 'must be a list of event types' })
  .min(1, `must name at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`)
  .max(WEBHOOK_EVENT_TYPES.length * 4, `must name at most ${WEBHOOK_EVENT_TYPES.length * 4} event types`)
  .superRefine((names, context) => {
    for (const [index, name] of names.entries()) {
      if (!isWebhookEventType(name)) {
        context.addIssue({ code: 'custom', path: [index], message: `unknown event type "${name.slice(0, 64)}": use some of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
        return
      }
    }
  })
  .transform((names) => WEBHOOK_EVENT_TYPES.filter((type) => names.includes(type)) as WebhookEventType[])

const descriptionSchema = storableString()
  .max(MAX_WEBHOOK_DESCRIPTION, `must be at most ${MAX_WEBHOOK_DESCRIPTION} characters`)
  .transform((value) => (value.trim() === '' ? null : value.trim()))

const createSchema = z.object({
  url: z.unknown(),
  eventTypes: eventTypesSchema,
  description: descriptionSchema.nullish(),
})

const updateSchema = z.object({
  url: z.unknown().optional(),
  eventTypes: eventTypesSchema.nullish(),
  description: descriptionSchema.nullish(),
  paused: z.boolean().nullish(),
})

/** The viewer's endpoint `id`, or null (unknown, malformed, or another user's). */
export async function findWebhookEndpoint(prisma: PrismaClient, userId: string, id: string): Promise<WebhookEndpointView | null> {
  if (!isUuid(id)) return null
  return prisma.webhookEndpoint.findFirst({ where: { id, userId }, select: WEBHOOK_ENDPOINT_VIEW_SELECT })
}

/** The viewer's endpoints, oldest first (at most MAX_WEBHOOK_ENDPOINTS_PER_USER). */
export async function listWebhookEndpoints(prisma: PrismaClient, userId: string): Promise<WebhookEndpointView[]> {
  return prisma.webhookEndpoint.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: WEBHOOK_ENDPOINT_VIEW_SELECT, take: 1000 })
}

/**
 * Creates an endpoint with a new secret, returned in clear once. Checks the input (BAD_USER_INPUT naming
 * `input.url`, `input.eventTypes.<i>`, `input.description`), the URL ({@link checkWebhookUrl}: scheme, length,
 * the SSRF guard) and the quota (QUOTA_EXCEEDED, `resource: 'webhookEndpoints'`, taken under the user's row lock
 * so two concurrent creates cannot both take the last place).
 */
export async function createWebhookEndpoint(deps: WebhookEndpointDeps, userId: string, rawInput: unknown): Promise<EndpointWithSecret> {
  const input = parseInput(createSchema, rawInput, 'input')
  const url = await checkWebhookUrl(input.url, deps.urlPolicy)
  const secret = generateWebhookSecret()
  const endpoint = await deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
    const count = await tx.webhookEndpoint.count({ where: { userId } })
    if (count >= deps.maxEndpointsPerUser) {
      throw new ClientError('QUOTA_EXCEEDED', `Quota reached: at most ${deps.maxEndpointsPerUser} webhook endpoints per user`, { limit: deps.maxEndpointsPerUser, resource: 'webhookEndpoints' })
    }
    return tx.webhookEndpoint.create({
      data: { userId, url, eventTypes: input.eventTypes, description: input.description ?? null, secret: deps.seal(secret) },
      select: WEBHOOK_ENDPOINT_VIEW_SELECT,
    })
  })
  return { endpoint, secret }
}

async function requireEndpoint(prisma: PrismaClient, userId: string, id: string): Promise<WebhookEndpointView> {
  const endpoint = await findWebhookEndpoint(prisma, userId, id)
  if (!endpoint) throw notFound('webhook endpoint')
  return endpoint
}

/**
 * Changes an endpoint: `url`, `eventTypes` (null or absent: unchanged), `description` (null: cleared), `paused`
 * (true pauses; false resumes, and also re-enables an endpoint the server disabled, clearing its reason and its
 * failing streak). Same checks as {@link createWebhookEndpoint}; NOT_FOUND for an unknown or another user's id.
 */
export async function updateWebhookEndpoint(deps: WebhookEndpointDeps, userId: string, id: string, rawInput: unknown): Promise<WebhookEndpointView> {
  const input = parseInput(updateSchema, rawInput, 'input')
  await requireEndpoint(deps.prisma, userId, id)
  const url = input.url === undefined || input.url === null ? undefined : await checkWebhookUrl(input.url, deps.urlPolicy)
  const data: Prisma.WebhookEndpointUpdateManyMutationInput = {
    ...(url === undefined ? {} : { url }),
    ...(input.eventTypes == null ? {} : { eventTypes: input.eventTypes }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.paused == null ? {} : input.paused ? { paused: true } : { paused: false, disabledAt: null, disabledReason: null, failingSince: null }),
  }
  const { count } = await deps.prisma.webhookEndpoint.updateMany({ where: { id, userId }, data })
  if (count === 0) throw notFound('webhook endpoint')
  return requireEndpoint(deps.prisma, userId, id)
}

/** Pauses an endpoint: nothing is delivered to it until `updateWebhookEndpoint(input: { paused: false })`. Idempotent. */
export async function pauseWebhookEndpoint(prisma: PrismaClient, userId: string, id: string): Promise<WebhookEndpointView> {
  if (!isUuid(id)) throw notFound('webhook endpoint')
  const { count } = await prisma.webhookEndpoint.updateMany({ where: { id, userId }, data: { paused: true } })
  if (count === 0) throw notFound('webhook endpoint')
  return requireEndpoint(prisma, userId, id)
}

/** Deletes an endpoint with its deliveries and their attempts (their jobs then find nothing to send). NOT_FOUND when unknown. */
export async function deleteWebhookEndpoint(prisma: PrismaClient, userId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) throw notFound('webhook endpoint')
  const { count } = await prisma.webhookEndpoint.deleteMany({ where: { id, userId } })
  if (count === 0) throw notFound('webhook endpoint')
  return true
}

/**
 * Gives an endpoint a new secret, returned in clear once. The secret it replaces keeps signing beside the new one
 * until `now` + {@link PREVIOUS_SECRET_TTL_MS} (deliveries carry both signatures), so a receiver can switch at its
 * pace. A second rotation within that time replaces the previous secret with the one it rotates out.
 */
export async function rotateWebhookSecret(deps: WebhookEndpointDeps, userId: string, id: string, now: Date): Promise<EndpointWithSecret> {
  if (!isUuid(id)) throw notFound('webhook endpoint')
  const secret = generateWebhookSecret()
  const endpoint = await deps.prisma.$transaction(async (tx) => {
    // Under the row's lock: of two rotations at once, the second rotates out the first one's secret, never loses it.
    const [current] = await tx.$queryRaw<{ secret: string }[]>`SELECT secret FROM "WebhookEndpoint" WHERE id = ${id}::uuid AND "userId" = ${userId}::uuid FOR UPDATE`
    if (!current) throw notFound('webhook endpoint')
    return tx.webhookEndpoint.update({
      where: { id },
      data: { secret: deps.seal(secret), previousSecret: current.secret, previousSecretExpiresAt: new Date(now.getTime() + PREVIOUS_SECRET_TTL_MS) },
      select: WEBHOOK_ENDPOINT_VIEW_SELECT,
    })
  })
  return { endpoint, secret }
}
