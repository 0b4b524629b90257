/**
 * TokenWatch (issue 10, kind 6): one batched query per check for every watched
 * token, none while nothing is watched; revoked, deleted and expired tokens end
 * their streams only; expiry is scheduled locally. Fake timers, a stub database.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Credential } from '../../src/auth/authenticate.ts'
import { CHECK_BATCH_SIZE, deadTokenIds, TokenWatch, type TokenState } from '../../src/auth/token-watch.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'

const T0 = new Date('2026-11-30T12:00:00.000Z')
const INTERVAL = 2000

/** A database of token rows; counts the queries and can fail them. */
function stubDatabase() {
  const rows = new Map<string, TokenState>()
  const queries: string[][] = []
  let failing = false
  const prisma = {
    authToken: {
      findMany: async ({ where }: { where: { id: { in: string[] } } }) => {
        queries.push(where.id.in)
        if (failing) throw new Error('connection refused')
        return where.id.in.flatMap((id) => (rows.has(id) ? [{ ...rows.get(id)! }] : []))
      },
    },
  } as unknown as PrismaClient
  return { prisma, rows, queries, fail: (value: boolean) => void (failing = value) }
}

const credential = (tokenId: string, expiresAt: Date | null = null): Credential => ({ userId: 'u', tokenId, kind: 'session', scopes: null, expiresAt })

describe('deadTokenIds', () => {
  it('finds the missing, revoked and expired tokens', () => {
    const rows: TokenState[] = [
      { id: 'live', revokedAt: null, expiresAt: null },
      { id: 'later', revokedAt: null, expiresAt: new Date(T0.getTime() + 1) },
      { id: 'revoked', revokedAt: T0, expiresAt: null },
      { id: 'expired', revokedAt: null, expiresAt: T0 },
    ]
    expect(deadTokenIds(['live', 'later', 'revoked', 'expired', 'deleted'], rows, T0)).toEqual(['revoked', 'expired', 'deleted'])
  })
})

