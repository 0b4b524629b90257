/**
 * One delivery's attempts (webhooks/deliver.ts) against a scripted fetch and a fake clock, on both databases:
 * the attempt log, Retry-After honoured, the endpoint disabled after 5 days failing (with its reason), a paused
 * endpoint's delivery dropped, a delivery never sent again after a success, even when its job runs twice, a silent
 * receiver timed out and retried, and a host that resolves private at delivery refused (DNS rebinding), both through
 * the real outbound guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.ts'
import { attemptDelivery, DISABLE_AFTER_FAILING_MS, type DeliveryDeps } from '../../src/webhooks/deliver.ts'
import { RETRY_SCHEDULE_MS } from '../../src/webhooks/retry-schedule.ts'
import { generateWebhookSecret, openWebhookSecret, sealWebhookSecret } from '../../src/webhooks/webhook-secrets.ts'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'
import { checkWebhookUrl, webhookOutboundOptions, type WebhookUrlPolicy } from '../../src/webhooks/webhook-url.ts'
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts'
import { createWebhookEvents, SWEEP_OVERDUE_MS } from '../../src/webhooks/webhook-events.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()
const KEY = 'k'.repeat(40)
const HOUR = 3600_000

describe.each(kinds)('webhook attempts, on %s', (kind) => {
  let db: TestDatabase
  let users = 0
  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(async () => {
    await db?.destroy()
  })

  /** A delivery to a new endpoint, and deps whose fetch answers `statuses` in turn and whose clock the test moves. */
  async function setup(statuses: (number | { status: number; retryAfter: string })[]) {
    const user = await createUserWithContacts(db.prisma, `attempts${++users}@example.com`, 0)
    const secret = generateWebhookSecret()
    const endpoint = await db.prisma.webhookEndpoint.create({ data: { userId: user.id, url: 'https://hooks.example.com/in', eventTypes: ['contact.created'], secret: sealWebhookSecret(KEY, secret) } })
    const delivery = await db.prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventType: 'contact.created', payload: '{"type":"contact.created"}' } })
    const clock = { now: new Date('2026-12-01T00:00:00Z') }
    const sent: { url: string; headers: Record<string, string> }[] = []
    const deps: DeliveryDeps = {
      prisma: db.prisma,
      open: (sealed) => openWebhookSecret(KEY, sealed),
      now: () => clock.now,
      logger: createLogger('silent'),
      random: () => 0.5,
      fetch: (async (url: string, init: RequestInit) => {
        const next = statuses[Math.min(sent.length, statuses.length - 1)]!
        sent.push({ url, headers: init.headers as Record<string, string> })
        const { status, retryAfter } = typeof next === 'number' ? { status: next, retryAfter: undefined } : next
        return new Response(status === 204 ? null : 'answer', { status, headers: retryAfter ? { 'retry-after': retryAfter } : {} })
      }) as typeof fetch,
    }
    return { endpoint, delivery, deps, clock, sent }
  }

  it('logs each attempt and follows the schedule until a success; a job run again after it sends nothing', async () => {
    const { delivery, deps, clock, sent } = await setup([500, 502, 200])
    const steps = []
    for (let i = 0; i < 3; i++) {
      const step = await attemptDelivery(deps, delivery.id)
      steps.push(step)
      if (step.retryInMs !== null) clock.now = new Date(clock.now.getTime() + step.retryInMs)
    }
    expect(steps).toEqual([
      { result: 'retry', retryInMs: RETRY_SCHEDULE_MS[1] },
      { result: 'retry', retryInMs: RETRY_SCHEDULE_MS[2] },
      { result: 'succeeded', retryInMs: null },
    ])
    expect(await attemptDelivery(deps, delivery.id)).toEqual({ result: 'skipped', retryInMs: null })
    expect(sent).toHaveLength(3)
    expect(new Set(sent.map((s) => s.headers['webhook-id']))).toEqual(new Set([delivery.id]))
    const attempts = await db.prisma.webhookAttempt.findMany({ where: { deliveryId: delivery.id }, orderBy: { attemptedAt: 'asc' } })
    expect(attempts.map((a) => [a.statusCode, a.error?.slice(0, 8) ?? null])).toEqual([[500, 'HTTP 500'], [502, 'HTTP 502'], [200, null]])
    expect(await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ state: 'SUCCEEDED', attemptCount: 3, nextAttemptAt: null })
  })

  it('waits at least a 429 or 503 Retry-After', async () => {
    const { delivery, deps } = await setup([{ status: 429, retryAfter: '600' }, { status: 503, retryAfter: '1' }])
    expect(await attemptDelivery(deps, delivery.id)).toEqual({ result: 'retry', retryInMs: 600_000 })
    expect(await attemptDelivery(deps, delivery.id)).toEqual({ result: 'retry', retryInMs: RETRY_SCHEDULE_MS[2] })
  })

  it('fails the delivery when the schedule ends, and disables an endpoint failing for 5 days, with why', async () => {
    const { endpoint, delivery, deps, clock } = await setup([500])
    let step = await attemptDelivery(deps, delivery.id)
    let attempts = 1
    while (step.retryInMs !== null) {
      clock.now = new Date(clock.now.getTime() + step.retryInMs)
      step = await attemptDelivery(deps, delivery.id)
      attempts += 1
    }
    // The whole schedule (about 3 days) is under 5 days: the delivery fails, the endpoint stays.
    expect(attempts).toBe(RETRY_SCHEDULE_MS.length)
    expect(step.result).toBe('failed')
    expect(await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ disabledAt: null, failingSince: new Date('2026-12-01T00:00:00Z') })
    // Another event 2 days later still fails: 5 days without a success disable the endpoint.
    const later = await db.prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventType: 'contact.created', payload: '{}' } })
    clock.now = new Date(new Date('2026-12-01T00:00:00Z').getTime() + DISABLE_AFTER_FAILING_MS + HOUR)
    expect(await attemptDelivery(deps, later.id)).toEqual({ result: 'failed', retryInMs: null })
    const disabled = await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })
    expect(disabled.disabledAt).toEqual(clock.now)
    expect(disabled.disabledReason).toMatch(/5 days without a success.*HTTP 500/)
  })

  it('starts a new failing streak after a quiet spell: one failure after a week without events does not disable', async () => {
    const { endpoint, delivery, deps, clock } = await setup([500])
    const start = clock.now.getTime()
    expect((await attemptDelivery(deps, delivery.id)).result).toBe('retry')
    await db.prisma.webhookDelivery.update({ where: { id: delivery.id }, data: { state: 'FAILED' } })
    // A week later, with nothing sent in between, the next event fails once: a new streak, not 7 days of failures.
    const later = await db.prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventType: 'contact.created', payload: '{}' } })
    clock.now = new Date(start + 7 * 24 * HOUR)
    expect((await attemptDelivery(deps, later.id)).result).toBe('retry')
    expect(await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ disabledAt: null, failingSince: clock.now, lastFailureAt: clock.now })
  })

  it('writes the endpoint row on a success only to end a failing streak', async () => {
    const { endpoint, delivery, deps } = await setup([200])
    const before = await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })
    expect((await attemptDelivery(deps, delivery.id)).result).toBe('succeeded')
    expect((await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).updatedAt).toEqual(before.updatedAt)
  })

  it('drops the delivery of a paused endpoint without sending it', async () => {
    const { endpoint, delivery, deps, sent } = await setup([200])
    await db.prisma.webhookEndpoint.update({ where: { id: endpoint.id }, data: { paused: true } })
    expect(await attemptDelivery(deps, delivery.id)).toEqual({ result: 'skipped', retryInMs: null })
    expect(sent).toHaveLength(0)
    expect((await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).state).toBe('FAILED')
  })

  it('fails a delivery whose secret cannot be opened (another SECRET_KEY) without sending or retrying it', async () => {
    const { delivery, deps, sent } = await setup([200])
    const step = await attemptDelivery({ ...deps, open: (sealed) => openWebhookSecret('another-key'.repeat(4), sealed) }, delivery.id)
    expect(step).toEqual({ result: 'failed', retryInMs: null })
    expect(sent).toHaveLength(0)
    expect(await db.prisma.webhookAttempt.findMany({ where: { deliveryId: delivery.id }, select: { error: true } })).toEqual([{ error: expect.stringMatching(/rotate the secret/) }])
  })

  it('times out a receiver that does not answer, and retries it', async () => {
    // Answers nothing: the request waits until the wait budget (here 300 ms, 15 s in production) is spent.
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const { delivery, deps } = await setup([200])
      await db.prisma.webhookEndpoint.update({ where: { id: delivery.endpointId }, data: { url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook` } })
      const fetch = createOutboundFetch(webhookOutboundOptions({ production: false, allowPrivate: true }, 300))
      const step = await attemptDelivery({ ...deps, fetch }, delivery.id)
      expect(step).toEqual({ result: 'retry', retryInMs: RETRY_SCHEDULE_MS[1] })
      const [attempt] = await db.prisma.webhookAttempt.findMany({ where: { deliveryId: delivery.id } })
      expect(attempt).toMatchObject({ statusCode: null, error: expect.stringMatching(/No answer/) })
      expect(attempt!.durationMs).toBeGreaterThanOrEqual(250)
    } finally {
      silent.closeAllConnections()
      silent.close()
    }
  })

  it('refuses at delivery a host that resolved public at creation and private since (DNS rebinding)', async () => {
    const receiver = await startWebhookReceiver()
    try {
      let lookups = 0
      const policy: WebhookUrlPolicy = {
        production: false,
        allowPrivate: false,
        lookup: async () => [{ address: lookups++ === 0 ? '93.184.215.14' : '127.0.0.1', family: 4 }],
      }
      const url = receiver.url.replace('127.0.0.1', 'rebind.example.com')
      expect(await checkWebhookUrl(url, policy)).toBe(url)
      const { delivery, deps } = await setup([200])
      await db.prisma.webhookEndpoint.update({ where: { id: delivery.endpointId }, data: { url } })
      const step = await attemptDelivery({ ...deps, fetch: createOutboundFetch(webhookOutboundOptions(policy, 2000)) }, delivery.id)
      expect(step.result).toBe('retry')
      expect(receiver.received).toHaveLength(0)
      const [attempt] = await db.prisma.webhookAttempt.findMany({ where: { deliveryId: delivery.id } })
      expect(attempt!.error).toMatch(/private or reserved address \(127\.0\.0\.1\).*WEBHOOKS_ALLOW_PRIVATE_URLS/)
    } finally {
      await receiver.close()
    }
  })

  it('sends once when two runners hold the same delivery at once', async () => {
    const { delivery, deps, sent } = await setup([200])
    const results = await Promise.all([attemptDelivery(deps, delivery.id), attemptDelivery(deps, delivery.id)])
    expect(results.map((r) => r.result).sort()).toEqual(['skipped', 'succeeded'])
    expect(sent).toHaveLength(1)
  })

  it('queues again at a start every PENDING delivery, and in a sweep only those overdue (their job lost)', async () => {
    const { endpoint, deps, clock } = await setup([200])
    const at = (minutes: number) => new Date(clock.now.getTime() + minutes * 60_000)
    const row = (state: 'PENDING' | 'SUCCEEDED', nextAttemptAt: Date | null) =>
      db.prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventType: 'contact.created', payload: '{}', state, nextAttemptAt } })
    const lost = await row('PENDING', at(-SWEEP_OVERDUE_MS / 60_000 - 1))
    const neverDue = await row('PENDING', null)
    const waiting = await row('PENDING', at(5))
    const recent = await row('PENDING', at(-1))
    await row('SUCCEEDED', at(-60))
    const queued: [string, number][] = []
    const events = createWebhookEvents({ prisma: db.prisma, now: deps.now, logger: deps.logger, enqueue: async (id, delayMs) => void queued.push([id, delayMs]) })
    const mine = () => queued.filter(([id]) => [lost.id, neverDue.id, waiting.id, recent.id].includes(id))

    await events.resumePending()
    expect(new Map(mine())).toEqual(new Map([[lost.id, 0], [neverDue.id, 0], [waiting.id, 5 * 60_000], [recent.id, 0]]))
    queued.length = 0
    await events.resumePending({ overdueMs: SWEEP_OVERDUE_MS })
    expect(new Map(mine())).toEqual(new Map([[lost.id, 0], [neverDue.id, 0]]))
  })
})
