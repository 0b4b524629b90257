/**
 * `npx tsx bench/web.ts [-- --runs 5]` (to be `npm run bench:web`)
 *
 * The web client's figures (issue 7), in one run against the real server
 * (PGlite in memory, the demo user's 2,000 contacts) and Debian's Chromium:
 *   - JavaScript shipped, gzip: every web/dist/assets/*.js gzipped with node:zlib (budget 120 kB);
 *   - navigation to the first suggestion on screen and to the complete list (User Timing marks
 *     the app sets after the DOM commit), beside the same subscription made by a bare
 *     graphql-ws client in Node (from subscribe to the first batch / to SuggestionsComplete),
 *     medians over the runs, alternating, and the ratio;
 *   - the longest main-thread task while 500 suggestions stream (`?max=500`, PerformanceObserver
 *     'longtask', which reports tasks over 50 ms: budget 50 ms), also with the CPU slowed 4x.
 * Each browser run uses a fresh context (no cache), as a first visit. The server runs in a
 * child process (as `npm start` would), so that Playwright's own work in this process does
 * not slow it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { Browser } from 'playwright-core'
import { apiSuggestions, CHROMIUM, launchChromium, startDemoServer } from '../web/e2e/harness.ts'
import { benchArgs, benchFail, positiveInteger } from './args.ts'

const USAGE = 'npm run bench:web [-- --runs N] [--serve]'
const values = benchArgs(USAGE, { runs: { type: 'string', default: '5' }, serve: { type: 'boolean', default: false } })
const runs = positiveInteger('runs', values.runs, 5, (message) => benchFail(USAGE, message))

const print = (line = '') => process.stdout.write(`${line}\n`)
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const ms = (value: number) => `${value.toFixed(0)} ms`

function buildAndMeasureJs(): { files: { name: string; raw: number; gzip: number }[]; gzip: number } {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit' })
  const dir = 'web/dist/assets'
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .map((name) => {
      const content = readFileSync(join(dir, name))
      return { name, raw: content.length, gzip: gzipSync(content).length }
    })
  return { files, gzip: files.reduce((sum, file) => sum + file.gzip, 0) }
}

/** Navigation to the first row and to the complete list, from the app's User Timing marks. */
interface BrowserRun {
  /** When the subscription started, the first row and the whole list were on screen (ms from navigation). */
  subscribe: number
  first: number
  complete: number
  /** [start, duration] of every task over 50 ms. */
  longTasks: [number, number][]
  /** The server's walk time for this page's subscription (SuggestionsComplete.durationMs). */
  serverMs: number
}

/** The server under test, in its own process. */
interface Endpoint {
  origin: string
  url: string
  token: string
}

/** `--serve`: start the demo server, print its endpoint as one JSON line, run until SIGTERM. */
async function serve(): Promise<void> {
  const demo = await startDemoServer()
  const endpoint: Endpoint = { origin: demo.origin, url: demo.server.url, token: demo.token }
  process.stdout.write(`${JSON.stringify(endpoint)}\n`)
  process.once('SIGTERM', () => void demo.close().then(() => process.exit(0)))
}

async function startServerProcess(): Promise<{ child: ChildProcess; endpoint: Endpoint }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  return { child, endpoint: JSON.parse(line) as Endpoint }
}

async function browserTimes(browser: Browser, demo: Endpoint, path: string, setup?: string): Promise<BrowserRun> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  await context.addInitScript(`
    window.__longTasks = []
    new PerformanceObserver((list) => { for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]) })
      .observe({ type: 'longtask', buffered: true })
  `)
  const page = await context.newPage()
  let serverMs = Number.NaN
  page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { payload?: { data?: { suggestions?: { __typename: string; durationMs?: number } } } }
      const event = message.payload?.data?.suggestions
      if (event?.__typename === 'SuggestionsComplete' && Number.isNaN(serverMs)) serverMs = event.durationMs ?? Number.NaN
    }),
  )
  try {
    if (setup === 'slow-cpu') await (await context.newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: 4 })
    await page.goto(`${demo.origin}${path}`)
    // Poll on a timer, not every frame: the marks hold the times, and the poll should cost the page nothing.
    await page.waitForFunction(`performance.getEntriesByName('suggestions:complete-on-screen').length > 0`, undefined, { timeout: 60_000, polling: 100 })
    // Let the last frame and any trailing task land.
    await page.waitForTimeout(300)
    const run = (await page.evaluate(`({
      subscribe: performance.getEntriesByName('suggestions:subscribe')[0].startTime,
      first: performance.getEntriesByName('suggestions:first-on-screen')[0].startTime,
      complete: performance.getEntriesByName('suggestions:complete-on-screen')[0].startTime,
      longTasks: window.__longTasks,
    })`)) as Omit<BrowserRun, 'serverMs'>
    return { ...run, serverMs }
  } finally {
    await context.close()
  }
}

