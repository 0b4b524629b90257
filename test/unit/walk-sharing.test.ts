/**
 * Walk sharing (single flight) without a database: a stand-in engine whose walks move one event at a
 * time when the test lets them, the real admission control and change versions.
 */
import { describe, expect, it, vi } from 'vitest'
import { ChangeVersions } from '../../src/changes/change-versions.ts'
import { AdmissionControl } from '../../src/suggestions/admission.ts'
import type { GenerateOptions, Suggestion, SuggestionEngine, SuggestionEvent } from '../../src/suggestions/generator.ts'
import { WalkSharing } from '../../src/suggestions/walk-sharing.ts'

/** Lets every pending promise job run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

interface FakeWalk {
  userId: string
  options: GenerateOptions
  /** Events the engine has produced so far. */
  produced: number
  /** The walk's generator ran its `finally` (stopped or done). */
  closed: boolean
  /** Lets the walk produce its next event. */
  step(): void
}

/**
 * An engine whose every walk gives `events` batches (one suggestion each, named `<walk>-<i>`) and then
 * `complete`, each event only once the test calls `step()` on it (or at once with `free`).
 */
function gatedEngine({ events = 3, free = false }: { events?: number; free?: boolean } = {}) {
  const walks: FakeWalk[] = []
  const suggestion = (id: string) => ({ id, priority: 1, reason: '', slot: null, contact: { id } }) as unknown as Suggestion
  const engine: SuggestionEngine = {
    maxSlots: 10,
    async *generateTimeboundSuggestionsStreaming(userId: string, options: GenerateOptions = {}): AsyncGenerator<SuggestionEvent, void, undefined> {
      const gates: (() => void)[] = []
      let allowed = free ? Number.POSITIVE_INFINITY : 0
      const walk: FakeWalk = {
        userId,
        options,
        produced: 0,
        closed: false,
        step: () => {
          allowed++
          gates.shift()?.()
        },
      }
      walks.push(walk)
      const number = walks.length
      const gate = async () => {
        if (walk.produced < allowed) return
        await new Promise<void>((resolve, reject) => {
          gates.push(resolve)
          options.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error), { once: true })
        })
      }
      try {
        for (let i = 0; i < events; i++) {
          await gate()
          walk.produced++
          yield { kind: 'batch', suggestions: [suggestion(`${number}-${i}`)], cursor: `c${i}`, scanned: i + 1 }
        }
        await gate()
        walk.produced++
        yield { kind: 'complete', total: events, scanned: events, durationMs: 1 }
      } finally {
        walk.closed = true
      }
    },
  }
  return { engine, walks }
}

/** Reads every event of `events` into `into`; resolves when it ends, rejects with its error. */
async function drain(events: AsyncIterable<SuggestionEvent>, into: SuggestionEvent[]): Promise<void> {
  for await (const event of events) into.push(event)
}

const ids = (events: SuggestionEvent[]) => events.flatMap((event) => (event.kind === 'batch' ? event.suggestions.map((s) => s.id) : [event.kind]))

