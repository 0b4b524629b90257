/**
 * The bound on what a user makes the server send on demand (webhooks/delivery-log.ts): `sendTestWebhook` and
 * `redeliverWebhook` together, at most MAX_MANUAL_SENDS_PER_HOUR per user in a fixed hourly window, on both databases.
 * Without it one client looped sendTestWebhook (300 in 22 s, each a row, a job and a POST to a URL of its choosing).
 * Past the bound: RATE_LIMITED with `limit` and `retryAfterSeconds`, nothing created or reset; concurrent sends at the
 * edge take exactly what is left; deleting and creating endpoints does not reset it; the next window does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientError } from '../../src/errors.ts'
import { MANUAL_SENDS_WINDOW_MS, MAX_MANUAL_SENDS_PER_HOUR, redeliver, sendTestEvent } from '../../src/webhooks/delivery-log.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()
const NOW = new Date('2026-12-01T12:00:00Z')

describe.each(kinds)('webhook test sends and redeliveries, on %s', (kind) => {
  let db: TestDatabase
  let users = 0
  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(async () => {
    await db?.destroy()
  })

  async function setup() {
    const user = await createUserWithContacts(db.prisma, `manual${++users}@example.com`, 0)
    const endpoint = () => db.prisma.webhookEndpoint.create({ data: { userId: user.id, url: 'https://hooks.example.com/in', eventTypes: ['contact.created'], secret: 'sealed' } })
    const queued: string[] = []
    const enqueue = async (id: string) => void queued.push(id)
    const sendTest = (endpointId: string, at = NOW) => sendTestEvent(db.prisma, enqueue, user.id, endpointId, `global-${endpointId}`, at)
    return { user, endpoint, queued, enqueue, sendTest }
  }
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ClientError)
    return error as ClientError
  }

  it('lets concurrent sends at the edge take exactly what is left, then refuses RATE_LIMITED with when to retry, creating nothing', async () => {
    const { user, endpoint, queued, sendTest } = await setup()
    const [first, second] = [await endpoint(), await endpoint()]
    // Most of the window is spent (set directly: 95 sends would only slow the test).
    await db.prisma.user.update({ where: { id: user.id }, data: { webhookSends: MAX_MANUAL_SENDS_PER_HOUR - 5, webhookSendsSince: new Date(NOW.getTime() - 10 * 60_000) } })
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => sendTest(i % 2 === 0 ? first.id : second.id)))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5)
    for (const result of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(result.reason).toBeInstanceOf(ClientError)
      // 10 minutes of the hour gone: 50 minutes to wait.
      expect(result.reason).toMatchObject({ code: 'RATE_LIMITED', details: { limit: MAX_MANUAL_SENDS_PER_HOUR, retryAfterSeconds: 50 * 60 } })
    }
    expect(await db.prisma.webhookDelivery.count({ where: { endpoint: { userId: user.id } } })).toBe(5)
    expect(queued).toHaveLength(5)
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).webhookSends).toBe(MAX_MANUAL_SENDS_PER_HOUR)
  })

  it('counts redeliveries in the same bound, leaves a refused one as it was, and is not reset by a new endpoint; the next window is', async () => {
    const { user, endpoint, queued, enqueue, sendTest } = await setup()
    const first = await endpoint()
    const done = await db.prisma.webhookDelivery.create({ data: { endpointId: first.id, eventType: 'contact.created', payload: '{}', state: 'SUCCEEDED', attemptCount: 1 } })
    expect((await redeliver(db.prisma, enqueue, user.id, done.id, NOW)).state).toBe('PENDING')
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).webhookSends).toBe(1)
    // A redelivery of a delivery still pending sends nothing and counts nothing.
    await redeliver(db.prisma, enqueue, user.id, done.id, NOW)
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).webhookSends).toBe(1)
    expect(queued).toEqual([done.id])

    await db.prisma.webhookDelivery.update({ where: { id: done.id }, data: { state: 'FAILED', attemptCount: 10 } })
    await db.prisma.user.update({ where: { id: user.id }, data: { webhookSends: MAX_MANUAL_SENDS_PER_HOUR } })
    expect(await refusal(redeliver(db.prisma, enqueue, user.id, done.id, NOW))).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 3600 } })
    expect(await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: done.id } })).toMatchObject({ state: 'FAILED', attemptCount: 10 })

    await db.prisma.webhookEndpoint.delete({ where: { id: first.id } })
    const second = await endpoint()
    expect(await refusal(sendTest(second.id, new Date(NOW.getTime() + MANUAL_SENDS_WINDOW_MS - 1000)))).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 1 } })
    const sent = await sendTest(second.id, new Date(NOW.getTime() + MANUAL_SENDS_WINDOW_MS))
    expect(sent.eventType).toBe('webhook.test')
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ webhookSends: 1, webhookSendsSince: new Date(NOW.getTime() + MANUAL_SENDS_WINDOW_MS) })
  })

  it("answers NOT_FOUND for another user's endpoint without taking a send", async () => {
    const { endpoint } = await setup()
    const { user: other, sendTest: otherSends } = await setup()
    const foreign = await endpoint()
    expect(await refusal(otherSends(foreign.id))).toMatchObject({ code: 'NOT_FOUND' })
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: other.id } })).webhookSends).toBe(0)
  })
})
