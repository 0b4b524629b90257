/**
 * The streaming multipart parser (graphql/upload-plugin.ts) on the real schema without a
 * database: Yoga over `yoga.fetch`, Prisma's import tables in memory. The file reaches upload
 * storage in chunks while the request is parsed, the mutation takes it, and every malformed
 * request is refused with its code, never a 500.
 */
import fc from 'fast-check'
import { createYoga } from 'graphql-yoga'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import type { GraphQLContext } from '../../src/graphql/context.ts'
import { maskError, useClientErrors } from '../../src/graphql/errors.ts'
import { schema } from '../../src/graphql/schema.ts'
import { useStreamingUploads } from '../../src/graphql/upload-plugin.ts'
import { useCsrfPreventionForBodies } from '../../src/http/csrf.ts'
import { yogaLimitOptions } from '../../src/graphql/limits/index.ts'
import { parseConfig } from '../../src/config.ts'
import { isMultipartPost } from '../../src/graphql/upload-plugin.ts'
import { CHUNK_BYTES } from '../../src/imports/upload.ts'

const silent = pino({ level: 'silent' })
const USER = '01890000-0000-7000-8000-000000000001'

function memoryPrisma() {
  const imports = new Map<string, Record<string, any>>()
  const chunks: { importId: string; seq: number; size: number }[] = []
  let ids = 0
  const prisma: Record<string, unknown> = {
    // The upload's reservation (a transaction with a lock on the user), run as it is.
    $transaction: async (work: (tx: unknown) => Promise<unknown>) => work(prisma),
    $queryRaw: async () => [],
    import: {
      count: async () => 0,
      create: async ({ data }: any) => {
        const id = `01890000-0000-7000-8000-${String(++ids).padStart(12, '0')}`
        imports.set(id, { id, done: 0, created: 0, updated: 0, unchanged: 0, rejected: 0, total: null, startedAt: null, finishedAt: null, createdAt: new Date(), ...data })
        return { id }
      },
      update: async ({ where, data }: any) => imports.set(where.id, { ...imports.get(where.id), ...data }),
      deleteMany: async ({ where }: any) => {
        const had = imports.delete(where.id)
        return { count: had ? 1 : 0 }
      },
      findFirst: async ({ where }: any) => {
        const row = imports.get(where.id)
        return row && row.userId === where.userId ? row : null
      },
    },
    importChunk: { create: async ({ data }: any) => void chunks.push({ importId: data.importId, seq: data.seq, size: data.data.byteLength }) },
  }
  return { prisma: prisma as unknown as PrismaClient, imports, chunks }
}

function server(maxBytes = 4 * 1024 * 1024) {
  const memory = memoryPrisma()
  const enqueued: string[] = []
  const config = parseConfig({ NODE_ENV: 'test' })
  const limits = { maxBytes, maxInFlight: 3, maxPerDay: 100 }
  const requestLimits = yogaLimitOptions(config.requestLimits, true, isMultipartPost)
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    maskedErrors: { maskError: maskError(silent), isDev: false },
    ...requestLimits,
    plugins: [
      useClientErrors(silent),
      useCsrfPreventionForBodies(),
      ...requestLimits.plugins,
      useStreamingUploads({
        prisma: memory.prisma,
        userIdOfRequest: async (request) => (request.headers.get('authorization') === 'Bearer ok' ? USER : null),
        limits,
        maxFieldBytes: 80_000,
        maxTokens: 1000,
        now: () => new Date(),
        logger: silent,
      }),
    ],
    context: async ({ request }: { request: Request }) =>
      ({
        prisma: memory.prisma,
        userId: request.headers.get('authorization') === 'Bearer ok' ? USER : null,
        logger: silent,
        requestId: 'r',
        imports: { limits, enqueue: async (id: string) => void enqueued.push(id) },
      }) as unknown as GraphQLContext,
  })
  return { yoga, ...memory, enqueued }
}

const OPERATIONS = { query: 'mutation($file: File!) { importContacts(file: $file) { id status format } }', variables: { file: null } }

function form(operations: unknown, file: { content: BlobPart; type?: string; name?: string } | null, map: unknown = { 0: ['variables.file'] }) {
  const data = new FormData()
  data.append('operations', JSON.stringify(operations))
  data.append('map', JSON.stringify(map))
  if (file) data.append('0', new Blob([file.content], { type: file.type ?? 'text/vcard' }), file.name ?? 'a.vcf')
  return data
}

async function send(yoga: ReturnType<typeof server>['yoga'], body: BodyInit, headers: Record<string, string> = {}) {
  const response = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1', authorization: 'Bearer ok', ...headers }, body })
  return { status: response.status, body: (await response.json()) as any }
}

