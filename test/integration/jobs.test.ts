/**
 * Jobs: the regeneration processor against a real database (PGlite and
 * PostgreSQL), and both job runners (in-process, BullMQ on the real Redis)
 * through one table of behaviour tests.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Queue, QueueEvents } from 'bullmq'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import type { Interval } from '../../src/calendar/free-slots.ts'
import { createJobs, type Jobs, type JobOutcome, type JobsOptions, type Regenerate } from '../../src/jobs/jobs.ts'
import { QUEUE_NAME, REFRESH_JOB, REFRESH_SCHEDULER_ID, REGENERATE_JOB } from '../../src/jobs/bullmq-jobs.ts'
import {
  regenerateStoredSuggestions,
  type RegenerationProgress,
} from '../../src/jobs/processors/suggestion-generation-processor.ts'
import { createSuggestionEngine, type Suggestion } from '../../src/suggestions/generator.ts'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { setSuggestionStatus } from '../../src/suggestions/suggestion-status.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { announceNothing, createUserWithContacts, FIXTURE_NOW } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'

const kinds = await availableDatabaseKinds()
const withRedis = await redisAvailable()
const NOW = FIXTURE_NOW
const HOUR = 3_600_000
const K = 20
/** A few free hours, so the first suggestions get a slot and the rest none. */
const SLOTS: Interval[] = [1, 3, 5, 26, 28].map((h) => ({ start: new Date(NOW.getTime() + h * HOUR), end: new Date(NOW.getTime() + (h + 1) * HOUR) }))
/** A cron that never fires while the tests run (runner tests that want the refresh set their own). */
const NEVER_CRON = '0 0 1 1 *'
const silent = pino({ level: 'silent' })
let emails = 0
const nextEmail = () => `jobs${++emails}-${Date.now().toString(36)}@example.com`

function engineFor(db: TestDatabase, now = () => NOW) {
  return createSuggestionEngine({ prisma: db.prisma, contactRows: db, now, defaultSlots: async () => SLOTS, userTimezone: async () => 'UTC' })
}

async function engineList(db: TestDatabase, userId: string, maxSuggestions = K): Promise<Suggestion[]> {
  const list: Suggestion[] = []
  for await (const event of engineFor(db).generateTimeboundSuggestionsStreaming(userId, { maxSuggestions })) {
    if (event.kind === 'batch') list.push(...event.suggestions)
  }
  return list
}

/** The fields a stored row shares with the engine's suggestion, sorted by id. */
const asRows = (list: Suggestion[]) =>
  list
    .map((s) => ({ id: s.id, contactId: s.contact.id, priority: s.priority, reason: s.reason, slotStart: s.slot?.start ?? null, slotEnd: s.slot?.end ?? null }))
    .sort((a, b) => a.id.localeCompare(b.id))

async function pendingRows(db: TestDatabase, userId: string) {
  return db.prisma.suggestion.findMany({
    where: { userId, status: 'PENDING' },
    select: { id: true, contactId: true, priority: true, reason: true, slotStart: true, slotEnd: true },
    orderBy: { id: 'asc' },
  })
}

