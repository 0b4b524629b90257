/**
 * Upload storage without a database: the content check of the first chunk, the format from the
 * Content-Type or `?format=`, and storeUpload over a stand-in for Prisma: chunks of at most
 * 1 MiB in seq order, one chunk held at a time, every refusal deleting what it wrote.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { CHUNK_BYTES, checkContent, formatOfUpload, storeUpload, UPLOAD_IDLE_MS, UPLOAD_INTERRUPTED, UploadRefused, type UploadLimits } from '../../src/imports/upload.ts'

const encode = (text: string) => new TextEncoder().encode(text)
const LIMITS: UploadLimits = { maxBytes: 5 * CHUNK_BYTES, maxInFlight: 3, maxPerDay: 100 }
const NOW = new Date('2026-11-25T12:00:00Z')

/** Prisma's import and importChunk as far as storeUpload uses them, in memory. */
function fakePrisma(options: { inFlight?: number; today?: number } = {}) {
  const imports = new Map<string, Record<string, unknown>>()
  const chunks: { importId: string; seq: number; size: number }[] = []
  let ids = 0
  const prisma = {
    // The reservation's transaction and lock: the stand-in runs it as it is.
    $transaction: async (work: (tx: unknown) => Promise<unknown>) => work(prisma),
    $queryRaw: async () => [],
    import: {
      count: async ({ where }: { where: { OR?: unknown } }) => (where.OR ? (options.inFlight ?? 0) : (options.today ?? 0)),
      create: async ({ data }: { data: Record<string, unknown> }) => {
        const id = `import-${++ids}`
        imports.set(id, { ...data, id })
        return { id }
      },
      update: async ({ where, data }: { where: { id: string }; data: Record<string, unknown> }) => imports.set(where.id, { ...imports.get(where.id), ...data }),
      deleteMany: async ({ where }: { where: { id: string } }) => {
        imports.delete(where.id)
        for (let i = chunks.length - 1; i >= 0; i--) if (chunks[i]!.importId === where.id) chunks.splice(i, 1)
        return { count: 1 }
      },
    },
    importChunk: {
      create: async ({ data }: { data: { importId: string; seq: number; data: Uint8Array } }) => {
        expect(imports.get(data.importId)).toMatchObject({ status: 'FAILED', error: UPLOAD_INTERRUPTED })
        chunks.push({ importId: data.importId, seq: data.seq, size: data.data.byteLength })
      },
    },
  }
  return { prisma: prisma as unknown as PrismaClient, imports, chunks }
}

async function* pieces(total: number, size: number, first = 'BEGIN:VCARD\r\n'): AsyncGenerator<Uint8Array> {
  const head = encode(first)
  yield head
  let sent = head.byteLength
  while (sent < total) {
    const n = Math.min(size, total - sent)
    yield new Uint8Array(n).fill(0x41)
    sent += n
  }
}

async function refusalOf(promise: Promise<unknown>): Promise<UploadRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UploadRefused)
  return error as UploadRefused
}

describe('the content check', () => {
  it('takes vCards and iCalendar files after a BOM and whitespace, and CSV with a delimiter in the first line', () => {
    expect(() => checkContent('vcard', encode('\uFEFF \r\nbegin:vcard\r\nVERSION:3.0'))).not.toThrow()
    expect(() => checkContent('ics', encode('BEGIN:VCALENDAR\r\n'))).not.toThrow()
    expect(() => checkContent('csv', encode('Name,E-mail 1 - Value\nA,a@example.com'))).not.toThrow()
    expect(() => checkContent('csv-outlook', encode('First Name;Last Name'))).not.toThrow()
  })

  it('refuses with 415 BAD_USER_INPUT a file that is not its format, and binary content', () => {
    for (const [format, text] of [
      ['vcard', 'BEGIN:VCALENDAR'],
      ['ics', 'BEGIN:VCARD'],
      ['csv', 'just one column\nand more'],
      ['vcard', 'BEGIN:VCARD\u0000\u0001'],
      ['csv', 'a,b\u0000'],
    ] as const) {
      let caught: unknown
      try {
        checkContent(format, encode(text))
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(UploadRefused)
      expect(caught).toMatchObject({ code: 'BAD_USER_INPUT', status: 415 })
    }
  })

  it('never throws anything but an UploadRefused, whatever the bytes (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('vcard', 'csv', 'csv-google', 'csv-outlook', 'ics' as const), fc.uint8Array({ maxLength: 300 }), (format, bytes) => {
        try {
          checkContent(format, bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(UploadRefused)
        }
      }),
    )
  })
})

