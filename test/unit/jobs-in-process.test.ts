/**
 * The in-process runner's daily refresh, without a database: the cron's next
 * run from the injected clock, and the keyset walk over users page by page,
 * each page enqueued only when the previous ones made room (flat memory).
 */
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { createJobs, type Jobs, type JobOutcome } from '../../src/jobs/jobs.ts'

const USERS = Array.from({ length: 25 }, (_, i) => `user-${String(i).padStart(3, '0')}`)

/** A stand-in for `prisma.user.findMany` over USERS, recording each call and how many regenerations had finished. */
function fakeUsers(finished: () => number) {
  const calls: { where: unknown; take: number; finishedBefore: number }[] = []
  const prisma = {
    user: {
      findMany: async ({ where, take }: { where: { id?: { gt: string } }; take: number }) => {
        calls.push({ where, take, finishedBefore: finished() })
        const after = where.id?.gt
        return USERS.filter((id) => after === undefined || id > after)
          .slice(0, take)
          .map((id) => ({ id }))
      },
    },
  }
  return { prisma: prisma as unknown as PrismaClient, calls }
}

describe('in-process jobs: the daily refresh', () => {
  let jobs: Jobs | undefined
  afterEach(async () => {
    await jobs?.close()
    vi.useRealTimers()
  })

  it('fires at the cron time of the injected clock and walks users by keyset, a page at a time', async () => {
    // The cron is time logic: it runs on vitest's fake clock, 150 ms before 04:00 UTC.
    vi.useFakeTimers({ now: new Date('2026-11-25T03:59:59.850Z'), toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const now = () => new Date()
    const outcomes: JobOutcome[] = []
    const regenerated: string[] = []
    const { prisma, calls } = fakeUsers(() => regenerated.length)
    let refreshedAt = 0
    jobs = createJobs({
      prisma,
      engine: {} as never, // the stand-in processor does not use it
      logger: pino({ level: 'silent' }),
      concurrency: 2,
      refreshCron: '0 4 * * *',
      now,
      refreshPageSize: 10,
      regenerate: async (userId) => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        regenerated.push(userId)
        return { stored: 0, removed: 0, contactsProcessed: 0, durationMs: 1 }
      },
      onJobDone: (outcome) => {
        outcomes.push(outcome)
        if (outcome.job === 'refresh') refreshedAt = now().getTime()
      },
    })
    await jobs.start()
    await vi.advanceTimersByTimeAsync(149)
    expect(calls).toEqual([])
    // 25 users, two at a time, 1 ms each: well within a second of fake time.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(regenerated).toHaveLength(USERS.length)

    // Not at start: at 04:00 on the injected clock.
    expect(refreshedAt).toBeGreaterThanOrEqual(Date.parse('2026-11-25T04:00:00.000Z'))
    expect(outcomes.filter((o) => o.job === 'refresh')).toEqual([expect.objectContaining({ ok: true, usersEnqueued: USERS.length })])
    expect([...regenerated].sort()).toEqual(USERS)
    // Keyset pages of 10: id > the last id of the previous page.
    expect(calls.map((call) => [call.where, call.take])).toEqual([
      [{}, 10],
      [{ id: { gt: 'user-009' } }, 10],
      [{ id: { gt: 'user-019' } }, 10],
    ])
    // The next page is read only once the queued users dropped below a page: some had finished.
    expect(calls[1]!.finishedBefore).toBeGreaterThan(0)
    expect(calls[2]!.finishedBefore).toBeGreaterThan(calls[1]!.finishedBefore)
  })

  it('does not fire before its time', async () => {
    // An hour before 04:00 UTC on vitest's fake clock: nothing may run until the clock reaches it.
    vi.useFakeTimers({ now: new Date('2026-11-25T03:00:00.000Z'), toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const outcomes: JobOutcome[] = []
    const { prisma, calls } = fakeUsers(() => 0)
    jobs = createJobs({
      prisma,
      engine: {} as never,
      logger: pino({ level: 'silent' }),
      concurrency: 1,
      refreshCron: '0 4 * * *',
      now: () => new Date(),
      regenerate: async () => ({ stored: 0, removed: 0, contactsProcessed: 0, durationMs: 0 }),
      onJobDone: (outcome) => void outcomes.push(outcome),
    })
    await jobs.start()
    await vi.advanceTimersByTimeAsync(60 * 60_000 - 1)
    expect(calls).toEqual([])
    expect(outcomes).toEqual([])
    // At 04:00 it fires (so the silence above was the schedule, not a runner that never fires).
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([expect.objectContaining({ where: {} })])
    expect(outcomes.filter((o) => o.job === 'refresh')).toEqual([expect.objectContaining({ ok: true })])
  })
})

describe('in-process jobs: long delays', () => {
  let jobs: Jobs | undefined
  afterEach(async () => {
    await jobs?.close()
    vi.useRealTimers()
  })

  it('waits a delay past 2^31 - 1 ms (where Node fires a timer after 1 ms) in steps: a delivery queued 40 days ahead runs after 40 days, not at once', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-25T00:00:00.000Z'), toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const DAY = 86_400_000
    const delays: number[] = []
    const realSetTimeout = globalThis.setTimeout
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0)
      return realSetTimeout(fn, ms)
    }) as typeof setTimeout)
    const ran: string[] = []
    try {
      jobs = createJobs({
        prisma: fakeUsers(() => 0).prisma,
        engine: {} as never,
        logger: pino({ level: 'silent' }),
        concurrency: 1,
        refreshCron: '0 4 1 1 *',
        now: () => new Date(),
        regenerate: async () => ({ stored: 0, removed: 0, contactsProcessed: 0, durationMs: 0 }),
        runWebhookDelivery: async (deliveryId) => {
          ran.push(deliveryId)
          return { retryInMs: null }
        },
      })
      await jobs.start()
      await jobs.enqueueWebhookDelivery('far', { delayMs: 40 * DAY })
      await vi.advanceTimersByTimeAsync(40 * DAY - 1)
      expect(ran).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(ran).toEqual(['far'])
      expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1)
    } finally {
      spy.mockRestore()
    }
  })
})
