/**
 * Webhook endpoints end to end (issue 17, part 1), on a real server and both databases: a session and an API key
 * with webhooks:manage create, list, update, pause, resume, rotate and delete endpoints; the secret is in the
 * Standard Webhooks format, shown once and stored sealed (never in clear); a key without webhooks:manage is
 * FORBIDDEN naming it; another user's endpoint is NOT_FOUND; the quota is QUOTA_EXCEEDED; link-local addresses are
 * refused even with WEBHOOKS_ALLOW_PRIVATE_URLS; test sends and redeliveries past their hourly bound are RATE_LIMITED.
 */
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_SERVER_SECRET_KEY } from '../helpers/server.ts'
import { openWebhookSecret } from '../../src/webhooks/webhook-secrets.ts'
import { MAX_MANUAL_SENDS_PER_HOUR } from '../../src/webhooks/delivery-log.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

const FIELDS = 'id url eventTypes description status disabledAt disabledReason failingSince previousSecretExpiresAt createdAt updatedAt'
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { ${FIELDS} } } }`
const LIST = `{ webhookEndpoints { ${FIELDS} } }`
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { ${FIELDS} } }`
const PAUSE = `mutation($id: ID!) { pauseWebhookEndpoint(id: $id) { ${FIELDS} } }`
const ROTATE = `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { ${FIELDS} } } }`
const DELETE = 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }'
const MAX_ENDPOINTS = 3