describe.each(kinds)('suggestion generation processor on %s', (kind) => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(() => db?.destroy())

  const regenerate = (userId: string, onProgress?: (progress: RegenerationProgress) => void, maxSuggestions = K) =>
    regenerateStoredSuggestions({ prisma: db.prisma, engine: engineFor(db), maxSuggestions, batchSize: 10 }, { userId }, onProgress)

  it("stores exactly the engine's top K as PENDING rows, with slots, and reports progress", async () => {
    const user = await createUserWithContacts(db.prisma, nextEmail(), 60)
    const progress: RegenerationProgress[] = []
    const result = await regenerate(user.id, (p) => void progress.push(p))
    const expected = await engineList(db, user.id)
    expect(expected).toHaveLength(K)
    expect(await pendingRows(db, user.id)).toEqual(asRows(expected))
    expect(expected.some((s) => s.slot !== null)).toBe(true)
    expect(result).toMatchObject({ stored: K, removed: 0 })
    expect(result.contactsProcessed).toBeGreaterThanOrEqual(K)
    expect(result.durationMs).toBeGreaterThan(0)
    // Progress: several reports, never going back, the last one complete.
    expect(progress.length).toBeGreaterThan(1)
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.scanned).toBeGreaterThanOrEqual(progress[i - 1]!.scanned)
      expect(progress[i]!.suggestions).toBeGreaterThanOrEqual(progress[i - 1]!.suggestions)
    }
    expect(progress.at(-1)).toEqual({ scanned: result.contactsProcessed, suggestions: K, maxSuggestions: K })
  })

  it('is idempotent: a second run writes nothing and leaves the same rows', async () => {
    const user = await createUserWithContacts(db.prisma, nextEmail(), 40)
    await regenerate(user.id)
    const first = await db.prisma.suggestion.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } })
    const again = await regenerate(user.id)
    const second = await db.prisma.suggestion.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } })
    expect(first).toHaveLength(K)
    expect(second).toEqual(first) // updatedAt included: no row was rewritten
    expect(again).toMatchObject({ stored: K, removed: 0 })
  })

  it('never touches ACCEPTED, DISMISSED or SNOOZED rows, even one with the id the engine lists again', async () => {
    const user = await createUserWithContacts(db.prisma, nextEmail(), 60)
    await regenerate(user.id)
    const listed = await engineList(db, user.id)
    // The user acts on three suggestions.
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, user.id, listed[0]!.id, 'ACCEPTED', NOW)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, user.id, listed[1]!.id, 'DISMISSED', NOW)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, user.id, listed[2]!.id, 'SNOOZED', NOW, new Date(NOW.getTime() + 48 * HOUR))
    // A dismissal old enough that the engine lists the contact again, with the same id
    // (the last one: ranked past the few slots, its id has no slot, so it stays the same).
    const oldDismissal = listed[K - 1]!
    expect(oldDismissal.slot).toBeNull()
    await db.prisma.suggestion.update({
      where: { id: oldDismissal.id },
      data: { status: 'DISMISSED', priority: -1, reason: 'dismissed long ago', updatedAt: new Date(NOW.getTime() - 30 * 24 * HOUR) },
    })
    const actedOn = await db.prisma.suggestion.findMany({ where: { userId: user.id, status: { not: 'PENDING' } }, orderBy: { id: 'asc' } })
    expect(actedOn).toHaveLength(4)

    const result = await regenerate(user.id)
    const expected = await engineList(db, user.id)
    expect(expected.map((s) => s.id)).toContain(oldDismissal.id)
    expect(await db.prisma.suggestion.findMany({ where: { userId: user.id, status: { not: 'PENDING' } }, orderBy: { id: 'asc' } })).toEqual(actedOn)
    // PENDING rows: the engine's list but the one whose id is held by the old dismissal.
    expect(await pendingRows(db, user.id)).toEqual(asRows(expected.filter((s) => s.id !== oldDismissal.id)))
    expect(result.stored).toBe(K - 1)
  })

  it('follows a changed contact on the next run', async () => {
    const user = await createUserWithContacts(db.prisma, nextEmail(), 60)
    await regenerate(user.id)
    const before = await engineList(db, user.id)
    // The most urgent contact was just contacted: it drops out of the list, another one enters.
    const top = await db.prisma.contact.findUniqueOrThrow({ where: { id: before[0]!.contact.id } })
    await db.prisma.contact.update({
      where: { id: top.id },
      data: { lastContactDate: NOW, nextDueAt: computeNextDueAt({ ...top, lastContactDate: NOW }) },
    })
    const result = await regenerate(user.id)
    const after = await engineList(db, user.id)
    expect(after.map((s) => s.contact.id)).not.toContain(top.id)
    expect(await pendingRows(db, user.id)).toEqual(asRows(after))
    expect((await pendingRows(db, user.id)).map((row) => row.contactId)).not.toContain(top.id)
    expect(result.removed).toBeGreaterThanOrEqual(1)
  })

  it("deletes PENDING rows no longer listed, and only the user's", async () => {
    const user = await createUserWithContacts(db.prisma, nextEmail(), 60)
    const other = await createUserWithContacts(db.prisma, nextEmail(), 30)
    await regenerate(user.id)
    await regenerate(other.id)
    const othersRows = await pendingRows(db, other.id)
    // A stale row (a slot that no longer exists) and a smaller K: both go.
    const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId: user.id } })
    await db.prisma.suggestion.create({
      data: { id: suggestionId(contact.id, { start: new Date(1), end: new Date(2) }), userId: user.id, contactId: contact.id, slotStart: new Date(1), slotEnd: new Date(2), priority: 1, reason: 'stale' },
    })
    const result = await regenerate(user.id, undefined, 5)
    expect(result).toMatchObject({ stored: 5, removed: K - 5 + 1 })
    expect(await pendingRows(db, user.id)).toEqual(asRows(await engineList(db, user.id, 5)))
    expect(await pendingRows(db, other.id)).toEqual(othersRows)
  })

  it('does nothing for a user that no longer exists', async () => {
    const result = await regenerate('00000000-0000-7000-8000-000000000000')
    expect(result).toMatchObject({ stored: 0, removed: 0, contactsProcessed: 0 })
  })
})

