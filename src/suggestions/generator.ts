/**
 * The suggestion engine: the exact top-K contacts by priority, streamed in rank
 * order as soon as each is certain, with a slot for each, in memory
 * O(classes x pageSize + K) whatever the number of contacts.
 *
 * How: the priority depends on a contact's class (Dunbar circle x frequency
 * preference: 6 x 8 = 48 classes) and, within a class, only decreases as
 * `nextDueAt` grows (priority.ts). So each class is one keyset stream ordered
 * by `nextDueAt` over the index `(userId, dunbarCircle, frequencyPreference,
 * nextDueAt, id)`, and the head of a class bounds every unread contact of it.
 * The pure threshold merge (threshold-merge.ts) decides which contact is final
 * and which class to read next; this module is its shell: it reads the pages
 * the merge asks for, fits a slot to each final contact, and streams batches,
 * under the memory breaker, the walk's time budget and the consumer's pace.
 */
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises'
import { CONTACT_CLASSES, readFirstMinimalPages } from '../contacts/keyset/class-first-pages.ts'
import { streamMinimalContacts, type MinimalContact, type MinimalPage } from '../contacts/keyset/contact-streams.ts'
import type { ContactRowSource } from '../contacts/keyset/minimal-rows.ts'
import { ClientError } from '../errors.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Interval } from '../calendar/free-slots.ts'
import type { BreakerReading, MemoryCircuitBreaker } from '../memory/circuit-breaker.ts'
import type { MemoryMonitor } from '../memory/memory-monitor.ts'
import type { GenerationStats } from '../metrics/metrics.ts'
import { calculatePriority } from './priority.ts'
import { compareRanked } from './ranking.ts'
import { describeReason } from './reason.ts'
import { SlotFitter } from './slot-fitting.ts'
import { loadSuggestionState, type SuggestionState } from './suggestion-status.ts'
import { resumeCursors, type ResumePosition } from '../cursors/resume-cursor.ts'
import { suggestionId } from './suggestion-id.ts'
import { WEEK_MS } from '../time.ts'
import { intBetween, parseInput } from '../validation.ts'
import { ThresholdMerge } from './threshold-merge.ts'

export const DEFAULT_MAX_SUGGESTIONS = 50
export const MAX_SUGGESTIONS = 500
export const DEFAULT_BATCH_SIZE = 100
export const MAX_BATCH_SIZE = 1000

export interface Suggestion {
  /** Stable for the same user, contact and slot. */
  id: string
  contact: MinimalContact
  priority: number
  reason: string
  slot: Interval | null
}

export type SuggestionEvent =
  | { kind: 'batch'; suggestions: Suggestion[]; cursor: string; scanned: number }
  | { kind: 'throttled'; reason: string; heapUsedBytes: number }
  | { kind: 'complete'; total: number; scanned: number; durationMs: number }

export interface GenerateOptions {
  /**
   * Free time to fit suggestions into, as checked by the caller (`subscribe.ts`: at most
   * `maxSlots`, each ending after it starts, none overlapping); default: the user's (see `defaultSlots`).
   */
  slots?: readonly Interval[]
  maxSuggestions?: number
  /** Contacts per page, 1..1000. */
  batchSize?: number
  /** The cursor of the last batch received: continue after it. */
  resumeFrom?: string | null
  signal?: AbortSignal
}

