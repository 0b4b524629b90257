/**
 * The importProgress stream without a database (Prisma's findFirst in memory, the in-process
 * change bus): the import at once, again on each notice, the end after it finished, NOT_FOUND
 * before anything for another user's import, and `return()` ending it at once while it waits.
 */
import { describe, expect, it, vi } from 'vitest'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { importProgressStream } from '../../src/imports/import-queries.ts'
import { createChangeBus, publishImportProgress } from '../../src/pubsub/changes.ts'

function fakePrisma(rows: Map<string, { id: string; userId: string; status: string; done: number }>) {
  return { import: { findFirst: async ({ where }: any) => (rows.get(where.id)?.userId === where.userId ? { ...rows.get(where.id)! } : null) } } as unknown as PrismaClient
}

describe('importProgressStream', () => {
  it('sends the import now, after each notice, and ends after it finished', async () => {
    const bus = createChangeBus()
    const rows = new Map([['i1', { id: 'i1', userId: 'u1', status: 'RUNNING', done: 0 }]])
    const stream = await importProgressStream(fakePrisma(rows), bus.pubsub, 'u1', 'i1')
    expect((await stream.next()).value).toMatchObject({ done: 0 })
    rows.get('i1')!.done = 500
    publishImportProgress(bus.pubsub, 'i1', { status: 'RUNNING', done: 500 })
    expect((await stream.next()).value).toMatchObject({ done: 500, status: 'RUNNING' })
    rows.get('i1')!.status = 'SUCCEEDED'
    publishImportProgress(bus.pubsub, 'i1', { status: 'SUCCEEDED', done: 500 })
    expect((await stream.next()).value).toMatchObject({ status: 'SUCCEEDED' })
    expect((await stream.next()).done).toBe(true)
    expect(bus.listenerCount('import-progress:i1')).toBe(0)
  })

  it('refuses another user\'s import with NOT_FOUND, leaving no listener', async () => {
    const bus = createChangeBus()
    const rows = new Map([['i1', { id: 'i1', userId: 'u1', status: 'RUNNING', done: 0 }]])
    await expect(importProgressStream(fakePrisma(rows), bus.pubsub, 'u2', 'i1')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(bus.listenerCount('import-progress:i1')).toBe(0)
  })

  it('ends at once on return() while it waits for the next notice', async () => {
    const bus = createChangeBus()
    const rows = new Map([['i1', { id: 'i1', userId: 'u1', status: 'QUEUED', done: 0 }]])
    const stream = await importProgressStream(fakePrisma(rows), bus.pubsub, 'u1', 'i1')
    await stream.next()
    const waiting = stream.next()
    await vi.waitFor(() => expect(bus.listenerCount('import-progress:i1')).toBe(1))
    await stream.return!()
    expect((await waiting).done).toBe(true)
    expect(bus.listenerCount('import-progress:i1')).toBe(0)
  })

  it('sends a finished import once and ends', async () => {
    const bus = createChangeBus()
    const rows = new Map([['i1', { id: 'i1', userId: 'u1', status: 'FAILED', done: 3 }]])
    const stream = await importProgressStream(fakePrisma(rows), bus.pubsub, 'u1', 'i1')
    expect((await stream.next()).value).toMatchObject({ status: 'FAILED' })
    expect((await stream.next()).done).toBe(true)
    expect(bus.listenerCount('import-progress:i1')).toBe(0)
  })
})
