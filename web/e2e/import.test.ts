/**
 * The Import and export page end to end: the real server (PGlite in memory, the demo user)
 * and the built app in Debian's Chromium. A vCard file with a bad card is imported, then
 * again (nothing changes), its rejected rows downloaded, the contacts exported, and the
 * calendar feed made, copied, read without a token and turned off.
 * Screenshots go to web/e2e/output/.
 */
import { readFile } from 'node:fs/promises'
import type { Browser, BrowserContext, Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserTestsEnabled, launchChromium, screenshotPath, startDemoServer, type DemoServer } from './harness.ts'

const enabled = browserTestsEnabled()

// Three good cards (folded line, grouped property) and one without any name, e-mail or phone.
const VCARDS = [
  'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:e2e-0001\r\nFN:Zephyrine Import-Test\r\nEMAIL:zephyrine.e2e@example.test\r\nEND:VCARD\r\n',
  'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:e2e-0002\r\nFN:Quillon\r\n  Import-Test\r\nitem1.EMAIL;TYPE=INTERNET:quillon.e2e@example.test\r\nitem1.X-ABLabel:work\r\nEND:VCARD\r\n',
  'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:e2e-0003\r\nFN:Marisol Import-Test\r\nTEL;VALUE=uri:tel:+1-202-555-0143\r\nEND:VCARD\r\n',
  'BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:a card with nothing to know the person by\r\nEND:VCARD\r\n',
].join('')

const NAMES = ['Zephyrine Import-Test', 'Quillon Import-Test', 'Marisol Import-Test']

const count = async (page: Page, label: string) => Number((await page.getByTestId('import-counts').locator('div', { has: page.getByText(label, { exact: true }) }).locator('dd').textContent())?.replace(/\D/g, ''))

/** Every control has a name a screen reader says, and no id is used twice (what axe checks first). */
async function controlsNamed(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = []
    for (const element of document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], progress')) {
      const labelled = element.getAttribute('aria-label') || element.getAttribute('aria-labelledby') || (element as HTMLInputElement).labels?.length || element.textContent?.trim()
      if (!labelled) problems.push(`unnamed ${element.outerHTML.slice(0, 80)}`)
    }
    const ids = [...document.querySelectorAll('[id]')].map((element) => element.id)
    for (const id of new Set(ids)) if (ids.filter((other) => other === id).length > 1) problems.push(`duplicate id ${id}`)
    return problems
  })
}

async function upload(page: Page, name: string, text: string) {
  await page.getByLabel('Choose a file to import').setInputFiles({ name, mimeType: 'text/vcard', buffer: Buffer.from(text) })
  await page.getByTestId('import-status').filter({ hasText: /^(Finished|Failed)/ }).waitFor({ timeout: 30_000 })
}

const downloaded = async (download: Download) => readFile((await download.path())!, 'utf8')

describe.skipIf(!enabled)('Import and export page in Chromium', () => {
  let demo: DemoServer
  let browser: Browser
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    ;[demo, browser] = await Promise.all([startDemoServer(), launchChromium()])
    context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: demo.origin })
    page = await context.newPage()
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  it('imports a chosen vCard file: progress, then the report with the rejected card', async () => {
    await page.goto(`${demo.origin}/`)
    await page.getByRole('link', { name: 'Import & export' }).click()
    await page.getByRole('heading', { level: 1, name: 'Import and export' }).waitFor()
    await upload(page, 'e2e-contacts.vcf', VCARDS)
    expect(await page.getByTestId('import-status').textContent()).toBe('Finished.')
    expect(await count(page, 'Created')).toBe(3)
    expect(await count(page, 'Rejected')).toBe(1)
    await page.getByTestId('rejected-row').first().waitFor()
    expect(await page.getByTestId('rejected-row').count()).toBe(1)
    await page.screenshot({ path: screenshotPath('import-1-report'), fullPage: true })
    expect(await controlsNamed(page)).toEqual([])

    // The contacts are there, as the API says.
    for (const name of NAMES) {
      const result = await demo.server.query('query($s: String) { contacts(filter: { search: $s }) { edges { node { name } } } }', { s: name }, demo.token)
      expect(result.errors).toBeUndefined()
      expect(JSON.stringify(result.data)).toContain(name)
    }
  })

  it('importing the same file again changes nothing; both imports are listed', async () => {
    await upload(page, 'e2e-contacts.vcf', VCARDS)
    expect(await count(page, 'Created')).toBe(0)
    expect(await count(page, 'Updated')).toBe(0)
    expect(await count(page, 'Unchanged')).toBe(3)
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=past-import]').length >= 2)
  })

  it('downloads the rejected rows as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download rejected rows' }).click()])
    expect(download.suggestedFilename()).toMatch(/^rejected-rows-.*\.csv$/)
    const text = await downloaded(download)
    expect(text.split('\r\n')[0]).toBe('position,field,reason,raw')
    expect(text).toContain('a card with nothing to know the person by')
  })

  it('exports the contacts as vCard and CSV, and the calendar, as downloads', async () => {
    const [vcf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Contacts as vCard (.vcf)' }).click()])
    expect(vcf.suggestedFilename()).toBe('contacts.vcf')
    const cards = await downloaded(vcf)
    expect(cards.startsWith('BEGIN:VCARD')).toBe(true)
    for (const name of NAMES) expect(cards).toContain(name)
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Contacts as CSV (.csv)' }).click()])
    expect(await downloaded(csv)).toContain('Marisol')
    const [ics] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Calendar as iCalendar (.ics)' }).click()])
    expect((await downloaded(ics)).startsWith('BEGIN:VCALENDAR')).toBe(true)
  })

  it('makes a feed URL, shown once and copied; it is read without a token until turned off', async () => {
    await page.getByTestId('feed-state').filter({ hasText: 'No feed.' }).waitFor()
    await page.getByRole('button', { name: 'Create feed URL' }).click()
    const field = page.getByLabel(/Feed URL/)
    await field.waitFor()
    const url = await field.inputValue()
    expect(url).toMatch(/\/feeds\/[^/]+\.ics$/)
    await page.getByRole('button', { name: 'Copy' }).click()
    await page.getByText('Feed URL copied.').waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url)
    await page.screenshot({ path: screenshotPath('import-2-feed'), fullPage: true })
    const feed = await fetch(new URL(new URL(url, demo.origin).pathname, demo.origin))
    expect(feed.status).toBe(200)
    expect((await feed.text()).startsWith('BEGIN:VCALENDAR')).toBe(true)

    await page.getByRole('button', { name: 'Turn off feed' }).click()
    await page.getByTestId('feed-state').filter({ hasText: 'No feed.' }).waitFor()
    expect(await page.getByLabel(/Feed URL/).count()).toBe(0)
    expect((await fetch(new URL(new URL(url, demo.origin).pathname, demo.origin))).status).toBe(404)
  })

  it('is readable at 360 px: nothing wider than the screen', async () => {
    const narrow = await browser.newContext({ viewport: { width: 360, height: 780 } })
    const small = await narrow.newPage()
    try {
      await small.goto(`${demo.origin}/import`)
      await small.getByTestId('past-import').first().waitFor()
      await small.getByTestId('past-import').first().getByRole('button').click()
      await small.getByTestId('import-counts').waitFor()
      expect(await small.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
      await small.screenshot({ path: screenshotPath('import-3-360px'), fullPage: true })
    } finally {
      await narrow.close()
    }
  })
})