export interface EngineDependencies {
  prisma: PrismaClient
  /** Where the walk's pages are read: prepared statements on the database's connections (the app passes its Database). */
  contactRows: ContactRowSource
  /** The clock; called once per generation (a resumed one reuses its first call's time). */
  now: () => Date
  /** Free slots of the user when the caller passes none (given the user's zone, read once per walk). */
  defaultSlots: (userId: string, now: Date, timezone: string) => Promise<Interval[]>
  breaker?: MemoryCircuitBreaker
  /** Per-slot capacity, default 1. */
  slotCapacity?: number
  /** How long dismissed suggestions keep their contact out, default 7 days. */
  dismissForMs?: number
  /**
   * The statuses in force at `now` (contacts to leave out, slots taken), read once per walk;
   * default: read fresh ({@link loadSuggestionState} over `dismissForMs`). The server passes the
   * cached reader (engine-caches.ts).
   */
  suggestionState?: (userId: string, now: Date) => Promise<SuggestionState>
  /** Pause per page while throttled (default 50 ms), and how long an open breaker may last (default 5 s). */
  throttleDelayMs?: number
  openTimeoutMs?: number
  /** The user's time zone, for contacts without one. */
  userTimezone: (userId: string) => Promise<string>
  /** Peak heap and duration of each generation, recorded into `metrics` when both are given. */
  monitor?: MemoryMonitor
  metrics?: { recordGeneration(stats: GenerationStats): void }
  /** Most slots a client may pass (default {@link DEFAULT_MAX_SLOTS}); `subscribe.ts` refuses more with BAD_USER_INPUT. */
  maxSlots?: number
  /**
   * Milliseconds a walk may work, its waits on the consumer not counted
   * (default {@link DEFAULT_WALK_TIME_BUDGET_MS}); past it the walk ends with a
   * retryable TIMEOUT that carries `resumeFrom` once something was emitted.
   */
  walkTimeBudgetMs?: number
  /** Longest run of synchronous work before the walk lets the event loop serve others (default 5 ms). */
  yieldEveryMs?: number
}

export const DEFAULT_MAX_SLOTS = 1000
export const DEFAULT_WALK_TIME_BUDGET_MS = 10_000

/**
 * A walk's working time: it runs while the walk computes or reads pages and
 * pauses while the walk waits on its consumer (a slow client is not the
 * server's work). `sliceMs` is the synchronous run since the last yield.
 */
class WalkClock {
  private spent = 0
  private since: number | undefined = performance.now()
  private sliceStart = performance.now()

  pause(): void {
    if (this.since !== undefined) this.spent += performance.now() - this.since
    this.since = undefined
  }

  resume(): void {
    this.since = performance.now()
    this.sliceStart = this.since
  }

  /** Working milliseconds so far. */
  spentMs(): number {
    return this.spent + (this.since === undefined ? 0 : performance.now() - this.since)
  }

  sliceMs(): number {
    return performance.now() - this.sliceStart
  }

  /** Lets timers and I/O (such as `/health`) run, then starts a new slice. */
  async yieldToEventLoop(): Promise<void> {
    await yieldToEventLoop()
    this.sliceStart = performance.now()
  }
}

const maxSuggestionsSchema = intBetween(1, MAX_SUGGESTIONS)
const batchSizeSchema = intBetween(1, MAX_BATCH_SIZE)

/**
 * Rows of each class's first page at most. The first pages of all classes come in one statement
 * (48 x 50 = 2,400 rows, a few ms to decode); a class whose top runs past them is refilled with
 * full pages. Sized for K: 500 rows a class (24,000 for a top 500) held every concurrent walk's
 * memory and the event loop (~90 ms of decoding in one turn) for rows the merge mostly never took.
 */
const FIRST_PAGE_MAX_ROWS = 50

/** The walk of a class whose first page was its last. */
async function* noPages(): AsyncGenerator<MinimalPage, void, undefined> {}

