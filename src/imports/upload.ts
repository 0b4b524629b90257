/**
 * Upload storage: an import's file goes from the request body into `ImportChunk` rows of at
 * most {@link CHUNK_BYTES} (seq 0..n), so that any process can run the import later and the
 * server never holds more than one chunk of it. Both ways in use it: `POST /import/*`
 * (http/import-routes.ts) and the multipart `importContacts` / `importCalendar` mutations
 * (graphql/upload-plugin.ts).
 *
 * The order of checks, each refusal a {@link UploadRefused} (a ClientError with its HTTP status):
 * 1. the user's imports in flight (QUEUED or RUNNING, {@link UploadLimits.maxInFlight}) and
 *    started in the last 24 hours ({@link UploadLimits.maxPerDay}): 429 RATE_LIMITED;
 * 2. the first chunk, before anything is written: empty body 400 BAD_USER_INPUT, content that is
 *    not the format (binary, a vCard without BEGIN:VCARD...) 415 BAD_USER_INPUT;
 * 3. the size while it streams: past `maxBytes` the read stops, what was written is deleted,
 *    413 BAD_REQUEST.
 *
 * While the upload runs the Import row says FAILED with {@link UPLOAD_INTERRUPTED}: a process
 * that dies mid-upload leaves an import with a status that tells the truth, never a QUEUED one
 * that a restart would run on half a file. The last write turns it QUEUED with its byte size.
 */
import type { ImportKind, PrismaClient } from '../generated/prisma/client.ts'
import { ClientError, type ClientErrorCode } from '../errors.ts'
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../time.ts'
import type { CalendarFormat, ContactFormat } from './types.ts'

/**
 * The largest piece of a file stored in one row (64 KiB). Small, because the embedded PGlite writes a
 * bytea on this thread at about 1 s per MiB: a 1 MiB row held the event loop for a second (the hostile
 * review saw /health take 8 s during a 10 MB upload); 64 KiB is ~65 ms a row. PostgreSQL does not care.
 */
export const CHUNK_BYTES = 64 * 1024

/** What an Import row says while its file is still arriving (and forever if the upload died). */
export const UPLOAD_INTERRUPTED = 'The upload did not finish; nothing was imported. Upload the file again.'

export type ImportFormat = ContactFormat | CalendarFormat

/** The formats each kind of import accepts. */
export const FORMATS_OF: Record<ImportKind, readonly ImportFormat[]> = {
  CONTACTS: ['vcard', 'csv', 'csv-google', 'csv-outlook'],
  CALENDAR: ['ics'],
}

/** Per-user limits on uploads (the byte limit is IMPORT_MAX_BYTES). */
export interface UploadLimits {
  /** Largest file, bytes. */
  maxBytes: number
  /** Imports of a user QUEUED or RUNNING at once (default {@link DEFAULT_MAX_IMPORTS_IN_FLIGHT}). */
  maxInFlight: number
  /** Imports a user may start in 24 hours (default {@link DEFAULT_MAX_IMPORTS_PER_DAY}). */
  maxPerDay: number
}

/** Three imports at once: contacts and a calendar together, and one more, not a flood of jobs. */
export const DEFAULT_MAX_IMPORTS_IN_FLIGHT = 3
/** Imports a user may start in 24 hours: generous for a person, a bound for a script (each holds up to IMPORT_MAX_BYTES). */
export const DEFAULT_MAX_IMPORTS_PER_DAY = 100

/** A refused upload: a ClientError that also says which HTTP status the route answers. */
export class UploadRefused extends ClientError {
  constructor(
    code: ClientErrorCode,
    message: string,
    /** 400, 413, 415 or 429. */
    readonly status: number,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details)
  }
}

/** What to store: whose, which kind and format, and the body. */
export interface UploadRequest {
  userId: string
  kind: ImportKind
  format: ImportFormat
  /** The bytes as they arrive (a request body: Node streams and web ReadableStreams are both async iterable). */
  body: AsyncIterable<Uint8Array>
  now: Date
}

/** The stored upload: the new QUEUED Import's id and its size in bytes. */
export interface StoredUpload {
  id: string
  byteSize: number
}

/** An upload that sends nothing for this long is cut (408 BAD_REQUEST): a held-open request costs a slot and a socket. */
export const UPLOAD_IDLE_MS = 30 * SECOND_MS
/** The longest an upload may take (100 MB at about 1 Mbit/s); until then its row counts as in flight. */
export const UPLOAD_MAX_MS = 15 * MINUTE_MS