describe('TokenWatch', () => {
  let db: ReturnType<typeof stubDatabase>
  let watch: TokenWatch
  const logger = { warn: vi.fn() }
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 })
    db = stubDatabase()
    watch = new TokenWatch({ prisma: db.prisma, intervalMs: INTERVAL, logger: logger as never })
  })
  afterEach(() => {
    watch.stop()
    vi.useRealTimers()
  })

  it('checks every watched token in one query per interval, and ends only the revoked one', async () => {
    const ended: string[] = []
    for (let t = 0; t < 10; t++) {
      db.rows.set(`t${t}`, { id: `t${t}`, revokedAt: null, expiresAt: null })
      // Five streams per token (say a socket and four subscriptions).
      for (let s = 0; s < 5; s++) watch.watch(credential(`t${t}`), () => ended.push(`t${t}/${s}`))
    }
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(db.queries).toHaveLength(1)
    expect(db.queries[0]!.sort()).toEqual(Array.from({ length: 10 }, (_, t) => `t${t}`).sort())
    expect(ended).toEqual([])
    db.rows.get('t3')!.revokedAt = new Date()
    db.rows.delete('t7') // e.g. its user was deleted
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(db.queries).toHaveLength(2)
    expect(ended.sort()).toEqual(['t3/0', 't3/1', 't3/2', 't3/3', 't3/4', 't7/0', 't7/1', 't7/2', 't7/3', 't7/4'])
    expect(watch.size).toBe(8)
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(db.queries[2]).toHaveLength(8)
    expect(ended).toHaveLength(10)
  })

  it('queries nothing while nothing is watched, and stops once every stream left', async () => {
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    expect(db.queries).toHaveLength(0)
    db.rows.set('a', { id: 'a', revokedAt: null, expiresAt: null })
    const unwatch = [watch.watch(credential('a'), () => {}), watch.watch(credential('a'), () => {})]
    await vi.advanceTimersByTimeAsync(INTERVAL)
    unwatch[0]!()
    await vi.advanceTimersByTimeAsync(INTERVAL)
    unwatch[1]!()
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    expect(db.queries).toHaveLength(2)
    expect(watch.size).toBe(0)
  })

  it('queries in batches of CHECK_BATCH_SIZE', async () => {
    const count = 2 * CHECK_BATCH_SIZE + 1
    for (let t = 0; t < count; t++) {
      db.rows.set(`t${t}`, { id: `t${t}`, revokedAt: null, expiresAt: null })
      watch.watch(credential(`t${t}`), () => {})
    }
    await watch.check()
    expect(db.queries.map((q) => q.length)).toEqual([CHECK_BATCH_SIZE, CHECK_BATCH_SIZE, 1])
  })

  it('ends a stream at its expiry without asking the database, and at once when already expired', async () => {
    const ended: string[] = []
    watch.watch(credential('soon', new Date(T0.getTime() + 500)), () => ended.push('soon'))
    watch.watch(credential('gone', new Date(T0.getTime() - 1)), () => ended.push('gone'))
    await vi.advanceTimersByTimeAsync(0)
    expect(ended).toEqual(['gone'])
    await vi.advanceTimersByTimeAsync(499)
    expect(ended).toEqual(['gone'])
    await vi.advanceTimersByTimeAsync(1)
    expect(ended).toEqual(['gone', 'soon'])
    expect(db.queries).toHaveLength(0)
  })

  it('follows an expiry changed in the database', async () => {
    const ended: string[] = []
    const later = new Date(T0.getTime() + 86_400_000)
    db.rows.set('a', { id: 'a', revokedAt: null, expiresAt: later })
    watch.watch(credential('a', later), () => ended.push('a'))
    db.rows.get('a')!.expiresAt = new Date(T0.getTime() + INTERVAL + 300)
    await vi.advanceTimersByTimeAsync(INTERVAL + 299)
    expect(ended).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(ended).toEqual(['a'])
  })

  it('re-arms an expiry past the timer range (24.8 days) instead of ending the stream early', async () => {
    const DAY = 86_400_000
    const slow = new TokenWatch({ prisma: db.prisma, intervalMs: 15 * DAY })
    try {
      const ended: string[] = []
      const expiresAt = new Date(T0.getTime() + 40 * DAY)
      db.rows.set('a', { id: 'a', revokedAt: null, expiresAt })
      slow.watch(credential('a', expiresAt), () => ended.push('a'))
      await vi.advanceTimersByTimeAsync(40 * DAY - 1)
      expect(ended).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(ended).toEqual(['a'])
      expect(db.queries).toHaveLength(2) // the checks of days 15 and 30; the expiry was local
    } finally {
      slow.stop()
    }
  })

  it('keeps streams open when the database cannot answer, and ends them at the next good check', async () => {
    const ended: string[] = []
    db.rows.set('a', { id: 'a', revokedAt: new Date(), expiresAt: null })
    watch.watch(credential('a'), () => ended.push('a'))
    db.fail(true)
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(ended).toEqual([])
    expect(logger.warn).toHaveBeenCalled()
    db.fail(false)
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(ended).toEqual(['a'])
  })

  it('ends the streams of a token this process revoked on the next turn, without a query', async () => {
    const ended: string[] = []
    watch.watch(credential('a'), () => ended.push('a'))
    watch.watch(credential('b'), () => ended.push('b'))
    watch.revoked('a')
    expect(ended).toEqual([])
    await vi.advanceTimersByTimeAsync(0)
    expect(ended).toEqual(['a'])
    expect(db.queries).toHaveLength(0)
  })

  it('broadcasts its own revocations, and ends streams at once on a broadcast of another process, without a query', async () => {
    const told: string[] = []
    const here = new TokenWatch({ prisma: db.prisma, intervalMs: INTERVAL, logger: logger as never, broadcast: (tokenId) => told.push(tokenId) })
    const ended: string[] = []
    watch.watch(credential('a'), () => ended.push('a'))
    here.revoked('a')
    expect(told).toEqual(['a'])
    // What the other process does with the broadcast: its streams end on the next turn, not at its next check.
    watch.revokedElsewhere('a')
    watch.revokedElsewhere('unknown')
    await vi.advanceTimersByTimeAsync(0)
    expect(ended).toEqual(['a'])
    expect(db.queries).toHaveLength(0)
    here.stop()
  })

  it('ends the local streams even when the broadcast throws', async () => {
    const here = new TokenWatch({ prisma: db.prisma, intervalMs: INTERVAL, logger: logger as never, broadcast: () => { throw new Error('redis away') } })
    const ended: string[] = []
    here.watch(credential('a'), () => ended.push('a'))
    here.revoked('a')
    await vi.advanceTimersByTimeAsync(0)
    expect(ended).toEqual(['a'])
    here.stop()
  })

  it('stops every timer on stop(), and watches nothing after', async () => {
    db.rows.set('a', { id: 'a', revokedAt: new Date(), expiresAt: null })
    const ended: string[] = []
    watch.watch(credential('a', new Date(T0.getTime() + 100)), () => ended.push('a'))
    watch.stop()
    watch.watch(credential('a'), () => ended.push('after'))
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    expect(ended).toEqual([])
    expect(db.queries).toHaveLength(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('checks the tokens of a kind with a reader of its own (OAuth grants) with that reader, the others in AuthToken', async () => {
    const grants = new Map<string, TokenState>([['g1', { id: 'g1', revokedAt: null, expiresAt: null }]])
    const grantQueries: string[][] = []
    const kinded = new TokenWatch({
      prisma: db.prisma,
      intervalMs: INTERVAL,
      readers: { oauth: async (ids) => (grantQueries.push(ids), ids.flatMap((id) => (grants.has(id) ? [grants.get(id)!] : []))) },
    })
    try {
      const ended: string[] = []
      db.rows.set('s1', { id: 's1', revokedAt: null, expiresAt: null })
      kinded.watch(credential('s1'), () => ended.push('s1'))
      kinded.watch({ ...credential('g1'), kind: 'oauth', scopes: new Set() } as Credential, () => ended.push('g1'))
      await vi.advanceTimersByTimeAsync(INTERVAL)
      expect(db.queries).toEqual([['s1']])
      expect(grantQueries).toEqual([['g1']])
      expect(ended).toEqual([])
      grants.delete('g1') // the grant was revoked (its row deleted)
      await vi.advanceTimersByTimeAsync(INTERVAL)
      expect(ended).toEqual(['g1'])
      expect(kinded.size).toBe(1)
    } finally {
      kinded.stop()
    }
  })
})
