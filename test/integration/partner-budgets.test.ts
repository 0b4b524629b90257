/**
 * CredentialBudgets (src/graphql/limits/budget.ts) on their own: in-process with fake timers (the
 * windows end, a refusal spends nothing, leases come back), on the real Redis shared by two
 * instances (as two processes would), a lease of a process that died expiring, and the fallback
 * to in-process budgets while Redis is unreachable.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import { CredentialBudgets, createCredentialBudgets, isPartnerCredential } from '../../src/graphql/limits/budget.ts'
import type { PartnerBudgets } from '../../src/config.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'

const limits: PartnerBudgets = { pointsPerHour: 10, burstPoints: 6, burstSeconds: 10, concurrentRequests: 2, concurrentStreams: 1, transferPoints: 5 }
const key = { tokenId: 'token-1', kind: 'apiKey' }
const silent = { warn: () => {} }

describe('CredentialBudgets in-process', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('budgets API keys and OAuth apps only', () => {
    expect(isPartnerCredential({ tokenId: 't', kind: 'apiKey' })).toBe(true)
    expect(isPartnerCredential({ tokenId: 't', kind: 'oauth' })).toBe(true)
    expect(isPartnerCredential({ tokenId: 't', kind: 'session' })).toBe(false)
    expect(isPartnerCredential({ tokenId: 't' })).toBe(false)
    expect(isPartnerCredential(null)).toBe(false)
  })

  it('spends the cost from both buckets; a refusal spends nothing; each window ends on time', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T10:00:00Z') })
    const budgets = new CredentialBudgets({ limits })
    const grant = async (cost: number) => {
      const decision = await budgets.admit(key, cost, 'request')
      if (decision.allowed) decision.release()
      return decision
    }
    expect(await grant(3)).toMatchObject({ allowed: true, limits: [{ name: 'hourly', remaining: 7, resetSeconds: 3600 }, { name: 'burst', remaining: 3, resetSeconds: 10 }, { name: 'concurrent-requests', remaining: 1 }] })
    // 4 is more than the burst's 3 left: refused, and the hourly bucket keeps its 7.
    expect(await grant(4)).toMatchObject({ allowed: false, policy: 'burst', retryAfterSeconds: 10, limits: [{ name: 'burst', remaining: 3, resetSeconds: 10 }] })
    expect(await budgets.peek(key)).toEqual([{ name: 'hourly', remaining: 7, resetSeconds: 3600 }, { name: 'burst', remaining: 3, resetSeconds: 10 }])
    vi.advanceTimersByTime(10_000)
    // A new burst window; 7 left this hour. An operation costing more than the burst bucket takes the bucket.
    expect(await grant(7)).toMatchObject({ allowed: true, limits: [{ name: 'hourly', remaining: 0 }, { name: 'burst', remaining: 0 }, { name: 'concurrent-requests' }] })
    vi.advanceTimersByTime(10_000)
    const refused = await grant(1)
    expect(refused).toMatchObject({ allowed: false, policy: 'hourly', retryAfterSeconds: 3580, limits: [{ name: 'hourly', remaining: 0, resetSeconds: 3580 }] })
    vi.advanceTimersByTime(3_580_000)
    expect(await grant(1)).toMatchObject({ allowed: true, limits: [{ name: 'hourly', remaining: 9 }, { name: 'burst', remaining: 5 }, { name: 'concurrent-requests' }] })
    // Past the hour's budget no wait helps: the cost refusal says so.
    expect(await grant(11)).toMatchObject({ allowed: false, policy: 'cost', cost: 11 })
    expect((await budgets.peek(key))[0]).toMatchObject({ remaining: 9 })
    await budgets.close()
  })

  it('holds a lease per operation under its cap, requests and streams apart, and gives it back once', async () => {
    const budgets = new CredentialBudgets({ limits: { ...limits, pointsPerHour: 1000, burstPoints: 1000 } })
    const first = await budgets.admit(key, 1, 'request')
    const second = await budgets.admit(key, 1, 'request')
    const third = await budgets.admit(key, 1, 'request')
    expect([first.allowed, second.allowed, third.allowed]).toEqual([true, true, false])
    expect(third).toMatchObject({ policy: 'concurrent-requests', retryAfterSeconds: 1, limits: [{ name: 'concurrent-requests', remaining: 0 }] })
    const stream = await budgets.admit(key, 1, 'stream')
    expect(stream).toMatchObject({ allowed: true, limits: [{}, {}, { name: 'concurrent-streams', remaining: 0 }] })
    expect(await budgets.admit(key, 1, 'stream')).toMatchObject({ allowed: false, policy: 'concurrent-streams' })
    // The refused ones spent nothing: 3 grants of 1 point.
    expect((await budgets.peek(key))[0]).toMatchObject({ remaining: 997 })
    if (first.allowed) {
      first.release()
      first.release()
    }
    expect(budgets.localLeases.count(`request:apiKey:token-1`)).toBe(1)
    expect((await budgets.admit(key, 1, 'request')).allowed).toBe(true)
    expect((await budgets.admit(key, 1, 'request')).allowed).toBe(false)
    await budgets.close()
  })
})

const withRedis = await redisAvailable()

describe.skipIf(!withRedis)('CredentialBudgets on Redis', () => {
  const opened: CredentialBudgets[] = []
  const open = (keyPrefix: string, options: { leaseTtlMs?: number; redisUrl?: string } = {}) => {
    const budgets = createCredentialBudgets({ limits, redisUrl: options.redisUrl ?? TEST_REDIS_URL, logger: silent, keyPrefix, ...(options.leaseTtlMs ? { leaseTtlMs: options.leaseTtlMs } : {}) })
    opened.push(budgets)
    return budgets
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((budgets) => budgets.close()))
  })

  it('two instances on one Redis share the points and the leases', async () => {
    const prefix = uniquePrefix('budgets')
    const [a, b] = [open(prefix), open(prefix)]
    // Connected first (app.start() waits the same way): before, each would fall back to budgets of its own.
    await Promise.all([a.ready(), b.ready()])
    const one = await a.admit(key, 2, 'request')
    const two = await b.admit(key, 2, 'request')
    expect(one).toMatchObject({ allowed: true, limits: [{ remaining: 8 }, { remaining: 4 }, { remaining: 1 }] })
    expect(two).toMatchObject({ allowed: true, limits: [{ remaining: 6 }, { remaining: 2 }, { remaining: 0 }] })
    // Two requests run (one on each instance): a third on either is refused.
    expect(await a.admit(key, 1, 'request')).toMatchObject({ allowed: false, policy: 'concurrent-requests' })
    if (one.allowed) one.release()
    await vi.waitFor(async () => {
      const decision = await b.admit(key, 1, 'request')
      if (decision.allowed) decision.release()
      expect(decision.allowed).toBe(true)
    })
    // The burst has 1 left (2 + 2 + 1 of 6): 2 is refused on the other instance too, and spends nothing.
    expect(await a.admit(key, 2, 'request')).toMatchObject({ allowed: false, policy: 'burst', limits: [{ name: 'burst', remaining: 1 }] })
    expect(await b.peek(key)).toMatchObject([{ remaining: 5 }, { remaining: 1 }])
  })

  it('the lease of a process that died (its connection gone, nothing renewed or released) expires', async () => {
    const prefix = uniquePrefix('budgets-lease')
    const connection = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    connection.on('error', () => {})
    await new Promise((resolve) => connection.once('ready', resolve))
    const dying = new CredentialBudgets({ limits, redis: connection, keyPrefix: prefix, leaseTtlMs: 600 })
    opened.push(dying)
    const alive = open(prefix, { leaseTtlMs: 600 })
    expect(await dying.admit(key, 1, 'stream')).toMatchObject({ allowed: true })
    await vi.waitFor(async () => expect(await alive.admit(key, 1, 'stream')).toMatchObject({ allowed: false, policy: 'concurrent-streams' }))
    // The process dies: its connection drops with the lease unreleased and no more renewals.
    connection.disconnect()
    await vi.waitFor(
      async () => {
        const decision = await alive.admit(key, 1, 'stream')
        expect(decision.allowed).toBe(true)
        if (decision.allowed) decision.release()
      },
      { timeout: 5000, interval: 100 },
    )
  })

  it('keeps budgets in-process while Redis is unreachable', async () => {
    const budgets = open(uniquePrefix('budgets-down'), { redisUrl: 'redis://127.0.0.1:1' })
    const decisions = []
    for (let i = 0; i < 4; i++) {
      const decision = await budgets.admit(key, 3, 'request')
      if (decision.allowed) decision.release()
      decisions.push(decision.allowed ? 'allowed' : decision.policy)
    }
    expect(decisions).toEqual(['allowed', 'allowed', 'burst', 'burst'])
    const one = await budgets.admit({ tokenId: 'other', kind: 'oauth' }, 1, 'stream')
    expect(one.allowed).toBe(true)
    expect(await budgets.admit({ tokenId: 'other', kind: 'oauth' }, 1, 'stream')).toMatchObject({ allowed: false, policy: 'concurrent-streams' })
  })
})
