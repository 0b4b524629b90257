import { describe, expect, it } from 'vitest'
import { batch, complete, range, suggestion, throttled, updated } from '../../test/fixtures.ts'
import {
  initialSuggestionsState,
  isStreamEvent,
  plannedSuggestions,
  streamSnapshot,
  suggestionsReducer,
  visibleSuggestions,
  type SuggestionEvent,
  type SuggestionsEvent,
  type SuggestionsState,
} from './reducer.ts'

/** Deep-freezes so that any mutation of a state throws: the reducer must be pure. */
function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) freeze((value as Record<string, unknown>)[key])
  }
  return value
}

function run(events: SuggestionsEvent[], from: SuggestionsState = initialSuggestionsState): SuggestionsState {
  return events.reduce((state, event) => freeze(suggestionsReducer(freeze(state), event)), from)
}

const received = (event: SuggestionEvent): SuggestionsEvent => ({ type: 'received', event })
const start: SuggestionsEvent = { type: 'subscribed', resumeFrom: null }
const ids = (state: SuggestionsState) => visibleSuggestions(state).map((item) => item.id)

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items]
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

describe('suggestionsReducer: the event union', () => {
  it('starts connecting, streaming, with nothing to show', () => {
    const state = run([start])
    expect(state).toMatchObject({ connection: 'connecting', phase: 'streaming', items: [], summary: null, throttled: null })
  })

  it('appends each SuggestionBatch in rank order, with progress and an announcement', () => {
    const state1 = run([start, received(batch(range(1, 3), 'c3', 120))])
    expect(ids(state1)).toEqual(['sg_1', 'sg_2', 'sg_3'])
    expect(state1).toMatchObject({ connection: 'live', scanned: 120, announcement: '3 new suggestions, 3 in all' })
    const state2 = run([received(batch([suggestion(4)], 'c4', 240))], state1)
    expect(ids(state2)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_4'])
    expect(state2.announcement).toBe('1 new suggestion, 4 in all')
    expect(state2.scanned).toBe(240)
  })

  it('keeps the same array items on screen when a batch is empty (progress only)', () => {
    const before = run([start, received(batch(range(1, 2)))])
    const after = run([received(batch([], 'c-empty', 500))], before)
    expect(after.items).toBe(before.items)
    expect(after.scanned).toBe(500)
    expect(after.announcement).toBe(before.announcement)
  })

  it('shows a notice on SuggestionsThrottled until the stream moves on', () => {
    const state = run([start, received(batch(range(1, 2))), received(throttled('heap at 91%'))])
    expect(state.throttled).toEqual({ reason: 'heap at 91%' })
    expect(ids(state)).toEqual(['sg_1', 'sg_2'])
    expect(run([received(batch([suggestion(3)]))], state).throttled).toBeNull()
    expect(run([received(complete(3))], state).throttled).toBeNull()
  })

  it('gives the summary on SuggestionsComplete, even when there was nothing to suggest', () => {
    const state = run([start, received(batch(range(1, 2))), received(complete(2, 2000))])
    expect(state).toMatchObject({ phase: 'complete', summary: { total: 2, scanned: 2000, durationMs: 812 }, announcement: 'All 2 suggestions loaded' })
    const empty = run([start, received(complete(0, 2000))])
    expect(empty).toMatchObject({ phase: 'complete', items: [], summary: { total: 0 } })
  })

  it('replaces the whole list on SuggestionsUpdated, never passing through an empty list', () => {
    const before = run([start, received(batch(range(1, 3))), received(complete(3))])
    const after = run([received(updated([suggestion(2), suggestion(9), suggestion(3)]))], before)
    expect(ids(after)).toEqual(['sg_2', 'sg_9', 'sg_3'])
    expect(after.phase).toBe('complete')
    expect(after.announcement).toBe('Suggestions updated: 3')
  })

  it('takes a SuggestionsUpdated that arrives mid-walk as the full list, and appends later batches to it', () => {
    const state = run([start, received(batch(range(1, 2))), received(updated([suggestion(7)])), received(batch([suggestion(8)]))])
    expect(ids(state)).toEqual(['sg_7', 'sg_8'])
    expect(state.phase).toBe('streaming')
  })

  describe('every order of the five event kinds', () => {
    const events = {
      b1: received(batch(range(1, 2), 'c2')),
      b2: received(batch(range(3, 4), 'c4')),
      th: received(throttled()),
      co: received(complete(4)),
      up: received(updated([suggestion(5), suggestion(1)])),
    }
    for (const order of permutations(Object.keys(events) as (keyof typeof events)[])) {
      it(order.join(' → '), () => {
        let state = run([start])
        let lastShown: string[] = []
        for (const key of order) {
          const next = run([events[key]], state)
          // Batches only append; only an Updated replaces; nothing empties a shown list.
          if (key === 'up') expect(ids(next)).toEqual(['sg_5', 'sg_1'])
          else if (key === 'b1' || key === 'b2') expect(ids(next).slice(0, lastShown.length)).toEqual(lastShown)
          else expect(ids(next)).toEqual(lastShown)
          expect(next.connection).toBe('live')
          lastShown = ids(next)
          state = next
        }
        expect(state.phase).toBe('complete')
        expect(state.summary?.total).toBe(4)
        // The notice stays only when nothing moved the stream on after it.
        const after = order.slice(order.indexOf('th') + 1)
        expect(state.throttled !== null).toBe(!after.some((key) => key === 'b1' || key === 'b2' || key === 'co'))
        // The final list: the last Updated and the batches after it, or all the batches.
        const upAt = order.indexOf('up')
        const tail = order.slice(upAt + 1).filter((key) => key === 'b1' || key === 'b2')
        const expected = [...['sg_5', 'sg_1'], ...tail.flatMap((key) => (key === 'b1' ? ['sg_1', 'sg_2'] : ['sg_3', 'sg_4']))]
        expect(ids(state)).toEqual(expected)
      })
    }
  })
})

describe('suggestionsReducer: connection life', () => {
  const midWalk = () => run([start, received(batch(range(1, 3), 'c3'))])
  const whole = () => run([start, received(batch(range(1, 3), 'c3')), received(complete(3))])

  it('says the stream dropped and when it retries, keeping the list', () => {
    const state = run([{ type: 'dropped', message: 'The connection to the server was lost.', retryInMs: 800 }], midWalk())
    expect(state).toMatchObject({ connection: 'dropped', retryInMs: 800, dropReason: 'The connection to the server was lost.' })
    expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3'])
  })

  it('resumes an unfinished walk from the cursor: the rest is appended, no duplicate, no gap', () => {
    const state = run(
      [
        { type: 'dropped', message: 'lost', retryInMs: 500 },
        { type: 'subscribed', resumeFrom: 'c3' },
      ],
      midWalk(),
    )
    expect(state.connection).toBe('reconnecting')
    expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3'])
    const resumed = run([received(batch(range(4, 5), 'c5')), received(complete(5))], state)
    expect(ids(resumed)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_4', 'sg_5'])
    expect(resumed).toMatchObject({ connection: 'live', dropReason: null, retryInMs: null, phase: 'complete' })
  })

  it('starts over when the walk dropped before its first batch', () => {
    const state = run([start, { type: 'dropped', message: 'lost', retryInMs: 500 }, start, received(batch(range(1, 2)))])
    expect(ids(state)).toEqual(['sg_1', 'sg_2'])
  })

  it('after a complete list, keeps showing it during a fresh walk and swaps in the new one when complete', () => {
    let state = run([{ type: 'dropped', message: 'lost', retryInMs: 500 }, start], whole())
    expect(state.refresh).toEqual([])
    expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3'])
    state = run([received(batch([suggestion(3), suggestion(4)], 'n2'))], state)
    expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3'])
    state = run([{ type: 'dropped', message: 'lost again', retryInMs: 500 }, { type: 'subscribed', resumeFrom: 'n2' }, received(batch([suggestion(1)], 'n3'))], state)
    expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3'])
    state = run([received(complete(3))], state)
    expect(ids(state)).toEqual(['sg_3', 'sg_4', 'sg_1'])
    expect(state).toMatchObject({ refresh: null, phase: 'complete', announcement: 'Suggestions refreshed: 3' })
  })

  it('takes a SuggestionsUpdated during a refresh as the list to show', () => {
    const state = run([{ type: 'dropped', message: 'lost', retryInMs: 500 }, start, received(updated([suggestion(9)]))], whole())
    expect(ids(state)).toEqual(['sg_9'])
  })

  it('marks a rejected token', () => {
    expect(run([{ type: 'unauthorized' }], midWalk()).connection).toBe('unauthorized')
  })
})

describe('suggestionsReducer: optimistic actions', () => {
  const listed = () => run([start, received(batch(range(1, 4), 'c4')), received(complete(4))])

  it('accept: leaves the list at once, is planned while saving, then planned as the server says', () => {
    const pending = run([{ type: 'actionStarted', action: 'accept', suggestion: suggestion(2) }], listed())
    expect(ids(pending)).toEqual(['sg_1', 'sg_3', 'sg_4'])
    expect(plannedSuggestions(pending)).toEqual([{ action: 'accept', suggestion: suggestion(2), state: 'pending', position: 1 }])
    const done = run([{ type: 'actionSucceeded', suggestion: suggestion(2, { status: 'ACCEPTED' }) }], pending)
    expect(plannedSuggestions(done)).toEqual([{ action: 'accept', suggestion: suggestion(2, { status: 'ACCEPTED' }), state: 'done', position: 1 }])
    expect(ids(done)).toEqual(['sg_1', 'sg_3', 'sg_4'])
  })

  it('accept stays planned after the updated list drops the contact', () => {
    const done = run(
      [
        { type: 'actionStarted', action: 'accept', suggestion: suggestion(2) },
        { type: 'actionSucceeded', suggestion: suggestion(2, { status: 'ACCEPTED' }) },
        received(updated([suggestion(1), suggestion(3), suggestion(4), suggestion(5)])),
      ],
      listed(),
    )
    expect(ids(done)).toEqual(['sg_1', 'sg_3', 'sg_4', 'sg_5'])
    expect(plannedSuggestions(done).map((planned) => planned.suggestion.status)).toEqual(['ACCEPTED'])
  })

  it('accept that fails: back in its place, not planned, with a message', () => {
    const state = run(
      [
        { type: 'actionStarted', action: 'accept', suggestion: suggestion(2) },
        { type: 'actionFailed', id: 'sg_2', message: 'Could not accept Person 2: NOT_FOUND' },
      ],
      listed(),
    )
    expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_4'])
    expect(plannedSuggestions(state)).toEqual([])
    expect(state.message).toBe('Could not accept Person 2: NOT_FOUND')
    expect(run([{ type: 'messageDismissed' }], state).message).toBeNull()
  })

  for (const action of ['dismiss', 'snooze'] as const) {
    it(`${action}: hidden at once and for good on success, not planned`, () => {
      const until = action === 'snooze' ? { until: '2026-12-01T00:00:00.000Z' } : {}
      const pending = run([{ type: 'actionStarted', action, suggestion: suggestion(3), ...until }], listed())
      expect(ids(pending)).toEqual(['sg_1', 'sg_2', 'sg_4'])
      expect(pending.overrides.sg_3).toMatchObject({ action, state: 'pending', ...until })
      const done = run([{ type: 'actionSucceeded', suggestion: suggestion(3, { status: action === 'dismiss' ? 'DISMISSED' : 'SNOOZED' }) }], pending)
      expect(ids(done)).toEqual(['sg_1', 'sg_2', 'sg_4'])
      expect(plannedSuggestions(done)).toEqual([])
    })

    it(`${action} that fails: rolled back with a message`, () => {
      const state = run(
        [
          { type: 'actionStarted', action, suggestion: suggestion(3) },
          { type: 'actionFailed', id: 'sg_3', message: 'nope' },
        ],
        listed(),
      )
      expect(ids(state)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_4'])
      expect(state.message).toBe('nope')
    })
  }

  it('keeps a pending action hiding its item when a SuggestionsUpdated still lists it', () => {
    const state = run([{ type: 'actionStarted', action: 'dismiss', suggestion: suggestion(1) }, received(updated(range(1, 3)))], listed())
    expect(ids(state)).toEqual(['sg_2', 'sg_3'])
  })

  it('a failure after the list moved on rolls back to the new list', () => {
    const state = run(
      [{ type: 'actionStarted', action: 'dismiss', suggestion: suggestion(1) }, received(updated([suggestion(1), suggestion(6)])), { type: 'actionFailed', id: 'sg_1', message: 'x' }],
      listed(),
    )
    expect(ids(state)).toEqual(['sg_1', 'sg_6'])
  })

  it('ignores an outcome for an action it does not know', () => {
    const state = listed()
    expect(run([{ type: 'actionSucceeded', suggestion: suggestion(9) }], state)).toBe(state)
    expect(run([{ type: 'actionFailed', id: 'sg_9', message: 'x' }], state)).toBe(state)
  })

  it('clears the last message when a new action starts', () => {
    const state = run(
      [
        { type: 'actionStarted', action: 'dismiss', suggestion: suggestion(1) },
        { type: 'actionFailed', id: 'sg_1', message: 'x' },
        { type: 'actionStarted', action: 'dismiss', suggestion: suggestion(2) },
      ],
      listed(),
    )
    expect(state.message).toBeNull()
  })

  it('keeps optimistic state across a reconnect and a refreshed list', () => {
    const state = run(
      [
        { type: 'actionStarted', action: 'accept', suggestion: suggestion(1) },
        { type: 'dropped', message: 'lost', retryInMs: 500 },
        start,
        received(batch(range(1, 3))),
        { type: 'actionSucceeded', suggestion: suggestion(1, { status: 'ACCEPTED' }) },
        received(complete(3)),
      ],
      listed(),
    )
    expect(ids(state)).toEqual(['sg_2', 'sg_3'])
    expect(plannedSuggestions(state)[0]).toMatchObject({ state: 'done', suggestion: { status: 'ACCEPTED' } })
  })
})

describe('suggestionsReducer: the connection in words, lasting refusals, a leader tab\'s snapshot', () => {
  it('opened: the socket is up, so connecting becomes live before the first batch; not after a drop', () => {
    expect(run([start, { type: 'opened' }]).connection).toBe('live')
    expect(run([start, { type: 'dropped', message: 'lost', retryInMs: 500 }, { type: 'opened' }]).connection).toBe('dropped')
  })

  it('refused: says why, drops the retry countdown, keeps the list', () => {
    const state = run([start, received(batch(range(1, 2))), { type: 'refused', message: 'The server refused the suggestions: no' }])
    expect(state).toMatchObject({ connection: 'refused', dropReason: 'The server refused the suggestions: no', retryInMs: null })
    expect(ids(state)).toEqual(['sg_1', 'sg_2'])
  })

  it('records when the list became whole or was re-ranked (the time the event carries)', () => {
    const walked = run([start, { type: 'received', event: batch(range(1, 2)), at: 1000 }])
    expect(walked.updatedAt).toBeNull()
    const whole = run([{ type: 'received', event: complete(2), at: 2000 }], walked)
    expect(whole.updatedAt).toBe(2000)
    expect(run([{ type: 'received', event: updated(range(1, 1)), at: 3000 }], whole).updatedAt).toBe(3000)
  })

  it('snapshot: a follower takes the leader\'s stream state whole and keeps its own actions', () => {
    const leader = run([start, { type: 'opened' }, received(batch(range(1, 3), 'c3', 700)), received(complete(3))])
    const follower = run([start, { type: 'actionStarted', action: 'dismiss', suggestion: suggestion(9) }])
    const joined = run([{ type: 'snapshot', stream: streamSnapshot(leader) }], follower)
    expect(streamSnapshot(joined)).toEqual(streamSnapshot(leader))
    expect(joined.overrides).toEqual(follower.overrides)
    expect(ids(joined)).toEqual(['sg_1', 'sg_2', 'sg_3'])
  })

  it('only stream events are fanned out to other tabs', () => {
    expect(isStreamEvent(start)).toBe(true)
    expect(isStreamEvent(received(complete(1)))).toBe(true)
    expect(isStreamEvent({ type: 'actionStarted', action: 'accept', suggestion: suggestion(1) })).toBe(false)
    expect(isStreamEvent({ type: 'toastExpired', id: 'x' })).toBe(false)
  })
})

describe('suggestionsReducer: undo, restore, the toast', () => {
  const listed = () => run([start, received(batch(range(1, 4), 'c4')), received(complete(4))])
  const dismissed = () =>
    run(
      [
        { type: 'actionStarted', action: 'dismiss', suggestion: suggestion(2) },
        { type: 'actionSucceeded', suggestion: suggestion(2, { status: 'DISMISSED' }) },
      ],
      listed(),
    )

  it('an action opens the toast for its suggestion; it expires only for that one', () => {
    const state = dismissed()
    expect(state.toast).toBe('sg_2')
    expect(run([{ type: 'toastExpired', id: 'sg_1' }], state).toast).toBe('sg_2')
    expect(run([{ type: 'toastExpired', id: 'sg_2' }], state).toast).toBeNull()
  })

  it('undo: hidden while undoing, then back in its place with the toast closed and an announcement', () => {
    const undoing = run([{ type: 'undoStarted', id: 'sg_2' }], dismissed())
    expect(undoing.overrides.sg_2?.state).toBe('undoing')
    expect(ids(undoing)).toEqual(['sg_1', 'sg_3', 'sg_4'])
    const undone = run([{ type: 'undoSucceeded', id: 'sg_2', suggestion: suggestion(2) }], undoing)
    expect(ids(undone)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_4'])
    expect(undone.toast).toBeNull()
    expect(undone.announcement).toBe('Undone: Person 2 is back in the list')
  })

  it('undo after the server re-ranked without the contact: put back at its old index', () => {
    const rerank = run([received(updated([suggestion(1), suggestion(3), suggestion(4)]))], dismissed())
    const undone = run([{ type: 'undoStarted', id: 'sg_2' }, { type: 'undoSucceeded', id: 'sg_2', suggestion: { ...suggestion(2), status: 'PENDING' } }], rerank)
    expect(ids(undone)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_4'])
  })

  it('undo that brings back an earlier plan does not put the contact in the list', () => {
    const undone = run([{ type: 'undoStarted', id: 'sg_2' }, { type: 'undoSucceeded', id: 'sg_2', suggestion: suggestion(2, { status: 'ACCEPTED' }) }], dismissed())
    expect(ids(undone)).toEqual(['sg_1', 'sg_3', 'sg_4'])
    expect(undone.overrides).toEqual({})
    expect(undone.announcement).toBe('Undone: Person 2 is accepted again')
  })

  it('undo is only for a done action; a failed undo keeps it hidden with a message', () => {
    const pending = run([{ type: 'actionStarted', action: 'dismiss', suggestion: suggestion(2) }], listed())
    expect(run([{ type: 'undoStarted', id: 'sg_2' }], pending)).toBe(pending)
    const failed = run([{ type: 'undoStarted', id: 'sg_2' }, { type: 'undoFailed', id: 'sg_2', message: 'Could not undo' }], dismissed())
    expect(failed.overrides.sg_2?.state).toBe('done')
    expect(failed.message).toBe('Could not undo')
    expect(ids(failed)).toEqual(['sg_1', 'sg_3', 'sg_4'])
  })

  it('restored: the contact leaves the overrides and joins the list by priority, once', () => {
    const restored = run([{ type: 'restored', suggestion: suggestion(2) }], run([received(updated([suggestion(1), suggestion(3)]))], dismissed()))
    expect(ids(restored)).toEqual(['sg_1', 'sg_2', 'sg_3'])
    expect(restored.overrides).toEqual({})
    expect(restored.announcement).toBe('Person 2 is back in the list')
    expect(run([{ type: 'restored', suggestion: suggestion(2) }], restored).items).toHaveLength(3)
    const last = run([{ type: 'restored', suggestion: suggestion(9) }], restored)
    expect(ids(last)).toEqual(['sg_1', 'sg_2', 'sg_3', 'sg_9'])
  })
})
