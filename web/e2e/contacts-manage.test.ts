/**
 * Managing contacts in Chromium against the real server (issue 13, items 2, 3, 5): add and edit
 * a contact and see its rank change live on the suggestions page, a group's default cadence as
 * the rule on a member, server validation next to its field, the interaction history, the list
 * sorted by next due with its total at once, the way back keeping search and scroll, axe on
 * every view and form, and 360 px without sideways scrolling.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations } from './axe.ts'
import { apiSuggestions, browserTestsEnabled, launchChromium, screenshotPath, startDemoServer, type DemoServer } from './harness.ts'

const enabled = browserTestsEnabled()

const suggestionRows = '[data-testid=suggestion]'
const shownContactIds = (page: Page) => page.locator(suggestionRows).evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.contactId ?? ''))
const contactIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).pathname.replace(/^\/contacts\//, ''))
const pad = (n: number) => String(n).padStart(2, '0')
/** `YYYY-MM-DD` of `days` ago in the browser's (and this process's) zone. */
function daysAgo(days: number): string {
  const date = new Date()
  date.setDate(date.getDate() - days)
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}
/** The page scrolls sideways when anything is wider than the viewport. */
const horizontalOverflow = (page: Page) =>
  page.evaluate(() => {
    const overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth
    if (overflow > 0) {
      const wide = [...document.querySelectorAll('body *')].filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      return `${overflow}px: ${wide
        .slice(0, 5)
        .map((element) => `${element.tagName.toLowerCase()}.${element.className} (${Math.round(element.getBoundingClientRect().right)})`)
        .join(', ')}`
    }
    return overflow
  })

