/**
 * A live suggestions stream: the streamed top-K, then, whenever the user's data
 * changes, the new full ranked list. Changes are coalesced: an update waits
 * until `coalesceMs` pass without a change (at most 4 × `coalesceMs` in all), so
 * a burst gives one update. Listening starts before the first walk, so a
 * change made while it runs is not missed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Repeater } from 'graphql-yoga'
import { ClientError } from '../errors.ts'
import type { ChangeSource } from '../pubsub/changes.ts'
import type { AdmissionControl } from './admission.ts'
import type { GenerateOptions, Suggestion, SuggestionEngine, SuggestionEvent } from './generator.ts'
import { admittedWalk, WalkSharing } from './walk-sharing.ts'

type Complete = Extract<SuggestionEvent, { kind: 'complete' }>

/** The events the API streams: the engine's, `complete` with the list it sent, and live updates. */
export type LiveEvent =
  | Exclude<SuggestionEvent, Complete>
  | (Complete & { suggestions: Suggestion[] })
  | { kind: 'updated'; suggestions: Suggestion[] }

/**
 * Adds to `complete` the suggestions this stream sent (after `resumeFrom`, those
 * after the cursor): GraphiQL and simple clients show only the latest event. At
 * most `maxSuggestions` (≤ 500) are kept.
 */
export async function* withSentSuggestions(events: AsyncIterable<SuggestionEvent>): AsyncGenerator<LiveEvent, void, undefined> {
  const sent: Suggestion[] = []
  for await (const event of events) {
    if (event.kind === 'batch') sent.push(...event.suggestions)
    yield event.kind === 'complete' ? { ...event, suggestions: sent } : event
  }
}

/** Counts of this process's live streams, for `/metrics` (the gauge `suggestions_subscriptions_waiting`). */
export class LiveStreamStats {
  /** Live streams that sent everything and wait for the next change: idle, holding no walk. */
  waiting = 0
}

/**
 * The stream of `userId`'s suggestions, its walks run by `engine`: a {@link WalkSharing} (the
 * server's: walks shared with the user's other streams, admitted there), or a bare engine (each walk
 * its own, admitted here through `admission`).
 *
 * A Repeater, not an async generator: a generator waiting for a change cannot
 * be stopped (its `return()` queues behind the pending `next()`), so a client
 * leaving an idle live stream would leak it and its listener. A Repeater stops
 * at once; each `push` resolves when the client takes the event, so the next
 * page is read only then.
 */
export function liveSuggestions(
  engine: SuggestionEngine | WalkSharing,
  userId: string,
  options: GenerateOptions,
  {
    changes,
    coalesceMs = 250,
    admission,
    writeTimeoutMs,
    onEnd,
    stats,
  }: {
    /** The user's change notices, listened to from the stream's start to its end; without them the stream ends after the first walk (`live: false`). */
    changes?: ChangeSource | undefined
    coalesceMs?: number
    /**
     * With a bare engine, each walk waits for its place here, for each page: the place is held while
     * the walk reads and computes, not while the client takes events (a WalkSharing admits its walks itself).
     */
    admission?: AdmissionControl | undefined
    /** How long the client may take nothing before the stream ends with a retryable TIMEOUT; default: no bound. */
    writeTimeoutMs?: number | undefined
    /** Called once the stream has ended by itself or been stopped, even while its consumer still hangs in a write. */
    onEnd?: (() => void) | undefined
    /** Counted in `waiting` while this stream waits for a change. */
    stats?: LiveStreamStats | undefined
  } = {},
): AsyncGenerator<LiveEvent, void, undefined> {
  return new Repeater<LiveEvent, void, undefined>(async (push, stop) => {
    const stopped = new AbortController()
    void stop.then(() => stopped.abort())
    const signal = options.signal ? AbortSignal.any([options.signal, stopped.signal]) : stopped.signal
    let changeCount = 0
    let wake: (() => void) | undefined
    const unlisten = changes?.(() => {
      changeCount++
      wake?.()
    })
    // Stopping wakes the wait for a change (one listener for the stream's life: a race against `stop`
    // on each wait would add a reaction to it per change, kept until the stream ends).
    signal.addEventListener('abort', () => wake?.(), { once: true })
    /** Pushes `event`; false when the client took nothing within the write timeout (the stream then ends with TIMEOUT). */
    const pushWithin = async (event: LiveEvent): Promise<boolean> => {
      if (writeTimeoutMs === undefined) {
        await push(event)
        return true
      }
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), writeTimeoutMs)))
      try {
        if ((await Promise.race([push(event).then(() => false), timedOut])) === false) return true
      } finally {
        clearTimeout(timer)
      }
      stop(new ClientError('TIMEOUT', `the client took nothing for ${writeTimeoutMs} ms`, { retryable: true }))
      return false
    }
    /** Pushes every event of `events`; false when the client left. */
    const forward = async (events: AsyncIterable<LiveEvent>) => {
      for await (const event of events) {
        if (!(await pushWithin(event))) return false
        if (signal.aborted) return false
      }
      return true
    }
    /** One walk, from its start: shared with the user's other streams asking the same (walk-sharing.ts), or the engine's own, admitted per step. */
    const walk = (walkOptions: GenerateOptions): AsyncGenerator<SuggestionEvent, void, undefined> =>
      engine instanceof WalkSharing
        ? engine.walk(userId, { ...walkOptions, signal })
        : admittedWalk(engine, userId, { ...walkOptions, signal }, admission)
    try {
      if (!(await forward(withSentSuggestions(walk(options))))) return
      const { resumeFrom: _resumeFrom, ...fresh } = options
      let handled = 0
      while (unlisten && !signal.aborted) {
        if (changeCount === handled) {
          if (stats) stats.waiting++
          try {
            if (!signal.aborted) await new Promise<void>((resolve) => (wake = resolve))
          } finally {
            if (stats) stats.waiting--
          }
        }
        if (signal.aborted) return
        const burstStarted = Date.now()
        for (let seen = -1; seen !== changeCount && Date.now() - burstStarted < 4 * coalesceMs; ) {
          seen = changeCount
          await sleep(coalesceMs, undefined, { signal })
        }
        handled = changeCount
        const suggestions: Suggestion[] = []
        const update = async function* () {
          for await (const event of walk(fresh)) {
            if (event.kind === 'batch') suggestions.push(...event.suggestions)
            else if (event.kind === 'throttled') yield event
          }
          yield { kind: 'updated', suggestions } satisfies LiveEvent
        }
        if (!(await forward(update()))) return
      }
    } catch (error) {
      // Stopping aborts the wait or the walk: not an error.
      if (!signal.aborted) throw error
    } finally {
      stopped.abort()
      unlisten?.()
      wake?.()
      stop()
      onEnd?.()
    }
  }) as AsyncGenerator<LiveEvent, void, undefined>
}
