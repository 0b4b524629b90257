/**
 * Webhook deliveries end to end (issue 17, part 2), on a real server with a receiver on loopback
 * (WEBHOOKS_ALLOW_PRIVATE_URLS=true) that verifies every delivery with the standardwebhooks package: the events of
 * the contact writes, one coalesced `suggestions.updated` for a burst of changes, retries with the same
 * `webhook-id` (500, 500, 200: three attempts, never a fourth), 410 disabling the endpoint, both secrets signing
 * during a rotation, and a delivery that survives a restart of the server mid-retry and is sent once after success.
 * The retry schedule is shortened (its real delays are tested on a fake clock in test/unit/webhook-retry-schedule.test.ts).
 */
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.ts'

const kinds = await availableDatabaseKinds()
const ENV = { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' }
const SHORT_SCHEDULE = [0, 100, 100, 100, 100, 100, 100, 100, 100, 100]
const CREATE = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }'
const WITHIN = { timeout: 15_000, interval: 50 }

describe.each(kinds)('webhook deliveries, on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let receiver: WebhookReceiver
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db, { env: ENV, webhookRetryScheduleMs: SHORT_SCHEDULE })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })
  afterEach(async () => {
    await receiver?.close()
  })

  const newUser = (): Promise<FixtureUser> => createUserWithContacts(db.prisma, `deliveries${++users}@example.com`, 6)
  async function endpoint(user: FixtureUser, eventTypes: string[], onServer = server) {
    receiver = await startWebhookReceiver()
    const answer = await onServer.query<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(CREATE, { input: { url: receiver.url, eventTypes } }, user.token)
    expect(answer.errors).toBeUndefined()
    return answer.data!.createWebhookEndpoint
  }
  const verified = (secret: string, request: ReceivedWebhook) => new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, any> }
  const createContact = async (user: FixtureUser, name: string, onServer = server) => {
    const answer = await onServer.query<{ createContact: { id: string } }>('mutation($name: String!) { createContact(input: { name: $name }) { id } }', { name }, user.token)
    expect(answer.errors).toBeUndefined()
    return answer.data!.createContact.id
  }

  it('sends interaction.logged for each logged interaction and one coalesced suggestions.updated for the burst', async () => {
    const alice = await newUser()
    const { secret } = await endpoint(alice, ['interaction.logged', 'suggestions.updated'])
    const [first, second] = (await db.prisma.contact.findMany({ where: { userId: alice.id, archived: false }, orderBy: { id: 'asc' }, take: 2, select: { id: true } })).map((c) => c.id)
    for (const id of [first, second]) {
      const contactId = Buffer.from(`Contact:${id}`).toString('base64')
      const answer = await server.query('mutation($id: ID!) { logInteraction(contactId: $id, input: { kind: CALL }) { id } }', { id: contactId }, alice.token)
      expect(answer.errors).toBeUndefined()
    }
    await vi.waitFor(() => expect(receiver.received.map((r) => verified(secret, r).type).sort()).toEqual(['interaction.logged', 'interaction.logged', 'suggestions.updated']), WITHIN)
    const events = receiver.received.map((r) => verified(secret, r))
    const logged = events.filter((e) => e.type === 'interaction.logged')
    expect(logged.map((e) => e.data.contactId).sort()).toEqual([first, second].map((id) => Buffer.from(`Contact:${id}`).toString('base64')).sort())
    expect(logged[0]!.data.kind).toBe('CALL')
    const updated = events.find((e) => e.type === 'suggestions.updated')!
    expect(updated.data.suggestions.length).toBeGreaterThan(0)
    expect(updated.data.suggestions[0]).toEqual({ id: expect.any(String), contactId: expect.any(String) })
    for (const request of receiver.received) expect(Buffer.byteLength(request.body)).toBeLessThan(20 * 1024)
    // One suggestions.updated delivery was made for the burst: the regeneration job is debounced per user.
    expect(await db.prisma.webhookDelivery.count({ where: { eventType: 'suggestions.updated', endpoint: { userId: alice.id } } })).toBe(1)
  })

  it('retries 500, 500, then 200: three attempts with the same webhook-id and valid fresh signatures, then never again', async () => {
    const bob = await newUser()
    const { secret, endpoint: created } = await endpoint(bob, ['contact.created'])
    receiver.answer = (n) => ({ status: n < 2 ? 500 : 200 })
    const contactId = await createContact(bob, 'Retried')
    await vi.waitFor(async () => expect(await db.prisma.webhookDelivery.findFirst({ where: { endpoint: { userId: bob.id } }, select: { state: true } })).toEqual({ state: 'SUCCEEDED' }), WITHIN)
    expect(receiver.received).toHaveLength(3)
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']))
    expect(ids.size).toBe(1)
    for (const request of receiver.received) expect(verified(secret, request)).toMatchObject({ type: 'contact.created', data: { contactId } })
    const delivery = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { endpoint: { userId: bob.id } }, include: { attempts: { orderBy: { attemptedAt: 'asc' } } } })
    expect(delivery.id).toBe([...ids][0])
    expect(delivery.attemptCount).toBe(3)
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200])
    expect(delivery.attempts.map((a) => a.nextRetryAt === null)).toEqual([false, false, true])
    expect((await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: Buffer.from(created.id, 'base64').toString().split(':')[1]! } })).failingSince).toBeNull()
  })

  it('disables the endpoint at a 410, says why, and sends it nothing more', async () => {
    const carol = await newUser()
    const { endpoint: created } = await endpoint(carol, ['contact.created', 'contact.updated'])
    receiver.answer = () => ({ status: 410 })
    await createContact(carol, 'Gone')
    const list = '{ webhookEndpoints { id status disabledReason } }'
    await vi.waitFor(async () => expect((await server.query<{ webhookEndpoints: any[] }>(list, {}, carol.token)).data!.webhookEndpoints[0].status).toBe('DISABLED'), WITHIN)
    expect((await server.query<{ webhookEndpoints: any[] }>(list, {}, carol.token)).data!.webhookEndpoints[0]).toMatchObject({ id: created.id, disabledReason: expect.stringMatching(/410/) })
    expect(receiver.received).toHaveLength(1)
    expect(await db.prisma.webhookDelivery.findMany({ where: { endpoint: { userId: carol.id } }, select: { state: true } })).toEqual([{ state: 'FAILED' }])
    await createContact(carol, 'Not sent')
    expect(await db.prisma.webhookDelivery.count({ where: { endpoint: { userId: carol.id } } })).toBe(1)
  })

  it('signs with both secrets for a day after a rotation: a receiver holding either verifies', async () => {
    const dave = await newUser()
    const { secret: oldSecret, endpoint: created } = await endpoint(dave, ['contact.created'])
    const rotated = await server.query<{ rotateWebhookSecret: { secret: string } }>('mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id: created.id }, dave.token)
    const newSecret = rotated.data!.rotateWebhookSecret.secret
    await createContact(dave, 'Rotated')
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), WITHIN)
    const [request] = receiver.received
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(verified(oldSecret, request!).type).toBe('contact.created')
    expect(verified(newSecret, request!).type).toBe('contact.created')
  })

  it('keeps a delivery log (newest first, keyset pages), sends a test event, sends a delivery again with its webhook-id, and counts attempts on /metrics', async () => {
    const frank = await newUser()
    const { secret, endpoint: created } = await endpoint(frank, ['contact.created'])
    const test = await server.query<{ sendTestWebhook: { id: string; webhookId: string; eventType: string } }>('mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id webhookId eventType } }', { id: created.id }, frank.token)
    expect(test.errors).toBeUndefined()
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), WITHIN)
    expect(verified(secret, receiver.received[0]!)).toMatchObject({ type: 'webhook.test', data: { endpointId: created.id } })
    await createContact(frank, 'Logged')
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), WITHIN)
    const LOG = `query($first: Int, $after: String) { webhookEndpoints { deliveries(first: $first, after: $after) { edges { cursor node { id webhookId eventType state attemptCount attempts { statusCode durationMs error nextRetryAt } } } pageInfo { hasNextPage endCursor } } } }`
    type Log = { webhookEndpoints: { deliveries: { edges: { cursor: string; node: any }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }[] }
    await vi.waitFor(async () => {
      const all = await server.query<Log>(LOG, { first: 10 }, frank.token)
      expect(all.data!.webhookEndpoints[0]!.deliveries.edges.map((e) => e.node.state)).toEqual(['SUCCEEDED', 'SUCCEEDED'])
    }, WITHIN)
    const first = await server.query<Log>(LOG, { first: 1 }, frank.token)
    const page1 = first.data!.webhookEndpoints[0]!.deliveries
    expect(page1.edges.map((e) => e.node.eventType)).toEqual(['contact.created'])
    expect(page1.edges[0]!.node.attempts).toEqual([{ statusCode: 200, durationMs: expect.any(Number), error: null, nextRetryAt: null }])
    expect(page1.pageInfo.hasNextPage).toBe(true)
    const second = await server.query<Log>(LOG, { first: 1, after: page1.pageInfo.endCursor }, frank.token)
    expect(second.errors).toBeUndefined()
    const page2 = second.data!.webhookEndpoints[0]!.deliveries
    expect(page2.edges.map((e) => e.node.id)).toEqual([test.data!.sendTestWebhook.id])
    expect(page2.pageInfo.hasNextPage).toBe(false)

    const again = await server.query<{ redeliverWebhook: { state: string } }>('mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { state } }', { id: page1.edges[0]!.node.id }, frank.token)
    expect(again.errors).toBeUndefined()
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3), WITHIN)
    expect(receiver.received[2]!.headers['webhook-id']).toBe(page1.edges[0]!.node.webhookId)
    expect(verified(secret, receiver.received[2]!).type).toBe('contact.created')

    const metrics = await (await fetch(new URL('/metrics', server.url))).text()
    expect(metrics).toMatch(/^webhook_attempts_total\{result="succeeded"\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^webhook_attempt_duration_seconds_count [1-9]\d*$/m)
    expect(metrics).toMatch(/^webhook_deliveries_pending \d+$/m)
  })

  it('delivers exactly once after a restart of the server mid-retry (the delivery is in the database, not a timer)', async () => {
    const erin = await newUser()
    // A server whose second attempt comes late enough to stop it before.
    const first = await startTestServer(db, { env: ENV, webhookRetryScheduleMs: [0, 60_000] })
    const { secret } = await endpoint(erin, ['contact.created'], first)
    receiver.answer = (n) => ({ status: n === 0 ? 500 : 200 })
    await createContact(erin, 'Restarted', first)
    await vi.waitFor(async () => expect(await db.prisma.webhookAttempt.count({ where: { delivery: { endpoint: { userId: erin.id } } } })).toBe(1), WITHIN)
    await first.close()
    // Another process takes over; the delivery is due at once on its schedule (nextAttemptAt moved to now).
    await db.prisma.webhookDelivery.updateMany({ where: { endpoint: { userId: erin.id } }, data: { nextAttemptAt: new Date() } })
    const second = await startTestServer(db, { env: ENV, webhookRetryScheduleMs: SHORT_SCHEDULE })
    try {
      await vi.waitFor(async () => expect(await db.prisma.webhookDelivery.findFirst({ where: { endpoint: { userId: erin.id } }, select: { state: true, attemptCount: true } })).toEqual({ state: 'SUCCEEDED', attemptCount: 2 }), WITHIN)
      expect(receiver.received).toHaveLength(2)
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1)
      for (const request of receiver.received) verified(secret, request)
    } finally {
      await second.close()
    }
  })
})