/** Builds the engine over its dependencies (database, clock, memory breaker). */
export function createSuggestionEngine(deps: EngineDependencies) {
  const throttleDelayMs = deps.throttleDelayMs ?? 50
  const openTimeoutMs = deps.openTimeoutMs ?? 5000
  const maxSlots = deps.maxSlots ?? DEFAULT_MAX_SLOTS
  const walkTimeBudgetMs = deps.walkTimeBudgetMs ?? DEFAULT_WALK_TIME_BUDGET_MS
  const yieldEveryMs = deps.yieldEveryMs ?? 5
  const suggestionState = deps.suggestionState ?? ((userId: string, now: Date) => loadSuggestionState(deps.prisma, userId, now, deps.dismissForMs ?? WEEK_MS))

  /**
   * Streams the user's top suggestions: `batch` events in rank order (each
   * with the cursor to resume after it), `throttled` events under memory
   * pressure, then `complete`. Stops reading the moment the consumer stops.
   */
  function generateTimeboundSuggestionsStreaming(
    userId: string,
    options: GenerateOptions = {},
  ): AsyncGenerator<SuggestionEvent, void, undefined> {
    const progress = { scanned: 0 }
    const events = generate(userId, options, progress)
    const { monitor, metrics } = deps
    if (!monitor || !metrics) return events
    return monitor.wrapGenerator('suggestion.generation', events, (stats) =>
      metrics.recordGeneration({
        durationMs: stats.durationMs,
        peakHeapUsedBytes: stats.peakHeapUsedBytes,
        contactsProcessed: progress.scanned,
      }),
    )
  }

  async function* generate(
    userId: string,
    options: GenerateOptions,
    progress: { scanned: number },
  ): AsyncGenerator<SuggestionEvent, void, undefined> {
    const started = performance.now()
    const clock = new WalkClock()
    const maxSuggestions = parseInput(maxSuggestionsSchema, options.maxSuggestions ?? DEFAULT_MAX_SUGGESTIONS, 'maxSuggestions')
    const batchSize = parseInput(batchSizeSchema, options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize')
    const { encodeResume, decodeResume } = resumeCursors({ userId, maxSuggestions, slots: options.slots })
    const resume = options.resumeFrom ? decodeResume(options.resumeFrom) : undefined
    const now = resume ? new Date(resume.now) : deps.now()
    const signal = options.signal

    const [{ excluded, taken }, timezone] = await Promise.all([
      suggestionState(userId, now),
      deps.userTimezone(userId),
    ])
    const slots = options.slots ? [...options.slots] : await deps.defaultSlots(userId, now, timezone)
    const fitter = new SlotFitter({ slots, taken, capacityPerSlot: deps.slotCapacity ?? 1, defaultTimezone: timezone })

    let throttled = false
    let initialFill = true
    // The first page of each class only needs to cover the top of it; later pages are full, or a quarter when throttled.
    const pageSize = () => {
      const size = throttled ? Math.max(1, Math.floor(batchSize / 4)) : batchSize
      return initialFill ? Math.min(size, maxSuggestions, FIRST_PAGE_MAX_ROWS) : size
    }
    let scanned = 0
    let emitted = resume?.emitted ?? 0
    let last: ResumePosition | undefined = resume
    // The position of the last suggestion the consumer was given: where an error's `resumeFrom` points, so a
    // retry gets exactly what it did not receive (never `last`, which runs ahead by the batch being built).
    let delivered: ResumePosition | undefined = resume
    let batch: Suggestion[] = []
    const pending: SuggestionEvent[] = [] // throttle notices raised while reading, delivered before the next batch

    /** Consults the breaker before a page: throttle (smaller pages, a pause, a notice) or wait while open. */
    async function guard(): Promise<void> {
      if (!deps.breaker) return
      let reading: BreakerReading = deps.breaker.check()
      if (reading.state === 'open') {
        pending.push({ kind: 'throttled', reason: 'memory pressure: paused', heapUsedBytes: reading.heapUsed })
        try {
          reading = await deps.breaker.waitUntilClosed({ timeoutMs: openTimeoutMs, signal })
        } catch (error) {
          signal?.throwIfAborted()
          throw new ClientError('MEMORY_PRESSURE', 'The server is short of memory; retry with resumeFrom', {
            retryable: true,
            ...(delivered ? { resumeFrom: encodeResume(delivered) } : {}),
            cause: error instanceof Error ? error.message : String(error),
          })
        }
      }
      if (reading.state === 'throttle') {
        if (!throttled) {
          pending.push({ kind: 'throttled', reason: 'memory pressure: slowing down', heapUsedBytes: reading.heapUsed })
        }
        throttled = true
        await sleep(throttleDelayMs, undefined, { signal })
      } else {
        throttled = false
      }
    }

    /** Bounded work per walk: never holds the event loop longer than `yieldEveryMs`, and stops past the budget. */
    async function checkpoint(): Promise<void> {
      if (clock.sliceMs() >= yieldEveryMs) {
        await clock.yieldToEventLoop()
        signal?.throwIfAborted()
      }
      if (clock.spentMs() > walkTimeBudgetMs) {
        throw new ClientError('TIMEOUT', 'This walk took longer than allowed; retry with resumeFrom', {
          retryable: true,
          ...(delivered ? { resumeFrom: encodeResume(delivered) } : {}),
          budgetMs: walkTimeBudgetMs,
        })
      }
    }

    /** Reads the next page of class `index` into the merge (or ends the class). */
    async function readPage(index: number): Promise<void> {
      signal?.throwIfAborted()
      const next = await pages[index]!.next()
      if (next.done) {
        merge.end(index)
      } else {
        merge.feed(index, next.value.rows)
        scanned += next.value.rows.length
        progress.scanned = scanned
      }
    }

    // One keyset stream per class, going on from its first page (all first pages are read in one statement below).
    const pages: AsyncGenerator<MinimalPage, void, undefined>[] = CONTACT_CLASSES.map(() => noPages())
    const merge = new ThresholdMerge<MinimalContact>({
      classCount: CONTACT_CLASSES.length,
      priorityOf: (row) => calculatePriority(row, now),
      exclude: (row) => excluded.has(row.id),
    })

    function takeFinal(row: MinimalContact, priority: number): Suggestion | undefined {
      const slot = fitter.assign(row.timezone)
      // Resuming: everything up to the cursor was delivered; its slots were still taken above.
      if (resume && compareRanked({ id: row.id, priority }, { id: resume.id, priority: resume.priority }) <= 0) return undefined
      return {
        id: suggestionId(row.id, slot),
        contact: row,
        priority,
        reason: describeReason(row, now),
        slot,
      }
    }

    try {
      // The first page of every class, in one statement; each class's walk goes on from its page.
      await guard()
      yield* pending.splice(0)
      signal?.throwIfAborted()
      const firstPages = await readFirstMinimalPages(deps.contactRows, userId, CONTACT_CLASSES, pageSize())
      firstPages.forEach(({ rows, after }, index) => {
        if (rows.length === 0) merge.end(index)
        else merge.feed(index, rows)
        scanned += rows.length
        if (after) pages[index] = streamMinimalContacts(deps.contactRows, { userId, where: CONTACT_CLASSES[index], pageSize, after, signal })
      })
      progress.scanned = scanned
      initialFill = false
      for (;;) {
        await checkpoint()
        const step = merge.step()
        if (step.kind === 'done') break
        if (step.kind === 'took') continue
        if (step.kind === 'final') {
          const suggestion = takeFinal(step.row, step.priority)
          if (!suggestion) continue
          batch.push(suggestion)
          emitted++
          last = { now: now.getTime(), emitted, priority: suggestion.priority, id: suggestion.contact.id }
          if (emitted >= maxSuggestions) break
          continue
        }
        // The best class ran dry: deliver what is final, then read its next page.
        // While the consumer takes what is delivered, the walk's clock stands still.
        clock.pause()
        if (batch.length > 0 && last) {
          yield* pending.splice(0)
          yield { kind: 'batch', suggestions: batch, cursor: encodeResume(last), scanned }
          delivered = last
          batch = []
        }
        clock.resume()
        await guard()
        clock.pause()
        yield* pending.splice(0)
        clock.resume()
        await readPage(step.classIndex)
      }
      yield* pending.splice(0)
      if (batch.length > 0 && last) yield { kind: 'batch', suggestions: batch, cursor: encodeResume(last), scanned }
      yield { kind: 'complete', total: emitted, scanned, durationMs: performance.now() - started }
    } finally {
      // The consumer left or the walk ended: close every class stream (no further page is read).
      await Promise.all(pages.map((stream) => stream.return(undefined)))
    }
  }

  return {
    generateTimeboundSuggestionsStreaming,
    /** Most slots a client may pass (checked by `subscribe.ts`, not by the walk). */
    maxSlots,
  }
}

export type SuggestionEngine = ReturnType<typeof createSuggestionEngine>
