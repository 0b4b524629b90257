import type { ChangeSource } from '../../src/pubsub/changes.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Suggestion, SuggestionEngine, SuggestionEvent } from '../../src/suggestions/generator.ts'
import { AdmissionControl } from '../../src/suggestions/admission.ts'
import { liveSuggestions, LiveStreamStats, type LiveEvent } from '../../src/suggestions/live.ts'
import { ChangeVersions } from '../../src/changes/change-versions.ts'
import { WalkSharing } from '../../src/suggestions/walk-sharing.ts'

// The coalescing window is time logic: it runs on vitest's fake clock, so a busy machine cannot stretch a
// 30 ms gap past the 50 ms window. vitest does not fake node:timers/promises (which live.ts sleeps with):
// route it to the global setTimeout, which it fakes.
vi.mock('node:timers/promises', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:timers/promises')>()),
  setTimeout: <T>(ms: number, value?: T, options: { signal?: AbortSignal } = {}) =>
    new Promise<T | undefined>((resolve, reject) => {
      const signal = options.signal
      if (signal?.aborted) return reject(signal.reason)
      const timer = setTimeout(() => resolve(value), ms)
      signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true })
    }),
}))

/** Lets every pending promise job run (the fake engine and the Repeater need no timer). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))
/** Moves the fake clock by `ms`, firing the timers due, then lets what they started finish. */
async function advance(ms: number) {
  await vi.advanceTimersByTimeAsync(ms)
  await settle()
}

afterEach(() => {
  vi.useRealTimers()
})

/** An engine whose every walk gives two batches of one suggestion each, numbered by walk. */
function fakeEngine() {
  let walks = 0
  const suggestion = (id: string) => ({ id, priority: 1, reason: '', slot: null, contact: { id } }) as unknown as Suggestion
  const engine = {
    async *generateTimeboundSuggestionsStreaming(): AsyncGenerator<SuggestionEvent, void, undefined> {
      const walk = ++walks
      yield { kind: 'batch', suggestions: [suggestion(`${walk}a`)], cursor: 'c1', scanned: 1 }
      yield { kind: 'batch', suggestions: [suggestion(`${walk}b`)], cursor: 'c2', scanned: 2 }
      yield { kind: 'complete', total: 2, scanned: 2, durationMs: 1 }
    },
  } as unknown as SuggestionEngine
  return { engine, walks: () => walks }
}

/** A change source the test notifies through `change`; `listening()`: listeners not yet stopped. */
function changeStream() {
  const listeners = new Set<() => void>()
  const changes: ChangeSource = (onChange) => {
    const listener = () => onChange({ what: 'contact' })
    listeners.add(listener)
    return () => listeners.delete(listener)
  }
  return { changes, change: () => [...listeners].forEach((listener) => listener()), listening: () => listeners.size }
}

async function collect(events: AsyncGenerator<LiveEvent>, into: LiveEvent[]) {
  for await (const event of events) into.push(event)
}

