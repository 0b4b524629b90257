/**
 * Many tabs, one stream (issue 13, item 6), and a first load that says what is happening
 * (item 8): the real server and the built app in Chromium. Seven tabs of one browser
 * context cost the server one suggestions subscription; when the leading tab closes,
 * another takes over and live updates keep arriving in every tab left.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations } from './axe.ts'
import { browserTestsEnabled, launchChromium, screenshotPath, startDemoServer, type DemoServer } from './harness.ts'

const enabled = browserTestsEnabled()
const rowsSelector = 'ol.suggestions [data-testid=suggestion]'
const shownContactIds = (page: Page) => page.locator(rowsSelector).evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.contactId ?? ''))
const roleOf = (page: Page) => page.locator('[data-stream-role]').getAttribute('data-stream-role')

/** Records every text the status line shows, and whether skeleton rows were on screen before the first real row. */
const STATUS_PROBE = `
  window.__statusTexts = []
  window.__skeletonBeforeRows = false
  new MutationObserver(() => {
    const bar = document.querySelector('.status-bar')
    if (!bar) return
    const text = bar.textContent.trim()
    if (window.__statusTexts.at(-1) !== text) window.__statusTexts.push(text)
    if (document.querySelector('[data-testid=skeleton]') && !document.querySelector('[data-testid=suggestion]')) window.__skeletonBeforeRows = true
  }).observe(document, { subtree: true, childList: true, characterData: true })
`

describe.skipIf(!enabled)('tabs share one suggestions stream (Chromium)', () => {
  let demo: DemoServer
  let browser: Browser
  let context: BrowserContext
  /** Suggestion streams the server has open (all for the demo user). */
  const openStreams = () => demo.server.app.subscriptionLimiter.total()

  beforeAll(async () => {
    ;[demo, browser] = await Promise.all([startDemoServer(), launchChromium()])
    context = await browser.newContext({ viewport: { width: 1000, height: 800 } })
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  it('seven tabs opened at once all show the list; the server sees one subscription; closing the leader, another takes over and updates still arrive', async () => {
    const pages = await Promise.all(Array.from({ length: 7 }, () => context.newPage()))
    await Promise.all(pages.map((page) => page.goto(`${demo.origin}/`)))
    await Promise.all(pages.map((page) => page.getByTestId('summary').waitFor({ timeout: 60_000 })))
    const lists = await Promise.all(pages.map(shownContactIds))
    expect(lists[0]).toHaveLength(50)
    for (const list of lists) expect(list).toEqual(lists[0])
    expect(openStreams()).toBe(1)
    const roles = await Promise.all(pages.map(roleOf))
    expect(roles.filter((role) => role === 'leader')).toHaveLength(1)
    expect(roles.filter((role) => role === 'follower')).toHaveLength(6)
    await pages[6]!.screenshot({ path: screenshotPath('tabs-1-seventh-tab') })

    // The leader goes: one of the six left takes the lock and subscribes again.
    const leader = pages[roles.indexOf('leader')]!
    const rest = pages.filter((page) => page !== leader)
    await leader.close()
    await expect.poll(async () => (await Promise.all(rest.map(roleOf))).filter((role) => role === 'leader').length, { timeout: 15_000 }).toBe(1)
    await expect.poll(openStreams, { timeout: 15_000 }).toBe(1)

    // A change made through the API reaches every tab left, through the new leader.
    const target = lists[0]![1]!
    const result = await demo.server.query('mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id: target }, demo.token)
    expect(result.errors).toBeUndefined()
    await Promise.all(rest.map((page) => page.locator(`${rowsSelector}[data-contact-id="${target}"]`).waitFor({ state: 'detached', timeout: 15_000 })))
    const after = await Promise.all(rest.map(shownContactIds))
    for (const list of after) {
      expect(list).not.toContain(target)
      expect(list).toEqual(after[0])
    }
    expect(openStreams()).toBe(1)
    // A tab opened now gets the list at once from the leader, without a stream of its own.
    const late = await context.newPage()
    await late.goto(`${demo.origin}/`)
    await late.getByTestId('summary').waitFor({ timeout: 15_000 })
    expect(await shownContactIds(late)).toEqual(after[0])
    expect(await roleOf(late)).toBe('follower')
    expect(openStreams()).toBe(1)
    await Promise.all([...rest, late].map((page) => page.close()))
    await expect.poll(openStreams, { timeout: 15_000 }).toBe(0)
    // Eight pages of the app and two walks on a CI machine shared by two cores: every step above waits on an event.
  }, 240_000)

  it('the status line says what is happening during a walk; a skeleton holds the rows\' place; axe finds nothing', async () => {
    const own = await browser.newContext({ viewport: { width: 1000, height: 800 } })
    try {
      await own.addInitScript(STATUS_PROBE)
      const page = await own.newPage()
      await page.goto(`${demo.origin}/?max=200&batch=20`)
      await page.getByTestId('summary').waitFor({ timeout: 60_000 })
      const texts = await page.evaluate(() => (window as unknown as { __statusTexts: string[] }).__statusTexts)
      expect(texts[0]).toMatch(/^Connecting…/)
      const reading = texts.filter((text) => /Connected — reading your contacts \(\d+ read, \d+ found\)/.test(text))
      expect(reading.length).toBeGreaterThan(1)
      expect(reading.some((text) => /\((?!0 read)\d+ read/.test(text))).toBe(true)
      expect(texts.at(-1)).toMatch(/Updated just now/)
      expect(await page.evaluate(() => (window as unknown as { __skeletonBeforeRows: boolean }).__skeletonBeforeRows)).toBe(true)
      expect(await page.getByTestId('skeleton').count()).toBe(0)
      expect(await axeViolations(page)).toEqual([])
    } finally {
      await own.close()
    }
  }, 120_000)
})
