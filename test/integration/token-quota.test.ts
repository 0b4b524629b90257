/**
 * The per-user quota of active tokens (issue 10, kind 13): past `maxActive`,
 * issueToken refuses with RATE_LIMITED; revoked and expired tokens do not
 * count; concurrent issues cannot pass it together. On both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authenticate } from '../../src/auth/authenticate.ts'
import { issueToken } from '../../src/auth/tokens.ts'
import { ClientError } from '../../src/errors.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()

describe.each(kinds)('token quota on %s', (kind) => {
  let db: TestDatabase
  let users = 0
  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(async () => {
    await db?.destroy()
  })
  const newUser = async () => (await db.prisma.user.create({ data: { email: `quota${++users}@example.com` } })).id

  it('refuses the token past the quota with RATE_LIMITED, and counts only active tokens', async () => {
    const userId = await newUser()
    const tokens = []
    for (let i = 0; i < 3; i++) tokens.push(await issueToken(db.prisma, userId, `t${i}`, { maxActive: 3 }))
    const refused = await issueToken(db.prisma, userId, 'one too many', { maxActive: 3 }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ClientError)
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 3 } })
    expect(await db.prisma.authToken.count({ where: { userId } })).toBe(3)
    // A revoked and an expired token free their places.
    const [first, second] = await db.prisma.authToken.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } })
    await db.prisma.authToken.update({ where: { id: first!.id }, data: { revokedAt: new Date() } })
    await db.prisma.authToken.update({ where: { id: second!.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
    const fresh = [await issueToken(db.prisma, userId, 'a', { maxActive: 3 }), await issueToken(db.prisma, userId, 'b', { maxActive: 3 })]
    await expect(issueToken(db.prisma, userId, 'c', { maxActive: 3 })).rejects.toMatchObject({ code: 'RATE_LIMITED' })
    for (const token of fresh) expect((await authenticate(db.prisma, `Bearer ${token}`, new Date()))?.userId).toBe(userId)
  })

  it('lets no concurrent burst pass the quota', async () => {
    const userId = await newUser()
    const results = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => issueToken(db.prisma, userId, `burst ${i}`, { maxActive: 3 })))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual(Array(21).fill(expect.objectContaining({ code: 'RATE_LIMITED' })))
    expect(await db.prisma.authToken.count({ where: { userId } })).toBe(3)
  })

  it('applies the default of 100 (MAX_TOKENS_PER_USER) when no limit is given', async () => {
    const userId = await newUser()
    await db.prisma.authToken.createMany({ data: Array.from({ length: 100 }, (_, i) => ({ userId, tokenHash: `quota-default-${users}-${i}` })) })
    await expect(issueToken(db.prisma, userId)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { limit: 100 } })
  })
})
