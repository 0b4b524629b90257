/**
 * H6, hostile DAV server against the DAV wire (issue 15): a small node:http server answers the client
 * (src/dav/client.ts) through the real guarded fetch and session, with slowloris bodies, 100 MB bodies,
 * deep nesting, an XML bomb, megabyte sync tokens, 100,000 hrefs, redirect loops; and the job runner
 * given a Retry-After of 999999999 seconds. Each test says in one line what it attacks and what is right.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { listMembers, multiget, syncCollection } from '../../src/dav/client.ts'
import { parseRetryAfter } from '../../src/net/retry-after.ts'
import { createDavSession } from '../../src/dav/session.ts'
import { DavHttpError } from '../../src/dav/types.ts'
import { createJobs, type JobOutcome, type Jobs } from '../../src/jobs/jobs.ts'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'
import { classify } from '../../src/sync/run-sync.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    }),
  )
})

/** A hostile DAV server on a free loopback port; `hits` counts requests. */
async function hostile(handler: (request: IncomingMessage, response: ServerResponse, n: number) => void | Promise<void>) {
  const state = { url: '', hits: 0 }
  const server = createServer((request, response) => {
    const n = ++state.hits
    request.resume()
    request.on('end', () => void Promise.resolve(handler(request, response, n)).catch(() => response.destroy()))
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

/** Writes head, then `chunk` `count` times (respecting back-pressure, stopping when the client goes), then tail. */
async function streamBody(response: ServerResponse, head: string, chunk: string, count: number, tail: string): Promise<void> {
  response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' })
  response.write(head)
  for (let i = 0; i < count; i++) {
    if (response.destroyed) return
    if (!response.write(chunk)) {
      const closed = once(response, 'close').then(() => 'closed')
      if ((await Promise.race([once(response, 'drain').then(() => 'drain'), closed])) === 'closed') return
    }
  }
  response.end(tail)
}

function session(timeoutMs = 60_000) {
  return createDavSession({
    credentials: { kind: 'BASIC', username: 'u', password: 'p' },
    fetch: createOutboundFetch({ allowPrivate: true, timeoutMs }),
    oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
    now: () => new Date(),
  })
}

/** Runs `work` while sampling the heap every 5 ms; returns the peak growth over the start in MB and the result. */
async function peakHeapGrowth<T>(work: () => Promise<T>): Promise<{ growthMb: number; result: T | unknown }> {
  const start = process.memoryUsage().heapUsed
  let peak = start
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5)
  let result: T | unknown
  try {
    result = await work()
  } catch (error) {
    result = error
  } finally {
    clearInterval(timer)
  }
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  return { growthMb: (peak - start) / 1024 / 1024, result }
}

async function drain<T>(pages: AsyncGenerator<T[], unknown, undefined>): Promise<{ pages: number; items: number; largest: number }> {
  let count = 0
  let items = 0
  let largest = 0
  for await (const page of pages) {
    count++
    items += page.length
    largest = Math.max(largest, page.length)
  }
  return { pages: count, items, largest }
}

const MS_HEAD = '<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:X="urn:x">'
const MB = 1024 * 1024
const ONE_MB_TEXT = 'a'.repeat(64 * 1024)

describe('hostile DAV server against the wire', () => {
  it('slowloris: a multistatus that never ends -> the sync gives up within DAV_REQUEST_TIMEOUT_MS as a timeout (DavHttpError 0, classified RETRY)', async () => {
    const server = await hostile((_request, response) => {
      response.writeHead(207, { 'content-type': 'application/xml' })
      response.write(MS_HEAD)
      // One byte every 100 ms, forever.
      const timer = setInterval(() => (response.destroyed ? clearInterval(timer) : response.write(' ')), 100)
      response.on('close', () => clearInterval(timer))
    })
    const started = performance.now()
    const error = await drain(syncCollection(session(1000), `${server.url}/book/`, null)).catch((failure: unknown) => failure)
    const elapsed = performance.now() - started
    expect(elapsed).toBeLessThan(3000)
    // A timeout is retried with backoff (issue 15 item 5), not an "unexpected" ERROR.
    expect(classify(error).outcome).toBe('RETRY')
    expect(error).toBeInstanceOf(DavHttpError)
    expect((error as DavHttpError).status).toBe(0)
  })

  it.each([
    ['text node in an unknown element', `${MS_HEAD}<X:junk>`, ONE_MB_TEXT, '</X:junk></D:multistatus>'],
    ['comment', `${MS_HEAD}<!--`, ONE_MB_TEXT, '--></D:multistatus>'],
    ['address-data value (bounded at 1 MB by the client)', `${MS_HEAD}<D:response><D:href>/book/a.vcf</D:href><D:propstat><D:prop><C:address-data>`, ONE_MB_TEXT, '</C:address-data></D:prop></D:propstat></D:response></D:multistatus>'],
  ])('a 100 MB %s -> the heap grows by less than 48 MB while it streams (values over their bound refused as they come)', { timeout: 120_000 }, async (_what, head, chunk, tail) => {
    const server = await hostile((_request, response) => streamBody(response, head, chunk, (100 * MB) / chunk.length, tail))
    const { growthMb } = await peakHeapGrowth(() => multiget(session(), `${server.url}/book/`, 'ADDRESS_BOOK', ['/book/a.vcf']))
    expect(growthMb).toBeLessThan(48)
  })

  it('100,000 hrefs in one sync-collection answer -> pages of at most 200, the heap grows by less than 48 MB', { timeout: 120_000 }, async () => {
    const server = await hostile((_request, response) => {
      let i = 0
      const item = () => `<D:response><D:href>/book/${i++}.vcf</D:href><D:propstat><D:prop><D:getetag>"${i}"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
      const block = () => Array.from({ length: 1000 }, item).join('')
      response.writeHead(207, { 'content-type': 'application/xml' })
      response.write(MS_HEAD)
      void (async () => {
        for (let b = 0; b < 100; b++) if (!response.write(block())) await once(response, 'drain')
        response.end('<D:sync-token>t1</D:sync-token></D:multistatus>')
      })()
    })
    const { growthMb, result } = await peakHeapGrowth(() => drain(syncCollection(session(), `${server.url}/book/`, null)))
    expect(result).toMatchObject({ items: 100_000 })
    expect((result as { largest: number }).largest).toBeLessThanOrEqual(200)
    expect(growthMb).toBeLessThan(48)
  })

  it('elements nested 100,000 deep -> refused (502), never a stack overflow', async () => {
    const server = await hostile((_request, response) => streamBody(response, MS_HEAD, '<X:a>', 100_000, ''))
    const error = await drain(listMembers(session(), `${server.url}/book/`)).catch((failure: unknown) => failure)
    expect(error).toBeInstanceOf(DavHttpError)
    expect((error as DavHttpError).status).toBe(502)
  })

  it('an XML bomb (DOCTYPE with nested entities) -> refused (502) without expanding anything', async () => {
    const entities = Array.from({ length: 10 }, (_, i) => `<!ENTITY e${i + 1} "${`&e${i};`.repeat(10)}">`).join('')
    const bomb = `<?xml version="1.0"?><!DOCTYPE D:multistatus [<!ENTITY e0 "lol">${entities}]><D:multistatus xmlns:D="DAV:"><D:response><D:href>&e10;</D:href></D:response></D:multistatus>`
    const server = await hostile((_request, response) => {
      response.writeHead(207, { 'content-type': 'application/xml' })
      response.end(bomb)
    })
    const { growthMb, result } = await peakHeapGrowth(() => drain(listMembers(session(), `${server.url}/book/`)))
    expect(result).toBeInstanceOf(DavHttpError)
    expect((result as DavHttpError).status).toBe(502)
    expect(growthMb).toBeLessThan(16)
  })

  it('a 1 MB garbage sync token -> refused (502), not stored or sent back', async () => {
    const server = await hostile((_request, response) => {
      response.writeHead(207, { 'content-type': 'application/xml' })
      response.end(`${MS_HEAD}<D:sync-token>${'\u00e9x'.repeat(512 * 1024)}</D:sync-token></D:multistatus>`)
    })
    const error = await drain(syncCollection(session(), `${server.url}/book/`, null)).catch((failure: unknown) => failure)
    expect(error).toBeInstanceOf(DavHttpError)
    expect((error as DavHttpError).status).toBe(502)
  })

  it('a 301 redirect loop -> a bounded number of requests (at most 6), then a failure', async () => {
    const server = await hostile((request, response) => {
      response.writeHead(301, { location: request.url === '/a/' ? '/b/' : '/a/' })
      response.end()
    })
    const error = await drain(listMembers(session(), `${server.url}/a/`)).catch((failure: unknown) => failure)
    expect(error).toBeInstanceOf(Error)
    expect(server.hits).toBeLessThanOrEqual(6)
  })

  it('a 200 instead of 207 with a body that is not XML -> refused (502), nothing yielded', async () => {
    const server = await hostile((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' })
      response.end('<html><body>hello</body></html>')
    })
    const error = await drain(syncCollection(session(), `${server.url}/book/`, null)).catch((failure: unknown) => failure)
    expect(error).toBeInstanceOf(DavHttpError)
    expect((error as DavHttpError).status).toBe(502)
  })
})

describe('Retry-After: 999999999 against the in-process job runner', () => {
  let db: TestDatabase
  let jobs: Jobs | undefined
  beforeAll(async () => {
    db = await openTestDatabase('pglite')
  })
  afterAll(async () => {
    await jobs?.close()
    await db?.destroy()
  })

  it('a 503 with Retry-After: 999999999 (31 years) -> the retry is not scheduled with a delay Node turns into 1 ms (no TimeoutOverflowWarning, every timer <= 2^31-1 ms)', async () => {
    // parseRetryAfter reads it as a day at most now (net/retry-after.ts); the runner must still not turn 31 years into 1 ms.
    expect(parseRetryAfter('999999999')).toBe(86_400_000)
    const retryAfterMs = 999_999_999_000
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    const outcomes: JobOutcome[] = []
    let runs = 0
    try {
      jobs = createJobs({
        prisma: db.prisma,
        engine: {} as never,
        logger: pino({ level: 'silent' }),
        concurrency: 1,
        refreshCron: '0 0 1 1 *',
        syncIntervalMs: 3_600_000,
        syncScheduleEveryMs: 3_600_000,
        runSync: async (accountId) => {
          runs++
          return { accountId, skipped: false, outcome: 'RETRY', error: 'the server is busy (503); retrying later', retryAfterMs, durationMs: 1 }
        },
        onJobDone: (outcome) => outcomes.push(outcome),
      })
      await jobs.start()
      await jobs.enqueueSync('00000000-0000-7000-8000-000000000001')
      await vi.waitFor(() => expect(outcomes.some((outcome) => outcome.job === 'sync')).toBe(true), { timeout: 10_000 })
      const delays = spy.mock.calls.map(([, ms]) => ms).filter((ms): ms is number => typeof ms === 'number')
      expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1)
      expect(warnings).not.toContain('TimeoutOverflowWarning')
      expect(runs).toBe(1)
    } finally {
      spy.mockRestore()
      process.off('warning', onWarning)
    }
  })
})
