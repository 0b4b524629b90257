/**
 * A start that cannot go on says why in one line and exits 1, promptly: an unreachable Redis or
 * PostgreSQL (named by its URL), a busy port. Real processes, in production as deployments run them.
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { ROOT, startServerProcess, TEST_SECRET_KEY, type ServerProcess } from '../helpers/server-process.ts'

/** Runs `src/main.ts` until it exits on its own; its exit code, JSON log lines and stderr. */
function runUntilExit(env: Record<string, string>): Promise<{ code: number | null; logs: Record<string, unknown>[]; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', NODE_ENV: 'production', LOG_LEVEL: 'info', SECRET_KEY: TEST_SECRET_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const logs = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
      resolve({ code, logs, stderr })
    })
  })
}

describe('a start that cannot go on', () => {
  let db: TestDatabase
  let running: ServerProcess | undefined
  beforeAll(async () => {
    db = await openTestDatabase('postgres')
  }, 60_000)
  afterAll(async () => {
    running?.child.kill('SIGKILL')
    await db?.destroy()
  })

  it('an unreachable Redis: one fatal line naming REDIS_URL, exit 1, no connection retries', async () => {
    const result = await runUntilExit({ PORT: '0', DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`, REDIS_URL: 'redis://127.0.0.1:6999' })
    expect(result.code).toBe(1)
    expect(result.logs.filter((line) => Number(line.level) >= 50)).toEqual([expect.objectContaining({ level: 60, msg: 'cannot reach Redis at redis://127.0.0.1:6999: ECONNREFUSED' })])
    // Nothing else: no "[ioredis] Unhandled error event" lines, no BullMQ errors from ~15 s of retries before exiting.
    expect(result.stderr).toBe('')
  }, 30_000)

  it('an unreachable PostgreSQL: one fatal line naming DATABASE_URL, exit 1', async () => {
    const result = await runUntilExit({ PORT: '0', DATABASE_URL: 'postgresql://postgres:hunter2@127.0.0.1:5999/test?schema=nowhere' })
    expect(result.code).toBe(1)
    expect(result.logs.filter((line) => Number(line.level) >= 50)).toEqual([
      expect.objectContaining({ level: 60, msg: 'cannot reach PostgreSQL at postgresql://postgres:***@127.0.0.1:5999/test?schema=nowhere: ECONNREFUSED' }),
    ])
    expect(result.stderr).toBe('')
  }, 30_000)

  it('a busy port: one fatal line saying so, exit 1, nothing from the WebSocket server', async () => {
    const env = { DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`, SEED_DEMO_DATA: 'false', NODE_ENV: 'production' }
    running = await startServerProcess(env)
    const port = new URL(running.url).port
    const result = await runUntilExit({ ...env, PORT: port })
    expect(result.code).toBe(1)
    expect(result.logs.filter((line) => Number(line.level) >= 50)).toEqual([expect.objectContaining({ level: 60, msg: `port ${port} is in use: stop the other server or set PORT` })])
    expect(result.stderr).toBe('')
  }, 60_000)
})