describe.skipIf(!enabled)('managing contacts in Chromium', () => {
  let demo: DemoServer
  let browser: Browser
  let context: BrowserContext

  /** A GraphQL request with the demo token, as curl would make it. */
  async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(demo.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${demo.token}` }, body: JSON.stringify({ query, variables }) })
    const body = (await response.json()) as { data: T; errors?: unknown }
    if (body.errors) throw new Error(JSON.stringify(body.errors))
    return body.data
  }

  /** Adds a contact through the form on the contacts page; answers its id, the page on its contact page. */
  async function addContact(page: Page, fields: { name: string; circle?: string; often?: string; lastTalked?: string; groups?: string[]; tags?: string[] }): Promise<string> {
    await page.goto(`${demo.origin}/contacts`)
    await page.getByRole('button', { name: 'Add contact' }).click()
    const form = page.getByRole('form', { name: 'New contact' })
    await form.getByLabel('Name').fill(fields.name)
    if (fields.circle) await form.getByLabel('Circle').selectOption(fields.circle)
    if (fields.often) await form.getByLabel('How often').selectOption(fields.often)
    if (fields.lastTalked) await form.getByLabel('Last talked').fill(fields.lastTalked)
    for (const tag of fields.tags ?? []) {
      await form.getByLabel('Tags', { exact: true }).fill(tag)
      await form.getByLabel('Tags', { exact: true }).press('Enter')
    }
    for (const group of fields.groups ?? []) await form.getByLabel(group, { exact: true }).check()
    await form.getByRole('button', { name: 'Add contact' }).click()
    await page.getByRole('heading', { level: 1, name: fields.name }).waitFor()
    return contactIdOf(page)
  }

  beforeAll(async () => {
    ;[demo, browser] = await Promise.all([startDemoServer(), launchChromium()])
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  it('a contact added in the form shows on the suggestions page, and its rank changes live when its circle and cadence change', async () => {
    const suggestions = await context.newPage()
    const contacts = await context.newPage()
    try {
      await suggestions.goto(`${demo.origin}/`)
      await suggestions.getByTestId('summary').waitFor()
      // Inner circle, weekly, last talked a year ago: far overdue, at the top.
      const id = await addContact(contacts, { name: 'Zoë Newcomer', circle: 'INNER', often: 'WEEKLY', lastTalked: daysAgo(365) })
      const row = suggestions.locator(`${suggestionRows}[data-contact-id="${id}"]`)
      await row.waitFor({ timeout: 5000 })
      await expect.poll(async () => (await shownContactIds(suggestions)).indexOf(id), { timeout: 5000 }).toBe((await apiSuggestions(demo.server.url, demo.token)).contactIds.indexOf(id))
      const rankBefore = (await shownContactIds(suggestions)).indexOf(id)
      expect(rankBefore).toBeGreaterThanOrEqual(0)
      await suggestions.screenshot({ path: screenshotPath('contacts-1-added-suggested') })

      // An acquaintance to see yearly, last seen a year ago: barely due, far down or gone.
      await contacts.getByRole('button', { name: 'Edit Zoë Newcomer' }).click()
      const form = contacts.getByRole('form', { name: 'Edit Zoë Newcomer' })
      await form.getByLabel('Circle').selectOption('ACQUAINTANCE')
      await form.getByLabel('How often').selectOption('YEARLY')
      await form.getByRole('button', { name: 'Save changes' }).click()
      await contacts.getByText('Saved Zoë Newcomer.').waitFor()
      expect(await contacts.getByTestId('cadence-rule').textContent()).toMatch(/365 days|yearly/i)
      await expect.poll(async () => (await shownContactIds(suggestions)).indexOf(id), { timeout: 5000 }).not.toBe(rankBefore)
      const api = await apiSuggestions(demo.server.url, demo.token)
      await expect.poll(() => shownContactIds(suggestions), { timeout: 5000 }).toEqual(api.contactIds)
      expect(api.contactIds.indexOf(id) === -1 || api.contactIds.indexOf(id) > rankBefore).toBe(true)
    } finally {
      await suggestions.close()
      await contacts.close()
    }
  })

  it("a group's default cadence is the rule on a member without its own; the groups panel says it is for members without their own", async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${demo.origin}/contacts`)
      await page.getByRole('button', { name: 'Manage groups' }).click()
      const panel = page.getByRole('region', { name: 'Groups' })
      await panel.getByLabel('New group').fill('Walkers')
      await panel.getByLabel('Default cadence', { exact: true }).selectOption('WEEKLY')
      await panel.getByRole('button', { name: 'Create group' }).click()
      await panel.getByText('Created Walkers.').waitFor()
      expect(await axeViolations(page)).toEqual([])
      await page.screenshot({ path: screenshotPath('contacts-2-groups-panel') })

      await addContact(page, { name: 'Walter Walker', circle: 'CASUAL', groups: ['Walkers'] })
      await expect.poll(() => page.getByTestId('cadence-rule').textContent()).toMatch(/Walkers/)
      expect(await page.getByTestId('cadence-rule').textContent()).toMatch(/7 days|weekly/i)

      await page.goto(`${demo.origin}/contacts`)
      await page.getByRole('button', { name: 'Manage groups' }).click()
      const walkers = page.getByTestId('group-row').filter({ hasText: 'Walkers' })
      await expect.poll(() => walkers.getByTestId('group-cadence').textContent()).toBe('Weekly for members without a cadence of their own · 1 member')
      // Cleared: the member's cadence comes from its circle again.
      await walkers.getByLabel('Default cadence for Walkers').selectOption('')
      await page.getByText('Walkers: No default cadence.').waitFor()
      const { contacts } = await api<{ contacts: { edges: { node: { cadence: { source: string } } }[] } }>(
        'query($q: String) { contacts(first: 1, filter: { search: $q }) { edges { node { cadence { source } } } } }',
        { q: 'Walter Walker' },
      )
      expect(contacts.edges[0]?.node.cadence.source).toBe('CIRCLE')
    } finally {
      await page.close()
    }
  })

  it("the server's BAD_USER_INPUT shows next to its field; archive and unarchive are announced; the edit form and contact page pass axe", async () => {
    const page = await context.newPage()
    try {
      await addContact(page, { name: 'Bad Input Test' })
      expect(await axeViolations(page)).toEqual([])
      await page.getByRole('button', { name: 'Edit Bad Input Test' }).click()
      const form = page.getByRole('form', { name: 'Edit Bad Input Test' })
      expect(await axeViolations(page)).toEqual([])
      await form.getByLabel('Birthday').fill('12 March')
      await form.getByRole('button', { name: 'Save changes' }).click()
      const birthday = form.getByLabel('Birthday')
      await expect.poll(() => birthday.getAttribute('aria-invalid')).toBe('true')
      const describedBy = (await birthday.getAttribute('aria-describedby'))!
      const message = await page.locator(`[id="${describedBy.split(' ').at(-1)}"]`).textContent()
      expect(message).toMatch(/\S/)
      expect(await birthday.evaluate((element) => element === document.activeElement)).toBe(true)
      expect(await axeViolations(page)).toEqual([])
      await page.screenshot({ path: screenshotPath('contacts-3-bad-input') })
      // Fixed, it saves and reads as a date.
      await birthday.fill('--03-12')
      await form.getByRole('button', { name: 'Save changes' }).click()
      await page.screenshot({ path: screenshotPath('contacts-3-bad-input-fixed') })
      await page.getByText('Saved Bad Input Test.').waitFor()
      await page.getByText(/^12 Mar \((today|tomorrow|in \d+ (days|weeks|months))\)$/).waitFor()
      // Archive: announced, focus stays on the button (now Unarchive), and it leaves the list of active contacts.
      await page.getByRole('button', { name: 'Archive Bad Input Test' }).click()
      await page.getByRole('status').filter({ hasText: 'Bad Input Test is archived: no longer suggested.' }).waitFor()
      const unarchive = page.getByRole('button', { name: 'Unarchive Bad Input Test' })
      expect(await unarchive.evaluate((element) => element === document.activeElement)).toBe(true)
      const { contacts } = await api<{ contacts: { totalCount: number } }>('{ contacts(first: 1, filter: { search: "Bad Input Test" }) { totalCount } }')
      expect(contacts.totalCount).toBe(0)
      expect(await axeViolations(page)).toEqual([])
      await unarchive.click()
      await page.getByRole('status').filter({ hasText: 'Bad Input Test is active again.' }).waitFor()
    } finally {
      await page.close()
    }
  })

  it('an interaction logged with a note and a date is in the history, newest first', async () => {
    const page = await context.newPage()
    try {
      await addContact(page, { name: 'History Test' })
      const log = page.getByRole('form', { name: 'Log interaction' })
      await log.getByLabel('Date').fill(daysAgo(5))
      await log.getByLabel('Note').fill('Lunch five days ago')
      await log.getByLabel('Kind').selectOption('MEETING')
      await log.getByRole('button', { name: 'Log interaction' }).click()
      await log.getByText('Interaction logged.').waitFor()
      await page.getByTestId('interaction').first().getByText('Lunch five days ago').waitFor()
      await log.getByLabel('Kind').selectOption('CALL')
      await log.getByRole('button', { name: 'Yesterday' }).click()
      await log.getByLabel('Note').fill('I called yesterday')
      await log.getByRole('button', { name: 'Log interaction' }).click()
      await page.getByRole('heading', { name: 'History (2)' }).waitFor()
      // Focus stays on the button (a button disabled while saving would have dropped it to <body>).
      expect(await log.getByRole('button', { name: 'Log interaction' }).evaluate((element) => element === document.activeElement)).toBe(true)
      const items = page.getByTestId('interaction')
      expect(await items.nth(0).textContent()).toContain('I called yesterday')
      expect(await items.nth(0).textContent()).toMatch(/^Call /)
      expect(await items.nth(1).textContent()).toContain('Lunch five days ago')
      expect(await items.nth(1).textContent()).toMatch(/^Meeting /)
      expect(await axeViolations(page)).toEqual([])
      await page.screenshot({ path: screenshotPath('contacts-4-history') })
    } finally {
      await page.close()
    }
  })

  it('contacts sorted by next due show the total at once and each row its due date; the list and the new contact form pass axe', async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${demo.origin}/contacts`)
      await page.getByLabel('Sort by').selectOption('due')
      await page.waitForURL(/\?sort=due$/)
      const { contacts } = await api<{ contacts: { totalCount: number } }>('{ contacts(first: 1) { totalCount } }')
      await page.getByTestId('total').filter({ hasText: `${contacts.totalCount.toLocaleString('en-GB')} contacts` }).waitFor()
      expect(contacts.totalCount).toBeGreaterThan(1000)
      // At once: one page of rows is all there is yet.
      expect(await page.getByTestId('contact-row').count()).toBe(50)
      const dues = await page.getByTestId('next-due').allTextContents()
      expect(dues).toHaveLength(50)
      const times = dues.map((text) => Date.parse(text.replace(/^Due /, '').replace(/ · overdue$/, '')))
      expect(times.every((time, i) => i === 0 || time >= times[i - 1]!)).toBe(true)
      expect(dues[0]).toMatch(/overdue$/)
      expect(await axeViolations(page)).toEqual([])

      // The page's "now" (to the minute, so that the list is cached for a minute), as it asked the server.
      const asked = page.waitForRequest((request) => request.postData()?.includes('"dueBefore"') ?? false)
      await page.getByLabel('Show').selectOption('overdue')
      await page.waitForURL(/show=overdue/)
      const { dueBefore } = (JSON.parse((await asked).postData()!) as { variables: { filter: { dueBefore: string } } }).variables.filter
      expect(Math.abs(Date.parse(dueBefore) - Date.now())).toBeLessThan(61_000)
      const overdue = await api<{ contacts: { totalCount: number } }>('query($now: DateTime) { contacts(first: 1, filter: { dueBefore: $now }) { totalCount } }', { now: dueBefore })
      await page.getByTestId('total').filter({ hasText: `${overdue.contacts.totalCount.toLocaleString('en-GB')} contact` }).waitFor()
      const overdueRows = await page.getByTestId('next-due').allTextContents()
      expect(overdueRows.length).toBeGreaterThan(0)
      expect(overdueRows.filter((text) => !text.endsWith('overdue'))).toEqual([])

      await page.getByRole('button', { name: 'Add contact' }).click()
      await page.getByRole('form', { name: 'New contact' }).waitFor()
      expect(await axeViolations(page)).toEqual([])
      await page.keyboard.press('Escape')
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Add contact')
      await page.getByRole('button', { name: 'Manage tags' }).click()
      await page.getByTestId('tag-row').first().waitFor()
      expect(await axeViolations(page)).toEqual([])
      await page.screenshot({ path: screenshotPath('contacts-5-sorted-tags') })
    } finally {
      await page.close()
    }
  })

  it('a tag renamed in the tags panel is renamed on its contacts', async () => {
    const page = await context.newPage()
    try {
      await addContact(page, { name: 'Tagged Once', tags: ['e2e-old'] })
      await page.goto(`${demo.origin}/contacts`)
      await page.getByRole('button', { name: 'Manage tags' }).click()
      await page.getByRole('button', { name: 'Rename e2e-old' }).click()
      await page.getByLabel('New name for e2e-old').fill('e2e-new')
      await page.getByRole('button', { name: 'Save name' }).click()
      await page.getByText('Renamed e2e-old to e2e-new on 1 contact.').waitFor()
      await page.getByRole('button', { name: 'Rename e2e-new' }).waitFor()
      // Focus goes to the renamed tag's row, not to the tag now at its old place.
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? null)).toBe('Rename e2e-new')
      await page.getByLabel('Tag', { exact: true }).fill('e2e-new')
      await page.getByTestId('contact-row').filter({ hasText: 'Tagged Once' }).waitFor()
    } finally {
      await page.close()
    }
  })

  it('back from a contact keeps the search, the sort, the pages and the scroll position', async () => {
    const page = await context.newPage()
    try {
      await page.goto(`${demo.origin}/contacts`)
      await page.getByLabel('Sort by').selectOption('last')
      await page.getByLabel('Search').fill('a')
      await page.waitForURL(/\?q=a&sort=last$/)
      await page.getByTestId('contact-row').nth(49).waitFor()
      await page.locator('.list-end').scrollIntoViewIfNeeded()
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact-row]').length >= 100)
      const row = page.getByTestId('contact-row').nth(80)
      await row.scrollIntoViewIfNeeded()
      await page.evaluate(() => window.scrollBy(0, -200))
      const scrolled = await page.evaluate(() => window.scrollY)
      expect(scrolled).toBeGreaterThan(1000)
      const name = (await row.locator('a').textContent())!
      await row.locator('a').click()
      await page.getByRole('heading', { level: 1, name }).waitFor()
      await page.goBack()
      await page.waitForURL(/\/contacts\?q=a&sort=last$/)
      expect(await page.getByLabel('Search').inputValue()).toBe('a')
      expect(await page.getByLabel('Sort by').inputValue()).toBe('last')
      await expect.poll(() => page.evaluate(() => window.scrollY), { timeout: 5000 }).toBeGreaterThan(scrolled - 5)
      expect(Math.abs((await page.evaluate(() => window.scrollY)) - scrolled)).toBeLessThanOrEqual(5)
      expect(await page.getByTestId('contact-row').nth(80).locator('a').textContent()).toBe(name)
      // Forward and back again: the same.
      await page.goForward()
      await page.getByRole('heading', { level: 1, name }).waitFor()
      await page.goBack()
      await expect.poll(() => page.evaluate(() => window.scrollY), { timeout: 5000 }).toBeGreaterThan(scrolled - 5)
      // The contact page's own "← Contacts" does as Back does.
      await page.getByTestId('contact-row').nth(80).locator('a').click()
      await page.getByRole('heading', { level: 1, name }).waitFor()
      await page.getByRole('link', { name: '← Contacts' }).click()
      await page.waitForURL(/\/contacts\?q=a&sort=last$/)
      expect(await page.getByLabel('Search').inputValue()).toBe('a')
      expect(await page.getByLabel('Sort by').inputValue()).toBe('last')
      await expect.poll(() => page.evaluate(() => window.scrollY), { timeout: 5000 }).toBeGreaterThan(scrolled - 5)
      expect(await page.getByTestId('contact-row').nth(80).locator('a').textContent()).toBe(name)
    } finally {
      await page.close()
    }
  })

  it('every form and panel that opens in place closes on Escape and gives focus back to the button that opened it', async () => {
    await api('mutation { createGroup(name: "Escapers") { id } }')
    const page = await context.newPage()
    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? null)
    try {
      await page.goto(`${demo.origin}/contacts`)
      await page.getByTestId('contact-row').first().waitFor()

      await page.getByRole('button', { name: 'Add contact' }).click()
      const form = page.getByRole('form', { name: 'New contact' })
      await form.getByLabel('Name').fill('Not kept')
      await page.keyboard.press('Escape')
      await form.waitFor({ state: 'detached' })
      await expect.poll(focused).toBe('Add contact')

      for (const [opener, panelName, rowId, name] of [
        ['Manage groups', 'Groups', 'group-row', 'Escapers'],
        ['Manage tags', 'Tags', 'tag-row', null],
      ] as const) {
        await page.getByRole('button', { name: opener }).click()
        const panel = page.getByRole('region', { name: panelName })
        const row = panel.getByTestId(rowId).filter(name ? { hasText: name } : {}).first()
        await row.waitFor()
        const label = name ?? (await row.locator('.chip').textContent())!
        // A form in a row closes alone: the panel stays.
        await row.getByRole('button', { name: `Rename ${label}` }).click()
        await expect.poll(() => page.evaluate(() => document.activeElement?.nodeName)).toBe('INPUT')
        await page.keyboard.press('Escape')
        await row.getByRole('form').waitFor({ state: 'detached' })
        await expect.poll(focused).toBe(`Rename ${label}`)
        await row.getByRole('button', { name: `Delete ${label}…` }).click()
        await expect.poll(focused).toMatch(/^Delete /)
        await page.keyboard.press('Escape')
        await expect.poll(focused).toBe(`Delete ${label}…`)
        expect(await panel.isVisible()).toBe(true)
        await page.keyboard.press('Escape')
        await panel.waitFor({ state: 'detached' })
        await expect.poll(focused).toBe(opener)
      }

      const link = page.getByTestId('contact-row').first().locator('a')
      const contactName = (await link.textContent())!
      await link.click()
      await page.getByRole('heading', { level: 1, name: contactName }).waitFor()
      await page.getByRole('button', { name: `Edit ${contactName}` }).click()
      const edit = page.getByRole('form', { name: `Edit ${contactName}` })
      await edit.waitFor()
      await page.keyboard.press('Escape')
      await edit.waitFor({ state: 'detached' })
      await expect.poll(focused).toBe(`Edit ${contactName}`)
    } finally {
      await page.close()
    }
  })

  it('group checkboxes with two-word names are small checkboxes at 1280 and 360 px, light and dark', async () => {
    // The demo user's groups include both.
    for (const width of [1280, 360]) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const sized = await browser.newContext({ viewport: { width, height: 800 }, colorScheme })
        const page = await sized.newPage()
        try {
          await page.goto(`${demo.origin}/contacts`)
          await page.getByRole('button', { name: 'Add contact' }).click()
          const form = page.getByRole('form', { name: 'New contact' })
          for (const name of ['Book club', 'Running club']) {
            const box = (await form.getByLabel(name, { exact: true }).boundingBox())!
            expect({ name, width, colorScheme, small: box.width <= 24 && box.height <= 24 }).toEqual({ name, width, colorScheme, small: true })
          }
          expect(await horizontalOverflow(page)).toBe(0)
        } finally {
          await sized.close()
        }
      }
    }
  })

  it('at 360 px nothing scrolls sideways: the list, the contact page, the forms with long tags, the panels', async () => {
    const narrow = await browser.newContext({ viewport: { width: 360, height: 780 } })
    const page = await narrow.newPage()
    try {
      await page.goto(`${demo.origin}/contacts`)
      await page.getByTestId('contact-row').first().waitFor()
      expect(await horizontalOverflow(page)).toBe(0)
      await page.getByRole('button', { name: 'Add contact' }).click()
      const form = page.getByRole('form', { name: 'New contact' })
      for (const tag of ['a-very-long-tag-that-would-not-fit-on-a-phone-screen-at-all', 'family', 'climbing', 'old friends from school', 'work']) {
        await form.getByLabel('Tags', { exact: true }).fill(tag)
        await form.getByLabel('Tags', { exact: true }).press('Enter')
      }
      expect(await horizontalOverflow(page)).toBe(0)
      await page.screenshot({ path: screenshotPath('contacts-6-form-360px'), fullPage: true })
      await page.keyboard.press('Escape')
      await page.getByRole('button', { name: 'Manage groups' }).click()
      await page.getByRole('region', { name: 'Groups' }).waitFor()
      expect(await horizontalOverflow(page)).toBe(0)
      await page.getByRole('button', { name: 'Manage tags' }).click()
      await page.getByRole('region', { name: 'Tags' }).waitFor()
      expect(await horizontalOverflow(page)).toBe(0)
      await page.getByTestId('contact-row').first().locator('a').click()
      await page.locator('#contact-name').waitFor()
      await page.getByRole('heading', { name: /^History/ }).waitFor()
      expect(await horizontalOverflow(page)).toBe(0)
      await page.getByRole('button', { name: /^Edit / }).click()
      expect(await horizontalOverflow(page)).toBe(0)
      await page.screenshot({ path: screenshotPath('contacts-7-contact-360px'), fullPage: true })
    } finally {
      await narrow.close()
    }
  })
})
