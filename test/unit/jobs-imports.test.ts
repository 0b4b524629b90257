/**
 * The in-process runner's imports, without a database: one job per import however often it is
 * enqueued, retries whose last attempt is told it is final, imports running beside regenerations
 * in a bound of their own, and start() handing back the imports the database says are unfinished.
 */
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { createJobs, type Jobs, type JobOutcome } from '../../src/jobs/jobs.ts'
import type { ImportAttempt } from '../../src/imports/run-import.ts'

const silent = pino({ level: 'silent' })

function fakePrisma(unfinished: string[]) {
  const calls: string[] = []
  const prisma = {
    import: {
      findMany: async ({ where }: any) => {
        calls.push('findMany')
        return unfinished.filter((id) => !where.id || id > where.id.gt).map((id) => ({ id }))
      },
    },
    importChunk: {
      deleteMany: async () => {
        calls.push('deleteAbandoned')
        return { count: 0 }
      },
    },
  }
  return { prisma: prisma as unknown as PrismaClient, calls }
}

describe('in-process jobs: imports', () => {
  let jobs: Jobs | undefined
  afterEach(async () => {
    await jobs?.close()
  })

  function runner(prisma: PrismaClient, runImport: (id: string, attempt: ImportAttempt) => Promise<unknown>, outcomes: JobOutcome[] = []) {
    jobs = createJobs({
      prisma,
      engine: {} as never,
      logger: silent,
      concurrency: 1,
      refreshCron: '0 0 1 1 *',
      backoffMs: 1,
      runImport,
      onJobDone: (outcome) => outcomes.push(outcome),
    })
    return jobs
  }

  it('resumes at start the imports left QUEUED or RUNNING, and deletes abandoned uploads first', async () => {
    const { prisma, calls } = fakePrisma(['a', 'b'])
    const ran: string[] = []
    const jobs = runner(prisma, async (id) => void ran.push(id))
    await jobs.start()
    await vi.waitFor(() => expect(ran).toEqual(['a', 'b']))
    expect(calls[0]).toBe('deleteAbandoned')
  })

  it('runs one job per import however often it is enqueued while waiting or running', async () => {
    const { prisma } = fakePrisma([])
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const ran: string[] = []
    const jobs = runner(prisma, async (id) => {
      ran.push(id)
      await gate
    })
    await jobs.start()
    await jobs.enqueueImport('x')
    await jobs.enqueueImport('x')
    await vi.waitFor(() => expect(ran).toEqual(['x']))
    await jobs.enqueueImport('x')
    release()
    await jobs.enqueueImport('y')
    await vi.waitFor(() => expect(ran).toEqual(['x', 'y']))
  })

  it('retries a failed attempt, telling the last one it is final', async () => {
    const { prisma } = fakePrisma([])
    const attempts: ImportAttempt[] = []
    const outcomes: JobOutcome[] = []
    const jobs = runner(
      prisma,
      async (_id, attempt) => {
        attempts.push(attempt)
        throw new Error('down')
      },
      outcomes,
    )
    await jobs.start()
    await jobs.enqueueImport('z')
    await vi.waitFor(() => expect(attempts).toHaveLength(3))
    expect(attempts.map((attempt) => [attempt.attempt, attempt.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ])
    await vi.waitFor(() => expect(outcomes.filter((outcome) => outcome.job === 'import')).toHaveLength(3))
    expect(outcomes.at(-1)).toMatchObject({ job: 'import', importId: 'z', ok: false, willRetry: false })
  })

  it('refuses enqueueImport without a runImport', async () => {
    jobs = createJobs({ prisma: fakePrisma([]).prisma, engine: {} as never, logger: silent, concurrency: 1, refreshCron: '0 0 1 1 *' })
    await expect(jobs.enqueueImport('x')).rejects.toThrow(/runImport/)
  })
})
