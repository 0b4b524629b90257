/**
 * One attempt of a webhook delivery (issue 17), run by its job: checks the delivery is still due (never sent twice
 * after a success), claims the attempt, signs the stored body with the endpoint's secret(s), POSTs it through the
 * outbound guard (the SSRF check again at connection time; 15 s waiting on the receiver; redirects not followed),
 * reads or cancels the answer's body, logs the attempt, and decides what follows: 2xx success; 410 disables the
 * endpoint; anything else is retried on the schedule (retry-schedule.ts; 429 / 503 at their Retry-After), until
 * the schedule ends or the endpoint has failed without a success for {@link DISABLE_AFTER_FAILING_MS}.
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { DAY_MS } from '../time.ts'
import { UnsafeUrlError } from '../net/outbound-fetch.ts'
import { parseRetryAfter } from '../net/retry-after.ts'
import { nextRetryDelayMs, RETRY_SCHEDULE_MS } from './retry-schedule.ts'
import { signedHeaders } from './webhook-signature.ts'

/** An endpoint failing without a success for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * DAY_MS
/**
 * Failures further apart than this are not one streak: the next failure starts a new one, so an endpoint that got
 * no event for a week is not disabled by its first failure after (the schedule's longest wait is 24 h + 10 %, and
 * a Retry-After is capped at a day).
 */
export const FAILURE_STREAK_GAP_MS = 2 * DAY_MS
/** The longest an attempt waits on the receiver (headers and body), in ms. */
export const DELIVERY_TIMEOUT_MS = 15_000
/** The most of an answer's body read (for the log), in bytes; the rest is cancelled. */
const MAX_ANSWER_BYTES = 1024

/** What an attempt needs. */
export interface DeliveryDeps {
  prisma: PrismaClient
  /** The outbound guard's fetch for webhooks (createOutboundFetch with webhookOutboundOptions, 15 s). */
  fetch: typeof fetch
  /** Opens a sealed secret (webhook-secrets.ts `openWebhookSecret` bound to SECRET_KEY). */
  open(sealed: string): string
  now(): Date
  logger: Logger
  /** In [0, 1): the jitter (default Math.random). */
  random?: () => number
  /** The retry schedule (default the specification's; tests pass a short one). */
  schedule?: readonly number[]
  /** Told of each attempt's outcome (metrics, tests). */
  onAttempt?: (attempt: AttemptOutcome) => void
}

/** How an attempt ended. */
export type AttemptResult = 'succeeded' | 'retry' | 'failed' | 'skipped'

/** One attempt's outcome, for metrics and logs. */
export interface AttemptOutcome {
  deliveryId: string
  result: AttemptResult
  statusCode: number | null
  durationMs: number
}

/** What the job runner does next: run the delivery again in `retryInMs`, or not (null). */
export interface DeliveryStep {
  result: AttemptResult
  retryInMs: number | null
}

const SKIP: DeliveryStep = { result: 'skipped', retryInMs: null }

/**
 * Runs the next attempt of delivery `deliveryId`. Resolves with what the runner does next; rejects only when
 * the database fails (the runner retries the job then; the attempt was not claimed, or its claim is repeated).
 */
