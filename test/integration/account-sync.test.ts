/**
 * Issue 15, account syncs as jobs against a real Radicale behind a counting proxy, on both runners
 * (in-process, and BullMQ on Redis): wrong credentials at sync time mark the account NEEDS_REAUTH
 * and no further request reaches the server (the schedule keeps ticking, asserted on its outcomes);
 * a server answering 500 once is retried with backoff and ends OK; a 503 with Retry-After is retried
 * at that time and recorded in `retryAfter` meanwhile. And the lease: two runs with different owners
 * asked at once (PGlite and PostgreSQL) sync the account once, the other is skipped. And the sync
 * token: stored once per collection and run, by the collection's syncer (the run does not write it again).
 */
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { connectAccount, setAccountCollections, type DavServices } from '../../src/accounts/accounts.ts'
import { createJobs, type JobOutcome, type Jobs } from '../../src/jobs/jobs.ts'
import { syncCalendar } from '../../src/sync/calendar-sync.ts'
import { syncAddressBook } from '../../src/sync/contacts-sync.ts'
import { runAccountSync, type CollectionSyncer, type Syncers } from '../../src/sync/run-sync.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { normalizeSql } from '../helpers/recorded-sql.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { listingSyncer, listingSyncers, startCountingProxy, testDavServices, type CountingProxy } from '../helpers/test-dav.ts'

const enabled = radicaleAvailable()
const kinds = await availableDatabaseKinds()
const withRedis = await redisAvailable()
const silent = pino({ level: 'silent' })
const runners = withRedis ? (['in-process', 'bullmq'] as const) : (['in-process'] as const)