describe.each(kinds)('webhook endpoints, on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db, { env: { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true', MAX_WEBHOOK_ENDPOINTS_PER_USER: String(MAX_ENDPOINTS) } })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  const newUser = (): Promise<FixtureUser> => createUserWithContacts(db.prisma, `hooks${++users}@example.com`, 1)
  const apiKey = async (session: string, scopes: string[]) => {
    const answer = await server.query<{ createApiKey: { key: string } }>('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { name: 'hooks', scopes } }, session)
    expect(answer.errors).toBeUndefined()
    return answer.data!.createApiKey.key
  }
  const create = async (token: string, input: Record<string, unknown>) => {
    const answer = await server.query<{ createWebhookEndpoint: { secret: string; endpoint: Record<string, any> } }>(CREATE, { input }, token)
    expect(answer.errors).toBeUndefined()
    return answer.data!.createWebhookEndpoint
  }

  it('creates an endpoint whose secret is a Standard Webhooks secret, shown once and stored sealed', async () => {
    const alice = await newUser()
    const created = await create(alice.token, { url: 'http://127.0.0.1:9/hook', eventTypes: ['interaction.logged', 'contact.created', 'contact.created'], description: '  CRM  ' })
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
    expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24)
    // The package's own class reads it and signs with it.
    expect(new Webhook(created.secret).sign('msg_1', new Date(), '{}')).toMatch(/^v1,/)
    // Event types deduplicated, in the documented order; the description trimmed.
    expect(created.endpoint).toMatchObject({ url: 'http://127.0.0.1:9/hook', eventTypes: ['contact.created', 'interaction.logged'], description: 'CRM', status: 'ACTIVE', previousSecretExpiresAt: null })
    const row = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: alice.id } })
    expect(row.secret).not.toContain(created.secret.slice(6))
    expect(openWebhookSecret(TEST_SERVER_SECRET_KEY, row.secret)).toBe(created.secret)
    const list = await server.query<{ webhookEndpoints: unknown[] }>(LIST, {}, alice.token)
    expect(list.data!.webhookEndpoints).toEqual([created.endpoint])
    expect(JSON.stringify(list)).not.toContain(created.secret.slice(6))
  })

  it('updates, pauses, resumes (paused: false, which also re-enables a disabled endpoint), rotates and deletes', async () => {
    const bob = await newUser()
    const { endpoint, secret } = await create(bob.token, { url: 'http://127.0.0.1:9/a', eventTypes: ['contact.updated'] })
    const updated = await server.query<{ updateWebhookEndpoint: Record<string, any> }>(UPDATE, { id: endpoint.id, input: { url: 'http://localhost:9/b', eventTypes: ['suggestions.updated'], description: 'new' } }, bob.token)
    expect(updated.errors).toBeUndefined()
    expect(updated.data!.updateWebhookEndpoint).toMatchObject({ url: 'http://localhost:9/b', eventTypes: ['suggestions.updated'], description: 'new', status: 'ACTIVE' })
    const cleared = await server.query<{ updateWebhookEndpoint: Record<string, any> }>(UPDATE, { id: endpoint.id, input: { description: null } }, bob.token)
    expect(cleared.data!.updateWebhookEndpoint).toMatchObject({ url: 'http://localhost:9/b', description: null })

    const paused = await server.query<{ pauseWebhookEndpoint: Record<string, any> }>(PAUSE, { id: endpoint.id }, bob.token)
    expect(paused.data!.pauseWebhookEndpoint.status).toBe('PAUSED')
    // The server disabled it meanwhile (as a 410 does): resuming clears that too.
    await db.prisma.webhookEndpoint.update({ where: { id: (await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: bob.id } })).id }, data: { disabledAt: new Date(), disabledReason: 'The endpoint answered 410 Gone', failingSince: new Date() } })
    expect((await server.query<{ webhookEndpoints: Record<string, any>[] }>(LIST, {}, bob.token)).data!.webhookEndpoints[0]).toMatchObject({ status: 'DISABLED', disabledReason: 'The endpoint answered 410 Gone' })
    const resumed = await server.query<{ updateWebhookEndpoint: Record<string, any> }>(UPDATE, { id: endpoint.id, input: { paused: false } }, bob.token)
    expect(resumed.data!.updateWebhookEndpoint).toMatchObject({ status: 'ACTIVE', disabledAt: null, disabledReason: null, failingSince: null })

    const before = Date.now()
    const rotated = await server.query<{ rotateWebhookSecret: { secret: string; endpoint: Record<string, any> } }>(ROTATE, { id: endpoint.id }, bob.token)
    expect(rotated.errors).toBeUndefined()
    expect(rotated.data!.rotateWebhookSecret.secret).toMatch(/^whsec_/)
    expect(rotated.data!.rotateWebhookSecret.secret).not.toBe(secret)
    const expires = new Date(rotated.data!.rotateWebhookSecret.endpoint.previousSecretExpiresAt).getTime()
    expect(expires - before).toBeGreaterThan(24 * 3600_000 - 60_000)
    expect(expires - before).toBeLessThanOrEqual(24 * 3600_000 + 60_000)
    const row = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: bob.id } })
    expect(openWebhookSecret(TEST_SERVER_SECRET_KEY, row.secret)).toBe(rotated.data!.rotateWebhookSecret.secret)
    expect(openWebhookSecret(TEST_SERVER_SECRET_KEY, row.previousSecret!)).toBe(secret)

    const deleted = await server.query<{ deleteWebhookEndpoint: boolean }>(DELETE, { id: endpoint.id }, bob.token)
    expect(deleted.data).toEqual({ deleteWebhookEndpoint: true })
    expect((await server.query<{ webhookEndpoints: unknown[] }>(LIST, {}, bob.token)).data!.webhookEndpoints).toEqual([])
    expect((await server.query(DELETE, { id: endpoint.id }, bob.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })

  it('keeps both secrets of two rotations at once: one signs, the other is the previous one', async () => {
    const dave = await newUser()
    const { endpoint } = await create(dave.token, { url: 'http://127.0.0.1:9/twice', eventTypes: ['contact.updated'] })
    const both = await Promise.all([0, 1].map(() => server.query<{ rotateWebhookSecret: { secret: string } }>(ROTATE, { id: endpoint.id }, dave.token)))
    const secrets = both.map((answer) => answer.data!.rotateWebhookSecret.secret)
    const row = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: dave.id } })
    expect([openWebhookSecret(TEST_SERVER_SECRET_KEY, row.secret), openWebhookSecret(TEST_SERVER_SECRET_KEY, row.previousSecret!)].sort()).toEqual(secrets.sort())
    // Past its 24 hours the previous secret signs no more, and previousSecretExpiresAt says so (null).
    await db.prisma.webhookEndpoint.update({ where: { id: row.id }, data: { previousSecretExpiresAt: new Date(Date.now() - 1000) } })
    expect((await server.query<{ webhookEndpoints: Record<string, any>[] }>(LIST, {}, dave.token)).data!.webhookEndpoints[0]!.previousSecretExpiresAt).toBeNull()
  })

  it('lets an API key with webhooks:manage manage endpoints, and refuses one without it with FORBIDDEN naming the scope', async () => {
    const carol = await newUser()
    const manager = await apiKey(carol.token, ['webhooks:manage'])
    const reader = await apiKey(carol.token, ['contacts:read', 'contacts:write'])
    const { endpoint } = await create(manager, { url: 'http://127.0.0.1:9/key', eventTypes: ['contact.archived'] })
    expect((await server.query<{ webhookEndpoints: { id: string }[] }>(LIST, {}, manager)).data!.webhookEndpoints.map((e) => e.id)).toEqual([endpoint.id])
    const endpointRow = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: carol.id } })
    const delivery = await db.prisma.webhookDelivery.create({ data: { endpointId: endpointRow.id, eventType: 'contact.archived', payload: '{}', state: 'FAILED' } })
    const deliveryId = Buffer.from(`WebhookDelivery:${delivery.id}`).toString('base64')
    for (const [document, variables] of [
      ['mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }', { id: endpoint.id }],
      ['mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }', { id: deliveryId }],
      ['query($id: ID!) { node(id: $id) { id } }', { id: deliveryId }],
      [LIST, {}],
      [CREATE, { input: { url: 'http://127.0.0.1:9/x', eventTypes: ['contact.created'] } }],
      [UPDATE, { id: endpoint.id, input: { paused: true } }],
      [PAUSE, { id: endpoint.id }],
      [ROTATE, { id: endpoint.id }],
      [DELETE, { id: endpoint.id }],
    ] as const) {
      const answer = await server.query(document, variables, reader)
      expect(answer.errors?.[0]?.extensions, document).toMatchObject({ code: 'FORBIDDEN', scope: 'webhooks:manage' })
    }
    // Nothing changed, and node(id) needs the scope too.
    expect((await db.prisma.webhookEndpoint.findMany({ where: { userId: carol.id } })).map((row) => [row.paused, row.previousSecret])).toEqual([[false, null]])
    expect(await db.prisma.webhookDelivery.findMany({ where: { endpointId: endpointRow.id }, select: { state: true } })).toEqual([{ state: 'FAILED' }])
    const node = await server.query(`query($id: ID!) { node(id: $id) { id } }`, { id: endpoint.id }, reader)
    expect(node.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'webhooks:manage' })
    expect((await server.query<{ node: { id: string } }>(`query($id: ID!) { node(id: $id) { id } }`, { id: endpoint.id }, manager)).data!.node.id).toBe(endpoint.id)
  })

  it("answers NOT_FOUND for another user's endpoint, through every mutation and node(id)", async () => {
    const dave = await newUser()
    const erin = await newUser()
    const { endpoint } = await create(dave.token, { url: 'http://127.0.0.1:9/dave', eventTypes: ['contact.created'] })
    for (const [document, variables] of [
      [UPDATE, { id: endpoint.id, input: { description: 'mine' } }],
      [PAUSE, { id: endpoint.id }],
      [ROTATE, { id: endpoint.id }],
      [DELETE, { id: endpoint.id }],
      ['query($id: ID!) { node(id: $id) { id } }', { id: endpoint.id }],
    ] as const) {
      expect((await server.query(document, variables, erin.token)).errors?.[0]?.extensions?.code, document).toBe('NOT_FOUND')
    }
    const row = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: dave.id } })
    expect([row.description, row.paused, row.previousSecret]).toEqual([null, false, null])
  })

  it('refuses past MAX_WEBHOOK_ENDPOINTS_PER_USER with QUOTA_EXCEEDED, also when creates race', async () => {
    const frank = await newUser()
    const answers = await Promise.all(
      Array.from({ length: MAX_ENDPOINTS + 3 }, (_, i) => server.query(CREATE, { input: { url: `http://127.0.0.1:9/${i}`, eventTypes: ['contact.created'] } }, frank.token)),
    )
    expect(answers.filter((answer) => answer.errors === undefined)).toHaveLength(MAX_ENDPOINTS)
    for (const answer of answers.filter((a) => a.errors !== undefined)) {
      expect(answer.errors![0]!.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: MAX_ENDPOINTS, resource: 'webhookEndpoints' })
    }
    expect(await db.prisma.webhookEndpoint.count({ where: { userId: frank.id } })).toBe(MAX_ENDPOINTS)
  })

  it('refuses link-local addresses (cloud metadata) even with WEBHOOKS_ALLOW_PRIVATE_URLS', async () => {
    const gina = await newUser()
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/hook', 'http://[::ffff:169.254.169.254]/']) {
      const answer = await server.query(CREATE, { input: { url, eventTypes: ['contact.created'] } }, gina.token)
      expect(answer.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' })
    }
    expect(await db.prisma.webhookEndpoint.count({ where: { userId: gina.id } })).toBe(0)
  })
  it('refuses sendTestWebhook and redeliverWebhook past the hourly bound with RATE_LIMITED and retryAfterSeconds, creating and resetting nothing', async () => {
    const hana = await newUser()
    const { endpoint } = await create(hana.token, { url: 'http://127.0.0.1:9/hana', eventTypes: ['contact.created'] })
    const row = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: hana.id } })
    const failed = await db.prisma.webhookDelivery.create({ data: { endpointId: row.id, eventType: 'contact.created', payload: '{}', state: 'FAILED', attemptCount: 10 } })
    await db.prisma.user.update({ where: { id: hana.id }, data: { webhookSends: MAX_MANUAL_SENDS_PER_HOUR, webhookSendsSince: new Date() } })
    const deliveryId = Buffer.from(`WebhookDelivery:${failed.id}`).toString('base64')
    for (const [document, variables] of [
      ['mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }', { id: endpoint.id }],
      ['mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }', { id: deliveryId }],
    ] as const) {
      const answer = await server.query(document, variables, hana.token)
      expect(answer.errors?.[0]?.extensions, document).toMatchObject({ code: 'RATE_LIMITED', limit: MAX_MANUAL_SENDS_PER_HOUR, retryAfterSeconds: expect.any(Number) })
    }
    expect(await db.prisma.webhookDelivery.findMany({ where: { endpointId: row.id }, select: { state: true, attemptCount: true } })).toEqual([{ state: 'FAILED', attemptCount: 10 }])
  })
})
