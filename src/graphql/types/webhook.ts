/**
 * Webhooks (issue 17): the WebhookEndpoint node (owner-scoped; never its secrets), `webhookEndpoints`,
 * `createWebhookEndpoint` (the secret in the answer, once), `updateWebhookEndpoint` (`paused: false` resumes),
 * `pauseWebhookEndpoint`, `rotateWebhookSecret`, `deleteWebhookEndpoint`. All need webhooks:manage (a session has it).
 * The delivery log: `WebhookEndpoint.deliveries(first, after)`, `redeliverWebhook(deliveryId)`, `sendTestWebhook(endpointId)`.
 * Thin resolvers over webhooks/endpoints.ts and webhooks/delivery-log.ts.
 */
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  listWebhookEndpoints,
  MAX_WEBHOOK_DESCRIPTION,
  pauseWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type EndpointWithSecret,
  type WebhookEndpointView,
} from '../../webhooks/endpoints.ts'
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/event-types.ts'
import { DEFAULT_DELIVERIES_PAGE, findDelivery, listDeliveries, MAX_DELIVERIES_PAGE, MAX_MANUAL_SENDS_PER_HOUR, redeliver, sendTestEvent, ATTEMPTS_PER_DELIVERY, type DeliveryView } from '../../webhooks/delivery-log.ts'
import type { WebhookAttempt } from '../../generated/prisma/client.ts'
import { connectionOf, pageComplexity } from '../connection.ts'
import { MAX_WEBHOOK_URL_LENGTH } from '../../webhooks/webhook-url.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { builder } from '../builder.ts'
import { viewerOf, type AuthenticatedContext } from '../context.ts'

const WebhookEndpointStatusEnum = builder.enumType('WebhookEndpointStatus', {
  description: 'Whether an endpoint receives events.',
  values: {
    ACTIVE: { description: 'Events are delivered' },
    PAUSED: { description: 'Paused by its owner (pauseWebhookEndpoint); resume with updateWebhookEndpoint(input: { paused: false })' },
    DISABLED: { description: 'Disabled by the server (410 Gone, or failing for 5 days): see disabledReason; re-enable with updateWebhookEndpoint(input: { paused: false })' },
  } as const,
})

const statusOf = (endpoint: WebhookEndpointView) => (endpoint.disabledAt ? 'DISABLED' : endpoint.paused ? 'PAUSED' : 'ACTIVE') as 'ACTIVE' | 'PAUSED' | 'DISABLED'

