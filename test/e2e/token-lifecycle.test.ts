/**
 * Tokens die on long-lived streams too (issue 10, kind 6): a live graphql-ws
 * `suggestions` stream closes with 4403, and an SSE one ends with a last
 * UNAUTHENTICATED error, within seconds of its token being revoked (through
 * `revokeToken`, or by another process writing `revokedAt`) or expiring. And
 * the `tokens` / `revokeToken` API: the viewer's own tokens only.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { hashToken, issueToken } from '../../src/auth/tokens.ts'
import { sseClient, wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'

const kinds = await availableDatabaseKinds()

const LIVE = 'subscription { suggestions(input: { maxSuggestions: 5, slots: [] }) { __typename } }'
const TOKENS = '{ tokens { id name createdAt expiresAt lastUsedAt revokedAt current } }'
const REVOKE = 'mutation($id: ID!) { revokeToken(id: $id) { id revokedAt current } }'
/** "Within a few seconds" on a busy machine: the default re-check runs every 2 s. */
const WITHIN = { timeout: 8000, interval: 50 }

interface Token {
  id: string
  name: string | null
  createdAt: string
  expiresAt: string | null
  lastUsedAt: string | null
  revokedAt: string | null
  current: boolean
}

describe.each(kinds)('tokens on long-lived streams, on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  /** A fresh user (so no test shares a per-user stream limit) with a token. */
  const newUser = (): Promise<FixtureUser> => createUserWithContacts(db.prisma, `user${++users}@example.com`, 8)
  const byToken = (token: string) => ({ where: { tokenHash: hashToken(token) } })
  const tokenRow = (token: string) => db.prisma.authToken.findUniqueOrThrow({ ...byToken(token), select: { id: true } })

  /** A live graphql-ws suggestions stream: its events, and the close code once the socket closes. */
  function liveOverWs(token: string) {
    const events: unknown[] = []
    let code: number | undefined
    const client = wsClient(server.url, token, { on: { closed: (event) => void (code ??= (event as { code: number }).code) } })
    client.subscribe({ query: LIVE }, { next: (result) => void events.push(result), error: () => {}, complete: () => {} })
    return { events, code: () => code, dispose: () => client.dispose() }
  }

  /** A live SSE suggestions stream (graphql-sse client): its results, and whether it ended. */
  function liveOverSse(token: string) {
    const results: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[] = []
    let ended = false
    const client = sseClient(server.url, token)
    const done = (async () => {
      for await (const result of client.iterate({ query: LIVE })) results.push(result as (typeof results)[number])
    })()
      .catch((error: unknown) => void results.push({ errors: [{ message: String(error) }] }))
      .finally(() => (ended = true))
    return { results, ended: () => ended, dispose: async () => (client.dispose(), await done) }
  }

  const completed = (events: unknown[]) => JSON.stringify(events).includes('SuggestionsComplete')

  it('closes a live graphql-ws stream with 4403 once its token is revoked through revokeToken', async () => {
    const user = await newUser()
    const stream = liveOverWs(user.token)
    try {
      await vi.waitFor(() => expect(completed(stream.events)).toBe(true), WITHIN)
      const { id } = await tokenRow(user.token)
      const revoked = await server.query<{ revokeToken: { revokedAt: string | null; current: boolean } }>(REVOKE, { id: encodeGlobalID('AuthToken', id) }, user.token)
      expect(revoked.errors).toBeUndefined()
      expect(revoked.data!.revokeToken.revokedAt).not.toBeNull()
      expect(revoked.data!.revokeToken.current).toBe(true)
      await vi.waitFor(() => expect(stream.code()).toBe(4403), WITHIN)
      expect((await server.query('{ me { email } }', {}, user.token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    } finally {
      await stream.dispose()
    }
  })

  it('closes a live graphql-ws stream with 4403 when another process revokes its token in the database', async () => {
    const user = await newUser()
    const stream = liveOverWs(user.token)
    try {
      await vi.waitFor(() => expect(completed(stream.events)).toBe(true), WITHIN)
      // What another process's revokeToken does: only the database knows.
      await db.prisma.authToken.updateMany({ ...byToken(user.token), data: { revokedAt: new Date() } })
      await vi.waitFor(() => expect(stream.code()).toBe(4403), WITHIN)
    } finally {
      await stream.dispose()
    }
  })

  it('closes a live graphql-ws stream with 4403 when its token expires', async () => {
    const user = await newUser()
    const stream = liveOverWs(user.token)
    try {
      await vi.waitFor(() => expect(completed(stream.events)).toBe(true), WITHIN)
      await db.prisma.authToken.updateMany({ ...byToken(user.token), data: { expiresAt: new Date(Date.now() + 1000) } })
      await vi.waitFor(() => expect(stream.code()).toBe(4403), WITHIN)
    } finally {
      await stream.dispose()
    }
  })

  it('closes a graphql-ws socket at the expiry it authenticated with', async () => {
    const user = await newUser()
    await db.prisma.authToken.updateMany({ ...byToken(user.token), data: { expiresAt: new Date(Date.now() + 3000) } })
    const stream = liveOverWs(user.token)
    try {
      await vi.waitFor(() => expect(completed(stream.events)).toBe(true), WITHIN)
      await vi.waitFor(() => expect(stream.code()).toBe(4403), WITHIN)
    } finally {
      await stream.dispose()
    }
  })

  it('ends a live SSE stream with a last UNAUTHENTICATED error when its token is revoked in the database', async () => {
    const user = await newUser()
    const stream = liveOverSse(user.token)
    try {
      await vi.waitFor(() => expect(completed(stream.results)).toBe(true), WITHIN)
      await db.prisma.authToken.updateMany({ ...byToken(user.token), data: { revokedAt: new Date() } })
      await vi.waitFor(() => expect(stream.ended()).toBe(true), WITHIN)
      expect(stream.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    } finally {
      await stream.dispose()
    }
  })

  it('ends a live SSE stream when its token expires, and frees its place', async () => {
    const user = await newUser()
    const stream = liveOverSse(user.token)
    try {
      await vi.waitFor(() => expect(completed(stream.results)).toBe(true), WITHIN)
      await db.prisma.authToken.updateMany({ ...byToken(user.token), data: { expiresAt: new Date(Date.now() + 500) } })
      await vi.waitFor(() => expect(stream.ended()).toBe(true), WITHIN)
      expect(stream.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    } finally {
      await stream.dispose()
    }
    // The ended stream gave its per-user place back: the user's limit (5) still admits 5 streams.
    const fresh = await issueToken(db.prisma, user.id, 'again')
    const streams = Array.from({ length: 5 }, () => liveOverWs(fresh))
    try {
      await vi.waitFor(() => expect(streams.every((s) => completed(s.events))).toBe(true), { timeout: 20_000, interval: 100 })
      expect(JSON.stringify(streams.map((s) => s.events))).not.toContain('RATE_LIMITED')
    } finally {
      await Promise.all(streams.map((s) => s.dispose()))
    }
  })

  it('keeps streams on live tokens open while another token of the same user is revoked', async () => {
    const user = await newUser()
    const other = await issueToken(db.prisma, user.id, 'other')
    const kept = liveOverWs(user.token)
    const cut = liveOverWs(other)
    try {
      await vi.waitFor(() => expect(completed(kept.events) && completed(cut.events)).toBe(true), WITHIN)
      const { id } = await tokenRow(other)
      expect((await server.query(REVOKE, { id: encodeGlobalID('AuthToken', id) }, user.token)).errors).toBeUndefined()
      await vi.waitFor(() => expect(cut.code()).toBe(4403), WITHIN)
      // The surviving stream still gets live updates.
      const before = kept.events.length
      const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId: user.id, archived: false } })
      const logged = await server.query('mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id: encodeGlobalID('Contact', contact.id) }, user.token)
      expect(logged.errors).toBeUndefined()
      await vi.waitFor(() => expect(JSON.stringify(kept.events.slice(before))).toContain('SuggestionsUpdated'), WITHIN)
      expect(kept.code()).toBeUndefined()
    } finally {
      await Promise.all([kept.dispose(), cut.dispose()])
    }
  })

  it("lists the viewer's own tokens, newest first, and marks the current one", async () => {
    const user = await newUser()
    const stranger = await newUser()
    const second = await issueToken(db.prisma, user.id, 'laptop')
    const result = await server.query<{ tokens: Token[] }>(TOKENS, {}, second)
    expect(result.errors).toBeUndefined()
    const tokens = result.data!.tokens
    expect(tokens.map((t) => t.name)).toEqual(['laptop', 'test'])
    expect(tokens.map((t) => t.current)).toEqual([true, false])
    expect(tokens[0]!.lastUsedAt).not.toBeNull()
    expect(tokens.every((t) => t.revokedAt === null && t.expiresAt === null)).toBe(true)
    const strangerIds = (await db.prisma.authToken.findMany({ where: { userId: stranger.id } })).map((t) => encodeGlobalID('AuthToken', t.id))
    expect(tokens.some((t) => strangerIds.includes(t.id))).toBe(false)
    expect(JSON.stringify(result)).not.toMatch(/prm_|tokenHash/)
    // A token is a node: the viewer's own only.
    const NODE = 'query($id: ID!) { node(id: $id) { id ... on AuthToken { name current } } }'
    expect((await server.query(NODE, { id: tokens[1]!.id }, second)).data).toEqual({ node: { id: tokens[1]!.id, name: 'test', current: false } })
    expect((await server.query(NODE, { id: strangerIds[0] }, second)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    // Anonymous: UNAUTHENTICATED.
    expect((await server.query(TOKENS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })

  it("refuses to revoke another user's token with NOT_FOUND, like an unknown id, and changes nothing", async () => {
    const user = await newUser()
    const stranger = await newUser()
    const { id } = await tokenRow(stranger.token)
    for (const target of [encodeGlobalID('AuthToken', id), encodeGlobalID('AuthToken', '00000000-0000-4000-8000-000000000000'), encodeGlobalID('AuthToken', 'not-a-uuid')]) {
      const result = await server.query(REVOKE, { id: target }, user.token)
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    }
    expect((await db.prisma.authToken.findUniqueOrThrow({ where: { id } })).revokedAt).toBeNull()
    expect((await server.query('{ me { email } }', {}, stranger.token)).data).toEqual({ me: { email: stranger.email } })
    // Revoking a revoked token changes nothing.
    const own = await tokenRow(user.token)
    const other = await issueToken(db.prisma, user.id, 'other')
    const first = await server.query<{ revokeToken: { revokedAt: string } }>(REVOKE, { id: encodeGlobalID('AuthToken', own.id) }, other)
    const again = await server.query<{ revokeToken: { revokedAt: string } }>(REVOKE, { id: encodeGlobalID('AuthToken', own.id) }, other)
    expect(again.data!.revokeToken.revokedAt).toBe(first.data!.revokeToken.revokedAt)
  })
})
