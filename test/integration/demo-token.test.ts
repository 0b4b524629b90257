/**
 * Issue 13, item 1: the development demo token survives restarts. loadOrIssueDemoToken keeps it in the
 * data directory and gives it back while it is an active token of the demo user; a revoked, expired,
 * foreign or unreadable one is replaced (and the file rewritten).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_TOKEN_FILE, loadOrIssueDemoToken } from '../../src/auth/demo-token-file.ts'
import { hashToken } from '../../src/auth/tokens.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const NAME = 'development start-up token'

describe('the development demo token', () => {
  let db: TestDatabase
  let dataDir: string
  let userId: string
  let otherUserId: string
  const load = (now?: Date) => loadOrIssueDemoToken(db.prisma, { dataDir, userId, name: NAME, maxActive: 5, ...(now ? { now } : {}) })

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    dataDir = await mkdtemp(path.join(tmpdir(), 'demo-token-'))
    userId = (await db.prisma.user.create({ data: { email: 'demo@example.com' } })).id
    otherUserId = (await db.prisma.user.create({ data: { email: 'other@example.com' } })).id
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
    await db?.destroy()
  })

  it('is issued once, kept in DATA_DIR/demo-token (0600), and the same at every start while it is active', async () => {
    const first = await load()
    expect(await load()).toBe(first)
    expect((await readFile(path.join(dataDir, DEMO_TOKEN_FILE), 'utf8')).trim()).toBe(first)
    expect((await stat(path.join(dataDir, DEMO_TOKEN_FILE))).mode & 0o777).toBe(0o600)
    expect(await db.prisma.authToken.count({ where: { userId, name: NAME } })).toBe(1)
  })

  it("is replaced when revoked, expired, another user's, or not a token; one start-up token at a time", async () => {
    const first = await load()
    await db.prisma.authToken.updateMany({ where: { tokenHash: hashToken(first) }, data: { revokedAt: new Date() } })
    const second = await load()
    expect(second).not.toBe(first)

    await db.prisma.authToken.updateMany({ where: { tokenHash: hashToken(second) }, data: { expiresAt: new Date(Date.now() - 1000) } })
    const third = await load()
    expect(third).not.toBe(second)

    await db.prisma.authToken.updateMany({ where: { tokenHash: hashToken(third) }, data: { userId: otherUserId } })
    const fourth = await load()
    expect(fourth).not.toBe(third)

    await writeFile(path.join(dataDir, DEMO_TOKEN_FILE), 'not a token\n')
    const fifth = await load()
    expect(fifth).not.toBe(fourth)
    expect((await readFile(path.join(dataDir, DEMO_TOKEN_FILE), 'utf8')).trim()).toBe(fifth)
    expect(await db.prisma.authToken.count({ where: { userId, name: NAME } })).toBe(1)
  })
})