describe('WalkSharing', () => {
  it('runs one walk for N concurrent subscribers of one user with the same input, each getting all of it', async () => {
    const { engine, walks } = gatedEngine({ free: true })
    const sharing = new WalkSharing({ engine, versions: new ChangeVersions() })
    const received = Array.from({ length: 10 }, () => [] as SuggestionEvent[])
    await Promise.all(received.map((into) => drain(sharing.walk('alice', { maxSuggestions: 5, slots: [] }), into)))
    expect(walks).toHaveLength(1)
    expect(sharing.stats).toEqual({ walks: 1, joins: 9 })
    for (const events of received) expect(ids(events)).toEqual(['1-0', '1-1', '1-2', 'complete'])
  })

  it('shares only the same input of the same user, and never a walk resuming from a cursor', async () => {
    const { engine, walks } = gatedEngine({ free: true })
    const sharing = new WalkSharing({ engine, versions: new ChangeVersions() })
    const inputs: [string, GenerateOptions][] = [
      ['alice', {}],
      ['alice', { maxSuggestions: 50, batchSize: 100 }], // the defaults: the same walk as {}
      ['alice', { maxSuggestions: 10 }],
      ['alice', { batchSize: 7 }],
      ['alice', { slots: [] }],
      ['alice', { slots: [{ start: new Date(0), end: new Date(1_800_000) }] }],
      ['bob', {}],
      ['alice', { resumeFrom: 'cursor' }],
      ['alice', { resumeFrom: 'cursor' }],
    ]
    await Promise.all(inputs.map(([userId, options]) => drain(sharing.walk(userId, options), [])))
    expect(walks).toHaveLength(inputs.length - 1)
    expect(walks.filter((walk) => walk.options.resumeFrom === 'cursor')).toHaveLength(2)
  })

  it('gives a late joiner every event from the start of the walk', async () => {
    const { engine, walks } = gatedEngine()
    const sharing = new WalkSharing({ engine, versions: new ChangeVersions() })
    const early: SuggestionEvent[] = []
    const earlyDone = drain(sharing.walk('alice', {}), early)
    await vi.waitFor(() => expect(walks).toHaveLength(1))
    walks[0]!.step()
    walks[0]!.step()
    await vi.waitFor(() => expect(ids(early)).toEqual(['1-0', '1-1']))
    const late: SuggestionEvent[] = []
    const lateDone = drain(sharing.walk('alice', {}), late)
    await vi.waitFor(() => expect(ids(late)).toEqual(['1-0', '1-1']))
    walks[0]!.step()
    walks[0]!.step()
    await Promise.all([earlyDone, lateDone])
    expect(walks).toHaveLength(1)
    expect(ids(late)).toEqual(ids(early))
    expect(ids(late)).toEqual(['1-0', '1-1', '1-2', 'complete'])
  })

  it('lets a fast subscriber drive the walk while a slow one reads nothing, and the slow one still gets it all', async () => {
    const { engine, walks } = gatedEngine({ free: true })
    const sharing = new WalkSharing({ engine, versions: new ChangeVersions() })
    const slow = sharing.walk('alice', {})
    const fast: SuggestionEvent[] = []
    await drain(sharing.walk('alice', {}), fast)
    // The walk went to its end though one subscriber took nothing: it is not held back past the walk's events.
    expect(ids(fast)).toEqual(['1-0', '1-1', '1-2', 'complete'])
    expect(walks[0]!.closed).toBe(true)
    const late: SuggestionEvent[] = []
    await drain(slow, late)
    expect(ids(late)).toEqual(ids(fast))
  })

  it('stops the walk when its last subscriber leaves (returned, or its signal aborted), not before', async () => {
    const { engine, walks } = gatedEngine()
    const sharing = new WalkSharing({ engine, versions: new ChangeVersions() })
    const leaving = new AbortController()
    const first = sharing.walk('alice', { signal: leaving.signal })
    const second = sharing.walk('alice', {})
    const firstNext = first.next()
    await vi.waitFor(() => expect(walks).toHaveLength(1))
    walks[0]!.step()
    expect((await firstNext).value).toMatchObject({ kind: 'batch' })
    expect((await second.next()).value).toMatchObject({ kind: 'batch' })
    // The first leaves while it waits for the next event: its wait ends with its signal's reason; the walk goes on.
    const waiting = first.next()
    leaving.abort(new Error('client left'))
    await expect(waiting).rejects.toThrow('client left')
    await settle()
    expect(walks[0]!.closed).toBe(false)
    // The last one leaves: the walk is stopped (its engine generator closed, its signal aborted).
    await second.return(undefined)
    await vi.waitFor(() => expect(walks[0]!.closed).toBe(true))
    expect(walks[0]!.options.signal?.aborted).toBe(true)
    // A stopped walk is never joined: the next subscriber starts a new one.
    walks.forEach((walk) => walk.step())
    const again = sharing.walk('alice', {})
    const next = again.next()
    await vi.waitFor(() => expect(walks).toHaveLength(2))
    walks[1]!.step()
    expect((await next).value).toMatchObject({ kind: 'batch', suggestions: [{ id: '2-0' }] })
    await again.return(undefined)
  })

  it('frees a subscriber that leaves before it read anything, and stops the walk it was the last of', async () => {
    const { engine, walks } = gatedEngine()
    const sharing = new WalkSharing({ engine, versions: new ChangeVersions() })
    const a = sharing.walk('alice', {})
    const b = sharing.walk('alice', {})
    const next = a.next()
    await vi.waitFor(() => expect(walks).toHaveLength(1))
    await b.return(undefined) // never read: its share is freed all the same
    walks[0]!.step()
    expect((await next).value).toMatchObject({ kind: 'batch' })
    await a.return(undefined)
    await vi.waitFor(() => expect(walks[0]!.closed).toBe(true))
  })

  it('never lets a subscriber join a walk that started before a change of the user', async () => {
    const { engine, walks } = gatedEngine()
    const versions = new ChangeVersions()
    const sharing = new WalkSharing({ engine, versions })
    const before = sharing.walk('alice', {})
    const beforeNext = before.next()
    await vi.waitFor(() => expect(walks).toHaveLength(1))
    versions.bump('alice')
    const after = sharing.walk('alice', {})
    const afterNext = after.next()
    await vi.waitFor(() => expect(walks).toHaveLength(2))
    // Another user's change does not matter.
    versions.bump('bob')
    const alsoAfter = sharing.walk('alice', {})
    walks.forEach((walk) => walk.step())
    expect((await beforeNext).value).toMatchObject({ suggestions: [{ id: '1-0' }] })
    expect((await afterNext).value).toMatchObject({ suggestions: [{ id: '2-0' }] })
    expect((await alsoAfter.next()).value).toMatchObject({ suggestions: [{ id: '2-0' }] })
    expect(sharing.stats).toEqual({ walks: 2, joins: 1 })
    await Promise.all([before, after, alsoAfter].map((walk) => walk.return(undefined)))
  })

  it("gives the walk's error to every subscriber, after the events before it", async () => {
    const versions = new ChangeVersions()
    const failing: SuggestionEngine = {
      maxSlots: 10,
      async *generateTimeboundSuggestionsStreaming() {
        await settle()
        yield { kind: 'batch', suggestions: [], cursor: 'c', scanned: 0 }
        throw new Error('walk failed')
      },
    }
    const sharing = new WalkSharing({ engine: failing, versions })
    const received = [[], []] as SuggestionEvent[][]
    const results = await Promise.allSettled(received.map((into) => drain(sharing.walk('alice', {}), into)))
    expect(results.map((result) => result.status === 'rejected' && (result.reason as Error).message)).toEqual(['walk failed', 'walk failed'])
    expect(received.map((events) => events.length)).toEqual([1, 1])
    expect(sharing.stats.walks).toBe(1)
  })

  it('holds one admission place per walk, so another user never waits behind the 10 tabs of one', async () => {
    const { engine, walks } = gatedEngine()
    // Two places: ten unshared walks of alice would take both, and bob would queue behind them.
    const admission = new AdmissionControl({ concurrency: 2, queueLimit: 100 })
    const sharing = new WalkSharing({ engine, admission, versions: new ChangeVersions() })
    const tabs = Array.from({ length: 10 }, () => sharing.walk('alice', {}))
    const firstEvents = tabs.map((tab) => tab.next())
    await vi.waitFor(() => expect(walks).toHaveLength(1))
    expect(admission.stats).toEqual({ running: 1, waiting: 0 })
    // Bob's walk is admitted at once and completes while alice's walk is still under way, holding its place.
    const bob: SuggestionEvent[] = []
    const bobDone = drain(sharing.walk('bob', {}), bob)
    await vi.waitFor(() => expect(walks).toHaveLength(2))
    expect(admission.stats).toEqual({ running: 2, waiting: 0 })
    for (let i = 0; i < 4; i++) walks[1]!.step()
    await bobDone
    expect(ids(bob)).toEqual(['2-0', '2-1', '2-2', 'complete'])
    expect(walks[0]!.produced).toBe(0)
    for (let i = 0; i < 4; i++) walks[0]!.step()
    for (const first of firstEvents) expect((await first).value).toMatchObject({ kind: 'batch', suggestions: [{ id: '1-0' }] })
    await Promise.all(tabs.map((tab) => drain(tab, [])))
    expect(admission.stats).toEqual({ running: 0, waiting: 0 })
  })
})
