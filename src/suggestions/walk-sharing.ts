/**
 * One engine walk for all of a user's streams that ask the same (single flight, on this process):
 * concurrent `suggestions` subscriptions of one user with the same `maxSuggestions`, `batchSize` and
 * `slots` (never one resuming from a cursor) share one walk, and so do the live streams a change wakes
 * (they re-walk at about the same time). Across processes nothing is shared.
 *
 * - Every subscriber gets every event of the walk from its start, at its own pace: the walk keeps its
 *   events (at most K suggestions in all, K = `maxSuggestions`), and goes on when a subscriber that
 *   has read them all asks for the next one. A slow subscriber holds back neither the others nor the walk.
 * - The walk holds its admission place as an unshared one does (per step, admission.ts); a
 *   subscriber that joins costs no place.
 * - A subscriber that leaves frees its share; the walk is stopped when its last subscriber leaves.
 * - A subscriber joins only a walk that started at the user's current change version
 *   (changes/change-versions.ts): never one that may have read data older than a change it must see;
 *   only while change notices are known to arrive (`versions.trusted`: not while Redis is cut off);
 *   and only within {@link JOIN_WINDOW_MS} of the walk's start, so a stream never gets the time
 *   (slots, priorities, reasons) of a walk a slow reader kept open for long.
 */
import type { ChangeVersions } from '../changes/change-versions.ts'
import type { AdmissionControl } from './admission.ts'
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_SUGGESTIONS, type GenerateOptions, type SuggestionEngine, type SuggestionEvent } from './generator.ts'

/**
 * One walk of the engine for one consumer. It holds an admission place only while the engine works
 * on its next event (reading pages, computing), and gives it back while the consumer takes the event:
 * a consumer that reads slowly or not at all keeps no place others wait for. Each page queues again,
 * fairly. `options.signal` stops the walk (also while it waits for a place).
 */
export async function* admittedWalk(
  engine: SuggestionEngine,
  userId: string,
  options: GenerateOptions,
  admission?: AdmissionControl | undefined,
): AsyncGenerator<SuggestionEvent, void, undefined> {
  const events = engine.generateTimeboundSuggestionsStreaming(userId, options)
  try {
    for (let step = 0; ; step++) {
      const release = await admission?.acquire(userId, options.signal, { resuming: step > 0 })
      let next: IteratorResult<SuggestionEvent, void>
      try {
        next = await events.next()
      } finally {
        release?.()
      }
      if (next.done) return
      yield next.value
    }
  } finally {
    await events.return(undefined)
  }
}

/** How long after its start a walk may be joined (ms): about the time the tabs a change wakes take to ask again. */
export const JOIN_WINDOW_MS = 1000

/** Walks of this process, shared between the streams that ask the same of one user (see the module's comment). */
export class WalkSharing {
  private readonly running = new Map<string, SharedWalk>()
  private started = 0
  private joined = 0

  constructor(
    private readonly deps: {
      engine: SuggestionEngine
      /** Where each walk waits for its place, per step; none: no bound. */
      admission?: AdmissionControl | undefined
      versions: ChangeVersions
      /** The clock (ms), read when a walk starts and when a stream would join it; default `Date.now`. */
      now?: () => number
    },
  ) {}

  /** Most slots a caller may pass (the engine's). */
  get maxSlots(): number {
    return this.deps.engine.maxSlots
  }

  /** Engine walks started, and streams that joined one already under way (for tests and metrics). */
  get stats(): { walks: number; joins: number } {
    return { walks: this.started, joins: this.joined }
  }

  /**
   * The events of a walk for `userId` and `options`, from its start: a walk under way with the same
   * input, started at the user's current change version, or a new one. With `resumeFrom` always a
   * walk of its own. `options.signal` ends this consumer's share (its pending `next()` rejects with the
   * signal's reason); returning the iterator does too. Errors of the walk reach every subscriber.
   */
  walk(userId: string, options: GenerateOptions): AsyncGenerator<SuggestionEvent, void, undefined> {
    const { signal, ...input } = options
    if (input.resumeFrom) {
      this.started++
      return admittedWalk(this.deps.engine, userId, options, this.deps.admission)
    }
    const key = walkKey(userId, input)
    const version = this.deps.versions.current(userId)
    const current = this.running.get(key)
    const now = (this.deps.now ?? Date.now)()
    if (current && current.version === version && this.deps.versions.trusted && now - current.startedAt <= JOIN_WINDOW_MS) {
      this.joined++
      return current.join(signal)
    }
    this.started++
    const shared: SharedWalk = new SharedWalk(
      (walkSignal) => admittedWalk(this.deps.engine, userId, { ...input, signal: walkSignal }, this.deps.admission),
      version,
      now,
      () => {
        if (this.running.get(key) === shared) this.running.delete(key)
      },
    )
    this.running.set(key, shared)
    return shared.join(signal)
  }
}