interface RunnerCase {
  name: string
  redisUrl: string | undefined
  enabled: boolean
}
const runners: RunnerCase[] = [
  { name: 'in-process', redisUrl: undefined, enabled: true },
  { name: 'BullMQ', redisUrl: TEST_REDIS_URL, enabled: withRedis },
]

/** One job runner under test, with every outcome it reported. */
interface Harness {
  jobs: Jobs
  prefix: string
  outcomes: JobOutcome[]
  progress: { userId: string; progress: RegenerationProgress }[]
}

describe.each(kinds.flatMap((kind) => runners.map((runner) => ({ kind, ...runner }))))(
  'jobs runner $name on $kind',
  ({ kind, redisUrl, enabled }) => {
    let db: TestDatabase
    const opened: Harness[] = []

    beforeAll(async () => {
      if (enabled) db = await openTestDatabase(kind)
    })
    afterAll(() => db?.destroy())
    afterEach(async () => {
      for (const harness of opened.splice(0)) {
        await harness.jobs.close()
        if (redisUrl) {
          const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl }, prefix: harness.prefix })
          await queue.obliterate({ force: true })
          await queue.close()
        }
      }
    })

    function open(overrides: Partial<JobsOptions> = {}, prefix = uniquePrefix('jobs')): Harness {
      const outcomes: JobOutcome[] = []
      const progress: Harness['progress'] = []
      const jobs = createJobs({
        redisUrl,
        prefix,
        prisma: db.prisma,
        engine: engineFor(db),
        logger: silent,
        concurrency: 2,
        refreshCron: NEVER_CRON,
        maxSuggestions: K,
        debounceMs: 50,
        backoffMs: 100,
        closeTimeoutMs: 5000,
        onJobDone: (outcome) => void outcomes.push(outcome),
        onProgress: (userId, p) => void progress.push({ userId, progress: p }),
        ...overrides,
      })
      const harness = { jobs, prefix, outcomes, progress }
      opened.push(harness)
      return harness
    }

    const realRegenerate: Regenerate = (userId, onProgress, signal) =>
      regenerateStoredSuggestions({ prisma: db.prisma, engine: engineFor(db), maxSuggestions: K }, { userId, signal }, onProgress)
    const regenerations = (h: Harness, userId: string) => h.outcomes.filter((o) => o.job === 'regenerate' && o.userId === userId)

    it.skipIf(!enabled)('regenerates a requested user and stores the rows, reporting progress', async () => {
      const user = await createUserWithContacts(db.prisma, nextEmail(), 40)
      const h = open()
      await h.jobs.start()
      await h.jobs.requestRegeneration(user.id)
      await vi.waitFor(() => expect(regenerations(h, user.id)).not.toEqual([]), { timeout: 30_000 })
      expect(regenerations(h, user.id)).toEqual([expect.objectContaining({ ok: true, attempt: 1, stored: K, removed: 0 })])
      expect(await pendingRows(db, user.id)).toEqual(asRows(await engineList(db, user.id)))
      const reports = h.progress.filter((p) => p.userId === user.id).map((p) => p.progress)
      expect(reports.length).toBeGreaterThan(0)
      expect(reports.at(-1)).toMatchObject({ suggestions: K, maxSuggestions: K })
    })

    it.skipIf(!enabled)('runs a burst of 5 requests for one user once', async () => {
      const [a, b] = await Promise.all([createUserWithContacts(db.prisma, nextEmail(), 20), createUserWithContacts(db.prisma, nextEmail(), 20)])
      const h = open({ concurrency: 1 })
      // The burst lands before the worker starts: on a busy machine the 50 ms debounce can pass between two
      // requests, and a job that is already running rightly keeps one more run (the test saw a third job).
      for (let i = 0; i < 5; i++) await h.jobs.requestRegeneration(a.id)
      // One worker, first in first out: once the later request for b is done, a's are all settled.
      await h.jobs.requestRegeneration(b.id)
      await h.jobs.start()
      await vi.waitFor(() => expect(regenerations(h, b.id)).not.toEqual([]), { timeout: 30_000 })
      expect(regenerations(h, a.id)).toEqual([expect.objectContaining({ ok: true, attempt: 1 })])
      if (redisUrl) {
        const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl }, prefix: h.prefix })
        try {
          // Two regeneration jobs in Redis (the other delayed job is the refresh scheduler's), both done: BullMQ
          // marks a job completed after its processor returns, so b's may still be active for a moment.
          const regenerationStates = async () => {
            const jobs = await queue.getJobs(['completed', 'waiting', 'delayed', 'active', 'failed'])
            return Promise.all(jobs.filter((job) => job.name === REGENERATE_JOB).map((job) => job.getState()))
          }
          expect(await regenerationStates()).toHaveLength(2)
          await vi.waitFor(async () => expect(await regenerationStates()).toEqual(['completed', 'completed']), { timeout: 30_000, interval: 20 })
        } finally {
          await queue.close()
        }
      }
    })

    it.skipIf(!enabled)('runs once more after the current run when a request comes in while it runs', async () => {
      const user = await createUserWithContacts(db.prisma, nextEmail(), 20)
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const sentinel = await createUserWithContacts(db.prisma, nextEmail(), 5)
      let calls = 0
      const h = open({
        concurrency: 1,
        regenerate: async (userId, onProgress, signal) => {
          if (userId === user.id && ++calls === 1) await gate
          return realRegenerate(userId, onProgress, signal)
        },
      })
      await h.jobs.start()
      await h.jobs.requestRegeneration(user.id)
      await vi.waitFor(() => expect(calls).toBe(1), { timeout: 30_000 })
      // Two requests while it runs: one more run, not two.
      await h.jobs.requestRegeneration(user.id)
      await h.jobs.requestRegeneration(user.id)
      release()
      await vi.waitFor(() => expect(regenerations(h, user.id).length).toBeGreaterThanOrEqual(2), { timeout: 30_000 })
      // A third run would have been queued before this request: one worker, first in first out, so once the
      // sentinel's run is done a third one would have run (no fixed sleep, which a busy machine outlasts).
      await h.jobs.requestRegeneration(sentinel.id)
      await vi.waitFor(() => expect(regenerations(h, sentinel.id)).not.toEqual([]), { timeout: 30_000 })
      expect(calls).toBe(2)
      expect(regenerations(h, user.id).every((o) => o.ok)).toBe(true)
    })

    it.skipIf(!enabled)('retries a failing job with exponential backoff until it succeeds', async () => {
      const user = await createUserWithContacts(db.prisma, nextEmail(), 30)
      const startedAt: number[] = []
      const h = open({
        backoffMs: 100,
        regenerate: async (userId, onProgress, signal) => {
          startedAt.push(Date.now())
          if (startedAt.length <= 2) throw new Error(`injected failure ${startedAt.length}`)
          return realRegenerate(userId, onProgress, signal)
        },
      })
      await h.jobs.start()
      await h.jobs.requestRegeneration(user.id)
      await vi.waitFor(() => expect(regenerations(h, user.id)).toContainEqual(expect.objectContaining({ ok: true })), { timeout: 30_000 })
      expect(regenerations(h, user.id)).toEqual([
        expect.objectContaining({ ok: false, attempt: 1, willRetry: true, error: 'injected failure 1' }),
        expect.objectContaining({ ok: false, attempt: 2, willRetry: true, error: 'injected failure 2' }),
        expect.objectContaining({ ok: true, attempt: 3, stored: K }),
      ])
      // Exponential: about 100 ms before the second attempt, 200 ms before the third.
      expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(95)
      expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(195)
      expect(await pendingRows(db, user.id)).toHaveLength(K)
    })

    it.skipIf(!enabled)('gives up after 3 attempts', async () => {
      const user = await createUserWithContacts(db.prisma, nextEmail(), 5)
      const sentinel = await createUserWithContacts(db.prisma, nextEmail(), 5)
      let calls = 0
      const h = open({
        backoffMs: 20,
        concurrency: 1,
        // Longer than a fourth attempt's backoff (80 ms): a sentinel requested after the third attempt comes due after it.
        debounceMs: 500,
        regenerate: async (userId, onProgress, signal) => {
          if (userId !== user.id) return realRegenerate(userId, onProgress, signal)
          calls++
          throw new Error('always fails')
        },
      })
      await h.jobs.start()
      await h.jobs.requestRegeneration(user.id)
      await vi.waitFor(() => expect(regenerations(h, user.id)).toHaveLength(3), { timeout: 30_000 })
      // One worker, due order: a fourth attempt would run before the sentinel's (no fixed sleep).
      await h.jobs.requestRegeneration(sentinel.id)
      await vi.waitFor(() => expect(regenerations(h, sentinel.id)).not.toEqual([]), { timeout: 30_000 })
      expect(calls).toBe(3)
      expect(regenerations(h, user.id)).toEqual([1, 2, 3].map((attempt) => expect.objectContaining({ ok: false, attempt, willRetry: attempt < 3 })))
    })

    it.skipIf(!enabled)('the refresh schedule enqueues one regeneration per user, walking users by pages', async () => {
      await Promise.all([1, 2, 3].map(() => createUserWithContacts(db.prisma, nextEmail(), 10)))
      const userIds = (await db.prisma.user.findMany({ select: { id: true } })).map((u) => u.id).sort()
      // Every second, so the test sees a tick; pages of 2 users, so the keyset walk takes several pages.
      const h = open({ refreshCron: '* * * * * *', refreshPageSize: 2 })
      await h.jobs.start()
      await vi.waitFor(() => expect(h.outcomes).toContainEqual(expect.objectContaining({ job: 'refresh' })), { timeout: 30_000 })
      expect(h.outcomes.find((o) => o.job === 'refresh')).toMatchObject({ ok: true, usersEnqueued: userIds.length })
      const regenerated = () => new Set(h.outcomes.flatMap((o) => (o.job === 'regenerate' && o.ok ? [o.userId] : [])))
      await vi.waitFor(() => expect(regenerated().size).toBe(userIds.length), { timeout: 30_000 })
      expect([...regenerated()].sort()).toEqual(userIds)
    })

    it.skipIf(!enabled)('close waits for a running job, then takes no more', async () => {
      const user = await createUserWithContacts(db.prisma, nextEmail(), 10)
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      onTestFinished(() => release()) // a failed test leaves no job behind for afterEach's close to wait on
      let calls = 0
      // What happened, in order. The job goes on only once close says it waits for it (or, if close does not
      // wait, once close has ended), so a close that does not wait ends before the job, whatever the timing.
      const order: string[] = []
      let waiting!: () => void
      const closeWaits = new Promise<void>((resolve) => (waiting = resolve))
      const h = open({
        onCloseWaiting: (running) => {
          order.push(`close waits for ${running}`)
          waiting()
        },
        regenerate: async (userId, onProgress, signal) => {
          calls++
          await gate
          const result = await realRegenerate(userId, onProgress, signal)
          order.push('job done')
          return result
        },
      })
      await h.jobs.start()
      await h.jobs.requestRegeneration(user.id)
      await vi.waitFor(() => expect(calls).toBe(1), { timeout: 30_000 })
      const closing = h.jobs.close().then(() => void order.push('closed'))
      await Promise.race([closeWaits, closing])
      release()
      await closing
      expect(order).toEqual(['close waits for 1', 'job done', 'closed'])
      expect(regenerations(h, user.id)).toEqual([expect.objectContaining({ ok: true })])
      await h.jobs.close() // idempotent
      await h.jobs.requestRegeneration(user.id) // dropped, not thrown
      expect(calls).toBe(1)
    })

    it.skipIf(!enabled)('close is bounded: a job still running at the timeout is aborted', async () => {
      const user = await createUserWithContacts(db.prisma, nextEmail(), 5)
      let aborted = false
      let running = false
      const h = open({
        closeTimeoutMs: 200,
        regenerate: (_userId, _onProgress, signal) =>
          new Promise((_resolve, reject) => {
            running = true
            signal.addEventListener('abort', () => {
              aborted = true
              reject(new Error('aborted'))
            })
          }),
      })
      await h.jobs.start()
      await h.jobs.requestRegeneration(user.id)
      await vi.waitFor(() => expect(running).toBe(true), { timeout: 30_000 })
      const before = Date.now()
      await h.jobs.close()
      // Bounded, not prompt: without the bound it never returns; a loaded machine stretches the 200 ms.
      expect(Date.now() - before).toBeLessThan(15_000)
      expect(aborted).toBe(true)
    })

    if (redisUrl) {
      it.skipIf(!enabled)('registers the daily refresh once as a BullMQ job scheduler, however many processes start', async () => {
        const prefix = uniquePrefix('jobs-scheduler')
        const first = open({ refreshCron: '0 4 * * *' }, prefix)
        const second = open({ refreshCron: '0 4 * * *' }, prefix)
        await Promise.all([first.jobs.start(), second.jobs.start()])
        const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl }, prefix })
        try {
          const schedulers = await queue.getJobSchedulers()
          expect(schedulers).toEqual([expect.objectContaining({ key: REFRESH_SCHEDULER_ID, name: REFRESH_JOB, pattern: '0 4 * * *', tz: 'UTC' })])
          // Its next job waits for 04:00 UTC; promoting it runs the refresh now.
          const delayed = await queue.getDelayed()
          expect(delayed.map((job) => job.name)).toEqual([REFRESH_JOB])
          expect(new Date(delayed[0]!.timestamp + delayed[0]!.delay).getUTCHours()).toBe(4)
        } finally {
          await queue.close()
        }
      })

      it.skipIf(!enabled)('stores progress on the job (job.updateProgress), seen through QueueEvents', async () => {
        const user = await createUserWithContacts(db.prisma, nextEmail(), 40)
        const h = open()
        const events = new QueueEvents(QUEUE_NAME, { connection: { url: redisUrl }, prefix: h.prefix })
        const seen: unknown[] = []
        events.on('progress', ({ data }) => void seen.push(data))
        try {
          await events.waitUntilReady()
          await h.jobs.start()
          await h.jobs.requestRegeneration(user.id)
          await vi.waitFor(() => expect(seen).toContainEqual(expect.objectContaining({ suggestions: K })), { timeout: 30_000 })
          expect(seen.at(-1)).toMatchObject({ suggestions: K, maxSuggestions: K })
        } finally {
          await events.close()
        }
      })
    }
  },
)