/**
 * Reserves an Import row for an upload about to be read (FAILED with {@link UPLOAD_INTERRUPTED} until it
 * is whole), or refuses it (429 RATE_LIMITED with `retryAfterSeconds`) when the user has
 * {@link UploadLimits.maxInFlight} imports in flight (QUEUED, RUNNING, or still uploading: a row of the
 * last {@link UPLOAD_MAX_MS} waiting for its file) or started {@link UploadLimits.maxPerDay} in 24 hours.
 * The user's row is locked while counting, so uploads racing each other are counted one after the other.
 */
export async function reserveUpload(prisma: PrismaClient, request: Omit<UploadRequest, 'body'>, limits: UploadLimits): Promise<string> {
  const { userId, now } = request
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
    const [inFlight, today] = await Promise.all([
      tx.import.count({
        where: {
          userId,
          OR: [{ status: { in: ['QUEUED', 'RUNNING'] } }, { status: 'FAILED', error: UPLOAD_INTERRUPTED, createdAt: { gt: new Date(now.getTime() - UPLOAD_MAX_MS) } }],
        },
      }),
      tx.import.count({ where: { userId, createdAt: { gt: new Date(now.getTime() - DAY_MS) } } }),
    ])
    if (inFlight >= limits.maxInFlight) {
      throw new UploadRefused('RATE_LIMITED', `At most ${limits.maxInFlight} imports may run at once: wait for one to finish.`, 429, {
        limit: limits.maxInFlight,
        retryAfterSeconds: 10,
      })
    }
    if (today >= limits.maxPerDay) {
      throw new UploadRefused('RATE_LIMITED', `At most ${limits.maxPerDay} imports a day.`, 429, { limit: limits.maxPerDay, retryAfterSeconds: HOUR_MS / SECOND_MS })
    }
    const created = await tx.import.create({
      data: { userId, kind: request.kind, format: request.format, status: 'FAILED', error: UPLOAD_INTERRUPTED, byteSize: 0, createdAt: now },
      select: { id: true },
    })
    return created.id
  })
}

/** The next piece of `iterator`, or a 408 refusal when none comes within `idleMs` or before `deadline` (ms, `performance.now()`). */
async function nextPiece<T>(iterator: AsyncIterator<T>, idleMs: number, deadline: number): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined
  const wait = Math.max(0, Math.min(idleMs, deadline - performance.now()))
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UploadRefused('BAD_REQUEST', `The upload stalled (nothing for ${idleMs / SECOND_MS} s) or took longer than ${UPLOAD_MAX_MS / MINUTE_MS} minutes.`, 408)), wait)
  })
  try {
    return await Promise.race([iterator.next(), stalled])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Streams `body` into a new Import (QUEUED when this resolves) and its chunks, after
 * {@link reserveUpload} and the content check of the first chunk ({@link checkContent}).
 * Holds at most one chunk ({@link CHUNK_BYTES}) plus the piece being read. Throws an
 * {@link UploadRefused} (400 empty, 408 stalled, 413 too large, 415 not the format, 429 too many)
 * having deleted whatever it wrote; an error of the body (the client left) is rethrown the same way.
 * Does not enqueue the job: the caller does (see `enqueueImport`).
 */
export async function storeUpload(prisma: PrismaClient, request: UploadRequest, limits: UploadLimits): Promise<StoredUpload> {
  if (!FORMATS_OF[request.kind].includes(request.format)) {
    throw new UploadRefused('BAD_USER_INPUT', `A ${request.kind.toLowerCase()} import does not take the format ${request.format}.`, 415, { field: 'format' })
  }
  const importId = await reserveUpload(prisma, request, limits)
  const tooLarge = () => new UploadRefused('BAD_REQUEST', `The file is larger than ${limits.maxBytes} bytes (IMPORT_MAX_BYTES).`, 413, { limit: limits.maxBytes })
  const deadline = performance.now() + UPLOAD_MAX_MS

  let seq = 0
  let total = 0
  let chunk = new Uint8Array(CHUNK_BYTES)
  let filled = 0

  const flush = async () => {
    if (filled === 0) return
    const data = filled === CHUNK_BYTES ? chunk : chunk.slice(0, filled)
    if (seq === 0) checkContent(request.format, data)
    await prisma.importChunk.create({ data: { importId, seq, data } })
    seq += 1
    // A fresh chunk: the written one may still be referenced by the driver.
    chunk = new Uint8Array(CHUNK_BYTES)
    filled = 0
  }

  const iterator = request.body[Symbol.asyncIterator]()
  try {
    for (;;) {
      const next = await nextPiece(iterator, UPLOAD_IDLE_MS, deadline)
      if (next.done) break
      const piece = toBytes(next.value)
      total += piece.byteLength
      if (total > limits.maxBytes) throw tooLarge()
      let offset = 0
      while (offset < piece.byteLength) {
        const take = Math.min(CHUNK_BYTES - filled, piece.byteLength - offset)
        chunk.set(piece.subarray(offset, offset + take), filled)
        filled += take
        offset += take
        if (filled === CHUNK_BYTES) await flush()
      }
    }
    if (total === 0) throw new UploadRefused('BAD_USER_INPUT', 'The file is empty.', 400)
    await flush()
    await prisma.import.update({ where: { id: importId }, data: { status: 'QUEUED', error: null, byteSize: total } })
    return { id: importId, byteSize: total }
  } catch (error) {
    // Stop reading (a Node request stream is destroyed by return()), and forget what was written.
    void Promise.resolve(iterator.return?.()).catch(() => {})
    await prisma.import.deleteMany({ where: { id: importId } }).catch(() => {})
    throw error
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return new TextEncoder().encode(value)
  throw new TypeError('an upload body must yield bytes')
}

const UTF8_BOM = [0xef, 0xbb, 0xbf]

/** The first chunk's text after a UTF-8 BOM and leading whitespace, at most `length` characters. */
function leadingText(data: Uint8Array, length: number): string {
  let start = data[0] === UTF8_BOM[0] && data[1] === UTF8_BOM[1] && data[2] === UTF8_BOM[2] ? 3 : 0
  while (start < data.length && (data[start] === 0x20 || data[start] === 0x09 || data[start] === 0x0d || data[start] === 0x0a)) start++
  return new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(start, start + length))
}

/** Control characters that text files do not contain (tab, LF, FF and CR aside). */
function hasBinaryBytes(data: Uint8Array): boolean {
  for (const byte of data) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) return true
  return false
}