/** The WebhookEndpoint node: loaded with the viewer in its `where` (another user's: NOT_FOUND through `node`). */
export const WebhookEndpointType = builder.objectRef<WebhookEndpointView>('WebhookEndpoint')
builder.node(WebhookEndpointType, {
  description: 'A receiver of webhooks (Standard Webhooks signatures). Its secret was shown once, at creation or rotation, and is never shown again.',
  id: { resolve: (endpoint) => endpoint.id },
  loadOne: (id, context) => findWebhookEndpoint(context.prisma, viewerOf(context), id),
  fields: (t) => ({
    url: t.exposeString('url'),
    eventTypes: t.stringList({ description: `Some of ${WEBHOOK_EVENT_TYPES.join(', ')}`, resolve: (endpoint) => endpoint.eventTypes }),
    description: t.exposeString('description', { nullable: true }),
    status: t.field({ type: WebhookEndpointStatusEnum, resolve: statusOf }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Why the server disabled the endpoint (null: it did not)' }),
    failingSince: t.expose('failingSince', {
      type: 'DateTime',
      nullable: true,
      description: 'The first failed attempt of the current failing streak (null: not failing; failures more than 2 days apart start a new streak); 5 days of it disable the endpoint',
    }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation: until when the previous secret still signs beside the new one (null: no rotation under way, or none yet)',
      resolve: (endpoint, _args, context) => (endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > context.clock.now() ? endpoint.previousSecretExpiresAt : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

const WebhookDeliveryStateEnum = builder.enumType('WebhookDeliveryState', {
  values: {
    PENDING: { description: 'Waiting for its first or next attempt' },
    SUCCEEDED: { description: 'The endpoint answered 2xx; never sent again (unless redeliverWebhook)' },
    FAILED: { description: 'Out of attempts, or the endpoint was paused or disabled meanwhile' },
  } as const,
})

const WebhookAttemptType = builder.objectRef<WebhookAttempt>('WebhookAttempt').implement({
  description: 'One HTTP attempt of a delivery.',
  fields: (t) => ({
    attemptedAt: t.expose('attemptedAt', { type: 'DateTime' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The HTTP status; null: no answer (timeout, network error, refused address)' }),
    durationMs: t.exposeInt('durationMs'),
    error: t.exposeString('error', { nullable: true, description: 'Why it failed (null: it succeeded)' }),
    nextRetryAt: t.expose('nextRetryAt', { type: 'DateTime', nullable: true, description: 'When the next attempt was scheduled (null: none)' }),
  }),
})

/** The WebhookDelivery node: one event for one endpoint; loaded through its endpoint's owner. */
export const WebhookDeliveryType = builder.objectRef<DeliveryView>('WebhookDelivery')
builder.node(WebhookDeliveryType, {
  description: 'One event sent (or to be sent) to one endpoint, with its attempts.',
  id: { resolve: (delivery) => delivery.id },
  loadOne: (id, context) => findDelivery(context.prisma, viewerOf(context), id),
  fields: (t) => ({
    webhookId: t.exposeString('id', { description: 'The `webhook-id` header of every attempt: the receiver\'s idempotency key' }),
    eventType: t.exposeString('eventType'),
    state: t.expose('state', { type: WebhookDeliveryStateEnum }),
    payload: t.exposeString('payload', { description: 'The JSON body sent: `{type, timestamp, data}`' }),
    attemptCount: t.exposeInt('attemptCount', { description: 'Attempts of the current schedule (a redeliverWebhook starts it again from 0); `attempts` the latest attempts logged, across schedules' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    attempts: t.field({ type: [WebhookAttemptType], description: `The latest ${ATTEMPTS_PER_DELIVERY} attempts, oldest first`, complexity: { field: 1, multiplier: ATTEMPTS_PER_DELIVERY }, resolve: (delivery) => delivery.attempts }),
  }),
})

const WebhookDeliveryConnection = builder.connectionObject({ type: WebhookDeliveryType, name: 'WebhookDeliveryConnection' })
const deliveriesCost = pageComplexity(DEFAULT_DELIVERIES_PAGE, MAX_DELIVERIES_PAGE)

builder.objectField(WebhookEndpointType, 'deliveries', (t) =>
  t.field({
    type: WebhookDeliveryConnection,
    description: 'The delivery log: deliveries newest first, each with its attempts.',
    complexity: deliveriesCost,
    args: { first: t.arg.int({ defaultValue: DEFAULT_DELIVERIES_PAGE, description: `1..${MAX_DELIVERIES_PAGE}` }), after: t.arg.string() },
    // The parent endpoint was loaded with its owner in the where: its deliveries are the viewer's.
    resolve: async (endpoint, args, context) => connectionOf(await listDeliveries(context.prisma, endpoint.id, args.first ?? DEFAULT_DELIVERIES_PAGE, args.after), args.after),
  }),
)

const CreatedWebhookEndpointType = builder.objectRef<EndpointWithSecret>('CreatedWebhookEndpoint').implement({
  description: 'An endpoint just made (or whose secret was just rotated), and its signing secret: copy it now, it is never shown again.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointType, resolve: (created) => created.endpoint }),
    secret: t.exposeString('secret', { description: 'The signing secret, `whsec_` + base64 (the Standard Webhooks format). Shown once.' }),
  }),
})

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: `An https URL (http outside production), at most ${MAX_WEBHOOK_URL_LENGTH} characters, on a public address` }),
    eventTypes: t.stringList({ required: true, description: `At least one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }),
    description: t.string({ description: `At most ${MAX_WEBHOOK_DESCRIPTION} characters` }),
  }),
})

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ description: 'A new URL (same rules as at creation); null or absent: unchanged' }),
    eventTypes: t.stringList({ description: 'The new event types; null or absent: unchanged' }),
    description: t.string({ description: 'A new description; null: cleared; absent: unchanged' }),
    paused: t.boolean({ description: 'true pauses; false resumes a paused endpoint and re-enables a disabled one; absent: unchanged' }),
  }),
})

const endpointDeps = (context: AuthenticatedContext) => ({ prisma: context.prisma, ...context.webhooks })

builder.queryField('webhookEndpoints', (t) =>
  t.withAuth({ scope: 'webhooks:manage' }).field({
    type: [WebhookEndpointType],
    nullable: true,
    description: "The viewer's webhook endpoints, oldest first.",
    resolve: (_root, _args, context) => listWebhookEndpoints(context.prisma, context.userId),
  }),
)

builder.mutationFields((t) => {
  const manage = t.withAuth({ scope: 'webhooks:manage' })
  return {
    createWebhookEndpoint: manage.field({
      type: CreatedWebhookEndpointType,
      description:
        'Makes a webhook endpoint; the answer holds its signing secret, once. The URL is checked (https in production; not a loopback, private or link-local address) and checked again at every delivery. At most MAX_WEBHOOK_ENDPOINTS_PER_USER (QUOTA_EXCEEDED past it).',
      args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
      resolve: (_root, { input }, context) => createWebhookEndpoint(endpointDeps(context), context.userId, input),
    }),
    updateWebhookEndpoint: manage.field({
      type: WebhookEndpointType,
      description: 'Changes an endpoint; `paused: false` resumes it (and re-enables one the server disabled). Unknown or another user\'s id: NOT_FOUND.',
      args: { id: t.arg.globalID({ required: true, for: WebhookEndpointType }), input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
      resolve: (_root, { id, input }, context) => updateWebhookEndpoint(endpointDeps(context), context.userId, id.id, input),
    }),
    pauseWebhookEndpoint: manage.field({
      type: WebhookEndpointType,
      description: 'Pauses an endpoint: no events are delivered to it until updateWebhookEndpoint(input: { paused: false }). Idempotent.',
      args: { id: t.arg.globalID({ required: true, for: WebhookEndpointType }) },
      resolve: (_root, { id }, context) => pauseWebhookEndpoint(context.prisma, context.userId, id.id),
    }),
    rotateWebhookSecret: manage.field({
      type: CreatedWebhookEndpointType,
      description: 'Gives an endpoint a new signing secret (in the answer, once). For 24 hours the previous secret keeps signing beside it: deliveries carry both signatures.',
      args: { id: t.arg.globalID({ required: true, for: WebhookEndpointType }) },
      resolve: (_root, { id }, context) => rotateWebhookSecret(endpointDeps(context), context.userId, id.id, context.clock.now()),
    }),
    redeliverWebhook: manage.field({
      type: WebhookDeliveryType,
      description: `Sends a delivery again (same webhook-id), from the start of the retry schedule; one still pending is left as it is. Its endpoint must be active (BAD_USER_INPUT otherwise). With sendTestWebhook, at most ${MAX_MANUAL_SENDS_PER_HOUR} an hour per user (RATE_LIMITED with retryAfterSeconds past it).`,
      args: { deliveryId: t.arg.globalID({ required: true, for: WebhookDeliveryType }) },
      resolve: (_root, { deliveryId }, context) => redeliver(context.prisma, (id) => context.webhooks.enqueueDelivery(id), context.userId, deliveryId.id, context.clock.now()),
    }),
    sendTestWebhook: manage.field({
      type: WebhookDeliveryType,
      description: `Sends a \`webhook.test\` event (\`data: { endpointId }\`) to an active endpoint now; follow it in the endpoint's deliveries. With redeliverWebhook, at most ${MAX_MANUAL_SENDS_PER_HOUR} an hour per user (RATE_LIMITED with retryAfterSeconds past it).`,
      args: { endpointId: t.arg.globalID({ required: true, for: WebhookEndpointType }) },
      resolve: (_root, { endpointId }, context) =>
        sendTestEvent(context.prisma, (id) => context.webhooks.enqueueDelivery(id), context.userId, endpointId.id, encodeGlobalID('WebhookEndpoint', endpointId.id), context.clock.now()),
    }),
    deleteWebhookEndpoint: manage.boolean({
      description: 'Deletes an endpoint with its delivery log; deliveries under way are dropped. Unknown or another user\'s id: NOT_FOUND.',
      args: { id: t.arg.globalID({ required: true, for: WebhookEndpointType }) },
      resolve: (_root, { id }, context) => deleteWebhookEndpoint(context.prisma, context.userId, id.id),
    }),
  }
})
