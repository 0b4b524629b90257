/**
 * Layout, theme and keyboard in Chromium against the real server (issue 13, items 7 and 9):
 * at 360 px no view scrolls sideways and nothing moves while the suggestions stream or the
 * contacts load (Cumulative Layout Shift under 0.05); axe finds no violations on any view in
 * the light and the dark theme; a page change puts focus on the new page's heading.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations } from './axe.ts'
import { browserTestsEnabled, launchChromium, screenshotPath, startDemoServer, type DemoServer } from './harness.ts'

const enabled = browserTestsEnabled()

/** Sums the layout shifts not caused by input, from the first paint on (as CLS counts them). */
const LAYOUT_SHIFT_PROBE = `
  window.__layoutShift = 0
  window.__shifts = []
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.hadRecentInput) continue
      window.__layoutShift += entry.value
      window.__shifts.push({ value: entry.value, at: Math.round(entry.startTime), nodes: entry.sources.map((s) => s.node && s.node.nodeName + '.' + (s.node.className || '')) })
    }
  }).observe({ type: 'layout-shift', buffered: true })
`

const PHONE = { width: 360, height: 780 }

const layoutShift = (page: Page) => page.evaluate(() => (window as unknown as { __layoutShift: number }).__layoutShift)
const shifts = (page: Page) => page.evaluate(() => (window as unknown as { __shifts: unknown[] }).__shifts)

/** Whether the page scrolls sideways: the document wider than its viewport, and the widest element. */
function horizontalOverflow(page: Page) {
  return page.evaluate(() => {
    const root = document.scrollingElement!
    const wide = [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > root.clientWidth + 0.5)
      .map((element) => `${element.nodeName.toLowerCase()}${element.className ? `.${String(element.className).replaceAll(' ', '.')}` : ''}`)
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 5) }
  })
}

/** WCAG relative luminance of a computed `rgb(r, g, b)` colour: 0 black, 1 white. */
function relativeLuminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((channel) => {
    const c = Number(channel) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}

async function expectNoHorizontalScroll(page: Page) {
  const { scrollWidth, clientWidth, wide } = await horizontalOverflow(page)
  expect(wide).toEqual([])
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth)
}

/** Done loading: the page's heading is there and nothing in it says it is busy. */
async function settled(page: Page) {
  await page.locator('h1').first().waitFor()
  await page.waitForFunction(() => document.querySelector('[aria-busy="true"]') === null, undefined, { timeout: 30_000 })
}

interface View {
  name: string
  path: (ids: { contact: string }) => string
  ready: (page: Page) => Promise<void>
  signedOut?: boolean
}

const VIEWS: View[] = [
  { name: 'suggestions', path: () => '/', ready: (page) => page.getByTestId('summary').waitFor({ timeout: 30_000 }) },
  { name: 'contacts', path: () => '/contacts', ready: (page) => page.getByTestId('contact-row').first().waitFor() },
  { name: 'contact', path: ({ contact }) => `/contacts/${encodeURIComponent(contact)}`, ready: (page) => page.locator('#contact-name').waitFor() },
  { name: 'import', path: () => '/import', ready: (page) => page.getByTestId('feed-state').waitFor() },
  { name: 'not-found', path: () => '/no/such/page', ready: (page) => page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor() },
  { name: 'sign-in', path: () => '/', ready: (page) => page.getByLabel('API token').waitFor(), signedOut: true },
]

