/**
 * GraphiQL in a real browser (Debian's Chromium): opened in development it has
 * the demo token in its headers and the `suggestions` subscription as its
 * document, and one click streams the demo user's suggestions.
 */
import { mkdirSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { seedDemoData } from '../../src/seed/seed.ts'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.ts'
import { sseResults } from '../helpers/clients.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const OUTPUT = 'test/output'

describe.skipIf(!chromiumAvailable())('GraphiQL in Chromium', () => {
  let db: TestDatabase
  let server: TestServer
  let browser: Browser
  let token: string

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    const { userId } = await seedDemoData(db, { now: new Date() })
    token = await issueToken(db.prisma, userId, 'graphiql test')
    server = await startTestServer(db, { demoToken: token })
    browser = await launchChromium()
    mkdirSync(OUTPUT, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await db?.destroy()
  })

  it('opens with the demo token and the subscription, and streams suggestions with one click', async () => {
    const page = await browser.newPage()
    // The editors render tokens in spans with non-breaking spaces: compare text with plain spaces.
    const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ')
    await page.goto(server.url)
    await expect.poll(() => text('.graphiql-query-editor'), { timeout: 20_000 }).toContain('subscription Suggestions')
    await page.getByText('Headers', { exact: true }).click()
    await expect.poll(() => text('.graphiql-editor-tool'), { timeout: 20_000 }).toContain(`Bearer ${token}`) // the default gives up after 1 s

    await page.locator('.graphiql-execute-button').click()
    await expect.poll(() => text('.graphiql-response'), { timeout: 20_000 }).toMatch(/"__typename": "SuggestionsComplete", "total": 20/)
    await page.screenshot({ path: `${OUTPUT}/graphiql-complete.png` })
    // GraphiQL keeps the latest event: SuggestionsComplete lists what streamed, led by the API's first for the demo user.
    const query = 'subscription { suggestions(input: { maxSuggestions: 1, live: false }) { ... on SuggestionBatch { suggestions { contact { name } } } } }'
    const api = await sseResults<{ suggestions: { suggestions?: { contact: { name: string } }[] } }>(server.url, { query }, token)
    const first = api.flatMap((result) => result.data?.suggestions.suggestions ?? [])[0]?.contact.name
    expect(first).toBeTruthy()
    expect(/"name": "([^"]+)"/.exec(await text('.graphiql-response'))?.[1]).toBe(first)
    await page.close()
  })
})