/**
 * The content check of a file's first chunk (at most {@link CHUNK_BYTES}): is it the format it
 * claims? A vCard starts with `BEGIN:VCARD`, an iCalendar file with `BEGIN:VCALENDAR` (after an
 * optional UTF-8 BOM and whitespace); a CSV is text whose first line (within the chunk) has a
 * delimiter (`,` `;` or tab). Any NUL or other control byte: binary. Throws 415 BAD_USER_INPUT.
 * Whether the text is valid UTF-8 is left to the readers (a bad record is rejected with its position).
 */
export function checkContent(format: ImportFormat, data: Uint8Array): void {
  const refuse = (why: string) => new UploadRefused('BAD_USER_INPUT', `The file is not ${DESCRIPTIONS[format]}: ${why}.`, 415, { field: 'file' })
  if (hasBinaryBytes(data)) throw refuse('it has binary content')
  if (format === 'vcard' || format === 'ics') {
    const begin = format === 'vcard' ? 'BEGIN:VCARD' : 'BEGIN:VCALENDAR'
    if (!leadingText(data, begin.length).toUpperCase().startsWith(begin)) throw refuse(`it does not start with ${begin}`)
    return
  }
  const text = leadingText(data, CHUNK_BYTES)
  const newline = text.search(/\r?\n/)
  const firstLine = newline === -1 ? text : text.slice(0, newline)
  if (!/[,;\t]/.test(firstLine)) throw refuse('its first line has no delimiter (comma, semicolon or tab)')
}

const DESCRIPTIONS: Record<ImportFormat, string> = {
  vcard: 'a vCard file',
  csv: 'a CSV file',
  'csv-google': 'a CSV file',
  'csv-outlook': 'a CSV file',
  ics: 'an iCalendar file',
}

/**
 * The format of an upload: `?format=` when given (it must be one of the kind's), else from the
 * Content-Type (`text/vcard`, `text/x-vcard`, `text/directory`: vCard; `text/csv`, and
 * `text/comma-separated-values`: CSV; `text/calendar`: iCalendar). Throws 415 BAD_USER_INPUT.
 */
export function formatOfUpload(kind: ImportKind, contentType: string | null, formatParameter: string | null): ImportFormat {
  const accepted = FORMATS_OF[kind]
  if (formatParameter !== null) {
    if ((accepted as readonly string[]).includes(formatParameter)) return formatParameter as ImportFormat
    throw new UploadRefused('BAD_USER_INPUT', `format must be one of ${accepted.join(', ')}.`, 415, { field: 'format' })
  }
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const format = MEDIA_TYPES[mediaType]
  if (format !== undefined && (accepted as readonly string[]).includes(format)) return format
  const expected = kind === 'CONTACTS' ? 'text/vcard or text/csv' : 'text/calendar'
  throw new UploadRefused('BAD_USER_INPUT', `Send the file with Content-Type ${expected} (or ?format=${accepted.join('|')}).`, 415, { field: 'content-type' })
}

const MEDIA_TYPES: Record<string, ImportFormat> = {
  'text/vcard': 'vcard',
  'text/x-vcard': 'vcard',
  'text/directory': 'vcard',
  'text/csv': 'csv',
  'text/comma-separated-values': 'csv',
  'text/calendar': 'ics',
}
