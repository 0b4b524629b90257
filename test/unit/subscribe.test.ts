/**
 * The suggestions subscription's use case without a database or a transport:
 * a stand-in engine, the real admission control and stream limiter.
 */
import { describe, expect, it } from 'vitest'
import { AdmissionControl } from '../../src/suggestions/admission.ts'
import type { GenerateOptions, SuggestionEngine, SuggestionEvent } from '../../src/suggestions/generator.ts'
import { subscribeToSuggestions, type SuggestionsSubscriptionDependencies } from '../../src/suggestions/subscribe.ts'
import { SubscriptionLimiter } from '../../src/suggestions/subscription-limit.ts'

const HOUR = 3_600_000
const at = (hours: number) => new Date(Date.UTC(2030, 0, 1) + hours * HOUR)

function setUp(options: { maxSlots?: number; concurrency?: number; queueLimit?: number; perUser?: number } = {}) {
  const walks: GenerateOptions[] = []
  const subscribedChanges: string[] = []
  const engine: SuggestionEngine = {
    maxSlots: options.maxSlots ?? 3,
    async *generateTimeboundSuggestionsStreaming(_userId: string, walk: GenerateOptions = {}): AsyncGenerator<SuggestionEvent, void, undefined> {
      walks.push(walk)
      yield { kind: 'complete', total: 0, scanned: 0, durationMs: 0 }
    },
  }
  const deps: SuggestionsSubscriptionDependencies = {
    engine,
    admission: new AdmissionControl({ concurrency: options.concurrency ?? 1, queueLimit: options.queueLimit ?? 1 }),
    limiter: new SubscriptionLimiter(options.perUser ?? 2),
    changes: (userId) => {
      subscribedChanges.push(userId)
      return () => () => {}
    },
    writeTimeoutMs: 60_000,
  }
  return { deps, walks, subscribedChanges }
}

describe('subscribeToSuggestions', () => {
  it('hands the engine the limits and the slots sorted, and streams its events', async () => {
    const { deps, walks, subscribedChanges } = setUp()
    const stream = subscribeToSuggestions(deps, 'u1', {
      maxSuggestions: 5,
      batchSize: null,
      resumeFrom: null,
      live: false,
      slots: [
        { start: at(2), end: at(3) },
        { start: at(0), end: at(1) },
      ],
    })
    const events = []
    for await (const event of stream) events.push(event)
    expect(events).toEqual([{ kind: 'complete', total: 0, scanned: 0, durationMs: 0, suggestions: [] }])
    expect(walks).toHaveLength(1)
    expect(walks[0]).toMatchObject({
      maxSuggestions: 5,
      batchSize: undefined,
      resumeFrom: null,
      slots: [
        { start: at(0), end: at(1) },
        { start: at(2), end: at(3) },
      ],
    })
    expect(subscribedChanges).toEqual([]) // live: false listens to nothing
    expect(deps.limiter.count('u1')).toBe(0) // the place is freed when the stream ends
  })

  it('listens to the user’s changes for a live stream, and holds a place until it is returned', async () => {
    const { deps, subscribedChanges } = setUp()
    const stream = subscribeToSuggestions(deps, 'u1', undefined)
    expect(subscribedChanges).toEqual(['u1'])
    expect(deps.limiter.count('u1')).toBe(1)
    await stream.return(undefined)
    expect(deps.limiter.count('u1')).toBe(0)
  })

  it.each([
    ['more slots than maxSlots', Array.from({ length: 4 }, (_, i) => ({ start: at(2 * i), end: at(2 * i + 1) })), 'input.slots'],
    ['a slot that does not end after it starts', [{ start: at(0), end: at(1) }, { start: at(3), end: at(3) }], 'input.slots.1'],
    ['overlapping slots', [{ start: at(2), end: at(4) }, { start: at(0), end: at(3) }], 'input.slots'],
  ])('refuses %s with BAD_USER_INPUT before taking a place', (_name, slots, field) => {
    const { deps, walks, subscribedChanges } = setUp()
    expect(() => subscribeToSuggestions(deps, 'u1', { slots })).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field } }))
    expect(walks).toEqual([])
    expect(subscribedChanges).toEqual([])
    expect(deps.limiter.count('u1')).toBe(0)
  })

  it('refuses with RATE_LIMITED when admission is full or the user has the most streams open', async () => {
    const full = setUp({ concurrency: 1, queueLimit: 0 })
    const release = await full.deps.admission.acquire('someone')
    expect(() => subscribeToSuggestions(full.deps, 'u1', { live: false })).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }))
    expect(full.subscribedChanges).toEqual([])
    release()

    const { deps } = setUp({ perUser: 1 })
    const first = subscribeToSuggestions(deps, 'u1', {})
    expect(() => subscribeToSuggestions(deps, 'u1', {})).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }))
    await first.return(undefined)
    expect(deps.limiter.count('u1')).toBe(0)
  })
})
