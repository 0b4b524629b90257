/**
 * The import job on PGlite and PostgreSQL, with the line-per-record fake format (so these tests
 * do not depend on the real readers and writers): batches and counts, the checkpoint and the
 * resume from it after a failed attempt, a reader that gives up (FAILED), the last attempt
 * failing (FAILED, never left RUNNING), the chunks deleted at the end, coalesced announcements,
 * and both job runners' start() re-enqueuing the imports a restart left QUEUED or RUNNING.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createJobs, type Jobs } from '../../src/jobs/jobs.ts'
import { createChangeBus, importProgressNotices, type ImportProgressNotice } from '../../src/pubsub/changes.ts'
import { runImport, type ImportRunDeps } from '../../src/imports/run-import.ts'
import { CHUNK_BYTES, storeUpload, UPLOAD_INTERRUPTED } from '../../src/imports/upload.ts'
import type { AnnounceChange } from '../../src/changes/announce.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { contactLines, fakeImportFormats } from '../helpers/fake-import-formats.ts'
import { FIXTURE_NOW } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'

const kinds = await availableDatabaseKinds()
const withRedis = await redisAvailable()
const silent = pino({ level: 'silent' })
const LIMITS = { maxBytes: 50 * CHUNK_BYTES, maxInFlight: 100, maxPerDay: 1000 }
const NEVER_CRON = '0 0 1 1 *'
let users = 0

async function* body(text: string, piece = 70_000): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let offset = 0; offset < bytes.byteLength; offset += piece) yield bytes.subarray(offset, offset + piece)
}

const attempt = (n = 1, final = false) => ({ attempt: n, final, signal: new AbortController().signal })

describe.each(kinds)('the import job on %s', (kind) => {
  let db: TestDatabase
  const bus = createChangeBus()

  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(async () => {
    await bus.close()
    await db?.destroy()
  })

  async function newUser() {
    return (await db.prisma.user.create({ data: { email: `import-run${++users}@example.com` } })).id
  }

  async function upload(userId: string, text: string) {
    return (await storeUpload(db.prisma, { userId, kind: 'CONTACTS', format: 'csv', body: body(text), now: FIXTURE_NOW }, LIMITS)).id
  }

  function deps(formats = fakeImportFormats(), overrides: Partial<ImportRunDeps> = {}) {
    const announced: string[] = []
    const announce: AnnounceChange = (userId, what) => announced.push(`${userId}:${what}`)
    return { deps: { prisma: db.prisma, formats, announce, pubsub: bus.pubsub, now: () => FIXTURE_NOW, logger: silent, batchSize: 100, ...overrides }, announced, formats }
  }

  it('reads the chunks in order across chunk boundaries, writes in batches, counts, keeps the rejected rows and deletes the file', async () => {
    const userId = await newUser()
    // About 2.5 MiB: three chunks, lines cut across their edges.
    const rows = 70_000
    const text = `${contactLines(rows)}!bad one\n!bad two\n`
    const id = await upload(userId, text)
    expect(await db.prisma.importChunk.count({ where: { importId: id } })).toBeGreaterThanOrEqual(3)
    const { deps: d, announced, formats } = deps(undefined, { batchSize: 5000 })
    const notices: ImportProgressNotice[] = []
    const listening = (async () => {
      for await (const notice of importProgressNotices(bus.pubsub, id)) {
        notices.push(notice)
        if (notice.status === 'SUCCEEDED') return
      }
    })()
    await vi.waitFor(() => expect(bus.listenerCount(`import-progress:${id}`)).toBe(1))
    const result = await runImport(d, id, attempt())
    expect(result.status).toBe('SUCCEEDED')
    await listening
    const row = await db.prisma.import.findUniqueOrThrow({ where: { id } })
    expect(row).toMatchObject({ status: 'SUCCEEDED', done: rows + 2, total: rows + 2, created: rows, updated: 0, unchanged: 0, rejected: 2, error: null })
    expect(row.startedAt).toEqual(FIXTURE_NOW)
    expect(row.finishedAt).toEqual(FIXTURE_NOW)
    expect(formats.store.batches.every((size) => size <= 5000)).toBe(true)
    expect(formats.store.applied.get(userId)!.size).toBe(rows)
    const errors = await db.prisma.importError.findMany({ where: { importId: id }, orderBy: { position: 'asc' } })
    expect(errors.map((error) => [error.position, error.field, error.reason, error.raw])).toEqual([
      [rows + 2, 'line', 'starts with !', '!bad one'],
      [rows + 3, 'line', 'starts with !', '!bad two'],
    ])
    expect(await db.prisma.importChunk.count({ where: { importId: id } })).toBe(0)
    // One announcement for the whole import, not one per batch.
    expect(announced).toEqual([`${userId}:contact`])
    expect(notices.at(-1)).toEqual({ status: 'SUCCEEDED', done: rows + 2 })
    expect(notices.filter((notice) => notice.status === 'RUNNING').length).toBeGreaterThanOrEqual(14)
  })

  it('imports the same file again as unchanged, and announces nothing', async () => {
    const userId = await newUser()
    const formats = fakeImportFormats()
    const first = deps(formats)
    await runImport(first.deps, await upload(userId, contactLines(250)), attempt())
    const second = deps(formats)
    const id = await upload(userId, contactLines(250))
    await runImport(second.deps, id, attempt())
    expect(await db.prisma.import.findUniqueOrThrow({ where: { id } })).toMatchObject({ created: 0, updated: 0, unchanged: 250, done: 250 })
    expect(second.announced).toEqual([])
  })

  it('resumes after a failed attempt from its checkpoint: nothing doubled, nothing skipped', async () => {
    const userId = await newUser()
    const formats = fakeImportFormats()
    formats.store.beforeApply = (batch) => {
      if (batch === 3) throw new Error('the database went away')
    }
    const id = await upload(userId, contactLines(1000))
    await expect(runImport(deps(formats).deps, id, attempt(1))).rejects.toThrow('the database went away')
    // Three batches checkpointed; the import is still RUNNING, its file kept for the retry.
    expect(await db.prisma.import.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'RUNNING', done: 300, created: 300 })
    expect(await db.prisma.importChunk.count({ where: { importId: id } })).toBeGreaterThan(0)
    formats.store.beforeApply = undefined
    const batchesBefore = formats.store.batches.length
    expect((await runImport(deps(formats).deps, id, attempt(2))).status).toBe('SUCCEEDED')
    expect(await db.prisma.import.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'SUCCEEDED', done: 1000, total: 1000, created: 1000, unchanged: 0 })
    // The retry read only what was left: 700 records in 7 batches.
    expect(formats.store.batches.slice(batchesBefore)).toEqual([100, 100, 100, 100, 100, 100, 100])
    expect(formats.store.applied.get(userId)!.size).toBe(1000)
  })

  it('fails at once, keeping what it wrote, when the reader gives up on the file', async () => {
    const userId = await newUser()
    const id = await upload(userId, `${contactLines(150)}FAIL\n${contactLines(10, 500)}`)
    const { deps: d, announced } = deps()
    expect((await runImport(d, id, attempt())).status).toBe('FAILED')
    const row = await db.prisma.import.findUniqueOrThrow({ where: { id } })
    expect(row).toMatchObject({ status: 'FAILED', done: 150, created: 150 })
    expect(row.error).toMatch(/^The file could not be read: line 152 is not a record/)
    expect(row.finishedAt).toEqual(FIXTURE_NOW)
    expect(await db.prisma.importChunk.count({ where: { importId: id } })).toBe(0)
    expect(announced).toEqual([`${userId}:contact`])
  })

  it('marks the import FAILED with what was written when the last attempt fails, never leaving it RUNNING', async () => {
    const userId = await newUser()
    const formats = fakeImportFormats()
    formats.store.beforeApply = (batch) => {
      if (batch === 1) throw new Error('still broken')
    }
    const id = await upload(userId, contactLines(300))
    await expect(runImport(deps(formats).deps, id, attempt(3, true))).rejects.toThrow('still broken')
    const row = await db.prisma.import.findUniqueOrThrow({ where: { id } })
    expect(row).toMatchObject({ status: 'FAILED', done: 100, created: 100 })
    expect(row.error).toMatch(/stopped after 100 records/)
    expect(await db.prisma.importChunk.count({ where: { importId: id } })).toBe(0)
  })

  it('announces at most once per announceEveryMs while it runs, and once at the end', async () => {
    const userId = await newUser()
    let clock = FIXTURE_NOW.getTime()
    // Each batch takes 2 s of (fake) time: 10 batches = 20 s, announced at 6 s, 12 s, 18 s and the end.
    const formats = fakeImportFormats()
    formats.store.beforeApply = () => {
      clock += 2000
    }
    const { deps: d, announced } = deps(formats, { now: () => new Date(clock), announceEveryMs: 5000 })
    await runImport(d, await upload(userId, contactLines(1000)), attempt())
    expect(announced).toHaveLength(4)
  })

  it('skips an import that already ended or is gone', async () => {
    const userId = await newUser()
    const id = await upload(userId, contactLines(5))
    await runImport(deps().deps, id, attempt())
    expect((await runImport(deps().deps, id, attempt())).status).toBe('SKIPPED')
    expect((await runImport(deps().deps, '01890000-0000-7000-8000-000000000000', attempt())).status).toBe('SKIPPED')
  })

  describe.each([['in-process'], ...(withRedis ? [['bullmq']] : [])])('the %s runner', (runner) => {
    let jobs: Jobs | undefined
    afterAll(async () => {
      await jobs?.close()
    })

    it('re-enqueues at start the imports a restart left QUEUED or RUNNING, and deletes abandoned uploads', async () => {
      const userId = await newUser()
      const formats = fakeImportFormats()
      const queued = await upload(userId, contactLines(120))
      const running = await upload(userId, contactLines(230))
      // The process died after two batches of this one.
      formats.store.beforeApply = (batch) => {
        if (batch === 2) throw new Error('killed')
      }
      await expect(runImport(deps(formats).deps, running, attempt())).rejects.toThrow('killed')
      formats.store.beforeApply = undefined
      // An upload that died mid-way an hour and more ago, with one chunk stored.
      const abandoned = await db.prisma.import.create({
        data: { userId, kind: 'CONTACTS', format: 'csv', status: 'FAILED', error: UPLOAD_INTERRUPTED, byteSize: 0, createdAt: new Date(Date.now() - 2 * 3_600_000) },
      })
      await db.prisma.importChunk.create({ data: { importId: abandoned.id, seq: 0, data: new Uint8Array(10) } })

      const done: string[] = []
      jobs = createJobs({
        ...(runner === 'bullmq' ? { redisUrl: TEST_REDIS_URL, prefix: uniquePrefix('imports') } : {}),
        prisma: db.prisma,
        engine: {} as never,
        logger: silent,
        concurrency: 1,
        refreshCron: NEVER_CRON,
        regenerate: async () => ({ contactsProcessed: 0, stored: 0, durationMs: 0 }) as never,
        runImport: (importId, a) => runImport(deps(formats).deps, importId, a),
        onJobDone: (outcome) => {
          if (outcome.job === 'import' && outcome.ok) done.push(outcome.importId)
        },
      })
      await jobs.start()
      await vi.waitFor(() => expect(done).toEqual(expect.arrayContaining([queued, running])), { timeout: 30_000 })
      expect(await db.prisma.import.findUniqueOrThrow({ where: { id: queued } })).toMatchObject({ status: 'SUCCEEDED', done: 120 })
      expect(await db.prisma.import.findUniqueOrThrow({ where: { id: running } })).toMatchObject({ status: 'SUCCEEDED', done: 230, created: 230 })
      // The two files share their first 120 e-mails: 230 contacts in all.
      expect(formats.store.applied.get(userId)!.size).toBe(230)
      expect(await db.prisma.importChunk.count({ where: { importId: abandoned.id } })).toBe(0)
      expect(done.filter((id) => id === queued)).toHaveLength(1)
    })
  })
})
