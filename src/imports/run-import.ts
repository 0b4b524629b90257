/**
 * The import job: reads an Import's stored chunks in order (one at a time from the database),
 * feeds them to the format's reader, hands its records to the format's writer in batches, and
 * checkpoints after each batch. Run by the jobs layer (`enqueueImport`), on any process.
 *
 * **Checkpoint.** The writer commits a batch in its own transaction; the checkpoint (the counts,
 * `done`, the batch's ImportError rows) is a second one right after. A crash between the two
 * re-applies that batch on resume: the writers deduplicate (same external id, e-mail or phone;
 * events by UID), so the batch's records come back `unchanged` and nothing is doubled. The one
 * cost is the report: the records of that batch count as unchanged rather than created or
 * updated. `done` counts records read (accepted and rejected), so a resumed run skips exactly
 * the records already checkpointed.
 *
 * **Read-ahead.** While a batch is written, the reader parses the next one (two batches in memory
 * at most); batches are written one at a time and in order, so the checkpoints stay a prefix of
 * the file.
 *
 * **Outcomes.** A reader that throws (the file is not what it claims, past what the record-level
 * rejections handle): FAILED at once with its message. Anything else (the database, the writer):
 * thrown to the runner, which retries; the next attempt resumes from the checkpoint, and the
 * final one marks the import FAILED with what was written. Finished: SUCCEEDED with `finishedAt`
 * and `total`; either way the chunks are deleted in the same transaction as the final status.
 *
 * **Announcements.** Live suggestion subscribers of the user hear ONE change when the import
 * ends (when it created or updated anything), and at most one per {@link ANNOUNCE_EVERY_MS}
 * while it runs: not one per record.
 */
import type { ImportKind, PrismaClient } from '../generated/prisma/client.ts'
import type { AnnounceChange } from '../changes/announce.ts'
import { publishImportProgress, type ChangePubSub } from '../pubsub/changes.ts'
import type { Logger } from '../logger.ts'
import { turnGiver } from './turns.ts'
import type { ImportCounts, ImportedContact, ImportedEvent, Rejected } from './types.ts'

/** Records handed to the writer at once (one transaction). */
export const DEFAULT_BATCH_SIZE = 500
/** While an import runs, the user's live streams hear of it at most this often (ms). */
export const ANNOUNCE_EVERY_MS = 5000
/** ImportError rows kept per import; past it the rejections are counted but not itemised. */
export const MAX_STORED_ERRORS = 10_000

/** What a format's reader and writer look like to the job (the readers and writers in contacts/ and calendar/ fit it). */
export interface ImportFormatHandler<R> {
  /** The records of the file, in order, one at a time; a bad record is a {@link Rejected}, the rest go on. */
  read(chunks: AsyncIterable<Uint8Array>, format: string, signal: AbortSignal): AsyncIterable<R | Rejected>
  /** Applies one batch in one transaction (idempotent: re-applying it changes nothing). */
  apply(prisma: PrismaClient, userId: string, records: R[], now: Date): Promise<{ counts: ImportCounts; rejected: Rejected[] }>
}

/** The reader and writer of each kind of import. */
export interface ImportFormats {
  CONTACTS: ImportFormatHandler<ImportedContact>
  CALENDAR: ImportFormatHandler<ImportedEvent>
}

export interface ImportRunDeps {
  prisma: PrismaClient
  formats: ImportFormats
  /** Tells the user's live streams (and the regeneration job) that their data changed. */
  announce: AnnounceChange
  /** Where progress is published for `importProgress`. */
  pubsub: ChangePubSub
  now: () => Date
  logger: Logger
  batchSize?: number
  announceEveryMs?: number
  maxStoredErrors?: number
}

/** One run of the job: which attempt, whether it is the last, and the runner's stop signal. */
export interface ImportAttempt {
  attempt: number
  /** The last attempt: a failure marks the import FAILED instead of leaving it for a retry. */
  final: boolean
  signal: AbortSignal
}

export interface ImportRunResult {
  importId: string
  status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED'
  /** Records read in this run (after the resumed-from checkpoint). */
  records: number
  durationMs: number
}

/** The kind of change an import of this kind announces. */
const ANNOUNCED: Record<ImportKind, 'contact' | 'calendar'> = { CONTACTS: 'contact', CALENDAR: 'calendar' }

