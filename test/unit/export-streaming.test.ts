/**
 * The export route's streaming, without a database: a fake Prisma serves pages of contacts and
 * counts the reads. A client that reads nothing holds the walk (no page is read past what the
 * socket and the stream's small buffer hold), reading on resumes it to the end, and a client
 * that leaves stops it and frees its place.
 */
import { once } from 'node:events'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setImmediate as turn } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ExportLimiter } from '../../src/exports/export-limit.ts'
import { exportRoutes } from '../../src/http/export-routes.ts'
import { createLogger } from '../../src/logger.ts'

const USER = '0193a000-0000-7000-8000-00000000000a'
const idOf = (n: number) => `0193a000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`

/** A Prisma look-alike with `total` contacts of `noteBytes` of notes each; counts contact page reads. */
function fakePrisma(total: number, noteBytes: number) {
  const reads = { pages: 0 }
  const notes = 'n'.repeat(noteBytes)
  const prisma = {
    authToken: {
      findUnique: async () => ({ id: 't', userId: USER, revokedAt: null, expiresAt: null, lastUsedAt: new Date(), kind: 'SESSION', scopes: [] }),
      updateMany: async () => ({ count: 1 }),
    },
    group: { findMany: async () => [] },
    /** The export page (readExportPage): `after` is Prisma.empty or a fragment holding the last id. */
    $queryRaw: async (_sql: TemplateStringsArray, _userId: string, after: { values?: unknown[] }, take: number) => {
      reads.pages++
      const afterId = after.values?.[0] as string | undefined
      const start = afterId ? parseInt(afterId.slice(-12), 16) + 1 : 1
      const rows = []
      for (let n = start; n <= total && rows.length < take; n++) {
        rows.push({ id: idOf(n), name: `Contact ${n}`, email: null, phone: null, emails: [`c${n}@example.com`], phones: [], linkedIn: null, instagram: null, xHandle: null, otherSocialMedia: null, location: null, timezone: null, customNotes: notes, tags: [], groupIds: [], birthday: null, externalId: null })
      }
      return rows
    },
  }
  return { prisma, reads }
}

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  if (server?.listening) await new Promise((resolve) => server!.close(resolve))
})

async function serve(total: number, noteBytes: number) {
  const { prisma, reads } = fakePrisma(total, noteBytes)
  const limiter = new ExportLimiter(2)
  const handler = exportRoutes({ prisma: prisma as never, clock: { now: () => new Date() }, logger: createLogger('silent'), limiter, uidDomain: 'test.invalid' })
  server = createServer((req, res) => void handler(req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/export/contacts.vcf`
  return { url, reads, limiter }
}

/** Opens the download and resolves with the response once its first bytes arrived, paused. */
async function openPaused(url: string): Promise<{ res: IncomingMessage; destroy: () => void }> {
  const req = request(url, { headers: { authorization: 'Bearer prm_test' } })
  req.on('error', () => {})
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  res.pause()
  return { res, destroy: () => req.destroy() }
}

/** Lets the event loop run many turns (I/O included): long enough for an unthrottled walk to read every page. */
async function letItRun(turns = 200) {
  for (let i = 0; i < turns; i++) await turn()
}

describe('GET /export/contacts.vcf streaming', () => {
  it('reads a page only when the client takes the last: a client that reads nothing holds the walk', async () => {
    // 200 pages of 1,000 cards of ~2 kB: 400 MB if nothing held it back.
    const { url, reads } = await serve(200_000, 2000)
    const { res } = await openPaused(url)
    await letItRun()
    const held = reads.pages
    await letItRun()
    expect(reads.pages).toBe(held)
    expect(held).toBeGreaterThanOrEqual(1)
    expect(held).toBeLessThan(10)
    res.destroy()
  })

  it('goes to the end for a client that reads, with every card', async () => {
    const { url, reads, limiter } = await serve(5_500, 10)
    const { res } = await openPaused(url)
    res.setEncoding('utf8')
    let body = ''
    res.on('data', (chunk: string) => (body += chunk))
    res.resume()
    await once(res, 'end')
    expect(body.split('BEGIN:VCARD').length - 1).toBe(5_500)
    expect(body.endsWith('END:VCARD\r\n')).toBe(true)
    expect(reads.pages).toBe(6)
    expect(limiter.total()).toBe(0)
  })

  it('stops the walk and frees the place when the client leaves', async () => {
    const { url, reads, limiter } = await serve(200_000, 2000)
    const { destroy } = await openPaused(url)
    await letItRun()
    expect(limiter.total()).toBe(1)
    destroy()
    await vi.waitFor(() => expect(limiter.total()).toBe(0))
    const after = reads.pages
    await letItRun()
    expect(reads.pages).toBe(after)
  })
})