describe.skipIf(!enabled)('account sync', () => {
  let radicale: Radicale
  beforeAll(async () => {
    radicale = await startRadicale({ alice: 'alice-password', tom: 'tom-password' })
    await radicale.createAddressBook('alice', 'contacts', 'Contacts')
    // Tom's two address books, one with a card: the sync token test's own (alice's tests expect one book).
    const tokens = await radicale.createAddressBook('tom', 'tokens', 'Tokens')
    await radicale.put('tom', `${tokens}tom.vcf`, 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tom\r\nFN:Tom Token\r\nN:Token;Tom;;;\r\nEND:VCARD\r\n', 'text/vcard')
    await radicale.createAddressBook('tom', 'empty', 'Empty')
  }, 60_000)
  afterAll(async () => {
    await radicale?.stop()
  })

  /** A user with an account of Radicale's `username` (alice: default) on `proxy` (Radicale behind it), its address books enabled. */
  async function connected(db: TestDatabase, dav: DavServices, proxy: CountingProxy, username = 'alice') {
    const user = await db.prisma.user.create({ data: { email: `sync-${Math.random().toString(36).slice(2)}@example.com` } })
    const deps = { prisma: db.prisma, dav, announce: () => {}, logger: silent, maxAccountsPerUser: 10 }
    const account = await connectAccount(deps, user.id, { kind: 'CARDDAV', url: proxy.url, username, password: `${username}-password` })
    await setAccountCollections(deps, user.id, account.id, account.collections.map((collection) => collection.url))
    return { userId: user.id, accountId: account.id }
  }

  describe.each(runners)('as jobs (%s)', (runner) => {
    let db: TestDatabase
    let proxy: CountingProxy
    let jobs: Jobs | undefined
    const dav = testDavServices({ allowPrivate: true })
    beforeAll(async () => {
      db = await openTestDatabase('pglite')
    })
    afterEach(async () => {
      await jobs?.close()
      jobs = undefined
      await proxy?.close()
    })
    afterAll(async () => {
      await db?.destroy()
    })

    function startJobs(outcomes: JobOutcome[], syncIntervalMs = 3_600_000, syncers: Syncers = listingSyncers) {
      jobs = createJobs({
        ...(runner === 'bullmq' ? { redisUrl: TEST_REDIS_URL, prefix: uniquePrefix('account-sync') } : {}),
        prisma: db.prisma,
        engine: {} as never,
        logger: silent,
        concurrency: 1,
        refreshCron: '0 0 1 1 *',
        runSync: (accountId, { signal }) =>
          runAccountSync({ prisma: db.prisma, dav, announce: () => {}, logger: silent, now: () => new Date(), horizonMs: 7 * 86_400_000 }, accountId, { owner: `test:${runner}:${Math.random()}`, syncers, signal }),
        syncIntervalMs,
        syncScheduleEveryMs: 50,
        syncBackoffMs: 20,
        onJobDone: (outcome) => outcomes.push(outcome),
      })
      return jobs
    }
    const syncsOf = (outcomes: JobOutcome[], accountId: string) =>
      outcomes.filter((outcome): outcome is Extract<JobOutcome, { job: 'sync' }> => outcome.job === 'sync' && outcome.accountId === accountId)
    const ticks = (outcomes: JobOutcome[]) => outcomes.filter((outcome) => outcome.job === 'sync-schedule').length

    it('marks an account whose credentials the server refuses NEEDS_REAUTH, and sends it nothing more', async () => {
      proxy = await startCountingProxy(radicale.url)
      const { accountId } = await connected(db, dav, proxy)
      proxy.refuse = () => ({ status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } })
      const outcomes: JobOutcome[] = []
      // Due again at once (interval 0) were it not NEEDS_REAUTH.
      const jobs = startJobs(outcomes, 0)
      await jobs.start()
      await jobs.enqueueSync(accountId)
      await vi.waitFor(() => expect(syncsOf(outcomes, accountId).length).toBeGreaterThan(0), { timeout: 20_000 })
      const [first] = syncsOf(outcomes, accountId)
      expect(first).toMatchObject({ attempt: 1, ok: false, retryInMs: null, outcome: { outcome: 'NEEDS_REAUTH' } })
      const row = await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } })
      expect(row).toMatchObject({ status: 'NEEDS_REAUTH', syncLeaseOwner: null })
      expect(row.lastError).toMatch(/refused the credentials/)
      const requests = proxy.requests
      // The schedule keeps looking for due accounts (every 50 ms, due after 0 ms): this one is never due again.
      const seen = ticks(outcomes)
      await vi.waitFor(() => expect(ticks(outcomes)).toBeGreaterThanOrEqual(seen + 3), { timeout: 20_000 })
      expect(syncsOf(outcomes, accountId)).toHaveLength(1)
      expect(proxy.requests).toBe(requests)
    })

    it('retries a server that answers 500 once, with backoff, and ends OK', async () => {
      proxy = await startCountingProxy(radicale.url)
      const { accountId } = await connected(db, dav, proxy)
      const start = proxy.requests
      proxy.refuse = (n) => (n === start + 1 ? { status: 500 } : undefined)
      const outcomes: JobOutcome[] = []
      const jobs = startJobs(outcomes)
      await jobs.start()
      await jobs.enqueueSync(accountId)
      await vi.waitFor(() => expect(syncsOf(outcomes, accountId).some((outcome) => outcome.ok)).toBe(true), { timeout: 20_000 })
      const [first, second] = syncsOf(outcomes, accountId)
      expect(first).toMatchObject({ attempt: 1, ok: false, retryInMs: 20, outcome: { outcome: 'RETRY' } })
      expect(second).toMatchObject({ attempt: 2, ok: true, outcome: { outcome: 'OK', collections: 1 } })
      expect(await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).toMatchObject({ status: 'OK', lastError: null, retryAfter: null })
    })

    it('retries a 503 at its Retry-After, recording it on the account meanwhile', async () => {
      proxy = await startCountingProxy(radicale.url)
      const { accountId } = await connected(db, dav, proxy)
      const start = proxy.requests
      proxy.refuse = (n) => (n === start + 1 ? { status: 503, headers: { 'retry-after': '1' } } : undefined)
      const outcomes: JobOutcome[] = []
      const jobs = startJobs(outcomes)
      await jobs.start()
      await jobs.enqueueSync(accountId)
      await vi.waitFor(() => expect(syncsOf(outcomes, accountId).length).toBeGreaterThan(0), { timeout: 20_000 })
      expect(syncsOf(outcomes, accountId)[0]).toMatchObject({ attempt: 1, retryInMs: 1000, outcome: { outcome: 'RETRY', retryAfterMs: 1000 } })
      const waiting = await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } })
      expect(waiting.status).toBe('ERROR')
      expect(waiting.retryAfter).not.toBeNull()
      await vi.waitFor(() => expect(syncsOf(outcomes, accountId).some((outcome) => outcome.ok)).toBe(true), { timeout: 20_000 })
      expect(await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).toMatchObject({ status: 'OK', retryAfter: null })
    })
  })

  describe.each(kinds)('the lease on %s', (kind) => {
    let db: TestDatabase
    let proxy: CountingProxy
    const dav = testDavServices({ allowPrivate: true })
    beforeAll(async () => {
      db = await openTestDatabase(kind)
      proxy = await startCountingProxy(radicale.url)
    })
    afterAll(async () => {
      await proxy?.close()
      await db?.destroy()
    })

    it('runs one of two syncs of the same account asked at once (different owners); the other is skipped', async () => {
      const { accountId } = await connected(db, dav, proxy)
      let calls = 0
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const gated: CollectionSyncer = async (...args) => {
        calls += 1
        await gate
        return listingSyncer(...args)
      }
      const deps = { prisma: db.prisma, dav, announce: () => {}, logger: silent, now: () => new Date(), horizonMs: 0 }
      const runs = [
        runAccountSync(deps, accountId, { owner: 'process-a', syncers: { ADDRESS_BOOK: gated, CALENDAR: gated } }),
        runAccountSync(deps, accountId, { owner: 'process-b', syncers: { ADDRESS_BOOK: gated, CALENDAR: gated } }),
      ]
      // The loser answers without waiting for the winner; then the winner may finish.
      const first = await Promise.race(runs)
      expect(first).toMatchObject({ skipped: true, reason: 'leased' })
      release()
      const outcomes = await Promise.all(runs)
      expect(outcomes.filter((outcome) => !outcome.skipped)).toEqual([expect.objectContaining({ outcome: 'OK', collections: 1 })])
      expect(calls).toBe(1)
      const row = await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } })
      expect(row).toMatchObject({ status: 'OK', syncLeaseOwner: null, syncLeaseUntil: null })
      // Released: the next run takes it.
      expect(await runAccountSync(deps, accountId, { owner: 'process-b', syncers: listingSyncers })).toMatchObject({ skipped: false, outcome: 'OK' })
    })
  })

  describe.each(kinds)('the sync token on %s', (kind) => {
    let db: TestDatabase
    let proxy: CountingProxy
    const statements: string[] = []
    const dav = testDavServices({ allowPrivate: true })
    beforeAll(async () => {
      db = await openTestDatabase(kind, { onQuery: (sql) => void statements.push(normalizeSql(sql)) })
      proxy = await startCountingProxy(radicale.url)
    })
    afterAll(async () => {
      await proxy?.close()
      await db?.destroy()
    })

    it('is written once per collection and run (by the syncer), on the first sync and an incremental one', async () => {
      const { accountId } = await connected(db, dav, proxy, 'tom')
      const collections = await db.prisma.accountCollection.count({ where: { accountId, enabled: true } })
      expect(collections).toBe(2)
      const deps = { prisma: db.prisma, dav, announce: () => {}, logger: silent, now: () => new Date(), horizonMs: 7 * 86_400_000 }
      const syncers: Syncers = { ADDRESS_BOOK: syncAddressBook, CALENDAR: syncCalendar }
      const tokenWrites = () => statements.filter((sql) => /^UPDATE "AccountCollection" SET .*"syncToken"/.test(sql))
      for (const run of ['first', 'incremental']) {
        statements.length = 0
        const outcome = await runAccountSync(deps, accountId, { owner: `tokens:${run}`, syncers })
        expect(outcome).toMatchObject({ skipped: false, outcome: 'OK', collections })
        expect(tokenWrites()).toHaveLength(collections)
      }
      expect(await db.prisma.contact.count({ where: { accountId } })).toBe(1)
      for (const stored of await db.prisma.accountCollection.findMany({ where: { accountId } })) {
        expect(stored.syncToken).toMatch(/^http:\/\/radicale\.org\/ns\/sync\//)
        expect(stored.lastSyncedAt).not.toBeNull()
      }
    })
  })
})