describe.runIf(await redisAvailable())('webhook deliveries on BullMQ (Redis)', () => {
  it('runs each delivery as one job: 500 then 200 gives two attempts with one webhook-id, signed', async () => {
    const db = await openTestDatabase('pglite')
    const receiver = await startWebhookReceiver()
    const server = await startTestServer(db, { env: { ...ENV, REDIS_URL: TEST_REDIS_URL }, webhookRetryScheduleMs: SHORT_SCHEDULE, jobsPrefix: uniquePrefix('webhooks') })
    try {
      const user = await createUserWithContacts(db.prisma, 'bullmq@example.com', 2)
      const created = await server.query<{ createWebhookEndpoint: { secret: string } }>(CREATE, { input: { url: receiver.url, eventTypes: ['contact.created'] } }, user.token)
      const secret = created.data!.createWebhookEndpoint.secret
      receiver.answer = (n) => ({ status: n === 0 ? 500 : 200 })
      expect((await server.query('mutation { createContact(input: { name: "Queued" }) { id } }', {}, user.token)).errors).toBeUndefined()
      await vi.waitFor(async () => expect(await db.prisma.webhookDelivery.findFirst({ select: { state: true, attemptCount: true } })).toEqual({ state: 'SUCCEEDED', attemptCount: 2 }), WITHIN)
      expect(receiver.received).toHaveLength(2)
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1)
      for (const request of receiver.received) expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({ type: 'contact.created' })
    } finally {
      await server.close()
      await receiver.close()
      await db.destroy()
    }
  })
})