describe.each(runners)('jobs runner $name in its own process', ({ redisUrl, enabled }) => {
  it.skipIf(!enabled)('leaves nothing open: a process that used it exits by itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobs-exit-'))
    const root = resolve(import.meta.dirname, '../..')
    const script = join(dir, 'exit.mts')
    await writeFile(
      script,
      `
import { createJobs } from ${JSON.stringify(join(root, 'src/jobs/jobs.ts'))}
import { createLogger } from ${JSON.stringify(join(root, 'src/logger.ts'))}
let done = () => {}
const finished = new Promise<void>((resolve) => (done = resolve))
const jobs = createJobs({
  redisUrl: process.env.JOBS_REDIS_URL || undefined,
  prefix: process.env.JOBS_PREFIX,
  // The stand-in processor below uses neither.
  prisma: {} as never,
  engine: {} as never,
  logger: createLogger('silent'),
  concurrency: 1,
  refreshCron: '0 0 1 1 *',
  debounceMs: 0,
  regenerate: async () => ({ stored: 1, removed: 0, contactsProcessed: 1, durationMs: 1 }),
  onJobDone: (outcome) => outcome.ok && done(),
})
await jobs.start()
await jobs.requestRegeneration('user-1')
await finished
await jobs.close()
process.stdout.write('closed\\n')
// No process.exit: the process must end because nothing is left open.
`,
    )
    const prefix = uniquePrefix('jobs-exit')
    try {
      const child = spawn(join(root, 'node_modules/.bin/tsx'), [script], {
        cwd: root,
        env: { ...process.env, JOBS_REDIS_URL: redisUrl ?? '', JOBS_PREFIX: prefix },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk) => (output += chunk))
      child.stderr.on('data', (chunk) => (output += chunk))
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      const timer = setTimeout(() => child.kill('SIGKILL'), 50_000)
      const code = await exited
      clearTimeout(timer)
      expect(output).toContain('closed')
      expect(code).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
      if (redisUrl) {
        const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl }, prefix })
        await queue.obliterate({ force: true })
        await queue.close()
      }
    }
  })

})

describe('jobs runner BullMQ without Redis', () => {
  it('fails a request within a bound instead of holding the caller, and closes', async () => {
    const jobs = createJobs({
      redisUrl: 'redis://127.0.0.1:1', // nothing listens there
      prefix: uniquePrefix('jobs-down'),
      prisma: {} as never, // not reached
      engine: {} as never,
      logger: silent,
      concurrency: 1,
      refreshCron: NEVER_CRON,
    })
    const before = Date.now()
    await expect(jobs.requestRegeneration('00000000-0000-7000-8000-000000000001')).rejects.toThrow()
    // The first connection gets 2 s (later requests fail at once); without the bound it waits for Redis for ever.
    expect(Date.now() - before).toBeLessThan(15_000)
    await jobs.close()
  })
})