describe.skipIf(!enabled)('layout, theme and keyboard in Chromium', () => {
  let demo: DemoServer
  let browser: Browser
  /** A contact with the most to show (tags, notes, groups): the longest contact page. */
  let contactId: string

  beforeAll(async () => {
    ;[demo, browser] = await Promise.all([startDemoServer(), launchChromium()])
    const { data } = await demo.server.query<{ contacts: { edges: { node: { id: string; tags: string[]; customNotes: string | null; groups: unknown[] } }[] } }>(
      '{ contacts(first: 100) { edges { node { id tags customNotes groups { id } } } } }',
      {},
      demo.token,
    )
    const weight = (c: { tags: string[]; customNotes: string | null; groups: unknown[] }) => c.tags.join().length + (c.customNotes?.length ?? 0) + c.groups.length * 10
    contactId = data!.contacts.edges.map((edge) => edge.node).sort((a, b) => weight(b) - weight(a))[0]!.id
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  async function phone(colorScheme: 'light' | 'dark', signedOut = false): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: PHONE, colorScheme })
    await context.addInitScript(LAYOUT_SHIFT_PROBE)
    if (signedOut) await context.addInitScript(() => window.localStorage.setItem('reachout.signedOut', '1'))
    return context
  }

  describe.each(['light', 'dark'] as const)('at 360 px, %s theme', (colorScheme) => {
    let contexts: { signedIn: BrowserContext; signedOut: BrowserContext }
    beforeAll(async () => {
      contexts = { signedIn: await phone(colorScheme), signedOut: await phone(colorScheme, true) }
    })
    afterAll(async () => {
      await contexts?.signedIn.close()
      await contexts?.signedOut.close()
    })

    it.each(VIEWS.map((view) => [view.name, view] as const))('%s: no sideways scroll, no axe violation', async (name, view) => {
      const page = await (view.signedOut ? contexts.signedOut : contexts.signedIn).newPage()
      try {
        await page.goto(`${demo.origin}${view.path({ contact: contactId })}`)
        await view.ready(page)
        await settled(page)
        // The theme is applied, not only asked for: the page's background is dark in the dark theme.
        const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
        expect(relativeLuminance(background) < 0.1).toBe(colorScheme === 'dark')
        await expectNoHorizontalScroll(page)
        expect(await axeViolations(page)).toEqual([])
        await page.screenshot({ path: screenshotPath(`layout-${name}-360-${colorScheme}`), fullPage: true })
      } finally {
        await page.close()
      }
    })
  })

  describe('at 360 px, nothing moves while data arrives', () => {
    let context: BrowserContext
    beforeAll(async () => {
      context = await phone('light')
    })
    afterAll(() => context?.close())

    it.each([
      ['/', 50],
      ['/?max=200&batch=20', 200],
    ])('the suggestions stream in without layout shift, from navigation to SuggestionsComplete (%s)', async (path, rows) => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}${path}`)
        await page.getByTestId('summary').waitFor({ timeout: 30_000 })
        // The user's name arrives after the first batch: the header must not move the list then either.
        await page.waitForFunction(() => document.querySelector('.top .who')?.textContent !== '')
        expect(await page.locator('ol.suggestions [data-testid=suggestion]').count()).toBe(rows)
        expect(await layoutShift(page), JSON.stringify(await shifts(page))).toBeLessThan(0.05)
        await expectNoHorizontalScroll(page)
      } finally {
        await page.close()
      }
    })

    it('the contacts load, page after page, without layout shift', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/contacts`)
        await page.getByTestId('contact-row').first().waitFor()
        await settled(page)
        // Scrolled to just above the end of the list, as a reader gets there: the next page is
        // asked for ahead (the sentinel is within its margin) and arrives below the screen.
        await page.evaluate(() => {
          const end = document.querySelector('.list-end')!
          window.scrollTo(0, end.getBoundingClientRect().top + window.scrollY - window.innerHeight - 100)
        })
        await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact-row]').length >= 100)
        await settled(page)
        expect(await layoutShift(page), JSON.stringify(await shifts(page))).toBeLessThan(0.05)
        await expectNoHorizontalScroll(page)
      } finally {
        await page.close()
      }
    })

    it('with the end of the list on screen while the next page loads, its skeletons become rows and nothing moves', async () => {
      const page = await context.newPage()
      // The next page's answer waits until the test has looked at the screen.
      let release = () => {}
      const held = new Promise<void>((resolve) => (release = resolve))
      let askedFor = () => {}
      const asked = new Promise<void>((resolve) => (askedFor = resolve))
      await page.route('**/*', async (route) => {
        const body = route.request().method() === 'POST' ? (route.request().postData() ?? '') : ''
        if (body.includes('query Contacts') && body.includes('"after":"')) {
          askedFor()
          await held
        }
        await route.continue()
      })
      const inView = (selector: string) =>
        page.locator(selector).evaluate((element) => {
          const box = element.getBoundingClientRect()
          return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
        })
      try {
        await page.goto(`${demo.origin}/contacts`)
        await page.getByTestId('contact-row').first().waitFor()
        await settled(page)
        // Straight to the bottom, as a fling gets there: the next page's skeletons and the list's end are on screen.
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight))
        await asked
        expect(await page.locator('.contacts > li.skeleton').count()).toBe(50)
        expect(await inView('.list-end')).toBe(true)
        expect(await inView('.contacts > li.skeleton >> nth=-1')).toBe(true)
        const rowHeights = await page.locator('.contacts > li').evaluateAll((rows) => [...new Set(rows.map((row) => row.getBoundingClientRect().height))])
        expect(rowHeights).toHaveLength(1)
        await page.screenshot({ path: screenshotPath('layout-contacts-next-page-360') })
        release()
        await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact-row]').length >= 100)
        // The rows took the skeletons' place, on screen.
        expect(await inView('[data-testid=contact-row] >> nth=99')).toBe(true)
        await settled(page)
        expect(await layoutShift(page), JSON.stringify(await shifts(page))).toBeLessThan(0.05)
        await expectNoHorizontalScroll(page)
      } finally {
        await page.close()
      }
    })

    it('the header is as tall on every page: its links stay on one row whichever is current', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/`)
        const nav = page.getByRole('navigation', { name: 'Main' })
        const heights: number[] = []
        for (const name of ['Suggestions', 'Contacts', 'Import & export']) {
          await nav.getByRole('link', { name }).click()
          await nav.locator('[aria-current=page]', { hasText: name }).waitFor()
          heights.push(await page.locator('header.top').evaluate((header) => header.getBoundingClientRect().height))
        }
        expect(new Set(heights).size, String(heights)).toBe(1)
      } finally {
        await page.close()
      }
    })

    it('an open snooze form fits its row and the screen', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/`)
        await page.getByTestId('summary').waitFor({ timeout: 30_000 })
        const row = page.locator('ol.suggestions [data-testid=suggestion]').first()
        await row.getByRole('button', { name: /^Snooze/ }).click()
        const form = row.locator('form')
        await form.waitFor()
        const [rowBox, formBox] = [await row.boundingBox(), await form.boundingBox()]
        expect(formBox!.y + formBox!.height).toBeLessThanOrEqual(rowBox!.y + rowBox!.height)
        for (const control of await form.locator('input, button, select').all()) {
          const box = (await control.boundingBox())!
          expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width)
        }
        await expectNoHorizontalScroll(page)
        await page.screenshot({ path: screenshotPath('layout-snooze-360') })
      } finally {
        await page.close()
      }
    })

    it('the filters with long text in them stay on the screen', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/contacts`)
        await page.getByTestId('contact-row').first().waitFor()
        for (const field of await page.locator('main input:not([type=checkbox]), main select').all()) {
          if ((await field.evaluate((element) => element.nodeName)) === 'INPUT') await field.fill('a-very-long-tag-name-that-does-not-fit-on-a-phone-screen')
          const box = (await field.boundingBox())!
          expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width)
        }
        await expectNoHorizontalScroll(page)
      } finally {
        await page.close()
      }
    })
  })

  describe('keyboard', () => {
    let context: BrowserContext
    beforeAll(async () => {
      context = await browser.newContext({ viewport: PHONE })
    })
    afterAll(() => context?.close())

    const focused = (page: Page) =>
      page.evaluate(() => {
        const element = document.activeElement
        return element ? { tag: element.nodeName.toLowerCase(), text: element.textContent ?? '', label: element.getAttribute('aria-label') } : null
      })

    it('the first load leaves focus alone; a nav link, a contact link and Back put it on the new page heading, with the title', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/`)
        await page.getByTestId('summary').waitFor({ timeout: 30_000 })
        expect((await focused(page))?.tag).toBe('body')
        expect(await page.title()).toBe('Suggestions · Reach out')

        const contactsLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' })
        await contactsLink.focus()
        await page.keyboard.press('Enter')
        await page.waitForURL(`${demo.origin}/contacts`)
        await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: 'Contacts', label: null })
        expect(await page.title()).toBe('Contacts · Reach out')

        // A page whose heading comes with its data: focus waits for it.
        const link = page.getByTestId('contact-row').first().getByRole('link')
        const name = (await link.textContent())!
        await link.focus()
        await page.keyboard.press('Enter')
        await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: name, label: null })
        expect(await page.title()).toBe(`${name} · Reach out`)

        await page.goBack()
        await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: 'Contacts', label: null })

        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import & export' }).click()
        await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: 'Import and export', label: null })
        expect(await page.title()).toBe('Import and export · Reach out')
      } finally {
        await page.close()
      }
    })

    // While it runs the button is busy: a disabled one would have dropped focus to <body> for good.
    it('an export started from the keyboard keeps focus on its button', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/import`)
        const button = page.getByRole('button', { name: 'Contacts as CSV (.csv)' })
        await button.focus()
        const download = page.waitForEvent('download')
        await page.keyboard.press('Enter')
        await download
        await page.getByText('contacts.csv downloaded.').waitFor()
        expect(await focused(page)).toEqual({ tag: 'button', text: 'Contacts as CSV (.csv)', label: null })
      } finally {
        await page.close()
      }
    })

    it('sign-out puts focus in the token field, sign-in on the suggestions heading', async () => {
      const page = await context.newPage()
      try {
        await page.goto(`${demo.origin}/contacts`)
        await page.getByTestId('contact-row').first().waitFor()
        await page.getByRole('button', { name: 'Sign out' }).click()
        await page.getByRole('heading', { name: 'Sign in' }).waitFor()
        expect(await page.title()).toBe('Sign in · Reach out')
        await expect.poll(() => focused(page)).toMatchObject({ tag: 'input' })
        await page.keyboard.type(demo.token)
        await page.keyboard.press('Enter')
        await expect.poll(() => focused(page)).toEqual({ tag: 'h1', text: 'Contacts', label: null })
        expect(await page.title()).toBe('Contacts · Reach out')
      } finally {
        await page.close()
      }
    })
  })
})