describe('liveSuggestions', () => {
  it('streams the walk, and SuggestionsComplete repeats the list it sent', async () => {
    const { engine } = fakeEngine()
    const { changes, listening } = changeStream()
    const events: LiveEvent[] = []
    const stream = liveSuggestions(engine, 'u', {}, { changes, coalesceMs: 50 })
    const done = collect(stream, events)
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['batch', 'batch', 'complete']), { timeout: 10_000 })
    expect(events[2]).toMatchObject({ kind: 'complete', total: 2, suggestions: [{ id: '1a' }, { id: '1b' }] })
    expect(listening()).toBe(1)
    // Idle, waiting for a change: leaving must still end it at once (an async generator here would hang).
    await stream.return()
    await done
    expect(listening()).toBe(0) // it stopped listening
  })

  it('counts itself waiting only while it waits for a change, and not once it ended', async () => {
    const { engine } = fakeEngine()
    const { changes, change } = changeStream()
    const stats = new LiveStreamStats()
    const events: LiveEvent[] = []
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const stream = liveSuggestions(engine, 'u', {}, { changes, coalesceMs: 50, stats })
    const done = collect(stream, events)
    await settle()
    expect(events.map((e) => e.kind)).toEqual(['batch', 'batch', 'complete'])
    expect(stats.waiting).toBe(1)
    change()
    await settle()
    expect(stats.waiting).toBe(0) // coalescing, then walking
    await advance(50)
    expect(events.at(-1)?.kind).toBe('updated')
    expect(stats.waiting).toBe(1)
    await stream.return()
    await done
    expect(stats.waiting).toBe(0)
  })

  it('gives one update for a burst longer than the coalescing window, and at most one per 4 windows under constant change', async () => {
    const { engine, walks } = fakeEngine()
    const { changes, change } = changeStream()
    const events: LiveEvent[] = []
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const stream = liveSuggestions(engine, 'u', {}, { changes, coalesceMs: 50 })
    const done = collect(stream, events)
    await settle()
    expect(events.map((e) => e.kind)).toEqual(['batch', 'batch', 'complete'])
    // A burst: 6 changes 30 ms apart (180 ms, longer than the 50 ms window), then quiet.
    for (let i = 0; i < 6; i++) {
      change()
      await settle()
      await advance(30)
    }
    await advance(150)
    expect(events.filter((e) => e.kind === 'updated')).toHaveLength(1)
    expect(events.at(-1)).toMatchObject({ kind: 'updated', suggestions: [{ id: '2a' }, { id: '2b' }] })
    // Constant change for 1 s: updates keep coming (the wait is capped at 200 ms), but far fewer than changes.
    const before = walks()
    for (let i = 0; i < 50; i++) {
      change()
      await settle()
      await advance(20)
    }
    const updates = walks() - before
    expect(updates).toBeGreaterThanOrEqual(3)
    expect(updates).toBeLessThanOrEqual(8)
    await stream.return()
    await done
  })

  it('holds the admission place only while the engine works, not while the client has not taken an event', async () => {
    const { engine } = fakeEngine()
    const admission = new AdmissionControl({ concurrency: 1, queueLimit: 10 })
    // A client that takes one event and then reads nothing.
    const stalled = liveSuggestions(engine, 'mallory', {}, { admission })
    expect((await stalled.next()).value).toMatchObject({ kind: 'batch' })
    await vi.waitFor(() => expect(admission.stats).toEqual({ running: 0, waiting: 0 }))
    // Another user's walk gets the only place and completes.
    const events: LiveEvent[] = []
    await collect(liveSuggestions(engine, 'alice', {}, { admission }), events)
    expect(events.at(-1)).toMatchObject({ kind: 'complete' })
    // The stalled stream goes on where it was, queueing for a place per page.
    expect((await stalled.next()).value).toMatchObject({ kind: 'batch' })
    await stalled.return()
    expect(admission.stats).toEqual({ running: 0, waiting: 0 })
  })

  it('ends with a retryable TIMEOUT when the client takes nothing for the write timeout, and says so once', async () => {
    const { engine } = fakeEngine()
    let ended = 0
    const stream = liveSuggestions(engine, 'u', {}, { writeTimeoutMs: 50, onEnd: () => ended++ })
    expect((await stream.next()).value).toMatchObject({ kind: 'batch' })
    // The next event waits for the client; after 50 ms the stream stops by itself.
    await vi.waitFor(() => expect(ended).toBe(1), { timeout: 2000, interval: 10 })
    const rest: unknown[] = []
    const failure = await (async () => {
      for await (const event of stream) rest.push(event)
    })().then(() => undefined, (error: unknown) => error)
    expect(failure).toMatchObject({ code: 'TIMEOUT', details: { retryable: true } })
    expect(rest.length).toBeLessThanOrEqual(1)
  })

  it('re-walks once for the N live streams of one user that the same change wakes, and each gets the update', async () => {
    let walks = 0
    let openWalk = () => {}
    const suggestion = (id: string) => ({ id, priority: 1, reason: '', slot: null, contact: { id } }) as unknown as Suggestion
    const engine = {
      maxSlots: 10,
      async *generateTimeboundSuggestionsStreaming(): AsyncGenerator<SuggestionEvent, void, undefined> {
        const walk = ++walks
        // A re-walk waits until the test lets it go: it is still under way when every stream has woken.
        if (walk > 1) await new Promise<void>((resolve) => (openWalk = resolve))
        yield { kind: 'batch', suggestions: [suggestion(`${walk}a`)], cursor: 'c1', scanned: 1 }
        yield { kind: 'complete', total: 1, scanned: 1, durationMs: 1 }
      },
    } as unknown as SuggestionEngine
    const versions = new ChangeVersions()
    const sharing = new WalkSharing({ engine, versions })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const streams = Array.from({ length: 5 }, () => {
      const { changes, change } = changeStream()
      const events: LiveEvent[] = []
      const stream = liveSuggestions(sharing, 'u', {}, { changes, coalesceMs: 50 })
      return { stream, events, change, done: collect(stream, events) }
    })
    await settle()
    for (const { events } of streams) expect(events.map((e) => e.kind)).toEqual(['batch', 'complete'])
    expect(walks).toBe(1)
    // A change notice: the user's version moves first (the process-wide listener), then every stream wakes.
    versions.bump('u')
    for (const { change } of streams) change()
    await settle()
    await advance(50)
    expect(walks).toBe(2)
    openWalk()
    await settle()
    for (const { events } of streams) expect(events.at(-1)).toMatchObject({ kind: 'updated', suggestions: [{ id: '2a' }] })
    expect(sharing.stats).toEqual({ walks: 2, joins: 8 })
    for (const { stream, done } of streams) {
      await stream.return()
      await done
    }
  })
})