describe('the format of an upload', () => {
  it('comes from the Content-Type, or ?format= which overrides it', () => {
    expect(formatOfUpload('CONTACTS', 'text/vcard; charset=utf-8', null)).toBe('vcard')
    expect(formatOfUpload('CONTACTS', 'text/x-vcard', null)).toBe('vcard')
    expect(formatOfUpload('CONTACTS', 'text/csv', null)).toBe('csv')
    expect(formatOfUpload('CONTACTS', 'text/csv', 'csv-outlook')).toBe('csv-outlook')
    expect(formatOfUpload('CALENDAR', 'TEXT/CALENDAR', null)).toBe('ics')
  })

  it('refuses another kind, an unknown type or format with 415', () => {
    for (const [kind, type, format] of [
      ['CONTACTS', 'text/calendar', null],
      ['CALENDAR', 'text/vcard', null],
      ['CONTACTS', 'application/json', null],
      ['CONTACTS', null, null],
      ['CONTACTS', 'text/vcard', 'ics'],
      ['CALENDAR', 'text/calendar', 'vcard'],
    ] as const) {
      expect(() => formatOfUpload(kind, type, format)).toThrow(UploadRefused)
    }
  })
})

describe('storeUpload', () => {
  it('stores the body in chunks of exactly 1 MiB but the last, in seq order, and turns the import QUEUED', async () => {
    const { prisma, imports, chunks } = fakePrisma()
    const size = 2 * CHUNK_BYTES + 12_345
    // Pieces that straddle chunk boundaries.
    const stored = await storeUpload(prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: pieces(size, 300_001), now: NOW }, LIMITS)
    expect(stored.byteSize).toBe(size)
    expect(chunks.map((chunk) => [chunk.seq, chunk.size])).toEqual([
      [0, CHUNK_BYTES],
      [1, CHUNK_BYTES],
      [2, 12_345],
    ])
    expect(imports.get(stored.id)).toMatchObject({ status: 'QUEUED', error: null, byteSize: size, kind: 'CONTACTS', format: 'vcard' })
  })

  it('cuts the upload past maxBytes with 413 BAD_REQUEST and deletes what it wrote, without reading the rest', async () => {
    const { prisma, imports, chunks } = fakePrisma()
    let read = 0
    async function* endless() {
      for await (const piece of pieces(100 * CHUNK_BYTES, 65_536)) {
        read += piece.byteLength
        yield piece
      }
    }
    const refused = await refusalOf(storeUpload(prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: endless(), now: NOW }, LIMITS))
    expect(refused).toMatchObject({ code: 'BAD_REQUEST', status: 413 })
    expect(read).toBeLessThanOrEqual(LIMITS.maxBytes + 65_536)
    expect(imports.size).toBe(0)
    expect(chunks).toHaveLength(0)
  })

  it('refuses an empty body with 400 and content that is not the format with 415, writing nothing', async () => {
    const { prisma, imports } = fakePrisma()
    async function* empty(): AsyncGenerator<Uint8Array> {}
    expect(await refusalOf(storeUpload(prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: empty(), now: NOW }, LIMITS))).toMatchObject({ status: 400 })
    expect(
      await refusalOf(storeUpload(prisma, { userId: 'u', kind: 'CALENDAR', format: 'ics', body: pieces(3 * CHUNK_BYTES, 65_536, 'BEGIN:VCARD\r\n'), now: NOW }, LIMITS)),
    ).toMatchObject({ status: 415, code: 'BAD_USER_INPUT' })
    expect(imports.size).toBe(0)
  })

  it('refuses with 429 RATE_LIMITED when the user has too many imports in flight or today', async () => {
    const busy = fakePrisma({ inFlight: 3 })
    expect(await refusalOf(storeUpload(busy.prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: pieces(10, 10), now: NOW }, LIMITS))).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
    })
    const daily = fakePrisma({ today: 100 })
    expect(await refusalOf(storeUpload(daily.prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: pieces(10, 10), now: NOW }, LIMITS))).toMatchObject({
      status: 429,
    })
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('cuts an upload that sends nothing for UPLOAD_IDLE_MS with 408 and deletes what it wrote', async () => {
    vi.useFakeTimers()
    const { prisma, imports, chunks } = fakePrisma()
    let release: () => void = () => {}
    let stalled: () => void = () => {}
    const reachedStall = new Promise<void>((resolve) => (stalled = resolve))
    async function* stalls() {
      yield* pieces(CHUNK_BYTES + 10, 65_536)
      // A client that holds the request open and sends nothing more.
      stalled()
      await new Promise<void>((resolve) => (release = resolve))
    }
    const outcome = refusalOf(storeUpload(prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: stalls(), now: NOW }, LIMITS))
    await reachedStall
    expect(chunks).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(UPLOAD_IDLE_MS - 1)
    expect(imports.size).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(await outcome).toMatchObject({ code: 'BAD_REQUEST', status: 408 })
    expect(imports.size).toBe(0)
    expect(chunks).toHaveLength(0)
    release()
  })

  it('deletes what it wrote when the body fails (the client left), and rethrows', async () => {
    const { prisma, imports, chunks } = fakePrisma()
    async function* leaves() {
      yield* pieces(2 * CHUNK_BYTES, 65_536)
      throw new Error('aborted')
    }
    await expect(storeUpload(prisma, { userId: 'u', kind: 'CONTACTS', format: 'vcard', body: leaves(), now: NOW }, LIMITS)).rejects.toThrow('aborted')
    expect(imports.size).toBe(0)
    expect(chunks).toHaveLength(0)
  })
})
