/**
 * Issue 13, item 1: a restart of the development server signs no one out. The server runs as
 * `npm start` runs it (src/main.ts in its own process, PGlite in a data directory); the test
 * stops it and starts it again on the same port and data, and the open page, a reload, and a
 * curl-style request with the token from the first start all keep working without signing in.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServerProcess, type ServerProcess } from '../../test/helpers/server-process.ts'
import { browserTestsEnabled, launchChromium } from './harness.ts'

const enabled = browserTestsEnabled()
const rows = 'ol.suggestions [data-testid=suggestion]'
/** A first start creates the embedded database: 10-50 s alone, several times that on two cores shared with the other suites. */
const START_TIMEOUT_MS = 240_000

/** A port free now, for both starts (the page's origin must stay the same). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM')
  await server.exited
}

const me = async (url: string, token: string) =>
  (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { email } }' }) })).json()

describe.skipIf(!enabled)('a development server restart in Chromium', () => {
  let dataDir: string
  let env: Record<string, string>
  let server: ServerProcess | undefined
  let browser: Browser

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'restart-e2e-'))
    env = { DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'info' }
    ;[server, browser] = await Promise.all([startServerProcess(env, { waitForToken: true, startTimeoutMs: START_TIMEOUT_MS }), launchChromium()])
  }, START_TIMEOUT_MS + 30_000)
  afterAll(async () => {
    await browser?.close()
    if (server) await stop(server)
    await rm(dataDir, { recursive: true, force: true })
  })

  it('the open page recovers without signing in, a reload opens signed in, and the first token still works', async () => {
    const first = server!
    const origin = new URL(first.url).origin
    const page: Page = await browser.newPage()
    await page.goto(`${origin}/`)
    await page.locator(rows).first().waitFor({ timeout: 30_000 })
    const firstToken = first.token!

    await stop(first)
    server = undefined
    // The page notices the drop (it keeps the list) ...
    await page.getByText(/Connection lost|Reconnecting|Offline/i).first().waitFor({ timeout: 15_000 })
    server = await startServerProcess(env, { waitForToken: true, startTimeoutMs: START_TIMEOUT_MS })
    expect(new URL(server.url).origin).toBe(origin)
    expect(server.token).toBe(firstToken)

    // ... and comes back on its own, streaming again, never showing the sign-in screen.
    await page.getByText(/Connection lost|Reconnecting|Offline/i).first().waitFor({ state: 'detached', timeout: 30_000 })
    await page.locator(rows).first().waitFor()
    expect(await page.getByRole('heading', { name: 'Sign in' }).count()).toBe(0)

    await page.reload()
    await page.locator(rows).first().waitFor({ timeout: 30_000 })
    expect(await page.getByRole('heading', { name: 'Sign in' }).count()).toBe(0)

    // GraphiQL opens with the same token, and the token copied from the first start's log still answers.
    await page.goto(`${origin}/graphql`, { waitUntil: 'domcontentloaded' })
    expect(await page.content()).toContain(firstToken)
    expect(await me(server.url, firstToken)).toEqual({ data: { me: { email: 'demo@example.com' } } })
    await page.close()
  }, 2 * START_TIMEOUT_MS)
})
