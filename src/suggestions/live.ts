/**
 * A live suggestions stream: the streamed top-K, then, whenever the user's data
 * changes, the new full ranked list. Changes are coalesced: an update waits
 * until `coalesceMs` pass without a change (at most 4 × `coalesceMs` in all), so
 * a burst gives one update. Listening starts before the first walk, so a
 * change made while it runs is not missed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Repeater } from 'graphql-yoga'
import type { AdmissionControl } from './admission.ts'
import type { GenerateOptions, Suggestion, SuggestionEngine, SuggestionEvent } from './generator.ts'

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

/**
 * A Repeater, not an async generator: a generator waiting for a change cannot
 * be stopped (its `return()` queues behind the pending `next()`), so a client
 * leaving an idle live stream would leak it and its listener. A Repeater stops
 * at once; each `push` resolves when the client takes the event, so the next
 * page is read only then.
 */
export function liveSuggestions(
  engine: SuggestionEngine,
  userId: string,
  options: GenerateOptions,
  {
    changes,
    coalesceMs = 250,
    admission,
  }: {
    /** The user's change notices; without them the stream ends after the first walk (`live: false`). */
    changes?: AsyncIterable<unknown> | undefined
    coalesceMs?: number
    /** Each walk waits for its place here. */
    admission?: AdmissionControl | undefined
  } = {},
): AsyncGenerator<LiveEvent, void, undefined> {
  return new Repeater<LiveEvent, void, undefined>(async (push, stop) => {
    const stopped = new AbortController()
    void stop.then(() => stopped.abort())
    const signal = options.signal ? AbortSignal.any([options.signal, stopped.signal]) : stopped.signal
    let changeCount = 0
    let wake: (() => void) | undefined
    const iterator = changes?.[Symbol.asyncIterator]()
    const pump = (async () => {
      while (iterator && !signal.aborted) {
        const next = await iterator.next()
        if (next.done) break
        changeCount++
        wake?.()
      }
    })()
    /** Pushes every event of `events`; false when the client left. */
    const forward = async (events: AsyncIterable<LiveEvent>) => {
      for await (const event of events) {
        await push(event)
        if (signal.aborted) return false
      }
      return true
    }
    /** One walk of the engine, once admitted. */
    const walk = async function* (walkOptions: GenerateOptions) {
      const release = await admission?.acquire(userId, signal)
      try {
        yield* engine.generateTimeboundSuggestionsStreaming(userId, { ...walkOptions, signal })
      } finally {
        release?.()
      }
    }
    try {
      if (!(await forward(withSentSuggestions(walk(options))))) return
      const { resumeFrom: _resumeFrom, ...fresh } = options
      let handled = 0
      while (iterator && !signal.aborted) {
        if (changeCount === handled) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stop])
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
      await iterator?.return?.()
      wake?.()
      await pump.catch(() => {})
      stop()
    }
  }) as AsyncGenerator<LiveEvent, void, undefined>
}
