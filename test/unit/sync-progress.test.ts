/**
 * The syncProgress stream without a database (Prisma's findFirst in memory, the in-process change
 * bus): the account at once, again on each notice of the run, the end right after its FINISHED with
 * no listener left (a later run's notices reach nobody), and NOT_FOUND for another user's account.
 */
import { describe, expect, it } from 'vitest'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { createChangeBus, publishSyncProgress } from '../../src/pubsub/changes.ts'
import { syncProgressStream } from '../../src/sync/sync-progress.ts'

const ACCOUNT = '0193a0c4-7c1e-7a55-9d1b-5f3c2e4a6b70'

function fakePrisma(rows: Map<string, { id: string; userId: string; status: string }>) {
  return { account: { findFirst: async ({ where }: any) => (rows.get(where.id)?.userId === where.userId ? { ...rows.get(where.id)! } : null) } } as unknown as PrismaClient
}

describe('syncProgressStream', () => {
  it('sends the account now, then each notice of the run, and ends after FINISHED', async () => {
    const bus = createChangeBus()
    const rows = new Map([[ACCOUNT, { id: ACCOUNT, userId: 'u1', status: 'OK' }]])
    const stream = await syncProgressStream(fakePrisma(rows), bus.pubsub, 'u1', ACCOUNT)
    expect((await stream.next()).value).toMatchObject({ phase: 'current', account: { status: 'OK' } })
    rows.get(ACCOUNT)!.status = 'SYNCING'
    publishSyncProgress(bus.pubsub, ACCOUNT, { phase: 'started', collectionUrl: null, done: 0, total: null })
    expect((await stream.next()).value).toMatchObject({ phase: 'started', account: { status: 'SYNCING' } })
    publishSyncProgress(bus.pubsub, ACCOUNT, { phase: 'reading', collectionUrl: 'https://dav.example/book/', done: 5, total: 10 })
    expect((await stream.next()).value).toMatchObject({ phase: 'reading', done: 5, total: 10 })
    rows.get(ACCOUNT)!.status = 'OK'
    publishSyncProgress(bus.pubsub, ACCOUNT, { phase: 'finished', collectionUrl: null, done: 1, total: null })
    const finished = stream.next()
    expect((await finished).value).toMatchObject({ phase: 'finished', done: 1, account: { status: 'OK' } })
    // Listening stopped with the FINISHED event itself, before the client asked for more.
    expect(bus.listenerCount(`sync-progress:${ACCOUNT}`)).toBe(0)
    publishSyncProgress(bus.pubsub, ACCOUNT, { phase: 'started', collectionUrl: null, done: 0, total: null })
    expect(await stream.next()).toEqual({ done: true, value: undefined })
  })

  it("refuses another user's account with NOT_FOUND, leaving no listener", async () => {
    const bus = createChangeBus()
    const rows = new Map([[ACCOUNT, { id: ACCOUNT, userId: 'u1', status: 'OK' }]])
    await expect(syncProgressStream(fakePrisma(rows), bus.pubsub, 'u2', ACCOUNT)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(bus.listenerCount(`sync-progress:${ACCOUNT}`)).toBe(0)
  })
})
