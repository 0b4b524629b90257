/**
 * Issue 12, item 4: the uploads stream. 50 MB sent to `POST /import/contacts` and as a multipart
 * `importContacts` while the live memory of the process (JS heap and array buffers, measured after
 * forced collections every 200 ms, after a warm-up upload) is sampled: it must stay far below the file's size (< 30 MB
 * over the baseline). A parser that buffered the upload (Yoga's own multipart parser does,
 * graphql-yoga #4409) would hold the 50 MB at once. On PostgreSQL only: PGlite keeps the stored
 * chunks in its WebAssembly memory, inside this process's array buffers.
 */
import { request as httpRequest } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { fakeImportFormats } from '../helpers/fake-import-formats.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const kinds = (await availableDatabaseKinds()).filter((kind) => kind === 'postgres')
const SIZE = 50 * 1024 * 1024
const PIECE = 64 * 1024

/**
 * POSTs `size` bytes (a CSV header line, then `A`s, made as they are sent) with Node's own client,
 * which waits for the socket to drain: fetch (undici) reads a stream body ahead of the socket, and
 * its buffer, in this same process, would be measured as the server's.
 */
function upload(url: string, headers: Record<string, string>, prefix = '', suffix = '', size = SIZE): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (text: string) => (body += text))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    request.on('error', reject)
    const piece = Buffer.alloc(PIECE, 0x41)
    let sent = 0
    const pump = () => {
      while (sent < size) {
        sent += PIECE
        if (!request.write(piece)) return void request.once('drain', pump)
      }
      request.end(suffix)
    }
    request.write(`${prefix}name;email\n`)
    pump()
  })
}

/**
 * Live bytes: the JS heap and array buffers after full collections. V8 frees array buffers on a
 * background thread after a collection, so a reading taken at once still counts the garbage: it
 * collects twice with a pause between.
 */
async function live(): Promise<number> {
  gc()
  await new Promise((resolve) => setTimeout(resolve, 20))
  gc()
  const usage = process.memoryUsage()
  if (process.env.MEMORY_DEBUG) process.stderr.write(`heap ${(usage.heapUsed / 1e6).toFixed(1)} ab ${(usage.arrayBuffers / 1e6).toFixed(1)}\n`)
  return usage.heapUsed + usage.arrayBuffers
}

async function peakGrowthWhile(run: () => Promise<void>): Promise<number> {
  const baseline = await live()
  let peak = baseline
  let running = true
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await live())
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })()
  try {
    await run()
  } finally {
    running = false
    await sampler
  }
  return Math.max(peak, await live()) - baseline
}

describe.skipIf(kinds.length === 0).each(kinds)('uploads stream on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let token: string
  let userId: string

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    // The job is not the point here: a reader that only drains the chunks keeps it quick.
    const formats = fakeImportFormats()
    formats.CONTACTS = {
      ...formats.CONTACTS,
      // eslint-disable-next-line require-yield
      async *read(chunks) {
        for await (const chunk of chunks) void chunk
      },
    }
    server = await startTestServer(db, { env: { IMPORT_MAX_BYTES: String(SIZE + 1024 * 1024) }, importFormats: formats })
    const user = await db.prisma.user.create({ data: { email: 'memory@example.com' } })
    userId = user.id
    token = await issueToken(db.prisma, user.id, 'test')
    // Warm up first: the first upload's one-off allocations (compiled queries, connections) are not the measure.
    const warmUp = await upload(server.url.replace(/\/graphql$/, '/import/contacts?format=csv'), { authorization: `Bearer ${token}` }, '', '', 4 * 1024 * 1024)
    expect(warmUp.status).toBe(202)
    await vi.waitFor(async () => expect(await db.prisma.import.count({ where: { userId, status: { in: ['QUEUED', 'RUNNING'] } } })).toBe(0), { timeout: 60_000 })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('POST /import/contacts: 50 MB in, live memory grows by far less', async () => {
    let status = 0
    const growth = await peakGrowthWhile(async () => {
      status = (await upload(server.url.replace(/\/graphql$/, '/import/contacts?format=csv'), { authorization: `Bearer ${token}` })).status
    })
    expect(status).toBe(202)
    expect(growth).toBeLessThan(30 * 1024 * 1024)
    await vi.waitFor(async () => expect(await db.prisma.import.count({ where: { userId, status: { in: ['QUEUED', 'RUNNING'] } } })).toBe(0), { timeout: 60_000 })
  })

  it('importContacts over multipart: 50 MB in, live memory grows by far less', async () => {
    const boundary = 'memoryboundary'
    const operations = JSON.stringify({ query: 'mutation($file: File!) { importContacts(file: $file) { id status } }', variables: { file: null } })
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`
    let body: any
    const growth = await peakGrowthWhile(async () => {
      const response = await upload(
        server.url,
        { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1', 'content-type': `multipart/form-data; boundary=${boundary}` },
        head,
        `\r\n--${boundary}--\r\n`,
      )
      body = JSON.parse(response.body)
    })
    expect(body.errors).toBeUndefined()
    expect(body.data.importContacts.status).toMatch(/QUEUED|RUNNING|SUCCEEDED/)
    expect(growth).toBeLessThan(30 * 1024 * 1024)
  })
})