export async function attemptDelivery(deps: DeliveryDeps, deliveryId: string): Promise<DeliveryStep> {
  const { prisma, logger } = deps
  const delivery = await prisma.webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: { endpoint: { select: { id: true, url: true, secret: true, previousSecret: true, previousSecretExpiresAt: true, paused: true, disabledAt: true, failingSince: true, lastFailureAt: true } } },
  })
  const skip = () => {
    deps.onAttempt?.({ deliveryId, result: 'skipped', statusCode: null, durationMs: 0 })
    return SKIP
  }
  // Deleted with its endpoint, or done (succeeded, or failed for good): never sent again.
  if (!delivery || delivery.state !== 'PENDING') return skip()
  const { endpoint } = delivery
  if (endpoint.paused || endpoint.disabledAt) {
    await prisma.webhookDelivery.updateMany({ where: { id: deliveryId, state: 'PENDING' }, data: { state: 'FAILED', nextAttemptAt: null } })
    return skip()
  }
  // Claim the attempt: of two runners holding the same delivery (a stalled job handed on), one sends.
  const attempt = delivery.attemptCount + 1
  const claimed = await prisma.webhookDelivery.updateMany({ where: { id: deliveryId, state: 'PENDING', attemptCount: delivery.attemptCount }, data: { attemptCount: attempt } })
  if (claimed.count === 0) return skip()

  const now = deps.now()
  let secrets: string[]
  try {
    secrets = [deps.open(endpoint.secret)]
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) secrets.push(deps.open(endpoint.previousSecret))
  } catch {
    // Sealed under another SECRET_KEY: nothing can be signed until the secret is rotated. Failed for good, not retried.
    await prisma.$transaction([
      prisma.webhookAttempt.create({ data: { deliveryId, attemptedAt: now, statusCode: null, durationMs: 0, error: 'The signing secret cannot be read (SECRET_KEY changed?): rotate the secret', nextRetryAt: null } }),
      prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { state: 'FAILED', nextAttemptAt: null } }),
    ])
    logger.error({ deliveryId, endpointId: endpoint.id }, 'webhook secret cannot be opened')
    return { result: 'failed', retryInMs: null }
  }
  const headers = { 'content-type': 'application/json', 'user-agent': 'suggestions-server-webhooks/1', ...signedHeaders(delivery.id, now, delivery.payload, secrets) }
  const started = performance.now()
  let statusCode: number | null = null
  let retryAfterMs: number | null = null
  let error: string | null = null
  try {
    const response = await deps.fetch(endpoint.url, { method: 'POST', headers, body: delivery.payload, redirect: 'manual' })
    statusCode = response.status
    retryAfterMs = statusCode === 429 || statusCode === 503 ? parseRetryAfter(response.headers.get('retry-after'), now) : null
    const answer = await readSome(response)
    if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}${answer ? `: ${answer}` : ''}`
  } catch (failure) {
    error = describeFailure(failure)
  }
  const durationMs = Math.round(performance.now() - started)
  const finishedAt = deps.now()
  const step = await recordAttempt(deps, { deliveryId, endpointId: endpoint.id, failingSince: endpoint.failingSince, lastFailureAt: endpoint.lastFailureAt, attempt, statusCode, retryAfterMs, error, durationMs, at: finishedAt })
  logger[step.result === 'succeeded' ? 'debug' : 'info']({ deliveryId, endpointId: endpoint.id, attempt, statusCode, durationMs, result: step.result, retryInMs: step.retryInMs, error }, 'webhook attempt')
  try {
    deps.onAttempt?.({ deliveryId, result: step.result, statusCode, durationMs })
  } catch {
    // a metrics hook never fails a delivery
  }
  return step
}

interface AttemptFacts {
  deliveryId: string
  endpointId: string
  failingSince: Date | null
  lastFailureAt: Date | null
  attempt: number
  statusCode: number | null
  retryAfterMs: number | null
  error: string | null
  durationMs: number
  at: Date
}

/** Writes the attempt's log row and the delivery's and endpoint's new state (one transaction); returns the next step. */
async function recordAttempt(deps: DeliveryDeps, facts: AttemptFacts): Promise<DeliveryStep> {
  const { prisma } = deps
  const { deliveryId, endpointId, attempt, statusCode, at } = facts
  const attemptRow = { deliveryId, attemptedAt: at, statusCode, durationMs: facts.durationMs, error: facts.error?.slice(0, 1000) ?? null }
  if (statusCode !== null && statusCode >= 200 && statusCode <= 299) {
    // The endpoint's row is written only to end a failing streak: the deliveries of one endpoint running at once do
    // not queue on its row lock.
    await prisma.$transaction([
      prisma.webhookAttempt.create({ data: { ...attemptRow, nextRetryAt: null } }),
      prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { state: 'SUCCEEDED', nextAttemptAt: null } }),
      ...(facts.failingSince === null ? [] : [prisma.webhookEndpoint.update({ where: { id: endpointId }, data: { failingSince: null } })]),
    ])
    return { result: 'succeeded', retryInMs: null }
  }
  const streakGoesOn = facts.failingSince !== null && facts.lastFailureAt !== null && at.getTime() - facts.lastFailureAt.getTime() <= FAILURE_STREAK_GAP_MS
  const failingSince = streakGoesOn ? facts.failingSince! : at
  let disabledReason: string | null = null
  if (statusCode === 410) disabledReason = 'The endpoint answered 410 Gone: it asked for no more deliveries'
  else if (at.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS) {
    disabledReason = `Every delivery failed since ${failingSince.toISOString()} (5 days without a success); last error: ${(facts.error ?? 'unknown').slice(0, 300)}`
  }
  const retryInMs = disabledReason ? null : nextRetryDelayMs(attempt, deps.random ?? Math.random, facts.retryAfterMs, deps.schedule ?? RETRY_SCHEDULE_MS)
  const nextAttemptAt = retryInMs === null ? null : new Date(at.getTime() + retryInMs)
  await prisma.$transaction([
    prisma.webhookAttempt.create({ data: { ...attemptRow, nextRetryAt: nextAttemptAt } }),
    prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { state: retryInMs === null ? 'FAILED' : 'PENDING', nextAttemptAt } }),
    prisma.webhookEndpoint.update({
      where: { id: endpointId },
      data: { failingSince, lastFailureAt: at, ...(disabledReason ? { disabledAt: at, disabledReason } : {}) },
    }),
  ])
  if (disabledReason) deps.logger.warn({ endpointId, reason: disabledReason }, 'webhook endpoint disabled')
  return { result: retryInMs === null ? 'failed' : 'retry', retryInMs }
}

/** Reads at most MAX_ANSWER_BYTES of the answer as text and cancels the rest: the body is always consumed or cancelled. */
async function readSome(response: Response): Promise<string> {
  const body = response.body
  if (!body) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } catch {
    // a body cut or timed out: the status is what counts
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks).subarray(0, 200).toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').trim()
}

/** A failed request, for the log: the guard's refusal, a timeout, or the socket's error code. */
function describeFailure(failure: unknown): string {
  if (failure instanceof UnsafeUrlError) return failure.message
  if (failure instanceof DOMException && failure.name === 'TimeoutError') return `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s`
  if (failure instanceof Error) {
    const code = (failure as { code?: unknown }).code
    return typeof code === 'string' ? `${code}: ${failure.message}`.slice(0, 300) : failure.message.slice(0, 300)
  }
  return 'The request failed'
}