/** Wraps the stored chunks so an error of ours (the database) is told apart from the reader's own. */
class ChunkSourceError extends Error {
  override name = 'ChunkSourceError'
}

/** The stored chunks of `importId` in seq order, each read from the database when the reader asks for it. */
export async function* storedChunks(prisma: PrismaClient, importId: string): AsyncGenerator<Uint8Array, void, undefined> {
  for (let seq = 0; ; seq++) {
    let row: { data: Uint8Array } | null
    try {
      row = await prisma.importChunk.findUnique({ where: { importId_seq: { importId, seq } }, select: { data: true } })
    } catch (error) {
      throw new ChunkSourceError('reading the stored file failed', { cause: error })
    }
    if (!row) return
    yield row.data
  }
}

/**
 * Runs (or resumes) the import `importId`; see the module comment for what it guarantees.
 * Resolves with the outcome (SKIPPED: it had already ended, or is gone); rejects with a
 * retryable error (the status stays RUNNING unless `attempt.final`).
 */
export async function runImport(deps: ImportRunDeps, importId: string, attempt: ImportAttempt): Promise<ImportRunResult> {
  const started = performance.now()
  const { prisma, logger } = deps
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE
  const announceEveryMs = deps.announceEveryMs ?? ANNOUNCE_EVERY_MS
  const maxStoredErrors = deps.maxStoredErrors ?? MAX_STORED_ERRORS
  const log = logger.child({ importId })

  const row = await prisma.import.findUnique({ where: { id: importId } })
  if (!row || (row.status !== 'QUEUED' && row.status !== 'RUNNING')) {
    return { importId, status: 'SKIPPED', records: 0, durationMs: performance.now() - started }
  }
  const { userId, kind } = row
  const handler = deps.formats[kind] as ImportFormatHandler<ImportedContact | ImportedEvent>
  await prisma.import.update({ where: { id: importId }, data: { status: 'RUNNING', startedAt: row.startedAt ?? deps.now(), error: null } })
  let done = row.done
  let storedErrors = row.rejected
  publishImportProgress(deps.pubsub, importId, { status: 'RUNNING', done })

  let lastAnnounce = deps.now().getTime()
  let changedSinceAnnounce = false
  let changed = row.created + row.updated > 0
  const announceNow = () => {
    deps.announce(userId, ANNOUNCED[kind])
    lastAnnounce = deps.now().getTime()
    changedSinceAnnounce = false
  }

  let records: (ImportedContact | ImportedEvent)[] = []
  let rejected: Rejected[] = []
  let read = 0
  /** The batch being written while the next one is read: batches are written one at a time, in order. */
  let writing: Promise<void> = Promise.resolve()

  /** Writes one batch, then its checkpoint (see the module comment). */
  const checkpoint = async (records: (ImportedContact | ImportedEvent)[], rejected: Rejected[]) => {
    attempt.signal.throwIfAborted()
    const applied = records.length > 0 ? await handler.apply(prisma, userId, records, deps.now()) : { counts: zeroCounts(), rejected: [] }
    const batchDone = records.length + rejected.length
    const allRejected = [...rejected, ...applied.rejected]
    const keep = allRejected.slice(0, Math.max(0, maxStoredErrors - storedErrors))
    await prisma.$transaction([
      prisma.import.update({
        where: { id: importId },
        data: {
          done: { increment: batchDone },
          created: { increment: applied.counts.created },
          updated: { increment: applied.counts.updated },
          unchanged: { increment: applied.counts.unchanged },
          rejected: { increment: rejected.length + applied.counts.rejected },
        },
      }),
      ...(keep.length > 0 ? [prisma.importError.createMany({ data: keep.map((error) => errorRow(importId, error)) })] : []),
    ])
    done += batchDone
    storedErrors += allRejected.length
    if (applied.counts.created + applied.counts.updated > 0) {
      changed = true
      changedSinceAnnounce = true
    }
    publishImportProgress(deps.pubsub, importId, { status: 'RUNNING', done })
    if (changedSinceAnnounce && deps.now().getTime() - lastAnnounce >= announceEveryMs) announceNow()
  }

  /**
   * Hands the batch read so far to the writer once the batch before it is written, and returns without
   * waiting for it: the reader parses the next batch (JavaScript) while PostgreSQL writes this one. A
   * failed write is thrown by the next `flush` or `drain`.
   */
  const flush = async () => {
    if (records.length === 0 && rejected.length === 0) return
    await writing
    writing = checkpoint(records, rejected)
    writing.catch(() => {})
    records = []
    rejected = []
  }
  /** Hands over what is left and waits until every batch is written. */
  const drain = async () => {
    await flush()
    await writing
  }

  try {
    let index = 0
    const giveTurn = turnGiver()
    const records$ = handler.read(storedChunks(prisma, importId), row.format, attempt.signal)[Symbol.asyncIterator]()
    let readerError: unknown
    let ended = false
    try {
      for (;;) {
        // Only the reader's own errors are caught here; a checkpoint's (the writer, the database) go to the retry.
        let next: IteratorResult<ImportedContact | ImportedEvent | Rejected>
        try {
          next = await records$.next()
        } catch (error) {
          readerError = error
          ended = true
          break
        }
        if (next.done) {
          ended = true
          break
        }
        index++
        // The reader runs on promises alone (a file of thousands of cards is parsed between two reads of the database): give the event loop a turn now and then, so
        // that the writer's answers, the server's requests and timers are not held behind a whole chunk.
        await giveTurn()
        // Resuming: the first `done` records were checkpointed by an earlier run.
        if (index <= row.done) continue
        read++
        if (next.value.kind === 'rejected') rejected.push(next.value)
        else records.push(next.value)
        if (records.length >= batchSize || rejected.length >= batchSize) await flush()
      }
    } finally {
      if (!ended) await records$.return?.(undefined).catch(() => {})
    }
    if (readerError !== undefined) {
      if (readerError instanceof ChunkSourceError || attempt.signal.aborted || !isReaderError(readerError)) throw readerError
      // The reader gave up on the file: what was read before stays, the import fails with why.
      await drain()
      await finish('FAILED', `The file could not be read: ${clip(readerError instanceof Error ? readerError.message : String(readerError), 500)}`)
      log.info({ err: readerError, done }, 'import failed: unreadable file')
      return { importId, status: 'FAILED', records: read, durationMs: performance.now() - started }
    }
    await drain()
    await finish('SUCCEEDED', null)
    log.info({ done, durationMs: performance.now() - started }, 'import finished')
    return { importId, status: 'SUCCEEDED', records: read, durationMs: performance.now() - started }
  } catch (error) {
    // A batch may still be in the writer: its checkpoint lands (or fails) before the import is marked.
    await writing.catch(() => {})
    if (attempt.final && !attempt.signal.aborted) {
      await finish('FAILED', `The import stopped after ${done} records on an error of the server; what was imported stays. Import the file again to finish it (nothing is doubled).`).catch(
        (finishError: unknown) => log.error({ err: finishError }, 'could not mark the import failed'),
      )
    }
    throw error
  }

  /** The final status and the deletion of the file, in one transaction; then one announcement. */
  async function finish(status: 'SUCCEEDED' | 'FAILED', error: string | null) {
    await prisma.$transaction([
      prisma.import.update({
        where: { id: importId },
        data: { status, error, finishedAt: deps.now(), ...(status === 'SUCCEEDED' ? { total: done } : {}) },
      }),
      prisma.importChunk.deleteMany({ where: { importId } }),
    ])
    publishImportProgress(deps.pubsub, importId, { status, done })
    if (changed) announceNow()
  }
}

/**
 * Whether an error thrown while reading comes from the reader's judgement of the file (FAILED
 * at once) rather than from the server (retried). A bug of ours (a TypeError, a RangeError from
 * a runaway recursion) is the server's.
 */
function isReaderError(error: unknown): boolean {
  return error instanceof Error && !(error instanceof TypeError) && !(error instanceof ReferenceError)
}

function zeroCounts(): ImportCounts {
  return { created: 0, updated: 0, unchanged: 0, rejected: 0 }
}

/** Text PostgreSQL stores as given: without NUL and lone surrogates, and clipped. */
function storable(text: string, max: number): string {
  return clip(text.replaceAll('\u0000', '\uFFFD').replace(/\p{Cs}/gu, '\uFFFD'), max)
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function errorRow(importId: string, error: Rejected) {
  return {
    importId,
    position: Number.isSafeInteger(error.position) && Math.abs(error.position) <= 2 ** 31 - 1 ? error.position : 0,
    field: error.field === undefined ? null : storable(error.field, 100),
    reason: storable(error.reason, 500),
    raw: error.raw === undefined ? null : storable(error.raw, 2048),
  }
}
