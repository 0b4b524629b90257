/**
 * The README's front door: `npm start` on an empty data directory migrates,
 * seeds the demo user, serves GraphQL and GraphiQL and prints a working demo
 * token; `npm run token` prints a token alone on stdout. Real processes.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ROOT, startServerProcess, TEST_SECRET_KEY } from '../helpers/server-process.ts'

const root = ROOT
const startServer = async (env: Record<string, string>) => {
  const started = await startServerProcess(env, { waitForToken: true })
  return { ...started, token: started.token! }
}

async function graphql(url: string, token: string, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  })
  return (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] }
}

describe('npm start and npm run token on a fresh data directory', () => {
  let dataDir: string
  let cliToken: string
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'suggestions-data-'))
  })
  afterAll(() => rm(dataDir, { recursive: true, force: true }))

  it('npm run token creates the user and prints only the token', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', 'Partner@Example.com'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 90_000,
    })
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^prm_[\w-]{40,}\n$/)
    cliToken = result.stdout.trim()
  })

  it('npm run token checks its arguments before the database: --help, and a bad e-mail said as such', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' })
    const help = run('--help')
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('usage: npm run token -- --user <email>')
    const bad = run('--user', 'notanemail')
    expect(bad.status).toBe(1)
    expect(bad.stderr.split('\n')[0]).toBe('not an email address: notanemail')
    expect(bad.stderr).not.toMatch(/in use|PGlite|database/)
  })

  it('npm run token without --user explains its usage and exits 1', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/token.ts'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('usage: npm run token -- --user <email>')
    expect(result.stdout).toBe('')
  })

  it('starts, seeds the demo user, serves GraphiQL, and stops cleanly on SIGTERM; a restart does not seed again', async () => {
    const first = await startServer({ DATA_DIR: dataDir })
    try {
      expect(first.logs.some((entry) => entry.msg === 'demo data seeded')).toBe(true)
      // For a person, on stderr: each step with its time, then where to go and how to sign in (issue 13, item 8).
      // stderr is its own pipe: wait for the end of the start's lines, which come after the JSON log's.
      await vi.waitFor(() => expect(first.stderr()).toContain('Sign in'), { timeout: 10_000 })
      const told = first.stderr()
      // The database step: created on the first start (the token CLI above may have done it), with its seconds while it runs.
      expect(told).toMatch(/- (creating|opening) the embedded database in .+?\.\.\.( \d+ s\.\.\.)* done \(\d+\.\d s\)\n/)
      expect(told).toMatch(/- applying migrations\.\.\. done, \d+ applied \(\d+\.\d s\)\n/)
      expect(told).toMatch(/- demo data \(the first start seeds 2,000 contacts\)\.\.\. done, seeded/)
      expect(told).toContain(`GraphiQL  ${first.url}`)
      expect(told).toContain(`authorization: Bearer ${first.token}`)
      const me = await graphql(first.url, first.token, '{ me { email } contacts(first: 1000) { edges { cursor } pageInfo { hasNextPage } } }')
      expect(me.data.me.email).toBe('demo@example.com')
      expect(me.data.contacts.edges).toHaveLength(1000)
      expect(me.data.contacts.pageInfo.hasNextPage).toBe(true)
      const partner = await graphql(first.url, cliToken, '{ me { email } }')
      expect(partner.data.me.email).toBe('partner@example.com')

      // A second process must not open the same PGlite files: npm run token asks the running server instead (issue 13).
      const cli = (secretKey: string) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', 'x@example.com'], {
          cwd: root,
          env: { ...process.env, DATA_DIR: dataDir, SECRET_KEY: secretKey },
          encoding: 'utf8',
        })
      const minted = cli(TEST_SECRET_KEY)
      expect(minted.stderr).toBe('')
      expect(minted.status).toBe(0)
      expect(minted.stdout).toMatch(/^prm_[\w-]{40,}\n$/)
      expect((await graphql(first.url, minted.stdout.trim(), '{ me { email } }')).data.me.email).toBe('x@example.com')
      // Without the server's secret key it is refused, and says why.
      const refused = cli('x'.repeat(64))
      expect(refused.status).toBe(1)
      expect(refused.stderr).toMatch(/in use by process \d+/)
      expect(refused.stderr).toContain('refused')
      expect(refused.stderr).not.toContain('usage:') // the arguments were right: no usage line to mislead
      // db:migrate and db:seed cannot ask the server: they say why in one line, without a stack.
      for (const script of ['src/cli/migrate.ts', 'src/cli/seed.ts']) {
        const held = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' })
        expect(held.status).toBe(1)
        expect(held.stderr).toMatch(/^cannot open the database: the PGlite database in .* is in use by process \d+; stop it first .*\n$/)
        expect(held.stdout).toBe('')
      }

      const page = await fetch(first.url, { headers: { accept: 'text/html' } })
      expect(await page.text()).toContain(first.token) // GraphiQL with the demo token in its headers
    } finally {
      first.child.kill('SIGTERM')
    }
    expect(await first.exited).toBe(0)

    const second = await startServer({ DATA_DIR: dataDir })
    try {
      expect(second.logs.some((entry) => entry.msg === 'demo data seeded')).toBe(false)
      expect((await graphql(second.url, second.token, '{ me { email } }')).data.me.email).toBe('demo@example.com')
      // The demo session survives the restart: the same token, kept in the data directory (issue 13).
      expect(second.token).toBe(first.token)
      const kept = await stat(path.join(dataDir, 'demo-token'))
      expect(kept.mode & 0o777).toBe(0o600)
    } finally {
      second.child.kill('SIGTERM')
    }
    expect(await second.exited).toBe(0)
  }, 180_000)
})
