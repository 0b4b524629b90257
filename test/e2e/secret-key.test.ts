/**
 * SECRET_KEY as operators meet it (real processes of `src/main.ts`):
 * production refuses to start without it; development without it keeps a
 * random key in DATA_DIR, so a cursor handed out before a restart is still
 * good after it, and a server with another key refuses it.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.ts'

const kinds = await availableDatabaseKinds()

it('production without SECRET_KEY exits with code 1 and a message naming it', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', SECRET_KEY: '', LOG_LEVEL: 'info' },
    encoding: 'utf8',
    timeout: 30_000,
  })
  expect(result.status).toBe(1)
  expect(result.stderr).toContain('SECRET_KEY="": required in production')
  expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/)
})

// PostgreSQL keeps the data; DATA_DIR only holds the key (PGlite's initdb would double the time).
describe.runIf(kinds.includes('postgres'))('development without SECRET_KEY', () => {
  let db: TestDatabase
  let alice: FixtureUser
  let dataDir: string
  const running: ServerProcess[] = []

  const start = (dir: string) =>
    startServerProcess({ DATABASE_URL: `${TEST_DATABASE_URL}?schema=${db.schema}`, DATA_DIR: dir, SECRET_KEY: '', SEED_DEMO_DATA: 'false' }).then((server) => {
      running.push(server)
      return server
    })
  const stop = async (server: ServerProcess) => {
    server.child.kill('SIGTERM')
    await server.exited
  }
  const contacts = async (server: ServerProcess, after: string | null) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'query($after: String) { contacts(first: 2, after: $after) { pageInfo { endCursor } } }', variables: { after } }),
    })
    return (await response.json()) as { data?: { contacts: { pageInfo: { endCursor: string } } }; errors?: { extensions?: Record<string, unknown> }[] }
  }

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 10)
    dataDir = await mkdtemp(path.join(tmpdir(), 'suggestions-key-'))
  })
  afterAll(async () => {
    for (const server of running) server.child.kill('SIGKILL')
    await db?.destroy()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps a key in DATA_DIR/secret-key: cursors survive a restart, and another key refuses them', async () => {
    const first = await start(dataDir)
    const cursor = (await contacts(first, null)).data!.contacts.pageInfo.endCursor
    await stop(first)
    expect((await readFile(path.join(dataDir, 'secret-key'), 'utf8')).trim().length).toBeGreaterThanOrEqual(32)

    const again = await start(dataDir)
    expect((await contacts(again, cursor)).errors).toBeUndefined()
    await stop(again)

    const elsewhere = await start(path.join(dataDir, 'other'))
    expect((await contacts(elsewhere, cursor)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    await stop(elsewhere)
  })
})
