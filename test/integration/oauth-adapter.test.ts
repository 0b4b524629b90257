/**
 * The oidc-provider adapter over `OAuthPayload` (src/oauth/prisma-adapter.ts) on PGlite and PostgreSQL:
 * what oidc-provider stores comes back as it was (the secret `jti` left out of the row and put back),
 * secret ids are stored as their SHA-256 only, expired rows are invisible and purged, consumption is
 * recorded once, a grant's revocation deletes its rows, a user's deletion deletes theirs, and values a
 * hostile request can bring (NUL, lone surrogates, huge ids) neither fail in the database nor match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashOAuthId, prismaAdapter, purgeExpiredOAuthPayloads } from '../../src/oauth/prisma-adapter.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()

describe.each(kinds)('the OAuth adapter, on %s', (kind) => {
  let db: TestDatabase
  let Adapter: ReturnType<typeof prismaAdapter>
  let userId: string

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    Adapter = prismaAdapter(db.prisma)
    userId = (await db.prisma.user.create({ data: { email: 'a@example.com' } })).id
  })
  afterAll(async () => {
    await db?.destroy()
  })

  it('gives back what it stored, keeping only the hash of a secret id and no jti in the row', async () => {
    const tokens = new Adapter('AccessToken')
    const payload = { jti: 'secret-access-token-value', kind: 'AccessToken', accountId: userId, grantId: 'g-1', scope: 'contacts:read', exp: Math.floor(Date.now() / 1000) + 600 }
    await tokens.upsert(payload.jti, payload, 600)
    expect(await tokens.find(payload.jti)).toEqual(payload)
    const rows = await db.prisma.oAuthPayload.findMany({ where: { kind: 'AccessToken' } })
    expect(rows).toHaveLength(1)
    expect(rows[0]!.id).toBe(hashOAuthId(payload.jti))
    expect(JSON.stringify(rows)).not.toContain(payload.jti)
    expect(rows[0]).toMatchObject({ grantId: 'g-1', accountId: userId })
    expect(await tokens.find('another-value')).toBeUndefined()
  })

  it('keeps client and grant ids readable, and a Grant row carries its own id as grantId', async () => {
    await new Adapter('Grant').upsert('grant-7', { jti: 'grant-7', kind: 'Grant', accountId: userId, clientId: 'app_x' }, 3600)
    const row = await db.prisma.oAuthPayload.findUniqueOrThrow({ where: { kind_id: { kind: 'Grant', id: 'grant-7' } } })
    expect(row).toMatchObject({ grantId: 'grant-7', accountId: userId })
    expect(await new Adapter('Grant').find('grant-7')).toMatchObject({ jti: 'grant-7', clientId: 'app_x' })
  })

  it('records the first consumption, hides expired rows and purges them', async () => {
    const codes = new Adapter('AuthorizationCode')
    await codes.upsert('code-1', { jti: 'code-1', kind: 'AuthorizationCode', grantId: 'g-2' }, 60)
    await codes.consume('code-1')
    const consumed = (await codes.find('code-1'))!.consumed
    expect(consumed).toEqual(expect.any(Number))
    await codes.consume('code-1')
    expect((await codes.find('code-1'))!.consumed).toBe(consumed)

    await codes.upsert('code-old', { jti: 'code-old', kind: 'AuthorizationCode' }, 60)
    await db.prisma.oAuthPayload.updateMany({ where: { id: hashOAuthId('code-old') }, data: { expiresAt: new Date(Date.now() - 1000) } })
    expect(await codes.find('code-old')).toBeUndefined()
    expect(await purgeExpiredOAuthPayloads(db.prisma, new Date())).toBeGreaterThanOrEqual(1)
    expect(await db.prisma.oAuthPayload.count({ where: { id: hashOAuthId('code-old') } })).toBe(0)
  })

  it('revokes by grant id (that kind only), and finds sessions by uid with their jti', async () => {
    const refresh = new Adapter('RefreshToken')
    await refresh.upsert('rt-1', { jti: 'rt-1', kind: 'RefreshToken', grantId: 'g-3' }, 600)
    await refresh.upsert('rt-2', { jti: 'rt-2', kind: 'RefreshToken', grantId: 'g-4' }, 600)
    await refresh.revokeByGrantId('g-3')
    expect(await refresh.find('rt-1')).toBeUndefined()
    expect(await refresh.find('rt-2')).toBeDefined()

    const sessions = new Adapter('Session')
    await sessions.upsert('sess-cookie', { jti: 'sess-cookie', kind: 'Session', uid: 'uid-1', accountId: userId }, 600)
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 'sess-cookie', uid: 'uid-1' })
    await sessions.destroy('sess-cookie')
    expect(await sessions.findByUid('uid-1')).toBeUndefined()
  })

  it('stores what a hostile request brings without a database error, and never matches it', async () => {
    const interactions = new Adapter('Interaction')
    await interactions.upsert('i-1', { jti: 'i-1', kind: 'Interaction', params: { state: 'a\u0000b', nonce: 'x\ud800y' } }, 600)
    expect(await interactions.find('i-1')).toMatchObject({ params: { state: 'a\uFFFDb', nonce: 'x\uFFFDy' } })
    for (const id of ['a\u0000b', '\udfff', 'x'.repeat(10_000), '']) {
      expect(await new Adapter('Client').find(id)).toBeUndefined()
      expect(await new Adapter('Session').findByUid(id)).toBeUndefined()
      await new Adapter('Grant').destroy(id)
      await new Adapter('AccessToken').revokeByGrantId(id)
    }
  })

  it("deletes a user's rows with the user", async () => {
    const other = await db.prisma.user.create({ data: { email: 'b@example.com' } })
    await new Adapter('Grant').upsert('grant-b', { jti: 'grant-b', kind: 'Grant', accountId: other.id, clientId: 'app_x' }, 3600)
    await db.prisma.user.delete({ where: { id: other.id } })
    expect(await new Adapter('Grant').find('grant-b')).toBeUndefined()
  })
})
