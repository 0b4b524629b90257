/**
 * A live suggestions stream: the streamed top-K, then, whenever the user's data
 * changes, the new full ranked list. Changes are coalesced (a burst within
 * `coalesceMs` gives one update). Listening starts before the first walk, so a
 * change made while it runs is not missed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { GenerateOptions, Suggestion, SuggestionEngine, SuggestionEvent } from './generator.ts'

export type LiveEvent = SuggestionEvent | { kind: 'updated'; suggestions: Suggestion[] }

export async function* liveSuggestions(
  engine: SuggestionEngine,
  userId: string,
  options: GenerateOptions,
  changes: AsyncIterable<unknown> & { return?: () => unknown },
  coalesceMs = 250,
): AsyncGenerator<LiveEvent, void, undefined> {
  let dirty = false
  let wake: (() => void) | undefined
  const iterator = changes[Symbol.asyncIterator]()
  let listening = true
  const pump = (async () => {
    while (listening) {
      const next = await iterator.next()
      if (next.done) break
      dirty = true
      wake?.()
    }
  })()
  try {
    yield* engine.generateTimeboundSuggestionsStreaming(userId, options)
    const { resumeFrom: _resumeFrom, ...fresh } = options
    for (;;) {
      if (!dirty) await new Promise<void>((resolve) => (wake = resolve))
      await sleep(coalesceMs, undefined, { signal: options.signal })
      dirty = false
      const suggestions: Suggestion[] = []
      for await (const event of engine.generateTimeboundSuggestionsStreaming(userId, fresh)) {
        if (event.kind === 'batch') suggestions.push(...event.suggestions)
        else if (event.kind === 'throttled') yield event
      }
      yield { kind: 'updated', suggestions }
    }
  } finally {
    listening = false
    await iterator.return?.()
    wake?.()
    await pump.catch(() => {})
  }
}