/** What makes two walks the same: the user and the input (defaults filled in), never the cursor. */
function walkKey(userId: string, input: Omit<GenerateOptions, 'signal'>): string {
  const slots = input.slots?.map((slot) => [slot.start.getTime(), slot.end.getTime()]) ?? null
  return JSON.stringify([userId, input.maxSuggestions ?? DEFAULT_MAX_SUGGESTIONS, input.batchSize ?? DEFAULT_BATCH_SIZE, slots])
}

/** How a walk ended: done, or failed with `error`. */
type Ending = { failed: false } | { failed: true; error: unknown }

/** One engine walk and its subscribers; its events kept for those that read behind, and for late joiners. */
class SharedWalk {
  private readonly events: SuggestionEvent[] = []
  private ending: Ending | undefined
  private readonly controller = new AbortController()
  private readonly source: AsyncGenerator<SuggestionEvent, void, undefined>
  /** The engine's next event under way, asked for by whichever subscriber got there first. */
  private pending: Promise<void> | undefined
  private subscribers = 0

  /**
   * @param start the walk, stopped by its signal.
   * @param version the user's change version it started at.
   * @param startedAt when it started (ms, the sharing's clock).
   * @param settled called once it can be joined no more (ended, or stopped).
   */
  constructor(
    start: (signal: AbortSignal) => AsyncGenerator<SuggestionEvent, void, undefined>,
    readonly version: number,
    readonly startedAt: number,
    private readonly settled: () => void,
  ) {
    this.source = start(this.controller.signal)
  }

  /** A subscriber's iterator over every event from the start; counted as a subscriber from now on. */
  join(signal: AbortSignal | undefined): AsyncGenerator<SuggestionEvent, void, undefined> {
    this.subscribers++
    let index = 0
    let left = false
    const leave = () => {
      if (left) return
      left = true
      if (--this.subscribers === 0 && !this.ending) this.stop()
    }
    const done: IteratorResult<SuggestionEvent, void> = { done: true, value: undefined }
    // A plain iterator, not a generator: `return()` on a generator never started skips its `finally`,
    // and this subscriber has counted since it joined.
    const iterator: AsyncGenerator<SuggestionEvent, void, undefined> = {
      next: async () => {
        try {
          for (;;) {
            if (left) return done
            if (index < this.events.length) return { done: false, value: this.events[index++]! }
            const ending = this.ending
            if (ending) {
              leave()
              if (ending.failed) throw ending.error
              return done
            }
            await untilAborted(this.advance(), signal)
          }
        } catch (error) {
          leave()
          throw error
        }
      },
      return: async () => {
        leave()
        return done
      },
      throw: async (error: unknown) => {
        leave()
        throw error
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  /** Asks the engine for its next event (once, however many subscribers wait for it). */
  private advance(): Promise<void> {
    this.pending ??= this.source
      .next()
      .then(
        (next) => {
          if (next.done) this.end({ failed: false })
          else this.events.push(next.value)
        },
        (error: unknown) => this.end({ failed: true, error }),
      )
      .finally(() => (this.pending = undefined))
    return this.pending
  }

  private end(ending: Ending): void {
    this.ending ??= ending
    this.settled()
  }

  /** The last subscriber left: no one joins any more, the walk stops (its place, if waiting, is given up). */
  private stop(): void {
    this.settled()
    this.controller.abort()
    // Runs the walk's `finally` (its class streams closed), after a `next()` under way, which the abort ends.
    void this.source.return(undefined).catch(() => {})
  }
}

/** `promise`, or a rejection with `signal`'s reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
