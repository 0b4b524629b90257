/**
 * Budgets shared by two server processes on one Redis (issue 16, part 4): whatever process a
 * partner's requests reach, the sum of what both serve stays within the one hourly budget, and
 * each answer's RateLimit field counts what the other process spent. The servers are children
 * (test/fixtures/budget-server.ts) on one PostgreSQL schema, budgets under a key prefix of this run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { ROOT, TEST_SECRET_KEY } from '../helpers/server-process.ts'
import { parseList } from '../helpers/structured-fields.ts'

const ready = (await availableDatabaseKinds()).includes('postgres') && (await redisAvailable())

/** `me { id email }`: cost 3; with 100 points an hour, 33 of them fit (99), a 34th does not. */
const SMALL = '{ me { id email } }'
const BUDGET = 100
const COST = 3

interface Child {
  child: ChildProcess
  url: string
}

function startChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/budget-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the budget server exited with ${code}: ${stderr}`)))
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url }))
  })
}

async function post(url: string, token: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: SMALL }),
  })
  await response.arrayBuffer()
  const hourly = parseList(response.headers.get('ratelimit') ?? '').find((item) => item.value === 'hourly')
  return { status: response.status, remaining: hourly?.params.get('r') as number | undefined }
}

describe.skipIf(!ready)('partner budgets shared by two processes on one Redis', () => {
  let db: TestDatabase
  let user: FixtureUser
  const children: Child[] = []

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    user = await createUserWithContacts(db.prisma, 'partner@example.com', 10)
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      SCHEMA: db.schema,
      REDIS_URL: TEST_REDIS_URL,
      BUDGET_KEY_PREFIX: uniquePrefix('budgets'),
      SECRET_KEY: TEST_SECRET_KEY,
      PARTNER_POINTS_PER_HOUR: String(BUDGET),
      // Only the hourly budget is under test here: the burst and the concurrency do not bind.
      PARTNER_BURST_POINTS: '100000',
      PARTNER_CONCURRENT_REQUESTS: '1000',
    }
    children.push(...(await Promise.all([startChild(env), startChild(env)])))
  }, 120_000)
  afterAll(async () => {
    await Promise.all(
      children.map(({ child }) => new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })),
    )
    await db?.destroy()
  }, 30_000)

  it('serves at most one budget in total, concurrently and one after the other, on either process', async () => {
    const [a, b] = children as [Child, Child]
    // 60 at once, half on each process: some pass, the rest are refused; never more than the budget.
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => post((i % 2 === 0 ? a : b).url, user.token)))
    const servedAtOnce = burst.filter((answer) => answer.status === 200).length
    expect(burst.every((answer) => answer.status === 200 || answer.status === 429)).toBe(true)
    expect(servedAtOnce * COST).toBeLessThanOrEqual(BUDGET)
    expect(servedAtOnce).toBeGreaterThan(0)

    // Then one at a time, alternating: the rest of the budget is served exactly, and each process's
    // RateLimit field counts what the other spent.
    let served = servedAtOnce
    const log: { on: 'a' | 'b'; status: number; remaining: number | undefined }[] = []
    for (let i = 0; i < 80 && log.filter((entry) => entry.status === 429).length < 4; i++) {
      const on = i % 2 === 0 ? 'a' : 'b'
      const answer = await post((on === 'a' ? a : b).url, user.token)
      log.push({ on, ...answer })
      if (answer.status === 200) {
        served++
        expect(answer.remaining).toBe(BUDGET - served * COST)
      }
    }
    expect(served).toBe(Math.floor(BUDGET / COST))
    const refusals = log.filter((entry) => entry.status === 429)
    expect(new Set(refusals.map((entry) => entry.on))).toEqual(new Set(['a', 'b']))
    expect(refusals.every((entry) => entry.remaining === BUDGET - served * COST)).toBe(true)
  }, 60_000)
})
