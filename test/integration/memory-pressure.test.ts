/**
 * The memory guard for real: a child process with a 64 MB old space runs 48
 * concurrent generations (top 500, pages of 1,000) over 100,000 contacts. Each
 * would hold tens of MB at once; together, unguarded, they exceed the heap.
 * The breaker must throttle and pause them, and the process must live.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedBenchUsers } from '../../src/seed/seed.ts'
import { rankNaively } from '../../src/suggestions/ranking.ts'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()
const NOW = new Date('2026-11-25T12:00:00.000Z')
const root = path.resolve(import.meta.dirname, '../..')

describe.skipIf(!kinds.includes('postgres'))('memory breaker under a small heap (PostgreSQL)', () => {
  let db: TestDatabase
  let userId: string
  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    userId = (await seedBenchUsers(db, { users: 1, contacts: 100_000, now: NOW })).userIds[0]!
    await db.query('ANALYZE "Contact"')
  }, 180_000)
  afterAll(() => db?.destroy())

  it('throttles, does not die, and still answers exactly', async () => {
    const child = spawn(
      process.execPath,
      ['--max-old-space-size=64', '--import', 'tsx', 'test/fixtures/memory-pressure-child.ts'],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, SCHEMA: db.schema, USER_ID: userId, CONCURRENCY: '48', NOW: NOW.toISOString() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(stderr).not.toMatch(/heap out of memory/i)
    expect(code, stderr).toBe(0)
    const report = JSON.parse(stdout) as {
      throttledEvents: number
      memoryPressureErrors: number
      completed: number
      distinctResults: number
      firstResult: string[]
      peakHeapUsed: number
      heapLimit: number
    }
    process.stderr.write(`memory-pressure child: ${JSON.stringify({ ...report, firstResult: report.firstResult.length })}\n`)
    expect(report.throttledEvents, JSON.stringify({ ...report, firstResult: report.firstResult.length })).toBeGreaterThan(0)
    expect(report.completed + report.memoryPressureErrors).toBe(48)
    expect(report.completed).toBeGreaterThan(0)
    expect(report.distinctResults).toBe(1)
    const rows = await db.prisma.contact.findMany({
      where: { userId, archived: false },
      select: { id: true, nextDueAt: true, dunbarCircle: true, frequencyPreference: true },
    })
    expect(report.firstResult).toEqual(rankNaively(rows, NOW, 500).map((row) => row.id))
  }, 300_000)
})