async function main() {
  print(`bench/web.ts — ${new Date().toISOString()}, Node ${process.version}, Chromium at ${CHROMIUM}, ${runs} runs, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`)
  const js = buildAndMeasureJs()
  print()
  print('JavaScript shipped (web/dist/assets/*.js)')
  for (const file of js.files) print(`  ${file.name}: ${(file.raw / 1024).toFixed(1)} kB raw, ${(file.gzip / 1024).toFixed(1)} kB gzip`)
  print(`  total gzip: ${(js.gzip / 1024).toFixed(1)} kB (budget 120 kB) ${js.gzip <= 120 * 1024 ? 'OK' : 'OVER BUDGET'}`)

  const [{ child, endpoint: demo }, browser] = await Promise.all([startServerProcess(), launchChromium()])
  try {
    // Warm the server (JIT, PGlite caches) with one stream of each kind before measuring.
    await apiSuggestions(demo.url, demo.token)
    await browserTimes(browser, demo, '/')

    const node: { first: number; complete: number; serverMs: number }[] = []
    const page: BrowserRun[] = []
    for (let run = 0; run < runs; run++) {
      const api = await apiSuggestions(demo.url, demo.token)
      node.push({ first: api.firstMs, complete: api.completeMs, serverMs: api.serverMs })
      page.push(await browserTimes(browser, demo, '/'))
    }
    const nodeFirst = median(node.map((r) => r.first))
    const nodeComplete = median(node.map((r) => r.complete))
    const pageFirst = median(page.map((r) => r.first))
    const pageComplete = median(page.map((r) => r.complete))
    print()
    print(`Demo user (2,000 contacts), default input (50 suggestions), medians of ${runs}`)
    print(`                              first suggestion   complete list`)
    print(`  browser, from navigation    ${ms(pageFirst).padStart(16)}   ${ms(pageComplete).padStart(13)}`)
    print(`  bare graphql-ws in Node     ${ms(nodeFirst).padStart(16)}   ${ms(nodeComplete).padStart(13)}`)
    print(`  ratio browser / Node        ${`${(pageFirst / nodeFirst).toFixed(2)}x`.padStart(16)}   ${`${(pageComplete / nodeComplete).toFixed(2)}x`.padStart(13)}`)
    print(`  where the browser's time goes (medians): page load to subscribing ${ms(median(page.map((r) => r.subscribe)))}, ` +
        `subscribing to the first row ${ms(median(page.map((r) => r.first - r.subscribe)))}`)
    print(`  the server's walk (SuggestionsComplete.durationMs): for the page ${ms(median(page.map((r) => r.serverMs)))}, for Node ${ms(median(node.map((r) => r.serverMs)))}`)
    print(`  browser runs: ${page.map((r) => `${r.first.toFixed(0)}/${r.complete.toFixed(0)}`).join(', ')} ms; Node runs: ${node.map((r) => `${r.first.toFixed(0)}/${r.complete.toFixed(0)}`).join(', ')} ms`)

    print()
    print('Longest main-thread task while 500 suggestions stream (/?max=500; longtask reports tasks over 50 ms; budget 50 ms)')
    for (const setup of ['normal', 'slow-cpu'] as const) {
      const streaming: number[] = []
      const loading: number[] = []
      let last: BrowserRun | undefined
      for (let run = 0; run < runs; run++) {
        last = await browserTimes(browser, demo, '/?max=500', setup)
        const { subscribe, complete } = last
        // While streaming: tasks that end after the subscription starts and begin before the list is whole.
        streaming.push(Math.max(0, ...last.longTasks.filter(([start, duration]) => start + duration > subscribe && start <= complete).map(([, duration]) => duration)))
        loading.push(Math.max(0, ...last.longTasks.filter(([start, duration]) => start + duration <= subscribe).map(([, duration]) => duration)))
      }
      const worst = Math.max(...streaming)
      const typical = median(streaming)
      const show = (values: number[]) => values.map((v) => (v === 0 ? '<50' : v.toFixed(0))).join(', ')
      const verdict = setup === 'normal' ? (worst <= 50 ? 'OK' : typical <= 50 ? 'OVER BUDGET in some runs' : 'OVER BUDGET') : '(headroom check)'
      const longest = (value: number) => (value === 0 ? 'no task over 50 ms' : ms(value))
      print(`  ${setup === 'normal' ? 'CPU as is    ' : 'CPU slowed 4x'}  while streaming: median of runs ${longest(typical)}, worst ${longest(worst)} (runs: ${show(streaming)}) ${verdict}`)
      print(`                 page load before subscribing (script evaluation, first render): runs ${show(loading)} ms`)
      if (last) print(`                 last run: subscribed at ${ms(last.subscribe)}, first row ${ms(last.first)}, 500 on screen ${ms(last.complete)}`)
    }
  } finally {
    await browser.close()
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

await (values.serve ? serve() : main())
