/**
 * The web client end to end: the real server (PGlite in memory, the demo user's
 * 2,000 contacts, the demo token) and the built app in Debian's Chromium.
 * Screenshots of the main states go to web/e2e/output/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiSuggestions, browserTestsEnabled, launchChromium, screenshotPath, startDemoServer, type DemoServer } from './harness.ts'

const enabled = browserTestsEnabled()

/** Collects what the page does that the assertions need: layout shifts, and whether a drop was shown. */
const PAGE_PROBES = `
  window.__layoutShift = 0
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__layoutShift += entry.value
  }).observe({ type: 'layout-shift', buffered: true })
  window.__sawDrop = false
  new MutationObserver(() => {
    if (document.body && document.body.textContent.includes('Connection lost')) window.__sawDrop = true
  }).observe(document, { subtree: true, childList: true, characterData: true })
`

const rowsSelector = 'ol.suggestions [data-testid=suggestion]'
const shownContactIds = (page: Page) => page.locator(rowsSelector).evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.contactId ?? ''))

describe.skipIf(!enabled)('web client in Chromium', () => {
  let demo: DemoServer
  let browser: Browser
  let context: BrowserContext

  beforeAll(async () => {
    ;[demo, browser] = await Promise.all([startDemoServer(), launchChromium()])
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
    await context.addInitScript(PAGE_PROBES)
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  describe('one session on the suggestions page', () => {
    let page: Page
    /** The contact ids of each SuggestionsUpdated the page received, in order. */
    const updates: string[][] = []
    beforeAll(async () => {
      page = await context.newPage()
      page.on('websocket', (socket) =>
        socket.on('framereceived', ({ payload }) => {
          const message = JSON.parse(String(payload)) as { type: string; payload?: { data?: { suggestions?: { __typename: string; suggestions?: { contact: { id: string } }[] } } } }
          const event = message.payload?.data?.suggestions
          if (message.type === 'next' && event?.__typename === 'SuggestionsUpdated') updates.push(event.suggestions!.map((suggestion) => suggestion.contact.id))
        }),
      )
    })
    afterAll(() => page?.close())

    it('opens signed in with the demo token, streams the first suggestions, in the order of the API', async () => {
      await page.goto(`${demo.origin}/`)
      await page.getByRole('button', { name: 'Sign out' }).waitFor()
      await page.locator(rowsSelector).first().waitFor()
      await page.screenshot({ path: screenshotPath('1-suggestions-first-batch') })
      await page.getByTestId('summary').waitFor()
      const shown = await shownContactIds(page)
      const api = await apiSuggestions(demo.server.url, demo.token, {})
      expect(shown).toHaveLength(50)
      expect(shown).toEqual(api.contactIds)
      expect(await page.getByRole('heading', { name: 'Sign in' }).count()).toBe(0)
      expect(await page.evaluate(() => (window as unknown as { __layoutShift: number }).__layoutShift)).toBeLessThan(0.05)
      await page.screenshot({ path: screenshotPath('2-suggestions-complete'), fullPage: false })
    })

    it('accept moves the item to Planned with the status the server returned, and it stays there', async () => {
      const first = page.locator(rowsSelector).first()
      const contactId = (await first.getAttribute('data-contact-id'))!
      const name = (await first.getByRole('link').textContent())!
      const updatesBefore = updates.length
      await first.getByRole('button', { name: `Accept ${name}` }).click()
      const planned = page.locator(`[data-testid=planned][data-contact-id="${contactId}"]`)
      await planned.getByTestId('status').filter({ hasText: /^Planned$/ }).waitFor({ timeout: 5000 })
      expect(await page.locator(`${rowsSelector}[data-contact-id="${contactId}"]`).count()).toBe(0)
      // The accept is a change: the server's next ranking (SuggestionsUpdated) comes, leaves the contact out, and
      // the page shows that ranking, with the planned entry where it was.
      await expect.poll(() => updates.length, { timeout: 15_000 }).toBeGreaterThan(updatesBefore)
      const next = updates[updatesBefore]!
      expect(next).not.toContain(contactId)
      await expect.poll(() => shownContactIds(page), { timeout: 5000 }).toEqual(next)
      expect(await page.locator(`${rowsSelector}[data-contact-id="${contactId}"]`).count()).toBe(0)
      expect(await planned.getByTestId('status').textContent()).toBe('Planned')
      await page.screenshot({ path: screenshotPath('3-accepted-planned') })
    })

    it('a logInteraction sent through the API removes that contact from the page within 2 s', async () => {
      const shown = await shownContactIds(page)
      const target = shown[2]!
      const started = Date.now()
      const result = await demo.server.query('mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id: target }, demo.token)
      expect(result.errors).toBeUndefined()
      await page.locator(`${rowsSelector}[data-contact-id="${target}"]`).waitFor({ state: 'detached', timeout: 2000 })
      expect(Date.now() - started).toBeLessThan(2000)
      const after = await shownContactIds(page)
      expect(after).not.toContain(target)
      expect(after.length).toBeGreaterThan(40)
      await page.screenshot({ path: screenshotPath('4-after-log-interaction') })
    })
  })

  it('killing the socket mid-walk resumes with resumeFrom, and again after complete walks anew: no duplicate, no gap', async () => {
    const page = await context.newPage()
    const subscribes: { resumeFrom?: string }[] = []
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type: string; payload?: { variables?: { input?: { resumeFrom?: string } } } }
        if (message.type === 'subscribe') subscribes.push(message.payload?.variables?.input ?? {})
      }),
    )
    let killed = 0
    await page.exposeFunction('__e2eKillSockets', () => void (killed += demo.killSockets()))
    // Cut the connection the moment the first row is on screen, while the walk goes on.
    await page.addInitScript(() => {
      const mark = performance.mark.bind(performance)
      performance.mark = (name: string, options?: PerformanceMarkOptions) => {
        const entry = mark(name, options)
        if (name === 'suggestions:first-on-screen') (window as unknown as { __e2eKillSockets: () => void }).__e2eKillSockets()
        return entry
      }
    })
    try {
      await page.goto(`${demo.origin}/?max=500&batch=20`)
      await page.getByTestId('summary').waitFor({ timeout: 30_000 })
      expect(killed).toBeGreaterThanOrEqual(1)
      expect(await page.evaluate(() => (window as unknown as { __sawDrop: boolean }).__sawDrop)).toBe(true)
      expect(subscribes).toHaveLength(2)
      expect(subscribes[0]!.resumeFrom).toBeUndefined()
      expect(subscribes[1]!.resumeFrom).toEqual(expect.any(String))
      const shown = await shownContactIds(page)
      const api = await apiSuggestions(demo.server.url, demo.token, { maxSuggestions: 500, batchSize: 20 })
      expect(new Set(shown).size).toBe(shown.length)
      expect(shown).toEqual(api.contactIds)
      await page.screenshot({ path: screenshotPath('5-resumed-500') })

      // After complete: a drop, then a fresh walk that replaces the list when it is whole.
      expect(demo.killSockets()).toBeGreaterThanOrEqual(1)
      await page.getByText(/Connection lost/).waitFor({ timeout: 5000 })
      await page.screenshot({ path: screenshotPath('6-connection-lost') })
      expect(await page.locator(rowsSelector).count()).toBe(500)
      await page.waitForFunction(() => document.querySelector('.badge')?.textContent === 'Live' && document.querySelector('[data-testid=summary]') !== null, undefined, { timeout: 30_000 })
      expect(subscribes).toHaveLength(3)
      expect(subscribes[2]!.resumeFrom).toBeUndefined()
      const refreshed = await shownContactIds(page)
      expect(new Set(refreshed).size).toBe(500)
      expect(refreshed).toEqual(api.contactIds)
    } finally {
      await page.close()
    }
  })

  it('a contact picked from the suggestions, with an interaction logged on its page, is no longer suggested on return', async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${demo.origin}/`)
      await page.getByTestId('summary').waitFor()
      const row = page.locator(rowsSelector).nth(1)
      const contactId = (await row.getAttribute('data-contact-id'))!
      await row.getByRole('link').click()
      await page.waitForURL(`${demo.origin}/contacts/${encodeURIComponent(contactId)}`)
      await page.locator('#contact-name').waitFor()
      await page.getByRole('button', { name: 'Log interaction' }).click()
      await page.getByText('Interaction logged.').waitFor()
      await page.screenshot({ path: screenshotPath('7-contact-logged') })
      await page.goBack()
      await page.getByTestId('summary').waitFor()
      expect(await shownContactIds(page)).not.toContain(contactId)
    } finally {
      await page.close()
    }
  })

  it('contacts scroll in pages and filter by search; ids with / + = survive the route', async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${demo.origin}/contacts`)
      const rows = page.getByTestId('contact-row')
      await rows.first().waitFor()
      expect(await rows.count()).toBe(50)
      await page.locator('.list-end').scrollIntoViewIfNeeded()
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact-row]').length >= 100)
      await page.screenshot({ path: screenshotPath('8-contacts') })
      const name = (await rows.nth(3).locator('a').textContent())!
      await page.getByLabel('Search').fill(name)
      await page.waitForFunction((wanted) => {
        const names = [...document.querySelectorAll('[data-testid=contact-row] a')].map((a) => a.textContent)
        return names.length > 0 && names.length < 10 && names.every((n) => n?.toLowerCase().includes(wanted.toLowerCase()))
      }, name)
      await rows.first().locator('a').click()
      expect(await page.locator('#contact-name').textContent()).toBe(name)
      expect(decodeURIComponent(new URL(page.url()).pathname)).toMatch(/^\/contacts\/[A-Za-z0-9+/=]+$/)
    } finally {
      await page.close()
    }
  })

  it('is readable at 360 px: nothing wider than the screen', async () => {
    const narrow = await browser.newContext({ viewport: { width: 360, height: 780 } })
    const page = await narrow.newPage()
    try {
      await page.goto(`${demo.origin}/`)
      await page.getByTestId('summary').waitFor()
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
      await page.screenshot({ path: screenshotPath('9-suggestions-360px') })
    } finally {
      await narrow.close()
    }
  })

  it('a rejected token goes to the sign-in screen at once (no retrying), and signing in with a good token works', async () => {
    const other = await browser.newContext()
    await other.addInitScript(() => window.localStorage.setItem('reachout.token', 'not-a-real-token'))
    // Sockets the page opens, counted in the page as it opens them (Playwright's own events arrive later).
    await other.addInitScript(() => {
      const counted = window as unknown as { __socketsOpened: number }
      counted.__socketsOpened = 0
      window.WebSocket = class extends window.WebSocket {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args)
          counted.__socketsOpened++
        }
      }
    })
    // The page's timers on a clock the test moves: it runs as usual until told otherwise.
    await other.clock.install()
    const page = await other.newPage()
    let sockets = 0
    page.on('websocket', () => void sockets++)
    try {
      const started = Date.now()
      await page.goto(`${demo.origin}/`)
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 5000 })
      expect(Date.now() - started).toBeLessThan(5000)
      await page.getByRole('alert').filter({ hasText: 'rejected' }).waitFor()
      await page.screenshot({ path: screenshotPath('10-sign-in-rejected') })
      // A minute on the page's clock fires every timer a retry would wait on (the stream's back-off is at most 15 s,
      // graphql-ws's own a few seconds): none opens a socket.
      await page.clock.runFor(60_000)
      expect(await page.evaluate(() => (window as unknown as { __socketsOpened: number }).__socketsOpened)).toBeLessThanOrEqual(1)
      expect(sockets).toBeLessThanOrEqual(1)
      await page.getByLabel('API token').fill(demo.token)
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.locator(rowsSelector).first().waitFor()
    } finally {
      await other.close()
    }
  })
})