describe('the streaming multipart parser', () => {
  it('stores the file in CHUNK_BYTES chunks and the mutation answers the QUEUED Import and queues its job', async () => {
    const { yoga, chunks, imports, enqueued } = server()
    const content = `BEGIN:VCARD\n${'x'.repeat(2.5 * 1024 * 1024)}\nEND:VCARD\n`
    const { status, body } = await send(yoga, form(OPERATIONS, { content }))
    expect(body.errors).toBeUndefined()
    expect(status).toBe(200)
    expect(body.data.importContacts).toMatchObject({ status: 'QUEUED', format: 'VCARD'.toLowerCase() })
    const whole = Math.floor(content.length / CHUNK_BYTES)
    expect(chunks.map((chunk) => chunk.size)).toEqual([...Array.from({ length: whole }, () => CHUNK_BYTES), content.length - whole * CHUNK_BYTES])
    expect(imports.size).toBe(1)
    expect(enqueued).toHaveLength(1)
  })

  it('refuses with the right status and code, storing nothing', async () => {
    const { yoga, imports } = server(1024 * 1024)
    const vcard = { content: 'BEGIN:VCARD\nEND:VCARD\n' }
    const cases: [BodyInit, Record<string, string>, number, string][] = [
      [form(OPERATIONS, vcard), { authorization: 'Bearer nope' }, 401, 'UNAUTHENTICATED'],
      [form(OPERATIONS, { content: 'BEGIN:VCALENDAR\n' }), {}, 415, 'BAD_USER_INPUT'],
      [form(OPERATIONS, { content: 'BEGIN:VCARD\n' + 'x'.repeat(1024 * 1024) }), {}, 413, 'BAD_REQUEST'],
      [form(OPERATIONS, { content: '' }), {}, 400, 'BAD_USER_INPUT'],
      [form(OPERATIONS, null), {}, 400, 'BAD_REQUEST'],
      [form({ query: '{ me { email } }' }, vcard), {}, 400, 'BAD_USER_INPUT'],
      [form([OPERATIONS], vcard), {}, 400, 'BAD_REQUEST'],
      [form(OPERATIONS, vcard, { 0: ['variables.file'], 1: ['variables.x'] }), {}, 400, 'BAD_REQUEST'],
      [form(OPERATIONS, vcard, { 0: ['variables.input.file'] }), {}, 400, 'BAD_REQUEST'],
      [form({ query: 'mutation($file: File!) { importCalendar(file: $file) { id } }', variables: {} }, vcard), {}, 415, 'BAD_USER_INPUT'],
      [form({ query: 'mutation($file: File!) { importContacts(file: $file) { id' }, vcard), {}, 400, 'BAD_USER_INPUT'],
    ]
    for (const [body, headers, status, code] of cases) {
      const result = await send(yoga, body, headers)
      expect(result.body.errors?.[0]?.extensions?.code, JSON.stringify(result.body)).toBe(code)
      expect(result.status).toBe(status)
    }
    expect(imports.size).toBe(0)
  })

  it('deletes an upload no mutation took (the operation failed validation)', async () => {
    const { yoga, imports } = server()
    const result = await send(yoga, form({ query: 'mutation($file: File!) { importContacts(file: $file) { nope } }', variables: {} }, { content: 'BEGIN:VCARD\n' }))
    expect(result.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED')
    await new Promise((resolve) => setImmediate(resolve))
    expect(imports.size).toBe(0)
  })

  it('property: random multipart bodies never give a 5xx nor INTERNAL_SERVER_ERROR', async () => {
    const { yoga } = server(64 * 1024)
    const part = (name: string, value: string, file?: string) =>
      `Content-Disposition: form-data; name="${name}"${file === undefined ? '' : `; filename="${file}"\r\nContent-Type: text/vcard`}\r\n\r\n${value}\r\n`
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(JSON.stringify(OPERATIONS)), fc.json({ maxDepth: 2 }), fc.string({ maxLength: 100 })),
        fc.oneof(fc.constant('{"0":["variables.file"]}'), fc.json({ maxDepth: 2 }), fc.string({ maxLength: 30 })),
        fc.oneof(fc.constant('BEGIN:VCARD\nEND:VCARD'), fc.string({ maxLength: 200 })),
        fc.array(fc.constantFrom('operations', 'map', 'file', 'extra', 'file2'), { maxLength: 5 }),
        fc.boolean(),
        async (ops, map, file, order, truncate) => {
          const sections = (order.length > 0 ? order : ['operations', 'map', 'file']).map((which) =>
            which === 'operations' ? part('operations', ops) : which === 'map' ? part('map', map) : which === 'file' ? part('0', file, 'a.vcf') : which === 'file2' ? part('1', file, 'b.vcf') : part('extra', 'x'),
          )
          let text = `${sections.map((section) => `--b0\r\n${section}`).join('')}--b0--\r\n`
          if (truncate) text = text.slice(0, Math.floor(text.length / 2))
          const result = await send(yoga, text, { 'content-type': 'multipart/form-data; boundary=b0' })
          expect(result.status, JSON.stringify(result.body)).toBeLessThan(500)
          expect(JSON.stringify(result.body)).not.toMatch(/INTERNAL_SERVER_ERROR/)
        },
      ),
      { numRuns: 200, seed: 11 },
    )
  })
})
